//! The object types of the graph. Each wraps a stored record; relations load through the
//! request's DataLoaders (see `loaders`), so a page of records costs one query per field.

use super::ids::global;
use super::loaders::*;
use super::page::{List, Paging, Total, slice};
use crate::error::gql;
pub use crate::views::{
    Committee, Contact, Cooperation, Funding, Meeting, Mentorship, Network, Offering, Organisation,
    Partner, Staff, Volunteer,
};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, ID, Interface, Object, Result};
use chrono::{DateTime, Utc};
use std::marker::PhantomData;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::audit::AuditEvent as AuditData;
use verbund_domain::committee::Member;
use verbund_domain::mentorship::MentorshipStatus;
use verbund_domain::organisation::Organisation as OrganisationData;
use verbund_persistence::tables::*;
use verbund_persistence::{Scoped, StoreError};

/// Every loader a request may use, each bound to the request's scope.
pub struct Loaders {
    pub networks: Dl<ById<Networks>>,
    pub organisations: Dl<ById<Organisations>>,
    pub volunteers: Dl<ById<Volunteers>>,
    pub offerings: Dl<ById<Offerings>>,
    pub committees: Dl<ById<Committees>>,
    pub contacts: Dl<ById<Contacts>>,
    pub fundings: Dl<ById<Fundings>>,
    pub contacts_of: Dl<ByOrganisation<Contacts>>,
    pub offerings_of: Dl<ByOrganisation<Offerings>>,
    pub volunteers_of: Dl<ByOrganisation<Volunteers>>,
    pub staff_of: Dl<ByOrganisation<StaffMembers>>,
    pub mentorships_of: Dl<ByOrganisation<Mentorships>>,
    pub fundings_of: Dl<ByOrganisation<Fundings>>,
    pub mentorship_counts: Dl<MentorshipCounts>,
    pub contact_counts: Dl<OwnedCounts<Contacts>>,
    pub offering_counts: Dl<OwnedCounts<Offerings>>,
    pub members_of: Dl<Grouped<Organisations, MembersOf>>,
    pub organisations_at: Dl<Grouped<Organisations, AtHome>>,
    pub children_of: Dl<Grouped<Networks, ChildrenOf>>,
    pub cooperations_of: Dl<Grouped<Cooperations, TakingPart>>,
    pub committees_of: Dl<Grouped<Committees, Seats>>,
    pub meetings_of: Dl<Grouped<Meetings, Held>>,
}

/// A per-request loader with a cache, so that a page can prime its children (see
/// [`prime_organisations`]) and later fields find them without a query.
pub type Dl<L> = DataLoader<L, async_graphql::dataloader::HashMapCache>;

pub struct MembersOf;
pub struct AtHome;
pub struct ChildrenOf;
pub struct TakingPart;
pub struct Seats;
pub struct Held;

