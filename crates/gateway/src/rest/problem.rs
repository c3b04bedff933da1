//! RFC 9457 problem details: every REST error, with the same `code` as GraphQL's
//! `extensions.code`, and the fields for validation errors.

use crate::error::{ApiError, Code};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    /// The input field, e.g. `email` or `partners[1].role`.
    pub field: String,
    pub reason: String,
}

/// An error (`application/problem+json`).
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable code: VALIDATION, NOT_FOUND, CONFLICT, FORBIDDEN, UNAUTHENTICATED, MALFORMED,
    /// UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE, PRECONDITION_REQUIRED, PRECONDITION_FAILED,
    /// TOO_COMPLEX, RATE_LIMITED, TIMEOUT, REQUEST_TIMEOUT, METHOD_NOT_ALLOWED, UNAVAILABLE,
    /// INTERNAL. `status` is always the HTTP status of the response.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

impl From<&ApiError> for Problem {
    fn from(e: &ApiError) -> Self {
        Problem {
            kind: format!("urn:verbund:problem:{}", e.code.as_str().to_lowercase()),
            title: e.code.title().to_owned(),
            status: e.code.status().as_u16(),
            detail: e.message.clone(),
            code: e.code.as_str().to_owned(),
            fields: e
                .fields
                .iter()
                .map(|(f, r)| FieldProblem {
                    field: f.clone(),
                    reason: r.clone(),
                })
                .collect(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == Code::Internal {
            tracing::error!(detail = %self.message, "internal error");
        }
        let body = serde_json::to_vec(&Problem::from(&self)).unwrap_or_default();
        let mut res = (
            self.code.status(),
            [(CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        // Overload, timeouts and rate limits pass: say when to come back.
        let retry = match self.code {
            Code::Unavailable | Code::Timeout | Code::RateLimited => {
                Some(self.retry_after.unwrap_or(1))
            }
            _ => self.retry_after,
        };
        if let Some(secs) = retry
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        res
    }
}

pub fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(Code::Malformed, message)
}

/// The error responses that operations share, documented once: an operation lists the ones
/// it can give beside its own (`responses((status = 200, …), Malformed, Unauthorized, …)`),
/// and writes its own tuple only where its text says more (which fields a 422 names).
pub mod responses {
    use super::Problem;

    /// 400.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 400,
        description = "Malformed JSON, id, header or parameters",
        content_type = "application/problem+json"
    )]
    pub struct Malformed(pub Problem);

    /// 401.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 401,
        description = "A bad token, or none where one is needed",
        content_type = "application/problem+json"
    )]
    pub struct Unauthorized(pub Problem);

    /// 403.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 403,
        description = "The role may not do this",
        content_type = "application/problem+json"
    )]
    pub struct Forbidden(pub Problem);

    /// 404.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 404,
        description = "No such record in the caller's scope",
        content_type = "application/problem+json"
    )]
    pub struct NotFound(pub Problem);

    /// 413 and 415, for operations with a body.
    #[derive(utoipa::IntoResponses)]
    pub enum BodyRefused {
        #[response(
            status = 413,
            description = "The body is too large",
            content_type = "application/problem+json"
        )]
        TooLarge(Problem),
        #[response(
            status = 415,
            description = "The body is not of the documented media type",
            content_type = "application/problem+json"
        )]
        Unsupported(Problem),
    }

    /// 412 and 428, for writes that need `If-Match`.
    #[derive(utoipa::IntoResponses)]
    pub enum Versioned {
        #[response(
            status = 412,
            description = "The record changed since the ETag was read",
            content_type = "application/problem+json"
        )]
        Stale(Problem),
        #[response(
            status = 428,
            description = "If-Match is missing",
            content_type = "application/problem+json"
        )]
        Required(Problem),
    }

    /// 409 and 422 of a change (PUT, PATCH).
    #[derive(utoipa::IntoResponses)]
    pub enum Rewritten {
        #[response(
            status = 409,
            description = "A duplicate external id",
            content_type = "application/problem+json"
        )]
        Duplicate(Problem),
        #[response(
            status = 422,
            description = "Invalid fields, named (PATCH: of the record as merged), or a read-only field (`id`, `version`, …) that differs from the record",
            content_type = "application/problem+json"
        )]
        Invalid(Problem),
    }
}
