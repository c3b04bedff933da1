//! The change feed. Every write of the one write path (create, update, patch, transition,
//! import, cascade, erasure, retention, delete) records a row in `changes` in its own
//! transaction, so no change commits without its event nor an event without its change.
//!
//! **Commit order.** A reader asks for the rows after the last `seq` it saw, so a row must
//! never become visible behind one already read. On PostgreSQL the row's number is taken
//! under the writers' transaction-scoped advisory lock (`aggregates::write_order_lock`),
//! which is released only after the transaction has committed: the next writer's number
//! is larger and its commit later. SQLite has one
//! writer at a time (the store's write turns), so numbering order is commit order there.
//!
//! **Scope.** Each row keeps where the record lives (network path, owning organisation,
//! whether it is in the public directory) after the change, and before it when an update
//! moved it. A caller reads the rows whose record it could read at either place, with the
//! policy's read scope for the record's kind turned into SQL here, like every read: an
//! update that moves a record into its scope is `entered`, out of it `left`.

use crate::entities::{change, change_reader};
use crate::error::StoreError;
use crate::store::{Scoped, Store, nothing, owned_by_visible_organisation, subtree};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;
use verbund_domain::change::{Change, ChangeAction, KINDS};
use verbund_domain::policy::{EntityKind, ReadScope};

/// The setting that keeps the highest `seq` pruned: cursors before it have expired.
const PRUNED_THROUGH: &str = "changes.pruned_through";

/// How many change numbers one page looks at, at most.
const SCAN_WINDOW: i64 = 10_000;

/// A page of the feed.
#[derive(Debug, Clone)]
pub struct ChangePage {
    pub items: Vec<Change>,
    /// Where to go on from: the last item's cursor, or the one asked for when the page is
    /// empty (for `after=now`, the present).
    pub next_cursor: String,
    /// Whether more changes are there already.
    pub has_more: bool,
}

/// Where a reader starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedStart {
    /// The oldest change the feed still keeps.
    Start,
    /// The present: only changes after this moment.
    Now,
    /// After the change with this cursor.
    After(i64),
}

impl FeedStart {
    /// `after` as a caller sends it: absent, `now`, or a cursor from the feed.
    fn parse(after: Option<&str>) -> Result<FeedStart, StoreError> {
        match after {
            None => Ok(FeedStart::Start),
            Some("now") => Ok(FeedStart::Now),
            Some(c) => decode(c).map(FeedStart::After).ok_or_else(not_a_cursor),
        }
    }
}

/// An `after` the feed never gave out: one that does not decode, or one past the last change.
fn not_a_cursor() -> StoreError {
    crate::store::invalid(
        "after",
        verbund_domain::Reason::Rule("not a cursor of the change feed, nor `now`"),
    )
}

/// A reader's request, read the same way by every door.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    pub start: FeedStart,
    pub limit: u64,
    pub types: Vec<EntityKind>,
}

impl FeedRequest {
    pub const DEFAULT_LIMIT: u64 = 100;
    pub const MAX_LIMIT: u64 = 1000;

    /// `after` (absent, `now` or a cursor), the limit (1 to 1000, default 100; the door
    /// calls it `limit_name`) and `types` (words of record kinds, e.g. `mentorship`; all if
    /// none); a validation error names the parameter otherwise.
    pub fn parse(
        after: Option<&str>,
        (limit, limit_name): (Option<i64>, &str),
        types: &[String],
    ) -> Result<FeedRequest, StoreError> {
        use verbund_domain::{Reason, ValidationErrors};
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT as i64);
        if !(1..=Self::MAX_LIMIT as i64).contains(&limit) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                limit_name,
                Reason::OutOfRange {
                    min: 1,
                    max: Self::MAX_LIMIT as i64,
                },
            )));
        }
        let types = verbund_domain::change::kinds(types)
            .map_err(|reason| crate::store::invalid("types", reason))?;
        Ok(FeedRequest {
            start: FeedStart::parse(after)?,
            limit: limit as u64,
            types,
        })
    }
}

