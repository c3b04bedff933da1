//! Webhook subscriptions: `/api/v1/webhooks` (see `verbund_persistence::webhooks` and the
//! dispatcher in `crate::webhooks`).

use super::extract::{Body, Params, Writer, parse_id};
use super::handlers::{etag, if_match, precondition};
use super::problem::{Problem, responses::*};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::ETAG};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use verbund_domain::webhook::{Webhook, WebhookInput};
use verbund_domain::{Reason, ValidationErrors};
use verbund_persistence::webhooks::{Delivery, Subscription, SubscriptionWithSecret, WebhookPatch};

const ROLES: &str = "Roles: every role with a token; a subscription belongs to the caller that made it (the same subject, role and anchor) and is \"not found\" for everyone else. It carries only the changes its owner may read, decided by the same policy as the change feed (the ministry hears of no person).";

/// The caller's subscriptions.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Subscription>,
}

/// What a `PATCH` may change; absent fields stay as they are.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookPatchIn {
    pub url: Option<String>,
    pub types: Option<Vec<String>>,
    /// `null` removes it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `true` enables a disabled subscription again, from the present on (changes made
    /// while it was disabled are not delivered); `false` disables it.
    pub enabled: Option<bool>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// `pending`, `delivered` or `failed` (all if absent).
    pub state: Option<String>,
    /// How many, newest first: 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Deliveries created in a time range, to send again.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeliverRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// How many deliveries were queued again.
#[derive(Serialize, ToSchema)]
pub struct Redelivered {
    pub redelivered: u64,
}

fn with_etag(status: StatusCode, version: i32, body: impl Serialize) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(ETAG, etag(version));
    res
}

/// Subscribe to changes.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    description = "From now on, every change of the kinds asked for that the caller may read is posted to `url` as JSON (`{type, timestamp, data: {entity, id, action, version, at, cursor}}`), signed as Standard Webhooks 1.0 asks: headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` with the secret, which is returned here once). A 2xx answer ends a delivery; 410 disables the subscription; anything else, a timeout or no connection is retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (with jitter; 429 and 503 wait at least their `Retry-After`), then the delivery has failed. Targets must be `https` and must not resolve to loopback, private or link-local addresses unless the server allows them (`webhooks.allow_http`, `webhooks.allow_private_targets`); redirects are not followed. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed; the secret is shown only now", body = SubscriptionWithSecret),
        (status = 422, description = "A URL, kind or description that is not allowed (named)", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, BodyRefused,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Writer(s): Writer,
    body: Body<WebhookInput>,
) -> Result<Response, ApiError> {
    let config = &state.config.webhooks;
    let hook = Webhook::parse(body.value, config.targets())?;
    let made = s.create_webhook(hook, config.max_per_owner).await?;
    let version = made.webhook.version;
    Ok(with_etag(StatusCode::CREATED, version, made))
}

/// The caller's subscriptions.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", description = ROLES,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscriptions, oldest first", body = WebhookList),
        Unauthorized,
    ))]
pub async fn list(Writer(s): Writer) -> Result<Response, ApiError> {
    let items = s.webhooks().await?;
    Ok(Json(WebhookList { items }).into_response())
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", description = ROLES,
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The subscription", body = Subscription, headers(("ETag" = String, description = "The version, for If-Match"))),
        Malformed, Unauthorized, NotFound,
    ))]
pub async fn get(Writer(s): Writer, Path(id): Path<String>) -> Result<Response, ApiError> {
    let w = s.webhook(parse_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, w.version, w))
}

/// Change a subscription.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", request_body = WebhookPatchIn,
    description = "Changes the URL, kinds or description, or enables (from the present on) or disables the subscription. Needs `If-Match` with the ETag read before. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID"),
           ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed subscription", body = Subscription, headers(("ETag" = String, description = "The new version"))),
        (status = 422, description = "A value that is not allowed (named)", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, NotFound, BodyRefused, Versioned,
    ))]
