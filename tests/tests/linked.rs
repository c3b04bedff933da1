//! Linked measures (issue 12, item 1), on both databases: the four measures about
//! mentorships — requested (`mentorships`, by the month of the request), started, ended and
//! active at a date — describe the same mentorships, so an attacker combines them. This
//! attacker does not know the identities between them: it models the mentorships
//! themselves. Its unknowns are the numbers of mentorships per *profile* (state, year
//! requested, year started or never, year ended or never, and a status those dates allow:
//! requested or matched before the start, active or paused after it, ended, or cancelled
//! without a start), every shown cell of every table of the four measures (state × year
//! and all coarser tables, the stock at every year end by state) is one equation over
//! them, and a shown 0 rules out every profile it covers. A hidden
//! cell is recovered when its equation lies in the span of the shown ones (exact
//! arithmetic modulo a 61-bit prime, the domain's `modular`; the elimination is the test's own).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use verbund_domain::statistics::modular::{P, inverse as inv, mul};
use verbund_e2e::{Demo, PgDatabase, on_both_databases};

/// Rows in echelon form over GF(p), sparse: pivot column → row (pivot entry 1).
#[derive(Default)]
struct Span {
    rows: BTreeMap<usize, BTreeMap<usize, u64>>,
}

impl Span {
    /// Reduces `row` by the basis; what is left (empty: the row is in the span).
    fn reduce(&self, mut row: BTreeMap<usize, u64>) -> BTreeMap<usize, u64> {
        loop {
            let Some((&c, &v)) = row.iter().find(|(c, _)| self.rows.contains_key(c)) else {
                return row;
            };
            for (&k, &w) in &self.rows[&c] {
                let e = row.entry(k).or_insert(0);
                *e = (*e + P - mul(v, w)) % P;
            }
            row.retain(|_, v| *v != 0);
        }
    }

    fn insert(&mut self, row: BTreeMap<usize, u64>) {
        let row = self.reduce(row);
        if let Some((&c, &v)) = row.iter().next() {
            let i = inv(v);
            self.rows
                .insert(c, row.into_iter().map(|(k, w)| (k, mul(w, i))).collect());
        }
    }
}

/// The tables the attacker reads: mentorships (requested) by state, status and year and
/// all coarser tables; those started and ended by state and year and coarser; the stock at
/// every year end by state. The protected view splits only `mentorships` by status (the
/// split of the others follows from the stocks and flows: `Measure::split_by_status`), and
/// refuses the others' status tables (checked below); before it did, this attacker
/// recovered 29 of 1,415 hidden cells from them, and the family protecting them hid even
/// the federal totals (2026-12-07).
const FLOW_GROUPS: [&str; 4] = ["", "state", "year", "state,year"];
const STATUS_GROUPS: [&str; 4] = ["status", "state,status", "status,year", "state,status,year"];
const STOCK_GROUPS: [&str; 2] = ["", "state"];
const STATUSES: [&str; 6] = [
    "requested",
    "matched",
    "active",
    "paused",
    "ended",
    "cancelled",
];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Family {
    Requested,
    Started,
    Ended,
    /// At the end of the year.
    Active(i32),
}

/// A cell: measure, state or all, status or all, year or all.
type CellKey = (Family, Option<String>, Option<String>, Option<i32>);

/// Cell → (count, hidden), as the caller sees them.
type Cells = BTreeMap<CellKey, (i64, bool)>;

/// The statuses a mentorship can have, by whether it has started and whether it has ended
/// (a cancelled one never started).
fn statuses(started: bool, ended: bool) -> &'static [&'static str] {
    match (started, ended) {
        (false, false) => &["requested", "matched"],
        (true, false) => &["active", "paused"],
        (true, true) => &["ended"],
        (false, true) => &["cancelled"],
    }
}

/// The rows of a table (its total when it has no groups); none when the protected view
/// refuses the table (400 `TOO_COMPLEX`: it shows nothing of it).
async fn read(
    s: &Demo,
    token: &str,
    measure: &str,
    groups: &str,
    extra: &str,
    protected: bool,
) -> Vec<Value> {
    let query = if groups.is_empty() {
        format!("{measure}?{extra}")
    } else {
        format!("{measure}?groupBy={groups}&{extra}")
    };
    let (status, t) = s
        .fetch(&format!("/api/v1/statistics/{query}"), Some(token))
        .await;
    if protected && status == 400 && t["code"] == "TOO_COMPLEX" {
        return Vec::new();
    }
    assert_eq!(status, 200, "{query}: {t}");
    assert_eq!(t["protected"], protected, "{query}");
    if groups.is_empty() {
        vec![t["total"].clone()]
    } else {
        t["rows"].as_array().expect("rows").clone()
    }
}

