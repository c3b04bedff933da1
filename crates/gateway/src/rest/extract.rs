//! Extractors that turn every malformed request into a problem, never a 500: the caller,
//! a JSON body (content type, size, syntax, unknown fields), query parameters and ids.

use super::problem::malformed;
use crate::error::{ApiError, Code};
use crate::state::{AppState, scoped_caller};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sha2::Digest;
use uuid::Uuid;
use verbund_persistence::Scoped;

/// The authenticated caller, bound to the store.
pub struct Caller(pub Scoped);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Caller(
            scoped_caller(state, parts.extensions.get(), &parts.headers).await?,
        ))
    }
}

/// A caller who may attempt writes: a token is required (401 without one); whether the
/// role may make the change is the policy's question, asked by the store.
pub struct Writer(pub Scoped);

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Err(ApiError::new(
                Code::Unauthenticated,
                "this operation needs a token (Authorization: Bearer …)",
            ));
        }
        Ok(Writer(
            scoped_caller(state, parts.extensions.get(), &parts.headers).await?,
        ))
    }
}

/// A JSON body, and the hash of its bytes (for idempotency keys).
pub struct Body<T> {
    pub value: T,
    pub hash: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|v| {
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("the body is larger than {} bytes", crate::state::MAX_BODY),
            )
        })?;
        let value = parse_json(&bytes)?;
        Ok(Body {
            value,
            hash: hex(&sha2::Sha256::digest(&bytes)),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses JSON; syntax errors are malformed requests, shape errors (unknown or missing
/// fields, wrong types) are validation errors naming the field where serde does.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                malformed(format!("the body is not valid JSON: {e}"))
            }
            Category::Data => does_not_fit(&e),
        }
    })
}

/// A body that does not deserialize into the input, named by its field.
pub fn does_not_fit(e: &serde_json::Error) -> ApiError {
    let text = e.to_string();
    let field = text.split('`').nth(1).unwrap_or("body").to_owned();
    ApiError {
        code: Code::Validation,
        message: format!("the body does not fit: {text}"),
        fields: vec![(field, text)],
        retry_after: None,
    }
}

/// Query parameters; unknown parameters and values that do not parse are named.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(Params)
            .map_err(|e| malformed(format!("invalid query parameters: {e}")))
    }
}

/// Paging of a REST list; the rest of its query parameters is the list's filter.
#[derive(serde::Deserialize, utoipa::IntoParams, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size, 1 to 100 (default 20).
    pub first: Option<u32>,
    /// Cursor from the previous page's `nextCursor`.
    #[param(pattern = "^[A-Za-z0-9_-]{22}$")]
    pub after: Option<String>,
    /// `true`: the page also says how many records match across all pages (`total`; one
    /// more count in the database).
    pub total: Option<bool>,
}

/// Query parameters read into two structs, each from its own parameters (those `A`
/// declares in OpenAPI go to `A`, the rest to `B`), unknown parameters refused: a list's
/// paging and its filter (one of `crate::filters`), a statistic's filters (shared with
/// GraphQL) and its REST options.
pub struct Split<A, B>(pub A, pub B);

/// A list's query: its paging and its filter.
pub type ListQuery<F> = Split<Paging, F>;

impl<A, B, S> FromRequestParts<S> for Split<A, B>
where
    A: DeserializeOwned + utoipa::IntoParams,
    B: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let bad =
            |e: serde_urlencoded::de::Error| malformed(format!("invalid query parameters: {e}"));
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).map_err(bad)?;
        let names: Vec<String> = A::into_params(|| None)
            .into_iter()
            .map(|p| p.name)
            .collect();
        let (a, b): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(k, _)| names.contains(k));
        let again = |pairs: Vec<(String, String)>| {
            serde_urlencoded::to_string(pairs)
                .map_err(|e| malformed(format!("invalid query parameters: {e}")))
        };
        Ok(Split(
            serde_urlencoded::from_str(&again(a)?).map_err(bad)?,
            serde_urlencoded::from_str(&again(b)?).map_err(bad)?,
        ))
    }
}

/// The `{id}` of a path: a UUID, or a 400 that says so.
pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| malformed(format!("`{raw}` is not a UUID")))
}
