//! The change feed's outbox: every write of the one write path (create, update, patch,
//! transition, import, cascade, erasure, retention, delete) records a row in `changes` in
//! its own transaction, so no change commits without its event nor an event without its
//! change. Read by `crate::changes`.
//!
//! **Commit order.** A reader asks for the rows after the last `seq` it saw, so a row must
//! never become visible behind one already read. On PostgreSQL the row's number is taken
//! under the writers' transaction-scoped advisory lock (`aggregates::write_order_lock`),
//! which is released only after the transaction has committed: the next writer's number
//! is larger and its commit later. SQLite has one writer at a time (the store's write
//! turns), so numbering order is commit order there; `seq` is `AUTOINCREMENT`, so a number
//! is never used twice, even after pruning.

use crate::entities::change;
use crate::error::StoreError;
use chrono::Utc;
use sea_orm::{DatabaseTransaction, EntityTrait, Set};
use uuid::Uuid;
use verbund_domain::audit::AuditAction;
use verbund_domain::change::ChangeAction;
use verbund_domain::policy::{EntityKind, Location};

/// One written change, as the write path knows it.
#[derive(Clone, Copy)]
pub(crate) struct Written<'a> {
    pub kind: EntityKind,
    pub id: Uuid,
    pub action: AuditAction,
    pub version: i32,
    pub at: &'a Location,
    pub public: bool,
    /// Where the record lived before an update, and whether it was public.
    pub before: Option<(&'a Location, bool)>,
}

/// Records a change inside the writing transaction.
pub(crate) async fn record(txn: &DatabaseTransaction, w: Written<'_>) -> Result<(), StoreError> {
    crate::aggregates::write_order_lock(txn).await?;
    let action = match w.action {
        AuditAction::Create => ChangeAction::Created,
        AuditAction::Delete => ChangeAction::Deleted,
        _ => ChangeAction::Updated,
    };
    let moved = w
        .before
        .filter(|(before, public)| *before != w.at || *public != w.public);
    change::Entity::insert(change::ActiveModel {
        seq: sea_orm::NotSet,
        at: Set(Utc::now()),
        entity: Set(w.kind.as_str().to_owned()),
        entity_id: Set(w.id),
        action: Set(action.as_str().to_owned()),
        version: Set(w.version),
        network_path: Set(w.at.network_path.clone()),
        organisation_id: Set(w.at.organisation_id),
        public: Set(w.public),
        prev_network_path: Set(moved.map(|(l, _)| l.network_path.clone())),
        prev_organisation_id: Set(moved.and_then(|(l, _)| l.organisation_id)),
        prev_public: Set(moved.map(|(_, p)| p)),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