fn key_of(row: &Value, dimension: &str) -> Option<String> {
    row["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["dimension"] == dimension))
        .map(|k| k["value"].as_str().expect("value").to_owned())
}

/// `protected`: whether `token` reads the protected view (else the exact figures).
async fn family_cells(s: &Demo, token: &str, years: &[i32], protected: bool) -> Cells {
    let mut out = Cells::new();
    for (family, measure) in [
        (Family::Requested, "mentorships"),
        (Family::Started, "mentorships_started"),
        (Family::Ended, "mentorships_ended"),
    ] {
        let by_status: &[&str] = if family == Family::Requested {
            &STATUS_GROUPS
        } else {
            if protected {
                for groups in STATUS_GROUPS {
                    let (status, t) = s
                        .fetch(
                            &format!("/api/v1/statistics/{measure}?groupBy={groups}"),
                            Some(token),
                        )
                        .await;
                    assert_eq!(status, 422, "{measure} by {groups}: {t}");
                    assert_eq!(t["fields"][0]["field"], "groupBy", "{t}");
                }
            }
            &[]
        };
        for groups in FLOW_GROUPS.iter().chain(by_status) {
            for row in read(s, token, measure, groups, "", protected).await {
                let year = key_of(&row, "year").map(|y| y.parse::<i32>().expect("year"));
                let state = key_of(&row, "state");
                out.insert(
                    (family, state, key_of(&row, "status"), year),
                    (
                        row["count"].as_i64().unwrap_or(0),
                        row["suppressed"] == true,
                    ),
                );
            }
        }
    }
    for &y in years {
        for groups in STOCK_GROUPS {
            let at = format!("activeAt={y}-12-31");
            for row in read(s, token, "mentorships_active", groups, &at, protected).await {
                out.insert(
                    (
                        Family::Active(y),
                        key_of(&row, "state"),
                        key_of(&row, "status"),
                        None,
                    ),
                    (
                        row["count"].as_i64().unwrap_or(0),
                        row["suppressed"] == true,
                    ),
                );
            }
        }
    }
    out
}

/// A mentorship's profile: (state, requested, started, ended) by year, and its status.
type Profile = (String, i32, Option<i32>, Option<i32>, &'static str);

fn covers(cell: &CellKey, p: &Profile) -> bool {
    let (family, state, status, year) = cell;
    if state.as_ref().is_some_and(|s| *s != p.0) || status.as_ref().is_some_and(|s| s != p.4) {
        return false;
    }
    let at = |y: Option<i32>| y.is_some() && (year.is_none() || *year == y);
    match family {
        Family::Requested => at(Some(p.1)),
        Family::Started => at(p.2),
        Family::Ended => at(p.3),
        Family::Active(d) => p.2.is_some_and(|s| s <= *d) && p.3.is_none_or(|e| e > *d),
    }
}

/// The attacker's universe: every cell of the family's tables (absent ones are shown
/// zeros) and the profiles no shown zero rules out; `years` are those of the flows,
/// `stocks` the year ends whose stock is published.
fn universe(
    cells: &Cells,
    states: &BTreeSet<String>,
    years: &[i32],
    stocks: &[i32],
) -> (Cells, Vec<Profile>) {
    let mut all = cells.clone();
    let families: Vec<Family> = [Family::Requested, Family::Started, Family::Ended]
        .into_iter()
        .chain(stocks.iter().map(|y| Family::Active(*y)))
        .collect();
    // The tables that were shown (a refused one has no cell at all; a shown one at least
    // its total or a row): their absent cells are shown zeros.
    let shape = |k: &CellKey| (k.0, k.1.is_some(), k.2.is_some(), k.3.is_some());
    let shown: BTreeSet<_> = cells.keys().map(shape).collect();
    for f in &families {
        let ys: Vec<Option<i32>> = match f {
            Family::Active(_) => vec![None],
            _ => std::iter::once(None)
                .chain(years.iter().map(|y| Some(*y)))
                .collect(),
        };
        for s in std::iter::once(None).chain(states.iter().map(|s| Some(s.clone()))) {
            for st in std::iter::once(None).chain(STATUSES.iter().map(|s| Some(s.to_string()))) {
                for y in &ys {
                    let key = (*f, s.clone(), st.clone(), *y);
                    if shown.contains(&shape(&key)) {
                        all.entry(key).or_insert((0, false));
                    }
                }
            }
        }
    }
    let mut profiles: Vec<Profile> = Vec::new();
    for s in states {
        for &q in years {
            let starts =
                std::iter::once(None).chain(years.iter().filter(|y| **y >= q).map(|y| Some(*y)));
            for st in starts {
                let from = st.unwrap_or(q);
                let ends = std::iter::once(None)
                    .chain(years.iter().filter(|y| **y >= from).map(|y| Some(*y)));
                for e in ends {
                    for status in statuses(st.is_some(), e.is_some()) {
                        profiles.push((s.clone(), q, st, e, status));
                    }
                }
            }
        }
    }
    // A shown zero rules out every profile it covers (counts are not negative).
    let zeros: Vec<_> = all
        .iter()
        .filter(|(_, (c, h))| *c == 0 && !*h)
        .map(|(k, _)| k.clone())
        .collect();
    profiles.retain(|p| !zeros.iter().any(|z| covers(z, p)));
    (all, profiles)
}

/// The hidden cells the profile attacker recovers, and how many cells were hidden.
fn recovered(
    cells: &Cells,
    states: &BTreeSet<String>,
    years: &[i32],
    stocks: &[i32],
) -> (Vec<String>, usize) {
    let (all, profiles) = universe(cells, states, years, stocks);
    let row = |cell: &CellKey| -> BTreeMap<usize, u64> {
        profiles
            .iter()
            .enumerate()
            .filter(|(_, p)| covers(cell, p))
            .map(|(i, _)| (i, 1))
            .collect()
    };
    let mut span = Span::default();
    for (cell, (count, hidden)) in &all {
        if !*hidden && *count > 0 {
            span.insert(row(cell));
        }
    }
    let hidden: Vec<_> = all.iter().filter(|(_, (_, h))| *h).collect();
    let found = hidden
        .iter()
        .filter(|(cell, _)| span.reduce(row(cell)).is_empty())
        .map(|(cell, (count, _))| format!("{cell:?} = {count}"))
        .collect();
    (found, hidden.len())
}

/// The hidden cells whose interval the profile attacker narrows with linear programmes
/// (profiles ≥ 0, every shown cell an equation; the hidden cell's value is the sum of the
/// profiles it covers, minimised and maximised), below what interval protection asks
/// (`verbund_domain::statistics::Ranges`, the defaults): `truth` holds the exact counts.
/// Each LP's optimal point also bounds every other hidden cell, so most need none of
/// their own.
fn narrowed(
    cells: &Cells,
    truth: &Cells,
    states: &BTreeSet<String>,
    years: &[i32],
    stocks: &[i32],
) -> Vec<String> {
    use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, SolveOutcome};
    use verbund_domain::statistics::{Ranges, Visibility};
    let (all, profiles) = universe(cells, states, years, stocks);
    let covered = |cell: &CellKey| -> Vec<usize> {
        (0..profiles.len())
            .filter(|i| covers(cell, &profiles[*i]))
            .collect()
    };
    let hidden: Vec<_> = all
        .iter()
        .filter(|(_, (_, h))| *h)
        .map(|(k, _)| k)
        .collect();
    let value = |cell: &CellKey| truth.get(cell).map_or(0, |c| c.0);
    let optimum = |target: &[usize], maximise: bool| -> Option<Vec<f64>> {
        let mut p = Problem::new(if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        });
        let vars: Vec<_> = (0..profiles.len())
            .map(|i| {
                p.add_var(
                    if target.contains(&i) { 1.0 } else { 0.0 },
                    (0.0, f64::INFINITY),
                )
            })
            .collect();
        for (cell, (count, h)) in &all {
            if *h || *count == 0 {
                continue;
            }
            let mut e = LinearExpr::empty();
            for i in covered(cell) {
                e.add(vars[i], 1.0);
            }
            p.add_constraint(e, ComparisonOp::Eq, *count as f64);
        }
        match p.solve() {
            Ok(SolveOutcome::Solution(s)) => Some(vars.iter().map(|v| s.var_value(*v)).collect()),
            // Unbounded: the hidden cell has no upper bound at all.
            Err(microlp::Error::Unbounded) => None,
            other => panic!("LP: {other:?}"),
        }
    };
    let rows: Vec<Vec<usize>> = hidden.iter().map(|c| covered(c)).collect();
    let mut low: Vec<f64> = hidden.iter().map(|c| value(c) as f64).collect();
    let mut high: Vec<Option<f64>> = hidden.iter().map(|c| Some(value(c) as f64)).collect();
    let ranges = Ranges::default();
    let need = |j: usize| {
        let v = value(hidden[j]);
        let vis = if v > 0 && v < 5 {
            Visibility::Primary
        } else {
            Visibility::Secondary
        };
        ranges.need(vis, v)
    };
    let held = |j: usize, low: &[f64], high: &[Option<f64>]| {
        need(j).held_by(
            (low[j] - 1e-6).ceil() as i64,
            high[j].map(|h| (h + 1e-6).floor() as i64),
        )
    };
    let mut out = Vec::new();
    for j in 0..hidden.len() {
        for maximise in [true, false] {
            if held(j, &low, &high) {
                break;
            }
            match optimum(&rows[j], maximise) {
                Some(x) => {
                    for (k, r) in rows.iter().enumerate() {
                        let v: f64 = r.iter().map(|i| x[*i]).sum();
                        low[k] = low[k].min(v);
                        high[k] = high[k].map(|h| h.max(v));
                    }
                }
                None => high[j] = None,
            }
        }
        if !held(j, &low, &high) {
            out.push(format!(
                "{:?} = {} within [{:.1}, {:?}]",
                hidden[j],
                value(hidden[j]),
                low[j],
                high[j]
            ));
        }
    }
    out
}

