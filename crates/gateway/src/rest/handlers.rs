//! The generic REST operations, shared by every resource: list, get, create (with
//! idempotency keys), replace and delete (with `If-Match`). They call the same store and
//! policy as GraphQL; no rule lives here.

use super::extract::{ListQuery, Split, does_not_fit};
use super::problem::malformed;
use crate::error::{ApiError, Code};
use crate::filters::ListFilter;
use crate::state::AppState;
use axum::http::header::{ETAG, IF_MATCH, IF_NONE_MATCH, LINK, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use sha2::Digest;
use utoipa::ToSchema;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_persistence::{Conflict, Idempotency, PageRequest, Scoped, StoreError, Table};

/// A page of records in a stable order.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next page (`after`), absent on the last page.
    pub next_cursor: Option<String>,
    /// The URL of the next page, absent on the last page (also in the `Link` header).
    pub next: Option<String>,
    /// How many records match across all pages; only with `?total=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

pub(crate) fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The version named by `If-Match`, required on every change. `*` means "whatever is
/// current" and skips the check.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(raw) = headers.get(IF_MATCH) else {
        return Err(ApiError::new(
            Code::PreconditionRequired,
            "this change needs an If-Match header with the record's ETag",
        ));
    };
    let raw = raw
        .to_str()
        .map_err(|_| malformed("If-Match is not text"))?
        .trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i32>()
        .map(Some)
        .map_err(|_| {
            ApiError::new(
                Code::PreconditionFailed,
                format!("If-Match `{raw}` is not an ETag of this API"),
            )
        })
}

/// The version a write expects: the If-Match ETag, or for `*` the current one.
async fn expected_version<T: Table>(
    s: &Scoped,
    id: Uuid,
    headers: &HeaderMap,
) -> Result<i32, ApiError> {
    Ok(match if_match(headers)? {
        Some(v) => v,
        None => s.get::<T>(id).await?.version,
    })
}

/// A stale version in a precondition is a 412, other conflicts stay 409.
pub(crate) fn precondition(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(c @ Conflict::StaleVersion { .. }) => {
            ApiError::new(Code::PreconditionFailed, c.to_string())
        }
        other => other.into(),
    }
}

pub fn record_response<T, O: Serialize + From<Record<T>>>(
    status: StatusCode,
    r: Record<T>,
    location: Option<String>,
) -> Response {
    let version = r.version;
    let mut res = (status, axum::Json(O::from(r))).into_response();
    res.headers_mut().insert(ETAG, etag(version));
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(LOCATION, l);
    }
    res
}

fn next_link(uri: &Uri, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(uri.query().unwrap_or(""))
            .unwrap_or_default();
    pairs.retain(|(k, _)| k != "after");
    pairs.push(("after".into(), cursor.into()));
    format!(
        "{}?{}",
        uri.path(),
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}

pub async fn list<T, F, O>(s: Scoped, query: ListQuery<F>, uri: &Uri) -> Result<Response, ApiError>
where
    T: Table,
    F: ListFilter<Store = T::Filter>,
    O: Serialize + From<Record<T::Data>>,
{
    let Split(paging, filter) = query;
    let request = PageRequest::parse(paging.first.map(i64::from), paging.after.as_deref())?;
    let filter = filter.parse()?;
    let total = if paging.total == Some(true) {
        Some(s.count::<T>(&filter).await?)
    } else {
        None
    };
    let page = s.list::<T>(&filter, &request).await?;
    let next_cursor = if page.has_next {
        page.end_cursor()
    } else {
        None
    };
    let next = next_cursor.as_ref().map(|c| next_link(uri, c));
    let link = next
        .as_ref()
        .and_then(|n| HeaderValue::from_str(&format!("<{n}>; rel=\"next\"")).ok());
    let body = Page {
        items: page.items.into_iter().map(O::from).collect::<Vec<O>>(),
        next_cursor,
        next,
        total,
    };
    let mut res = axum::Json(body).into_response();
    if let Some(l) = link {
        res.headers_mut().insert(LINK, l);
    }
    Ok(res)
}

/// One record; `If-None-Match` with its current ETag (or `*`) is answered 304 without a
/// body.
pub async fn get<T: Table, O: Serialize + From<Record<T::Data>>>(
    s: Scoped,
    id: Uuid,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let r = s.get::<T>(id).await?;
    let current = etag(r.version);
    let unchanged = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag.as_bytes() == current.as_bytes());
    if unchanged {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        res.headers_mut().insert(ETAG, current);
        return Ok(res);
    }
    Ok(record_response::<_, O>(StatusCode::OK, r, None))
}

