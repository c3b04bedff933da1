//! Insights in the graph: overlapping offerings, overload, funding risks. They answer with
//! records of the graph (offerings, volunteers, organisations, fundings), so they live
//! beside the object types rather than in [`super::statistics`], which the types use.

use super::ids;
use super::page::{invalid, scoped};
use super::types::{Funding, Network, Offering, Organisation, Volunteer};
use crate::config::StatisticsConfig;
use crate::error::gql;
use async_graphql::{Context, ID, Result, SimpleObject};
use chrono::NaiveDate;
use std::collections::HashMap;
use uuid::Uuid;
use verbund_domain::Reason;
use verbund_persistence::Scoped;
use verbund_persistence::tables::*;

/// Two offerings that look like parallel structures.
#[derive(SimpleObject)]
pub struct Overlap {
    pub offering_a: Option<Offering>,
    pub offering_b: Option<Offering>,
    /// The region both serve.
    pub region: Option<Network>,
    pub category: String,
    /// The target groups both serve.
    pub target_groups: Vec<String>,
    /// Where the two periods overlap.
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    /// Why the pair is listed, in words.
    pub reason: String,
}

pub async fn overlaps(
    ctx: &Context<'_>,
    network: Option<ID>,
    first: Option<i32>,
) -> Result<Vec<Overlap>> {
    let s = scoped(ctx)?;
    let limit = paging(first)?;
    let path = match ids::uuid_opt(network.as_ref(), "Network", "network")? {
        Some(id) => Some(s.statistics_network(id).await.map_err(gql)?.path),
        None => None,
    };
    let pairs = s
        .overlaps(path.as_deref(), usize::try_from(limit).unwrap_or(50))
        .await
        .map_err(gql)?;
    let ids: Vec<Uuid> = pairs
        .iter()
        .flat_map(|p| [p.offering_a, p.offering_b])
        .collect();
    let offerings = by_id(s.get_many::<Offerings>(&ids).await.map_err(gql)?);
    let regions: Vec<Uuid> = pairs.iter().map(|p| p.region).collect();
    let networks = by_id(s.get_many::<Networks>(&regions).await.map_err(gql)?);
    Ok(pairs
        .into_iter()
        .map(|p| Overlap {
            reason: format!(
                "both offer {} for {} in the same region, {} to {}",
                p.category,
                p.target_groups.join(", "),
                p.from,
                p.until.map_or("open end".to_owned(), |u| u.to_string())
            ),
            offering_a: offerings.get(&p.offering_a).cloned().map(Offering::from),
            offering_b: offerings.get(&p.offering_b).cloned().map(Offering::from),
            region: networks.get(&p.region).cloned().map(Network::from),
            category: p.category,
            target_groups: p.target_groups,
            from: p.from,
            until: p.until,
        })
        .collect())
}

/// A volunteer with more current (matched, active, paused) mentorships than capacity.
#[derive(SimpleObject)]
pub struct OverloadedVolunteer {
    pub volunteer: Volunteer,
    pub capacity: i64,
    pub current: i64,
}

/// An organisation with more active mentorships per paid coordinator than configured.
#[derive(SimpleObject)]
pub struct OverloadedOrganisation {
    pub organisation: Organisation,
    pub active_mentorships: i64,
    /// Staff members (paid coordinators); 0 means none at all.
    pub coordinators: i64,
    /// Active mentorships per coordinator (null without any coordinator).
    pub per_coordinator: Option<f64>,
}

#[derive(SimpleObject)]
pub struct Overload {
    /// The configured limit of active mentorships per coordinator.
    pub limit_per_coordinator: i64,
    pub volunteers: Vec<OverloadedVolunteer>,
    pub organisations: Vec<OverloadedOrganisation>,
}

