//! Webhook subscriptions and their deliveries.
//!
//! A subscription follows the change feed on its owner's behalf: the server reads the feed
//! with the owner's claims (so it carries only what the owner may read, decided by the same
//! policy as every read) and writes one delivery per change it may see
//! ([`Store::webhook_fan_out`]). Deliveries are then leased by whichever replica gets them
//! first ([`Store::webhook_claim`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL), sent, and
//! finished with the attempt's outcome ([`Store::webhook_finish`]); a lease that runs out
//! (a replica died mid-delivery) makes the delivery due again. A subscription's row is
//! locked while it is fanned out, and a delivery is unique per change and subscription, so
//! each change becomes one delivery per subscription however many replicas run.

use crate::entities::{webhook_attempt, webhook_delivery, webhook_subscription};
use crate::error::StoreError;
use crate::store::{Scoped, Store, invalid};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};
use uuid::Uuid;
use verbund_domain::Reason;
use verbund_domain::policy::{Anchor, Caller, EntityKind, Role};
pub use verbund_domain::webhook::{
    Delivery, DeliveryAttempt, Subscription, SubscriptionWithSecret,
};
use verbund_domain::webhook::{Webhook, event_type};

/// What a caller may change of a subscription.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub webhook: Option<Webhook>,
    /// Enabling again starts from the present: changes while disabled are not delivered.
    pub enabled: Option<bool>,
}

/// A delivery a replica has leased, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub url: String,
    pub payload: String,
    /// The secrets to sign with: the current one, and the one before a rotation while the
    /// overlap lasts.
    pub secrets: Vec<String>,
    /// Attempts before this one.
    pub attempts: i32,
    /// When the delivery was created (its age decides when retrying stops).
    pub created_at: DateTime<Utc>,
}

/// How an attempt ended, as the sender saw it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: i32,
    /// Delivered (2xx): no more attempts.
    pub delivered: bool,
    /// The next attempt, if any; none and not delivered: the delivery has failed.
    pub retry_at: Option<DateTime<Utc>>,
    /// The receiver asked for no more deliveries (410): the subscription is disabled.
    pub gone: bool,
}

const PENDING: &str = "pending";

impl crate::Store {
    /// Deliveries waiting to be sent (for the metrics).
    pub async fn webhook_queue_depth(&self) -> Result<u64, StoreError> {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        Ok(crate::entities::webhook_delivery::Entity::find()
            .filter(crate::entities::webhook_delivery::Column::State.eq(PENDING))
            .count(self.conn())
            .await?)
    }
}

const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// The states a delivery log may be filtered by.
pub const STATES: [&str; 3] = [PENDING, DELIVERED, FAILED];

fn new_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn anchor_columns(caller: &Caller) -> (Option<Uuid>, Option<Uuid>) {
    match caller.anchor {
        Anchor::None => (None, None),
        Anchor::Network(n) => (Some(n), None),
        Anchor::Organisation(o) => (None, Some(o)),
    }
}

