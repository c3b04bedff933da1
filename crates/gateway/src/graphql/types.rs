//! The object types of the graph. Each wraps a stored record; relations load through the
//! request's DataLoaders (see `loaders`), so a page of records costs one query per field.

use super::ids::global;
use super::loaders::*;
use super::{List, Paging, Total, slice};
use crate::error::gql;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use std::marker::PhantomData;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::audit::AuditEvent as AuditData;
use verbund_domain::committee::{Committee as CommitteeData, Meeting as MeetingData, Member};
use verbund_domain::contact::Contact as ContactData;
use verbund_domain::cooperation::Cooperation as CooperationData;
use verbund_domain::funding::Funding as FundingData;
use verbund_domain::mentorship::{Mentorship as MentorshipData, MentorshipStatus};
use verbund_domain::network::Network as NetworkData;
use verbund_domain::offering::Offering as OfferingData;
use verbund_domain::organisation::Organisation as OrganisationData;
use verbund_domain::people::{Staff as StaffData, Volunteer as VolunteerData};
use verbund_persistence::tables::*;
use verbund_persistence::{Scoped, StoreError};

/// Every loader a request may use, each bound to the request's scope.
pub struct Loaders {
    pub networks: Dl<ById<Networks>>,
    pub organisations: Dl<ById<Organisations>>,
    pub volunteers: Dl<ById<Volunteers>>,
    pub offerings: Dl<ById<Offerings>>,
    pub committees: Dl<ById<Committees>>,
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
    let s = super::scoped(ctx)?;
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
            let mut nets: Vec<Uuid> = offerings
                .iter()
                .flat_map(|o| o.data.service_area.iter().copied())
                .collect();
            nets.sort();
            nets.dedup();
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
    if node.field("contactCount").exists() {
        let counts = s
            .count_for_organisations::<Contacts>(&ids, &OwnedFilter::default())
            .await
            .map_err(gql)?;
        l.contact_counts
            .feed_many(
                ids.iter()
                    .map(|id| (*id, counts.get(id).copied().unwrap_or(0))),
            )
            .await;
    }
    if node.field("offeringCount").exists() {
        let counts = s
            .count_for_organisations::<Offerings>(&ids, &OfferingFilter::default())
            .await
            .map_err(gql)?;
        l.offering_counts
            .feed_many(
                ids.iter()
                    .map(|id| (*id, counts.get(id).copied().unwrap_or(0))),
            )
            .await;
    }
    if node.field("mentorshipCount").exists() {
        // The default status; other statuses load through the loader's batching.
        let filter = MentorshipFilter {
            status: Some(MentorshipStatus::Active),
            ..Default::default()
        };
        let counts = s
            .count_for_organisations::<Mentorships>(&ids, &filter)
            .await
            .map_err(gql)?;
        l.mentorship_counts
            .feed_many(ids.iter().map(|id| {
                (
                    (*id, MentorshipStatus::Active),
                    counts.get(id).copied().unwrap_or(0),
                )
            }))
            .await;
    }
    Ok(())
}

pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> Result<&'a Loaders> {
    ctx.data::<Loaders>()
}