pub async fn overload(ctx: &Context<'_>, first: Option<i32>) -> Result<Overload> {
    let s = scoped(ctx)?;
    let limit = paging(first)?;
    let per = ctx.data::<StatisticsConfig>()?.mentorships_per_coordinator;
    let vols = s.overloaded_volunteers(limit).await.map_err(gql)?;
    let orgs = s.overloaded_organisations(per, limit).await.map_err(gql)?;
    let vol_records = by_id(
        s.get_many::<Volunteers>(&vols.iter().map(|v| v.volunteer).collect::<Vec<_>>())
            .await
            .map_err(gql)?,
    );
    let org_records = by_id(
        s.get_many::<Organisations>(&orgs.iter().map(|o| o.organisation).collect::<Vec<_>>())
            .await
            .map_err(gql)?,
    );
    Ok(Overload {
        limit_per_coordinator: per,
        volunteers: joined(
            vols,
            &vol_records,
            |v| v.volunteer,
            |v, r| OverloadedVolunteer {
                volunteer: Volunteer::from(r),
                capacity: v.capacity,
                current: v.current,
            },
        ),
        organisations: joined(
            orgs,
            &org_records,
            |o| o.organisation,
            |o, r| OverloadedOrganisation {
                organisation: Organisation::from(r),
                active_mentorships: o.active_mentorships,
                coordinators: o.coordinators,
                per_coordinator: (o.coordinators > 0)
                    .then(|| o.active_mentorships as f64 / o.coordinators as f64),
            },
        ),
    })
}

/// Each item with the record it names (`key`), made into `O`; an item whose record the
/// caller cannot read is left out.
fn joined<I, T: Clone, O>(
    items: Vec<I>,
    records: &HashMap<Uuid, verbund_domain::Record<T>>,
    key: impl Fn(&I) -> Uuid,
    make: impl Fn(I, verbund_domain::Record<T>) -> O,
) -> Vec<O> {
    items
        .into_iter()
        .filter_map(|i| records.get(&key(&i)).cloned().map(|r| make(i, r)))
        .collect()
}

fn by_id<T>(records: Vec<verbund_domain::Record<T>>) -> HashMap<Uuid, verbund_domain::Record<T>> {
    records.into_iter().map(|r| (r.id, r)).collect()
}

fn paging(first: Option<i32>) -> Result<u64> {
    let first = first.unwrap_or(50);
    let max = verbund_persistence::PageRequest::MAX_FIRST;
    if !(1..=max as i32).contains(&first) {
        return Err(invalid(
            "first",
            Reason::OutOfRange {
                min: 1,
                max: max as i64,
            },
        ));
    }
    Ok(u64::try_from(first).unwrap_or(50))
}

/// A funding that ends soon with no follow-up.
#[derive(SimpleObject)]
pub struct EndingFunding {
    pub funding: Funding,
    pub ends_on: NaiveDate,
    pub days_left: i64,
}

/// A contingent against the mentorships started in its period, down the funding chain.
#[derive(SimpleObject)]
pub struct ContingentProgress {
    pub funding: Funding,
    /// 0 for a grant received directly, 1 for one passed on once, …
    pub depth: i64,
    pub promised: i64,
    pub started: i64,
    /// Mentorships still missing (0 when met).
    pub shortfall: i64,
}

#[derive(SimpleObject)]
pub struct FundingRisks {
    pub within_days: i64,
    pub ending: Vec<EndingFunding>,
    pub contingents: Vec<ContingentProgress>,
}

pub async fn funding_risks(
    ctx: &Context<'_>,
    within_days: i32,
    first: Option<i32>,
) -> Result<FundingRisks> {
    if !(0..=3660).contains(&within_days) {
        return Err(invalid(
            "withinDays",
            Reason::OutOfRange { min: 0, max: 3660 },
        ));
    }
    let s: &Scoped = scoped(ctx)?;
    let limit = paging(first)?;
    let today = chrono::Utc::now().date_naive();
    let ending = s
        .fundings_ending(today, i64::from(within_days), limit)
        .await
        .map_err(gql)?;
    let contingents = s.contingents(limit).await.map_err(gql)?;
    Ok(FundingRisks {
        within_days: i64::from(within_days),
        ending: ending
            .into_iter()
            .filter_map(|f| {
                let ends = f.data.period.end?;
                Some(EndingFunding {
                    days_left: (ends - today).num_days(),
                    ends_on: ends,
                    funding: Funding::from(f),
                })
            })
            .collect(),
        contingents: contingents
            .into_iter()
            .map(|c| ContingentProgress {
                shortfall: (c.promised - c.started).max(0),
                depth: c.depth,
                promised: c.promised,
                started: c.started,
                funding: Funding::from(c.funding),
            })
            .collect(),
    })
}