impl Loaders {
    pub fn new(s: &Scoped) -> Loaders {
        fn dl<
            L: async_graphql::dataloader::Loader<K>,
            K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
        >(
            l: L,
        ) -> Dl<L> {
            DataLoader::with_cache(
                l,
                tokio::spawn,
                async_graphql::dataloader::HashMapCache::default(),
            )
        }
        Loaders {
            networks: dl(ById::new(s.clone())),
            organisations: dl(ById::new(s.clone())),
            volunteers: dl(ById::new(s.clone())),
            offerings: dl(ById::new(s.clone())),
            committees: dl(ById::new(s.clone())),
            contacts: dl(ById::new(s.clone())),
            fundings: dl(ById::new(s.clone())),
            contacts_of: dl(ByOrganisation::new(s.clone())),
            offerings_of: dl(ByOrganisation::new(s.clone())),
            volunteers_of: dl(ByOrganisation::new(s.clone())),
            staff_of: dl(ByOrganisation::new(s.clone())),
            mentorships_of: dl(ByOrganisation::new(s.clone())),
            fundings_of: dl(ByOrganisation::new(s.clone())),
            mentorship_counts: dl(MentorshipCounts(s.clone())),
            contact_counts: dl(OwnedCounts(s.clone(), PhantomData)),
            offering_counts: dl(OwnedCounts(s.clone(), PhantomData)),
            members_of: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| OrganisationFilter {
                    parents: ids,
                    ..Default::default()
                },
                keys: |d| d.parent_organisation_id.into_iter().collect(),
                marker: PhantomData,
            }),
            organisations_at: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| OrganisationFilter {
                    networks: ids,
                    ..Default::default()
                },
                keys: |d| vec![d.network_id],
                marker: PhantomData,
            }),
            children_of: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| NetworkFilter {
                    parents: ids,
                    ..Default::default()
                },
                keys: |d| d.parent_id.into_iter().collect(),
                marker: PhantomData,
            }),
            cooperations_of: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| CooperationFilter {
                    organisations: ids,
                    ..Default::default()
                },
                keys: |d| d.organisation_ids(),
                marker: PhantomData,
            }),
            committees_of: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| CommitteeFilter {
                    member_organisations: ids,
                    ..Default::default()
                },
                keys: |d| {
                    d.members
                        .iter()
                        .filter_map(|m| {
                            if let Member::Organisation(o) = m {
                                Some(*o)
                            } else {
                                None
                            }
                        })
                        .collect()
                },
                marker: PhantomData,
            }),
            meetings_of: dl(Grouped {
                scoped: s.clone(),
                filter: |ids| MeetingFilter {
                    committees: ids,
                    ..Default::default()
                },
                keys: |d| vec![d.committee_id],
                marker: PhantomData,
            }),
        }
    }
}

