//! The router in process (no socket): health, readiness and the GraphQL error contract.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use verbund_gateway::config::Config;
use verbund_gateway::http::router;
use verbund_gateway::state::AppState;
use verbund_persistence::Store;

/// A test-only secret, made up here and used nowhere else.
const SECRET: &str = "router-test-secret-0123456789abcdef0123456789";

async fn app() -> axum::Router {
    let store = Store::connect("sqlite::memory:").await.expect("db");
    store.migrate().await.expect("migrate");
    let config = Config::default();
    let auth = verbund_gateway::auth::Authenticator::with_secret(SECRET, &config.auth);
    router(AppState::new(store, auth, config))
}

async fn post_graphql(app: axum::Router, query: &str) -> (StatusCode, serde_json::Value) {
    let body = serde_json::json!({ "query": query }).to_string();
    let res = app
        .oneshot(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("json"))
}

/// A response's body as text.
async fn text(res: axum::response::Response) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf8")
}

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = app().await;
    for path in ["/healthz", "/readyz"] {
        let res = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("req"))
            .await
            .expect("res");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn an_empty_database_lists_no_networks() {
    let (status, body) = post_graphql(
        app().await,
        "{ networks { totalCount edges { node { id } } } }",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["networks"]["totalCount"], 0, "{body}");
}

#[tokio::test]
async fn first_above_the_maximum_is_a_validation_error() {
    let (_, body) = post_graphql(app().await, "{ organisations(first: 101) { totalCount } }").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
}

#[tokio::test]
async fn a_malformed_id_names_the_argument() {
    let (_, body) = post_graphql(app().await, r#"{ network(id: "nope") { name } }"#).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");
}

#[tokio::test]
async fn an_oversize_body_is_refused_with_413() {
    let big = format!(
        "{{\"query\":\"{{ networks {{ totalCount }} }}\",\"x\":\"{}\"}}",
        "a".repeat(verbund_gateway::state::MAX_BODY + 1)
    );
    let res = app()
        .await
        .oneshot(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("content-length", big.len())
                .body(Body::from(big))
                .expect("req"),
        )
        .await
        .expect("res");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn graphiql_is_served_from_the_binary_without_any_external_resource() {
    let app = app().await;
    let res = app
        .clone()
        .oneshot(Request::get("/graphql").body(Body::empty()).expect("req"))
        .await
        .expect("res");
    assert_eq!(res.status(), StatusCode::OK);
    let html = text(res).await;
    assert!(html.contains("GraphiQL"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resource in the page"
    );
    let mut assets = 0;
    for src in html
        .split('"')
        .filter(|s| s.starts_with("/graphiql/assets/"))
    {
        let res = app
            .clone()
            .oneshot(Request::get(src).body(Body::empty()).expect("req"))
            .await
            .expect("res");
        assert_eq!(res.status(), StatusCode::OK, "{src}");
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert!(body.len() > 1000, "{src} has content");
        assets += 1;
    }
    assert_eq!(assets, 4, "css, react, react-dom, graphiql");
    let missing = app
        .oneshot(
            Request::get("/graphiql/assets/nope.js")
                .body(Body::empty())
                .expect("req"),
        )
        .await
        .expect("res");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_is_served_from_the_binary_under_a_strict_policy() {
    let app = app().await;
    let get = |path: &str| {
        let app = app.clone();
        let req = Request::get(path).body(Body::empty()).expect("req");
        async move { app.oneshot(req).await.expect("res") }
    };
    let page = get("/dashboard").await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    // No inline script or style attribute, nothing from elsewhere, never in a frame.
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp} lacks {part}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = text(page).await;
    assert!(html.contains("<html lang=\"de\">"), "German by default");
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script>"), "no inline script");
    let mut files = 0;
    for src in html.split('"').filter(|s| s.starts_with("/dashboard/")) {
        let res = get(src).await;
        assert_eq!(res.status(), StatusCode::OK, "{src}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let body = text(res).await;
        assert!(!body.contains("https://"), "{src} names nothing elsewhere");
        // Server data goes in as text: the script never parses HTML.
        assert!(!body.contains("innerHTML"), "{src}");
        files += 1;
    }
    assert_eq!(files, 3, "icon, css, js");
    assert_eq!(
        get("/dashboard/nope.js").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/dashboard/..%2FCargo.toml").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn many_aliases_are_refused_with_a_clear_error() {
    let aliases: Vec<String> = (0..40).map(|i| format!("a{i}: __typename")).collect();
    let (status, body) = post_graphql(app().await, &format!("{{ {} }}", aliases.join(" "))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "TOO_COMPLEX",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("aliases"),
        "{body}"
    );
}

#[tokio::test]
async fn too_deep_queries_are_refused_with_a_code() {
    let q = "{ federal { children { edges { node { children { edges { node { organisations { edges { node { memberOrganisations { edges { node { contacts { edges { node { name } } } } } } } } } } } } } } } } }";
    let (_, body) = post_graphql(app().await, q).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "VALIDATION",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("deep"),
        "{body}"
    );
}

#[tokio::test]
async fn a_production_configuration_turns_introspection_and_graphiql_off() {
    let store = Store::connect("sqlite::memory:").await.expect("db");
    store.migrate().await.expect("migrate");
    let mut config = Config::default();
    config.graphql.introspection = false;
    let auth = verbund_gateway::auth::Authenticator::with_secret(SECRET, &config.auth);
    let app = router(AppState::new(store, auth, config));
    let (_, body) = post_graphql(app.clone(), "{ __schema { types { name } } }").await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection answers nothing: {body}"
    );
    let res = app
        .oneshot(Request::get("/graphql").body(Body::empty()).expect("req"))
        .await
        .expect("res");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
