//! Storage errors. A `DbErr` never leaves this crate: it is logged here and turned into one
//! of a few outcomes a caller can act on.

use sea_orm::{DbErr, RuntimeErr, SqlErr};
use verbund_domain::ValidationErrors;
use verbund_domain::mentorship::TransitionError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error(
        "the record was changed meanwhile: expected version {expected}, current version {current}"
    )]
    StaleVersion { expected: i32, current: i32 },
    #[error("a record with the same {0} already exists")]
    Duplicate(&'static str),
    #[error(
        "the organisation has a primary contact already; make that one an ordinary contact \
         first (`primary`: false)"
    )]
    SecondPrimary,
    #[error("the record is still referenced by other records")]
    InUse,
    /// Deleting the record would leave these records invalid (`what` says which and why).
    #[error("{what}: {}", list(ids))]
    InTheWay {
        what: &'static str,
        ids: Vec<uuid::Uuid>,
    },
    /// Another request holds the record (PostgreSQL row lock): the loser is told at once
    /// instead of queuing behind the winner, whose write will make its version stale.
    #[error("the record is being changed by another request; read it again and retry")]
    Busy,
}

/// At most ten ids, then how many more.
fn list(ids: &[uuid::Uuid]) -> String {
    let mut out: Vec<String> = ids.iter().take(10).map(ToString::to_string).collect();
    if ids.len() > 10 {
        out.push(format!("and {} more", ids.len() - 10));
    }
    out.join(", ")
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or lies outside the caller's scope.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Conflict(Conflict),
    /// The caller may see the record but not make this change.
    #[error("this role may not make this change")]
    Forbidden,
    #[error(transparent)]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Transition(TransitionError),
    /// The network or organisation a token is anchored to does not exist (or does not fit
    /// the role).
    #[error("the token's {0} does not exist or does not fit its role")]
    UnknownAnchor(&'static str),
    /// A change-feed cursor older than the feed keeps: the reader must read everything again.
    #[error(
        "the cursor is older than the change feed keeps: read the records again, with a \
         cursor from `after=now` taken before that read"
    )]
    CursorExpired,
    #[error("the database is unavailable")]
    Unavailable,
    /// Writers queued longer than the write timeout (true overload); retry shortly.
    #[error("the database is busy with other writes; retry shortly")]
    Busy,
    /// A bug or a corrupt row; the detail is in the log, never in a response.
    #[error("internal storage error")]
    Internal,
}

impl From<ValidationErrors> for StoreError {
    fn from(e: ValidationErrors) -> Self {
        StoreError::Invalid(e)
    }
}

impl From<TransitionError> for StoreError {
    fn from(e: TransitionError) -> Self {
        StoreError::Transition(e)
    }
}

/// The kind of constraint a driver error reports, read from sqlx's portable error kind (the
/// SQLSTATE on PostgreSQL, the extended result code on SQLite).
fn constraint_kind(e: &DbErr) -> Option<(sea_orm::sqlx::error::ErrorKind, String, String)> {
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            match s.as_ref() {
                sea_orm::sqlx::Error::Database(d) => Some((
                    d.kind(),
                    d.message().to_owned(),
                    d.code().map(|c| c.into_owned()).unwrap_or_default(),
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        use sea_orm::sqlx::error::ErrorKind;
        match (constraint_kind(&e), e.sql_err()) {
            (Some((ErrorKind::UniqueViolation, detail, _)), _)
            | (_, Some(SqlErr::UniqueConstraintViolation(detail))) => {
                tracing::debug!(%detail, "unique constraint");
                // The partial unique index (PostgreSQL names it, SQLite its column).
                if detail.contains(crate::migration::m20261206_000008_one_primary_contact::INDEX)
                    || detail.contains("contacts.organisation_id")
                {
                    return StoreError::Conflict(Conflict::SecondPrimary);
                }
                let field = if detail.contains("external_id") {
                    "external_id"
                } else if detail.contains("networks.code") || detail.contains("networks_code") {
                    "code"
                } else {
                    "key"
                };
                return StoreError::Conflict(Conflict::Duplicate(field));
            }
            // SQLite reports ON DELETE RESTRICT with the trigger result code, hence the message.
            (Some((ErrorKind::ForeignKeyViolation, detail, _)), _)
            | (_, Some(SqlErr::ForeignKeyConstraintViolation(detail))) => {
                tracing::debug!(%detail, "foreign key constraint");
                return StoreError::Conflict(Conflict::InUse);
            }
            (Some((_, detail, _)), _) if detail.contains("FOREIGN KEY constraint failed") => {
                tracing::debug!(%detail, "foreign key constraint");
                return StoreError::Conflict(Conflict::InUse);
            }
            // PostgreSQL: lock_not_available (NOWAIT), deadlock_detected, serialization
            // failure — another writer has the rows; the caller retries after a fresh read.
            (Some((_, detail, code)), _)
                if matches!(code.as_str(), "55P03" | "40P01" | "40001") =>
            {
                tracing::debug!(%detail, %code, "lock conflict");
                return StoreError::Conflict(Conflict::Busy);
            }
            // SQLite: SQLITE_BUSY (5) and its extended codes: another process holds the
            // file's write lock longer than busy_timeout.
            (Some((_, detail, code)), _)
                if code == "5"
                    || code == "517"
                    || code == "261"
                    || detail.contains("database is locked") =>
            {
                tracing::warn!(%detail, "database busy");
                return StoreError::Busy;
            }
            _ => {}
        }
        match &e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                tracing::warn!(error = %e, "database unavailable");
                StoreError::Unavailable
            }
            DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s))
                if matches!(
                    s.as_ref(),
                    sea_orm::sqlx::Error::Io(_)
                        | sea_orm::sqlx::Error::PoolTimedOut
                        | sea_orm::sqlx::Error::PoolClosed
                ) =>
            {
                tracing::warn!(error = %e, "database unavailable");
                StoreError::Unavailable
            }
            DbErr::RecordNotFound(_) => StoreError::NotFound,
            _ => {
                tracing::error!(error = %e, "database error");
                StoreError::Internal
            }
        }
    }
}

/// A stored value that no longer parses: a corrupt row or a bug, never the caller's fault.
pub(crate) fn corrupt(table: &str, column: &str) -> StoreError {
    tracing::error!(table, column, "stored value does not parse");
    StoreError::Internal
}
