//! REST-only shapes: the body of a status move and the answer to a request for one's
//! personal data. The records themselves are `crate::views` (what is read) and the
//! domain's input types (what is written), shared with GraphQL and the CSV files.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A move of a mentorship's status.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransitionIn {
    /// `matched`, `active`, `paused`, `ended` or `cancelled`.
    pub to: String,
    /// For `ended`: `goal_reached`, `moved_away`, `mismatch`, `overload`, `other`.
    pub reason: Option<String>,
    /// Day of the move; defaults to today.
    pub on: Option<NaiveDate>,
}

/// Everything Verbund holds about one person's record (Art. 15 GDPR).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalDataOut {
    /// `contact`, `volunteer` or `staff`.
    pub entity: String,
    /// The record as `GET` returns it.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    /// The fields an erasure overwrites.
    pub erasable: Vec<String>,
    /// Who changed which fields when (field names only, never values), newest first.
    pub audit_events: Vec<AuditEventOut>,
    /// Records that point at this one (a volunteer's mentorships, a contact's committees).
    pub referenced_by: Vec<ReferenceOut>,
    /// Stored replays of earlier responses (idempotency keys, 24 hours) that hold it.
    pub idempotency_replays: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventOut {
    pub id: Uuid,
    /// `create`, `update`, `delete`, `transition`, `erase` or `retention`.
    pub action: String,
    pub fields: Vec<String>,
    pub actor: String,
    pub role: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceOut {
    pub entity: String,
    pub id: Uuid,
}
