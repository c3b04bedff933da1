//! Two server processes on one database, as replicas behind a load balancer run: an
//! idempotent POST replayed through the other replica gets the first answer (and one
//! record), a write through one is in the statistics read through the other at once, and
//! SIGTERM during load lets every accepted request finish before the process exits.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use verbund_e2e::{Demo, NO_RATE_LIMIT, Server};

async fn replicas_agree(pg: Option<verbund_e2e::PgDatabase>) {
    let a = Demo::start(pg);
    // The second replica: the same database (on SQLite the same file, in the same folder).
    let args: Vec<&str> = a.db.iter().map(String::as_str).collect();
    let mut env = NO_RATE_LIMIT.to_vec();
    env.push(("VERBUND_SERVER__SHUTDOWN_TIMEOUT_SECS", "60"));
    let b = Server::start(&a.dir.0, &args, &env);
    let http = reqwest::Client::new();
    let region = a.get("/api/v1/networks?level=regional&first=1", None).await["items"][0]["id"]
        .as_str()
        .expect("region")
        .to_owned();
    let body = json!({"kind": "member", "sector": "civil_society", "networkId": region,
        "name": "Patenschaften über zwei Repliken e. V."});
    let post = |server: &Server, key: Option<&str>, body: &Value| {
        let mut req = http
            .post(server.url("/api/v1/organisations"))
            .bearer_auth(&a.admin)
            .json(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        req.send()
    };

    // The first answer through A, replayed through B.
    let first = post(&a.server, Some("crm-sync-replicas-1"), &body)
        .await
        .expect("post");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = post(&b, Some("crm-sync-replicas-1"), &body)
        .await
        .expect("post");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again, first, "the other replica replays the first answer");
    let found = a
        .get(
            "/api/v1/organisations?search=zwei%20Repliken&first=10",
            Some(&a.admin),
        )
        .await;
    assert_eq!(
        found["items"].as_array().expect("items").len(),
        1,
        "{found}"
    );

    // A write through B is in A's statistics at once (A's answer was cached before it).
    let count = |server: &Server| {
        let req = http
            .get(server.url("/api/v1/statistics/organisations"))
            .bearer_auth(&a.admin);
        async move {
            let t: Value = req.send().await.expect("get").json().await.expect("json");
            t["total"]["count"].as_i64().expect("count")
        }
    };
    let before = count(&a.server).await;
    assert_eq!(count(&a.server).await, before, "cached");
    let mut other = body.clone();
    other["name"] = json!("Zweite Replik e. V.");
    assert_eq!(
        post(&b, None, &other).await.expect("post").status(),
        StatusCode::CREATED
    );
    assert_eq!(
        count(&a.server).await,
        before + 1,
        "seen through the other replica"
    );

    // SIGTERM while B works: a long import (a dry run; fewer rows on PostgreSQL, whose
    // debug build is slower and the harness kills after 15 s) and list reads accepted
    // before the signal all finish; the process then exits cleanly; afterwards B refuses
    // new connections (A serves on).
    let rows = if a.db.is_empty() { 3000 } else { 1000 };
    let mut csv = String::from("kind;sector;networkId;name\r\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "member;civil_society;{region};Verein {i} e. V.\r\n"
        ));
    }
    let mut work = Vec::new();
    for i in 0..6 {
        let req = if i == 0 {
            http.post(b.url("/api/v1/organisations/import?dryRun=true"))
                .header("content-type", "text/csv")
                .body(csv.clone())
        } else {
            http.get(b.url("/api/v1/mentorships?first=100"))
        };
        let req = req.bearer_auth(&a.admin);
        work.push(tokio::spawn(async move {
            let started = Instant::now();
            let res = req.send().await.map_err(|e| format!("{e:?}"))?;
            let status = res.status();
            res.bytes().await.map_err(|e| format!("{e:?}"))?;
            Ok::<_, String>((status, started.elapsed()))
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let b_health = b.url("/healthz");
    let stopped = tokio::task::spawn_blocking(move || b.stop());
    let mut finished = 0;
    for (i, w) in work.into_iter().enumerate() {
        let (status, took) = w
            .await
            .expect("task")
            .expect("an accepted request is answered");
        assert_eq!(status, StatusCode::OK);
        if i == 0 {
            assert!(
                took > Duration::from_millis(300),
                "the import outlived the signal: {took:?}"
            );
        }
        finished += 1;
    }
    assert!(stopped.await.expect("stop"), "B exits cleanly");
    assert_eq!(finished, 6);
    let gone = http.get(&b_health).send().await;
    assert!(
        gone.is_err_and(|e| e.is_connect()),
        "B takes no new connection"
    );
    assert_eq!(
        http.get(a.server.url("/healthz"))
            .send()
            .await
            .expect("A")
            .status(),
        StatusCode::OK
    );
    assert!(a.server.stop());
}

verbund_e2e::on_both_databases!(replicas_agree => two_replicas_agree_and_drain_on_sigterm_sqlite, two_replicas_agree_and_drain_on_sigterm_postgres);
