//! Writes under contention, through HTTP on the real binary, on SQLite (the embedded
//! default, a file) and PostgreSQL: twenty writers on one record and twenty on twenty
//! records. No 5xx, no lost update; losers on one record are told at once (412 or 409).
//! The rates are printed for the record (`--nocapture`).

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use verbund_e2e::{Demo, PgDatabase};

const WRITERS: usize = 20;
const RUN: Duration = Duration::from_secs(4);

async fn first_member(s: &Demo) -> String {
    let orgs = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&s.admin))
        .await;
    orgs["items"][0]["id"].as_str().expect("org").to_owned()
}

async fn create_volunteer(s: &Demo, org: &str, reference: &str) -> String {
    let (status, v) = s
        .post("/api/v1/volunteers", Some(&s.admin), &body(org, reference))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

fn body(org: &str, reference: &str) -> Value {
    json!({ "organisationId": org, "reference": reference, "capacity": 2 })
}

fn p99(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

async fn contention(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let db = s.database();
    let http = Client::new();
    let org = first_member(&s).await;
    let s = Arc::new(s);

    // Twenty writers on one record: read, then write with If-Match, until the time is up.
    let id = create_volunteer(&s, &org, "W-0").await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (s, http, id, org) = (s.clone(), http.clone(), id.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let item = s.url(&format!("/api/v1/volunteers/{id}"));
            let (mut won, mut lost, mut other) = (Vec::new(), Vec::new(), Vec::new());
            let mut n = 0;
            while started.elapsed() < RUN {
                let res = http
                    .get(&item)
                    .bearer_auth(&s.admin)
                    .send()
                    .await
                    .expect("get");
                assert_eq!(res.status(), StatusCode::OK);
                let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
                let reference = format!("W-{w}-{n}");
                n += 1;
                let t = Instant::now();
                let res = http
                    .put(&item)
                    .bearer_auth(&s.admin)
                    .header("if-match", etag)
                    .json(&body(&org, &reference))
                    .send()
                    .await
                    .expect("put");
                let took = t.elapsed();
                match res.status() {
                    StatusCode::OK => {
                        let v: i64 = res.headers()["etag"]
                            .to_str()
                            .expect("etag")
                            .trim_matches('"')
                            .parse()
                            .expect("version");
                        won.push((v, reference));
                    }
                    StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => lost.push(took),
                    st => other.push((st, res.text().await.unwrap_or_default())),
                }
            }
            (won, lost, other)
        }));
    }
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    for t in tasks {
        let (w, l, o) = t.await.expect("writer");
        assert!(o.is_empty(), "{db}: unexpected answers {o:?}");
        won.extend(w);
        lost.extend(l);
    }
    let elapsed = started.elapsed().as_secs_f64();
    // No lost update: every success got its own version, they are 2..=n+1, and the record
    // holds the last one's value.
    won.sort();
    let versions: Vec<i64> = won.iter().map(|(v, _)| *v).collect();
    let expected: Vec<i64> = (2..2 + won.len() as i64).collect();
    assert_eq!(
        versions, expected,
        "{db}: every successful write has its own version"
    );
    let now = s
        .get(&format!("/api/v1/volunteers/{id}"), Some(&s.admin))
        .await;
    assert_eq!(
        now["reference"],
        won.last().map_or("W-0".to_owned(), |w| w.1.clone()),
        "{db}"
    );
    assert!(!won.is_empty(), "{db}: some writes succeed");
    let loser_p99 = p99(lost.clone());
    println!(
        "{db}: {WRITERS} writers on one record: {} writes in {elapsed:.1} s = {:.0}/s, {} refused (412/409), losers p99 {} ms",
        won.len(),
        won.len() as f64 / elapsed,
        lost.len(),
        loser_p99.as_millis()
    );
    assert!(
        loser_p99 < Duration::from_millis(1000),
        "{db}: losers are answered quickly (p99 {loser_p99:?})"
    );

    // Twenty writers on twenty records: each keeps its own version; all writes succeed.
    let mut ids = Vec::new();
    for w in 0..WRITERS {
        ids.push(create_volunteer(&s, &org, &format!("D-{w}")).await);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, id) in ids.iter().cloned().enumerate() {
        let (s, http, org) = (s.clone(), http.clone(), org.clone());
        tasks.push(tokio::spawn(async move {
            let item = s.url(&format!("/api/v1/volunteers/{id}"));
            let mut version = 1;
            let mut last = format!("D-{w}");
            let mut bad = Vec::new();
            while started.elapsed() < RUN {
                let reference = format!("D-{w}-{version}");
                let res = http
                    .put(&item)
                    .bearer_auth(&s.admin)
                    .header("if-match", format!("\"{version}\""))
                    .json(&body(&org, &reference))
                    .send()
                    .await
                    .expect("put");
                if res.status() == StatusCode::OK {
                    version += 1;
                    last = reference;
                } else {
                    bad.push((res.status(), res.text().await.unwrap_or_default()));
                }
            }
            (id, version, last, bad)
        }));
    }
    let mut total = 0;
    for t in tasks {
        let (id, version, last, bad) = t.await.expect("writer");
        assert!(
            bad.is_empty(),
            "{db}: writes on distinct records refused: {bad:?}"
        );
        let now = s
            .get(&format!("/api/v1/volunteers/{id}"), Some(&s.admin))
            .await;
        assert_eq!(now["version"], version, "{db}");
        assert_eq!(now["reference"], last, "{db}");
        total += version - 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{db}: {WRITERS} writers on {WRITERS} records: {total} writes in {elapsed:.1} s = {:.0}/s",
        total as f64 / elapsed
    );
    // The aggregate is still exact after all of it.
    s.cli(&["check-statistics"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_sqlite() {
    contention(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_postgres() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    contention(Some(pg)).await;
}