async fn linked_measures(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let requested = read(&s, &ministry, "mentorships", "year", "", true).await;
    let seen: Vec<i32> = requested
        .iter()
        .filter_map(|r| key_of(r, "year").and_then(|y| y.parse().ok()))
        .collect();
    let (first, last) = (
        *seen.iter().min().expect("years"),
        *seen.iter().max().expect("years"),
    );
    let years: Vec<i32> = (first..=last).collect();
    let today = chrono::Utc::now().date_naive();
    let ends: Vec<i32> = years
        .iter()
        .copied()
        .filter(|y| format!("{y}-12-31") <= today.to_string())
        .collect();
    let mut cells = family_cells(&s, &ministry, &ends, true).await;
    // The current year's flows are in the tables; its stock at year end is not yet.
    cells.retain(|k, _| !matches!(k.0, Family::Active(y) if !ends.contains(&y)));
    let states: BTreeSet<String> = cells.keys().filter_map(|k| k.1.clone()).collect();
    let (found, hidden) = recovered(&cells, &states, &years, &ends);
    assert!(hidden > 50, "the demo has hidden cells: {hidden}");
    assert!(
        found.is_empty(),
        "{} of {hidden} hidden cells recovered from the linked tables: {:?}",
        found.len(),
        &found[..found.len().min(10)]
    );
    // The same attacker with linear programmes: no hidden cell narrowed below its interval.
    let truth = family_cells(&s, &s.admin, &ends, false).await;
    let narrow = narrowed(&cells, &truth, &states, &years, &ends);
    println!(
        "linked measures: {hidden} hidden cells, {} recovered exactly, {} narrowed by LP: {:?}",
        found.len(),
        narrow.len(),
        &narrow[..narrow.len().min(5)]
    );
    assert!(
        narrow.is_empty(),
        "{} of {hidden} hidden cells narrowed by the LP attacker on the linked tables: {:?}",
        narrow.len(),
        &narrow[..narrow.len().min(10)]
    );
}

