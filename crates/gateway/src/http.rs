//! The axum router: health, readiness and GraphQL.

use crate::config::Config;
use crate::graphql::VerbundSchema;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use std::sync::Arc;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use verbund_domain::policy::Caller;
use verbund_persistence::Store;

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub schema: VerbundSchema,
    pub config: Arc<Config>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/graphql", get(graphiql).post(graphql))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
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

async fn graphiql(State(s): State<AppState>) -> impl IntoResponse {
    if s.config.graphql.introspection {
        Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

async fn graphql(State(s): State<AppState>, req: GraphQLRequest) -> GraphQLResponse {
    let req = req.into_inner();
    // Authentication arrives with the access-control issue; until then every caller is
    // anonymous and sees the public directory.
    match s.store.scoped(Caller::anonymous()).await {
        Ok(scoped) => s.schema.execute(req.data(scoped)).await.into(),
        Err(e) => {
            use async_graphql::ErrorExtensions;
            let err = crate::error::ApiError::from(e).extend();
            async_graphql::Response::from_errors(vec![
                err.into_server_error(async_graphql::Pos::default()),
            ])
            .into()
        }
    }
}
