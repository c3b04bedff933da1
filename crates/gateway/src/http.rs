//! The axum router: health, readiness and GraphQL.

use crate::auth::AuthError;
use crate::config::Config;
use crate::error::{ApiError, Code};
use crate::graphql::VerbundSchema;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use verbund_domain::policy::Caller;
use verbund_persistence::{Scoped, Store};

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<crate::auth::Authenticator>,
    pub schema: VerbundSchema,
    pub config: Arc<Config>,
    /// Answered statistics of the current version of the cells.
    pub statistics: Arc<crate::statistics::Cache>,
}

pub fn router(state: AppState) -> Router {
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
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphiql/assets/{file}", get(graphiql_asset))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(bare_errors_as_problems))
        // A bug must not drop the connection: a panic becomes a 500 problem (and a log line).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send + 'static>| {
                tracing::error!("a request handler panicked");
                ApiError::new(Code::Internal, "internal error").into_response()
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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
            let mut p =
                ApiError::new(Code::Malformed, "this method is not allowed here").into_response();
            *p.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
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

/// The caller of a request, bound to the store: authentication happens here, once.
pub async fn scoped_caller(s: &AppState, headers: &HeaderMap) -> Result<Scoped, ApiError> {
    let header =
        match headers.get(AUTHORIZATION) {
            None => None,
            Some(v) => Some(v.to_str().map_err(|_| {
                ApiError::new(Code::Unauthenticated, AuthError::BadHeader.to_string())
            })?),
        };
    let caller: Caller = s
        .auth
        .caller(header)
        .map_err(|e| ApiError::new(Code::Unauthenticated, e.to_string()))?;
    Ok(s.store.scoped(caller).await?)
}

async fn graphql(
    State(s): State<AppState>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> axum::response::Response {
    let scoped = match scoped_caller(&s, &headers).await {
        Ok(scoped) => scoped,
        Err(e) => return graphql_error(e),
    };
    let mut req = req.into_inner();
    if let Err(e) = crate::graphql::limits::check(&mut req, &s.config.graphql) {
        return graphql_error(e);
    }
    // The public directory is the same for every caller.
    let public = match s.store.scoped(Caller::anonymous()).await {
        Ok(p) => p,
        Err(e) => return graphql_error(ApiError::from(e)),
    };
    let req = req
        .data(crate::graphql::types::Loaders::new(&scoped))
        .data(crate::graphql::query::PublicScope(public))
        .data(s.config.statistics)
        .data(s.statistics.clone())
        .data(scoped);
    let mut res = s.schema.execute(req).await;
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
