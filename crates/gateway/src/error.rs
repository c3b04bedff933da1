//! One table of error codes, each with its HTTP status, so that a REST problem's `code` and
//! GraphQL's `extensions.code` always agree. 5xx responses say nothing about internals.

use async_graphql::ErrorExtensions;
use axum::http::StatusCode;
use verbund_domain::mentorship::TransitionError;
use verbund_persistence::{Conflict, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Validation,
    NotFound,
    Conflict,
    Forbidden,
    Unauthenticated,
    Unavailable,
    Internal,
    /// HTTP only: a body or parameter that does not parse.
    Malformed,
    /// HTTP only: a body that is not JSON (or CSV where CSV is expected).
    UnsupportedMediaType,
    PayloadTooLarge,
    /// HTTP only: a write without `If-Match`.
    PreconditionRequired,
    /// HTTP only: an `If-Match` that names an old version.
    PreconditionFailed,
    /// A request over one of the documented limits (GraphQL nesting, fields, aliases; the
    /// cost of a statistic).
    TooComplex,
    /// Too many requests (or too much cost) from one caller or address; `Retry-After` says
    /// when to come back.
    RateLimited,
    /// The server did not finish the request in time.
    Timeout,
    /// The client did not send its request (headers or body) in time.
    RequestTimeout,
    /// HTTP only: the path exists, the method does not (`Allow` names those that do).
    MethodNotAllowed,
    /// A change-feed cursor older than the feed keeps.
    CursorExpired,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Validation => "VALIDATION",
            Code::NotFound => "NOT_FOUND",
            Code::Conflict => "CONFLICT",
            Code::Forbidden => "FORBIDDEN",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Unavailable => "UNAVAILABLE",
            Code::Internal => "INTERNAL",
            Code::Malformed => "MALFORMED",
            Code::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::PreconditionRequired => "PRECONDITION_REQUIRED",
            Code::PreconditionFailed => "PRECONDITION_FAILED",
            Code::TooComplex => "TOO_COMPLEX",
            Code::RateLimited => "RATE_LIMITED",
            Code::Timeout => "TIMEOUT",
            Code::RequestTimeout => "REQUEST_TIMEOUT",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::CursorExpired => "CURSOR_EXPIRED",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Code::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Malformed => StatusCode::BAD_REQUEST,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            Code::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Code::TooComplex => StatusCode::BAD_REQUEST,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            Code::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::CursorExpired => StatusCode::GONE,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Code::Validation => "The request is not valid",
            Code::NotFound => "Not found",
            Code::Conflict => "Conflict",
            Code::Forbidden => "Forbidden",
            Code::Unauthenticated => "Not authenticated",
            Code::Unavailable => "Service unavailable",
            Code::Internal => "Internal error",
            Code::Malformed => "Malformed request",
            Code::UnsupportedMediaType => "Unsupported media type",
            Code::PayloadTooLarge => "Payload too large",
            Code::PreconditionRequired => "Precondition required",
            Code::PreconditionFailed => "Precondition failed",
            Code::TooComplex => "The request exceeds a limit",
            Code::RateLimited => "Too many requests",
            Code::Timeout => "The request took too long",
            Code::RequestTimeout => "The request was not sent in time",
            Code::MethodNotAllowed => "Method not allowed",
            Code::CursorExpired => "The cursor has expired",
        }
    }
}

/// An error as the API reports it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// For validation errors: (field, reason).
    pub fields: Vec<(String, String)>,
    /// For overload and rate limits: when to come back, in seconds (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }
}

impl From<verbund_domain::ValidationErrors> for ApiError {
    fn from(e: verbund_domain::ValidationErrors) -> Self {
        StoreError::Invalid(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(Code::NotFound, "no such record"),
            StoreError::Conflict(c) => ApiError::new(
                Code::Conflict,
                match c {
                    Conflict::StaleVersion { .. }
                    | Conflict::Duplicate(_)
                    | Conflict::InUse
                    | Conflict::InTheWay { .. }
                    | Conflict::SecondPrimary
                    | Conflict::Busy => c.to_string(),
                },
            ),
            StoreError::Forbidden => ApiError::new(Code::Forbidden, e.to_string()),
            StoreError::Invalid(v) => ApiError {
                code: Code::Validation,
                message: v.to_string(),
                fields: v
                    .0
                    .iter()
                    .map(|f| (f.field.clone(), f.reason.to_string()))
                    .collect(),
                retry_after: None,
            },
            StoreError::Transition(t) => ApiError {
                code: Code::Validation,
                message: t.to_string(),
                // The field the rule is about, as the other doors name it.
                fields: vec![(
                    match t {
                        TransitionError::NoMentor => "mentorId",
                        TransitionError::DateBeforeLast { .. } => "on",
                        TransitionError::NotAllowed { .. } => "to",
                    }
                    .into(),
                    t.to_string(),
                )],
                retry_after: None,
            },
            StoreError::UnknownAnchor(_) => ApiError::new(Code::Unauthenticated, e.to_string()),
            StoreError::Busy => ApiError::new(Code::Unavailable, e.to_string()),
            StoreError::CursorExpired => ApiError::new(Code::CursorExpired, e.to_string()),
            StoreError::Unavailable => {
                ApiError::new(Code::Unavailable, "the database is unavailable; try again")
            }
            StoreError::Internal => ApiError::new(Code::Internal, "internal error"),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let fields = self.fields.clone();
        let code = self.code.as_str();
        async_graphql::Error::new(self.message.clone()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some((field, _)) = fields.first() {
                ext.set("field", field.as_str());
            }
            if !fields.is_empty() {
                let list: Vec<async_graphql::Value> = fields
                    .iter()
                    .map(|(f, r)| {
                        let mut m = async_graphql::indexmap::IndexMap::new();
                        m.insert(
                            async_graphql::Name::new("field"),
                            async_graphql::Value::from(f.as_str()),
                        );
                        m.insert(
                            async_graphql::Name::new("reason"),
                            async_graphql::Value::from(r.as_str()),
                        );
                        async_graphql::Value::Object(m)
                    })
                    .collect();
                ext.set("fields", async_graphql::Value::List(list));
            }
        })
    }
}

/// `?` in resolvers: a store error becomes a GraphQL error with its code.
pub fn gql(e: StoreError) -> async_graphql::Error {
    ApiError::from(e).extend()
}