pub async fn patch(
    State(state): State<AppState>,
    Writer(s): Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<WebhookPatchIn>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let expected = if_match(&headers)?;
    let current = s.webhook(id).await?;
    let p = body.value;
    let webhook = current
        .patched(p.url, p.types, p.description)
        .map(|input| Webhook::parse(input, state.config.webhooks.targets()))
        .transpose()?;
    let w = s
        .update_webhook(
            id,
            expected.unwrap_or(current.version),
            WebhookPatch {
                webhook,
                enabled: p.enabled,
            },
        )
        .await
        .map_err(precondition)?;
    Ok(with_etag(StatusCode::OK, w.version, w))
}

/// Delete a subscription.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    description = "Deletes the subscription, its pending deliveries and its delivery log. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        Malformed, Unauthorized, NotFound,
    ))]
pub async fn delete(Writer(s): Writer, Path(id): Path<String>) -> Result<Response, ApiError> {
    s.delete_webhook(parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Rotate the secret.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    description = "A new secret, shown once. For `webhooks.rotation_overlap_hours` (default 24) every delivery carries two signatures in `webhook-signature`, one with the new secret and one with the old, so the receiver can switch without losing a delivery. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret", body = SubscriptionWithSecret),
        Malformed, Unauthorized, NotFound,
    ))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Writer(s): Writer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let hours = i64::try_from(state.config.webhooks.rotation_overlap_hours).unwrap_or(24);
    let made = s
        .rotate_webhook_secret(parse_id(&id)?, chrono::Duration::hours(hours))
        .await?;
    let version = made.webhook.version;
    Ok(with_etag(StatusCode::OK, version, made))
}

/// The delivery log.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    description = "The subscription's deliveries, newest first, with every attempt (time, HTTP status or why there was none, duration). `state=failed` lists the failed ones. Delivered deliveries are kept `webhooks.delivered_retention_days` (7), failed ones `webhooks.failed_retention_days` (30). Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID"), DeliveryParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deliveries", body = Vec<Delivery>),
        (status = 422, description = "A state or limit that is not allowed (named)", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, NotFound,
    ))]
pub async fn deliveries(
    Writer(s): Writer,
    Path(id): Path<String>,
    Params(p): Params<DeliveryParams>,
) -> Result<Response, ApiError> {
    let items = s
        .webhook_deliveries(parse_id(&id)?, p.state.as_deref(), ("limit", p.limit))
        .await?;
    Ok(Json(items).into_response())
}

/// Send one delivery again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", tag = "webhooks",
    description = "Queues the delivery again at once (with the same `webhook-id`, so a receiver that already has it can tell), whatever its state; its retries start over. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID"),
           ("delivery" = uuid::Uuid, Path, description = "The delivery's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued", body = Redelivered),
        Malformed, Unauthorized, NotFound,
    ))]
pub async fn redeliver_one(
    Writer(s): Writer,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let n = s
        .redeliver(parse_id(&id)?, Some(parse_id(&delivery)?), None)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Redelivered { redelivered: n })).into_response())
}

/// Send the deliveries of a time range again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/redeliver", tag = "webhooks", request_body = RedeliverRange,
    description = "Queues again every delivery of the subscription created from `from` to `to` (failed and delivered alike; at most 31 days), e.g. after the receiver was down. Roles: every role with a token, for its own subscriptions only (another caller's are \"not found\").",
    params(("id" = uuid::Uuid, Path, description = "The subscription's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued", body = Redelivered),
        (status = 422, description = "A range that ends before it starts or is longer than 31 days", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, NotFound, BodyRefused,
    ))]
pub async fn redeliver_range(
    Writer(s): Writer,
    Path(id): Path<String>,
    body: Body<RedeliverRange>,
) -> Result<Response, ApiError> {
    let RedeliverRange { from, to } = body.value;
    if to < from {
        return Err(ValidationErrors::single("to", Reason::EndBeforeStart).into());
    }
    if to - from > chrono::Duration::days(31) {
        return Err(ValidationErrors::single(
            "to",
            Reason::Rule("must be at most 31 days after `from`"),
        )
        .into());
    }
    let n = s.redeliver(parse_id(&id)?, None, Some((from, to))).await?;
    Ok((StatusCode::ACCEPTED, Json(Redelivered { redelivered: n })).into_response())
}