async fn one<T: verbund_persistence::Table, W>(
    loader: &Dl<ById<T>>,
    id: Option<Uuid>,
    wrap: fn(Record<T::Data>) -> W,
) -> Result<Option<W>> {
    match id {
        None => Ok(None),
        Some(id) => Ok(loader.load_one(id).await.map_err(gql)?.map(wrap)),
    }
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
pub struct Network(pub Record<NetworkData>);

#[Object]
impl Network {
    /// This network's statistics: like `Query.statistics` with the subtree filter set here.
    #[allow(clippy::too_many_arguments)]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        measure: String,
        #[graphql(default)] group_by: Vec<String>,
        filter: Option<super::statistics::StatisticsFilter>,
        active_at: Option<chrono::NaiveDate>,
        snapshot: Option<ID>,
        #[graphql(default)] protected: bool,
    ) -> Result<crate::statistics::Table> {
        super::statistics::statistics(
            ctx,
            measure,
            group_by,
            filter,
            active_at,
            snapshot,
            protected,
            Some(self.0.id),
        )
        .await
    }
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Network", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// `federal`, `state` or `regional`.
    async fn level(&self) -> &str {
        self.0.data.level.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    /// ISO 3166-2 for states (`DE-BY`), the official district key for regions, `DE` for the
    /// federal root.
    async fn code(&self) -> &str {
        &self.0.data.code
    }
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(&loaders(ctx)?.networks, self.0.data.parent_id, Network).await
    }
    async fn children(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Network>> {
        many(
            &loaders(ctx)?.children_of,
            self.0.id,
            Paging::new(first, after)?,
            Network,
        )
        .await
    }
    /// Organisations at home in this network itself (not below it; see `organisations(filter: {within})`).
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Organisation>> {
        many(
            &loaders(ctx)?.organisations_at,
            self.0.id,
            Paging::new(first, after)?,
            Organisation,
        )
        .await
    }
    /// Offerings whose service area lies in this network or below it.
    async fn offerings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Offering>> {
        let filter = OfferingFilter {
            serving: Some(self.0.id),
            ..Default::default()
        };
        super::list::<Offerings, _>(
            ctx,
            super::scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Offering,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
pub struct Organisation(pub Record<OrganisationData>);

#[Object]
impl Organisation {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Organisation", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// `programme_partner`, `member`, `coordination_office`, `welcome_centre`,
    /// `administration` or `other`.
    async fn kind(&self) -> &str {
        self.0.data.kind.as_str()
    }
    /// `civil_society`, `public` or `business`.
    async fn sector(&self) -> &str {
        self.0.data.sector.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.0.data.network_id),
            Network,
        )
        .await
    }
    /// A member organisation's programme partner.
    async fn parent_organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            self.0.data.parent_organisation_id,
            Organisation,
        )
        .await
    }
    async fn member_organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Organisation>> {
        many(
            &loaders(ctx)?.members_of,
            self.0.id,
            Paging::new(first, after)?,
            Organisation,
        )
        .await
    }
    /// Not shown in the public directory.
    async fn street(&self) -> Option<&str> {
        self.0.data.street.as_deref()
    }
    async fn postcode(&self) -> Option<&str> {
        self.0.data.postcode.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.data.city.as_deref()
    }
    /// Not shown in the public directory.
    async fn email(&self) -> Option<&str> {
        self.0.data.email.as_deref()
    }
    /// Not shown in the public directory.
    async fn phone(&self) -> Option<&str> {
        self.0.data.phone.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.data.website.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.data.description.as_deref()
    }
    /// The organisation's own key, unique within its parent organisation.
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Contact>> {
        many(
            &loaders(ctx)?.contacts_of,
            self.0.id,
            Paging::new(first, after)?,
            Contact,
        )
        .await
    }
    async fn offerings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Offering>> {
        many(
            &loaders(ctx)?.offerings_of,
            self.0.id,
            Paging::new(first, after)?,
            Offering,
        )
        .await
    }
    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Volunteer>> {
        many(
            &loaders(ctx)?.volunteers_of,
            self.0.id,
            Paging::new(first, after)?,
            Volunteer,
        )
        .await
    }
    async fn staff(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Staff>> {
        many(
            &loaders(ctx)?.staff_of,
            self.0.id,
            Paging::new(first, after)?,
            Staff,
        )
        .await
    }
    async fn mentorships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Mentorship>> {
        many(
            &loaders(ctx)?.mentorships_of,
            self.0.id,
            Paging::new(first, after)?,
            Mentorship,
        )
        .await
    }
    /// How many contact persons the organisation has (that the caller may see), counted by
    /// the database.
    async fn contact_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(loaders(ctx)?
            .contact_counts
            .load_one(self.0.id)
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
    /// How many offerings the organisation has (that the caller may see), counted by the
    /// database.
    async fn offering_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(loaders(ctx)?
            .offering_counts
            .load_one(self.0.id)
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
    /// How many of the organisation's mentorships are in `status` (default `active`),
    /// counted by the database.
    async fn mentorship_count(&self, ctx: &Context<'_>, status: Option<String>) -> Result<u64> {
        let status = match status {
            Some(s) => MentorshipStatus::parse(&s).map_err(|r| super::invalid("status", r))?,
            None => MentorshipStatus::Active,
        };
        Ok(loaders(ctx)?
            .mentorship_counts
            .load_one((self.0.id, status))
            .await
            .map_err(gql)?
            .unwrap_or(0))
    }
    async fn fundings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Funding>> {
        many(
            &loaders(ctx)?.fundings_of,
            self.0.id,
            Paging::new(first, after)?,
            Funding,
        )
        .await
    }
    /// Cooperations the organisation leads or is a partner of.
    async fn cooperations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Cooperation>> {
        many(
            &loaders(ctx)?.cooperations_of,
            self.0.id,
            Paging::new(first, after)?,
            Cooperation,
        )
        .await
    }
    /// Committees the organisation sits on.
    async fn committees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Committee>> {
        many(
            &loaders(ctx)?.committees_of,
            self.0.id,
            Paging::new(first, after)?,
            Committee,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------
pub struct Contact(pub Record<ContactData>);

#[Object]
impl Contact {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Contact", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    async fn function(&self) -> Option<&str> {
        self.0.data.function.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.data.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.data.phone.as_deref()
    }
    async fn primary(&self) -> bool {
        self.0.data.primary
    }
    async fn topics(&self) -> &[String] {
        &self.0.data.topics
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Offering(pub Record<OfferingData>);

#[Object]
impl Offering {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Offering", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    async fn title(&self) -> &str {
        &self.0.data.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.data.description.as_deref()
    }
    /// `mentorship`, `language`, `counselling`, `education`, `employment`, `leisure`, `other`.
    async fn category(&self) -> &str {
        self.0.data.category.as_str()
    }
    async fn target_groups(&self) -> Vec<&str> {
        self.0
            .data
            .target_groups
            .iter()
            .map(|t| t.as_str())
            .collect()
    }
    /// ISO 639-1 codes.
    async fn languages(&self) -> &[String] {
        &self.0.data.languages
    }
    /// The networks the offering serves.
    async fn service_area(&self, ctx: &Context<'_>) -> Result<Vec<Network>> {
        let found = loaders(ctx)?
            .networks
            .load_many(self.0.data.service_area.iter().copied())
            .await
            .map_err(gql)?;
        Ok(self
            .0
            .data
            .service_area
            .iter()
            .filter_map(|id| found.get(id).cloned().map(Network))
            .collect())
    }
    async fn postcode(&self) -> Option<&str> {
        self.0.data.postcode.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.data.city.as_deref()
    }
    async fn capacity(&self) -> Option<i32> {
        self.0.data.capacity
    }
    async fn starts_on(&self) -> NaiveDate {
        self.0.data.period.start
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.data.period.end
    }
    async fn published(&self) -> bool {
        self.0.data.published
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Volunteer(pub Record<VolunteerData>);

#[Object]
impl Volunteer {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Volunteer", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    /// The organisation's pseudonymous reference; Verbund keeps no names of volunteers.
    async fn reference(&self) -> &str {
        &self.0.data.reference
    }
    /// How many mentorships the volunteer can carry at once.
    async fn capacity(&self) -> i32 {
        self.0.data.capacity
    }
    async fn languages(&self) -> &[String] {
        &self.0.data.languages
    }
    async fn active(&self) -> bool {
        self.0.data.active
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Staff(pub Record<StaffData>);

#[Object]
impl Staff {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Staff", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    async fn reference(&self) -> &str {
        &self.0.data.reference
    }
    async fn function(&self) -> Option<&str> {
        self.0.data.function.as_deref()
    }
    async fn weekly_hours(&self) -> i32 {
        self.0.data.weekly_hours
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Mentorship(pub Record<MentorshipData>);

#[Object]
impl Mentorship {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Mentorship", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    async fn offering(&self, ctx: &Context<'_>) -> Result<Option<Offering>> {
        one(&loaders(ctx)?.offerings, self.0.data.offering_id, Offering).await
    }
    async fn mentor(&self, ctx: &Context<'_>) -> Result<Option<Volunteer>> {
        one(&loaders(ctx)?.volunteers, self.0.data.mentor_id, Volunteer).await
    }
    /// The organisation's pseudonymous reference for the mentee.
    async fn mentee_ref(&self) -> Option<&str> {
        self.0.data.mentee_ref.as_deref()
    }
    /// `one_to_one` or `group`.
    async fn format(&self) -> &str {
        self.0.data.format.as_str()
    }
    async fn target_group(&self) -> &str {
        self.0.data.target_group.as_str()
    }
    /// `requested`, `matched`, `active`, `paused`, `ended` or `cancelled`.
    async fn status(&self) -> &str {
        self.0.data.status.as_str()
    }
    async fn requested_on(&self) -> NaiveDate {
        self.0.data.requested_on
    }
    async fn matched_on(&self) -> Option<NaiveDate> {
        self.0.data.matched_on
    }
    async fn started_on(&self) -> Option<NaiveDate> {
        self.0.data.started_on
    }
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.data.ended_on
    }
    async fn end_reason(&self) -> Option<&str> {
        self.0.data.end_reason.map(|r| r.as_str())
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Cooperation(pub Record<CooperationData>);

#[derive(SimpleObject)]
pub struct Partner {
    pub organisation_id: ID,
    pub role: String,
    pub resources: Option<String>,
}

#[Object]
impl Cooperation {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Cooperation", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn title(&self) -> &str {
        &self.0.data.title
    }
    async fn goal(&self) -> &str {
        &self.0.data.goal
    }
    /// The organisation that "wears the hat".
    async fn lead(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.lead_organisation_id),
            Organisation,
        )
        .await
    }
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.0.data.network_id),
            Network,
        )
        .await
    }
    async fn status(&self) -> &str {
        self.0.data.status.as_str()
    }
    async fn starts_on(&self) -> NaiveDate {
        self.0.data.period.start
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.data.period.end
    }
    async fn partners(&self) -> Vec<Partner> {
        self.0
            .data
            .partners
            .iter()
            .map(|p| Partner {
                organisation_id: global("Organisation", p.organisation_id),
                role: p.role.clone(),
                resources: p.resources.clone(),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Committee(pub Record<CommitteeData>);

#[Object]
impl Committee {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Committee", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    async fn purpose(&self) -> Option<&str> {
        self.0.data.purpose.as_deref()
    }
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(
            &loaders(ctx)?.networks,
            Some(self.0.data.network_id),
            Network,
        )
        .await
    }
    async fn member_organisation_ids(&self) -> Vec<ID> {
        self.0
            .data
            .members
            .iter()
            .filter_map(|m| {
                if let Member::Organisation(o) = m {
                    Some(global("Organisation", *o))
                } else {
                    None
                }
            })
            .collect()
    }
    async fn member_contact_ids(&self) -> Vec<ID> {
        self.0
            .data
            .members
            .iter()
            .filter_map(|m| {
                if let Member::Contact(c) = m {
                    Some(global("Contact", *c))
                } else {
                    None
                }
            })
            .collect()
    }
    async fn meetings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Meeting>> {
        many(
            &loaders(ctx)?.meetings_of,
            self.0.id,
            Paging::new(first, after)?,
            Meeting,
        )
        .await
    }
}

pub struct Meeting(pub Record<MeetingData>);

#[Object]
impl Meeting {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Meeting", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn committee(&self, ctx: &Context<'_>) -> Result<Option<Committee>> {
        one(
            &loaders(ctx)?.committees,
            Some(self.0.data.committee_id),
            Committee,
        )
        .await
    }
    async fn held_on(&self) -> NaiveDate {
        self.0.data.held_on
    }
    async fn topic(&self) -> &str {
        &self.0.data.topic
    }
    async fn outcome(&self) -> Option<&str> {
        self.0.data.outcome.as_deref()
    }
}

// ---------------------------------------------------------------------------------------
pub struct Funding(pub Record<FundingData>);

#[Object]
impl Funding {
    /// Opaque global id (see `node`).
    async fn id(&self, _ctx: &Context<'_>) -> Result<ID> {
        Ok(global("Funding", self.0.id))
    }
    /// The record's UUID, as the REST API and CSV files use it.
    async fn uuid(&self) -> Uuid {
        self.0.id
    }
    /// Optimistic concurrency: send it back with an update or delete.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            Some(self.0.data.organisation_id),
            Organisation,
        )
        .await
    }
    /// `federal`, `state`, `municipal`, `foundation` or `other`.
    async fn funder_kind(&self) -> &str {
        self.0.data.funder_kind.as_str()
    }
    async fn funder_name(&self) -> &str {
        &self.0.data.funder_name
    }
    async fn programme(&self) -> &str {
        &self.0.data.programme
    }
    /// Euro cents.
    async fn amount_cents(&self) -> i64 {
        self.0.data.amount_cents
    }
    async fn starts_on(&self) -> NaiveDate {
        self.0.data.period.start
    }
    async fn ends_on(&self) -> Option<NaiveDate> {
        self.0.data.period.end
    }
    /// The grant this funding passes on from (a programme partner's contingent).
    async fn passed_on_from_id(&self) -> Option<ID> {
        self.0.data.passed_on_from_id.map(|f| global("Funding", f))
    }
    /// For a contingent: the mentorships promised for the amount.
    async fn contingent_mentorships(&self) -> Option<i32> {
        self.0.data.contingent_mentorships
    }
    async fn external_id(&self) -> Option<&str> {
        self.0.data.external_id.as_deref()
    }
}

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