fn types_column(types: &[EntityKind]) -> String {
    types
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn to_subscription(m: webhook_subscription::Model) -> Result<Subscription, StoreError> {
    let types = verbund_domain::change::kinds(&[m.types])
        .map_err(|_| crate::error::corrupt("webhook_subscriptions", "types"))?;
    Ok(Subscription {
        id: m.id,
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
        url: m.url,
        types,
        description: m.description,
        enabled: m.enabled,
        disabled_reason: m.disabled_reason,
        previous_secret_until: m.previous_until.filter(|u| *u > Utc::now()),
    })
}

impl Scoped {
    /// Subscriptions belong to the caller that made them: the same subject, role and
    /// anchor. Another caller's are "not found".
    fn own_webhooks(&self) -> sea_orm::Select<webhook_subscription::Entity> {
        use webhook_subscription::Column as C;
        let caller = self.caller();
        let (network, organisation) = anchor_columns(caller);
        let eq_opt = |c: C, v: Option<Uuid>| match v {
            Some(v) => c.eq(v),
            None => c.is_null(),
        };
        webhook_subscription::Entity::find()
            .filter(C::Subject.eq(caller.subject.clone()))
            .filter(C::Role.eq(caller.role.as_str()))
            .filter(eq_opt(C::NetworkId, network))
            .filter(eq_opt(C::OrganisationId, organisation))
    }

    fn may_subscribe(&self) -> Result<(), StoreError> {
        if self.caller().role == Role::Anonymous {
            return Err(StoreError::Forbidden);
        }
        Ok(())
    }

    /// Subscribes the caller: from the present on, it receives every change it may read
    /// of the kinds asked for. The secret is returned here and never again.
    pub async fn create_webhook(
        &self,
        hook: Webhook,
        max_per_owner: u64,
    ) -> Result<SubscriptionWithSecret, StoreError> {
        use sea_orm::PaginatorTrait;
        self.may_subscribe()?;
        let txn = self.begin_write().await?;
        let result = async {
            if self.own_webhooks().count(&*txn).await? >= max_per_owner {
                return Err(invalid(
                    "url",
                    Reason::Rule("the caller has as many subscriptions as allowed"),
                ));
            }
            let now = Utc::now();
            let (network, organisation) = anchor_columns(self.caller());
            let secret = new_secret();
            let row = webhook_subscription::ActiveModel {
                id: Set(verbund_domain::record::new_id()),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                subject: Set(self.caller().subject.clone()),
                role: Set(self.caller().role.as_str().to_owned()),
                network_id: Set(network),
                organisation_id: Set(organisation),
                url: Set(hook.url),
                types: Set(types_column(&hook.types)),
                description: Set(hook.description),
                secret: Set(secret.clone()),
                previous_secret: Set(None),
                previous_until: Set(None),
                cursor: Set(latest_seq(&*txn).await?),
                enabled: Set(true),
                disabled_reason: Set(None),
            }
            .insert(&*txn)
            .await?;
            Ok(SubscriptionWithSecret {
                webhook: to_subscription(row)?,
                secret,
            })
        }
        .await;
        txn.settle(result).await
    }

    /// The caller's subscriptions, oldest first.
    pub async fn webhooks(&self) -> Result<Vec<Subscription>, StoreError> {
        self.own_webhooks()
            .order_by_asc(webhook_subscription::Column::Id)
            .all(self.conn())
            .await?
            .into_iter()
            .map(to_subscription)
            .collect()
    }

    async fn own_webhook(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<webhook_subscription::Model, StoreError> {
        self.own_webhooks()
            .filter(webhook_subscription::Column::Id.eq(id))
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn webhook(&self, id: Uuid) -> Result<Subscription, StoreError> {
        to_subscription(self.own_webhook(self.conn(), id).await?)
    }

    /// Changes a subscription if its version is still `expected_version`.
    pub async fn update_webhook(
        &self,
        id: Uuid,
        expected_version: i32,
        patch: WebhookPatch,
    ) -> Result<Subscription, StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let old = self.own_webhook(&*txn, id).await?;
            if old.version != expected_version {
                return Err(StoreError::Conflict(crate::Conflict::StaleVersion {
                    expected: expected_version,
                    current: old.version,
                }));
            }
            let mut row: webhook_subscription::ActiveModel = old.clone().into();
            if let Some(hook) = patch.webhook {
                row.url = Set(hook.url);
                row.types = Set(types_column(&hook.types));
                row.description = Set(hook.description);
            }
            match patch.enabled {
                Some(true) if !old.enabled => {
                    row.enabled = Set(true);
                    row.disabled_reason = Set(None);
                    row.cursor = Set(latest_seq(&*txn).await?);
                }
                Some(false) => {
                    row.enabled = Set(false);
                    row.disabled_reason = Set(Some("disabled by its owner".to_owned()));
                }
                _ => {}
            }
            row.version = Set(old.version + 1);
            row.updated_at = Set(Utc::now());
            let row = row.update(&*txn).await?;
            to_subscription(row)
        }
        .await;
        txn.settle(result).await
    }

    /// Deletes a subscription with its deliveries and their log.
    pub async fn delete_webhook(&self, id: Uuid) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let old = self.own_webhook(&*txn, id).await?;
            let deliveries = webhook_delivery::Entity::find()
                .select_only()
                .column(webhook_delivery::Column::Id)
                .filter(webhook_delivery::Column::SubscriptionId.eq(old.id));
            webhook_attempt::Entity::delete_many()
                .filter(webhook_attempt::Column::DeliveryId.in_subquery(deliveries.into_query()))
                .exec(&*txn)
                .await?;
            webhook_delivery::Entity::delete_many()
                .filter(webhook_delivery::Column::SubscriptionId.eq(old.id))
                .exec(&*txn)
                .await?;
            webhook_subscription::Entity::delete_by_id(old.id)
                .exec(&*txn)
                .await?;
            Ok(())
        }
        .await;
        txn.settle(result).await
    }

    /// A new secret (shown once); deliveries carry signatures with both the new and the old
    /// one for `overlap`, so the receiver can switch without losing any.
    pub async fn rotate_webhook_secret(
        &self,
        id: Uuid,
        overlap: chrono::Duration,
    ) -> Result<SubscriptionWithSecret, StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            let old = self.own_webhook(&*txn, id).await?;
            let secret = new_secret();
            let now = Utc::now();
            let mut row: webhook_subscription::ActiveModel = old.clone().into();
            row.previous_secret = Set(Some(old.secret));
            row.previous_until = Set(Some(now + overlap));
            row.secret = Set(secret.clone());
            row.version = Set(old.version + 1);
            row.updated_at = Set(now);
            let row = row.update(&*txn).await?;
            Ok(SubscriptionWithSecret {
                webhook: to_subscription(row)?,
                secret,
            })
        }
        .await;
        txn.settle(result).await
    }

    /// The subscription's deliveries, newest first, optionally only those in `state`, with
    /// every attempt.
    /// `limit` as the caller sent it (1 to 100, default 50), under the name its door gives
    /// the parameter (`limit` in REST, `first` in GraphQL), so both refuse it alike.
    pub async fn webhook_deliveries(
        &self,
        id: Uuid,
        state: Option<&str>,
        (limit_name, limit): (&'static str, Option<i64>),
    ) -> Result<Vec<Delivery>, StoreError> {
        use webhook_delivery::Column as D;
        let limit = limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(invalid(limit_name, Reason::OutOfRange { min: 1, max: 100 }));
        }
        let sub = self.own_webhook(self.conn(), id).await?;
        let mut q = webhook_delivery::Entity::find().filter(D::SubscriptionId.eq(sub.id));
        if let Some(s) = state {
            if !STATES.contains(&s) {
                return Err(invalid("state", Reason::UnknownValue { allowed: &STATES }));
            }
            q = q.filter(D::State.eq(s));
        }
        let rows = q
            .order_by_desc(D::Seq)
            .limit(limit.unsigned_abs())
            .all(self.conn())
            .await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let attempts = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempt::Column::At)
            .all(self.conn())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Delivery {
                attempts: attempts
                    .iter()
                    .filter(|a| a.delivery_id == r.id)
                    .map(|a| DeliveryAttempt {
                        at: a.at,
                        status: a.status.and_then(|s| u16::try_from(s).ok()),
                        error: a.error.clone(),
                        duration_ms: a.duration_ms,
                    })
                    .collect(),
                next_attempt_at: (r.state == PENDING).then_some(r.next_attempt_at),
                id: r.id,
                event_type: r.event_type,
                payload: r.payload,
                state: r.state,
                created_at: r.created_at,
                finished_at: r.finished_at,
            })
            .collect())
    }

    /// Sends deliveries again at once: one (`delivery`), or every delivery of the
    /// subscription created in `[from, to]` (failed and delivered alike). Returns how many.
    pub async fn redeliver(
        &self,
        id: Uuid,
        delivery: Option<Uuid>,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<u64, StoreError> {
        use webhook_delivery::Column as D;
        let txn = self.begin_write().await?;
        let result = async {
            let sub = self.own_webhook(&*txn, id).await?;
            let mut q = webhook_delivery::Entity::update_many()
                .col_expr(D::State, Expr::value(PENDING))
                .col_expr(D::NextAttemptAt, Expr::value(Utc::now()))
                .col_expr(D::FinishedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(D::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(D::LeasedBy, Expr::value(Option::<Uuid>::None))
                .filter(D::SubscriptionId.eq(sub.id));
            if let Some(d) = delivery {
                q = q.filter(D::Id.eq(d));
            }
            if let Some((from, to)) = range {
                q = q
                    .filter(D::CreatedAt.gte(from))
                    .filter(D::CreatedAt.lte(to));
            }
            let n = q.exec(&*txn).await?.rows_affected;
            if delivery.is_some() && n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(n)
        }
        .await;
        txn.settle(result).await
    }
}

/// The number of the last change written (0 when there is none).
async fn latest_seq(conn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    use crate::entities::change::{Column as C, Entity};
    Ok(Entity::find()
        .select_only()
        .column_as(C::Seq.max(), "seq")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
}

impl Store {
    /// Follows the feed for every enabled subscription, at most `batch` changes each, and
    /// writes a delivery for each change the owner may read. A subscription is locked while
    /// it is fanned out (skipped by other replicas meanwhile). Returns the deliveries written.
    pub async fn webhook_fan_out(&self, batch: u64) -> Result<u64, StoreError> {
        use webhook_subscription::Column as C;
        // Only subscriptions behind the feed's newest change: an idle poll is one query.
        let ids: Vec<Uuid> = webhook_subscription::Entity::find()
            .select_only()
            .column(C::Id)
            .filter(C::Enabled.eq(true))
            .filter(
                Expr::col(C::Cursor).lt(Expr::cust("(SELECT COALESCE(MAX(seq), 0) FROM changes)")),
            )
            .into_tuple()
            .all(self.conn())
            .await?;
        let mut written = 0;
        for id in ids {
            written += self.fan_out_one(id, batch).await?;
        }
        Ok(written)
    }

    async fn fan_out_one(&self, id: Uuid, batch: u64) -> Result<u64, StoreError> {
        use webhook_subscription::Column as C;
        let postgres = self.backend() == DbBackend::Postgres;
        let txn = self.begin_write().await?;
        let result = async {
            let mut q = webhook_subscription::Entity::find()
                .filter(C::Id.eq(id))
                .filter(C::Enabled.eq(true));
            if postgres {
                q = q.lock_with_behavior(
                    sea_orm::sea_query::LockType::Update,
                    sea_orm::sea_query::LockBehavior::SkipLocked,
                );
            }
            let Some(sub) = q.one(&*txn).await? else {
                return Ok(0);
            };
            let disable = |reason: &str| {
                let mut row: webhook_subscription::ActiveModel = sub.clone().into();
                row.enabled = Set(false);
                row.disabled_reason = Set(Some(reason.to_owned()));
                row.updated_at = Set(Utc::now());
                row
            };
            let role = Role::parse(&sub.role)
                .map_err(|_| crate::error::corrupt("webhook_subscriptions", "role"))?;
            let owner =
                match Caller::from_claims(&sub.subject, role, sub.network_id, sub.organisation_id) {
                    Ok(c) => self.scoped(c).await,
                    Err(_) => Err(StoreError::UnknownAnchor("organisation")),
                };
            let owner = match owner {
                Ok(o) => o,
                Err(StoreError::UnknownAnchor(what)) => {
                    disable(&format!("the owner's {what} no longer exists"))
                        .update(&*txn)
                        .await?;
                    return Ok(0);
                }
                Err(e) => return Err(e),
            };
            let types = verbund_domain::change::kinds(std::slice::from_ref(&sub.types))
                .map_err(|_| crate::error::corrupt("webhook_subscriptions", "types"))?;
            let req = crate::changes::FeedRequest {
                start: crate::changes::FeedStart::After(sub.cursor),
                limit: batch.clamp(1, crate::changes::FeedRequest::MAX_LIMIT),
                types,
            };
            let page = match owner.changes(&req).await {
                Ok(p) => p,
                Err(StoreError::CursorExpired) => {
                    disable("it fell behind the change feed's retention; enable it again to go on from the present")
                        .update(&*txn)
                        .await?;
                    return Ok(0);
                }
                Err(e) => return Err(e),
            };
            let next = crate::changes::decode(&page.next_cursor).unwrap_or(sub.cursor);
            if next == sub.cursor {
                return Ok(0);
            }
            let now = Utc::now();
            let rows: Vec<webhook_delivery::ActiveModel> = page
                .items
                .iter()
                .filter_map(|c| {
                    let seq = crate::changes::decode(&c.cursor)?;
                    let id = verbund_domain::record::new_id();
                    let kind = event_type(c.entity, c.action);
                    let payload = serde_json::json!({
                        "type": kind,
                        "timestamp": c.at,
                        "data": {
                            "entity": c.entity.as_str(),
                            "id": c.id,
                            "action": c.action.as_str(),
                            "version": c.version,
                            "at": c.at,
                            "cursor": c.cursor,
                        }
                    });
                    Some(webhook_delivery::ActiveModel {
                        id: Set(id),
                        subscription_id: Set(sub.id),
                        seq: Set(seq),
                        event_type: Set(kind),
                        payload: Set(payload.to_string()),
                        state: Set(PENDING.to_owned()),
                        attempts: Set(0),
                        next_attempt_at: Set(now),
                        lease_until: Set(None),
                        leased_by: Set(None),
                        created_at: Set(now),
                        finished_at: Set(None),
                        last_status: Set(None),
                        last_error: Set(None),
                    })
                })
                .collect();
            let mut written = 0;
            if !rows.is_empty() {
                written = webhook_delivery::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            webhook_delivery::Column::SubscriptionId,
                            webhook_delivery::Column::Seq,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(&*txn)
                    .await?;
            }
            webhook_subscription::Entity::update_many()
                .col_expr(C::Cursor, Expr::value(next))
                .filter(C::Id.eq(sub.id))
                .exec(&*txn)
                .await?;
            Ok(written)
        }
        .await;
        txn.settle(result).await
    }

    /// Leases up to `n` due deliveries of enabled subscriptions to `worker` for `lease`.
    /// On PostgreSQL rows another replica is leasing are skipped, not waited for.
    pub async fn webhook_claim(
        &self,
        worker: Uuid,
        lease: std::time::Duration,
        n: u64,
    ) -> Result<Vec<Due>, StoreError> {
        let backend = self.backend();
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let p = |i: usize| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        };
        let lock = if backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = {}, leased_by = {} WHERE id IN (\
             SELECT id FROM webhook_deliveries WHERE state = '{PENDING}' AND next_attempt_at <= {} \
             AND (lease_until IS NULL OR lease_until < {}) \
             AND subscription_id IN (SELECT id FROM webhook_subscriptions WHERE enabled) \
             ORDER BY next_attempt_at, seq LIMIT {}{lock}) RETURNING id",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        );
        let stmt = Statement::from_sql_and_values(
            backend,
            &sql,
            [
                until.into(),
                worker.into(),
                now.into(),
                now.into(),
                i64::try_from(n).unwrap_or(i64::MAX).into(),
            ],
        );
        let claimed: Vec<Uuid> = {
            let _turn = self.write_turn().await?;
            self.conn()
                .query_all_raw(stmt)
                .await?
                .into_iter()
                .map(|r| r.try_get_by_index::<Uuid>(0))
                .collect::<Result<_, _>>()?
        };
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Id.is_in(claimed))
            .filter(webhook_delivery::Column::LeasedBy.eq(worker))
            .order_by_asc(webhook_delivery::Column::Seq)
            .all(self.conn())
            .await?;
        let subs: Vec<webhook_subscription::Model> = webhook_subscription::Entity::find()
            .filter(
                webhook_subscription::Column::Id
                    .is_in(deliveries.iter().map(|d| d.subscription_id)),
            )
            .all(self.conn())
            .await?;
        Ok(deliveries
            .into_iter()
            .filter_map(|d| {
                let s = subs.iter().find(|s| s.id == d.subscription_id)?;
                let mut secrets = vec![s.secret.clone()];
                if let (Some(prev), Some(until)) = (&s.previous_secret, s.previous_until) {
                    if until > now {
                        secrets.push(prev.clone());
                    }
                }
                Some(Due {
                    id: d.id,
                    subscription_id: d.subscription_id,
                    url: s.url.clone(),
                    payload: d.payload,
                    secrets,
                    attempts: d.attempts,
                    created_at: d.created_at,
                })
            })
            .collect())
    }

    /// Records an attempt of a delivery `worker` leased: the log entry, the delivery's new
    /// state, and, on 410, the subscription disabled. Ignored if the lease was lost meanwhile
    /// (another replica has the delivery now). Returns whether it was recorded.
    pub async fn webhook_finish(
        &self,
        worker: Uuid,
        due: &Due,
        f: &Finished,
    ) -> Result<bool, StoreError> {
        use webhook_delivery::Column as D;
        let now = Utc::now();
        let txn = self.begin_write().await?;
        let result = async {
            let (state, next, finished) = match (f.delivered, f.retry_at) {
                (true, _) => (DELIVERED, now, Some(now)),
                (false, Some(at)) if !f.gone => (PENDING, at, None),
                _ => (FAILED, now, Some(now)),
            };
            let updated = webhook_delivery::Entity::update_many()
                .col_expr(D::State, Expr::value(state))
                .col_expr(D::Attempts, Expr::col(D::Attempts).add(1))
                .col_expr(D::NextAttemptAt, Expr::value(next))
                .col_expr(D::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(D::LeasedBy, Expr::value(Option::<Uuid>::None))
                .col_expr(D::FinishedAt, Expr::value(finished))
                .col_expr(D::LastStatus, Expr::value(f.status.map(i32::from)))
                .col_expr(D::LastError, Expr::value(f.error.clone()))
                .filter(D::Id.eq(due.id))
                .filter(D::LeasedBy.eq(worker))
                .exec(&*txn)
                .await?
                .rows_affected;
            if updated == 0 {
                return Ok(false);
            }
            webhook_attempt::ActiveModel {
                id: Set(verbund_domain::record::new_id()),
                delivery_id: Set(due.id),
                at: Set(now),
                status: Set(f.status.map(i32::from)),
                error: Set(f.error.clone()),
                duration_ms: Set(f.duration_ms),
            }
            .insert(&*txn)
            .await?;
            if f.gone {
                use webhook_subscription::Column as C;
                webhook_subscription::Entity::update_many()
                    .col_expr(C::Enabled, Expr::value(false))
                    .col_expr(
                        C::DisabledReason,
                        Expr::value("the receiver answered 410 Gone"),
                    )
                    .col_expr(C::UpdatedAt, Expr::value(now))
                    .filter(C::Id.eq(due.subscription_id))
                    .exec(&*txn)
                    .await?;
            }
            Ok(true)
        }
        .await;
        txn.settle(result).await
    }

    /// Drops delivered deliveries finished before `delivered_before` and failed ones
    /// finished before `failed_before`, with their log. Returns how many were dropped.
    pub async fn prune_webhook_deliveries(
        &self,
        delivered_before: DateTime<Utc>,
        failed_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        use sea_orm::Condition;
        use webhook_delivery::Column as D;
        let old = sea_orm::Condition::any()
            .add(
                Condition::all()
                    .add(D::State.eq(DELIVERED))
                    .add(D::FinishedAt.lt(delivered_before)),
            )
            .add(
                Condition::all()
                    .add(D::State.eq(FAILED))
                    .add(D::FinishedAt.lt(failed_before)),
            );
        let txn = self.begin_write().await?;
        let result = async {
            let ids = webhook_delivery::Entity::find()
                .select_only()
                .column(D::Id)
                .filter(old.clone());
            webhook_attempt::Entity::delete_many()
                .filter(webhook_attempt::Column::DeliveryId.in_subquery(ids.into_query()))
                .exec(&*txn)
                .await?;
            let n = webhook_delivery::Entity::delete_many()
                .filter(old)
                .exec(&*txn)
                .await?
                .rows_affected;
            Ok(n)
        }
        .await;
        txn.settle(result).await
    }
}
