//! Statistics as both front doors serve them: parse the request, ask the policy which view
//! the caller gets, read the cells (computed by the database from the aggregate table),
//! protect them where the caller may not read the records, and label the rows.

use crate::config::StatisticsConfig;
use crate::error::{ApiError, Code};
use crate::rate::Charge;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashSet;
use uuid::Uuid;
use verbund_domain::error::Collector;
use verbund_domain::statistics::{
    Axis, CellId, Dimension, Flow, Lattice, MAX_PROTECTED_CELLS, Measure, Member, OwnerRead, Plan,
    Query, Refusal, Unprotected, Visibility, binding_cells, geo_home, protect_family,
    protect_member, protection_cost, with_regions,
};
use verbund_domain::{Reason, ValidationErrors};
use verbund_persistence::statistics::{Snapshot, Source};
use verbund_persistence::{Scoped, StoreError};

/// Filters of a statistic (REST: the same names as query parameters). Words as in the
/// records (`active`, `member`, `children`, …); for funding, `category` is the funder kind.
// One declaration for both doors: REST's query parameters, GraphQL's `filter:` argument.
#[derive(
    Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams, async_graphql::InputObject,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
#[graphql(name = "StatisticsFilter")]
pub struct Filters {
    /// Only this network's subtree (coordinators: their own network by default).
    pub network: Option<Uuid>,
    /// First day of a month. In the protected view `from`..`to` must cover exactly one
    /// month, quarter or year.
    pub from: Option<NaiveDate>,
    /// Last day of a month.
    pub to: Option<NaiveDate>,
    /// federal, state or regional: the level of the organisation's home network.
    pub level: Option<String>,
    pub organisation_kind: Option<String>,
    pub programme_partner: Option<Uuid>,
    /// For funding: the funder kind.
    pub category: Option<String>,
    pub target_group: Option<String>,
    pub status: Option<String>,
    pub end_reason: Option<String>,
}

/// A statistic as asked for, values still raw.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub measure: String,
    pub group_by: Vec<String>,
    pub filters: Filters,
    pub active_at: Option<NaiveDate>,
    /// With `active_at`: a series, the stock at every month end from `active_at` to this.
    pub active_to: Option<NaiveDate>,
    pub snapshot: Option<Uuid>,
    /// Ask for the protected view even where exact figures are allowed.
    pub protected: bool,
}

/// One dimension's value in a row (or a filter of the table).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "StatisticsKey")]
pub struct Key {
    /// `state`, `region`, `year`, `status`, … (for filters also `network`, `from`, `to`).
    pub dimension: String,
    /// The value: a network's or organisation's UUID, a period (`2025`, `2025-Q2`,
    /// `2025-06`), or a word (`active`, `member`, …).
    pub value: String,
    /// A name for people, in English: the network's or the programme partner's name, or
    /// the word's name (`young people` for `young_people`).
    pub label: Option<String>,
    /// The same in German (`Jugendliche`), the programme's language.
    pub label_de: Option<String>,
    /// A network's official code, for maps and other statistics: ISO 3166-2 for a state
    /// (`DE-BY`), the district key (Kreisschlüssel, `09162`) for a region, `DE` for the
    /// federal network.
    pub code: Option<String>,
}

impl Key {
    /// A key whose value is a word or a period, named by the domain's word lists.
    fn word(dimension: String, axis: Axis, value: &str) -> Key {
        let names = verbund_domain::statistics::labels::code_names(axis, value);
        Key {
            dimension,
            value: value.to_owned(),
            label: names.map(|(_, en)| en.to_owned()),
            label_de: names.map(|(de, _)| de.to_owned()),
            code: None,
        }
    }

    /// What a table shows people: the German name, else the value itself.
    pub fn readable(&self) -> String {
        self.label_de
            .clone()
            .or_else(|| self.label.clone())
            .unwrap_or_else(|| self.value.clone())
    }

    /// A key without a name (a date, an id given as a filter).
    fn bare(dimension: &str, value: String) -> Key {
        Key {
            dimension: dimension.to_owned(),
            value,
            label: None,
            label_de: None,
            code: None,
        }
    }
}

/// One cell.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "StatisticsRow")]
pub struct Row {
    /// The groups of this row, in the order of `groupBy`.
    pub keys: Vec<Key>,
    /// The filters that produced it (the same for every row of a table).
    pub filters: Vec<Key>,
    /// The count; null when suppressed.
    pub count: Option<i64>,
    /// The summed amount (funding: euro cents; volunteers and offerings: capacity); null
    /// when suppressed or when the measure sums nothing.
    pub amount: Option<i64>,
    pub suppressed: bool,
    /// `primary` (a count from 1 to k−1) or `secondary` (hidden so that no suppressed value
    /// can be recomputed from totals and siblings).
    pub suppression: Option<String>,
    /// Why, as a stable code: `small_count` (primary), `protects_line` (secondary: a
    /// suppressed cell of the same row or column could otherwise be recomputed from the
    /// shown total), `protects_system` (secondary: a suppressed cell could otherwise be
    /// recomputed from all the tables' rows and columns together),
    /// `protects_linked_measures` (secondary: a suppressed cell of another measure about
    /// the same mentorships — requested, started, ended, active at a year end — could
    /// otherwise be recomputed by combining the measures), `protects_from_insider`
    /// (secondary: a coordinator or organisation subtracting what it knows exactly would
    /// learn a small count about others), `earlier_release` (secondary: a reporting
    /// snapshot hid the same cell of the same period) or `protects_interval` (secondary:
    /// an attacker solving linear programmes over the shown cells would otherwise narrow a
    /// suppressed value below its protection interval, `statistics.intervals`).
    pub suppression_reason: Option<String>,
}

