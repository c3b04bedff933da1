//! Authentication through the router in process: every forged-token case is a 401 with a
//! reason and `extensions.code = UNAUTHENTICATED`; a good token scopes the caller; JWKS
//! keys are chosen by `kid` and rotate without a restart.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;
use verbund_domain::policy::Caller;
use verbund_gateway::auth::Authenticator;
use verbund_gateway::config::{AuthConfig, Config};
use verbund_gateway::http::router;
use verbund_gateway::state::AppState;
use verbund_persistence::Store;
use verbund_persistence::tables::{NetworkFilter, Networks};

/// A test-only secret, made up here and used nowhere else.
const SECRET: &str = "auth-test-secret-0123456789abcdef0123456789abcdef";

async fn seeded_store() -> Store {
    let store = Store::connect("sqlite::memory:").await.expect("db");
    store.migrate().await.expect("migrate");
    verbund_seed::seed_demo(&store, 3).await.expect("seed");
    store
}

fn app(store: Store, auth: Authenticator) -> axum::Router {
    let config = Config::default();
    router(AppState::new(store, auth, config))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(role: &str) -> Value {
    json!({ "sub": "tester", "role": role, "iss": "verbund", "aud": "verbund-api", "iat": now(), "nbf": now() - 10, "exp": now() + 600 })
}

fn hs256(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

const QUERY: &str = "{ organisations { totalCount } volunteers { totalCount } }";

async fn call(app: &axum::Router, auth: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::post("/graphql").header("content-type", "application/json");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = app
        .clone()
        .oneshot(
            req.body(Body::from(json!({ "query": QUERY }).to_string()))
                .expect("req"),
        )
        .await
        .expect("res");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("json"))
}

fn assert_refused(status: StatusCode, body: &Value, reason: &str) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(reason),
        "expected `{reason}` in `{message}`"
    );
    assert!(
        body["data"].is_null(),
        "no data with a refused token: {body}"
    );
}

async fn region_id(store: &Store) -> Uuid {
    let s = store.scoped(Caller::system()).await.expect("system");
    let f = NetworkFilter {
        level: Some(verbund_domain::network::NetworkLevel::Regional),
        ..Default::default()
    };
    s.list::<Networks>(
        &f,
        &verbund_persistence::PageRequest {
            first: 1,
            after: None,
        },
    )
    .await
    .expect("list")
    .items[0]
        .id
}

#[tokio::test]
async fn hs256_forged_token_cases_are_refused_with_their_reason() {
    let store = seeded_store().await;
    let app = app(
        store,
        Authenticator::with_secret(SECRET, &AuthConfig::default()),
    );
    let b = |t: String| format!("Bearer {t}");

    let mut expired = claims("federal_admin");
    expired["exp"] = json!(now() - 3600);
    let mut early = claims("federal_admin");
    early["nbf"] = json!(now() + 3600);
    let mut issuer = claims("federal_admin");
    issuer["iss"] = json!("someone-else");
    let mut audience = claims("federal_admin");
    audience["aud"] = json!("another-api");
    let mut unknown_role = claims("superuser");
    unknown_role["role"] = json!("superuser");
    let no_scope = claims("state_coordinator");
    let mut admin_with_scope = claims("federal_admin");
    admin_with_scope["network"] = json!(Uuid::now_v7());
    let mut unknown_network = claims("regional_coordinator");
    unknown_network["network"] = json!(Uuid::now_v7());
    let none_token = {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            enc(&json!({ "alg": "none", "typ": "JWT" })),
            enc(&claims("federal_admin"))
        )
    };
    let hs384 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS384),
        &claims("federal_admin"),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("sign");

    let mut cases: Vec<(&str, String, &str)> = vec![
        ("alg none", b(none_token), "malformed"),
        ("another algorithm", b(hs384), "algorithm"),
        (
            "wrong signature",
            b(hs256(
                &claims("federal_admin"),
                "another-secret-of-sufficient-length-0000",
            )),
            "signature",
        ),
        ("expired", b(hs256(&expired, SECRET)), "expired"),
        ("not yet valid", b(hs256(&early, SECRET)), "not valid yet"),
        ("wrong issuer", b(hs256(&issuer, SECRET)), "issuer"),
        ("wrong audience", b(hs256(&audience, SECRET)), "audience"),
        (
            "unknown role",
            b(hs256(&unknown_role, SECRET)),
            "role `superuser` is unknown",
        ),
        (
            "role without its scope claim",
            b(hs256(&no_scope, SECRET)),
            "needs a `network` claim",
        ),
        (
            "scope claim on a role without scope",
            b(hs256(&admin_with_scope, SECRET)),
            "takes no",
        ),
        (
            "scope that does not exist",
            b(hs256(&unknown_network, SECRET)),
            "does not exist",
        ),
        (
            "not a bearer header",
            format!("Basic {}", hs256(&claims("federal_admin"), SECRET)),
            "Bearer",
        ),
        ("garbage", "Bearer not.a.token".into(), "malformed"),
    ];
    for claim in ["exp", "nbf", "iss", "aud"] {
        let mut c = claims("federal_admin");
        c.as_object_mut().expect("object").remove(claim);
        cases.push(("missing claim", b(hs256(&c, SECRET)), claim));
    }
    for (name, header, reason) in cases {
        let (status, body) = call(&app, Some(&header)).await;
        eprintln!("case: {name}");
        assert_refused(status, &body, reason);
    }
}

