//! Statistics, reporting snapshots and insights under `/api/v1`: the same functions as
//! GraphQL, the same policy.

use super::extract::{Body, Caller, Params, Split, Writer};
use super::problem::{Problem, responses::*};
use super::stat_formats::{table_records, table_sheets};
use crate::error::ApiError;
use crate::state::AppState;
use crate::statistics::{Filters, Request, SnapshotOut, Table};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use verbund_domain::Reason;
use verbund_domain::ValidationErrors;
use verbund_domain::insights::{Overlap, OverloadedOrganisation, OverloadedVolunteer};
use verbund_persistence::StoreError;

/// What a statistic counts (documentation of the path segment; the handler parses it).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MeasureName {
    Mentorships,
    MentorshipsStarted,
    MentorshipsEnded,
    MentorshipsActive,
    Volunteers,
    Organisations,
    Offerings,
    Cooperations,
    Funding,
}

/// A statistic's REST options; its filters are [`Filters`], shared with GraphQL.
#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatisticsParams {
    /// Comma-separated groups: level, state, region, organisation_kind, programme_partner,
    /// category, target_group, status, end_reason, year, quarter, month.
    pub group_by: Option<String>,
    /// For mentorships_active: the last day of a month.
    pub active_at: Option<NaiveDate>,
    /// For mentorships_active, with `activeAt`: a series in one answer, the stock at every
    /// month end from `activeAt` to this (the last day of a month; at most 120 month ends),
    /// grouped by `month` first. Each month's cells are exactly those of the same table
    /// asked for with that `activeAt` alone (so suppressed alike); the total is the last
    /// month's.
    pub active_to: Option<NaiveDate>,
    /// Read a reporting snapshot instead of the live figures.
    pub snapshot: Option<Uuid>,
    /// Show the protected view even where exact figures are allowed.
    pub protected: Option<bool>,
    /// `json` (default; or as the `Accept` header asks: `text/csv` is `csv`, the XLSX media
    /// type `xlsx`); `csv`, a table for German Excel (a BOM, `;`), `rfc4180`, plain CSV,
    /// or `xlsx`, an Excel workbook (the table, and a sheet `about` with the measure, the
    /// filters, the snapshot and what the symbols mean): one row per cell (the total last),
    /// each group's code and its name, the filters, the count (`.` where suppressed, as in
    /// official statistics) and why it is suppressed. For statistics offices: `jsonstat`
    /// (JSON-stat 2.0), `sdmx-csv` (SDMX-CSV 2.0; also by `Accept:
    /// application/vnd.sdmx.data+csv`), `datapackage` (a Frictionless Data Package: a zip
    /// of `datapackage.json` and the table as CSV, `.` declared a missing value).
    #[param(pattern = "^(json|csv|rfc4180|xlsx|jsonstat|sdmx-csv|datapackage)$")]
    pub format: Option<String>,
}

/// A JSON-stat 2.0 dataset (`format=jsonstat`): see <https://json-stat.org/format/>.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct JsonStatDataset {
    /// `2.0`.
    version: String,
    /// `dataset`.
    class: String,
    /// The dimensions, in order (`measure` last).
    id: Vec<String>,
    /// The number of categories of each dimension.
    size: Vec<u64>,
    /// Each dimension's categories and labels.
    #[schema(value_type = Object)]
    dimension: serde_json::Value,
    /// A value per combination of categories, row-major; `null` where suppressed.
    value: Vec<Option<i64>>,
    /// `.` at the position of each suppressed value.
    #[schema(value_type = Object)]
    status: serde_json::Value,
}

/// The JSON answer: the table, or with `format=jsonstat` a JSON-stat dataset.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum StatisticsJson {
    Table(Table),
    JsonStat(JsonStatDataset),
}

/// A statistic.
#[utoipa::path(get, path = "/api/v1/statistics/{measure}", tag = "statistics", params(
        ("measure" = MeasureName, Path, description = "What is counted"),
        StatisticsParams, Filters),
    description = "Every role, also without a token. federal_admin sees exact figures; coordinators exact figures inside their subtree (their own network by default); everyone else the protected view, where a cell with a count from 1 to k−1 and the cells that would give it away are suppressed. Computed by the database from aggregate tables. A protected table costs its cells times the tables of its lattice; above `statistics.max_cost` it is refused (400 `TOO_COMPLEX`), and a table that is not cached takes cost / `statistics.cost_per_token` from the caller's rate limit.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The table, its total and how it was produced (with `format=csv` or `rfc4180`: as CSV; `xlsx`, `jsonstat`, `sdmx-csv`, `datapackage`: in those formats)", content((StatisticsJson = "application/json"), (String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (String = "application/vnd.sdmx.data+csv"), (String = "application/zip"))),
        (status = 400, description = "Malformed parameters, or `TOO_COMPLEX`: too detailed for the protected view", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown measure or group, a group the measure does not have, a period not on month boundaries", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the rate limit (statistics count by their cost); see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        Unauthorized,
    ))]
