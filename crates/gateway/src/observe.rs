//! What an operator watches: a request id on every response and log line, and metrics in
//! the Prometheus text format at `/metrics`.
//!
//! No label and no log field holds what a caller sent: requests are labelled by their route
//! template (`/api/v1/volunteers/{id}`, never the id or the query), GraphQL operations by
//! an operation name only when it is a plain GraphQL name and among the first
//! [`MAX_OPERATION_NAMES`] seen (else `other`), and a request id the client sends is kept
//! only when it is a short token of letters, digits and `-_.` (else a new one is made).

use crate::state::AppState;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";
/// Distinct GraphQL operation names kept as labels; later ones count as `other`.
pub const MAX_OPERATION_NAMES: usize = 200;

/// A request's id, as the request's extension.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The process's metrics recorder (one per process: the first server installs it).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets(&seconds)
                .and_then(PrometheusBuilder::install_recorder)
                .map_err(|e| tracing::warn!(error = %e, "metrics are not recorded"))
                .ok()?;
            metrics::gauge!("verbund_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            Some(handle)
        })
        .as_ref()
}

/// A client's request id if it is a short plain token, else a new one.
fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// The outermost layer: gives the request its id (returned in `x-request-id`), runs it in a
/// span that names the id, the method and the route template (so every log line of the
/// request carries them), writes one access log line, and counts it.
pub async fn track(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let id = request_id(req.headers().get(REQUEST_ID));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut res = next.run(req).instrument(span.clone()).await;
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(
            status,
            ms = elapsed.as_secs_f64() * 1000.0,
            "request finished"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("verbund_http_requests_total", &labels).increment(1);
    metrics::histogram!("verbund_http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    res
}

/// Counts a GraphQL operation by its name (bounded, see the module) and outcome.
pub fn graphql_operation(name: Option<&str>, ok: bool) {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let name = match name {
        None => "anonymous".to_owned(),
        Some(n)
            if (1..=64).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !n.as_bytes()[0].is_ascii_digit() =>
        {
            let seen = SEEN.get_or_init(Default::default);
            match seen.lock() {
                Ok(mut seen) if seen.contains(n) || seen.len() < MAX_OPERATION_NAMES => {
                    seen.insert(n.to_owned());
                    n.to_owned()
                }
                _ => "other".to_owned(),
            }
        }
        Some(_) => "other".to_owned(),
    };
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("verbund_graphql_operations_total", "operation" => name, "outcome" => outcome)
        .increment(1);
}

/// `/metrics`: the Prometheus text format. With `metrics.token` configured, only for a
/// caller that presents it as a bearer token (else 401); `metrics.enabled = false` turns
/// the endpoint off (404), and so does production mode without a token. The pool and the
/// webhook queue are read at each scrape.
pub async fn metrics_endpoint(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let config = &s.config.metrics;
    let token = config.token.as_ref().filter(|t| !t.0.is_empty());
    // In production the endpoint needs its token: without one it is not served at all.
    let production = s.config.mode == crate::config::Mode::Production;
    if !config.enabled || (production && token.is_none()) {
        return crate::error::ApiError::new(crate::error::Code::NotFound, "no such endpoint")
            .into_response();
    }
    if let Some(token) = token {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same(given.as_bytes(), token.0.as_bytes()) {
            return crate::error::ApiError::new(
                crate::error::Code::Unauthenticated,
                "the metrics need the configured metrics token",
            )
            .into_response();
        }
    }
    let Some(handle) = recorder() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let pool = s.store.pool_state();
    metrics::gauge!("verbund_db_pool_connections", "state" => "in_use").set(pool.in_use as f64);
    metrics::gauge!("verbund_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("verbund_db_pool_connections", "state" => "max").set(pool.max as f64);
    metrics::gauge!("verbund_db_writers_waiting").set(pool.writers_waiting as f64);
    match s.store.webhook_queue_depth().await {
        Ok(n) => metrics::gauge!("verbund_webhook_queue_depth").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "the webhook queue could not be counted"),
    }
    handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Compares without telling how much of a secret matched by the time it takes.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_kept_only_when_it_is_a_short_plain_token() {
        let keep = HeaderValue::from_static("crm-sync.42_a");
        assert_eq!(request_id(Some(&keep)), "crm-sync.42_a");
        for bad in ["", "a b", "x\u{7f}", &"a".repeat(65), "Erika Mustermann"] {
            let v = HeaderValue::from_str(bad).ok();
            let made = request_id(v.as_ref());
            assert_ne!(made, bad);
            assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