/// A frozen reporting snapshot.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "StatisticsSnapshot")]
pub struct SnapshotOut {
    pub id: Uuid,
    /// The reporting deadline (Stichtag): flows after it are not in the snapshot.
    pub as_of: NaiveDate,
    pub label: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Snapshot> for SnapshotOut {
    fn from(s: Snapshot) -> Self {
        SnapshotOut {
            id: s.id,
            as_of: s.as_of,
            label: s.label,
            created_at: s.created_at,
        }
    }
}

/// A statistic: its rows, its total, and how it was produced.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "StatisticsTable")]
pub struct Table {
    pub measure: String,
    /// The groups actually applied (a filter finer than a group raises it).
    pub group_by: Vec<String>,
    pub filters: Vec<Key>,
    /// Whether small cells are suppressed (the caller may not read the underlying records,
    /// or asked for the protected view).
    pub protected: bool,
    /// The smallest count shown in the protected view.
    pub k: Option<i64>,
    /// What `amount` sums, if anything.
    pub amount_of: Option<String>,
    pub snapshot: Option<SnapshotOut>,
    pub rows: Vec<Row>,
    /// The total of the selection (suppressed like any cell).
    pub total: Row,
}

fn word<T: Copy + std::fmt::Display>(
    c: &mut Collector,
    field: &str,
    raw: &Option<String>,
    parse: fn(&str) -> Result<T, Reason>,
) -> Option<String> {
    raw.as_ref()
        .and_then(|r| c.check(field, parse(r)).map(|v| v.to_string()))
}

/// Answered statistics of the current version of the cells, and the protected lattices
/// they were selected from. A table depends only on the request, the view (exact or
/// protected) and k — never on who asked — so one answer serves every caller who gets the
/// same view; a write changes the version and empties both. A protected lattice depends
/// only on the canonical table (measure, axes and levels, stock month, snapshot), not on
/// the filters that select rows from it, so changing a filter value costs no protection.
pub struct Cache {
    answers: std::sync::Mutex<Answers>,
    lattices: std::sync::Mutex<LatticeCache>,
    /// Protections run one at a time (each on a blocking thread), so that they never hold
    /// the server's async workers and never take more than one core between them.
    protecting: tokio::sync::Semaphore,
}

/// The cached answers of one version of the cells, and the rows they hold.
#[derive(Default)]
struct Answers {
    version: i64,
    rows: usize,
    entries: std::collections::HashMap<String, std::sync::Arc<Answer>>,
}

#[derive(Default)]
struct LatticeCache {
    version: i64,
    cells: usize,
    /// A protected lattice, or why the table was refused (so a refused table costs no
    /// second read).
    entries: std::collections::HashMap<String, Result<std::sync::Arc<Lattice>, String>>,
}

const CACHE_ENTRIES: usize = 512;
/// Rows held in cached answers, at most: a row costs some hundreds of bytes as a table and
/// as much again as JSON, so the answers stay within tens of megabytes whatever is asked.
const CACHE_ROWS: usize = 50_000;
/// Cells held in cached lattices, at most (about 100 bytes each).
const CACHE_CELLS: usize = 2_000_000;

impl Default for Cache {
    fn default() -> Self {
        Cache {
            answers: Default::default(),
            lattices: Default::default(),
            protecting: tokio::sync::Semaphore::new(1),
        }
    }
}

/// A statistic's answer: the table and, once a caller asked for JSON, the table as JSON, so
/// that a cached answer is serialised once, not once per request (the ministry's tables
/// run to a thousand rows; serialising them was most of a cached answer's cost).
pub struct Answer {
    pub table: Table,
    json: std::sync::OnceLock<axum::body::Bytes>,
}

impl Answer {
    pub fn new(table: Table) -> Self {
        Answer {
            table,
            json: std::sync::OnceLock::new(),
        }
    }

    /// The table as JSON (serialised on the first call).
    pub fn json(&self) -> Result<axum::body::Bytes, ApiError> {
        if let Some(json) = self.json.get() {
            return Ok(json.clone());
        }
        let json: axum::body::Bytes = serde_json::to_vec(&self.table)
            .map_err(|_| ApiError::new(Code::Internal, "internal error"))?
            .into();
        Ok(self.json.get_or_init(|| json).clone())
    }
}

impl Cache {
    fn get(&self, version: i64, key: &str) -> Option<std::sync::Arc<Answer>> {
        let guard = self.answers.lock().ok()?;
        let found = (guard.version == version)
            .then(|| guard.entries.get(key).cloned())
            .flatten();
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("verbund_statistics_cache_total", "result" => result).increment(1);
        found
    }

    fn put(&self, version: i64, key: String, answer: &std::sync::Arc<Answer>) {
        let rows = answer.table.rows.len() + 1;
        if rows > CACHE_ROWS {
            return;
        }
        if let Ok(mut guard) = self.answers.lock() {
            if guard.version != version
                || guard.entries.len() >= CACHE_ENTRIES
                || guard.rows + rows > CACHE_ROWS
            {
                *guard = Answers {
                    version,
                    ..Default::default()
                };
            }
            guard.rows += rows;
            guard.entries.insert(key, answer.clone());
        }
    }

    fn lattice(&self, version: i64, key: &str) -> Option<Result<std::sync::Arc<Lattice>, String>> {
        let guard = self.lattices.lock().ok()?;
        (guard.version == version)
            .then(|| guard.entries.get(key).cloned())
            .flatten()
    }

