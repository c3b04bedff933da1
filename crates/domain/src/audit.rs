//! Audit events: who changed what, when. Field names only, never their personal values.

use crate::string_enum;
use chrono::{DateTime, Utc};
use uuid::Uuid;

string_enum!(AuditAction { Create => "create", Update => "update", Delete => "delete", Transition => "transition", Erase => "erase", Retention => "retention" });

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub actor: String,
    pub role: String,
    pub entity: &'static str,
    pub entity_id: Uuid,
    pub action: AuditAction,
    pub fields: Vec<String>,
    pub at: DateTime<Utc>,
}
