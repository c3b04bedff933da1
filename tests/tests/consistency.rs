//! One status per cell (issue 12, item 3), on both databases: the same cell — same
//! measure, keys and period, in the same view — is shown or hidden the same way whichever
//! query shows it. A filtered query's total is a cell of a coarser table (the mentorships
//! of state X in year Y are the total of "by status, in X, in Y" and a row of "by state and
//! year"); the filtered queries are asked first, so that their finer tables are protected
//! before the coarser ones are ever asked for on their own.

use reqwest::{Client, StatusCode};
use serde_json::Value;
use verbund_e2e::{PgDatabase, Server, TempDir, token};

/// A protected table, or None when the protected view refuses it (400 `TOO_COMPLEX`: it
/// would reveal a small count; a refused table shows no cell, so no cell of it can differ).
async fn table(http: &Client, server: &Server, token: &str, query: &str) -> Option<Value> {
    let res = http
        .get(server.url(&format!("/api/v1/statistics/{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let code = res.status();
    let t: Value = res.json().await.expect("json");
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

async fn one_status_per_cell(pg: Option<PgDatabase>) {
    let dir = TempDir::new();
    let db: Vec<String> = pg
        .as_ref()
        .map(|p| vec!["--database".to_owned(), p.url.clone()])
        .unwrap_or_default();
    let db: Vec<&str> = db.iter().map(String::as_str).collect();
    let server = Server::start(&dir.0, &db, &[("VERBUND_RATE_LIMIT__ENABLED", "false")]);
    let ministry = {
        let mut args = db.clone();
        args.extend(["--role", "ministry_analyst"]);
        token(&dir.0, &args)
    };
    let admin = {
        let mut args = db.clone();
        args.extend(["--role", "federal_admin"]);
        token(&dir.0, &args)
    };
    let http = Client::new();
    // The states, from the exact view (asking the protected one would protect it first).
    let exact = {
        let res = http
            .get(server.url("/api/v1/statistics/mentorships?groupBy=state"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("request");
        res.json::<Value>().await.expect("json")
    };
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
    let mut pairs: Vec<Pair> = Vec::new();
    let mut refused = 0;
    for x in &states {
        for (filtered, coarser) in [
            (
                format!("mentorships?groupBy=category&network={x}"),
                "mentorships?groupBy=state",
            ),
            (
                format!("mentorships?groupBy=status&network={x}"),
                "mentorships?groupBy=state",
            ),
            (
                format!("volunteers?groupBy=status&network={x}"),
                "volunteers?groupBy=state",
            ),
        ] {
            let Some(t) = table(&http, &server, &ministry, &filtered).await else {
                refused += 1;
                continue;
            };
            pairs.push((
                filtered,
                status(&t["total"]),
                coarser.to_owned(),
                vec![("state".to_owned(), x.clone())],
            ));
        }
        for y in years {
            let at = format!("activeAt={y}-12-31");
            let filtered = format!("mentorships_active?groupBy=category&network={x}&{at}");
            match table(&http, &server, &ministry, &filtered).await {
                Some(t) => pairs.push((
                    filtered,
                    status(&t["total"]),
                    format!("mentorships_active?groupBy=state&{at}"),
                    vec![("state".to_owned(), x.clone())],
                )),
                None => refused += 1,
            }
            let period = format!("from={y}-01-01&to={y}-12-31");
            for (filtered, coarser) in [
                (
                    format!("mentorships?groupBy=status&network={x}&{period}"),
                    "mentorships?groupBy=state,year",
                ),
                (
                    format!("mentorships_started?groupBy=quarter&network={x}&{period}"),
                    "mentorships_started?groupBy=state,year",
                ),
                (
                    format!("mentorships_ended?groupBy=end_reason&network={x}&{period}"),
                    "mentorships_ended?groupBy=state,year",
                ),
            ] {
                let Some(t) = table(&http, &server, &ministry, &filtered).await else {
                    refused += 1;
                    continue;
                };
                pairs.push((
                    filtered,
                    status(&t["total"]),
                    coarser.to_owned(),
                    vec![
                        ("state".to_owned(), x.clone()),
                        ("year".to_owned(), y.to_owned()),
                    ],
                ));
            }
        }
    }
    let mut coarser_tables = std::collections::HashMap::new();
    let mut differ = Vec::new();
    let mut hidden = 0;
    for (filtered, total, coarser, keys) in &pairs {
        if !coarser_tables.contains_key(coarser) {
            let t = table(&http, &server, &ministry, coarser).await;
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

#[tokio::test]
async fn a_cell_has_one_status_in_every_query_sqlite() {
    one_status_per_cell(None).await;
}

#[tokio::test]
async fn a_cell_has_one_status_in_every_query_postgres() {
    if let Some(pg) = PgDatabase::create() {
        one_status_per_cell(Some(pg)).await;
    }
}