/// Loads, for a whole page of organisations, the related records the query selects — one
/// query each — and feeds them to the loaders. The per-node fields then find them in the
/// cache, so the number of statements does not grow with the page, however long the
/// resolvers take (the loaders' own batching is time-based and would split a slow page).
pub async fn prime_organisations(
    ctx: &Context<'_>,
    page: &[Record<OrganisationData>],
) -> Result<()> {
    if page.is_empty() {
        return Ok(());
    }
    let l = loaders(ctx)?;
    let s = super::page::scoped(ctx)?;
    let node = ctx.look_ahead().field("edges").field("node");
    let ids: Vec<Uuid> = page.iter().map(|r| r.id).collect();
    if node.field("network").exists() {
        let mut nets: Vec<Uuid> = page.iter().map(|r| r.data.network_id).collect();
        nets.sort();
        nets.dedup();
        let found = s.get_many::<Networks>(&nets).await.map_err(gql)?;
        l.networks
            .feed_many(found.into_iter().map(|r| (r.id, r)))
            .await;
    }
    if node.field("parentOrganisation").exists() {
        let mut parents: Vec<Uuid> = page
            .iter()
            .filter_map(|r| r.data.parent_organisation_id)
            .collect();
        parents.sort();
        parents.dedup();
        let found = s.get_many::<Organisations>(&parents).await.map_err(gql)?;
        l.organisations
            .feed_many(found.into_iter().map(|r| (r.id, r)))
            .await;
    }
    async fn children<T: verbund_persistence::Owned>(
        s: &Scoped,
        loader: &Dl<ByOrganisation<T>>,
        ids: &[Uuid],
    ) -> Result<Vec<Record<T::Data>>> {
        let found = s
            .list_for_organisations::<T>(ids, &Default::default())
            .await
            .map_err(gql)?;
        let mut grouped: std::collections::HashMap<Uuid, Vec<Record<T::Data>>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for r in &found {
            grouped
                .entry(T::organisation_of(&r.data))
                .or_default()
                .push(r.clone());
        }
        loader.feed_many(grouped).await;
        Ok(found)
    }
    if node.field("contacts").exists() {
        children::<Contacts>(s, &l.contacts_of, &ids).await?;
    }
    if node.field("offerings").exists() {
        let offerings = children::<Offerings>(s, &l.offerings_of, &ids).await?;
        if node
            .field("offerings")
            .field("edges")
            .field("node")
            .field("serviceArea")
            .exists()
        {
            let nets = verbund_domain::offering::Offering::service_areas(
                offerings.iter().map(|o| &o.data),
            );
            let found = s.get_many::<Networks>(&nets).await.map_err(gql)?;
            l.networks
                .feed_many(found.into_iter().map(|r| (r.id, r)))
                .await;
        }
    }
    if node.field("volunteers").exists() {
        children::<Volunteers>(s, &l.volunteers_of, &ids).await?;
    }
    if node.field("staff").exists() {
        children::<StaffMembers>(s, &l.staff_of, &ids).await?;
    }
    if node.field("mentorships").exists() {
        children::<Mentorships>(s, &l.mentorships_of, &ids).await?;
    }
    if node.field("fundings").exists() {
        children::<Fundings>(s, &l.fundings_of, &ids).await?;
    }
    let counted = ["contactCount", "offeringCount", "mentorshipCount"]
        .iter()
        .filter(|f| node.field(f).exists())
        .count();
    if counted >= 2 {
        // Together in one statement.
        let counts = s.organisation_counts(&ids).await.map_err(gql)?;
        let get = |id: &Uuid| counts.get(id).copied().unwrap_or((0, 0, 0));
        l.contact_counts
            .feed_many(ids.iter().map(|id| (*id, get(id).0)))
            .await;
        l.offering_counts
            .feed_many(ids.iter().map(|id| (*id, get(id).1)))
            .await;
        l.mentorship_counts
            .feed_many(
                ids.iter()
                    .map(|id| ((*id, MentorshipStatus::Active), get(id).2)),
            )
            .await;
        return Ok(());
    }
    /// Each organisation's count, one `GROUP BY` for the page.
    async fn per_organisation<T: verbund_persistence::Owned>(
        s: &Scoped,
        ids: &[Uuid],
        filter: &T::Filter,
    ) -> Result<Vec<(Uuid, u64)>> {
        let counts = s
            .count_for_organisations::<T>(ids, filter)
            .await
            .map_err(gql)?;
        Ok(ids
            .iter()
            .map(|id| (*id, counts.get(id).copied().unwrap_or(0)))
            .collect())
    }
    if node.field("contactCount").exists() {
        let counts = per_organisation::<Contacts>(s, &ids, &Default::default()).await?;
        l.contact_counts.feed_many(counts).await;
    }
    if node.field("offeringCount").exists() {
        let counts = per_organisation::<Offerings>(s, &ids, &Default::default()).await?;
        l.offering_counts.feed_many(counts).await;
    }
    if node.field("mentorshipCount").exists() {
        // The default status; other statuses load through the loader's batching.
        let filter = MentorshipFilter {
            status: Some(MentorshipStatus::Active),
            ..Default::default()
        };
        let counts = per_organisation::<Mentorships>(s, &ids, &filter).await?;
        l.mentorship_counts
            .feed_many(
                counts
                    .into_iter()
                    .map(|(id, n)| ((id, MentorshipStatus::Active), n)),
            )
            .await;
    }
    Ok(())
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

pub(crate) async fn one<T: verbund_persistence::Table, W>(
    loader: &Dl<ById<T>>,
    id: Option<Uuid>,
    wrap: fn(Record<T::Data>) -> W,
) -> Result<Option<W>> {
    match id {
        None => Ok(None),
        Some(id) => Ok(loader.load_one(id).await.map_err(gql)?.map(wrap)),
    }
}

/// The records of `ids` the caller may read, in the order of `ids`.
async fn several<T: verbund_persistence::Table, W: From<Record<T::Data>>>(
    loader: &Dl<ById<T>>,
    ids: &[Uuid],
) -> Result<Vec<W>> {
    let found = loader.load_many(ids.iter().copied()).await.map_err(gql)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id).cloned().map(W::from))
        .collect())
}

async fn many<K, D, W: async_graphql::OutputType>(
    loader: &Dl<
        impl async_graphql::dataloader::Loader<K, Value = Vec<Record<D>>, Error = StoreError>,
    >,
    key: K,
    paging: Paging,
    wrap: fn(Record<D>) -> W,
) -> Result<List<W>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    let all = loader.load_one(key).await.map_err(gql)?.unwrap_or_default();
    slice(all, &paging, wrap)
}

