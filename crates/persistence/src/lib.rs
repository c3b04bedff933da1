//! Verbund's storage: sea-orm entities and migrations, and the scoped repositories through
//! which every read and write passes. Runs the same code on SQLite and PostgreSQL.
//!
//! The entry point is [`Store`]; callers bind themselves with [`Store::scoped`] and get a
//! [`Scoped`] handle. There is no other public way to reach a record, so no handler can
//! forget the caller's scope.

mod aggregates;
mod bulk;
pub mod changes;
mod entities;
pub mod error;
pub mod insights;
mod mapping;
mod migration;
mod outbox;
pub mod rights;
pub mod statistics;
mod store;
pub mod tables;
pub mod webhooks;

pub use bulk::BulkLoad;
pub use error::{Conflict, StoreError};
pub use store::{
    Children, IMPORT_CHUNK, ImportReport, ImportRow, Importable, MAX_PAGE, Owned, Page,
    PageRequest, PoolState, Scoped, Store, Table, WriteBatch, decode_cursor, encode_cursor,
};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::audit::{AuditAction, AuditEvent};
use verbund_domain::mentorship::{EndReason, Mentorship, MentorshipStatus};
use verbund_domain::policy::{EntityKind, ReadScope};

impl Scoped {
    /// Moves a mentorship along its status machine, if its version is still
    /// `expected_version`.
    pub async fn transition_mentorship(
        &self,
        id: Uuid,
        expected_version: i32,
        to: MentorshipStatus,
        on: NaiveDate,
        reason: Option<EndReason>,
    ) -> Result<Record<Mentorship>, StoreError> {
        if !self.scope().writes_anything() {
            return Err(StoreError::Forbidden);
        }
        let txn = self.begin_write().await?;
        let moved = async {
            let old = self.get_in_txn::<tables::Mentorships>(&*txn, id).await?;
            // A stale view is reported before the move is judged: the caller decided on old
            // data.
            if old.version != expected_version {
                return Err(StoreError::Conflict(Conflict::StaleVersion {
                    expected: expected_version,
                    current: old.version,
                }));
            }
            let mut data = old.data.clone();
            data.transition(to, on, reason)?;
            let action = AuditAction::Transition;
            self.replace_in::<tables::Mentorships>(&txn, &old, expected_version, data, action)
                .await
        }
        .await;
        txn.settle(moved).await
    }

    fn audit_query(
        &self,
        entity_id: Option<Uuid>,
    ) -> sea_orm::Select<entities::audit_event::Entity> {
        use entities::audit_event::{Column as C, Entity};
        let mut q = Entity::find();
        q = match self.scope().read(EntityKind::AuditEvent) {
            ReadScope::All => q,
            ReadScope::Subtree(p) => q.filter(store::subtree(C::NetworkPath, &p)),
            ReadScope::Organisation(id) => q.filter(store::owned_by_visible_organisation(
                C::OrganisationId,
                &ReadScope::Organisation(id),
            )),
            ReadScope::Published | ReadScope::OwnAndPublished(_) | ReadScope::Nothing => {
                q.filter(store::nothing())
            }
        };
        if let Some(e) = entity_id {
            q = q.filter(C::EntityId.eq(e));
        }
        q
    }

    /// How many audit events the caller may see (for one record, if named).
    pub async fn count_audit_events(&self, entity_id: Option<Uuid>) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(self.audit_query(entity_id).count(self.conn()).await?)
    }

    /// Audit events the caller may see, newest first.
    pub async fn audit_events(
        &self,
        entity_id: Option<Uuid>,
        page: &PageRequest,
    ) -> Result<Page<Record<AuditEvent>>, StoreError> {
        use entities::audit_event::Column as C;
        let mut q = self.audit_query(entity_id);
        if let Some(after) = &page.after {
            q = q.filter(C::Id.lt(decode_cursor(after)?));
        }
        let first = page.first.clamp(1, MAX_PAGE);
        let mut rows = q
            .order_by_desc(C::Id)
            .limit(first + 1)
            .all(self.conn())
            .await?;
        let has_next = rows.len() as u64 > first;
        rows.truncate(first as usize);
        let items = rows
            .into_iter()
            .map(|r| {
                Ok(Record {
                    id: r.id,
                    version: 1,
                    created_at: r.at,
                    updated_at: r.at,
                    data: AuditEvent {
                        actor: r.actor,
                        role: r.role,
                        entity: EntityKind::parse(&r.entity)
                            .map_err(|_| error::corrupt("audit_events", "entity"))?
                            .as_str(),
                        entity_id: r.entity_id,
                        action: AuditAction::parse(&r.action)
                            .map_err(|_| error::corrupt("audit_events", "action"))?,
                        fields: mapping::split_list(&format!(",{},", r.fields)),
                        at: r.at,
                    },
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, has_next })
    }
}

impl Store {
    /// A server-wide setting, e.g. the development signing secret.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(entities::setting::Entity::find_by_id(key.to_owned())
            .one(self.conn())
            .await?
            .map(|s| s.value))
    }

    /// Stores `value` under `key` unless a value is there already; returns the stored value,
    /// so that replicas starting at once agree on the first one written.
    pub async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError> {
        use sea_orm::ActiveModelTrait;
        if let Some(v) = self.setting(key).await? {
            return Ok(v);
        }
        let _turn = self.write_turn().await?;
        let row = entities::setting::ActiveModel {
            key: sea_orm::Set(key.to_owned()),
            value: sea_orm::Set(value.to_owned()),
        };
        match row.insert(self.conn()).await {
            Ok(_) => Ok(value.to_owned()),
            // Another replica won the race: use its value.
            Err(_) => self.setting(key).await?.ok_or(StoreError::Internal),
        }
    }
}