fn encode(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("c{seq}"))
}

pub(crate) fn decode(cursor: &str) -> Option<i64> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let seq = std::str::from_utf8(&raw)
        .ok()?
        .strip_prefix('c')?
        .parse()
        .ok()?;
    (seq >= 0).then_some(seq)
}

/// The rows of one kind a read scope covers, from where a row says the record lives.
fn covers(
    scope: &ReadScope,
    path: change::Column,
    organisation: change::Column,
    public: change::Column,
) -> Condition {
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::Subtree(p) => subtree(path, p),
        ReadScope::Organisation(id) => {
            owned_by_visible_organisation(organisation, &ReadScope::Organisation(*id))
        }
        ReadScope::Published => Condition::all().add(public.eq(true)),
        ReadScope::OwnAndPublished(own) => Condition::any()
            .add(covers(own, path, organisation, public))
            .add(public.eq(true)),
        ReadScope::Nothing => nothing(),
    }
}

/// The changes whose record an organisation of the scope may read although it lives
/// elsewhere (a cooperation it is a partner of, a committee it sits on, and its meetings):
/// `change_readers`, after the change or before it.
fn read_elsewhere(scope: &ReadScope, after: bool) -> Condition {
    use change_reader::Column as R;
    match scope {
        ReadScope::Organisation(_) => {
            let readers = Query::select()
                .column(R::Seq)
                .from(change_reader::Entity)
                .cond_where(
                    Condition::all()
                        .add(R::After.eq(after))
                        .add(owned_by_visible_organisation(R::OrganisationId, scope)),
                )
                .to_owned();
            Condition::all().add(change::Column::Seq.in_subquery(readers))
        }
        ReadScope::OwnAndPublished(own) => read_elsewhere(own, after),
        _ => nothing(),
    }
}

#[derive(FromQueryResult)]
struct Row {
    seq: i64,
    at: DateTime<Utc>,
    entity: String,
    entity_id: Uuid,
    action: String,
    version: i32,
    now_visible: i32,
    was_visible: i32,
}