    fn put_lattice(
        &self,
        version: i64,
        key: String,
        lattice: Result<std::sync::Arc<Lattice>, String>,
    ) {
        let cells: usize = lattice
            .as_ref()
            .map_or(1, |l| l.tables.values().map(|t| t.len()).sum());
        if let Ok(mut guard) = self.lattices.lock() {
            if guard.version != version || guard.cells + cells > CACHE_CELLS {
                *guard = LatticeCache {
                    version,
                    ..Default::default()
                };
            }
            guard.cells += cells;
            guard.entries.insert(key, lattice);
        }
    }
}

/// The most month ends one series of stocks may name (ten years).
pub const MAX_SERIES_MONTHS: usize = 120;

/// Runs a statistic for the caller: one table, or with `active_to` a series of stocks.
pub async fn run(
    s: &Scoped,
    config: StatisticsConfig,
    cache: &std::sync::Arc<Cache>,
    charge: Option<&Charge>,
    req: Request,
) -> Result<std::sync::Arc<Answer>, ApiError> {
    match req.active_to {
        None => run_one(s, config, cache, charge, req).await,
        Some(to) => {
            let ends = series_ends(&req.measure, req.active_at, to)?;
            let mut tables = Vec::with_capacity(ends.len());
            for end in ends {
                let one = Request {
                    active_at: Some(end),
                    active_to: None,
                    ..req.clone()
                };
                tables.push(run_one(s, config, cache, charge, one).await?.table.clone());
            }
            Table::series(tables, req.active_at, to)
                .map(|t| std::sync::Arc::new(Answer::new(t)))
                .ok_or_else(|| ApiError::new(Code::Internal, "internal error"))
        }
    }
}

/// The month ends of a series from `from` to `to`: the measure a stock, both month ends,
/// in order, at most [`MAX_SERIES_MONTHS`].
fn series_ends(
    measure: &str,
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<NaiveDate>, ApiError> {
    use chrono::Datelike;
    let month_end = |d: NaiveDate| d.succ_opt().is_none_or(|n| n.month() != d.month());
    let mut c = Collector::default();
    if measure != Measure::MentorshipsActive.as_str() {
        c.push(
            "activeTo",
            Reason::Rule("applies only to the measure mentorships_active"),
        );
    }
    if !month_end(to) {
        c.push(
            "activeTo",
            Reason::Rule("must be the last day of a month (statistics are kept per month)"),
        );
    }
    match from {
        None => c.push("activeAt", Reason::Missing),
        Some(f) if to < f => c.push("activeTo", Reason::EndBeforeStart),
        Some(_) => {}
    }
    c.finish(|| Some(())).map_err(StoreError::Invalid)?;
    let Some(from) = from else {
        return Ok(Vec::new());
    };
    let mut ends = Vec::new();
    let mut month = from.with_day(1).unwrap_or(from);
    while month <= to {
        if ends.len() == MAX_SERIES_MONTHS {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "activeTo",
                Reason::Rule("a series names at most 120 month ends"),
            ))
            .into());
        }
        let next = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        ends.push(next.pred_opt().unwrap_or(month));
        month = next;
    }
    Ok(ends)
}

impl Table {
    /// The tables of a series of stocks, one per month end, as one table: `month` (the
    /// month at whose end the stock is counted) first among the groups; without other
    /// groups each month's total is its row. The total is the stock at the last month end.
    fn series(tables: Vec<Table>, from: Option<NaiveDate>, to: NaiveDate) -> Option<Table> {
        let mut filters: Vec<Key> = tables
            .first()
            .map(|t| t.filters.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.dimension != "activeAt")
            .collect();
        filters.extend(from.map(|f| Key::bare("activeAt", f.to_string())));
        filters.push(Key::bare("activeTo", to.to_string()));
        let month = |t: &Table| {
            t.filters
                .iter()
                .find(|f| f.dimension == "activeAt")
                .map(|f| f.value.get(..7).unwrap_or_default().to_owned())
                .unwrap_or_default()
        };
        let in_month = |row: &Row, m: &str| {
            let mut keys = vec![Key::bare("month", m.to_owned())];
            keys.extend(row.keys.iter().cloned());
            Row {
                keys,
                filters: filters.clone(),
                ..row.clone()
            }
        };
        let mut rows = Vec::new();
        let mut total = None;
        for t in &tables {
            let m = month(t);
            if t.group_by.is_empty() {
                rows.push(in_month(&t.total, &m));
            } else {
                rows.extend(t.rows.iter().map(|r| in_month(r, &m)));
            }
            total = Some(in_month(&t.total, &m));
        }
        let mut out = tables.into_iter().last()?;
        out.group_by.insert(0, "month".to_owned());
        out.rows = rows;
        out.total = total.unwrap_or(out.total);
        out.filters = filters;
        Some(out)
    }
}

/// Runs a statistic for the caller, from the cache where the cells have not changed. A
/// protected table that is not cached is charged to the caller's rate limit by its cost.
///
/// The computation runs as a task of its own, to its end even when the caller gives up
/// (hangs up, or its client times out): what it protects is cached for whoever asks next.
/// Otherwise impatient callers of a costly table would start it over and over, and never
/// see it finish.
async fn run_one(
    s: &Scoped,
    config: StatisticsConfig,
    cache: &std::sync::Arc<Cache>,
    charge: Option<&Charge>,
    req: Request,
) -> Result<std::sync::Arc<Answer>, ApiError> {
    // The subtree (a coordinator's own by default) and the view the policy gives for it.
    let network_id = req.filters.network.or_else(|| s.scope().statistics_home());
    let network = match network_id {
        Some(id) => Some(s.statistics_network(id).await?),
        None => None,
    };
    // An unknown measure is refused by the computation, naming the field.
    let exact = !req.protected
        && Measure::parse(&req.measure).is_ok_and(|m| {
            s.scope()
                .statistics_exact(m, network.as_ref().map_or("", |n| n.path.as_str()))
        });
    let view = View {
        network_id,
        network,
        exact,
    };
    let version = s.statistics_version().await?;
    // Frozen figures are cheap to recompute and would only crowd the live answers out.
    let key = req
        .snapshot
        .is_none()
        .then(|| format!("{exact}|{}|{network_id:?}|{req:?}", config.k));
    if let Some(t) = key.as_ref().and_then(|k| cache.get(version, k)) {
        return Ok(t);
    }
    let (s, cache, charge) = (s.clone(), cache.clone(), charge.cloned());
    let task = tokio::spawn(async move {
        let env = Env {
            config,
            cache: &cache,
            charge: charge.as_ref(),
            version,
        };
        let answer = std::sync::Arc::new(Answer::new(compute(&s, &env, view, req).await?));
        if let Some(key) = key {
            cache.put(version, key, &answer);
        }
        Ok(answer)
    });
    task.await
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?
}

