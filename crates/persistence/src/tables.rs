//! How each domain entity is stored: row ↔ record mapping, the SQL of its read scope, its
//! filters, and its owner. The generic operations live in `store`.

use crate::entities::*;
use crate::error::{StoreError, corrupt};
use crate::mapping::table_mapping;
use crate::store::{
    Children, Meta, NOT_VISIBLE, Scoped, Table, family, invalid, nothing,
    owned_by_visible_organisation, subtree,
};
use crate::{Importable, Owned};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set,
};
use std::collections::HashMap;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::committee::{Committee, CommitteeInput, Meeting, MeetingInput, Member};
use verbund_domain::contact::{Contact, ContactInput};
use verbund_domain::cooperation::{Cooperation, CooperationInput, CooperationStatus, Partner};
use verbund_domain::funding::{Funding, FundingInput, SourceGrant};
use verbund_domain::mentorship::{Mentorship, MentorshipInput, MentorshipStatus};
use verbund_domain::network::{Network, NetworkInput, NetworkLevel, child_path};
use verbund_domain::offering::{Category, Offering, OfferingInput, TargetGroup};
use verbund_domain::organisation::{Organisation, OrganisationInput, OrganisationKind};
use verbund_domain::people::{Staff, StaffInput, Volunteer, VolunteerInput};
use verbund_domain::policy::{EntityKind, Location, ReadScope};
use verbund_domain::values::Period;

fn contains<C: ColumnTrait>(col: C, word: &str) -> Condition {
    Condition::all().add(col.like(format!("%,{word},%")))
}

/// Case-insensitive substring search over one column. A term longer than
/// [`verbund_domain::values::SEARCH_MAX`] characters is refused: a pattern's cost grows with
/// its length (SQLite refuses long ones outright).
fn search<C: ColumnTrait>(col: C, term: &str) -> Result<Condition, StoreError> {
    if term.chars().count() > verbund_domain::values::SEARCH_MAX {
        return Err(StoreError::Invalid(
            verbund_domain::ValidationErrors::single(
                "search",
                verbund_domain::Reason::TooLong {
                    max: verbund_domain::values::SEARCH_MAX,
                },
            ),
        ));
    }
    let pattern = format!("%{}%", term.to_lowercase().replace(['%', '_'], ""));
    Ok(Condition::all().add(Expr::expr(Func::lower(Expr::col(col))).like(pattern)))
}

fn parse_enum<T>(
    table: &str,
    column: &str,
    raw: &str,
    parse: fn(&str) -> Result<T, verbund_domain::Reason>,
) -> Result<T, StoreError> {
    parse(raw).map_err(|_| corrupt(table, column))
}

/// Filters shared by the records an organisation owns.
#[derive(Debug, Clone, Default)]
pub struct OwnedFilter {
    pub organisation_id: Option<Uuid>,
    /// Records of organisations at home in this network or below it.
    pub within: Option<Uuid>,
    pub search: Option<String>,
}

async fn owned_filter<C: ColumnTrait>(
    s: &Scoped,
    org_col: C,
    f: &OwnedFilter,
) -> Result<Condition, StoreError> {
    let mut c = Condition::all();
    if let Some(o) = f.organisation_id {
        c = c.add(org_col.eq(o));
    }
    if let Some(n) = f.within {
        let path = s.network_path("within", n).await?;
        c = c.add(owned_by_visible_organisation(
            org_col,
            &ReadScope::Subtree(path),
        ));
    }
    Ok(c)
}

/// Who owns a record, for finding where it lives.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// A network itself, placed under its parent.
    Network { id: Uuid, parent: Option<Uuid> },
    /// An organisation itself, at home in a network.
    Organisation { id: Uuid, network: Uuid },
    /// A record of an organisation.
    OwnedBy(Uuid),
    /// A record of a network, led by an organisation (cooperations).
    Led { network: Uuid, lead: Uuid },
    /// A record of a network (committees).
    InNetwork(Uuid),
    /// A meeting of a committee.
    Committee(Uuid),
}

/// Where a record lives; an owner the caller cannot see is reported like a missing one.
async fn place(
    s: &Scoped,
    conn: &impl ConnectionTrait,
    field: &'static str,
    owner: Owner,
) -> Result<Location, StoreError> {
    let network_path = |id: Uuid| async move {
        network::Entity::find_by_id(id)
            .one(conn)
            .await?
            .map(|n| n.path)
            .ok_or_else(|| invalid(field, NOT_VISIBLE))
    };
    let org = |id: Uuid| async move {
        organisation::Entity::find()
            .filter(organisation::Column::Id.eq(id))
            .filter(s.readable::<crate::tables::Organisations>())
            .one(conn)
            .await?
            .ok_or_else(|| invalid(field, NOT_VISIBLE))
    };
    Ok(match owner {
        Owner::Network { id, parent } => {
            let parent_path = match parent {
                Some(p) => Some(network_path(p).await?),
                None => None,
            };
            Location {
                network_path: child_path(parent_path.as_deref(), id),
                organisation_id: None,
            }
        }
        Owner::Organisation { id, network } => Location {
            network_path: network_path(network).await?,
            organisation_id: Some(id),
        },
        Owner::OwnedBy(org_id) => {
            let o = org(org_id).await?;
            Location {
                network_path: o.network_path,
                organisation_id: Some(o.id),
            }
        }
        Owner::Led { network, lead } => {
            org(lead)
                .await
                .map_err(|_| invalid("leadOrganisationId", NOT_VISIBLE))?;
            Location {
                network_path: network_path(network).await?,
                organisation_id: Some(lead),
            }
        }
        Owner::InNetwork(network) => Location {
            network_path: network_path(network).await?,
            organisation_id: None,
        },
        Owner::Committee(id) => {
            let c = s
                .get_in::<crate::tables::Committees>(conn, id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => invalid(field, NOT_VISIBLE),
                    e => e,
                })?;
            Location {
                network_path: network_path(c.data.network_id).await?,
                organisation_id: None,
            }
        }
    })
}

