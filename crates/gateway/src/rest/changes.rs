//! The change feed: `GET /api/v1/changes` (see `verbund_persistence::changes`).

use super::extract::{Caller, Params};
use super::problem::{Problem, responses::*};
use crate::error::ApiError;
use crate::views::ChangesOut;
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use verbund_persistence::changes::FeedRequest;

#[derive(Deserialize, IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesParams {
    /// Where to go on from: a `cursor` (or `nextCursor`) of the feed; `now` for the
    /// present (an empty page whose `nextCursor` a tool keeps before it reads everything);
    /// absent for the oldest change the feed keeps.
    pub after: Option<String>,
    /// Kinds of record, comma-separated (e.g. `mentorship,volunteer`); all if absent.
    pub types: Option<String>,
    /// How many changes, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// What changed since a cursor, in commit order.
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangesParams),
    description = "Every create, update (including patches, transitions, imports, cascades and erasures) and deletion, in the order the changes committed, as far as the caller may read the record: `entered` and `left` when an update moved a record into or out of the caller's scope, `deleted` as a tombstone. Thin entries (kind, id, action, version, time): read the record for its data. A reader that follows `nextCursor` misses no change. The feed keeps changes for a configurable number of days (`privacy.change_feed_days`, default 30); an older cursor gets 410 `CURSOR_EXPIRED`: read everything again. Roles: every role, each its own scope (the ministry and anonymous callers see the public directory's changes only).",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of changes", body = ChangesOut),
        (status = 410, description = "The cursor is older than the feed keeps: read everything again", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A cursor, kind or limit that is not allowed (named)", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn changes(
    Caller(s): Caller,
    Params(p): Params<ChangesParams>,
) -> Result<Response, ApiError> {
    let types: Vec<String> = p.types.into_iter().collect();
    let req = FeedRequest::parse(p.after.as_deref(), (p.limit, "limit"), &types)?;
    Ok(Json(ChangesOut::from(s.changes(&req).await?)).into_response())
}