/// What a computation needs besides the request.
struct Env<'a> {
    config: StatisticsConfig,
    cache: &'a Cache,
    charge: Option<&'a Charge>,
    version: i64,
}

fn too_costly(message: String) -> ApiError {
    ApiError {
        code: Code::TooComplex,
        message,
        fields: vec![(
            "groupBy".into(),
            "group by fewer dimensions or coarser levels".into(),
        )],
        retry_after: None,
    }
}

/// The protected lattice of the plan's canonical table: from the cache, or read and
/// protected within the cost budget and the time limit. The tables of the linked
/// mentorship measures by state and year come from their family ([`family_lattice`]).
async fn protected_lattice(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    source: Source,
) -> Result<std::sync::Arc<Lattice>, ApiError> {
    match family_flow(plan) {
        Some(flow) => family_lattice(s, env, plan, flow, source).await,
        None => lattice_alone(s, env, plan, source).await,
    }
}

/// [`protected_lattice`] for a table protected on its own.
async fn lattice_alone(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    source: Source,
) -> Result<std::sync::Arc<Lattice>, ApiError> {
    let k = env.config.k;
    let key = format!(
        "{k}|{source:?}|{:?}|{:?}|{:?}",
        plan.measure, plan.axes, plan.active_month
    );
    if let Some(l) = env.cache.lattice(env.version, &key) {
        return l.map_err(too_costly);
    }
    // What earlier releases hid stays hidden (computed before this table takes its turn:
    // their lattices take turns of their own).
    let bound = Box::pin(bound_by_releases(s, env, plan, source)).await?;
    let turn = || async {
        env.cache
            .protecting
            .acquire()
            .await
            .map_err(|_| ApiError::new(Code::Unavailable, "the server is shutting down"))
    };
    // One read and protection at a time; whoever waited for the same table finds it cached.
    let read = turn().await?;
    if let Some(l) = env.cache.lattice(env.version, &key) {
        return l.map_err(too_costly);
    }
    let limit = std::time::Duration::from_millis(env.config.time_limit_ms);
    // Read first: a table too costly to protect is refused before its coarser tables are.
    let member = match read_member(
        s,
        env,
        plan,
        source,
        (std::time::Instant::now(), limit),
        Flow::Requested,
        bound,
    )
    .await
    {
        Ok(m) => m,
        Err(Refused::Costly(message)) => {
            env.cache
                .put_lattice(env.version, key.clone(), Err(message.clone()));
            return Err(too_costly(message));
        }
        Err(Refused::Failed(e)) => return Err(e),
    };
    drop(read);
    // Each coarser table's cells keep the status its own lattice gave them (their lattices
    // take turns of their own).
    let fixed = fixed_by_coarser_tables(s, env, plan, source).await?;
    let member = Member { fixed, ..member };
    let _protect = turn().await?;
    if let Some(l) = env.cache.lattice(env.version, &key) {
        return l.map_err(too_costly);
    }
    let deadline = std::time::Instant::now() + limit;
    let lattice = tokio::task::spawn_blocking(move || protect_member(&member, k, Some(deadline)))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    let lattice = match lattice {
        Ok(l) => std::sync::Arc::new(l),
        Err(why) => {
            let message = refusal_message(why, limit);
            env.cache
                .put_lattice(env.version, key, Err(message.clone()));
            return Err(too_costly(message));
        }
    };
    env.cache.put_lattice(env.version, key, Ok(lattice.clone()));
    Ok(lattice)
}

/// Why a protected table is not shown, in the words of the 400 `TOO_COMPLEX` problem.
fn refusal_message(why: Refusal, limit: std::time::Duration) -> String {
    match why {
        Refusal::Revealing => "this statistic cannot be shown in the protected view: \
            together with the coarser tables it would reveal a small count"
            .to_owned(),
        Refusal::OutOfTime => format!(
            "this statistic could not be read and protected within {} ms",
            limit.as_millis()
        ),
    }
}

/// The statuses of the cells of every coarser table of the plan's canonical table, as
/// their own lattices give them: the tables one level coarser on one axis (an axis at
/// level 0 left out), whose lattices hold all coarser tables. So a cell has one status
/// whichever query shows it, and the order in which tables are asked for does not matter.
async fn fixed_by_coarser_tables(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    source: Source,
) -> Result<std::collections::HashMap<CellId, Visibility>, ApiError> {
    let mut fixed = std::collections::HashMap::new();
    for i in 0..plan.axes.len() {
        let mut coarser = plan.clone();
        coarser.axes[i].1 -= 1;
        coarser.axes.retain(|(_, l)| *l > 0);
        coarser.output = coarser.axes.clone();
        coarser.filters = Vec::new();
        coarser.months = None;
        // A coarser table too costly to protect makes this one too costly as well.
        let lattice = Box::pin(protected_lattice(s, env, &coarser, source)).await?;
        // Its cells, keyed on this table's axes (a left-out axis at "all").
        let pos: Vec<Option<usize>> = plan
            .axes
            .iter()
            .map(|(a, _)| coarser.axes.iter().position(|(b, _)| a == b))
            .collect();
        for (levels, table) in &lattice.tables {
            let levels: Vec<u8> = pos.iter().map(|p| p.map_or(0, |p| levels[p])).collect();
            for (key, cell) in table {
                let key: Vec<String> = pos
                    .iter()
                    .map(|p| p.map_or_else(String::new, |p| key[p].clone()))
                    .collect();
                fixed.insert((levels.clone(), key), cell.visibility);
            }
        }
    }
    Ok(fixed)
}

/// Why a table is not protected: too costly (remembered like an answer) or a failure.
enum Refused {
    Costly(String),
    Failed(ApiError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Failed(e.into())
    }
}