/// A table of records one organisation owns: where the owner column is, and (for the
/// tables an import can key by `externalId`) the key within the organisation.
macro_rules! owned {
    ($table:ident: $module:ident => $data:ident) => {
        impl Owned for $table {
            const ORGANISATION: $module::Column = $module::Column::OrganisationId;
            fn organisation_of(d: &$data) -> Uuid {
                d.organisation_id
            }
        }
    };
    ($table:ident: $module:ident => $data:ident, importable by externalId) => {
        owned!($table: $module => $data);

        impl Importable for $table {
            const KEY: Option<($module::Column, $module::Column)> = Some((
                $module::Column::OrganisationId,
                $module::Column::ExternalId,
            ));
            fn key(d: &$data) -> Option<(Option<Uuid>, String)> {
                d.external_id.clone().map(|e| (Some(d.organisation_id), e))
            }
        }
    };
}

/// The `Table` items alike for every record one organisation owns: the owner field
/// `organisationId` (which an organisation's token may leave out: it means its own), the
/// record's place (its organisation's) and, unless the table has its own rule, the read
/// scope (the organisations the caller may see).
macro_rules! owned_by_organisation {
    ($module:ident, $input:ident, $data:ident, visible by its own rule) => {
        const OWNER_FIELD: &'static str = "organisationId";

        async fn locate(
            s: &Scoped,
            conn: &impl ConnectionTrait,
            _: Uuid,
            d: &$data,
        ) -> Result<Location, StoreError> {
            place(s, conn, Self::OWNER_FIELD, Owner::OwnedBy(d.organisation_id)).await
        }

        fn placed_by(d: &$data) -> Option<Uuid> {
            Some(d.organisation_id)
        }

        fn owner_slot(input: &mut $input) -> Option<&mut Uuid> {
            Some(&mut input.organisation_id)
        }
    };
    ($module:ident, $input:ident, $data:ident) => {
        owned_by_organisation!($module, $input, $data, visible by its own rule);

        fn visible(scope: &ReadScope) -> Condition {
            owned_by_visible_organisation($module::Column::OrganisationId, scope)
        }
    };
    // Also the plain list filter (the owner's, and `search` in one column) and the domain's
    // own `parse` (no rule that needs the store).
    ($module:ident, $input:ident, $data:ident, searched in $column:ident) => {
        owned_by_organisation!($module, $input, $data);

        async fn filter(s: &Scoped, f: &OwnedFilter) -> Result<Condition, StoreError> {
            let mut c = owned_filter(s, $module::Column::OrganisationId, f).await?;
            if let Some(t) = &f.search {
                c = c.add(search($module::Column::$column, t)?);
            }
            Ok(c)
        }

        async fn parse(_: &Scoped, input: $input) -> Result<$data, StoreError> {
            Ok($data::parse(input)?)
        }
    };
}

// ---------------------------------------------------------------------------------------
pub struct Networks;

#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    pub level: Option<NetworkLevel>,
    pub parent_id: Option<Uuid>,
    /// Networks whose parent is one of these (children of a page of networks).
    pub parents: Vec<Uuid>,
    pub within: Option<Uuid>,
    pub search: Option<String>,
}

impl Table for Networks {
    table_mapping! {
        network => Network, input NetworkInput, filter NetworkFilter, kind Network;
        fields: level, parent_id, name, code;
        located: path = network_path;
    }

    const OWNER_FIELD: &'static str = "parentId";

    fn visible(scope: &ReadScope) -> Condition {
        match scope {
            ReadScope::Subtree(p) => subtree(network::Column::Path, p),
            ReadScope::Nothing => nothing(),
            _ => Condition::all(),
        }
    }

    async fn filter(s: &Scoped, f: &NetworkFilter) -> Result<Condition, StoreError> {
        let mut c = Condition::all();
        if let Some(l) = f.level {
            c = c.add(network::Column::Level.eq(l.as_str()));
        }
        if let Some(p) = f.parent_id {
            c = c.add(network::Column::ParentId.eq(p));
        }
        if !f.parents.is_empty() {
            c = c.add(network::Column::ParentId.is_in(f.parents.clone()));
        }
        if let Some(n) = f.within {
            c = c.add(subtree(
                network::Column::Path,
                &s.network_path("within", n).await?,
            ));
        }
        if let Some(t) = &f.search {
            c = c.add(search(network::Column::Name, t)?);
        }
        Ok(c)
    }

    async fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        id: Uuid,
        d: &Network,
    ) -> Result<Location, StoreError> {
        place(
            s,
            conn,
            Self::OWNER_FIELD,
            Owner::Network {
                id,
                parent: d.parent_id,
            },
        )
        .await
    }

    async fn parse(s: &Scoped, input: NetworkInput) -> Result<Network, StoreError> {
        let parent_level = match input.parent_id {
            Some(p) => match network::Entity::find_by_id(p).one(s.conn()).await? {
                Some(n) => Some(parse_enum(
                    "networks",
                    "level",
                    &n.level,
                    NetworkLevel::parse,
                )?),
                None => None,
            },
            None => None,
        };
        Ok(Network::parse(input, parent_level)?)
    }
}

// ---------------------------------------------------------------------------------------
pub struct Organisations;

