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
//!
//! **Readers elsewhere.** Some records may be read by organisations other than the one
//! they live with: a cooperation's partners, the organisations on a committee (and so at
//! its meetings). Their ids, before and after the change, go into `change_readers` beside
//! the row, so that the feed shows such a change to them exactly as reads would
//! (`Table::readers`).

use crate::entities::{change, change_reader};
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
    /// Organisations elsewhere that may read the record after the change (for a deletion:
    /// before it), and before an update.
    pub readers: &'a [Uuid],
    pub readers_before: &'a [Uuid],
}

/// Records changes inside the writing transaction, numbered in the order given: several
/// at once for an import's rows, with one `INSERT` for those read by nobody elsewhere.
pub(crate) async fn record_many(
    txn: &DatabaseTransaction,
    ws: &[Written<'_>],
) -> Result<(), StoreError> {
    crate::aggregates::write_order_lock(txn).await?;
    let mut plain = Vec::new();
    for w in ws {
        if w.readers.is_empty() && w.readers_before.is_empty() {
            plain.push(row_of(w));
            continue;
        }
        // Rows before it first, so that the numbers follow the order given.
        if !plain.is_empty() {
            change::Entity::insert_many(std::mem::take(&mut plain))
                .exec_without_returning(txn)
                .await?;
        }
        with_readers(txn, w).await?;
    }
    if !plain.is_empty() {
        change::Entity::insert_many(plain)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn row_of(w: &Written<'_>) -> change::ActiveModel {
    let action = match w.action {
        AuditAction::Create => ChangeAction::Created,
        AuditAction::Delete => ChangeAction::Deleted,
        _ => ChangeAction::Updated,
    };
    let moved = w
        .before
        .filter(|(before, public)| *before != w.at || *public != w.public);
    change::ActiveModel {
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
    }
}

/// A change with its readers elsewhere (its number is needed for them).
async fn with_readers(txn: &DatabaseTransaction, w: &Written<'_>) -> Result<(), StoreError> {
    let row = row_of(w);
    let seq = change::Entity::insert(row).exec(txn).await?.last_insert_id;
    let mut rows: Vec<change_reader::ActiveModel> = Vec::new();
    for (after, ids) in [(true, w.readers), (false, w.readers_before)] {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        rows.extend(
            ids.into_iter()
                .map(|organisation_id| change_reader::ActiveModel {
                    seq: Set(seq),
                    organisation_id: Set(organisation_id),
                    after: Set(after),
                }),
        );
    }
    change_reader::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