#[tokio::test]
async fn no_token_is_anonymous_and_a_good_token_scopes_the_caller() {
    let store = seeded_store().await;
    let region = region_id(&store).await;
    let app = app(
        store,
        Authenticator::with_secret(SECRET, &AuthConfig::default()),
    );
    let (status, anon) = call(&app, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, admin) = call(
        &app,
        Some(&format!(
            "Bearer {}",
            hs256(&claims("federal_admin"), SECRET)
        )),
    )
    .await;
    let mut regional = claims("regional_coordinator");
    regional["network"] = json!(region);
    let (status, coordinator) =
        call(&app, Some(&format!("Bearer {}", hs256(&regional, SECRET)))).await;
    assert_eq!(status, StatusCode::OK, "{coordinator}");
    let total = |v: &Value, of: &str| v["data"][of]["totalCount"].as_u64().expect("count");
    // Every caller sees the public directory of all organisations; volunteers only in its
    // scope: none anonymously, a regional coordinator its region's.
    assert_eq!(
        total(&anon, "organisations"),
        total(&admin, "organisations")
    );
    assert_eq!(
        total(&coordinator, "organisations"),
        total(&admin, "organisations")
    );
    assert_eq!(total(&anon, "volunteers"), 0, "{anon}");
    assert!(
        total(&coordinator, "volunteers") >= 1
            && total(&coordinator, "volunteers") < total(&admin, "volunteers"),
        "{coordinator}"
    );
}

/// An ES256 key pair and its public JWK.
fn es256_key(kid: &str) -> (EncodingKey, Value) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .expect("pem");
    let point = secret.public_key().to_encoded_point(false);
    let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": enc(point.x().expect("x")), "y": enc(point.y().expect("y")),
    });
    (EncodingKey::from_ec_pem(pem.as_bytes()).expect("key"), jwk)
}

fn es256(key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&h, claims, key).expect("sign")
}

#[tokio::test]
async fn es256_keys_come_from_a_jwks_by_kid_and_rotate_without_restart() {
    let dir = std::env::temp_dir().join(format!("verbund-jwks-{}", Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("jwks.json");
    let (key1, jwk1) = es256_key("k1");
    std::fs::write(&path, json!({ "keys": [jwk1] }).to_string()).expect("write");
    let config = AuthConfig {
        algorithm: "ES256".into(),
        jwks: Some(path.display().to_string()),
        jwks_refresh_secs: 1,
        ..Default::default()
    };
    let auth = Authenticator::with_jwks(Algorithm::ES256, &path.display().to_string(), &config)
        .await
        .expect("jwks");
    let app = app(seeded_store().await, auth);
    let admin = claims("federal_admin");

    let (status, body) = call(
        &app,
        Some(&format!("Bearer {}", es256(&key1, Some("k1"), &admin))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Some(&format!("Bearer {}", es256(&key1, Some("k9"), &admin))),
    )
    .await;
    assert_refused(status, &body, "key id is unknown");
    let (status, body) = call(
        &app,
        Some(&format!("Bearer {}", es256(&key1, None, &admin))),
    )
    .await;
    assert_refused(status, &body, "no key id");
    let (status, body) = call(&app, Some(&format!("Bearer {}", hs256(&admin, SECRET)))).await;
    assert_refused(status, &body, "algorithm");
    // A token signed by another key under a known kid.
    let (other, _) = es256_key("k1");
    let (status, body) = call(
        &app,
        Some(&format!("Bearer {}", es256(&other, Some("k1"), &admin))),
    )
    .await;
    assert_refused(status, &body, "signature");

    // Rotate: k2 replaces k1 in the document; after the refresh, k2 works and k1 is gone.
    let (key2, jwk2) = es256_key("k2");
    std::fs::write(&path, json!({ "keys": [jwk2] }).to_string()).expect("write");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, _) = call(
            &app,
            Some(&format!("Bearer {}", es256(&key2, Some("k2"), &admin))),
        )
        .await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rotated key was never picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (status, body) = call(
        &app,
        Some(&format!("Bearer {}", es256(&key1, Some("k1"), &admin))),
    )
    .await;
    assert_refused(status, &body, "key id is unknown");
    let _ = std::fs::remove_dir_all(&dir);
}
