//! A stored record: the validated data plus the identity and bookkeeping every record has.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    pub id: Uuid,
    /// Optimistic concurrency: an update names the version it read and fails if it moved.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub data: T,
}

/// A new id: UUIDv7, so ids sort by creation time and make a stable cursor order.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