/// Reads what protecting the plan's canonical table needs, within the time limit counted
/// from `started`, and charges its cost: the cells, the same cells by region (each cell's
/// part inside each coordinator's subtree, so that no coordinator learns about the others
/// by subtracting its own exact figures) and by owner (each organisation's part, so that no
/// organisation learns about the others by subtracting its own records).
async fn read_member(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    source: Source,
    (started, limit): (std::time::Instant, std::time::Duration),
    flow: Flow,
    bound: HashSet<CellId>,
) -> Result<Member, Refused> {
    let unread = || {
        Refused::Costly(format!(
            "this statistic could not be read within {} ms",
            limit.as_millis()
        ))
    };
    let left = || limit.saturating_sub(started.elapsed());
    let Some(cells) = s.statistic_cells_to_protect(plan, source, left()).await? else {
        // The read took the whole time limit: it costs as much as the dearest table.
        if let Some(c) = env.charge {
            let _ = c.take(env.config.max_cost as f64 / env.config.cost_per_token as f64);
        }
        return Err(unread());
    };
    let (breakdown, owners) = if plan.measure.describes_people() {
        let mut wide = plan.clone();
        wide.axes = with_regions(&plan.axes);
        let Some(breakdown) = s.statistic_cells_to_protect(&wide, source, left()).await? else {
            return Err(unread());
        };
        let families = s.statistic_families().await?;
        let read = OwnerRead::plan(&plan.axes, env.config.k, &cells, &breakdown, &families);
        let Some(owners) = s
            .statistic_owner_cells_to_protect(plan, source, left(), &read)
            .await?
        else {
            return Err(unread());
        };
        (breakdown, owners)
    } else {
        (Unprotected::default(), Unprotected::default())
    };
    let cost = protection_cost(&plan.axes, cells.len() + breakdown.len() + owners.len());
    if cells.len() > MAX_PROTECTED_CELLS || cost > env.config.max_cost {
        let tables: u64 = plan.axes.iter().map(|(_, l)| u64::from(*l) + 1).product();
        return Err(Refused::Costly(format!(
            "this statistic is too detailed for the protected view: {} cells over {tables} tables cost {cost} to protect, at most {} are allowed",
            cells.len(),
            env.config.max_cost
        )));
    }
    if let Some(c) = env.charge {
        let tokens = (cost as f64 / env.config.cost_per_token as f64).max(1.0);
        c.take(tokens).map_err(|wait| {
            Refused::Failed(crate::rate::rate_limited(
                wait,
                "(statistics count by their cost)",
            ))
        })?;
    }
    Ok(Member {
        flow,
        axes: plan.axes.clone(),
        finest: cells,
        bound,
        breakdown,
        owners,
        fixed: std::collections::HashMap::new(),
        ranges: env.config.intervals,
    })
}

/// The axes of the family's tables: mentorships (requested) by state, status and year, those
/// started and ended by state and year, the stocks by state. (In the protected view only
/// `mentorships` is split by status: [`Measure::split_by_status`].)
const FAMILY_REQUESTED_AXES: [(Axis, u8); 3] =
    [(Axis::Geo, 1), (Axis::Status, 1), (Axis::Period, 1)];
const FAMILY_FLOW_AXES: [(Axis, u8); 2] = [(Axis::Geo, 1), (Axis::Period, 1)];
const FAMILY_STOCK_AXES: [(Axis, u8); 1] = [(Axis::Geo, 1)];

/// Which member of the mentorship family answers the plan, if one does: the flows
/// (requested, started, ended) by state and year or coarser (the requested also by status),
/// and the stock at a year end by state or in total.
fn family_flow(plan: &Plan) -> Option<Flow> {
    let within = |allowed: &[(Axis, u8)]| {
        plan.axes
            .iter()
            .all(|(a, l)| allowed.iter().any(|(b, m)| a == b && l <= m))
    };
    match plan.measure {
        Measure::Mentorships if within(&FAMILY_REQUESTED_AXES) => Some(Flow::Requested),
        Measure::MentorshipsStarted if within(&FAMILY_FLOW_AXES) => Some(Flow::Started),
        Measure::MentorshipsEnded if within(&FAMILY_FLOW_AXES) => Some(Flow::Ended),
        Measure::MentorshipsActive if within(&FAMILY_STOCK_AXES) => plan
            .active_month
            .as_deref()
            .and_then(|m| m.strip_suffix("-12"))
            .map(|y| Flow::ActiveAtYearEnd(y.to_owned())),
        _ => None,
    }
}

/// The plan of a family member.
fn member_plan(flow: &Flow) -> Plan {
    let (measure, axes, active_month) = match flow {
        Flow::Requested => (Measure::Mentorships, FAMILY_REQUESTED_AXES.to_vec(), None),
        Flow::Started => (Measure::MentorshipsStarted, FAMILY_FLOW_AXES.to_vec(), None),
        Flow::Ended => (Measure::MentorshipsEnded, FAMILY_FLOW_AXES.to_vec(), None),
        Flow::ActiveAtYearEnd(y) => (
            Measure::MentorshipsActive,
            FAMILY_STOCK_AXES.to_vec(),
            Some(format!("{y}-12")),
        ),
    };
    Plan {
        measure,
        output: axes.clone(),
        axes,
        filters: Vec::new(),
        months: None,
        active_month,
        protected: true,
    }
}