impl Importable for Organisations {
    const KEY: Option<(organisation::Column, organisation::Column)> = Some((
        organisation::Column::ParentOrganisationId,
        organisation::Column::ExternalId,
    ));
    fn key(d: &Organisation) -> Option<(Option<Uuid>, String)> {
        d.external_id.clone().map(|e| (d.parent_organisation_id, e))
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub within: Option<Uuid>,
    /// Organisations whose parent is one of these (member organisations of a page of partners).
    pub parents: Vec<Uuid>,
    /// Organisations at home in one of these networks (exactly, not below).
    pub networks: Vec<Uuid>,
    pub kind: Option<OrganisationKind>,
    pub parent_organisation_id: Option<Uuid>,
    pub search: Option<String>,
    /// Organisations changed after this moment.
    pub modified_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl Table for Organisations {
    table_mapping! {
        organisation => Organisation, input OrganisationInput, filter OrganisationFilter, kind Organisation;
        fields: kind, sector, network_id, parent_organisation_id, name, street, postcode, city, email,
            phone, website, description, external_id, register_court, register_number;
        located: network_path = network_path;
    }

    const OWNER_FIELD: &'static str = "networkId";

    /// It leaves the committees it sits on (each a new version).
    async fn detach(s: &Scoped, txn: &DatabaseTransaction, id: Uuid) -> Result<(), StoreError> {
        s.rewrite_dependents::<Committees>(
            txn,
            committees_with_member(id, "organisation"),
            "committees of the member",
            |c| Some(c.without(Member::Organisation(id))),
        )
        .await
    }

    fn visible(scope: &ReadScope) -> Condition {
        match scope {
            // Every organisation is in the public directory (its public fields).
            ReadScope::All | ReadScope::Published | ReadScope::OwnAndPublished(_) => {
                Condition::all()
            }
            ReadScope::Subtree(p) => subtree(organisation::Column::NetworkPath, p),
            ReadScope::Organisation(id) => family(*id),
            ReadScope::Nothing => nothing(),
        }
    }

    async fn filter(s: &Scoped, f: &OrganisationFilter) -> Result<Condition, StoreError> {
        let mut c = Condition::all();
        if let Some(n) = f.within {
            c = c.add(subtree(
                organisation::Column::NetworkPath,
                &s.network_path("within", n).await?,
            ));
        }
        if let Some(k) = f.kind {
            c = c.add(organisation::Column::Kind.eq(k.as_str()));
        }
        if let Some(p) = f.parent_organisation_id {
            c = c.add(organisation::Column::ParentOrganisationId.eq(p));
        }
        if !f.parents.is_empty() {
            c = c.add(organisation::Column::ParentOrganisationId.is_in(f.parents.clone()));
        }
        if !f.networks.is_empty() {
            c = c.add(organisation::Column::NetworkId.is_in(f.networks.clone()));
        }
        if let Some(t) = &f.search {
            c = c.add(search(organisation::Column::Name, t)?);
        }
        if let Some(t) = f.modified_after {
            c = c.add(organisation::Column::UpdatedAt.gt(t));
        }
        Ok(c)
    }

    async fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        id: Uuid,
        d: &Organisation,
    ) -> Result<Location, StoreError> {
        place(
            s,
            conn,
            Self::OWNER_FIELD,
            Owner::Organisation {
                id,
                network: d.network_id,
            },
        )
        .await
    }

    async fn parse(s: &Scoped, input: OrganisationInput) -> Result<Organisation, StoreError> {
        // The parent's kind is public-directory information: a coordinator may place a
        // member organisation under a programme partner outside its own subtree.
        let parent_kind = match input.parent_organisation_id {
            Some(p) => match organisation::Entity::find_by_id(p).one(s.conn()).await? {
                Some(o) => Some(parse_enum(
                    "organisations",
                    "kind",
                    &o.kind,
                    OrganisationKind::parse,
                )?),
                None => None,
            },
            None => None,
        };
        Ok(Organisation::parse(input, parent_kind)?)
    }

    const REDACTS: bool = true;

    /// The public directory shows name, kind, sector, network, postcode, city, website and
    /// description; not street, e-mail, phone or the organisation's own keys.
    fn redact(d: &mut Organisation) {
        d.street = None;
        d.email = None;
        d.phone = None;
        d.external_id = None;
    }

    /// Every organisation is in the directory.
    fn in_directory(_: &Organisation) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------------------
pub struct Contacts;

owned!(Contacts: contact => Contact, importable by externalId);

impl Table for Contacts {
    table_mapping! {
        contact => Contact, input ContactInput, filter OwnedFilter, kind Contact;
        fields: organisation_id, name, function, email, phone, primary, topics, external_id;
    }

    owned_by_organisation!(contact, ContactInput, Contact, searched in Name);

    /// It leaves the committees it sits on (each a new version).
    async fn detach(s: &Scoped, txn: &DatabaseTransaction, id: Uuid) -> Result<(), StoreError> {
        s.rewrite_dependents::<Committees>(
            txn,
            committees_with_member(id, "contact"),
            "committees of the member",
            |c| Some(c.without(Member::Contact(id))),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
pub struct Offerings;

owned!(Offerings: offering => Offering, importable by externalId);

#[derive(Debug, Clone, Default)]
pub struct OfferingFilter {
    pub owned: OwnedFilter,
    pub category: Option<Category>,
    pub target_group: Option<TargetGroup>,
    pub language: Option<String>,
    pub published: Option<bool>,
    /// Offerings whose service area includes this network or a network below it.
    pub serving: Option<Uuid>,
    pub postcode: Option<String>,
    /// Offerings changed after this moment.
    pub modified_after: Option<chrono::DateTime<chrono::Utc>>,
}

impl Table for Offerings {
    table_mapping! {
        offering => Offering, input OfferingInput, filter OfferingFilter, kind Offering;
        fields: organisation_id, title, description, category, target_groups, languages, postcode,
            city, capacity, published, external_id;
        period: period = starts_on .. ends_on;
        attached: service_area;
    }

    owned_by_organisation!(offering, OfferingInput, Offering, visible by its own rule);

    /// Its mentorships lose the offering (each a new version).
    async fn detach(s: &Scoped, txn: &DatabaseTransaction, id: Uuid) -> Result<(), StoreError> {
        s.rewrite_dependents::<Mentorships>(
            txn,
            Condition::all().add(mentorship::Column::OfferingId.eq(id)),
            "mentorships of the offering",
            |m| Some(m.without_offering()),
        )
        .await
    }

    fn visible(scope: &ReadScope) -> Condition {
        match scope {
            ReadScope::Published => Condition::all().add(offering::Column::Published.eq(true)),
            ReadScope::OwnAndPublished(own) => Condition::any()
                .add(owned_by_visible_organisation(
                    offering::Column::OrganisationId,
                    own,
                ))
                .add(offering::Column::Published.eq(true)),
            other => owned_by_visible_organisation(offering::Column::OrganisationId, other),
        }
    }

    fn in_directory(d: &Offering) -> bool {
        d.published
    }

    async fn filter(s: &Scoped, f: &OfferingFilter) -> Result<Condition, StoreError> {
        let mut c = owned_filter(s, offering::Column::OrganisationId, &f.owned).await?;
        if let Some(t) = &f.owned.search {
            c = c.add(
                Condition::any()
                    .add(search(offering::Column::Title, t)?)
                    .add(search(offering::Column::Description, t)?),
            );
        }
        if let Some(v) = f.category {
            c = c.add(offering::Column::Category.eq(v.as_str()));
        }
        if let Some(v) = f.target_group {
            c = c.add(contains(offering::Column::TargetGroups, v.as_str()));
        }
        if let Some(v) = &f.language {
            let lang = verbund_domain::values::language(v).map_err(|r| {
                StoreError::Invalid(verbund_domain::ValidationErrors::single("language", r))
            })?;
            c = c.add(contains(offering::Column::Languages, &lang));
        }
        if let Some(v) = f.published {
            c = c.add(offering::Column::Published.eq(v));
        }
        if let Some(v) = &f.postcode {
            // A postcode or its first digits: "041" finds the Leipzig area.
            // As a range (`:` sorts right after `9`), so an index on the postcode serves it in
            // any collation.
            let digits: String = v.trim().chars().filter(char::is_ascii_digit).collect();
            if digits.len() > 5 || v.len() > verbund_domain::values::SEARCH_MAX {
                return Err(StoreError::Invalid(
                    verbund_domain::ValidationErrors::single(
                        "postcode",
                        verbund_domain::Reason::TooLong { max: 5 },
                    ),
                ));
            }
            if !digits.is_empty() {
                c = c
                    .add(offering::Column::Postcode.gte(digits.clone()))
                    .add(offering::Column::Postcode.lt(format!("{digits}:")));
            }
        }
        if let Some(n) = f.serving {
            let path = s.network_path("serving", n).await?;
            let areas = Query::select()
                .column(offering_service_area::Column::OfferingId)
                .from(offering_service_area::Entity)
                .inner_join(
                    network::Entity,
                    Expr::col((network::Entity, network::Column::Id)).equals((
                        offering_service_area::Entity,
                        offering_service_area::Column::NetworkId,
                    )),
                )
                .cond_where(subtree(network::Column::Path, &path))
                .to_owned();
            c = c.add(offering::Column::Id.in_subquery(areas));
        }
        if let Some(t) = f.modified_after {
            c = c.add(offering::Column::UpdatedAt.gt(t));
        }
        Ok(c)
    }

    async fn parse(s: &Scoped, input: OfferingInput) -> Result<Offering, StoreError> {
        let offering = Offering::parse(input, Utc::now().date_naive())?;
        for n in &offering.service_area {
            s.network_path("serviceArea", *n).await?;
        }
        Ok(offering)
    }

    async fn attach(
        conn: &impl ConnectionTrait,
        models: Vec<offering::Model>,
    ) -> Result<Vec<Record<Offering>>, StoreError> {
        let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
        let mut areas: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        if !ids.is_empty() {
            for a in offering_service_area::Entity::find()
                .filter(offering_service_area::Column::OfferingId.is_in(ids))
                .all(conn)
                .await?
            {
                areas.entry(a.offering_id).or_default().push(a.network_id);
            }
        }
        models
            .iter()
            .map(|m| {
                let mut data = Self::to_data(m)?;
                data.service_area = areas.remove(&m.id).unwrap_or_default();
                data.service_area.sort();
                Ok(Record {
                    id: m.id,
                    version: m.version,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    data,
                })
            })
            .collect()
    }

    fn children(d: &Offering) -> Option<Children> {
        Some(Children {
            table: "offering_service_areas",
            parent: "offering_id",
            columns: &["network_id"],
            rows: d.service_area.iter().map(|n| vec![(*n).into()]).collect(),
        })
    }

    fn changed_children(old: &Offering, new: &Offering) -> Vec<&'static str> {
        let mut a = old.service_area.clone();
        let mut b = new.service_area.clone();
        a.sort();
        b.sort();
        if a == b { vec![] } else { vec!["service_area"] }
    }
}

// ---------------------------------------------------------------------------------------
pub struct Volunteers;

owned!(Volunteers: volunteer => Volunteer, importable by externalId);

impl Table for Volunteers {
    table_mapping! {
        volunteer => Volunteer, input VolunteerInput, filter OwnedFilter, kind Volunteer;
        fields: organisation_id, reference, capacity, languages, active, external_id;
    }

    owned_by_organisation!(volunteer, VolunteerInput, Volunteer, searched in Reference);

    /// Its mentorships lose their mentor (each a new version); those that need one (from
    /// matched on) are in the way: reassign them, or erase the volunteer instead.
    async fn detach(s: &Scoped, txn: &DatabaseTransaction, id: Uuid) -> Result<(), StoreError> {
        s.rewrite_dependents::<Mentorships>(
            txn,
            Condition::all().add(mentorship::Column::MentorId.eq(id)),
            "the volunteer mentors these mentorships, which need a mentor from `matched` on \
             (give them another mentor, or erase the volunteer instead)",
            Mentorship::without_mentor,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
pub struct StaffMembers;

owned!(StaffMembers: staff => Staff, importable by externalId);

impl Table for StaffMembers {
    table_mapping! {
        staff => Staff, input StaffInput, filter OwnedFilter, kind Staff;
        fields: organisation_id, reference, function, weekly_hours, external_id;
    }

    owned_by_organisation!(staff, StaffInput, Staff, searched in Reference);
}

// ---------------------------------------------------------------------------------------
pub struct Mentorships;

owned!(Mentorships: mentorship => Mentorship, importable by externalId);

#[derive(Debug, Clone, Default)]
pub struct MentorshipFilter {
    pub owned: OwnedFilter,
    pub status: Option<MentorshipStatus>,
    pub target_group: Option<TargetGroup>,
    pub mentor_id: Option<Uuid>,
    /// Mentorships requested on or after this day.
    pub requested_from: Option<chrono::NaiveDate>,
    pub requested_until: Option<chrono::NaiveDate>,
}

impl Table for Mentorships {
    table_mapping! {
        mentorship => Mentorship, input MentorshipInput, filter MentorshipFilter, kind Mentorship;
        fields: organisation_id, offering_id, mentor_id, mentee_ref, format, target_group, status,
            requested_on, matched_on, started_on, ended_on, end_reason, external_id;
    }

    owned_by_organisation!(mentorship, MentorshipInput, Mentorship);

    async fn filter(s: &Scoped, f: &MentorshipFilter) -> Result<Condition, StoreError> {
        use mentorship::Column as C;
        let mut c = owned_filter(s, C::OrganisationId, &f.owned).await?;
        if let Some(t) = &f.owned.search {
            c = c.add(search(C::MenteeRef, t)?);
        }
        if let Some(v) = f.status {
            c = c.add(C::Status.eq(v.as_str()));
        }
        if let Some(v) = f.target_group {
            c = c.add(C::TargetGroup.eq(v.as_str()));
        }
        if let Some(v) = f.mentor_id {
            c = c.add(C::MentorId.eq(v));
        }
        if let Some(v) = f.requested_from {
            c = c.add(C::RequestedOn.gte(v));
        }
        if let Some(v) = f.requested_until {
            c = c.add(C::RequestedOn.lte(v));
        }
        Ok(c)
    }

    fn check_replacing(old: &Mentorship, new: &Mentorship) -> Result<(), StoreError> {
        Ok(new.check_replacing(old)?)
    }

    async fn parse(s: &Scoped, input: MentorshipInput) -> Result<Mentorship, StoreError> {
        Self::parse_many(s, vec![input])
            .await?
            .pop()
            .unwrap_or(Err(StoreError::Internal))
    }

    /// The mentor and the offering must belong to the mentorship's organisation: looked up
    /// for all inputs together (two queries per thousand).
    async fn parse_many(
        s: &Scoped,
        inputs: Vec<MentorshipInput>,
    ) -> Result<Vec<Result<Mentorship, StoreError>>, StoreError> {
        let today = Utc::now().date_naive();
        let parsed: Vec<Result<Mentorship, StoreError>> = inputs
            .into_iter()
            .map(|i| Ok(Mentorship::parse(i, today)?))
            .collect();
        let ok = || parsed.iter().filter_map(|m| m.as_ref().ok());
        let mentors = owners_of::<Volunteers>(s, ok().filter_map(|m| m.mentor_id)).await?;
        let offerings = owners_of::<Offerings>(s, ok().filter_map(|m| m.offering_id)).await?;
        let rule = |field, text| {
            Err(StoreError::Invalid(
                verbund_domain::ValidationErrors::single(field, verbund_domain::Reason::Rule(text)),
            ))
        };
        Ok(parsed
            .into_iter()
            .map(|m| {
                let m = m?;
                let of = |owners: &HashMap<Uuid, Uuid>, id: Option<Uuid>| {
                    id.is_none_or(|id| owners.get(&id) == Some(&m.organisation_id))
                };
                if !of(&mentors, m.mentor_id) {
                    return rule(
                        "mentorId",
                        "must be a volunteer of the mentorship's organisation",
                    );
                }
                if !of(&offerings, m.offering_id) {
                    return rule(
                        "offeringId",
                        "must be an offering of the mentorship's organisation",
                    );
                }
                Ok(m)
            })
            .collect())
    }
}

/// The owning organisation of each of these records that the caller may read, a thousand
/// ids per query.
async fn owners_of<T: Owned>(
    s: &Scoped,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, Uuid>, StoreError> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    use sea_orm::QuerySelect;
    let mut owners = HashMap::new();
    for chunk in ids.chunks(crate::store::IMPORT_CHUNK) {
        let rows: Vec<(Uuid, Uuid)> = T::Entity::find()
            .select_only()
            .column(T::ID)
            .column(T::ORGANISATION)
            .filter(T::ID.is_in(chunk.iter().copied()))
            .filter(s.readable::<T>())
            .into_tuple()
            .all(s.conn())
            .await?;
        owners.extend(rows);
    }
    Ok(owners)
}

// ---------------------------------------------------------------------------------------
pub struct Cooperations;

#[derive(Debug, Clone, Default)]
pub struct CooperationFilter {
    pub within: Option<Uuid>,
    pub status: Option<CooperationStatus>,
    /// Cooperations this organisation leads or is a partner of.
    pub organisation_id: Option<Uuid>,
    /// Cooperations any of these organisations leads or is a partner of.
    pub organisations: Vec<Uuid>,
}

fn cooperations_of(orgs: Condition) -> Condition {
    let members = Query::select()
        .column(organisation::Column::Id)
        .from(organisation::Entity)
        .cond_where(orgs)
        .to_owned();
    let partner_of = Query::select()
        .column(cooperation_partner::Column::CooperationId)
        .from(cooperation_partner::Entity)
        .and_where(cooperation_partner::Column::OrganisationId.in_subquery(members.clone()))
        .to_owned();
    Condition::any()
        .add(cooperation::Column::LeadOrganisationId.in_subquery(members))
        .add(cooperation::Column::Id.in_subquery(partner_of))
}

fn networks_below(path: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(network::Column::Id)
        .from(network::Entity)
        .cond_where(subtree(network::Column::Path, path))
        .to_owned()
}

impl Table for Cooperations {
    table_mapping! {
        cooperation => Cooperation, input CooperationInput, filter CooperationFilter, kind Cooperation;
        fields: title, goal, lead_organisation_id, network_id, status;
        period: period = starts_on .. ends_on;
        attached: partners;
    }

    const OWNER_FIELD: &'static str = "networkId";

    fn visible(scope: &ReadScope) -> Condition {
        match scope {
            ReadScope::All => Condition::all(),
            ReadScope::Subtree(p) => {
                Condition::all().add(cooperation::Column::NetworkId.in_subquery(networks_below(p)))
            }
            ReadScope::Organisation(id) => cooperations_of(family(*id)),
            ReadScope::Published | ReadScope::OwnAndPublished(_) | ReadScope::Nothing => nothing(),
        }
    }

    async fn filter(s: &Scoped, f: &CooperationFilter) -> Result<Condition, StoreError> {
        let mut c = Condition::all();
        if let Some(n) = f.within {
            c = c.add(
                cooperation::Column::NetworkId
                    .in_subquery(networks_below(&s.network_path("within", n).await?)),
            );
        }
        if let Some(v) = f.status {
            c = c.add(cooperation::Column::Status.eq(v.as_str()));
        }
        if let Some(o) = f.organisation_id {
            c = c.add(cooperations_of(
                Condition::all().add(organisation::Column::Id.eq(o)),
            ));
        }
        Ok(c)
    }

    async fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        _: Uuid,
        d: &Cooperation,
    ) -> Result<Location, StoreError> {
        place(
            s,
            conn,
            Self::OWNER_FIELD,
            Owner::Led {
                network: d.network_id,
                lead: d.lead_organisation_id,
            },
        )
        .await
    }

    async fn readers(_: &impl ConnectionTrait, d: &Cooperation) -> Result<Vec<Uuid>, StoreError> {
        Ok(d.partners.iter().map(|p| p.organisation_id).collect())
    }

    async fn parse(s: &Scoped, input: CooperationInput) -> Result<Cooperation, StoreError> {
        let c = Cooperation::parse(input)?;
        // Partners must exist; they need not be in the caller's scope (cooperation crosses
        // organisations), so only their existence is checked.
        let ids: Vec<Uuid> = c.partners.iter().map(|p| p.organisation_id).collect();
        if !ids.is_empty() {
            let found = organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(ids.clone()))
                .all(s.conn())
                .await?;
            if let Some(i) = ids.iter().position(|id| !found.iter().any(|o| o.id == *id)) {
                return Err(StoreError::Invalid(
                    verbund_domain::ValidationErrors::single(
                        format!("partners[{i}].organisationId"),
                        verbund_domain::Reason::Rule("does not exist"),
                    ),
                ));
            }
        }
        Ok(c)
    }

    async fn attach(
        conn: &impl ConnectionTrait,
        models: Vec<cooperation::Model>,
    ) -> Result<Vec<Record<Cooperation>>, StoreError> {
        let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
        let mut partners: HashMap<Uuid, Vec<Partner>> = HashMap::new();
        if !ids.is_empty() {
            for p in cooperation_partner::Entity::find()
                .filter(cooperation_partner::Column::CooperationId.is_in(ids))
                .all(conn)
                .await?
            {
                partners.entry(p.cooperation_id).or_default().push(Partner {
                    organisation_id: p.organisation_id,
                    role: p.role,
                    resources: p.resources,
                });
            }
        }
        models
            .iter()
            .map(|m| {
                let mut data = Self::to_data(m)?;
                data.partners = partners.remove(&m.id).unwrap_or_default();
                data.partners.sort_by_key(|p| p.organisation_id);
                Ok(Record {
                    id: m.id,
                    version: m.version,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    data,
                })
            })
            .collect()
    }

    fn children(d: &Cooperation) -> Option<Children> {
        Some(Children {
            table: "cooperation_partners",
            parent: "cooperation_id",
            columns: &["organisation_id", "role", "resources"],
            rows: d
                .partners
                .iter()
                .map(|p| {
                    vec![
                        p.organisation_id.into(),
                        p.role.clone().into(),
                        p.resources.clone().into(),
                    ]
                })
                .collect(),
        })
    }

    fn changed_children(old: &Cooperation, new: &Cooperation) -> Vec<&'static str> {
        let mut a = old.partners.clone();
        let mut b = new.partners.clone();
        a.sort_by_key(|p| p.organisation_id);
        b.sort_by_key(|p| p.organisation_id);
        if a == b { vec![] } else { vec!["partners"] }
    }
}

// ---------------------------------------------------------------------------------------
pub struct Committees;

/// The committees on which `id` sits as a member of `kind` (`organisation`, `contact`).
fn committees_with_member(id: Uuid, kind: &str) -> Condition {
    let seats = Query::select()
        .column(committee_member::Column::CommitteeId)
        .from(committee_member::Entity)
        .and_where(committee_member::Column::MemberId.eq(id))
        .and_where(committee_member::Column::MemberKind.eq(kind))
        .to_owned();
    Condition::all().add(committee::Column::Id.in_subquery(seats))
}

#[derive(Debug, Clone, Default)]
pub struct CommitteeFilter {
    pub within: Option<Uuid>,
    pub network_id: Option<Uuid>,
    pub search: Option<String>,
    /// Committees any of these organisations sits on.
    pub member_organisations: Vec<Uuid>,
}

impl Table for Committees {
    table_mapping! {
        committee => Committee, input CommitteeInput, filter CommitteeFilter, kind Committee;
        fields: network_id, name, purpose;
        attached: members;
    }

    const OWNER_FIELD: &'static str = "networkId";

    async fn readers(_: &impl ConnectionTrait, d: &Committee) -> Result<Vec<Uuid>, StoreError> {
        Ok(d.members
            .iter()
            .filter_map(|m| match m {
                Member::Organisation(id) => Some(*id),
                Member::Contact(_) => None,
            })
            .collect())
    }

    fn visible(scope: &ReadScope) -> Condition {
        match scope {
            ReadScope::All => Condition::all(),
            ReadScope::Subtree(p) => {
                Condition::all().add(committee::Column::NetworkId.in_subquery(networks_below(p)))
            }
            ReadScope::Organisation(id) => {
                // The committees the organisation (or a member organisation) sits on.
                let orgs = Query::select()
                    .column(organisation::Column::Id)
                    .from(organisation::Entity)
                    .cond_where(family(*id))
                    .to_owned();
                let seats = Query::select()
                    .column(committee_member::Column::CommitteeId)
                    .from(committee_member::Entity)
                    .and_where(committee_member::Column::MemberId.in_subquery(orgs))
                    .to_owned();
                Condition::all().add(committee::Column::Id.in_subquery(seats))
            }
            ReadScope::Published | ReadScope::OwnAndPublished(_) | ReadScope::Nothing => nothing(),
        }
    }

    async fn filter(s: &Scoped, f: &CommitteeFilter) -> Result<Condition, StoreError> {
        let mut c = Condition::all();
        if let Some(n) = f.within {
            c = c.add(
                committee::Column::NetworkId
                    .in_subquery(networks_below(&s.network_path("within", n).await?)),
            );
        }
        if let Some(n) = f.network_id {
            c = c.add(committee::Column::NetworkId.eq(n));
        }
        if let Some(t) = &f.search {
            c = c.add(search(committee::Column::Name, t)?);
        }
        if !f.member_organisations.is_empty() {
            let seats = Query::select()
                .column(committee_member::Column::CommitteeId)
                .from(committee_member::Entity)
                .and_where(committee_member::Column::MemberId.is_in(f.member_organisations.clone()))
                .to_owned();
            c = c.add(committee::Column::Id.in_subquery(seats));
        }
        Ok(c)
    }

    async fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        _: Uuid,
        d: &Committee,
    ) -> Result<Location, StoreError> {
        place(s, conn, Self::OWNER_FIELD, Owner::InNetwork(d.network_id)).await
    }

    async fn parse(s: &Scoped, input: CommitteeInput) -> Result<Committee, StoreError> {
        let c = Committee::parse(input)?;
        let orgs: Vec<Uuid> = c
            .members
            .iter()
            .filter_map(|m| match m {
                Member::Organisation(id) => Some(*id),
                _ => None,
            })
            .collect();
        let contacts: Vec<Uuid> = c
            .members
            .iter()
            .filter_map(|m| match m {
                Member::Contact(id) => Some(*id),
                _ => None,
            })
            .collect();
        let found_orgs = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(orgs.clone()))
            .all(s.conn())
            .await?;
        if orgs
            .iter()
            .any(|id| !found_orgs.iter().any(|o| o.id == *id))
        {
            return Err(StoreError::Invalid(
                verbund_domain::ValidationErrors::single(
                    "memberOrganisations",
                    verbund_domain::Reason::Rule("names an organisation that does not exist"),
                ),
            ));
        }
        // Contacts are people: only those the writer may read can be named, and one it may
        // not read is refused exactly like one that does not exist.
        let found_contacts = contact::Entity::find()
            .filter(contact::Column::Id.is_in(contacts.clone()))
            .filter(s.readable::<Contacts>())
            .all(s.conn())
            .await?;
        if contacts
            .iter()
            .any(|id| !found_contacts.iter().any(|o| o.id == *id))
        {
            return Err(StoreError::Invalid(
                verbund_domain::ValidationErrors::single(
                    "memberContacts",
                    verbund_domain::Reason::Rule(
                        "names a contact that does not exist or is not visible to you",
                    ),
                ),
            ));
        }
        Ok(c)
    }

    async fn attach(
        conn: &impl ConnectionTrait,
        models: Vec<committee::Model>,
    ) -> Result<Vec<Record<Committee>>, StoreError> {
        let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
        let mut members: HashMap<Uuid, Vec<Member>> = HashMap::new();
        if !ids.is_empty() {
            for m in committee_member::Entity::find()
                .filter(committee_member::Column::CommitteeId.is_in(ids))
                .all(conn)
                .await?
            {
                let member = match m.member_kind.as_str() {
                    "organisation" => Member::Organisation(m.member_id),
                    "contact" => Member::Contact(m.member_id),
                    _ => return Err(corrupt("committee_members", "member_kind")),
                };
                members.entry(m.committee_id).or_default().push(member);
            }
        }
        models
            .iter()
            .map(|m| {
                let mut data = Self::to_data(m)?;
                data.members = members.remove(&m.id).unwrap_or_default();
                Ok(Record {
                    id: m.id,
                    version: m.version,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    data,
                })
            })
            .collect()
    }

    fn children(d: &Committee) -> Option<Children> {
        Some(Children {
            table: "committee_members",
            parent: "committee_id",
            columns: &["member_id", "member_kind"],
            rows: d
                .members
                .iter()
                .map(|m| match m {
                    Member::Organisation(id) => vec![(*id).into(), "organisation".into()],
                    Member::Contact(id) => vec![(*id).into(), "contact".into()],
                })
                .collect(),
        })
    }

    fn changed_children(old: &Committee, new: &Committee) -> Vec<&'static str> {
        if old.members == new.members {
            vec![]
        } else {
            vec!["members"]
        }
    }
}

// ---------------------------------------------------------------------------------------
pub struct Meetings;

#[derive(Debug, Clone, Default)]
pub struct MeetingFilter {
    pub committee_id: Option<Uuid>,
    pub committees: Vec<Uuid>,
}

/// Meetings have no key of their organisation's: an import matches them by `id` only.
impl Importable for Meetings {
    const KEY: Option<(meeting::Column, meeting::Column)> = None;
    fn key(_: &Meeting) -> Option<(Option<Uuid>, String)> {
        None
    }
}

impl Table for Meetings {
    table_mapping! {
        meeting => Meeting, input MeetingInput, filter MeetingFilter, kind CommitteeMeeting;
        fields: committee_id, held_on, topic, outcome;
    }