impl Scoped {
    /// The changes after the request's start that the caller may see, oldest first, at
    /// most `limit`, of the kinds in `types` (all if empty).
    pub async fn changes(&self, req: &FeedRequest) -> Result<ChangePage, StoreError> {
        let (limit, types) = (req.limit, &req.types);
        use change::Column as C;
        let pruned: i64 = crate::entities::setting::Entity::find_by_id(PRUNED_THROUGH)
            .one(self.conn())
            .await?
            .and_then(|s| s.value.parse().ok())
            .unwrap_or(0);
        // The last committed change (every smaller number is final: see `crate::outbox`);
        // an empty feed (all pruned) stands at the last pruned change.
        let latest = change::Entity::find()
            .select_only()
            .column_as(C::Seq.max(), "seq")
            .into_tuple::<Option<i64>>()
            .one(self.conn())
            .await?
            .flatten()
            .unwrap_or(0)
            .max(pruned);
        let page = |next: i64, has_more: bool, items: Vec<Change>| ChangePage {
            items,
            next_cursor: encode(next),
            has_more,
        };
        let after = match req.start {
            FeedStart::Now => return Ok(page(latest, false, Vec::new())),
            FeedStart::Start => pruned,
            FeedStart::After(seq) if seq < pruned => return Err(StoreError::CursorExpired),
            FeedStart::After(seq) if seq > latest => return Err(not_a_cursor()),
            FeedStart::After(seq) => seq,
        };
        // One page looks at no more than SCAN_WINDOW numbers, so that a caller who may see
        // few changes cannot make the server read the whole table; the cursor moves on
        // past the changes it may not see.
        let end = latest.min(after.saturating_add(SCAN_WINDOW));
        if end <= after {
            return Ok(page(after, false, Vec::new()));
        }
        let (mut now, mut was) = (Condition::any(), Condition::any());
        for kind in KINDS {
            if !types.is_empty() && !types.contains(&kind) {
                continue;
            }
            let scope = self.scope().read(kind);
            let is = || Condition::all().add(C::Entity.eq(kind.as_str()));
            let here = covers(&scope, C::NetworkPath, C::OrganisationId, C::Public);
            let before = covers(
                &scope,
                C::PrevNetworkPath,
                C::PrevOrganisationId,
                C::PrevPublic,
            );
            now = now.add(
                is().add(
                    Condition::any()
                        .add(here.clone())
                        .add(read_elsewhere(&scope, true)),
                ),
            );
            was = was.add(
                is().add(
                    Condition::any()
                        .add(Condition::all().add(C::PrevNetworkPath.is_null()).add(here))
                        .add(
                            Condition::all()
                                .add(C::PrevNetworkPath.is_not_null())
                                .add(before),
                        )
                        .add(read_elsewhere(&scope, false)),
                ),
            );
        }
        let rows = change::Entity::find()
            .select_only()
            .columns([C::Seq, C::At, C::Entity, C::EntityId, C::Action, C::Version])
            .expr_as(
                Expr::case(now.clone(), Expr::val(1)).finally(Expr::val(0)),
                "now_visible",
            )
            .expr_as(
                Expr::case(was.clone(), Expr::val(1)).finally(Expr::val(0)),
                "was_visible",
            )
            .filter(C::Seq.gt(after))
            .filter(C::Seq.lte(end))
            .filter(Condition::any().add(now).add(was))
            .order_by_asc(C::Seq)
            .limit(limit + 1)
            .into_model::<Row>()
            .all(self.conn())
            .await?;
        let full = rows.len() as u64 > limit;
        let mut items = Vec::with_capacity(rows.len());
        let mut last = after;
        for r in rows.into_iter().take(limit as usize) {
            last = r.seq;
            let corrupt = |c| crate::error::corrupt("changes", c);
            let recorded = ChangeAction::parse(&r.action).map_err(|_| corrupt("action"))?;
            let action = match (recorded, r.was_visible != 0, r.now_visible != 0) {
                (ChangeAction::Updated, false, true) => ChangeAction::Entered,
                (ChangeAction::Updated, true, false) => ChangeAction::Left,
                (a, _, _) => a,
            };
            items.push(Change {
                cursor: encode(r.seq),
                entity: EntityKind::parse(&r.entity).map_err(|_| corrupt("entity"))?,
                id: r.entity_id,
                action,
                version: r.version,
                at: r.at,
            });
        }
        Ok(if full {
            page(last, true, items)
        } else {
            page(end, end < latest, items)
        })
    }
}

impl Store {
    /// Drops the changes written before `before`; a cursor pointing into them has expired
    /// (410, read again). Returns how many were dropped.
    pub async fn prune_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        use change::Column as C;
        let txn = self.begin_write().await?;
        let result = async {
            let through: Option<i64> = change::Entity::find()
                .select_only()
                .column_as(C::Seq.max(), "seq")
                .filter(C::At.lt(before))
                .into_tuple::<Option<i64>>()
                .one(&*txn)
                .await?
                .flatten();
            let Some(through) = through else {
                return Ok(0);
            };
            let gone = change::Entity::delete_many()
                .filter(C::Seq.lte(through))
                .exec(&*txn)
                .await?
                .rows_affected;
            change_reader::Entity::delete_many()
                .filter(change_reader::Column::Seq.lte(through))
                .exec(&*txn)
                .await?;
            let row = crate::entities::setting::ActiveModel {
                key: Set(PRUNED_THROUGH.to_owned()),
                value: Set(through.to_string()),
            };
            crate::entities::setting::Entity::insert(row)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(crate::entities::setting::Column::Key)
                        .update_column(crate::entities::setting::Column::Value)
                        .to_owned(),
                )
                .exec_without_returning(&*txn)
                .await?;
            Ok(gone)
        }
        .await;
        txn.settle(result).await
    }
}
