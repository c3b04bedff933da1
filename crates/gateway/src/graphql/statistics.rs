//! Statistics and reporting snapshots in the graph. The work is done by
//! [`crate::statistics`] (shared with REST) and the store; this file maps arguments. The
//! insights, which answer with records, are in [`super::insights`].

use super::page::{invalid, scoped};
use crate::config::StatisticsConfig;
use crate::error::gql;
use crate::statistics::{Filters, Request, SnapshotOut, Table};
use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;
use uuid::Uuid;
use verbund_domain::Reason;

#[allow(clippy::too_many_arguments)]
pub async fn statistics(
    ctx: &Context<'_>,
    measure: String,
    group_by: Vec<String>,
    filter: Option<Filters>,
    stock: (Option<NaiveDate>, Option<NaiveDate>),
    snapshot: Option<ID>,
    protected: bool,
    network: Option<Uuid>,
) -> Result<Table> {
    let (active_at, active_to) = stock;
    let mut filters = filter.unwrap_or_default();
    filters.network = network.or(filters.network);
    let config = *ctx.data::<StatisticsConfig>()?;
    let req = Request {
        measure,
        group_by,
        filters,
        active_at,
        active_to,
        snapshot: snapshot
            .map(|s| {
                Uuid::parse_str(&s).map_err(|_| {
                    invalid(
                        "snapshot",
                        Reason::Malformed {
                            expected: "a snapshot id",
                        },
                    )
                })
            })
            .transpose()?,
        protected,
    };
    let charge = ctx
        .data::<Option<crate::rate::Charge>>()
        .ok()
        .and_then(Option::as_ref);
    crate::statistics::run(
        scoped(ctx)?,
        config,
        ctx.data::<std::sync::Arc<crate::statistics::Cache>>()?,
        charge,
        req,
    )
    .await
    .map(|answer| answer.table.clone())
    .map_err(|e| async_graphql::ErrorExtensions::extend(&e))
}

/// `createStatisticsSnapshot`: federal_admin only.
#[derive(Default)]
pub struct SnapshotMutation;

#[Object]
impl SnapshotMutation {
    /// Freezes the statistics at a reporting deadline (the last day of a month, not in the
    /// future); statistics can then name the snapshot and get exactly these figures.
    /// federal_admin only; one snapshot per deadline.
    async fn create_statistics_snapshot(
        &self,
        ctx: &Context<'_>,
        as_of: NaiveDate,
        label: Option<String>,
    ) -> Result<SnapshotOut> {
        let label = label.unwrap_or_else(|| format!("Stichtag {as_of}"));
        Ok(scoped(ctx)?
            .create_snapshot(as_of, &label)
            .await
            .map_err(gql)?
            .into())
    }
}
