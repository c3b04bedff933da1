//! People's rights under the GDPR, through the one write path.
//!
//! - **Erasure** (Art. 17) of a contact, volunteer or staff record: the person's fields are
//!   overwritten in place (a new version, `updatedAt`, an audit event `erase` naming the
//!   fields, in one transaction), and every idempotency replay that holds the record is
//!   dropped. The record itself stays, so the counts it contributed stay and the records
//!   that point at it (mentorships, committees) stay valid. Audit events hold field names
//!   only, never values, so nothing in them needs erasing.
//! - **Access** (Art. 15): everything held about such a record — the record, its audit
//!   trail, the records that point at it, and how many idempotency replays hold it.
//! - **Retention**: a mentee reference is dropped `privacy.mentee_retention_days` after its
//!   mentorship ended ([`Store::apply_retention`]).

use crate::StoreError;
use crate::entities;
use crate::store::{PageRequest, Scoped, Store, Table};
use crate::tables::{
    Committees, Contacts, MentorshipFilter, Mentorships, StaffMembers, Volunteers,
};
use chrono::{Duration, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::audit::{AuditAction, AuditEvent};
use verbund_domain::contact::Contact;
use verbund_domain::people::{Staff, Volunteer};

/// A table whose records are about one person.
pub trait Personal: Table {
    /// The fields erasure overwrites (as the API names them).
    const ERASED: &'static [&'static str];
    /// The record with the person's fields erased; what others count or point at stays.
    fn erased(id: Uuid, data: &Self::Data) -> Self::Data;
}

/// The reference an erased volunteer or staff record keeps: pseudonymous, unique, and
/// saying what happened.
fn erased_reference(id: Uuid) -> String {
    format!("erased-{}", id.simple())
}

impl Personal for Contacts {
    const ERASED: &'static [&'static str] =
        &["name", "function", "email", "phone", "topics", "externalId"];
    fn erased(_: Uuid, d: &Contact) -> Contact {
        Contact {
            name: "(erased)".into(),
            function: None,
            email: None,
            phone: None,
            topics: Vec::new(),
            external_id: None,
            ..d.clone()
        }
    }
}

impl Personal for Volunteers {
    const ERASED: &'static [&'static str] = &["reference", "languages", "externalId"];
    fn erased(id: Uuid, d: &Volunteer) -> Volunteer {
        Volunteer {
            reference: erased_reference(id),
            languages: Vec::new(),
            external_id: None,
            ..d.clone()
        }
    }
}

impl Personal for StaffMembers {
    const ERASED: &'static [&'static str] = &["reference", "function", "externalId"];
    fn erased(id: Uuid, d: &Staff) -> Staff {
        Staff {
            reference: erased_reference(id),
            function: None,
            external_id: None,
            ..d.clone()
        }
    }
}

/// Everything held about one person's record.
#[derive(Debug, Clone)]
pub struct PersonalData<D> {
    pub record: Record<D>,
    /// Who changed which fields when (names only), newest first.
    pub audit: Vec<Record<AuditEvent>>,
    /// Records that point at it: (entity, id).
    pub referenced_by: Vec<(&'static str, Uuid)>,
    /// Stored replays of earlier responses (idempotency keys) that hold the record.
    pub replays: u64,
}

/// Mentorships changed per transaction by the retention task (short write turns).
const RETENTION_BATCH: u64 = 500;

/// The most audit events and references an access request lists.
const ACCESS_LIMIT: u64 = 1000;

impl Scoped {
    /// Erases the person's fields of a record the caller may write, if its version is still
    /// `expected_version`.
    pub async fn erase<T: Personal>(
        &self,
        id: Uuid,
        expected_version: i32,
    ) -> Result<Record<T::Data>, StoreError> {
        if !self.scope().writes_anything() {
            return Err(StoreError::Forbidden);
        }
        let txn = self.begin_write().await?;
        let result = async {
            let old = self.get_in_txn::<T>(&*txn, id).await?;
            let data = T::erased(id, &old.data);
            let record = self
                .replace_in::<T>(&txn, &old, expected_version, data, AuditAction::Erase)
                .await?;
            entities::idempotency_key::Entity::delete_many()
                .filter(replays_of(id))
                .exec(&*txn)
                .await?;
            Ok(record)
        }
        .await;
        txn.settle(result).await
    }

