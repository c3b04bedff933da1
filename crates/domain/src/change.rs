//! The change feed: what changed, in commit order, as each caller may see it.

use crate::policy::EntityKind;
use crate::string_enum;
use chrono::{DateTime, Utc};
use uuid::Uuid;

string_enum!(
    /// `deleted` is a tombstone: the record is gone. `entered`: an update brought the record
    /// into the caller's scope (it may read it now); `left`: an update took it out (for the
    /// caller, like a deletion).
    ChangeAction {
        Created => "created",
        Updated => "updated",
        Deleted => "deleted",
        Entered => "entered",
        Left => "left",
    }
);

/// One change of one record, as the caller sees it: thin (no field values), so that a
/// tool reads the record itself, through its own scope, when it needs the data.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
pub struct Change {
    /// Where a reader goes on from after this change (`after=`).
    pub cursor: String,
    pub entity: EntityKind,
    /// The record's UUID.
    pub id: Uuid,
    pub action: ChangeAction,
    /// The record's version after the change (for `deleted`, its last one).
    pub version: i32,
    /// When the change was written.
    pub at: DateTime<Utc>,
}