pub async fn statistics(
    State(state): State<AppState>,
    Caller(s): Caller,
    Path(measure): Path<String>,
    charge: Option<axum::Extension<crate::rate::Charge>>,
    headers: axum::http::HeaderMap,
    Split(filters, p): Split<Filters, StatisticsParams>,
) -> Result<Response, ApiError> {
    let format = p
        .format
        .clone()
        .or_else(|| accepted(&headers).map(str::to_owned));
    let req = Request {
        measure,
        group_by: p
            .group_by
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        filters,
        active_at: p.active_at,
        active_to: p.active_to,
        snapshot: p.snapshot,
        protected: p.protected.unwrap_or(false),
    };
    let answer = crate::statistics::run(
        &s,
        state.config.statistics,
        &state.statistics,
        charge.as_ref().map(|c| &c.0),
        req,
    )
    .await?;
    let table = &answer.table;
    let excel = match format.as_deref() {
        None | Some("json") => {
            return Ok((
                [(
                    axum::http::header::CONTENT_TYPE,
                    axum::http::HeaderValue::from_static("application/json"),
                )],
                answer.json()?,
            )
                .into_response());
        }
        Some("csv") => true,
        Some("rfc4180") => false,
        Some("xlsx") => {
            let file = super::csv::xlsx_file(&table_sheets(table))?;
            return Ok(super::csv::xlsx_response(file, &table.measure));
        }
        Some("jsonstat") => {
            return Ok(axum::Json(super::stat_formats::json_stat(table)?).into_response());
        }
        Some("sdmx-csv") => {
            return Ok(file(
                super::stat_formats::sdmx_csv(table),
                SDMX_CSV,
                &format!("{}.csv", table.measure),
            ));
        }
        Some("datapackage") => {
            return Ok(file(
                super::stat_formats::data_package(table)?,
                "application/zip",
                &format!("{}-datapackage.zip", table.measure),
            ));
        }
        Some(other) => {
            return Err(super::problem::malformed(format!(
                "format `{other}` is not json, csv, rfc4180, xlsx, jsonstat, sdmx-csv or datapackage"
            )));
        }
    };
    Ok(file(
        super::csv::csv_file(&table_records(table), excel),
        "text/csv; charset=utf-8; header=present",
        &format!("{}.csv", table.measure),
    ))
}

/// The media type of SDMX-CSV 2.0.
const SDMX_CSV: &str = "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8";

/// A statistic as a file to save.
fn file(body: Vec<u8>, kind: &str, name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (axum::http::header::CONTENT_TYPE, kind.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The format an `Accept` header asks for when `format` is not given: the most wanted of
/// JSON, CSV (`text/csv`, for German Excel) and XLSX; `None` (JSON) for anything else.
fn accepted(headers: &axum::http::HeaderMap) -> Option<&'static str> {
    let accept = headers.get(axum::http::header::ACCEPT)?.to_str().ok()?;
    let mut wanted: Vec<(f32, usize, &'static str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(at, item)| {
            let mut parts = item.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let format = match media.as_str() {
                "application/json" => "json",
                "text/csv" => "csv",
                super::csv::XLSX => "xlsx",
                "application/vnd.sdmx.data+csv" => "sdmx-csv",
                _ => return None,
            };
            (q > 0.0).then_some((q, at, format))
        })
        .collect();
    // The highest quality first; between equals, the one named first.
    wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    wanted.first().map(|w| w.2)
}

/// The reporting snapshots, newest deadline first.
#[utoipa::path(get, path = "/api/v1/statistics/snapshots", tag = "statistics",
    description = "Every role, also without a token.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The snapshots", body = Vec<SnapshotOut>),
        Unauthorized,
    ))]
pub async fn snapshots(Caller(s): Caller) -> Result<Response, ApiError> {
    let list: Vec<SnapshotOut> = s.snapshots().await?.into_iter().map(Into::into).collect();
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SnapshotIn {
    /// The reporting deadline: the last day of a month, not in the future.
    pub as_of: NaiveDate,
    pub label: Option<String>,
}

/// Freeze the statistics at a reporting deadline.
#[utoipa::path(post, path = "/api/v1/statistics/snapshots", tag = "statistics", request_body = SnapshotIn,
    description = "Roles: federal_admin only. One snapshot per deadline; statistics name it with `snapshot=` and get exactly the frozen figures.",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The snapshot", body = SnapshotOut),
        (status = 409, description = "A snapshot for this deadline exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a month end, or in the future", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, Forbidden, BodyRefused,
    ))]