/// The fields a record's GraphQL object adds to its view (`crate::views`): the opaque
/// global id and, for a record an organisation owns, that organisation as an object; then
/// the type's own links.
macro_rules! record_object {
    ($ty:ident, owned { $($rest:tt)* }) => {
        record_object!($ty {
            /// The organisation the record belongs to.
            async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
                one(
                    &loaders(ctx)?.organisations,
                    Some(self.organisation_id),
                    Organisation::from,
                )
                .await
            }
            $($rest)*
        });
    };
    // `lists { name: Item = loader; … }`: the record's lists by its id, paged, each one
    // dataloader batch for all records of the answer.
    ($ty:ident, lists { $($(#[$m:meta])* $name:ident: $item:ident = $loader:ident;)* } { $($rest:tt)* }) => {
        record_object!($ty {
            $(
                $(#[$m])*
                async fn $name(
                    &self,
                    ctx: &Context<'_>,
                    first: Option<i32>,
                    after: Option<String>,
                ) -> Result<List<$item>> {
                    let paging = Paging::new(first, after)?;
                    many(&loaders(ctx)?.$loader, self.meta.id, paging, $item::from).await
                }
            )*
            $($rest)*
        });
    };
    ($ty:ident { $($rest:tt)* }) => {
        #[ComplexObject]
        impl $ty {
            /// Opaque global id (see `node`).
            async fn id(&self) -> ID {
                global(stringify!($ty), self.meta.id)
            }
            $($rest)*
        }
    };
}

/// A record with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Network(Network),
    Organisation(Organisation),
    Contact(Contact),
    Offering(Offering),
    Volunteer(Volunteer),
    Staff(Staff),
    Mentorship(Mentorship),
    Cooperation(Cooperation),
    Committee(Committee),
    Meeting(Meeting),
    Funding(Funding),
}

// ---------------------------------------------------------------------------------------
record_object!(Network, lists {
    children: Network = children_of;
    /// Organisations at home in this network itself (not below it; see `organisations(filter: {within})`).
    organisations: Organisation = organisations_at;
} {
    /// This network's statistics: like `Query.statistics` with the subtree filter set here.
    #[allow(clippy::too_many_arguments)]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        measure: String,
        #[graphql(default)] group_by: Vec<String>,
        filter: Option<crate::statistics::Filters>,
        active_at: Option<chrono::NaiveDate>,
        active_to: Option<chrono::NaiveDate>,
        snapshot: Option<ID>,
        #[graphql(default)] protected: bool,
    ) -> Result<crate::statistics::Table> {
        super::statistics::statistics(
            ctx,
            measure,
            group_by,
            filter,
            (active_at, active_to),
            snapshot,
            protected,
            Some(self.meta.id),
        )
        .await
    }
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(&loaders(ctx)?.networks, self.parent_id, Network::from).await
    }
    /// Offerings whose service area lies in this network or below it.
    async fn offerings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Offering>> {
        let filter = OfferingFilter {
            serving: Some(self.meta.id),
            ..Default::default()
        };
        super::page::list::<Offerings, _>(
            ctx,
            super::page::scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Offering::from,
        )
        .await
    }
});

