//! Webhooks, from outside: a receiver in this process records what the real server posts.
//! Deliveries are signed as Standard Webhooks asks (checked here, and by the PyPI
//! `standardwebhooks` package in CI from the dump in `VERBUND_WEBHOOK_DUMP`), carry only
//! what the subscription's owner may read, are retried on failure and stop on 410, are
//! logged and can be sent again; a secret rotation signs with both secrets; targets inside
//! the server's network are refused unless allowed. On PostgreSQL, two server processes
//! share the deliveries (each change delivered once), and a process killed while
//! delivering loses nothing.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verbund_e2e::{Demo, PgDatabase, Server, on_both_databases, refusal};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// How often each webhook-id was seen, for `/flaky`.
    seen: Arc<Mutex<HashMap<String, u32>>>,
}

impl Receiver {
    fn got(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    fn on(&self, path: &str) -> Vec<Received> {
        self.got().into_iter().filter(|r| r.path == path).collect()
    }

    /// Waits until `done` holds for what `path` got (at most `secs`).
    async fn wait(
        &self,
        path: &str,
        secs: u64,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.on(path);
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: waited {secs} s, got {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(
    State(r): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let got = Received {
        path: path.clone(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body,
    };
    let tries = {
        let mut seen = r.seen.lock().expect("lock");
        let n = seen.entry(got.id.clone()).or_default();
        *n += 1;
        *n
    };
    r.got.lock().expect("lock").push(got);
    match path.as_str() {
        "flaky" if tries <= 2 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "gone" => StatusCode::GONE.into_response(),
        "busy" => (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "3")]).into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        "sluggish" => {
            tokio::time::sleep(Duration::from_millis(400)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

/// A receiver on a free loopback port: its base URL.
async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (r, format!("http://{addr}"))
}

/// The server's settings for these tests: loopback http targets allowed, fast polling,
/// short timeouts and retries.
const FAST: &[(&str, &str)] = &[
    ("VERBUND_RATE_LIMIT__ENABLED", "false"),
    ("VERBUND_WEBHOOKS__ALLOW_HTTP", "true"),
    ("VERBUND_WEBHOOKS__ALLOW_PRIVATE_TARGETS", "true"),
    ("VERBUND_WEBHOOKS__POLL_MS", "100"),
    ("VERBUND_WEBHOOKS__TIMEOUT_SECS", "1"),
    ("VERBUND_WEBHOOKS__LEASE_SECS", "3"),
    ("VERBUND_WEBHOOKS__RETRY_SCHEDULE_SECS", "[1, 1, 1]"),
];

/// Whether one of the `v1,` signatures in the header is the HMAC of `id.timestamp.body`
/// with `secret`.
fn signed_with(r: &Received, secret: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .expect("secret");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .any(|s| s.strip_prefix("v1,") == Some(want.as_str()))
}

/// Writes the delivery for the independent verifier in CI (`tests/webhooks/verify.py`).
fn dump(r: &Received, secret: &str, name: &str) {
    let Some(dir) = std::env::var_os("VERBUND_WEBHOOK_DUMP") else {
        return;
    };
    let doc = json!({
        "secret": secret,
        "headers": {
            "webhook-id": r.id,
            "webhook-timestamp": r.timestamp,
            "webhook-signature": r.signature,
        },
        "body": r.body,
        "received_at": chrono::Utc::now().timestamp(),
    });
    std::fs::create_dir_all(&dir).expect("dump dir");
    let file = std::path::Path::new(&dir).join(format!("{name}-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(file, doc.to_string()).expect("dump");
}

async fn subscribe(s: &Demo, token: &str, url: &str, types: &[&str]) -> (String, String) {
    let (status, out) = s
        .post(
            "/api/v1/webhooks",
            Some(token),
            &json!({"url": url, "types": types, "description": "test"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    (
        out["webhook"]["id"].as_str().expect("id").to_owned(),
        out["secret"].as_str().expect("secret").to_owned(),
    )
}

async fn create_volunteer(s: &Demo, token: &str, reference: &str) -> String {
    let (status, v) = s
        .post(
            "/api/v1/volunteers",
            Some(token),
            &json!({"reference": reference, "capacity": 1, "languages": ["de"], "active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

fn payload(r: &Received) -> Value {
    serde_json::from_str(&r.body).expect("json body")
}

async fn deliveries(s: &Demo, token: &str, hook: &str, query: &str) -> Vec<Value> {
    let out = s
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries{query}"),
            Some(token),
        )
        .await;
    out.as_array().expect("deliveries").clone()
}

/// The delivery log once `done` holds for it: the receiver sees a request before the
/// server has recorded its attempt, so a test that has just seen a request waits here.
async fn deliveries_when(
    s: &Demo,
    token: &str,
    hook: &str,
    query: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let log = deliveries(s, token, hook, query).await;
        if done(&log) {
            return log;
        }
        assert!(
            std::time::Instant::now() < until,
            "the delivery log of {hook} never got there: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn attempts(log: &[Value]) -> usize {
    log.first()
        .and_then(|d| d["attempts"].as_array())
        .map_or(0, Vec::len)
}

async fn webhooks(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, FAST);
    let (r, base) = receiver().await;
    let (org, other_org) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    let other = s.token(&["--role", "org_admin", "--organisation", &other_org]);
    let ministry = s.role("ministry_analyst");

    // Without a token there is nothing to subscribe with.
    let (status, _) = s
        .post(
            "/api/v1/webhooks",
            None,
            &json!({"url": format!("{base}/ok")}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Bad input is named.
    let (status, out) = s
        .post(
            "/api/v1/webhooks",
            Some(&own),
            &json!({"url": "ftp://example.org/", "types": ["nope"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    let fields: Vec<&str> = out["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"url") && fields.contains(&"types"),
        "{out}"
    );

    let (hook, secret) = subscribe(&s, &own, &format!("{base}/ok"), &["volunteer"]).await;
    let (_, other_secret) = subscribe(&s, &other, &format!("{base}/other"), &[]).await;
    let (_, ministry_secret) = subscribe(&s, &ministry, &format!("{base}/ministry"), &[]).await;
    // The secret is shown once: reads never carry it.
    let listed = s.get("/api/v1/webhooks", Some(&own)).await;
    assert_eq!(
        listed["items"].as_array().expect("items").len(),
        1,
        "{listed}"
    );
    assert!(!listed.to_string().contains(&secret));
    // Another caller's subscription is "not found", also for the federal admin.
    for t in [&other, &s.admin] {
        s.expect(
            &format!("/api/v1/webhooks/{hook}"),
            Some(t),
            StatusCode::NOT_FOUND,
        )
        .await;
    }

    // A volunteer of the organisation: delivered to its subscription, signed.
    let vid = create_volunteer(&s, &own, "HOOK-1").await;
    let got = r.wait("ok", 15, |g| !g.is_empty()).await;
    let d = &got[0];
    assert!(d.id.starts_with("msg_"), "{d:?}");
    let now = chrono::Utc::now().timestamp();
    let ts: i64 = d.timestamp.parse().expect("timestamp");
    assert!((now - ts).abs() < 60, "{d:?}");
    assert!(signed_with(d, &secret), "{d:?}");
    assert!(!signed_with(d, &other_secret), "{d:?}");
    dump(d, &secret, "created");
    let p = payload(d);
    assert_eq!(p["type"], "volunteer.created", "{p}");
    assert_eq!(p["data"]["id"], vid.as_str(), "{p}");
    assert_eq!(p["data"]["version"], 1, "{p}");
    assert!(
        p["data"]["cursor"].is_string() && p["timestamp"].is_string(),
        "{p}"
    );

    // A change the other organisation makes reaches its own receiver, never this one's;
    // neither ever sees the other's volunteer, and the ministry hears of no person.
    let other_vid = create_volunteer(&s, &other, "HOOK-OTHER-1").await;
    r.wait("other", 15, |g| {
        g.iter()
            .any(|x| payload(x)["data"]["id"] == other_vid.as_str())
    })
    .await;
    for x in r.on("other") {
        assert!(signed_with(&x, &other_secret));
        assert_ne!(payload(&x)["data"]["id"], vid.as_str(), "{x:?}");
    }
    // The published offering the ministry may read reaches it; people never do.
    let offering = s
        .get("/api/v1/offerings?first=1&published=true", Some(&s.admin))
        .await["items"][0]
        .clone();
    let oid = offering["id"].as_str().expect("offering").to_owned();
    let req = s
        .http
        .patch(s.url(&format!("/api/v1/offerings/{oid}")))
        .header("if-match", format!("\"{}\"", offering["version"]))
        .header("content-type", "application/merge-patch+json")
        .body(json!({"capacity": 77}).to_string());
    let (status, out) = s.send(req, Some(&s.admin)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let m = r
        .wait("ministry", 15, |g| {
            g.iter().any(|x| payload(x)["data"]["id"] == oid.as_str())
        })
        .await;
    for x in &m {
        let p = payload(x);
        assert!(signed_with(x, &ministry_secret));
        assert!(
            p["data"]["entity"] == "offering" || p["data"]["entity"] == "organisation",
            "the ministry heard of {p}"
        );
    }
    for x in r.on("ok") {
        assert_ne!(payload(&x)["data"]["id"], other_vid.as_str());
        assert_eq!(
            payload(&x)["data"]["entity"],
            "volunteer",
            "only the kinds asked for"
        );
    }

    // The delivery log: one attempt, delivered.
    let log = deliveries_when(&s, &own, &hook, "", |l| {
        l.first().is_some_and(|d| d["state"] != "pending")
    })
    .await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["attempts"][0]["status"], 204);
    s.expect(
        &format!("/api/v1/webhooks/{hook}/deliveries?state=lost"),
        Some(&own),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    for limit in ["0", "101"] {
        let path = format!("/api/v1/webhooks/{hook}/deliveries?limit={limit}");
        assert_eq!(s.invalid_field(&path, Some(&own)).await, "limit");
    }
    let g = s
        .graphql(
            &format!("{{ webhookDeliveries(id: \"{hook}\", first: 101) {{ state }} }}"),
            Some(&own),
        )
        .await;
    assert_eq!(g["errors"][0]["extensions"]["field"], "first", "{g}");

    // Redelivery sends the same delivery (same webhook-id) again.
    let did = log[0]["id"].as_str().expect("delivery");
    let (status, out) = s
        .post(
            &format!("/api/v1/webhooks/{hook}/deliveries/{did}/redeliver"),
            Some(&own),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    let again = r.wait("ok", 15, |g| g.len() >= 2).await;
    assert_eq!(again[1].id, again[0].id);
    // Another organisation cannot redeliver it.
    let (status, _) = s
        .post(
            &format!("/api/v1/webhooks/{hook}/deliveries/{did}/redeliver"),
            Some(&other),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Rotation: during the overlap each delivery is signed with both secrets.
    let (status, rotated) = s
        .post(
            &format!("/api/v1/webhooks/{hook}/rotate-secret"),
            Some(&own),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().expect("secret").to_owned();
    assert_ne!(new_secret, secret);
    assert!(
        rotated["webhook"]["previousSecretUntil"].is_string(),
        "{rotated}"
    );
    create_volunteer(&s, &own, "HOOK-2").await;
    let got = r.wait("ok", 15, |g| g.len() >= 3).await;
    let d = got.last().expect("delivery");
    assert_eq!(d.signature.split(' ').count(), 2, "{d:?}");
    assert!(
        signed_with(d, &new_secret) && signed_with(d, &secret),
        "{d:?}"
    );
    dump(d, &new_secret, "rotated");
    dump(d, &secret, "rotated-old");

    // The graph: the same subscriptions, the same rules.
    let g = s
        .graphql(
            &format!(
                "mutation {{ createWebhook(input: {{ url: \"{base}/graph\", types: [\"volunteer\"], description: \"CRM\" }}) {{ secret webhook {{ id version types }} }} }}"
            ),
            Some(&own),
        )
        .await;
    let made = &g["data"]["createWebhook"];
    assert!(
        made["secret"]
            .as_str()
            .is_some_and(|x| x.starts_with("whsec_")),
        "{g}"
    );
    assert_eq!(made["webhook"]["types"], json!(["volunteer"]), "{g}");
    let gid = made["webhook"]["id"].as_str().expect("id").to_owned();
    let g = s.graphql("{ webhooks { id } }", Some(&own)).await;
    assert_eq!(
        g["data"]["webhooks"].as_array().expect("list").len(),
        2,
        "{g}"
    );
    let g = s
        .graphql(
            &format!("{{ webhook(id: \"{gid}\") {{ id }} }}"),
            Some(&other),
        )
        .await;
    assert_eq!(refusal(&g).0, "NOT_FOUND", "{g}");
    let g = s
        .graphql(
            &format!(
                "mutation {{ updateWebhook(id: \"{gid}\", version: 1, input: {{ url: \"ftp://x\" }}) {{ id }} }}"
            ),
            Some(&own),
        )
        .await;
    assert_eq!(refusal(&g).0, "VALIDATION", "{g}");
    // A change keeps what it leaves out; `description: null` removes it.
    let g = s
        .graphql(
            &format!(
                "mutation {{ updateWebhook(id: \"{gid}\", version: 1, input: {{ description: null }}) {{ url types description version }} }}"
            ),
            Some(&own),
        )
        .await;
    let changed = &g["data"]["updateWebhook"];
    assert_eq!(changed["url"], format!("{base}/graph"), "{g}");
    assert_eq!(changed["types"], json!(["volunteer"]), "{g}");
    assert_eq!(changed["description"], Value::Null, "{g}");
    assert_eq!(changed["version"], 2, "{g}");
    let g = s.graphql("{ webhooks { id } }", None).await;
    assert!(
        g["errors"].is_array(),
        "anonymous callers have no subscriptions: {g}"
    );
    create_volunteer(&s, &own, "HOOK-3").await;
    r.wait("graph", 15, |g| !g.is_empty()).await;
    let g = s
        .graphql(
            &format!(
                "{{ webhookDeliveries(id: \"{gid}\") {{ state eventType attempts {{ status }} }} }}"
            ),
            Some(&own),
        )
        .await;
    assert_eq!(
        g["data"]["webhookDeliveries"][0]["eventType"], "volunteer.created",
        "{g}"
    );
}

async fn failures(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, FAST);
    let (r, base) = receiver().await;
    let (org, _) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    let (flaky, _) = subscribe(&s, &own, &format!("{base}/flaky"), &["volunteer"]).await;
    let (gone, _) = subscribe(&s, &own, &format!("{base}/gone"), &["volunteer"]).await;
    let (slow, _) = subscribe(&s, &own, &format!("{base}/slow"), &["volunteer"]).await;
    let (busy, _) = subscribe(&s, &own, &format!("{base}/busy"), &["volunteer"]).await;
    create_volunteer(&s, &own, "HOOK-F1").await;

    // 500, 500, then 200: delivered on the third attempt, one second apart.
    r.wait("flaky", 20, |g| g.len() >= 3).await;
    let log = deliveries_when(&s, &own, &flaky, "", |l| {
        l.first().is_some_and(|d| d["state"] == "delivered")
    })
    .await;
    let statuses: Vec<&Value> = log[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(204)], "{log:?}");
    assert_eq!(r.on("flaky").len(), 3);

    // 410: the subscription is disabled with the reason, nothing more is sent to it.
    r.wait("gone", 15, |g| !g.is_empty()).await;
    let hook = loop {
        let hook = s.get(&format!("/api/v1/webhooks/{gone}"), Some(&own)).await;
        if hook["enabled"] == false {
            break hook;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        hook["disabledReason"]
            .as_str()
            .expect("reason")
            .contains("410"),
        "{hook}"
    );

    // A receiver slower than the timeout: the attempt failed with "timed out", retried.
    r.wait("slow", 20, |g| g.len() >= 2).await;
    let log = deliveries_when(&s, &own, &slow, "", |l| attempts(l) >= 1).await;
    let first = &log[0]["attempts"][0];
    assert_eq!(first["status"], Value::Null, "{log:?}");
    assert_eq!(first["error"], "timed out", "{log:?}");

    // 503 with Retry-After: 3 waits at least 3 s although the schedule says 1 s.
    let got = r.wait("busy", 20, |g| g.len() >= 2).await;
    let log = deliveries_when(&s, &own, &busy, "", |l| attempts(l) >= 2).await;
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(log[0]["attempts"][i]["at"].as_str().expect("at"))
            .expect("time")
    };
    assert!(
        at(1) - at(0) >= chrono::Duration::milliseconds(2900),
        "{log:?}"
    );
    assert_eq!(got[0].id, got[1].id, "retries keep the webhook-id");

    // After the schedule is used up the delivery has failed and is listed as failed;
    // disabling and enabling again goes on from the present.
    let failed = deliveries_when(&s, &own, &slow, "?state=failed", |l| !l.is_empty()).await;
    assert_eq!(failed[0]["attempts"].as_array().expect("attempts").len(), 4);
    assert_eq!(failed[0]["nextAttemptAt"], Value::Null);
    let hook = s.get(&format!("/api/v1/webhooks/{gone}"), Some(&own)).await;
    let req = s
        .http
        .patch(s.url(&format!("/api/v1/webhooks/{gone}")))
        .header("if-match", format!("\"{}\"", hook["version"]))
        .json(&json!({"enabled": true, "url": format!("{base}/ok")}));
    let (status, out) = s.send(req, Some(&own)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["enabled"], true);
    assert_eq!(out["disabledReason"], Value::Null);
    let req = s
        .http
        .patch(s.url(&format!("/api/v1/webhooks/{gone}")))
        .header("if-match", format!("\"{}\"", hook["version"]))
        .json(&json!({"enabled": false}));
    let (status, _) = s.send(req, Some(&own)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "a stale version");
    create_volunteer(&s, &own, "HOOK-F2").await;
    r.wait("ok", 15, |g| !g.is_empty()).await;
    let (status, _) = s
        .send(
            s.http.delete(s.url(&format!("/api/v1/webhooks/{busy}"))),
            Some(&own),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    s.expect(
        &format!("/api/v1/webhooks/{busy}"),
        Some(&own),
        StatusCode::NOT_FOUND,
    )
    .await;
}

on_both_databases!(
    /// Signed deliveries, scope, the log, redelivery, rotation.
    webhooks => deliveries_are_signed_scoped_logged_and_rotated_sqlite,
    deliveries_are_signed_scoped_logged_and_rotated_postgres
);

on_both_databases!(
    /// Retries, 410, timeouts, Retry-After, failed deliveries, enabling again.
    failures => failed_attempts_are_retried_and_410_disables_sqlite,
    failed_attempts_are_retried_and_410_disables_postgres
);

/// Targets inside the server's network are refused by default: loopback, private,
/// link-local (cloud metadata) addresses, and plain http.
#[tokio::test]
async fn targets_inside_the_network_are_refused() {
    let s = Demo::start(None);
    let own = s.role("federal_admin");
    for url in [
        "http://crm.example.org/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
    ] {
        let (status, out) = s
            .post("/api/v1/webhooks", Some(&own), &json!({"url": url}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {out}");
        assert_eq!(out["fields"][0]["field"], "url", "{url}: {out}");
    }
    let (status, out) = s
        .post(
            "/api/v1/webhooks",
            Some(&own),
            &json!({"url": "https://crm.example.org/hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
}

/// Two server processes on one PostgreSQL database share the deliveries: 1,000 writes, each
/// change delivered once. Then a process is killed while it delivers (the receiver is slow,
/// so deliveries are in flight): after its leases run out the other sends them, and nothing
/// is lost.
#[tokio::test]
async fn two_processes_deliver_each_change_once_and_a_killed_one_loses_nothing() {
    let Some(pg) = PgDatabase::create() else {
        eprintln!("VERBUND_TEST_DATABASE_URL is not set: skipped on PostgreSQL");
        return;
    };
    let url = pg.url.clone();
    let s = Demo::start_with(Some(pg), FAST);
    let second_dir = verbund_e2e::TempDir::new();
    let second = Server::start(&second_dir.0, &["--database", &url], FAST);
    let (r, base) = receiver().await;
    let (org, _) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    subscribe(&s, &own, &format!("{base}/ok"), &["volunteer"]).await;

    let writes = 1000;
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (http, own) = (s.http.clone(), own.clone());
        let url = s.url("/api/v1/volunteers");
        tasks.push(tokio::spawn(async move {
            for i in 0..writes / 4 {
                let res = http
                    .post(&url)
                    .bearer_auth(&own)
                    .json(&json!({"reference": format!("TWO-{w}-{i}"), "capacity": 1, "languages": ["de"], "active": true}))
                    .send()
                    .await
                    .expect("write");
                assert_eq!(res.status(), StatusCode::CREATED);
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let got = r.wait("ok", 120, |g| g.len() >= writes).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got = r.on("ok").len().max(got.len());
    let ids: std::collections::HashSet<String> = r.on("ok").into_iter().map(|x| x.id).collect();
    assert_eq!(ids.len(), writes, "every change delivered");
    assert_eq!(got, writes, "and each once");

    // A process killed mid-delivery: the receiver answers slowly, so it holds leases.
    let (slow_hook, _) = subscribe(&s, &own, &format!("{base}/sluggish"), &["volunteer"]).await;
    let mut made = Vec::new();
    for i in 0..40 {
        made.push(create_volunteer(&s, &own, &format!("KILL-{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    // Kill the second process without a goodbye.
    second.kill();
    let got = r
        .wait("sluggish", 90, |g| {
            let ids: std::collections::HashSet<String> = g
                .iter()
                .map(|x| payload(x)["data"]["id"].to_string())
                .collect();
            made.iter().all(|m| ids.contains(&format!("\"{m}\"")))
        })
        .await;
    assert!(got.len() >= made.len());
    let log = deliveries(&s, &own, &slow_hook, "?limit=100").await;
    assert!(
        log.iter()
            .all(|d| d["state"] == "delivered" || d["state"] == "pending")
    );
}