    const OWNER_FIELD: &'static str = "committeeId";

    fn visible(scope: &ReadScope) -> Condition {
        let committees = Query::select()
            .column(committee::Column::Id)
            .from(committee::Entity)
            .cond_where(Committees::visible(scope))
            .to_owned();
        Condition::all().add(meeting::Column::CommitteeId.in_subquery(committees))
    }

    async fn filter(_: &Scoped, f: &MeetingFilter) -> Result<Condition, StoreError> {
        let mut c = Condition::all();
        if let Some(id) = f.committee_id {
            c = c.add(meeting::Column::CommitteeId.eq(id));
        }
        if !f.committees.is_empty() {
            c = c.add(meeting::Column::CommitteeId.is_in(f.committees.clone()));
        }
        Ok(c)
    }

    async fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        _: Uuid,
        d: &Meeting,
    ) -> Result<Location, StoreError> {
        place(s, conn, Self::OWNER_FIELD, Owner::Committee(d.committee_id)).await
    }

    /// The organisations on the meeting's committee (who read its meetings).
    async fn readers(conn: &impl ConnectionTrait, d: &Meeting) -> Result<Vec<Uuid>, StoreError> {
        use sea_orm::QuerySelect;
        Ok(committee_member::Entity::find()
            .select_only()
            .column(committee_member::Column::MemberId)
            .filter(committee_member::Column::CommitteeId.eq(d.committee_id))
            .filter(committee_member::Column::MemberKind.eq("organisation"))
            .into_tuple()
            .all(conn)
            .await?)
    }