/// Creates a record; with an `Idempotency-Key`, the first response to the key is replayed
/// for 24 hours, and the key with another body is refused.
pub async fn create<T, I, O>(
    state: &AppState,
    s: Scoped,
    headers: &HeaderMap,
    input: I,
    hash: &str,
    collection: &str,
) -> Result<Response, ApiError>
where
    T: Table,
    I: Into<T::Input>,
    O: Serialize + From<Record<T::Data>>,
{
    // Any non-empty value is a key; it is stored hashed, so its length and bytes do not matter.
    let key = headers
        .get("idempotency-key")
        .map(|v| v.as_bytes())
        .filter(|v| !v.iter().all(u8::is_ascii_whitespace))
        .map(|v| v.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .map(|hex| {
            if hex.len() > 128 {
                format!("{:x}", sha2::Sha256::digest(hex.as_bytes()))
            } else {
                hex
            }
        });
    let subject = s.caller().subject.clone();
    if let Some(k) = &key {
        match state
            .store
            .idempotency_reserve(s.caller(), k, collection, hash)
            .await?
        {
            Idempotency::Reserved => {}
            Idempotency::InProgress => {
                return Err(ApiError::new(
                    Code::Conflict,
                    "a request with this Idempotency-Key is still in progress",
                ));
            }
            Idempotency::Mismatch => {
                return Err(ApiError {
                    code: Code::Validation,
                    message: "this Idempotency-Key was used for a different request".into(),
                    fields: vec![(
                        "Idempotency-Key".into(),
                        "was used for a different request".into(),
                    )],
                    retry_after: None,
                });
            }
            Idempotency::OtherCaller => {
                return Err(ApiError {
                    code: Code::Validation,
                    message: "this Idempotency-Key was used by another caller (role or scope)"
                        .into(),
                    fields: vec![(
                        "Idempotency-Key".into(),
                        "was used by another caller".into(),
                    )],
                    retry_after: None,
                });
            }
            Idempotency::Replay { status, body } => return Ok(replay(status, body, collection)),
        }
    }
    let result = s.create::<T>(input.into()).await;
    let (status, body, response) = match result {
        Ok(r) => {
            let location = format!("{collection}/{}", r.id);
            let res = record_response::<_, O>(StatusCode::CREATED, r, Some(location));
            let (parts, b) = res.into_parts();
            let bytes = axum::body::to_bytes(b, usize::MAX)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            (
                parts.status,
                text,
                Response::from_parts(parts, axum::body::Body::from(bytes)),
            )
        }
        Err(e) => {
            let e = ApiError::from(e);
            let problem =
                serde_json::to_string(&super::problem::Problem::from(&e)).unwrap_or_default();
            (e.code.status(), problem, e.into_response())
        }
    };
    if let Some(k) = &key {
        let keep = (!status.is_server_error()).then_some((status.as_u16(), body.as_str()));
        state.store.idempotency_finish(&subject, k, keep).await?;
    }
    Ok(response)
}

/// The stored first response to an idempotency key.
fn replay(status: u16, body: String, collection: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let content_type = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut res = (
        status,
        [(axum::http::header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response();
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let (Some(id), Some(version)) = (
        value.get("id").and_then(|v| v.as_str()),
        value.get("version").and_then(serde_json::Value::as_i64),
    ) {
        res.headers_mut()
            .insert(ETAG, etag(i32::try_from(version).unwrap_or(0)));
        if let Ok(l) = HeaderValue::from_str(&format!("{collection}/{id}")) {
            res.headers_mut().insert(LOCATION, l);
        }
    }
    res
}

/// How a PUT or PATCH body meets the record it replaces.
#[derive(Clone, Copy)]
pub enum Write {
    /// The whole representation (PUT).
    Replace,
    /// A JSON Merge Patch (RFC 7396) over the current representation (PATCH).
    MergePatch,
}

/// PUT and PATCH: the body (or the current representation with the patch merged in) is
/// the record's new representation. Fields the server keeps — `id`, `version`,
/// `createdAt`, `updatedAt` and whatever else GET shows but a write does not take — are
/// ignored where they agree with the record and refused (422, named) where they do not, so
/// a GET representation can be PUT back as it is.
pub async fn write<T, I, O>(
    s: Scoped,
    id: Uuid,
    headers: &HeaderMap,
    body: Value,
    how: Write,
) -> Result<Response, ApiError>
where
    T: Table,
    I: Into<T::Input> + serde::de::DeserializeOwned,
    O: Serialize + From<Record<T::Data>>,
{
    // A body that cannot be a record is refused before the preconditions, as a typed body
    // would be: for PUT, the representation without the fields every record keeps.
    if !body.is_object() {
        return Err(ApiError {
            code: Code::Validation,
            message: "the body must be a JSON object".into(),
            fields: vec![("body".into(), "must be a JSON object".into())],
            retry_after: None,
        });
    }
    if let Write::Replace = how {
        let mut bare = body.clone();
        if let Some(members) = bare.as_object_mut() {
            for kept in KEPT {
                members.remove(*kept);
            }
        }
        let input = I::deserialize(&bare).map_err(|e| does_not_fit(&e))?;
        // A body that is not a valid record is named (422) before a bad If-Match is (412),
        // as a body that does not fit is.
        if let Err(e) = if_match(headers) {
            s.parse_input::<T>(input.into()).await?;
            return Err(e);
        }
    }
    let version = expected_version::<T>(&s, id, headers).await?;
    let current = s.get::<T>(id).await?;
    if current.version != version {
        return Err(precondition(StoreError::Conflict(Conflict::StaleVersion {
            expected: version,
            current: current.version,
        })));
    }
    let shown = serde_json::to_value(O::from(current))
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    let document = match how {
        Write::Replace => body,
        Write::MergePatch => {
            let mut doc = shown.clone();
            merge_patch(&mut doc, &body);
            doc
        }
    };
    let input: I = writable(document, &shown)?;
    let r = s
        .update::<T>(id, version, input.into())
        .await
        .map_err(precondition)?;
    Ok(record_response::<_, O>(StatusCode::OK, r, None))
}

/// The fields every record's representation has and no write takes.
const KEPT: &[&str] = &["id", "version", "createdAt", "updatedAt"];

/// RFC 7396: objects merge member by member, `null` removes a member, anything else
/// replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in members {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The input in `document`, once the members that the input does not take but the record's
/// representation `shown` holds are checked (equal: dropped; different: refused).
fn writable<I: serde::de::DeserializeOwned>(
    mut document: Value,
    shown: &Value,
) -> Result<I, ApiError> {
    loop {
        let err = match I::deserialize(&document) {
            Ok(input) => return Ok(input),
            Err(e) => e,
        };
        let text = err.to_string();
        let unknown = text
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let (Some(field), Some(obj)) = (unknown, document.as_object_mut()) else {
            return Err(does_not_fit(&err));
        };
        match (obj.remove(&field), shown.get(&field)) {
            (Some(given), Some(kept)) if given == *kept => continue,
            (Some(_), Some(_)) => {
                return Err(ApiError {
                    code: Code::Validation,
                    message: format!(
                        "field `{field}`: is kept by the server and differs from the record"
                    ),
                    fields: vec![(
                        field,
                        "is kept by the server and differs from the record; leave it out or \
                         send the value GET shows"
                            .into(),
                    )],
                    retry_after: None,
                });
            }
            _ => return Err(does_not_fit(&err)),
        }
    }
}

pub async fn delete<T: Table>(
    s: Scoped,
    id: Uuid,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let version = expected_version::<T>(&s, id, headers).await?;
    s.delete::<T>(id, version).await.map_err(precondition)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn transition(
    s: Scoped,
    id: Uuid,
    headers: &HeaderMap,
    t: super::dto::TransitionIn,
) -> Result<Response, ApiError> {
    use verbund_domain::mentorship::{EndReason, MentorshipStatus};
    let invalid = |field: &str, r: verbund_domain::Reason| ApiError {
        code: Code::Validation,
        message: format!("field `{field}`: {r}"),
        fields: vec![(field.into(), r.to_string())],
        retry_after: None,
    };
    let to = MentorshipStatus::parse(&t.to).map_err(|r| invalid("to", r))?;
    let reason = t
        .reason
        .map(|r| EndReason::parse(&r).map_err(|e| invalid("reason", e)))
        .transpose()?;
    let version =
        expected_version::<verbund_persistence::tables::Mentorships>(&s, id, headers).await?;
    let on = t.on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let r = s
        .transition_mentorship(id, version, to, on, reason)
        .await
        .map_err(precondition)?;
    Ok(record_response::<_, crate::views::Mentorship>(
        StatusCode::OK,
        r,
        None,
    ))
}

/// Erases the person's fields of a record (Art. 17 GDPR); the record, its counts and
/// what points at it stay.
pub async fn erase<T, O>(s: Scoped, id: Uuid, headers: &HeaderMap) -> Result<Response, ApiError>
where
    T: verbund_persistence::rights::Personal,
    O: Serialize + From<Record<T::Data>>,
{
    let version = expected_version::<T>(&s, id, headers).await?;
    let r = s.erase::<T>(id, version).await.map_err(precondition)?;
    Ok(record_response::<_, O>(StatusCode::OK, r, None))
}

/// Everything held about a person's record (Art. 15 GDPR).
pub async fn personal_data<T, O>(s: Scoped, id: Uuid) -> Result<Response, ApiError>
where
    T: verbund_persistence::rights::Personal,
    O: Serialize + From<Record<T::Data>>,
{
    let held = s.personal_data::<T>(id).await?;
    let out = super::dto::PersonalDataOut {
        entity: T::KIND.as_str().to_owned(),
        erasable: T::ERASED.iter().map(|f| (*f).to_owned()).collect(),
        record: serde_json::to_value(O::from(held.record))
            .map_err(|_| ApiError::new(Code::Internal, "internal error"))?,
        audit_events: held
            .audit
            .into_iter()
            .map(|e| super::dto::AuditEventOut {
                id: e.id,
                action: e.data.action.as_str().to_owned(),
                fields: e.data.fields,
                actor: e.data.actor,
                role: e.data.role,
                at: e.data.at,
            })
            .collect(),
        referenced_by: held
            .referenced_by
            .into_iter()
            .map(|(entity, id)| super::dto::ReferenceOut {
                entity: entity.to_owned(),
                id,
            })
            .collect(),
        idempotency_replays: held.replays,
    };
    Ok((StatusCode::OK, axum::Json(out)).into_response())
}
