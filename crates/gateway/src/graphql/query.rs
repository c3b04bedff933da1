//! The query root.

use super::ids;
use super::page::{List, Paging, Total, invalid, list, scoped, total};
use super::types::*;
use crate::error::gql;
use crate::filters::*;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::NaiveDate;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::network::NetworkLevel;
use verbund_domain::policy::Anchor;
use verbund_persistence::tables::*;
use verbund_persistence::{Scoped, StoreError, Table, encode_cursor};

async fn get<T: Table, W>(
    ctx: &Context<'_>,
    id: &ID,
    kind: &str,
    wrap: fn(Record<T::Data>) -> W,
) -> Result<Option<W>> {
    match scoped(ctx)?.get::<T>(ids::uuid(id, kind, "id")?).await {
        Ok(r) => Ok(Some(wrap(r))),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(gql(e)),
    }
}

/// Who is calling.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Me {
    pub subject: String,
    pub role: String,
    #[graphql(skip)]
    network: Option<Uuid>,
    #[graphql(skip)]
    organisation: Option<Uuid>,
}

#[async_graphql::ComplexObject]
impl Me {
    /// The network a coordinator is scoped to.
    async fn network(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        one(&loaders(ctx)?.networks, self.network, Network::from).await
    }
    /// The organisation an org_admin or org_member is scoped to.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        one(
            &loaders(ctx)?.organisations,
            self.organisation,
            Organisation::from,
        )
        .await
    }
}

/// The query root: the records, statistics and the change feed ([`CoreQuery`]) and the
/// caller's webhook subscriptions.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(CoreQuery, super::webhooks::WebhookQuery);