/// The lattice of a family member, on the plan's axes: the four linked measures by state
/// and year (the stock at every year end that has passed) are read and protected together
/// ([`protect_family`]) once per data version, and each member's lattice is cached.
async fn family_lattice(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    flow: Flow,
    source: Source,
) -> Result<std::sync::Arc<Lattice>, ApiError> {
    let k = env.config.k;
    let family_key = format!("family|{k}|{source:?}");
    let key = |flow: &Flow| format!("{family_key}|{flow:?}");
    let project =
        |l: Result<std::sync::Arc<Lattice>, String>| -> Result<std::sync::Arc<Lattice>, ApiError> {
            let l = l.map_err(too_costly)?;
            Ok(std::sync::Arc::new(project_lattice(
                &l,
                &member_plan(&flow).axes,
                &plan.axes,
            )))
        };
    if let Some(l) = env.cache.lattice(env.version, &key(&flow)) {
        return project(l);
    }
    if let Some(Err(message)) = env.cache.lattice(env.version, &family_key) {
        return Err(too_costly(message));
    }
    let today = chrono::Utc::now().date_naive();
    let last_year_end = today
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap_or(2000)
        - 1;
    // The stock at the end of every year since the first request that has passed.
    let limit = std::time::Duration::from_millis(env.config.time_limit_ms);
    let first_year = s
        .statistic_cells_to_protect(&member_plan(&Flow::Requested), source, limit)
        .await?
        .unwrap_or_default()
        .first_year(
            FAMILY_REQUESTED_AXES
                .iter()
                .position(|(a, _)| *a == Axis::Period)
                .unwrap_or_default(),
        )
        .unwrap_or(last_year_end + 1);
    let mut flows = vec![Flow::Requested, Flow::Started, Flow::Ended];
    flows.extend((first_year..=last_year_end).map(|y| Flow::ActiveAtYearEnd(y.to_string())));
    if !flows.contains(&flow) {
        // A stock at a year end the family does not hold (before the first record, or one
        // that has not passed) is protected on its own.
        return Box::pin(lattice_alone(s, env, plan, source)).await;
    }
    // Earlier releases bind each member (their lattices take turns of their own).
    let mut bounds = Vec::new();
    for f in &flows {
        bounds.push(Box::pin(bound_by_releases(s, env, &member_plan(f), source)).await?);
    }
    let _turn = env
        .cache
        .protecting
        .acquire()
        .await
        .map_err(|_| ApiError::new(Code::Unavailable, "the server is shutting down"))?;
    if let Some(l) = env.cache.lattice(env.version, &key(&flow)) {
        return project(l);
    }
    let started = std::time::Instant::now();
    // The family is read and protected once per data version for every caller (requests
    // meanwhile wait for its turn), so reading and protecting it share a limit of its own.
    let limit = std::time::Duration::from_millis(env.config.family_time_limit_ms);
    let refuse = |message: String| {
        env.cache
            .put_lattice(env.version, family_key.clone(), Err(message.clone()));
        too_costly(message)
    };
    let mut members = Vec::new();
    for (f, bound) in flows.iter().zip(bounds) {
        match read_member(
            s,
            env,
            &member_plan(f),
            source,
            (started, limit),
            f.clone(),
            bound,
        )
        .await
        {
            Ok(m) => members.push(m),
            Err(Refused::Costly(message)) => return Err(refuse(message)),
            Err(Refused::Failed(e)) => return Err(e),
        }
    }
    let deadline = started + limit;
    let lattices = tokio::task::spawn_blocking(move || protect_family(members, k, Some(deadline)))
        .await
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?
        .map_err(|why| refuse(refusal_message(why, limit)))?;
    let mut mine = None;
    for (f, l) in flows.iter().zip(lattices) {
        let l = std::sync::Arc::new(l);
        if *f == flow {
            mine = Some(l.clone());
        }
        env.cache.put_lattice(env.version, key(f), Ok(l));
    }
    match mine {
        Some(l) => project(Ok(l)),
        None => Err(ApiError::new(Code::Internal, "internal error")),
    }
}

/// A family member's lattice seen on the plan's axes (a subset of the member's, at levels
/// no finer): the tables whose other axes are at "all".
fn project_lattice(member: &Lattice, member_axes: &[(Axis, u8)], axes: &[(Axis, u8)]) -> Lattice {
    let pos: Vec<usize> = axes
        .iter()
        .filter_map(|(a, _)| member_axes.iter().position(|(b, _)| a == b))
        .collect();
    let mut tables = std::collections::HashMap::new();
    for (levels, table) in &member.tables {
        let others_all = (0..levels.len()).all(|i| pos.contains(&i) || levels[i] == 0);
        let within = pos.iter().zip(axes).all(|(i, (_, top))| levels[*i] <= *top);
        if !others_all || !within {
            continue;
        }
        let new_levels: Vec<u8> = pos.iter().map(|i| levels[*i]).collect();
        let cells = table
            .iter()
            .map(|(key, cell)| (pos.iter().map(|i| key[*i].clone()).collect(), *cell))
            .collect();
        tables.insert(new_levels, cells);
    }
    Lattice {
        axes: axes.iter().map(|(a, _)| *a).collect(),
        tables,
    }
}

/// The cells of the plan's canonical table that reporting snapshots taken before `source`
/// (every snapshot, for the live figures) hid for a period that had ended by their
/// deadline: a later answer about the same period hides them too.
async fn bound_by_releases(
    s: &Scoped,
    env: &Env<'_>,
    plan: &Plan,
    source: Source,
) -> Result<HashSet<CellId>, ApiError> {
    let snapshots = s.snapshots().await?;
    let before = match source {
        Source::Live => None,
        Source::Snapshot(id) => snapshots.iter().find(|x| x.id == id).map(|x| x.created_at),
    };
    let mut out = HashSet::new();
    for snap in &snapshots {
        if before.is_some_and(|b| snap.created_at >= b) {
            continue;
        }
        let month = snap.as_of.format("%Y-%m").to_string();
        let whole = plan
            .active_month
            .as_deref()
            .is_some_and(|m| m <= month.as_str());
        let lattice = protected_lattice(s, env, plan, Source::Snapshot(snap.id)).await?;
        out.extend(binding_cells(&lattice, &month, whole));
    }
    Ok(out)
}

/// The subtree a statistic is about and whether the caller sees it exactly.
struct View {
    network_id: Option<Uuid>,
    network: Option<verbund_domain::statistics::NetworkFilter>,
    exact: bool,
}