/// The role and scope an idempotency key is bound to, beside its subject.
fn idempotency_caller(caller: &verbund_domain::policy::Caller) -> String {
    use verbund_domain::policy::Anchor;
    let anchor = match caller.anchor {
        Anchor::None => String::new(),
        Anchor::Network(id) => format!("network:{id}"),
        Anchor::Organisation(id) => format!("organisation:{id}"),
    };
    format!("{}|{anchor}", caller.role.as_str())
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_HOURS: i64 = 24;

/// What an idempotency key already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// The key is new and now reserved for this request.
    Reserved,
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for another request (another route or body).
    Mismatch,
    /// The key was reserved by the same subject acting with another role or scope.
    OtherCaller,
    /// The first response, to replay.
    Replay { status: u16, body: String },
}

impl Store {
    /// Reserves `key` for the caller's request, or tells what it already holds. A key belongs
    /// to its caller — subject, role and scope — so another caller never gets its replay.
    /// Keys older than 24 hours are forgotten.
    pub async fn idempotency_reserve(
        &self,
        caller: &verbund_domain::policy::Caller,
        key: &str,
        route: &str,
        request_hash: &str,
    ) -> Result<Idempotency, StoreError> {
        use entities::idempotency_key::{ActiveModel, Column, Entity};
        use sea_orm::{ActiveModelTrait, Set};
        let subject = caller.subject.as_str();
        let bound_to = idempotency_caller(caller);
        let cutoff = chrono::Utc::now() - chrono::Duration::hours(IDEMPOTENCY_HOURS);
        let _turn = self.write_turn().await?;
        Entity::delete_many()
            .filter(Column::CreatedAt.lt(cutoff))
            .exec(self.conn())
            .await?;
        let row = ActiveModel {
            subject: Set(subject.to_owned()),
            key: Set(key.to_owned()),
            route: Set(route.to_owned()),
            caller: Set(bound_to.clone()),
            request_hash: Set(request_hash.to_owned()),
            status: Set(0),
            body: Set(String::new()),
            created_at: Set(chrono::Utc::now()),
        };
        match row.insert(self.conn()).await {
            Ok(_) => Ok(Idempotency::Reserved),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(Conflict::Duplicate(_)) => {
                    let Some(existing) = Entity::find_by_id((subject.to_owned(), key.to_owned()))
                        .one(self.conn())
                        .await?
                    else {
                        return Ok(Idempotency::InProgress);
                    };
                    Ok(if existing.caller != bound_to {
                        Idempotency::OtherCaller
                    } else if existing.route != route || existing.request_hash != request_hash {
                        Idempotency::Mismatch
                    } else if existing.status == 0 {
                        Idempotency::InProgress
                    } else {
                        Idempotency::Replay {
                            status: u16::try_from(existing.status).unwrap_or(500),
                            body: existing.body,
                        }
                    })
                }
                other => Err(other),
            },
        }
    }

    /// Records the response to a reserved key; `None` releases the key (the request failed
    /// on the server's side and may be retried).
    pub async fn idempotency_finish(
        &self,
        subject: &str,
        key: &str,
        response: Option<(u16, &str)>,
    ) -> Result<(), StoreError> {
        use entities::idempotency_key::{Column, Entity};
        use sea_orm::sea_query::Expr;
        let _turn = self.write_turn().await?;
        match response {
            Some((status, body)) => {
                Entity::update_many()
                    .col_expr(Column::Status, Expr::value(i32::from(status)))
                    .col_expr(Column::Body, Expr::value(body.to_owned()))
                    .filter(Column::Subject.eq(subject))
                    .filter(Column::Key.eq(key))
                    .exec(self.conn())
                    .await?;
            }
            None => {
                Entity::delete_many()
                    .filter(Column::Subject.eq(subject))
                    .filter(Column::Key.eq(key))
                    .exec(self.conn())
                    .await?;
            }
        }
        Ok(())
    }
}