on_both_databases!(linked_measures => linked_measures_give_nothing_away_sqlite, linked_measures_give_nothing_away_postgres);

/// The protected view splits only `mentorships` by status; the measures whose split follows
/// from the stocks and flows refuse a status grouping or filter with 422 naming it, in REST
/// and GraphQL, while the exact view splits them.
async fn status_splits_only_mentorships(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let url = |q: &str| format!("/api/v1/statistics/{q}");
    for query in [
        "mentorships_started?groupBy=status",
        "mentorships_ended?groupBy=state,status,year",
        "mentorships_active?groupBy=status&activeAt=2025-12-31",
        "mentorships_started?status=ended",
    ] {
        let (status, t) = s.fetch(&url(query), Some(&ministry)).await;
        assert_eq!(status, 422, "{query}: {t}");
        assert_eq!(t["code"], "VALIDATION", "{t}");
        let field = if query.contains("groupBy") {
            "groupBy"
        } else {
            "status"
        };
        assert_eq!(t["fields"][0]["field"], field, "{query}: {t}");
        assert!(
            t["fields"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("`mentorships`")),
            "{t}"
        );
        let (status, t) = s.fetch(&url(query), Some(&s.admin)).await;
        assert_eq!(status, 200, "the exact view splits {query}: {t}");
    }
    let (status, t) = s
        .fetch(
            &url("mentorships?groupBy=state,status,year"),
            Some(&ministry),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let t = s
        .graphql(
            "{ statistics(measure: \"mentorships_ended\", groupBy: [\"status\"]) { total { count } } }",
            Some(&ministry),
        )
        .await;
    assert!(
        t["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("groupBy") && m.contains("`mentorships`")),
        "{t}"
    );
}

on_both_databases!(status_splits_only_mentorships => status_splits_only_mentorships_sqlite, status_splits_only_mentorships_postgres);