/// Computes a statistic for the caller.
async fn compute(s: &Scoped, env: &Env<'_>, view: View, req: Request) -> Result<Table, ApiError> {
    use verbund_domain::mentorship::{EndReason, MentorshipStatus};
    use verbund_domain::network::NetworkLevel;
    use verbund_domain::offering::{Category, TargetGroup};
    use verbund_domain::organisation::OrganisationKind;
    let mut c = Collector::new();
    let measure = c.check("measure", Measure::parse(&req.measure));
    let mut groups = Vec::new();
    for g in &req.group_by {
        if let Some(d) = c.check("groupBy", Dimension::parse(g)) {
            groups.push(d);
        }
    }
    let mut equals = Vec::new();
    let mut eq = |axis: Axis, v: Option<String>| {
        if let Some(v) = v {
            equals.push((axis, v));
        }
    };
    eq(
        Axis::Level,
        word(&mut c, "level", &req.filters.level, NetworkLevel::parse),
    );
    eq(
        Axis::OrganisationKind,
        word(
            &mut c,
            "organisationKind",
            &req.filters.organisation_kind,
            OrganisationKind::parse,
        ),
    );
    // A status filter means the measure's own statuses: mentorship statuses, or the words
    // the other measures use (published/draft, active/inactive, cooperation statuses).
    let status = match (measure, &req.filters.status) {
        (
            Some(
                Measure::Mentorships
                | Measure::MentorshipsStarted
                | Measure::MentorshipsEnded
                | Measure::MentorshipsActive,
            ),
            Some(_),
        ) => word(
            &mut c,
            "status",
            &req.filters.status,
            MentorshipStatus::parse,
        ),
        (_, s) => s.clone(),
    };
    eq(Axis::Status, status);
    let category = match (measure, &req.filters.category) {
        (Some(Measure::Funding | Measure::FundingPassedOn), s) => s.clone(),
        _ => word(&mut c, "category", &req.filters.category, Category::parse),
    };
    eq(Axis::Category, category);
    eq(
        Axis::TargetGroup,
        word(
            &mut c,
            "targetGroup",
            &req.filters.target_group,
            TargetGroup::parse,
        ),
    );
    eq(
        Axis::EndReason,
        word(
            &mut c,
            "endReason",
            &req.filters.end_reason,
            EndReason::parse,
        ),
    );
    eq(
        Axis::ProgrammePartner,
        req.filters.programme_partner.map(|u| u.to_string()),
    );
    c.finish(|| Some(())).map_err(StoreError::Invalid)?;
    let View {
        network_id,
        network,
        exact,
    } = view;
    let query = Query {
        measure,
        groups,
        network: network.clone(),
        from: req.filters.from,
        to: req.filters.to,
        equals,
        active_at: req.active_at,
    };
    let plan = query.plan(!exact).map_err(StoreError::Invalid)?;
    let (source, snapshot) = match req.snapshot {
        Some(id) => {
            let snap = s.snapshot(id).await.map_err(|e| match e {
                StoreError::NotFound => StoreError::Invalid(ValidationErrors::single(
                    "snapshot",
                    Reason::Rule("does not exist"),
                )),
                e => e,
            })?;
            (Source::Snapshot(id), Some(SnapshotOut::from(snap)))
        }
        None => (Source::Live, None),
    };
    let (rows, total) = if exact {
        let cells = s.statistic_cells(&plan, source).await?;
        let total = cells.iter().fold((0, 0), |(c, a), r| (c + r.1, a + r.2));
        let rows: Vec<(Vec<String>, i64, i64, Visibility)> = cells
            .into_iter()
            .map(|(k, c, a)| (k, c, a, Visibility::Shown))
            .collect();
        (rows, (total.0, total.1, Visibility::Shown))
    } else {
        let lattice = protected_lattice(s, env, &plan, source).await?;
        let top: Vec<u8> = plan.axes.iter().map(|(_, l)| *l).collect();
        let mut rows = Vec::new();
        if let Some(t) = lattice.tables.get(&top) {
            for (key, cell) in t {
                if plan.selects(key) {
                    rows.push((key.clone(), cell.count, cell.amount, cell.visibility));
                }
            }
        }
        let total = lattice
            .cell(&plan.total_levels(), &plan.total_key())
            .map_or((0, 0, Visibility::Shown), |c| {
                (c.count, c.amount, c.visibility)
            });
        (rows, total)
    };
    Ok(render(
        s,
        env.config.k,
        &plan,
        &req,
        network_id,
        snapshot,
        rows,
        total,
    )
    .await?)
}

type Cells = Vec<(Vec<String>, i64, i64, Visibility)>;