    /// What Verbund holds about a record of a person the caller may read.
    pub async fn personal_data<T: Personal>(
        &self,
        id: Uuid,
    ) -> Result<PersonalData<T::Data>, StoreError> {
        let record = self.get::<T>(id).await?;
        let audit = self
            .audit_events(
                Some(id),
                &PageRequest {
                    first: ACCESS_LIMIT,
                    after: None,
                },
            )
            .await?
            .items;
        let mut referenced_by = Vec::new();
        match T::KIND {
            verbund_domain::policy::EntityKind::Volunteer => {
                let filter = MentorshipFilter {
                    mentor_id: Some(id),
                    ..Default::default()
                };
                for m in self.all::<Mentorships>(&filter).await? {
                    referenced_by.push(("mentorship", m.id));
                }
            }
            verbund_domain::policy::EntityKind::Contact => {
                use entities::committee_member::{Column as C, Entity};
                let ids: Vec<Uuid> = Entity::find()
                    .select_only()
                    .column(C::CommitteeId)
                    .filter(C::MemberId.eq(id))
                    .limit(ACCESS_LIMIT)
                    .into_tuple()
                    .all(self.conn())
                    .await?;
                for c in self.get_many::<Committees>(&ids).await? {
                    referenced_by.push(("committee", c.id));
                }
            }
            _ => {}
        }
        let replays = entities::idempotency_key::Entity::find()
            .filter(replays_of(id))
            .count(self.conn())
            .await?;
        Ok(PersonalData {
            record,
            audit,
            referenced_by,
            replays,
        })
    }
}

/// The idempotency replays whose stored response holds the record `id`.
fn replays_of(id: Uuid) -> sea_orm::Condition {
    use entities::idempotency_key::Column as C;
    sea_orm::Condition::all().add(C::Body.contains(id.to_string()))
}

/// How long a mentee reference is kept after its mentorship ended, unless configured.
pub const DEFAULT_MENTEE_RETENTION_DAYS: u32 = 365;

impl Store {
    /// Drops the mentee reference of every mentorship that ended more than `days` days
    /// before `today`: each such mentorship gets a new version and an audit event
    /// `retention` naming `menteeRef`, a batch per transaction. Returns how many were changed.
    pub async fn apply_retention(&self, days: u32, today: NaiveDate) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let (n, done) = self.apply_retention_batch(days, today).await?;
            total += n;
            if done {
                return Ok(total);
            }
        }
    }

    /// One batch of [`Store::apply_retention`] (one transaction): how many it changed, and
    /// whether nothing is left.
    pub async fn apply_retention_batch(
        &self,
        days: u32,
        today: NaiveDate,
    ) -> Result<(u64, bool), StoreError> {
        let cutoff = today - Duration::days(i64::from(days));
        let s = self
            .scoped(verbund_domain::policy::Caller::system())
            .await?;
        let n = s.drop_mentee_references(cutoff).await?;
        Ok((n, n < RETENTION_BATCH))
    }
}

impl Scoped {
    async fn drop_mentee_references(&self, ended_before: NaiveDate) -> Result<u64, StoreError> {
        use entities::mentorship::{Column as C, Entity};
        let txn = self.begin_write().await?;
        let result = async {
            let ids: Vec<Uuid> = Entity::find()
                .select_only()
                .column(C::Id)
                .filter(C::MenteeRef.is_not_null())
                .filter(C::EndedOn.lt(ended_before))
                .filter(self.readable::<Mentorships>())
                .limit(RETENTION_BATCH)
                .into_tuple()
                .all(&*txn)
                .await?;
            let mut changed = 0;
            for id in ids {
                let old = self.get_in_txn::<Mentorships>(&*txn, id).await?;
                let mut data = old.data.clone();
                data.mentee_ref = None;
                self.replace_in::<Mentorships>(
                    &txn,
                    &old,
                    old.version,
                    data,
                    AuditAction::Retention,
                )
                .await?;
                changed += 1;
            }
            Ok(changed)
        }
        .await;
        txn.settle(result).await
    }
}
