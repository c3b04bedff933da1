//! A real OpenID Connect provider (oauth2-mock-server from npm, `tests/oidc/provider.mjs`)
//! in front of Verbund configured with its issuer only: keys found through discovery, role
//! and scope read from Keycloak-style claims (`realm_access.roles` with a prefix, a nested
//! network claim), a key rotation that refuses no valid token (an unknown key id fetches
//! the keys again at once), forged key ids that cost at most one fetch per interval, and
//! tokens for another audience, with no Verbund role or expired refused with 401.
//!
//! Needs `node` and `npm ci` in tests/oidc; CI does both and sets
//! `VERBUND_TEST_REQUIRE_OIDC`, so there the test cannot pass by finding neither.

use base64::Engine;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use verbund_e2e::{NO_RATE_LIMIT, Server, TempDir, graphql, state_id};

struct Provider {
    child: Child,
    issuer: String,
    control: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider() -> Option<Provider> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc");
    let required = std::env::var_os("VERBUND_TEST_REQUIRE_OIDC").is_some();
    if !dir.join("node_modules/oauth2-mock-server").exists() {
        assert!(
            !required,
            "run `npm ci` in tests/oidc: the provider is required here"
        );
        eprintln!("tests/oidc has no node_modules: nothing to run against");
        return None;
    }
    let mut child = Command::new("node")
        .arg(dir.join("provider.mjs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut issuer = String::new();
    let mut control = String::new();
    while issuer.is_empty() || control.is_empty() {
        let line = lines.next().expect("the provider's address").expect("read");
        if let Some(u) = line.strip_prefix("issuer ") {
            issuer = u.to_owned();
        } else if let Some(u) = line.strip_prefix("control ") {
            control = u.to_owned();
        }
    }
    Some(Provider {
        child,
        issuer,
        control,
    })
}

async fn control(p: &Provider, path: &str, body: Value) -> Value {
    let http = reqwest::Client::new();
    let req = if body.is_null() {
        http.get(format!("{}{path}", p.control))
    } else {
        http.post(format!("{}{path}", p.control)).json(&body)
    };
    req.send()
        .await
        .expect("control")
        .json()
        .await
        .expect("json")
}

async fn token(p: &Provider, claims: Value) -> String {
    let t = control(p, "/token", json!({ "claims": claims })).await;
    t["token"].as_str().expect("token").to_owned()
}

async fn fetches(p: &Provider) -> i64 {
    control(p, "/stats", Value::Null).await["jwksFetches"]
        .as_i64()
        .expect("count")
}

async fn status(server: &Server, token: &str) -> reqwest::StatusCode {
    answer(server, token).await.0
}

/// The status and the problem's detail (empty when answered).
async fn answer(server: &Server, token: &str) -> (reqwest::StatusCode, String) {
    let res = reqwest::Client::new()
        .get(server.url("/api/v1/mentorships?first=1"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (
        status,
        body["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn an_openid_connect_provider_signs_in_and_rotates_its_keys() {
    let Some(p) = provider() else {
        return;
    };
    let dir = TempDir::new();
    let mut env = NO_RATE_LIMIT.to_vec();
    env.extend([
        ("VERBUND_AUTH__ISSUER_URL", p.issuer.as_str()),
        ("VERBUND_AUTH__AUDIENCE", "verbund-api"),
        ("VERBUND_AUTH__CLAIMS__ROLE", "realm_access.roles"),
        ("VERBUND_AUTH__CLAIMS__ROLE_PREFIX", "verbund:"),
        ("VERBUND_AUTH__CLAIMS__NETWORK", "verbund.network"),
        // Only an unknown key id fetches the keys again during the test.
        ("VERBUND_AUTH__JWKS_REFRESH_SECS", "3600"),
        ("VERBUND_AUTH__JWKS_MIN_REFETCH_SECS", "5"),
    ]);
    let server = Server::start(&dir.0, &[], &env);
    let bavaria = state_id(&server, "DE-BY").await;
    let claims = |roles: Value| {
        json!({ "sub": "kc-user-1", "aud": ["verbund-api", "account"],
                "realm_access": { "roles": roles }, "verbund": { "network": bavaria } })
    };

    // A Keycloak-style token: the role among the realm roles, the network nested.
    let coordinator = token(
        &p,
        claims(json!(["offline_access", "verbund:state_coordinator"])),
    )
    .await;
    let me = graphql(
        &server,
        "{ me { role subject network { code } } }",
        Some(&coordinator),
    )
    .await;
    assert_eq!(me["data"]["me"]["role"], "state_coordinator", "{me}");
    assert_eq!(me["data"]["me"]["subject"], "kc-user-1");
    assert_eq!(me["data"]["me"]["network"]["code"], "DE-BY");
    assert_eq!(status(&server, &coordinator).await, reqwest::StatusCode::OK);

    // Refused: no Verbund role, another audience, expired.
    let unknown = token(&p, claims(json!(["offline_access", "uma_authorization"]))).await;
    let (code, why) = answer(&server, &unknown).await;
    assert_eq!(code, reqwest::StatusCode::UNAUTHORIZED);
    assert!(why.contains("role"), "{why}");
    let mut other = claims(json!(["verbund:state_coordinator"]));
    other["aud"] = json!("another-api");
    let other = token(&p, other).await;
    let (code, why) = answer(&server, &other).await;
    assert_eq!(code, reqwest::StatusCode::UNAUTHORIZED);
    assert!(why.contains("audience"), "{why}");
    let expired = control(
        &p,
        "/token",
        json!({ "claims": claims(json!(["verbund:state_coordinator"])), "expiresIn": -120 }),
    )
    .await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (code, why) = answer(&server, &expired).await;
    assert_eq!(code, reqwest::StatusCode::UNAUTHORIZED);
    assert!(why.contains("expired"), "{why}");

    // Rotation: the provider publishes a new key and signs with it; the first token under
    // it is accepted (one fetch), and the old key's token still is.
    let before = fetches(&p).await;
    let new_kid = control(&p, "/rotate", json!({})).await["kid"].clone();
    let rotated = token(&p, claims(json!(["verbund:state_coordinator"]))).await;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(rotated.split('.').next().expect("header"))
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(header["kid"], new_kid, "signed with the new key");
    assert_eq!(status(&server, &rotated).await, reqwest::StatusCode::OK);
    assert_eq!(
        fetches(&p).await,
        before + 1,
        "one fetch for the new key id"
    );
    assert_eq!(status(&server, &coordinator).await, reqwest::StatusCode::OK);

    // Forged key ids: refused, and within the interval they fetch nothing more.
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let body = rotated.split('.').nth(1).expect("payload").to_owned();
    for i in 0..10 {
        let forged = format!(
            "{}.{body}.c2lnbmF0dXJl",
            b64(&json!({ "alg": "RS256", "typ": "JWT", "kid": format!("forged-{i}") }))
        );
        let (code, why) = answer(&server, &forged).await;
        assert_eq!(code, reqwest::StatusCode::UNAUTHORIZED);
        assert!(why.contains("key id"), "{why}");
    }
    assert!(
        fetches(&p).await <= before + 2,
        "forged key ids fetch at most once per interval"
    );
    assert!(server.stop());
}