#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// Counts and sums, grouped and filtered, computed by the database from aggregate
    /// tables. Measures: mentorships (by request month), mentorships_started,
    /// mentorships_ended, mentorships_active (at `activeAt`, a month end), volunteers,
    /// organisations, offerings, cooperations, funding. Groups: level, state, region,
    /// organisation_kind, programme_partner, category, target_group, status, end_reason,
    /// year, quarter, month. Callers who may not read the underlying records (ministry,
    /// public, organisations outside their own records) get the protected view: cells with
    /// a count from 1 to k−1 and the cells that would give them away are suppressed.
    /// Coordinators see exact figures for their subtree (their own network by default);
    /// `protected: true` shows anyone the protected view.
    #[allow(clippy::too_many_arguments)]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        measure: String,
        #[graphql(default)] group_by: Vec<String>,
        filter: Option<crate::statistics::Filters>,
        active_at: Option<NaiveDate>,
        #[graphql(
            desc = "With `activeAt`: a series, the stock at every month end from `activeAt` to this (at most 120), grouped by `month` first; each month as asked for alone"
        )]
        active_to: Option<NaiveDate>,
        #[graphql(desc = "Read a reporting snapshot instead of the live figures")] snapshot: Option<
            ID,
        >,
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
            None,
        )
        .await
    }

    /// The reporting snapshots, newest deadline first.
    async fn statistics_snapshots(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::statistics::SnapshotOut>> {
        Ok(scoped(ctx)?
            .snapshots()
            .await
            .map_err(crate::error::gql)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Parallel structures: published offerings of different organisations in the same
    /// region with the same category, a shared target group and overlapping periods.
    async fn overlaps(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only regions in this network's subtree")] network: Option<ID>,
        first: Option<i32>,
    ) -> Result<Vec<super::insights::Overlap>> {
        super::insights::overlaps(ctx, network, first).await
    }

    /// Volunteers above their capacity, and organisations with more active mentorships per
    /// paid coordinator than `statistics.mentorships_per_coordinator` (among the records
    /// the caller may read).
    async fn overload(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> Result<super::insights::Overload> {
        super::insights::overload(ctx, first).await
    }

    /// Fundings ending within `withinDays` with no follow-up, and every contingent against
    /// the mentorships actually started, at each level of the funding chain.
    async fn funding_risks(
        &self,
        ctx: &Context<'_>,
        within_days: i32,
        first: Option<i32>,
    ) -> Result<super::insights::FundingRisks> {
        super::insights::funding_risks(ctx, within_days, first).await
    }

    /// The caller, as the token names it (anonymous without a token).
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let c = scoped(ctx)?.caller();
        let (network, organisation) = match c.anchor {
            Anchor::Network(n) => (Some(n), None),
            Anchor::Organisation(o) => (None, Some(o)),
            Anchor::None => (None, None),
        };
        Ok(Me {
            subject: c.subject.clone(),
            role: c.role.as_str().to_owned(),
            network,
            organisation,
        })
    }

    /// Any record by its global id, if the caller may see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some((kind, uuid)) = ids::decode(&id) else {
            return Err(invalid(
                "id",
                verbund_domain::Reason::Malformed {
                    expected: "a global id",
                },
            ));
        };
        let s = scoped(ctx)?;
        async fn fetch<T: Table>(s: &Scoped, id: Uuid) -> Result<Option<Record<T::Data>>> {
            match s.get::<T>(id).await {
                Ok(r) => Ok(Some(r)),
                Err(StoreError::NotFound) => Ok(None),
                Err(e) => Err(gql(e)),
            }
        }
        Ok(match kind.as_str() {
            "Network" => fetch::<Networks>(s, uuid)
                .await?
                .map(|r| Node::Network(Network::from(r))),
            "Organisation" => fetch::<Organisations>(s, uuid)
                .await?
                .map(|r| Node::Organisation(Organisation::from(r))),
            "Contact" => fetch::<Contacts>(s, uuid)
                .await?
                .map(|r| Node::Contact(Contact::from(r))),
            "Offering" => fetch::<Offerings>(s, uuid)
                .await?
                .map(|r| Node::Offering(Offering::from(r))),
            "Volunteer" => fetch::<Volunteers>(s, uuid)
                .await?
                .map(|r| Node::Volunteer(Volunteer::from(r))),
            "Staff" => fetch::<StaffMembers>(s, uuid)
                .await?
                .map(|r| Node::Staff(Staff::from(r))),
            "Mentorship" => fetch::<Mentorships>(s, uuid)
                .await?
                .map(|r| Node::Mentorship(Mentorship::from(r))),
            "Cooperation" => fetch::<Cooperations>(s, uuid)
                .await?
                .map(|r| Node::Cooperation(Cooperation::from(r))),
            "Committee" => fetch::<Committees>(s, uuid)
                .await?
                .map(|r| Node::Committee(Committee::from(r))),
            "Meeting" => fetch::<Meetings>(s, uuid)
                .await?
                .map(|r| Node::Meeting(Meeting::from(r))),
            "Funding" => fetch::<Fundings>(s, uuid)
                .await?
                .map(|r| Node::Funding(Funding::from(r))),
            _ => None,
        })
    }

    /// The federal root network (the umbrella association).
    async fn federal(&self, ctx: &Context<'_>) -> Result<Option<Network>> {
        let filter = NetworkFilter {
            level: Some(NetworkLevel::Federal),
            ..Default::default()
        };
        let page = scoped(ctx)?
            .list::<Networks>(&filter, &Paging::new(Some(1), None)?.request())
            .await
            .map_err(gql)?;
        Ok(page.items.into_iter().next().map(Network::from))
    }

    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<NetworkFilterInput>,
    ) -> Result<List<Network>> {
        let filter = filter.unwrap_or_default().parse().map_err(gql)?;
        list::<Networks, _>(
            ctx,
            scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Network::from,
        )
        .await
    }

    async fn network(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Network>> {
        get::<Networks, _>(ctx, &id, "Network", Network::from).await
    }

    /// Organisations the caller may see; for anonymous callers and the ministry, the public
    /// directory (without street, e-mail, phone).
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OrganisationFilterInput>,
    ) -> Result<List<Organisation>> {
        let filter = filter.unwrap_or_default().parse().map_err(gql)?;
        let s = scoped(ctx)?;
        let paging = Paging::new(first, after)?;
        let total = total::<Organisations>(ctx, s, &filter).await?;
        let page = s
            .list::<Organisations>(&filter, &paging.request())
            .await
            .map_err(gql)?;
        prime_organisations(ctx, &page.items).await?;
        Ok(super::page::connection(
            &paging,
            page,
            total,
            Organisation::from,
        ))
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organisation>> {
        get::<Organisations, _>(ctx, &id, "Organisation", Organisation::from).await
    }

    async fn contacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OwnedFilterInput>,
    ) -> Result<List<Contact>> {
        list::<Contacts, _>(
            ctx,
            scoped(ctx)?,
            filter.unwrap_or_default().parse().map_err(gql)?,
            Paging::new(first, after)?,
            Contact::from,
        )
        .await
    }

    async fn offerings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OfferingFilterInput>,
    ) -> Result<List<Offering>> {
        list::<Offerings, _>(
            ctx,
            scoped(ctx)?,
            filter.unwrap_or_default().parse().map_err(gql)?,
            Paging::new(first, after)?,
            Offering::from,
        )
        .await
    }

    async fn offering(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Offering>> {
        get::<Offerings, _>(ctx, &id, "Offering", Offering::from).await
    }

    /// The welcome centre: published offerings, for anyone, without a token.
    #[allow(clippy::too_many_arguments)]
    async fn public_offerings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
        #[graphql(desc = "A postcode or its first digits")] postcode: Option<String>,
        #[graphql(desc = "Offerings serving this network or a network below it")] network: Option<
            ID,
        >,
        category: Option<String>,
        target_group: Option<String>,
        language: Option<String>,
    ) -> Result<List<Offering>> {
        let filter = OfferingFilterInput {
            search,
            postcode,
            serving: ids::uuid_opt(network.as_ref(), "Network", "network")?,
            category,
            target_group,
            language,
            published: Some(true),
            ..Default::default()
        }
        .parse()
        .map_err(gql)?;
        // Every role reads the public directory (the policy's OwnAndPublished), so the
        // caller's own scope with `published` is the welcome centre's list.
        list::<Offerings, _>(
            ctx,
            scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Offering::from,
        )
        .await
    }

    async fn volunteers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OwnedFilterInput>,
    ) -> Result<List<Volunteer>> {
        list::<Volunteers, _>(
            ctx,
            scoped(ctx)?,
            filter.unwrap_or_default().parse().map_err(gql)?,
            Paging::new(first, after)?,
            Volunteer::from,
        )
        .await
    }

    async fn staff(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OwnedFilterInput>,
    ) -> Result<List<Staff>> {
        list::<StaffMembers, _>(
            ctx,
            scoped(ctx)?,
            filter.unwrap_or_default().parse().map_err(gql)?,
            Paging::new(first, after)?,
            Staff::from,
        )
        .await
    }

    async fn mentorships(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<MentorshipFilterInput>,
    ) -> Result<List<Mentorship>> {
        let filter = filter.unwrap_or_default().parse().map_err(gql)?;
        list::<Mentorships, _>(
            ctx,
            scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Mentorship::from,
        )
        .await
    }

    async fn mentorship(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Mentorship>> {
        get::<Mentorships, _>(ctx, &id, "Mentorship", Mentorship::from).await
    }

    async fn cooperations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CooperationFilterInput>,
    ) -> Result<List<Cooperation>> {
        let filter = filter.unwrap_or_default().parse().map_err(gql)?;
        list::<Cooperations, _>(
            ctx,
            scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Cooperation::from,
        )
        .await
    }

    async fn committees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<CommitteeFilterInput>,
    ) -> Result<List<Committee>> {
        let filter = filter.unwrap_or_default().parse().map_err(gql)?;
        list::<Committees, _>(
            ctx,
            scoped(ctx)?,
            filter,
            Paging::new(first, after)?,
            Committee::from,
        )
        .await
    }

    async fn fundings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<OwnedFilterInput>,
    ) -> Result<List<Funding>> {
        list::<Fundings, _>(
            ctx,
            scoped(ctx)?,
            filter.unwrap_or_default().parse().map_err(gql)?,
            Paging::new(first, after)?,
            Funding::from,
        )
        .await
    }

    /// What changed after a cursor, in commit order, as far as the caller may read the
    /// records (the REST `GET /api/v1/changes` with `first` for `limit`): `after` a cursor,
    /// `now`, or none for the oldest change kept; `first` 1 to 1000 (default 100).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        types: Option<Vec<verbund_domain::policy::EntityKind>>,
    ) -> Result<crate::views::ChangesOut> {
        let types: Vec<String> = types
            .unwrap_or_default()
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        let req = verbund_persistence::changes::FeedRequest::parse(
            after.as_deref(),
            (first.map(i64::from), "first"),
            &types,
        )
        .map_err(gql)?;
        Ok(scoped(ctx)?.changes(&req).await.map_err(gql)?.into())
    }

    /// Audit events the caller may see, newest first.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        entity_id: Option<ID>,
    ) -> Result<List<AuditEvent>> {
        let paging = Paging::new(first, after)?;
        let entity = match entity_id {
            None => None,
            Some(raw) => Some(match ids::decode(&raw) {
                Some((_, u)) => u,
                None => Uuid::parse_str(&raw).map_err(|_| {
                    invalid(
                        "entityId",
                        verbund_domain::Reason::Malformed { expected: "an id" },
                    )
                })?,
            }),
        };
        let page = scoped(ctx)?
            .audit_events(entity, &paging.request())
            .await
            .map_err(gql)?;
        let mut c = Connection::with_additional_fields(
            paging.after.is_some(),
            page.has_next,
            Total {
                total_count: scoped(ctx)?.count_audit_events(entity).await.map_err(gql)?,
            },
        );
        c.edges.extend(
            page.items
                .into_iter()
                .map(|r| Edge::new(encode_cursor(r.id), AuditEvent(r))),
        );
        Ok(c)
    }

    // Federation: Network, Organisation and Offering are entities keyed by `id`.
    #[graphql(entity)]
    async fn find_network_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Network>> {
        get::<Networks, _>(ctx, &id, "Network", Network::from).await
    }

    #[graphql(entity)]
    async fn find_organisation_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Organisation>> {
        get::<Organisations, _>(ctx, &id, "Organisation", Organisation::from).await
    }

    #[graphql(entity)]
    async fn find_offering_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Offering>> {
        get::<Offerings, _>(ctx, &id, "Offering", Offering::from).await
    }
}
