//! One status per cell (issue 12, item 3), on both databases: the same cell — same
//! measure, keys and period, in the same view — is shown or hidden the same way whichever
//! query shows it. A filtered query's total is a cell of a coarser table (the mentorships
//! of state X in year Y are the total of "by status, in X, in Y" and a row of "by state and
//! year"); the filtered queries are asked first, so that their finer tables are protected
//! before the coarser ones are ever asked for on their own.

use reqwest::StatusCode;
use serde_json::Value;
use verbund_e2e::{Demo, PgDatabase, on_both_databases};

/// A protected table, or None when the protected view refuses it (400 `TOO_COMPLEX`: it
/// would reveal a small count; a refused table shows no cell, so no cell of it can differ).
async fn table(s: &Demo, token: &str, query: &str) -> Option<Value> {
    let (code, t) = s
        .fetch(&format!("/api/v1/statistics/{query}"), Some(token))
        .await;
    if code == StatusCode::BAD_REQUEST && t["code"] == "TOO_COMPLEX" {
        return None;
    }
    assert_eq!(code, StatusCode::OK, "{query}: {t}");
    assert_eq!(t["protected"], true, "{query}");
    Some(t)
}

/// A cell as published: its count if shown, None if hidden.
fn status(cell: &Value) -> Option<i64> {
    if cell["suppressed"] == true {
        None
    } else {
        Some(cell["count"].as_i64().unwrap_or(0))
    }
}

fn key(row: &Value, dimension: &str) -> Option<String> {
    row["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["dimension"] == dimension))
        .map(|k| k["value"].as_str().expect("value").to_owned())
}

/// The row of `rows` with these keys, or a shown 0 if it is absent.
fn row_status(rows: &Value, keys: &[(&str, &str)]) -> Option<i64> {
    rows["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| keys.iter().all(|(d, v)| key(r, d).as_deref() == Some(*v)))
        .map_or(Some(0), status)
}

/// A filtered query, its total, the coarser query that holds the same cell, and that row's
/// keys.
type Pair = (String, Option<i64>, String, Vec<(String, String)>);
/// A filtered table, the coarser table that shows its total, and that total's keys.
type Ask = (String, String, Vec<(String, String)>);

async fn one_status_per_cell(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    // The states, from the exact view (asking the protected one would protect it first).
    let exact = s
        .get(
            "/api/v1/statistics/mentorships?groupBy=state",
            Some(&s.admin),
        )
        .await;
    let states: Vec<String> = exact["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| {
            !r["keys"][0]["label"]
                .as_str()
                .is_some_and(|l| l.contains("no state"))
        })
        .filter_map(|r| key(r, "state"))
        .collect();
    assert!(states.len() >= 10, "{states:?}");
    let years = ["2023", "2024", "2025"];
    let mut asks: Vec<Ask> = Vec::new();
    for x in &states {
        let state = ("state".to_owned(), x.clone());
        for (filtered, coarser) in [
            ("mentorships?groupBy=category", "mentorships?groupBy=state"),
            ("mentorships?groupBy=status", "mentorships?groupBy=state"),
            ("volunteers?groupBy=status", "volunteers?groupBy=state"),
        ] {
            let filtered = format!("{filtered}&network={x}");
            asks.push((filtered, coarser.to_owned(), vec![state.clone()]));
        }
        for y in years {
            let at = format!("activeAt={y}-12-31");
            asks.push((
                format!("mentorships_active?groupBy=category&network={x}&{at}"),
                format!("mentorships_active?groupBy=state&{at}"),
                vec![state.clone()],
            ));
            let period = format!("from={y}-01-01&to={y}-12-31");
            let year = ("year".to_owned(), y.to_owned());
            for (filtered, coarser) in [
                ("mentorships?groupBy=status", "mentorships"),
                ("mentorships_started?groupBy=quarter", "mentorships_started"),
                ("mentorships_ended?groupBy=end_reason", "mentorships_ended"),
            ] {
                asks.push((
                    format!("{filtered}&network={x}&{period}"),
                    format!("{coarser}?groupBy=state,year"),
                    vec![state.clone(), year.clone()],
                ));
            }
        }
    }
    let mut pairs: Vec<Pair> = Vec::new();
    let mut refused = 0;
    for (filtered, coarser, keys) in asks {
        match table(&s, &ministry, &filtered).await {
            Some(t) => pairs.push((filtered, status(&t["total"]), coarser, keys)),
            None => refused += 1,
        }
    }
    let mut coarser_tables = std::collections::HashMap::new();
    let mut differ = Vec::new();
    let mut hidden = 0;
    for (filtered, total, coarser, keys) in &pairs {
        if !coarser_tables.contains_key(coarser) {
            let t = table(&s, &ministry, coarser).await;
            coarser_tables.insert(coarser.clone(), t.expect("the coarser tables are shown"));
        }
        let keys: Vec<(&str, &str)> = keys.iter().map(|(d, v)| (d.as_str(), v.as_str())).collect();
        let row = row_status(&coarser_tables[coarser], &keys);
        if total.is_none() {
            hidden += 1;
        }
        if row != *total {
            differ.push(format!(
                "{filtered}: total {total:?}, {coarser} {keys:?}: {row:?}"
            ));
        }
    }
    println!(
        "{} cells compared, {hidden} of them hidden; {refused} filtered tables refused",
        pairs.len()
    );
    assert!(
        hidden >= 10,
        "only {hidden} of {} cells hidden",
        pairs.len()
    );
    assert!(
        pairs.len() >= 200 && refused <= 24,
        "{} cells compared, {refused} filtered tables refused",
        pairs.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {} cells differ between queries: {:#?}",
        differ.len(),
        pairs.len(),
        &differ[..differ.len().min(8)]
    );
}

on_both_databases!(one_status_per_cell => a_cell_has_one_status_in_every_query_sqlite, a_cell_has_one_status_in_every_query_postgres);