// ---------------------------------------------------------------------------------------
record_object!(Organisation, lists {
    member_organisations: Organisation = members_of;
    contacts: Contact = contacts_of;
    offerings: Offering = offerings_of;
    volunteers: Volunteer = volunteers_of;
    staff: Staff = staff_of;
    mentorships: Mentorship = mentorships_of;
    fundings: Funding = fundings_of;
    /// Cooperations the organisation leads or is a partner of.
    cooperations: Cooperation = cooperations_of;
    /// Committees the organisation sits on.
    committees: Committee = committees_of;
} {
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.network_id),
            Network::from,
        )
        .await
    }
    /// A member organisation's programme partner.
    async fn parent_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            self.parent_organisation_id,
            Organisation::from,
        )
        .await
    }
    /// How many contact persons the organisation has (that the caller may see), counted by
    /// the database.
    async fn contact_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(loaders(ctx)?
            .contact_counts
            .load_one(self.meta.id)
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
    /// How many offerings the organisation has (that the caller may see), counted by the
    /// database.
    async fn offering_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(loaders(ctx)?
            .offering_counts
            .load_one(self.meta.id)
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
    /// How many of the organisation's mentorships are in `status` (default `active`),
    /// counted by the database.
    async fn mentorship_count(&self, ctx: &Context<'_>, status: Option<String>) -> Result<u64> {
        let status = match status {
            Some(s) => MentorshipStatus::parse(&s).map_err(|r| super::page::invalid("status", r))?,
            None => MentorshipStatus::Active,
        };
        Ok(loaders(ctx)?
            .mentorship_counts
            .load_one((self.meta.id, status))
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
});

// ---------------------------------------------------------------------------------------
record_object!(Contact, owned {});

// ---------------------------------------------------------------------------------------
record_object!(Offering, owned {
    /// The networks the offering serves.
    #[graphql(name = "serviceArea")]
    async fn service_area_networks(&self, ctx: &Context<'_>) -> Result<Vec<Network>> {
        several(&loaders(ctx)?.networks, &self.service_area).await
    }
});

// ---------------------------------------------------------------------------------------
record_object!(Volunteer, owned {});

// ---------------------------------------------------------------------------------------
record_object!(Staff, owned {});

// ---------------------------------------------------------------------------------------
record_object!(Mentorship, owned {
    async fn offering(&self, ctx: &Context<'_>) -> Result<Option<Offering>> {
        one(&loaders(ctx)?.offerings, self.offering_id, Offering::from).await
    }
    async fn mentor(&self, ctx: &Context<'_>) -> Result<Option<Volunteer>> {
        one(&loaders(ctx)?.volunteers, self.mentor_id, Volunteer::from).await
    }
});

// ---------------------------------------------------------------------------------------
record_object!(Cooperation {
    /// The organisation that "wears the hat".
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.lead_organisation_id),
            Organisation::from,
        )
        .await
    }
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.network_id),
            Network::from,
        )
        .await
    }
});

#[ComplexObject]
impl Partner {
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.organisation_id),
            Organisation::from,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
record_object!(Committee, lists {
    meetings: Meeting = meetings_of;
} {
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.network_id),
            Network::from,
        )
        .await
    }
    /// The member organisations (those the caller may read).
    async fn member_organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        several(&loaders(ctx)?.organisations, &self.member_organisation_ids).await
    }
    /// The member contact persons (those the caller may read).
    async fn member_contacts(&self, ctx: &Context<'_>) -> Result<Vec<Contact>> {
        several(&loaders(ctx)?.contacts, &self.member_contact_ids).await
    }
});

record_object!(Meeting {
    async fn committee(&self, ctx: &Context<'_>) -> Result<Option<Committee>> {
        one(
            &loaders(ctx)?.committees,
            Some(self.committee_id),
            Committee::from,
        )
        .await
    }
});

// ---------------------------------------------------------------------------------------
record_object!(Funding, owned {
    /// The grant this funding passes on from.
    async fn passed_on_from(&self, ctx: &Context<'_>) -> Result<Option<Funding>> {
        one(
            &loaders(ctx)?.fundings,
            self.passed_on_from_id,
            Funding::from,
        )
        .await
    }
});

// ---------------------------------------------------------------------------------------
pub struct AuditEvent(pub Record<AuditData>);

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        global("AuditEvent", self.0.id)
    }
    /// The token subject that wrote.
    async fn actor(&self) -> &str {
        &self.0.data.actor
    }
    async fn role(&self) -> &str {
        &self.0.data.role
    }
    async fn entity(&self) -> &str {
        self.0.data.entity
    }
    async fn entity_id(&self) -> Uuid {
        self.0.data.entity_id
    }
    /// `create`, `update`, `delete` or `transition`.
    async fn action(&self) -> &str {
        self.0.data.action.as_str()
    }
    /// Names of the changed fields; never their values.
    async fn fields(&self) -> &[String] {
        &self.0.data.fields
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.data.at
    }
}

pub fn total(n: u64) -> Total {
    Total { total_count: n }
}
