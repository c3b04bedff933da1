//! The axum router: health, readiness and GraphQL.

use crate::auth::AuthError;
use crate::error::{ApiError, Code};
use crate::rate::rate_limited;
use crate::state::{AppState, Authenticated, MAX_BODY, scoped_caller};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

pub fn router(state: AppState) -> Router {
    // Metrics are recorded from the first router of the process on.
    crate::observe::recorder();
    let guarded = axum::middleware::from_fn_with_state(state.clone(), guard);
    let (rest, api) = crate::rest::router();
    let api = std::sync::Arc::new(api);
    Router::new()
        .merge(rest)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let api = api.clone();
                async move { axum::Json(api.as_ref().clone()) }
            }),
        )
        .merge(
            utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
                .url("/api/v1/openapi-ui.json", crate::rest::router().1),
        )
        .fallback(|| async {
            crate::error::ApiError::new(crate::error::Code::NotFound, "no such endpoint")
        })
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::observe::metrics_endpoint))
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphiql/assets/{file}", get(graphiql_asset))
        .route("/dashboard", get(dashboard))
        .route("/dashboard/{file}", get(dashboard_asset))
        .layer(axum::middleware::map_response(bare_errors_as_problems))
        // The guard below reads every body within its own limits (1 MiB; a spreadsheet
        // import `server.import_max_bytes`); axum's 2 MB default for extractors would cut
        // a large import short.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(guarded)
        // A bug must not drop the connection: a panic becomes a 500 problem (and a log line).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send + 'static>| {
                tracing::error!("a request handler panicked");
                ApiError::new(Code::Internal, "internal error").into_response()
            },
        ))
        // Outermost: the request id, the span every log line of the request is written in,
        // and the metrics. It names the route template, never the path or the query: an id
        // or a search term can point at a person.
        .layer(axum::middleware::from_fn(crate::observe::track))
        .with_state(state)
}

/// Every request passes here first: the rate limits of its address (and, failing
/// authentication, the address's smaller budget for that) and of its token's subject; the
/// body, read whole within `server.body_read_timeout_secs` and `MAX_BODY` bytes; and the
/// handler, which must answer within `server.request_timeout_secs` (a spreadsheet import:
/// `server.import_max_bytes`, and `server.import_timeout_secs` for both).
async fn guard(
    State(s): State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use crate::rate::{Charge, Class};
    let addr = crate::serve::client_address(&req, s.config.rate_limit.trust_forwarded_for);
    if let Err(wait) = s.limiter.take(Class::Address, &addr, 1.0) {
        return too_many(wait, "from this address");
    }
    let auth = match req.headers().get(AUTHORIZATION) {
        None => s.auth.caller(None),
        Some(v) => match v.to_str() {
            Ok(h) => s.auth.caller_refreshing(Some(h)).await,
            Err(_) => Err(AuthError::BadHeader),
        },
    };
    let charge = |class, key: &str| Charge {
        limiter: s.limiter.clone(),
        class,
        key: key.to_owned(),
    };
    let charge = match &auth {
        Err(_) => {
            if let Err(wait) = s.limiter.take(Class::AuthFailure, &addr, 1.0) {
                return too_many(wait, "with failed authentication from this address");
            }
            charge(Class::Address, &addr)
        }
        Ok(c) if c.role == verbund_domain::policy::Role::Anonymous => charge(Class::Address, &addr),
        Ok(c) => {
            if let Err(wait) = s.limiter.take(Class::Subject, &c.subject, 1.0) {
                return too_many(wait, "for this token's subject");
            }
            charge(Class::Subject, &c.subject)
        }
    };
    req.extensions_mut()
        .insert(Authenticated(auth.map_err(|e| e.to_string())));
    req.extensions_mut().insert(charge);
    let server = s.config.server;
    // A spreadsheet import may be large and take long; everything else is small and quick.
    let import = req.method() == axum::http::Method::POST && req.uri().path().ends_with("/import");
    let (max_body, body_secs, request_secs) = if import {
        (
            server.import_max_bytes,
            server.import_timeout_secs,
            server.import_timeout_secs,
        )
    } else {
        (
            MAX_BODY,
            server.body_read_timeout_secs,
            server.request_timeout_secs,
        )
    };
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, max_body);
    let bytes = match tokio::time::timeout(std::time::Duration::from_secs(body_secs), read).await {
        Err(_) => {
            return ApiError::new(
                Code::RequestTimeout,
                format!("the body was not received within {body_secs} seconds"),
            )
            .into_response();
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return if too_large {
                ApiError::new(
                    Code::PayloadTooLarge,
                    format!("the body is larger than {max_body} bytes"),
                )
            } else {
                ApiError::new(Code::Malformed, "the body could not be read")
            }
            .into_response();
        }
        Ok(Ok(b)) => b,
    };
    let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    match tokio::time::timeout(std::time::Duration::from_secs(request_secs), next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            Code::Timeout,
            format!("the request took longer than {request_secs} seconds"),
        )
        .into_response(),
    }
}

