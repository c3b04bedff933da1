//! An outside attacker against the real binary: requests that used to crash or stall the
//! server, budgets that must run out, slow clients, and answers that must not tell more
//! than the caller may read. Where a database is involved, on SQLite and PostgreSQL.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use verbund_e2e::{Demo, PgDatabase, graphql, json_of, on_both_databases, refusal};

async fn alive(s: &Demo) {
    let res = Client::new()
        .get(s.url("/healthz"))
        .send()
        .await
        .expect("the server still answers");
    assert_eq!(res.status(), StatusCode::OK);
}

async fn post_graphql(s: &Demo, body: Value) -> (StatusCode, Value) {
    json_of(
        Client::new()
            .post(s.url("/graphql"))
            .json(&body)
            .send()
            .await
            .expect("post"),
    )
    .await
}

#[tokio::test]
async fn deep_wide_and_multiplied_graphql_is_refused_and_the_server_stays_up() {
    let s = Demo::start_with(None, &[]);
    // The 4 KB request that used to overflow the stack, as list, object and argument nesting.
    for (open, close) in [("[", "]"), ("{a:", "}")] {
        let q = format!(
            "{{ networks(filter: {{ search: {}1{} }}) {{ totalCount }} }}",
            open.repeat(3000),
            close.repeat(3000)
        );
        let (status, body) = post_graphql(&s, json!({ "query": q })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(refusal(&body).0, "TOO_COMPLEX");
        alive(&s).await;
    }
    // Deep variables: refused by the JSON parser's limit or ours, never a crash.
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let (status, _) = post_graphql(
        &s,
        json!({ "query": "query($v: String) { networks(filter: {search: $v}) { totalCount } }", "variables": { "v": deep } }),
    )
    .await;
    assert!(status.is_client_error(), "{status}");
    alive(&s).await;
    // 15 aliases in a fragment spread 15 times (225), and fields multiplied through fragments.
    let aliases: String = (0..15).map(|i| format!("a{i}: __typename ")).collect();
    let spread = "...F ".repeat(15);
    let (status, body) = post_graphql(
        &s,
        json!({ "query": format!("{{ {spread} }} fragment F on Query {{ {aliases} }}") }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(refusal(&body).0, "TOO_COMPLEX");
    let ten = |name: &str| format!("...{name} ").repeat(10);
    let q = format!(
        "{{ ...A }} fragment A on Query {{ {} }} fragment B on Query {{ {} }} fragment C on Query {{ {} }} fragment D on Query {{ {} }}",
        ten("B"),
        ten("C"),
        ten("D"),
        "__typename ".repeat(10)
    );
    let (status, body) = post_graphql(&s, json!({ "query": q })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fields")),
        "{body}"
    );
    // An ordinary query still works.
    let body = graphql(&s.server, "{ networks(first: 1) { totalCount } }", None).await;
    assert!(
        body["data"]["networks"]["totalCount"].as_u64() > Some(10),
        "{body}"
    );
}

#[tokio::test]
async fn budgets_run_out_with_429_and_retry_after() {
    let s = Demo::start_with(
        None,
        &[
            ("VERBUND_RATE_LIMIT__AUTH_FAILURE_BURST", "5"),
            ("VERBUND_RATE_LIMIT__SUBJECT_BURST", "30"),
            ("VERBUND_RATE_LIMIT__PER_SUBJECT_PER_SECOND", "0.5"),
            ("VERBUND_STATISTICS__COST_PER_TOKEN", "10"),
            ("VERBUND_RATE_LIMIT__IMPORT_ROWS_PER_TOKEN", "0.1"),
        ],
    );
    let http = Client::new();
    // Bad signatures: five 401s, then 429 with Retry-After.
    let forged = format!("{}x", s.token(&["--role", "federal_admin"]));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let res = http
            .get(s.url("/api/v1/organisations"))
            .bearer_auth(&forged)
            .send()
            .await
            .expect("get");
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .expect("retry-after")
                .parse()
                .expect("seconds");
            assert!(wait >= 1);
            let (_, body) = json_of(res).await;
            assert_eq!(body["code"], "RATE_LIMITED");
            statuses.push(429);
        } else {
            statuses.push(res.status().as_u16());
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    // The address may still be used with a good token.
    let admin = s.token(&["--role", "federal_admin", "--sub", "a"]);
    let res = http
        .get(s.url("/api/v1/organisations"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    // A protected statistic costs by its size: with 10 cost units per token, a fine table
    // costs more than the subject's whole budget, and its coarser tables (protected first)
    // have taken part of that budget: 429, to retry once the budget is full again.
    let ministry = s.token(&["--role", "ministry_analyst", "--sub", "m"]);
    let res = http
        .get(s.url(
            "/api/v1/statistics/mentorships?groupBy=region,organisation_kind,target_group,status,month",
        ))
        .bearer_auth(&ministry)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // An import costs by its rows: 5 rows at 0.1 rows per token are 50 tokens, over the
    // subject's burst of 30. A subject that has just spent its budget waits (nothing is
    // imported); one with a full budget imports, and then waits for the debt.
    let importer = s.token(&["--role", "federal_admin", "--sub", "i"]);
    let orgs = list(&s, &importer, "/api/v1/organisations?kind=member&first=1").await;
    for _ in 0..5 {
        let _ = http
            .get(s.url("/healthz"))
            .bearer_auth(&importer)
            .send()
            .await;
    }
    let org = orgs[0]["id"].as_str().expect("org").to_owned();
    let file: String = std::iter::once("externalId,organisationId,reference,capacity\n".to_owned())
        .chain((0..5).map(|i| format!("R-{i},{org},EA-R{i},1\n")))
        .collect();
    let res = http
        .post(s.url("/api/v1/volunteers/import"))
        .bearer_auth(&importer)
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await
        .expect("import");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let found = list(&s, &admin, "/api/v1/volunteers?search=EA-R&first=10").await;
    assert!(found.is_empty(), "{found:?}");
    let fresh = s.token(&["--role", "federal_admin", "--sub", "j"]);
    let res = http
        .post(s.url("/api/v1/volunteers/import"))
        .bearer_auth(&fresh)
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await
        .expect("import");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a full budget takes the import"
    );
    let found = list(&s, &admin, "/api/v1/volunteers?search=EA-R&first=10").await;
    assert_eq!(found.len(), 5, "{found:?}");
    let res = http
        .get(s.url("/healthz"))
        .bearer_auth(&fresh)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "then the debt");
    // Per subject: 30 requests, then 429; another subject is not affected.
    let mut limited = 0;
    for _ in 0..40 {
        let res = http
            .get(s.url("/healthz"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("get");
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 9, "{limited} of 40 limited");
    let other = s.token(&["--role", "federal_admin", "--sub", "b"]);
    let res = http
        .get(s.url("/healthz"))
        .bearer_auth(&other)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn statistics_cost_is_bounded_and_known_before_it_runs() {
    let s = Demo::start_with(None, &[("VERBUND_STATISTICS__MAX_COST", "30000")]);
    let http = Client::new();
    // Over the budget: refused at once, with the cost and the budget named.
    let t = Instant::now();
    let (status, body) = json_of(
        http.get(s.url("/api/v1/statistics/mentorships?groupBy=region,organisation_kind,programme_partner,category,target_group,status,end_reason,month"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "TOO_COMPLEX");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 30000")),
        "{body}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    // Within it: answered; the same table with another filter value costs no protection.
    let url = |tg: &str| {
        s.url(&format!(
            "/api/v1/statistics/mentorships?groupBy=state,year&status={tg}"
        ))
    };
    let (status, body) = json_of(http.get(url("active")).send().await.expect("get")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t = Instant::now();
    for tg in ["requested", "matched", "paused", "ended", "cancelled"] {
        let res = http.get(url(tg)).send().await.expect("get");
        assert!(res.status().is_success() || res.status() == StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Costly tables protect on a blocking thread, one at a time: meanwhile everyone else
    // is answered at once.
    let costly: Vec<_> = [
        "mentorships?groupBy=region,organisation_kind,programme_partner,target_group,status,quarter",
        "mentorships_ended?groupBy=region,organisation_kind,programme_partner,target_group,end_reason,quarter",
    ]
    .iter()
    .map(|q| {
        let (http, url) = (http.clone(), s.url(&format!("/api/v1/statistics/{q}")));
        tokio::spawn(async move { http.get(url).send().await.map(|r| r.status()) })
    })
    .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..5 {
        let t = Instant::now();
        let res = http
            .get(s.url("/api/v1/networks?first=5"))
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            t.elapsed() < Duration::from_millis(1000),
            "stalled {:?}",
            t.elapsed()
        );
    }
    for c in costly {
        let status = c.await.expect("task").expect("answered");
        assert!(
            status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
            "{status}"
        );
    }
}

/// Reads from a raw connection until it closes; returns what came.
fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    stream.set_read_timeout(Some(within)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&out).into_owned());
            }
            Err(_) => return None,
        }
    }
}

fn addr(s: &Demo) -> String {
    s.server.base.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_shutdown_ends_in_time() {
    let s = Demo::start_with(
        None,
        &[
            ("VERBUND_SERVER__HEADER_READ_TIMEOUT_SECS", "1"),
            ("VERBUND_SERVER__BODY_READ_TIMEOUT_SECS", "1"),
        ],
    );
    // Slowloris: a request head that never ends is closed after the header timeout.
    let mut c = TcpStream::connect(addr(&s)).expect("connect");
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .expect("write");
    let t = Instant::now();
    assert!(
        read_to_close(&mut c, Duration::from_secs(5)).is_some(),
        "the half-sent head is closed"
    );
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    // A body that never ends: 408 after the body timeout.
    let mut c = TcpStream::connect(addr(&s)).expect("connect");
    c.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":",
    )
    .expect("write");
    let answer = read_to_close(&mut c, Duration::from_secs(5)).expect("answered");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("REQUEST_TIMEOUT"), "{answer}");
    alive(&s).await;

    // Shutdown with a client that holds a half-sent request and never finishes it.
    let s = Demo::start_with(
        None,
        &[
            ("VERBUND_SERVER__HEADER_READ_TIMEOUT_SECS", "600"),
            ("VERBUND_SERVER__BODY_READ_TIMEOUT_SECS", "600"),
            ("VERBUND_SERVER__SHUTDOWN_TIMEOUT_SECS", "2"),
        ],
    );
    let mut held = TcpStream::connect(addr(&s)).expect("connect");
    held.write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    let mut idle = TcpStream::connect(addr(&s)).expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let Demo { server, .. } = s;
    assert!(server.stop(), "the server exits cleanly");
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "shutdown took {:?}",
        t.elapsed()
    );
}

async fn text_filters_are_bounded(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[]);
    let http = Client::new();
    let long = "a".repeat(60_000);
    for path in ["organisations", "networks", "offerings"] {
        let (status, body) = json_of(
            http.get(s.url(&format!("/api/v1/{path}?search={long}")))
                .send()
                .await
                .expect("get"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["fields"][0]["field"], "search", "{body}");
    }
    let body = graphql(
        &s.server,
        &format!("{{ organisations(filter: {{search: \"{long}\"}}) {{ totalCount }} }}"),
        None,
    )
    .await;
    assert_eq!(refusal(&body), ("VALIDATION", "search"), "{body}");
    let body = graphql(
        &s.server,
        &format!(
            "{{ publicOfferings(postcode: \"{}\") {{ totalCount }} }}",
            "1".repeat(60_000)
        ),
        None,
    )
    .await;
    assert_eq!(refusal(&body).0, "VALIDATION", "{body}");
    // At the limit, a search runs.
    let (status, _) = json_of(
        http.get(s.url(&format!("/api/v1/organisations?search={}", "a".repeat(200))))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

on_both_databases!(text_filters_are_bounded => text_filters_are_bounded_sqlite, text_filters_are_bounded_postgres);

async fn list(s: &Demo, token: &str, path: &str) -> Vec<Value> {
    let page = s.get(path, Some(token)).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The answer without what names the id itself.
fn shape(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("instance");
    }
    v
}

async fn no_oracles(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[]);
    let admin = s.token(&["--role", "federal_admin"]);
    // A member organisation and the grant its programme partner passed on to it.
    let fundings = list(&s, &admin, "/api/v1/fundings?first=100").await;
    let passed = fundings
        .iter()
        .find(|f| f["passedOnFromId"].is_string())
        .expect("a passed-on funding in the demo data");
    let member = passed["organisationId"].as_str().expect("org").to_owned();
    let grant = passed["passedOnFromId"].as_str().expect("grant").to_owned();
    let org_admin = s.token(&["--role", "org_admin", "--organisation", &member]);
    // The member cannot read its partner's grant …
    let res = Client::new()
        .get(s.url(&format!("/api/v1/fundings/{grant}")))
        .bearer_auth(&org_admin)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // … so naming it answers exactly like an unknown id, whatever amount and period it tries.
    let attempt = |from: &str, amount: i64, start: &str| {
        json!({ "organisationId": member, "funderKind": "federal", "funderName": "BMFSFJ",
                "programme": "Menschen stärken Menschen", "amountCents": amount,
                "startsOn": start, "passedOnFromId": from })
    };
    let unknown = uuid::Uuid::now_v7().to_string();
    for (amount, start) in [
        (1, "2024-01-01"),
        (999_999_999_999, "2024-01-01"),
        (1, "1990-01-01"),
    ] {
        let (s1, b1) = s
            .post(
                "/api/v1/fundings",
                Some(&org_admin),
                &attempt(&grant, amount, start),
            )
            .await;
        let (s2, b2) = s
            .post(
                "/api/v1/fundings",
                Some(&org_admin),
                &attempt(&unknown, amount, start),
            )
            .await;
        assert_eq!(s1, StatusCode::UNPROCESSABLE_ENTITY, "{b1}");
        assert_eq!(
            (s1, shape(b1)),
            (s2, shape(b2)),
            "amount {amount}, from {start}"
        );
    }
    // A coordinator's committee may name only contacts it can read.
    let regions = list(&s, &admin, "/api/v1/networks?level=regional&first=100").await;
    let region = regions[0]["id"].as_str().expect("region").to_owned();
    let coordinator = s.token(&["--role", "regional_coordinator", "--network", &region]);
    let own_orgs = list(&s, &coordinator, "/api/v1/organisations?first=100").await;
    let all_contacts = list(&s, &admin, "/api/v1/contacts?first=100").await;
    let visible = list(&s, &coordinator, "/api/v1/contacts?first=100").await;
    let outside = all_contacts
        .iter()
        .find(|c| !visible.iter().any(|v| v["id"] == c["id"]))
        .expect("a contact outside the region");
    let committee = |contact: &Value| {
        json!({ "networkId": region, "name": "Runder Tisch Patenschaften",
                "memberContactIds": [contact], "memberOrganisationIds": [] })
    };
    let (s1, b1) = s
        .post(
            "/api/v1/committees",
            Some(&coordinator),
            &committee(&outside["id"]),
        )
        .await;
    let (s2, b2) = s
        .post(
            "/api/v1/committees",
            Some(&coordinator),
            &committee(&json!(unknown)),
        )
        .await;
    assert_eq!(s1, StatusCode::UNPROCESSABLE_ENTITY, "{b1}");
    assert_eq!((s1, shape(b1)), (s2, shape(b2)));
    // A contact it can read is accepted.
    if let Some(own) = visible.first() {
        let (st, body) = s
            .post(
                "/api/v1/committees",
                Some(&coordinator),
                &committee(&own["id"]),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
    }
    assert!(!own_orgs.is_empty());
}

on_both_databases!(no_oracles => validation_is_no_oracle_sqlite, validation_is_no_oracle_postgres);

async fn idempotency_bound(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[]);
    let admin = s.token(&["--role", "federal_admin"]);
    let orgs = list(&s, &admin, "/api/v1/organisations?kind=member&first=2").await;
    let (a, b) = (
        orgs[0]["id"].as_str().expect("a").to_owned(),
        orgs[1]["id"].as_str().expect("b").to_owned(),
    );
    // The same subject with two scopes (a misconfigured identity provider, a shared CRM
    // account): the second never receives the first one's record.
    let ta = s.token(&[
        "--role",
        "org_admin",
        "--organisation",
        &a,
        "--sub",
        "crm-sync",
    ]);
    let tb = s.token(&[
        "--role",
        "org_admin",
        "--organisation",
        &b,
        "--sub",
        "crm-sync",
    ]);
    let body = json!({ "organisationId": a, "reference": "EA-77", "capacity": 1 });
    let send = |t: &str| {
        Client::new()
            .post(s.url("/api/v1/volunteers"))
            .bearer_auth(t)
            .header("idempotency-key", "sync-1")
            .json(&body)
            .send()
    };
    let (st, first) = json_of(send(&ta).await.expect("post")).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    let (st, again) = json_of(send(&ta).await.expect("post")).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(again["id"], first["id"], "the same caller gets its replay");
    let (st, other) = json_of(send(&tb).await.expect("post")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{other}");
    assert!(other.get("id").is_none(), "{other}");
    assert_eq!(other["fields"][0]["field"], "Idempotency-Key");
}

on_both_databases!(idempotency_bound => idempotency_keys_belong_to_their_caller_sqlite, idempotency_keys_belong_to_their_caller_postgres);

async fn formulas(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[]);
    let admin = s.token(&["--role", "federal_admin"]);
    let orgs = list(&s, &admin, "/api/v1/organisations?kind=member&first=1").await;
    let org = orgs[0]["id"].as_str().expect("org").to_owned();
    let evil = "=HYPERLINK(\"https://example.invalid\";\"Klick\")";
    let (st, body) = s.post("/api/v1/contacts", Some(&admin), &json!({ "organisationId": org, "name": evil, "function": "+SUM(1)", "externalId": "F-1" }))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let export = Client::new()
        .get(s.url("/api/v1/contacts/export"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    let line = export
        .lines()
        .find(|l| l.contains("HYPERLINK"))
        .expect("the contact's row");
    assert!(line.contains("\"'=HYPERLINK("), "{line}");
    assert!(line.contains("'+SUM(1)"), "{line}");
    for cell in line.split([',', ';']) {
        let c = cell.trim_start_matches('"');
        assert!(
            !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell a spreadsheet would run: {cell}"
        );
    }
    // The export imports back unchanged: the quote marks are taken off again.
    let header = export.lines().next().expect("header");
    let file = format!("{header}\n{line}\n");
    let (st, report) = json_of(
        Client::new()
            .post(s.url("/api/v1/contacts/import"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv")
            .body(file)
            .send()
            .await
            .expect("import"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    assert_eq!(report["unchanged"], 1, "{report}");
    assert_eq!(body["name"], evil);
}

on_both_databases!(formulas => csv_exports_neutralise_formulas_sqlite, csv_exports_neutralise_formulas_postgres);

async fn statistics_time_limit(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[("VERBUND_STATISTICS__TIME_LIMIT_MS", "1")]);
    let http = Client::new();
    let url = s.url("/api/v1/statistics/mentorships?groupBy=region,organisation_kind,programme_partner,target_group,status,month");
    let (status, body) = json_of(http.get(&url).send().await.expect("get")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "TOO_COMPLEX");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("within 1 ms")),
        "{body}"
    );
    // Asked again: the refusal is remembered, no second read.
    let t = Instant::now();
    let (status, again) = json_of(http.get(&url).send().await.expect("get")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["detail"], body["detail"]);
    assert!(t.elapsed() < Duration::from_millis(500));
    // The database connections are fine afterwards: exact figures still answer.
    let admin = s.token(&["--role", "federal_admin"]);
    let res = http
        .get(s.url("/api/v1/statistics/mentorships?groupBy=state"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
}

on_both_databases!(statistics_time_limit => statistics_stop_at_their_time_limit_sqlite, statistics_stop_at_their_time_limit_postgres);