    async fn parse(_: &Scoped, input: MeetingInput) -> Result<Meeting, StoreError> {
        Ok(Meeting::parse(input)?)
    }
}

// ---------------------------------------------------------------------------------------
pub struct Fundings;

owned!(Fundings: funding => Funding, importable by externalId);

impl Table for Fundings {
    table_mapping! {
        funding => Funding, input FundingInput, filter OwnedFilter, kind Funding;
        fields: organisation_id, funder_kind, funder_name, programme, amount_cents, passed_on_from_id,
            contingent_mentorships, external_id;
        period: period = starts_on .. ends_on;
    }

    owned_by_organisation!(funding, FundingInput, Funding);

    async fn filter(s: &Scoped, f: &OwnedFilter) -> Result<Condition, StoreError> {
        let mut c = owned_filter(s, funding::Column::OrganisationId, f).await?;
        if let Some(t) = &f.search {
            c = c.add(search(funding::Column::Programme, t)?);
        }
        Ok(c)
    }

    async fn parse(s: &Scoped, input: FundingInput) -> Result<Funding, StoreError> {
        let source = match input.passed_on_from_id {
            // The grant is compared with (amount, period), so only one the writer may read
            // counts: any other is refused exactly like an unknown id, or the refusals would
            // tell its amount and period.
            Some(id) => funding::Entity::find()
                .filter(funding::Column::Id.eq(id))
                .filter(s.readable::<Fundings>())
                .one(s.conn())
                .await?
                .map(|f| SourceGrant {
                    organisation_id: f.organisation_id,
                    amount_cents: f.amount_cents,
                    period: Period {
                        start: f.starts_on,
                        end: f.ends_on,
                    },
                }),
            None => None,
        };
        Ok(Funding::parse(input, source)?)
    }
}