/// 429 with `Retry-After`.
pub fn too_many(wait: std::time::Duration, whom: &str) -> axum::response::Response {
    rate_limited(wait, whom).into_response()
}

/// Errors produced below the handlers (the body limit, an unsupported method) come as
/// plain text; they are turned into problem documents like every other error.
async fn bare_errors_as_problems(res: axum::response::Response) -> axum::response::Response {
    let status = res.status();
    let is_plain = !res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !is_plain {
        return res;
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            Code::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY} bytes"),
        )
        .into_response(),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = res.headers().get(axum::http::header::ALLOW).cloned();
            let mut p = ApiError::new(Code::MethodNotAllowed, "this method is not allowed here")
                .into_response();
            if let Some(a) = allow {
                p.headers_mut().insert(axum::http::header::ALLOW, a);
            }
            p
        }
        _ => res,
    }
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Ready only when the database answers.
async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    if s.store.ping().await {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ready" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "database unavailable" })),
        )
    }
}

/// GraphiQL, served from the binary (vendored in `assets/graphiql`, no CDN), in the
/// development configuration only.
async fn graphiql(State(s): State<AppState>) -> axum::response::Response {
    if s.config.graphql.introspection {
        Html(include_str!("../assets/graphiql/index.html")).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn graphiql_asset(
    State(s): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    const JS: &str = "text/javascript; charset=utf-8";
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "graphiql.min.js" => (include_bytes!("../assets/graphiql/graphiql.min.js"), JS),
        "graphiql.min.css" => (
            include_bytes!("../assets/graphiql/graphiql.min.css"),
            "text/css; charset=utf-8",
        ),
        "react.production.min.js" => (
            include_bytes!("../assets/graphiql/react.production.min.js"),
            JS,
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../assets/graphiql/react-dom.production.min.js"),
            JS,
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if !s.config.graphql.introspection {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (axum::http::header::CONTENT_TYPE, kind),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

/// The dashboard's policy: its own files and its own API only, no inline script or style
/// attribute, never inside a frame, no referrer (a statistic's address can name a network).
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// The dashboard (`assets/dashboard`): one page of plain JavaScript over the public API, so
/// it shows exactly what the caller's token may read there. Served in every configuration.
async fn dashboard() -> axum::response::Response {
    dashboard_file("index.html")
}

async fn dashboard_asset(
    axum::extract::Path(file): axum::extract::Path<String>,
) -> axum::response::Response {
    dashboard_file(&file)
}

fn dashboard_file(file: &str) -> axum::response::Response {
    use axum::http::header;
    let (body, kind): (&'static str, &str) = match file {
        "index.html" => (
            include_str!("../assets/dashboard/index.html"),
            "text/html; charset=utf-8",
        ),
        "dashboard.js" => (
            include_str!("../assets/dashboard/dashboard.js"),
            "text/javascript; charset=utf-8",
        ),
        "dashboard.css" => (
            include_str!("../assets/dashboard/dashboard.css"),
            "text/css; charset=utf-8",
        ),
        "icon.svg" => (
            include_str!("../assets/dashboard/icon.svg"),
            "image/svg+xml",
        ),
        _ => return ApiError::new(Code::NotFound, "no such endpoint").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_SECURITY_POLICY, DASHBOARD_CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn graphql(
    State(s): State<AppState>,
    headers: HeaderMap,
    auth: Option<axum::Extension<Authenticated>>,
    charge: Option<axum::Extension<crate::rate::Charge>>,
    req: GraphQLRequest,
) -> axum::response::Response {
    let scoped = match scoped_caller(&s, auth.as_ref().map(|a| &a.0), &headers).await {
        Ok(scoped) => scoped,
        Err(e) => return graphql_error(e),
    };
    let mut req = req.into_inner();
    if let Err(e) = crate::graphql::limits::check(&mut req, &s.config.graphql) {
        return graphql_error(e);
    }
    let req = req
        .data(crate::graphql::types::Loaders::new(&scoped))
        .data(s.config.statistics)
        .data(s.statistics.clone())
        .data(std::sync::Arc::new(s.config.webhooks.clone()))
        .data(charge.map(|c| c.0))
        .data(scoped);
    let (query, operation) = (req.query.clone(), req.operation_name.clone());
    let mut res = s.schema.execute(req).await;
    crate::observe::graphql_operation(operation.as_deref(), res.errors.is_empty());
    crate::graphql::order::in_selection_order(&query, operation.as_deref(), &mut res.data);
    // Parse and validation errors of the engine carry no code of ours: they are the
    // caller's mistake.
    for e in &mut res.errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", Code::Validation.as_str());
        }
    }
    GraphQLResponse::from(res).into_response()
}

/// A request refused before execution, as a GraphQL error body with the matching status.
fn graphql_error(e: ApiError) -> axum::response::Response {
    use async_graphql::ErrorExtensions;
    let status = e.code.status();
    let err = e.extend().into_server_error(async_graphql::Pos::default());
    let body = async_graphql::Response::from_errors(vec![err]);
    (status, GraphQLResponse::from(body)).into_response()
}