pub async fn create_snapshot(
    Writer(s): Writer,
    body: Body<SnapshotIn>,
) -> Result<Response, ApiError> {
    let b = body.value;
    let label = b.label.unwrap_or_else(|| format!("Stichtag {}", b.as_of));
    let snap: SnapshotOut = s.create_snapshot(b.as_of, &label).await?.into();
    Ok((StatusCode::CREATED, axum::Json(snap)).into_response())
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverlapParams {
    /// Only regions in this network's subtree.
    pub network: Option<Uuid>,
    /// How many entries, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub first: Option<u32>,
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverloadParams {
    /// How many entries of each list, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub first: Option<u32>,
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundingRiskParams {
    /// How many entries of each list, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub first: Option<u32>,
    /// Fundings ending within this many days, 0 to 3660 (default 90).
    #[param(minimum = 0, maximum = 3660)]
    pub within_days: Option<u32>,
}

fn first(first: Option<u32>) -> Result<u64, ApiError> {
    let f = first.unwrap_or(50);
    if !(1..=100).contains(&f) {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "first",
            Reason::OutOfRange { min: 1, max: 100 },
        ))
        .into());
    }
    Ok(u64::from(f))
}

/// Parallel structures: published offerings of different organisations in the same region
/// with the same category, a shared target group and overlapping periods.
#[utoipa::path(get, path = "/api/v1/insights/overlaps", tag = "insights", params(OverlapParams),
    description = "Every role, also without a token (published offerings are public).",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Pairs of offerings, by region", body = Vec<Overlap>),
        (status = 422, description = "An unknown network or `first` out of range", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn overlaps(
    Caller(s): Caller,
    Params(p): Params<OverlapParams>,
) -> Result<Response, ApiError> {
    let limit = first(p.first)?;
    let path = match p.network {
        Some(n) => Some(s.statistics_network(n).await?.path),
        None => None,
    };
    let out = s
        .overlaps(path.as_deref(), usize::try_from(limit).unwrap_or(50))
        .await?;
    Ok(axum::Json(out).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverloadOut {
    pub limit_per_coordinator: i64,
    pub volunteers: Vec<OverloadedVolunteer>,
    pub organisations: Vec<OverloadedOrganisation>,
}

/// Volunteers above capacity and organisations with too many active mentorships per paid
/// coordinator, among the records the caller may read.
#[utoipa::path(get, path = "/api/v1/insights/overload", tag = "insights", params(OverloadParams),
    description = "Roles that read volunteers, mentorships and staff (federal_admin, coordinators, organisations); others get empty lists.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Overloaded volunteers and organisations", body = OverloadOut),
        (status = 422, description = "`first` out of range", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn overload(
    State(state): State<AppState>,
    Caller(s): Caller,
    Params(p): Params<OverloadParams>,
) -> Result<Response, ApiError> {
    let limit = first(p.first)?;
    let per = state.config.statistics.mentorships_per_coordinator;
    let out = OverloadOut {
        limit_per_coordinator: per,
        volunteers: s.overloaded_volunteers(limit).await?,
        organisations: s.overloaded_organisations(per, limit).await?,
    };
    Ok(axum::Json(out).into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FundingRisksOut {
    pub within_days: u32,
    pub ending: Vec<EndingOut>,
    pub contingents: Vec<ContingentOut>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndingOut {
    pub funding: Uuid,
    pub organisation: Uuid,
    pub programme: String,
    pub ends_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContingentOut {
    pub funding: Uuid,
    pub organisation: Uuid,
    /// 0 for a grant received directly, 1 for one passed on once, …
    pub depth: i64,
    pub promised: i64,
    pub started: i64,
    pub shortfall: i64,
}

/// Fundings ending soon with no follow-up, and contingents against the mentorships started.
#[utoipa::path(get, path = "/api/v1/insights/funding-risks", tag = "insights", params(FundingRiskParams),
    description = "Roles that read fundings (federal_admin, coordinators, organisations); others get empty lists.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Ending fundings and contingents", body = FundingRisksOut),
        (status = 422, description = "`first` or `withinDays` out of range", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn funding_risks(
    Caller(s): Caller,
    Params(p): Params<FundingRiskParams>,
) -> Result<Response, ApiError> {
    let limit = first(p.first)?;
    let within = p.within_days.unwrap_or(90);
    if within > 3660 {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "withinDays",
            Reason::OutOfRange { min: 0, max: 3660 },
        ))
        .into());
    }
    let today = chrono::Utc::now().date_naive();
    let out = FundingRisksOut {
        within_days: within,
        ending: s
            .fundings_ending(today, i64::from(within), limit)
            .await?
            .into_iter()
            .map(|f| EndingOut {
                funding: f.id,
                organisation: f.data.organisation_id,
                programme: f.data.programme,
                ends_on: f.data.period.end,
            })
            .collect(),
        contingents: s
            .contingents(limit)
            .await?
            .into_iter()
            .map(|c| ContingentOut {
                funding: c.funding.id,
                organisation: c.funding.data.organisation_id,
                depth: c.depth,
                shortfall: (c.promised - c.started).max(0),
                promised: c.promised,
                started: c.started,
            })
            .collect(),
    };
    Ok(axum::Json(out).into_response())
}
