//! What an operator watches, through the running server: `/metrics` in the Prometheus text
//! format behind its token, labelled by route templates and bounded operation names, with
//! the pool, the webhook queue, the statistics cache and the build; an `x-request-id` on
//! every response, kept when it is a plain token, in every JSON log line of the request;
//! and neither a metric nor a log line holding what identifies a person or a record.
//! The scrape is kept (`VERBUND_METRICS_DUMP`) for CI's independent parser
//! (`tests/metrics/verify.py`, prometheus-client).

use reqwest::StatusCode;
use serde_json::{Value, json};
use verbund_e2e::{Demo, NO_RATE_LIMIT, TempDir};

const TOKEN: &str = "scrape-token-made-up-for-this-test";

/// The value of the sample with exactly these labels.
fn sample(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

async fn observed(pg: Option<verbund_e2e::PgDatabase>) {
    let dir = TempDir::new();
    let log = dir.0.join("server.log");
    let mut env = NO_RATE_LIMIT.to_vec();
    env.extend([
        ("VERBUND_METRICS__TOKEN", TOKEN),
        ("VERBUND_LOG_FORMAT", "json"),
    ]);
    let s = Demo::start_logged(pg, &env, &log);
    let get = |path: &str, id: Option<&str>| {
        let mut req = s.http.get(s.url(path)).bearer_auth(&s.admin);
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };

    // Request ids: a plain one is kept, anything else replaced by a new one.
    let res = get("/api/v1/organisations?first=1", Some("crm-sync-7"))
        .await
        .expect("get");
    assert_eq!(res.headers()["x-request-id"], "crm-sync-7");
    let page: Value = res.json().await.expect("json");
    let org = page["items"][0]["id"].as_str().expect("id").to_owned();
    for bad in ["Erika Mustermann", &"x".repeat(65)] {
        let res = get("/healthz", Some(bad)).await.expect("get");
        let id = res.headers()["x-request-id"]
            .to_str()
            .expect("id")
            .to_owned();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }
    let res = get(&format!("/api/v1/organisations/{org}"), None)
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response has one"
    );
    let res = get("/api/v1/volunteers?search=Erika", None)
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let res = get("/api/v1/Erika-Mustermann", None).await.expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key("x-request-id"));
    for _ in 0..2 {
        let res = get("/api/v1/statistics/mentorships?groupBy=state", None)
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (status, body) = s
        .send(
            s.http.post(s.url("/graphql")).json(&json!({
                "query": "query DashboardFigures { me { role } }",
                "operationName": "DashboardFigures",
            })),
            Some(&s.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = s
        .send(
            s.http
                .post(s.url("/graphql"))
                .json(&json!({"query": "{ nope }"})),
            Some(&s.admin),
        )
        .await;
    assert!(body["errors"].is_array(), "{body}");

    // The scrape: only with the token.
    let scrape = |token: Option<&str>| {
        let mut req = s.http.get(s.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(
        scrape(None).await.expect("scrape").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scrape(Some("scrape-token-made-up-for-this-tesT"))
            .await
            .expect("scrape")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let res = scrape(Some(TOKEN)).await.expect("scrape");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("text");
    if let Some(dir) = std::env::var_os("VERBUND_METRICS_DUMP") {
        let path = std::path::Path::new(&dir).join(format!(
            "metrics-{}-{}.txt",
            s.database(),
            std::process::id()
        ));
        std::fs::write(path, &text).expect("dump");
    }
    let requests = "verbund_http_requests_total";
    assert_eq!(
        sample(
            &text,
            requests,
            r#"method="GET",route="/api/v1/organisations/{id}",status="200""#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            requests,
            r#"method="GET",route="/api/v1/organisations",status="200""#
        ) >= Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            requests,
            r#"method="GET",route="unmatched",status="404""#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains(r#"verbund_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"}"#), "{text}");
    assert_eq!(
        sample(
            &text,
            "verbund_graphql_operations_total",
            r#"operation="DashboardFigures",outcome="ok""#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "verbund_graphql_operations_total",
            r#"operation="anonymous",outcome="error""#
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "verbund_statistics_cache_total", r#"result="hit""#) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, "verbund_statistics_cache_total", r#"result="miss""#) >= Some(1.0),
        "{text}"
    );
    for state in ["in_use", "idle", "max"] {
        assert!(
            sample(
                &text,
                "verbund_db_pool_connections",
                &format!(r#"state="{state}""#)
            )
            .is_some(),
            "{state}: {text}"
        );
    }
    assert!(sample(&text, "verbund_db_pool_connections", r#"state="max""#) >= Some(1.0));
    assert!(text.contains("\nverbund_webhook_queue_depth "), "{text}");
    assert!(text.contains("\nverbund_db_writers_waiting "), "{text}");
    assert!(text.contains("verbund_build_info{version=\""), "{text}");
    // Nothing that points at a person or a record.
    assert!(!text.contains("Erika"), "{text}");
    assert!(!text.contains(&org), "a record's id in a label");
    assert!(!text.contains("crm-sync-7"), "a request id in a label");

    assert!(s.server.stop());
    // The log: JSON lines; those of a request carry its id, so the kept id finds its lines.
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "request")
        .collect();
    assert!(of_request.len() >= 10, "{} request lines", of_request.len());
    assert!(
        of_request
            .iter()
            .all(|l| l["span"]["request_id"].is_string())
    );
    assert!(
        of_request
            .iter()
            .any(|l| l["span"]["request_id"] == "crm-sync-7" && l["fields"]["status"] == 200),
        "the line of the request with the kept id"
    );
    let whole = std::fs::read_to_string(&log).expect("log");
    assert!(
        !whole.contains("Erika"),
        "no search term or path in the log"
    );
}

verbund_e2e::on_both_databases!(observed => metrics_and_request_ids_without_personal_data_sqlite, metrics_and_request_ids_without_personal_data_postgres);
