//! The change feed: what changed, in commit order, as each caller may see it.

use crate::error::Reason;
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

/// The kinds of record the feed carries and subscriptions ask for: every table of records.
pub const KINDS: [EntityKind; 11] = [
    EntityKind::Network,
    EntityKind::Organisation,
    EntityKind::Contact,
    EntityKind::Offering,
    EntityKind::Volunteer,
    EntityKind::Staff,
    EntityKind::Mentorship,
    EntityKind::Cooperation,
    EntityKind::Committee,
    EntityKind::CommitteeMeeting,
    EntityKind::Funding,
];

/// Kinds of record from their words (comma-separated words accepted too), each once.
pub fn kinds(words: &[String]) -> Result<Vec<EntityKind>, Reason> {
    let mut out = Vec::new();
    for w in words.iter().flat_map(|t| t.split(',')) {
        let w = w.trim();
        if w.is_empty() {
            continue;
        }
        let kind = EntityKind::parse(w)
            .ok()
            .filter(|k| KINDS.contains(k))
            .ok_or(Reason::Rule("not a kind of record"))?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    Ok(out)
}
