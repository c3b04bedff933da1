//! What every request handler shares: the application state, the caller bound to the
//! store, the body limit and the rate-limit error. Below both doors (REST, GraphQL) and
//! the router, so that none of them imports another.

use crate::auth::AuthError;
use crate::config::Config;
use crate::error::{ApiError, Code};
use crate::graphql::VerbundSchema;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use std::sync::Arc;
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
    pub limiter: Arc<crate::rate::Limiter>,
}

impl AppState {
    pub fn new(store: Store, auth: crate::auth::Authenticator, config: Config) -> AppState {
        AppState {
            schema: crate::graphql::schema(&config.graphql),
            limiter: Arc::new(crate::rate::Limiter::new(config.rate_limit)),
            statistics: Default::default(),
            store,
            auth: Arc::new(auth),
            config: Arc::new(config),
        }
    }
}

/// The outcome of authenticating a request, once, in [`guard`].
#[derive(Clone)]
pub struct Authenticated(pub Result<Caller, String>);

/// The caller of a request, bound to the store: authenticated once, in [`guard`] (or
/// here, for a request that did not pass it).
pub async fn scoped_caller(
    s: &AppState,
    authenticated: Option<&Authenticated>,
    headers: &HeaderMap,
) -> Result<Scoped, ApiError> {
    let caller: Result<Caller, String> = match authenticated {
        Some(a) => a.0.clone(),
        None => match headers.get(AUTHORIZATION).map(|v| v.to_str()) {
            None => s.auth.caller(None),
            Some(Err(_)) => Err(AuthError::BadHeader),
            Some(Ok(h)) => s.auth.caller_refreshing(Some(h)).await,
        }
        .map_err(|e| e.to_string()),
    };
    let caller = caller.map_err(|e| ApiError::new(Code::Unauthenticated, e))?;
    Ok(s.store.scoped(caller).await?)
}