#[allow(clippy::too_many_arguments)]
async fn render(
    s: &Scoped,
    k: i64,
    plan: &Plan,
    req: &Request,
    network_id: Option<Uuid>,
    snapshot: Option<SnapshotOut>,
    rows: Cells,
    total: (i64, i64, Visibility),
) -> Result<Table, StoreError> {
    // Rows keep only the shown groups (the selection fixed the other axes), in the order
    // the caller named them.
    let asked = |axis: Axis| {
        req.group_by
            .iter()
            .position(|g| Dimension::parse(g).is_ok_and(|d| d.axis_level().0 == axis))
            .unwrap_or(usize::MAX)
    };
    let mut order: Vec<usize> = (0..plan.output.len()).collect();
    order.sort_by_key(|i| asked(plan.output[*i].0));
    let output: Vec<(Axis, u8)> = order.iter().map(|i| plan.output[*i]).collect();
    let mut rows: Vec<(Vec<String>, i64, i64, Visibility)> = rows
        .into_iter()
        .map(|(key, c, a, v)| {
            let projected = plan.project(&key);
            (
                order.iter().map(|i| projected[*i].clone()).collect(),
                c,
                a,
                v,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut paths: HashSet<String> = HashSet::new();
    let mut partners: HashSet<Uuid> = HashSet::new();
    for (key, ..) in &rows {
        for ((axis, _), v) in output.iter().zip(key) {
            match axis {
                Axis::Geo => {
                    paths.insert(geo_home(v).0.to_owned());
                }
                Axis::ProgrammePartner => {
                    if let Ok(u) = Uuid::parse_str(v) {
                        partners.insert(u);
                    }
                }
                _ => {}
            }
        }
    }
    let (networks, orgs) = s
        .statistic_labels(
            &paths.into_iter().collect::<Vec<_>>(),
            &partners.into_iter().collect::<Vec<_>>(),
        )
        .await?;
    let key_of = |axis: Axis, level: u8, v: &str| -> Key {
        let dimension = Dimension::of(axis, level)
            .map_or("", |d| d.as_str())
            .to_owned();
        match axis {
            // The organisations at a network's own level (the federal network in a table
            // by state, a state's own organisations in a table by region) are a row of
            // their own, named after the network and its level.
            Axis::Geo => {
                let (home, own) = geo_home(v);
                match networks.get(home) {
                    Some((id, name, level, code)) => {
                        let (en, de) = match (own, level.as_str()) {
                            (false, _) => (name.clone(), name.clone()),
                            (true, "federal") => (
                                format!("{name} (federal level, no state)"),
                                format!("{name} (Bundesebene, ohne Land)"),
                            ),
                            (true, _) => (
                                format!("{name} ({level} level, no region)"),
                                format!("{name} (Landesebene, ohne Region)"),
                            ),
                        };
                        Key {
                            dimension,
                            value: id.to_string(),
                            label: Some(en),
                            label_de: Some(de),
                            code: Some(code.clone()),
                        }
                    }
                    None => Key::bare(&dimension, v.to_owned()),
                }
            }
            Axis::ProgrammePartner => {
                let name = Uuid::parse_str(v).ok().and_then(|u| orgs.get(&u).cloned());
                Key {
                    dimension,
                    label: name
                        .clone()
                        .or_else(|| v.is_empty().then(|| "no programme partner".to_owned())),
                    label_de: name
                        .or_else(|| v.is_empty().then(|| "ohne Programmpartner".to_owned())),
                    value: v.to_owned(),
                    code: None,
                }
            }
            _ => Key::word(dimension, axis, v),
        }
    };
    let mut filters: Vec<Key> = Vec::new();
    if let Some(id) = network_id {
        filters.push(Key::bare("network", id.to_string()));
    }
    for (name, d) in [
        ("from", req.filters.from),
        ("to", req.filters.to),
        ("activeAt", req.active_at),
    ] {
        if let Some(d) = d {
            filters.push(Key::bare(name, d.to_string()));
        }
    }
    for (axis, level, value) in &plan.filters {
        if *axis != Axis::Geo && *axis != Axis::Period {
            filters.push(key_of(*axis, *level, value));
        }
    }
    let has_amount = plan.measure.amount().is_some();
    let row = |keys: Vec<Key>, count: i64, amount: i64, v: Visibility| Row {
        keys,
        filters: filters.clone(),
        count: (!v.hidden()).then_some(count),
        amount: (!v.hidden() && has_amount).then_some(amount),
        suppressed: v.hidden(),
        suppression: v.as_str().map(str::to_owned),
        suppression_reason: v.reason().map(str::to_owned),
    };
    let out_rows = rows
        .iter()
        .map(|(key, c, a, v)| {
            let keys = output
                .iter()
                .zip(key)
                .map(|((axis, level), value)| key_of(*axis, *level, value))
                .collect();
            row(keys, *c, *a, *v)
        })
        .collect();
    Ok(Table {
        measure: plan.measure.as_str().to_owned(),
        group_by: output
            .iter()
            .filter_map(|(a, l)| Dimension::of(*a, *l))
            .map(|d| d.as_str().to_owned())
            .collect(),
        filters: filters.clone(),
        protected: plan.protected,
        k: plan.protected.then_some(k),
        amount_of: plan.measure.amount().map(str::to_owned),
        snapshot,
        total: row(Vec::new(), total.0, total.1, total.2),
        rows: out_rows,
    })
}

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn answer(rows: usize) -> std::sync::Arc<Answer> {
        let row = Row {
            keys: Vec::new(),
            filters: Vec::new(),
            count: Some(7),
            amount: None,
            suppressed: false,
            suppression: None,
            suppression_reason: None,
        };
        std::sync::Arc::new(Answer::new(Table {
            measure: "mentorships".into(),
            group_by: Vec::new(),
            filters: Vec::new(),
            protected: true,
            k: Some(5),
            amount_of: None,
            snapshot: None,
            rows: vec![row.clone(); rows],
            total: row,
        }))
    }

    #[test]
    fn cached_answers_keep_their_json_and_stay_within_their_rows() {
        let cache = Cache::default();
        let a = answer(30_000);
        cache.put(1, "a".into(), &a);
        let json = cache.get(1, "a").expect("cached").json().expect("json");
        assert_eq!(
            json,
            serde_json::to_vec(&a.table).expect("serialise"),
            "the JSON is the table's"
        );
        // The same bytes, not serialised again.
        let again = cache.get(1, "a").expect("cached").json().expect("json");
        assert_eq!(json.as_ptr(), again.as_ptr());
        // Another 30,000 rows would pass the bound: the cache starts over.
        cache.put(1, "b".into(), &answer(30_000));
        assert!(cache.get(1, "a").is_none());
        assert!(cache.get(1, "b").is_some());
        // An answer beyond the bound on its own is not kept; a new version empties it.
        cache.put(1, "c".into(), &answer(CACHE_ROWS));
        assert!(cache.get(1, "c").is_none());
        cache.put(2, "d".into(), &answer(10));
        assert!(cache.get(1, "b").is_none() && cache.get(2, "b").is_none());
        assert!(cache.get(2, "d").is_some());
    }
}
