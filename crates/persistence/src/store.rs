//! The store and its only door for callers: [`Scoped`], a database handle bound to one
//! caller's [`Scope`]. Every read goes through [`Table::visible`], so the scope is part of
//! the SQL; every write asks the policy in the domain crate before it touches a row, and
//! writes its audit event in the same transaction.

use crate::entities::{audit_event, network, organisation};
use crate::error::{Conflict, StoreError};
use crate::migration::Migrator;
use crate::outbox::Written;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, FromQueryResult, IdenStatic,
    IntoActiveModel, Iterable, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Set, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;
use uuid::Uuid;
use verbund_domain::audit::AuditAction;
use verbund_domain::network::{NetworkLevel, path_upper_bound};
use verbund_domain::policy::{
    Anchor, AnchorKind, Caller, EntityKind, Location, ReadScope, Role, Scope,
};
use verbund_domain::{Reason, Record, ValidationErrors};

/// The database. Cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    turns: WriteTurns,
}

/// How long a writer waits for its turn on SQLite before it is told to retry (503).
pub const WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite has one writer at a time per file, and a deferred transaction that read first
/// cannot always wait for the lock (it fails with "database is locked" at once). So the
/// writers of this process take turns here, in arrival order, before they begin; another
/// process's writer is waited for by `busy_timeout`. PostgreSQL needs no turns.
#[derive(Clone, Debug)]
pub(crate) struct WriteTurns(
    Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Writers waiting for their turn now (for the metrics).
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
);

/// The connection pool at one moment.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub in_use: usize,
    pub idle: usize,
    pub max: usize,
    /// Writers of this process waiting for their turn (SQLite; always 0 on PostgreSQL).
    pub writers_waiting: usize,
}

/// A held turn (nothing on PostgreSQL); the next writer goes when it is dropped.
pub(crate) type Turn = Option<tokio::sync::OwnedMutexGuard<()>>;

impl WriteTurns {
    pub(crate) async fn take(&self) -> Result<Turn, StoreError> {
        match &self.0 {
            None => Ok(None),
            Some(m) => {
                use std::sync::atomic::Ordering::Relaxed;
                self.1.fetch_add(1, Relaxed);
                let turn = tokio::time::timeout(WRITE_TURN_TIMEOUT, m.clone().lock_owned()).await;
                self.1.fetch_sub(1, Relaxed);
                turn.map(Some).map_err(|_| StoreError::Busy)
            }
        }
    }
}

/// A write transaction and the writer's turn, held until it commits or is dropped. Every
/// write ends with [`WriteTxn::settle`] (its work in an `async` block), so that what it
/// refuses is rolled back before the turn passes on; only the import (which rolls back
/// itself) and the demo data's batch commit by hand.
pub(crate) struct WriteTxn {
    txn: DatabaseTransaction,
    _turn: Turn,
}

impl std::ops::Deref for WriteTxn {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl WriteTxn {
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().await?;
        Ok(())
    }

    /// Undoes everything written in it (a dry run).
    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        self.txn.rollback().await?;
        Ok(())
    }

    /// Commits what the write gave, or rolls back what it refused, before the writer's turn
    /// passes on. A transaction only dropped is rolled back later, when its connection is
    /// used again: meanwhile SQLite's write lock stays taken, and the next writer, whose
    /// turn it already is, would find the database busy.
    pub(crate) async fn settle<R>(self, result: Result<R, StoreError>) -> Result<R, StoreError> {
        match result {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(e) => {
                // The refusal is the answer; a failed rollback leaves the lazy one.
                let _ = self.txn.rollback().await;
                Err(e)
            }
        }
    }
}

/// Begins a write transaction in turn (see [`WriteTurns`]).
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
    turns: &WriteTurns,
) -> Result<WriteTxn, StoreError> {
    let turn = turns.take().await?;
    Ok(WriteTxn {
        txn: db.begin().await?,
        _turn: turn,
    })
}

impl Store {
    /// Connects to `url` (`sqlite://file.db`, `sqlite::memory:`, `postgres://…`). A SQLite
    /// file is created if missing.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, false).await
    }

    /// [`Store::connect`]; with `transaction_pooler`, for a PostgreSQL URL that goes through
    /// a pooler in transaction mode (PgBouncer before 1.21, which keeps no prepared
    /// statements): no statement is kept prepared on the server, and every use of a pooled
    /// connection runs in a transaction of its own (`BEGIN` when it is taken from the pool,
    /// `COMMIT` when it goes back), so that the pooler keeps one server connection for the
    /// parse and the execution of a statement. Without the second part the unnamed
    /// statement of one client can be executed on another's server connection — seen here
    /// as columns decoded from another query's rows.
    pub async fn connect_with(url: &str, transaction_pooler: bool) -> Result<Store, StoreError> {
        let url =
            if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            } else {
                url.to_owned()
            };
        let mut opts = ConnectOptions::new(url.clone());
        opts.connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        if url.contains(":memory:") {
            // One connection, so that every query sees the same in-memory database.
            opts.max_connections(1).min_connections(1);
        } else if url.starts_with("sqlite:") {
            opts.max_connections(8);
        } else {
            opts.max_connections(16);
        }
        if transaction_pooler {
            use sea_orm::sqlx::Executor;
            opts.map_sqlx_postgres_opts(|o| o.statement_cache_capacity(0));
            opts.map_sqlx_postgres_pool_opts(|p| {
                // A new connection's first use skips `before_acquire`: it begins here.
                p.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("BEGIN").await?;
                        Ok(())
                    })
                })
                .before_acquire(|conn, _| {
                    Box::pin(async move {
                        conn.execute("BEGIN").await?;
                        Ok(true)
                    })
                })
                .after_release(|conn, _| {
                    Box::pin(async move {
                        // Ends the use's transaction (after a write's own COMMIT: a notice).
                        conn.execute("COMMIT").await?;
                        Ok(true)
                    })
                })
            });
        }
        let db = sea_orm::Database::connect(opts).await.map_err(|e| {
            tracing::debug!(error = %e, "cannot connect to the database");
            StoreError::Unavailable
        })?;
        if db.get_database_backend() == DbBackend::Sqlite {
            // WAL lets readers run beside a writer; busy_timeout waits for a lock instead of
            // failing at once.
            for pragma in [
                "PRAGMA journal_mode=WAL",
                "PRAGMA busy_timeout=5000",
                "PRAGMA foreign_keys=ON",
            ] {
                db.execute_unprepared(pragma).await?;
            }
        }
        let turns = WriteTurns(
            (db.get_database_backend() == DbBackend::Sqlite)
                .then(|| std::sync::Arc::new(tokio::sync::Mutex::new(()))),
            Default::default(),
        );
        Ok(Store { db, turns })
    }

    /// The connection pool now, for the metrics.
    pub fn pool_state(&self) -> PoolState {
        let (size, idle, max) = match self.db.get_database_backend() {
            DbBackend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
            _ => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle(), p.options().get_max_connections())
            }
        };
        PoolState {
            in_use: (size as usize).saturating_sub(idle),
            idle,
            max: max as usize,
            writers_waiting: self.turns.1.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// A write transaction, in turn with the other writers of this process on SQLite.
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, StoreError> {
        begin_write(&self.db, &self.turns).await
    }

    /// The writer's turn, for a single statement that writes outside a transaction.
    pub(crate) async fn write_turn(&self) -> Result<Turn, StoreError> {
        self.turns.take().await
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await.map_err(|e| {
            tracing::error!(error = %e, "migration failed");
            StoreError::Unavailable
        })?;
        self.recount_if_redefined().await
    }

    /// Applies only the first `n` migrations: a database as an earlier release left it, for
    /// the tests of the upgrade path.
    #[doc(hidden)]
    pub async fn migrate_first(&self, n: u32) -> Result<(), StoreError> {
        Migrator::up(&self.db, Some(n)).await.map_err(|e| {
            tracing::error!(error = %e, "migration failed");
            StoreError::Unavailable
        })
    }

    /// Recounts the aggregate cells when they were counted by an earlier definition of
    /// the stored measures (e.g. before money passed on was told apart from money granted).
    /// Snapshots stay as they were frozen.
    async fn recount_if_redefined(&self) -> Result<(), StoreError> {
        use sea_orm::ConnectionTrait;
        let key = "statistics_definitions";
        let backend = self.db.get_database_backend();
        let current = verbund_domain::statistics::DEFINITIONS.to_string();
        let stored = self.setting(key).await?;
        if stored.as_deref() == Some(current.as_str()) {
            return Ok(());
        }
        tracing::info!(from = ?stored, to = %current, "recounting the statistics for new measure definitions");
        self.rebuild_statistics().await?;
        self.db
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                if backend == DbBackend::Postgres {
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                } else {
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                },
                [key.into(), current.into()],
            ))
            .await?;
        Ok(())
    }

    /// Counts every SQL statement run from now on through this handle and its clones made
    /// afterwards (for tests that guard against N+1 queries, and for metrics).
    pub fn count_statements(&mut self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = counter.clone();
        let trace = std::env::var_os("VERBUND_TRACE_STATEMENTS").is_some();
        self.db.set_metric_callback(move |info| {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if trace {
                eprintln!(
                    "SQL {}",
                    info.statement.sql.chars().take(160).collect::<String>()
                );
            }
        });
        counter
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The raw connection, for crate-internal maintenance (seeding) only.
    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether the database holds no network yet (and so no data at all).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(network::Entity::find().count(&self.db).await? == 0)
    }

    /// Binds a caller: looks up its anchor once and returns the handle through which it may
    /// read and write. A coordinator's network must exist at the level of its role; an
    /// organisation role's organisation must exist.
    pub async fn scoped(&self, caller: Caller) -> Result<Scoped, StoreError> {
        let path = match (caller.role.anchor_kind(), caller.anchor) {
            (AnchorKind::Network, Anchor::Network(id)) => {
                let want = match caller.role {
                    Role::StateCoordinator => NetworkLevel::State,
                    _ => NetworkLevel::Regional,
                };
                let n = network::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .filter(|n| n.level == want.as_str())
                    .ok_or(StoreError::UnknownAnchor("network"))?;
                Some(n.path)
            }
            (AnchorKind::Organisation, Anchor::Organisation(id)) => {
                organisation::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .ok_or(StoreError::UnknownAnchor("organisation"))?;
                None
            }
            _ => None,
        };
        Ok(Scoped {
            db: self.db.clone(),
            turns: self.turns.clone(),
            scope: Scope::new(caller, path),
        })
    }
}

/// A database handle bound to one caller's scope: the only way to reach the records.
#[derive(Clone, Debug)]
pub struct Scoped {
    db: DatabaseConnection,
    turns: WriteTurns,
    scope: Scope,
}

/// A page request: at most `first` records after the cursor `after`, in id order (ids are
/// UUIDv7, so this is creation order and stable).
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<String>,
}

impl PageRequest {
    /// A page when none is asked for.
    pub const DEFAULT_FIRST: u64 = 20;
    /// The largest page.
    pub const MAX_FIRST: u64 = 100;

    /// The one reading of `first` and `after` that every door uses: `first` from 1 to 100
    /// (default 20), `after` a cursor from an earlier page; otherwise a validation error
    /// naming the parameter.
    pub fn parse(first: Option<i64>, after: Option<&str>) -> Result<PageRequest, StoreError> {
        let first = first.unwrap_or(Self::DEFAULT_FIRST as i64);
        if !(1..=Self::MAX_FIRST as i64).contains(&first) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "first",
                Reason::OutOfRange {
                    min: 1,
                    max: Self::MAX_FIRST as i64,
                },
            )));
        }
        if let Some(a) = after {
            decode_cursor(a)?;
        }
        Ok(PageRequest {
            first: first as u64,
            after: after.map(str::to_owned),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Page<T> {
    pub fn end_cursor(&self) -> Option<String>
    where
        T: HasId,
    {
        self.items.last().map(|r| encode_cursor(r.id()))
    }
}

pub trait HasId {
    fn id(&self) -> Uuid;
}

impl<T> HasId for Record<T> {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// Most records a page may hold.
pub const MAX_PAGE: u64 = 500;

pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// A cursor that does not decode is the caller's mistake, named as such.
pub fn decode_cursor(cursor: &str) -> Result<Uuid, StoreError> {
    // Lenient about the unused bits of the last character: any 22 characters of the
    // alphabet name a position, so a tampered cursor is just another position.
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
    );
    LENIENT
        .decode(cursor)
        .ok()
        .and_then(|b| Uuid::from_slice(&b).ok())
        .ok_or_else(|| {
            StoreError::Invalid(ValidationErrors::single(
                "after",
                Reason::Malformed {
                    expected: "a cursor from a previous page",
                },
            ))
        })
}

/// Bookkeeping of one stored row.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A table of a domain entity: how its rows map to the domain, which of them a scope may
/// read (as SQL), and who owns a record.
pub trait Table: Sized + Send + Sync + 'static {
    type Entity: EntityTrait<Model = Self::Model, ActiveModel = Self::Active, Column = Self::Column>;
    type Model: ModelTrait<Entity = Self::Entity>
        + FromQueryResult
        + IntoActiveModel<Self::Active>
        + Clone
        + Send
        + Sync;
    type Active: ActiveModelTrait<Entity = Self::Entity> + ActiveModelBehavior + Send + Sync;
    type Column: ColumnTrait + IdenStatic + Iterable + Copy;
    type Data: Clone + Send + Sync + 'static;
    /// The raw input a caller sends, validated by [`Table::parse`].
    type Input: Send + 'static;
    type Filter: Default + Send + Sync;

    const KIND: EntityKind;
    const ID: Self::Column;
    const VERSION: Self::Column;
    /// The input field that names the owner, for "does not exist" errors.
    const OWNER_FIELD: &'static str;

    /// The rows a read scope may see, as a SQL condition.
    fn visible(scope: &ReadScope) -> Condition;
    /// The caller's filter as a SQL condition; may look up a network's path through `s`.
    fn filter(
        s: &Scoped,
        filter: &Self::Filter,
    ) -> impl Future<Output = Result<Condition, StoreError>> + Send;
    /// Where a record lives (its network path and organisation), looked up in `conn`; an
    /// owner the caller cannot see is reported like a missing one, naming `OWNER_FIELD`.
    fn locate(
        s: &Scoped,
        conn: &impl ConnectionTrait,
        id: Uuid,
        data: &Self::Data,
    ) -> impl Future<Output = Result<Location, StoreError>> + Send;
    fn meta(model: &Self::Model) -> Meta;
    fn to_data(model: &Self::Model) -> Result<Self::Data, StoreError>;
    fn to_active(meta: Meta, data: &Self::Data, at: &Location) -> Self::Active;

    /// Where the input names the organisation that owns the record, for the default an
    /// organisation's token gives (its own organisation).
    fn owner_slot(input: &mut Self::Input) -> Option<&mut Uuid> {
        let _ = input;
        None
    }

    /// Validates raw input; may look up context (a parent's level or kind) through `s`.
    fn parse(
        s: &Scoped,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Data, StoreError>> + Send;

    /// [`Table::parse`] for many inputs (an import), one result per input in order; a table
    /// whose parsing looks things up overrides it to look them up for all inputs together.
    /// `Err` only when the database fails.
    fn parse_many(
        s: &Scoped,
        inputs: Vec<Self::Input>,
    ) -> impl Future<Output = Result<Vec<Result<Self::Data, StoreError>>, StoreError>> + Send {
        async move {
            let mut out = Vec::with_capacity(inputs.len());
            for input in inputs {
                out.push(Self::parse(s, input).await);
            }
            Ok(out)
        }
    }

    /// The organisation whose place a record takes when [`Table::locate`] depends on nothing
    /// else (records an organisation owns), so that an import looks each place up once.
    fn placed_by(data: &Self::Data) -> Option<Uuid> {
        let _ = data;
        None
    }

    /// Turns rows into records, loading child rows for the whole batch in one query.
    fn attach(
        conn: &impl ConnectionTrait,
        models: Vec<Self::Model>,
    ) -> impl Future<Output = Result<Vec<Record<Self::Data>>, StoreError>> + Send {
        let _ = conn;
        async move {
            models
                .iter()
                .map(|m| {
                    let meta = Self::meta(m);
                    Ok(Record {
                        id: meta.id,
                        version: meta.version,
                        created_at: meta.created_at,
                        updated_at: meta.updated_at,
                        data: Self::to_data(m)?,
                    })
                })
                .collect()
        }
    }

    /// The rows a record keeps in a child table (partners, members, service area), written
    /// with the record by every write path (and by the bulk loader).
    fn children(data: &Self::Data) -> Option<Children> {
        let _ = data;
        None
    }

    /// Names of changed child collections, for the audit event.
    fn changed_children(old: &Self::Data, new: &Self::Data) -> Vec<&'static str> {
        let _ = (old, new);
        Vec::new()
    }

    /// A domain rule between a record and what replaces it, checked by every door that
    /// writes over a record (update, import, transition) in the one write path.
    fn check_replacing(old: &Self::Data, new: &Self::Data) -> Result<(), StoreError> {
        let _ = (old, new);
        Ok(())
    }

    /// Changes the records that point at record `id` of this table before it is deleted,
    /// each as a write of its own through the one write path (new version, audit event,
    /// statistics), or refuses with a conflict naming the records that no valid state
    /// would be left for ([`Scoped::rewrite_dependents`]).
    fn detach(
        s: &Scoped,
        txn: &DatabaseTransaction,
        id: Uuid,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (s, txn, id);
        async { Ok(()) }
    }

    /// Whether [`Table::redact`] clears anything (a record read through the public directory
    /// rather than the caller's own scope).
    const REDACTS: bool = false;

    /// Clears the fields that the public directory does not show.
    fn redact(data: &mut Self::Data) {
        let _ = data;
    }

    /// Whether the record is in the public directory (what an anonymous caller reads), for
    /// the change feed's scope.
    fn in_directory(data: &Self::Data) -> bool {
        let _ = data;
        false
    }

    /// Organisations that may read the record although it lives elsewhere (a cooperation's
    /// partners, the organisations on a committee), looked up in `conn`, for the change
    /// feed's scope (`crate::outbox`). Must agree with [`Table::visible`].
    fn readers(
        conn: &impl ConnectionTrait,
        data: &Self::Data,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send {
        let _ = (conn, data);
        async { Ok(Vec::new()) }
    }
}

/// Writes of one caller in one transaction ([`Scoped::batch`]), for data sets whose
/// records refer to each other before any of them is committed (the demo data). Each
/// record is stored as [`Scoped::create`] stores it: the policy asked at its location, its
/// audit event and the statistics in the same transaction. The data must come from the
/// domain's `parse` (which is where the validation lives); the batch adds the checks that
/// need the database.
pub struct WriteBatch<'a> {
    s: &'a Scoped,
    txn: WriteTxn,
}

impl WriteBatch<'_> {
    /// Stores a new record of `T` in the batch; returns its id.
    pub async fn create<T: Table>(&mut self, data: T::Data) -> Result<Uuid, StoreError> {
        Ok(self.s.create_in::<T>(&self.txn, data).await?.id)
    }

    /// Commits every write of the batch.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().await
    }
}

/// Rows a record keeps in a child table: each row names the parent in `parent` and holds
/// one value per column of `columns`.
pub struct Children {
    pub table: &'static str,
    pub parent: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<sea_orm::Value>>,
}

/// Replaces the child rows of record `id` with those its data holds.
async fn write_children<T: Table>(
    txn: &DatabaseTransaction,
    id: Uuid,
    data: &T::Data,
) -> Result<(), StoreError> {
    let Some(c) = T::children(data) else {
        return Ok(());
    };
    let backend = txn.get_database_backend();
    let mut sql = crate::aggregates::Sql::new(backend);
    let p = sql.bind(id);
    sql.push(&format!("DELETE FROM {} WHERE {} = {p}", c.table, c.parent));
    txn.execute_raw(sql.statement()).await?;
    if c.rows.is_empty() {
        return Ok(());
    }
    let mut sql = crate::aggregates::Sql::new(backend);
    let mut groups = Vec::with_capacity(c.rows.len());
    for row in c.rows {
        let mut ps = vec![sql.bind(id)];
        ps.extend(row.into_iter().map(|v| sql.bind(v)));
        groups.push(format!("({})", ps.join(",")));
    }
    sql.push(&format!(
        "INSERT INTO {} ({},{}) VALUES {}",
        c.table,
        c.parent,
        c.columns.join(","),
        groups.join(",")
    ));
    txn.execute_raw(sql.statement()).await?;
    Ok(())
}

/// A table whose records can be imported: matched by `id`, or upserted by the owner's own
/// key where records have one: the `external_id`, unique within the owning organisation
/// (for organisations, within their parent organisation).
pub trait Importable: Table
where
    Self::Data: PartialEq,
{
    /// The columns of the owner's own key, if the records have one: the column that scopes
    /// `external_id`, and `external_id` (without: rows are matched by `id` only).
    const KEY: Option<(Self::Column, Self::Column)>;
    /// The owner and the external id of a record, if it has one.
    fn key(data: &Self::Data) -> Option<(Option<Uuid>, String)>;
}

/// One row of an import: the record it names by id (a file exported earlier carries each
/// record's `id` and `version`), the version it was exported at, and its data.
#[derive(Debug, Clone)]
pub struct ImportRow<D> {
    pub id: Option<Uuid>,
    pub version: Option<i32>,
    pub data: D,
}

impl<D> ImportRow<D> {
    /// A row that names no record: matched by its external id, if it has one.
    pub fn new(data: D) -> Self {
        ImportRow {
            id: None,
            version: None,
            data,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// How many rows of an import are read and written together: a few bound values per row
/// and column stay well inside SQLite's 32,766 per statement.
pub const IMPORT_CHUNK: usize = 1000;

/// An import in progress, across its pieces.
#[derive(Default)]
struct ImportRun {
    report: ImportReport,
    /// Records matched so far (a second row naming one is refused).
    targets: HashSet<Uuid>,
    /// Keys of the records created so far.
    created: HashSet<(Option<Uuid>, String)>,
    /// Where each owner's records go.
    places: HashMap<Uuid, Location>,
}

/// A table whose records belong to an organisation.
pub trait Owned: Table {
    const ORGANISATION: Self::Column;
    fn organisation_of(data: &Self::Data) -> Uuid;
}

/// The condition "this organisation id belongs to the organisations a read scope sees",
/// for records owned by an organisation.
pub(crate) fn owned_by_visible_organisation<C: ColumnTrait>(
    col: C,
    scope: &ReadScope,
) -> Condition {
    use sea_orm::sea_query::Query;
    let orgs = |cond: Condition| {
        Query::select()
            .column(organisation::Column::Id)
            .from(organisation::Entity)
            .cond_where(cond)
            .to_owned()
    };
    match scope {
        ReadScope::All => Condition::all(),
        ReadScope::Subtree(path) => Condition::all()
            .add(col.in_subquery(orgs(subtree(organisation::Column::NetworkPath, path)))),
        ReadScope::Organisation(id) => Condition::all().add(col.in_subquery(orgs(family(*id)))),
        // Records of organisations (people, money) are never part of the directory.
        ReadScope::OwnAndPublished(own) => owned_by_visible_organisation(col, own),
        ReadScope::Published | ReadScope::Nothing => nothing(),
    }
}

/// Rows whose path column lies at or below `path`: one range over an indexed column.
pub(crate) fn subtree<C: ColumnTrait>(col: C, path: &str) -> Condition {
    Condition::all()
        .add(col.gte(path))
        .add(col.lt(path_upper_bound(path)))
}

/// An organisation and its member organisations.
pub(crate) fn family(id: Uuid) -> Condition {
    Condition::any()
        .add(organisation::Column::Id.eq(id))
        .add(organisation::Column::ParentOrganisationId.eq(id))
}

pub(crate) fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

pub(crate) fn invalid(field: &str, reason: Reason) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(field, reason))
}

pub(crate) const NOT_VISIBLE: Reason = Reason::Rule("does not exist or is not visible to you");

impl Scoped {
    /// Validates an input as every door writes it: an organisation's token that leaves the
    /// owning organisation out (or nil) means its own organisation; any other caller must
    /// name it. Then the table's own parsing (the domain's rules).
    pub async fn parse_input<T: Table>(&self, input: T::Input) -> Result<T::Data, StoreError> {
        self.parse_inputs::<T>(vec![input])
            .await?
            .pop()
            .unwrap_or(Err(StoreError::Internal))
    }

    /// [`Scoped::parse_input`] for many inputs (an import's rows), with what they refer to
    /// looked up together: one result per input, in order. `Err` only when the database fails.
    pub async fn parse_inputs<T: Table>(
        &self,
        inputs: Vec<T::Input>,
    ) -> Result<Vec<Result<T::Data, StoreError>>, StoreError> {
        let own = match self.caller().anchor {
            verbund_domain::policy::Anchor::Organisation(own) => Some(own),
            _ => None,
        };
        let mut results: Vec<Option<Result<T::Data, StoreError>>> = Vec::new();
        let mut ready = Vec::new();
        for mut input in inputs {
            if let Some(slot) = T::owner_slot(&mut input)
                && slot.is_nil()
            {
                match own {
                    Some(own) => *slot = own,
                    None => {
                        results.push(Some(Err(invalid("organisationId", Reason::Missing))));
                        continue;
                    }
                }
            }
            results.push(None);
            ready.push(input);
        }
        let mut parsed = T::parse_many(self, ready).await?.into_iter();
        Ok(results
            .into_iter()
            .map(|r| {
                r.or_else(|| parsed.next())
                    .unwrap_or(Err(StoreError::Internal))
            })
            .collect())
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn caller(&self) -> &Caller {
        self.scope.caller()
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A write transaction, in turn with the other writers of this process on SQLite.
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn, StoreError> {
        begin_write(&self.db, &self.turns).await
    }

    /// The materialised path of a network (networks are public); an unknown id is the
    /// caller's mistake in `field`.
    pub(crate) async fn network_path(
        &self,
        field: &'static str,
        id: Uuid,
    ) -> Result<String, StoreError> {
        network::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(|n| n.path)
            .ok_or_else(|| invalid(field, NOT_VISIBLE))
    }

    /// The full read condition of `T` for this caller.
    pub(crate) fn readable<T: Table>(&self) -> Condition {
        T::visible(&self.scope.read(T::KIND))
    }

    /// Turns rows into records, with the public fields only where the caller reads a row
    /// through the public directory rather than its own scope (one query for the batch).
    pub(crate) async fn finish<T: Table>(
        &self,
        conn: &impl ConnectionTrait,
        models: Vec<T::Model>,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        let mut records = T::attach(conn, models).await?;
        if !T::REDACTS || records.is_empty() {
            return Ok(records);
        }
        let full: HashSet<Uuid> = match self.scope.read(T::KIND).full() {
            None => HashSet::new(),
            Some(ReadScope::All) => return Ok(records),
            Some(own) => T::Entity::find()
                .select_only()
                .column(T::ID)
                .filter(T::ID.is_in(records.iter().map(|r| r.id)))
                .filter(T::visible(own))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?
                .into_iter()
                .collect(),
        };
        for r in &mut records {
            if !full.contains(&r.id) {
                T::redact(&mut r.data);
            }
        }
        Ok(records)
    }

    /// One record, if it exists and the caller may see it.
    pub async fn get<T: Table>(&self, id: Uuid) -> Result<Record<T::Data>, StoreError> {
        self.get_in::<T>(&self.db, id).await
    }

    pub(crate) async fn get_in_txn<T: Table>(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Record<T::Data>, StoreError> {
        self.get_in::<T>(conn, id).await
    }

    pub(crate) async fn get_in<T: Table>(
        &self,
        conn: &impl ConnectionTrait,
        id: Uuid,
    ) -> Result<Record<T::Data>, StoreError> {
        let model = T::Entity::find()
            .filter(T::ID.eq(id))
            .filter(self.readable::<T>())
            .one(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.finish::<T>(conn, vec![model])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    /// Several records by id in one query; invisible or missing ids are left out.
    pub async fn get_many<T: Table>(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let models = T::Entity::find()
            .filter(T::ID.is_in(ids.iter().copied()))
            .filter(self.readable::<T>())
            .all(&self.db)
            .await?;
        self.finish::<T>(&self.db, models).await
    }

    /// The records the caller may see that match `filter`: where every list and count
    /// starts, so that none forgets the scope.
    async fn matching<T: Table>(
        &self,
        filter: &T::Filter,
    ) -> Result<Select<T::Entity>, StoreError> {
        let filter = T::filter(self, filter).await?;
        Ok(T::Entity::find()
            .filter(self.readable::<T>())
            .filter(filter))
    }

    /// A page of the records the caller may see that match `filter`, in a stable order.
    pub async fn list<T: Table>(
        &self,
        filter: &T::Filter,
        page: &PageRequest,
    ) -> Result<Page<Record<T::Data>>, StoreError> {
        let first = page.first.clamp(1, MAX_PAGE);
        let mut q = self.matching::<T>(filter).await?;
        if let Some(after) = &page.after {
            q = q.filter(T::ID.gt(decode_cursor(after)?));
        }
        let mut models = q.order_by_asc(T::ID).limit(first + 1).all(&self.db).await?;
        let has_next = models.len() as u64 > first;
        models.truncate(first as usize);
        Ok(Page {
            items: self.finish::<T>(&self.db, models).await?,
            has_next,
        })
    }

    /// The records of `T` belonging to any of `organisations`, visible to the caller and
    /// matching `filter`, in one query (for batched, N+1-free nested lists).
    pub async fn list_for_organisations<T: Owned>(
        &self,
        organisations: &[Uuid],
        filter: &T::Filter,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        if organisations.is_empty() {
            return Ok(Vec::new());
        }
        let of = T::ORGANISATION.is_in(organisations.iter().copied());
        self.unpaged::<T>(filter, of).await
    }

    /// Every record the caller may see that matches `filter`, unpaged: for loaders whose
    /// filter already bounds the result (the children of one page of parents).
    pub async fn all<T: Table>(
        &self,
        filter: &T::Filter,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        self.unpaged::<T>(filter, Condition::all()).await
    }

    /// The records the caller may see that match `filter` and `also`, by id, unpaged.
    async fn unpaged<T: Table>(
        &self,
        filter: &T::Filter,
        also: impl sea_orm::sea_query::IntoCondition,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        let query = self.matching::<T>(filter).await?.filter(also);
        let models = query.order_by_asc(T::ID).all(&self.db).await?;
        self.finish::<T>(&self.db, models).await
    }

    /// How many records of `T` each of `organisations` has that the caller may see and that
    /// match `filter`: one `GROUP BY` in the database.
    pub async fn count_for_organisations<T: Owned>(
        &self,
        organisations: &[Uuid],
        filter: &T::Filter,
    ) -> Result<std::collections::HashMap<Uuid, u64>, StoreError> {
        if organisations.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(Uuid, i64)> = self
            .matching::<T>(filter)
            .await?
            .select_only()
            .column(T::ORGANISATION)
            .column_as(T::ID.count(), "n")
            .filter(T::ORGANISATION.is_in(organisations.iter().copied()))
            .group_by(T::ORGANISATION)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
            .collect())
    }

    /// Page `page_number` (from 1) of `size` records, for APIs that page by number (Open
    /// Referral HSDS). Prefer [`Scoped::list`]: a cursor is stable under inserts.
    pub async fn list_numbered<T: Table>(
        &self,
        filter: &T::Filter,
        page_number: u64,
        size: u64,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        let size = size.clamp(1, MAX_PAGE);
        let models = self
            .matching::<T>(filter)
            .await?
            .order_by_asc(T::ID)
            // Offsets beyond i64 do not bind; no page lies there anyway.
            .offset(Ord::min(
                page_number.saturating_sub(1).saturating_mul(size),
                i64::MAX as u64,
            ))
            .limit(size)
            .all(&self.db)
            .await?;
        self.finish::<T>(&self.db, models).await
    }

    /// How many records the caller may see match `filter`.
    pub async fn count<T: Table>(&self, filter: &T::Filter) -> Result<u64, StoreError> {
        Ok(self.matching::<T>(filter).await?.count(&self.db).await?)
    }

    fn check_write<T: Table>(&self, at: &Location) -> Result<(), StoreError> {
        if self.scope.may_write(T::KIND, at) {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Records a write inside its transaction: the audit event (who, which fields) and the
    /// change feed's entry (`crate::outbox`).
    async fn audit(
        &self,
        txn: &DatabaseTransaction,
        change: Written<'_>,
        fields: &[&str],
    ) -> Result<(), StoreError> {
        self.audit_many(txn, &[change], fields).await
    }

    /// [`Scoped::audit`] for several writes that changed the same fields (an import's new
    /// rows): one `INSERT` each for the audit events and the change feed.
    async fn audit_many(
        &self,
        txn: &DatabaseTransaction,
        changes: &[Written<'_>],
        fields: &[&str],
    ) -> Result<(), StoreError> {
        let caller = self.scope.caller();
        let now = Utc::now();
        let fields = fields.join(",");
        let events = changes.iter().map(|c| audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(now),
            actor: Set(caller.subject.clone()),
            role: Set(caller.role.as_str().to_owned()),
            entity: Set(c.kind.as_str().to_owned()),
            entity_id: Set(c.id),
            action: Set(c.action.as_str().to_owned()),
            fields: Set(fields.clone()),
            network_path: Set(c.at.network_path.clone()),
            organisation_id: Set(c.at.organisation_id),
        });
        audit_event::Entity::insert_many(events)
            .exec_without_returning(txn)
            .await?;
        crate::outbox::record_many(txn, changes).await
    }

    /// Begins several writes of this caller in one transaction: all of them land or none.
    pub async fn batch(&self) -> Result<WriteBatch<'_>, StoreError> {
        if !self.scope.writes_anything() {
            return Err(StoreError::Forbidden);
        }
        Ok(WriteBatch {
            s: self,
            txn: self.begin_write().await?,
        })
    }

    /// Validates and stores a new record; the audit event is written in the same transaction.
    pub async fn create<T: Table>(&self, input: T::Input) -> Result<Record<T::Data>, StoreError> {
        if !self.scope.writes_anything() {
            return Err(StoreError::Forbidden);
        }
        let data = self.parse_input::<T>(input).await?;
        let txn = self.begin_write().await?;
        let record = self.create_in::<T>(&txn, data).await;
        txn.settle(record).await
    }

    /// Stores already validated data inside `txn` (seeding and imports).
    pub(crate) async fn create_in<T: Table>(
        &self,
        txn: &DatabaseTransaction,
        data: T::Data,
    ) -> Result<Record<T::Data>, StoreError> {
        let id = verbund_domain::record::new_id();
        let at = self.place::<T>(txn, id, &data, &mut HashMap::new()).await?;
        self.create_many_in::<T>(txn, vec![(id, data, at)])
            .await?
            .pop()
            .ok_or(StoreError::Internal)
    }

    /// Replaces a record's data if its version is still `expected_version`.
    pub async fn update<T: Table>(
        &self,
        id: Uuid,
        expected_version: i32,
        input: T::Input,
    ) -> Result<Record<T::Data>, StoreError> {
        if !self.scope.writes_anything() {
            return Err(StoreError::Forbidden);
        }
        // Validation looks things up outside the transaction, so it runs first: a single
        // connection (in-memory SQLite) must not be held by the transaction meanwhile.
        let data = self.parse_input::<T>(input).await?;
        let txn = self.begin_write().await?;
        let record = async {
            let old = self.get_in::<T>(&*txn, id).await?;
            self.replace_in::<T>(&txn, &old, expected_version, data, AuditAction::Update)
                .await
        }
        .await;
        txn.settle(record).await
    }

    /// Writes `data` over `old`, checking the version, the policy at the old and the new
    /// location, and recording which fields changed.
    pub(crate) async fn replace_in<T: Table>(
        &self,
        txn: &DatabaseTransaction,
        old: &Record<T::Data>,
        expected_version: i32,
        data: T::Data,
        action: AuditAction,
    ) -> Result<Record<T::Data>, StoreError> {
        if old.version != expected_version {
            return Err(StoreError::Conflict(Conflict::StaleVersion {
                expected: expected_version,
                current: old.version,
            }));
        }
        T::check_replacing(&old.data, &data)?;
        lock_current::<T>(txn, old.id, expected_version).await?;
        let old_at = T::locate(self, txn, old.id, &old.data).await?;
        self.check_write::<T>(&old_at)?;
        let at = T::locate(self, txn, old.id, &data).await?;
        self.check_write::<T>(&at)?;
        if T::KIND == EntityKind::Network && old_at.network_path != at.network_path {
            // Its subtree's paths (and its organisations') would all change.
            return Err(invalid(
                T::OWNER_FIELD,
                Reason::Rule("a network cannot move to another parent"),
            ));
        }
        let touched = crate::aggregates::touched(txn, T::KIND, old.id).await?;
        crate::aggregates::maintain(txn, &touched, -1).await?;
        let now = stored_now();
        let meta = Meta {
            id: old.id,
            version: old.version + 1,
            created_at: old.created_at,
            updated_at: now,
        };
        let old_am = T::to_active(meta, &old.data, &old_at);
        let new_am = T::to_active(meta, &data, &at);
        let mut fields: Vec<&str> = T::Column::iter()
            .filter(|c| !is_bookkeeping(c.as_str()) && old_am.get(*c) != new_am.get(*c))
            .map(|c| c.as_str())
            .collect();
        fields.extend(T::changed_children(&old.data, &data));
        let res = T::Entity::update_many()
            .set(new_am)
            .filter(T::ID.eq(old.id))
            .filter(T::VERSION.eq(expected_version))
            .exec(txn)
            .await?;
        won(res.rows_affected, expected_version)?;
        write_children::<T>(txn, old.id, &data).await?;
        crate::aggregates::maintain(txn, &touched, 1).await?;
        let readers = T::readers(txn, &data).await?;
        let readers_before = T::readers(txn, &old.data).await?;
        let change = Written {
            kind: T::KIND,
            id: old.id,
            action,
            version: meta.version,
            at: &at,
            public: T::in_directory(&data),
            before: Some((&old_at, T::in_directory(&old.data))),
            readers: &readers,
            readers_before: &readers_before,
        };
        self.audit(txn, change, &fields).await?;
        Ok(Record {
            id: old.id,
            version: meta.version,
            created_at: old.created_at,
            updated_at: now,
            data,
        })
    }

    /// Imports validated rows in one transaction: a row that names a record by `id` (as an
    /// export wrote it) replaces that record, else a row whose (owner, external id) exists
    /// replaces that one, each unless nothing changed; any other row is created. A row that
    /// carries the `version` it was exported at is refused when the record has changed since
    /// (so an unedited row of an old export cannot undo a newer change), and so is a row that
    /// names the same record as an earlier one. Either every row is written or none (the
    /// first refused row ends the transaction, reported with its index; an `id` the caller
    /// cannot read is [`StoreError::NotFound`]). A `dry_run` does it all and rolls back: the
    /// same report, nothing written.
    ///
    /// Rows go in pieces of [`IMPORT_CHUNK`]: the records they name are read with one query
    /// per piece, new records are written with one `INSERT` per table (with their audit
    /// events, feed entries and statistics), and changed ones through the same
    /// [`Scoped::replace_in`] as every other update.
    pub async fn import<T: Importable>(
        &self,
        rows: Vec<ImportRow<T::Data>>,
        dry_run: bool,
    ) -> Result<ImportReport, (usize, StoreError)>
    where
        T::Data: PartialEq,
    {
        if !self.scope.writes_anything() {
            return Err((0, StoreError::Forbidden));
        }
        let txn = self.begin_write().await.map_err(|e| (0, e))?;
        let mut run = ImportRun::default();
        let mut first = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(IMPORT_CHUNK).collect();
            let n = chunk.len();
            if let Err(e) = self.import_chunk::<T>(&txn, first, chunk, &mut run).await {
                // Refused files are common: undo now, before the writer's turn passes on
                // (a transaction only dropped is rolled back later, and on SQLite the next
                // writer would meet its lock and be told to retry).
                let _ = txn.rollback().await;
                return Err(e);
            }
            first += n;
        }
        if dry_run {
            // Every check ran as for the real import (keys, versions, the write path's
            // rules); nothing stays.
            txn.rollback().await.map_err(|e| (0, e))?;
        } else {
            txn.commit().await.map_err(|e| (0, e))?;
        }
        Ok(run.report)
    }

    /// One piece of an import; `first` is the index of its first row.
    async fn import_chunk<T: Importable>(
        &self,
        txn: &DatabaseTransaction,
        first: usize,
        chunk: Vec<ImportRow<T::Data>>,
        run: &mut ImportRun,
    ) -> Result<(), (usize, StoreError)>
    where
        T::Data: PartialEq,
    {
        let whole = |e: StoreError| (first, e);
        // The records the rows name: by id, and by (owner, external id).
        let ids: Vec<Uuid> = chunk.iter().filter_map(|r| r.id).collect();
        let mut by_id = HashMap::new();
        if !ids.is_empty() {
            let models = T::Entity::find()
                .filter(T::ID.is_in(ids))
                .filter(self.readable::<T>())
                .all(txn)
                .await
                .map_err(|e| whole(e.into()))?;
            for r in self.finish::<T>(txn, models).await.map_err(whole)? {
                by_id.insert(r.id, r);
            }
        }
        let mut by_key = HashMap::new();
        if let Some((owner_column, external_column)) = T::KEY {
            // By owner, so that each owner's part is one range of the (owner, external id)
            // index.
            let mut wanted: HashMap<Option<Uuid>, Vec<String>> = HashMap::new();
            for (owner, external) in chunk
                .iter()
                .filter(|r| r.id.is_none())
                .filter_map(|r| T::key(&r.data))
            {
                wanted.entry(owner).or_default().push(external);
            }
            if !wanted.is_empty() {
                let mut cond = Condition::any();
                for (owner, externals) in wanted {
                    let owner = match owner {
                        Some(o) => owner_column.eq(o),
                        None => owner_column.is_null(),
                    };
                    cond = cond.add(
                        Condition::all()
                            .add(owner)
                            .add(external_column.is_in(externals)),
                    );
                }
                // PostgreSQL plans a statement it has prepared five times once for all
                // values, and such a plan compares each row of the owner with each of the
                // thousand keys in turn (a time that grows with every piece already
                // imported); planned for these keys, it looks them up in a hash.
                let pg = txn.get_database_backend() == DbBackend::Postgres;
                if pg {
                    txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                        .await
                        .map_err(|e| whole(e.into()))?;
                }
                let models = T::Entity::find()
                    .filter(cond)
                    .filter(self.readable::<T>())
                    .all(txn)
                    .await
                    .map_err(|e| whole(e.into()))?;
                if pg {
                    txn.execute_unprepared("SET LOCAL plan_cache_mode = auto")
                        .await
                        .map_err(|e| whole(e.into()))?;
                }
                for r in self.finish::<T>(txn, models).await.map_err(whole)? {
                    if let Some(key) = T::key(&r.data) {
                        by_key.insert(key, r);
                    }
                }
            }
        }
        let same = |field: &str| {
            invalid(
                field,
                Reason::Rule("names the same record as an earlier row"),
            )
        };
        // What each row does; the new records are checked (place, policy) before anything
        // is written, the changed ones as they are written.
        let mut updates = Vec::new();
        let mut creates: Vec<(usize, Uuid, T::Data, Location)> = Vec::new();
        let mut refused: Option<(usize, StoreError)> = None;
        for (i, row) in chunk.into_iter().enumerate() {
            let key = T::key(&row.data);
            let existing = match (row.id, &key) {
                (Some(id), _) => match by_id.get(&id) {
                    Some(old) if run.targets.insert(id) => Some(old.clone()),
                    Some(_) => return Err((first + i, same("id"))),
                    None => return Err((first + i, StoreError::NotFound)),
                },
                (None, Some(key)) => {
                    if run.created.contains(key) {
                        return Err((first + i, same("externalId")));
                    }
                    match by_key.get(key) {
                        Some(old) if run.targets.insert(old.id) => Some(old.clone()),
                        Some(_) => return Err((first + i, same("externalId"))),
                        None => None,
                    }
                }
                (None, None) => None,
            };
            match existing {
                Some(old) => {
                    let expected = row.version.unwrap_or(old.version);
                    if old.data == row.data && expected == old.version {
                        run.report.unchanged += 1;
                    } else {
                        updates.push((i, old, expected, row.data));
                    }
                }
                None if refused.is_some() => {}
                None => {
                    let id = verbund_domain::record::new_id();
                    match self.place::<T>(txn, id, &row.data, &mut run.places).await {
                        Ok(at) => {
                            if let Some(key) = key {
                                run.created.insert(key);
                            }
                            creates.push((i, id, row.data, at));
                        }
                        Err(e) => refused = Some((i, e)),
                    }
                }
            }
        }
        for (i, old, expected, data) in updates {
            if refused.as_ref().is_some_and(|(r, _)| *r < i) {
                break;
            }
            self.replace_in::<T>(txn, &old, expected, data, AuditAction::Update)
                .await
                .map_err(|e| (first + i, e))?;
            run.report.updated += 1;
        }
        if let Some((i, e)) = refused {
            return Err((first + i, e));
        }
        run.report.created += creates.len();
        let new: Vec<_> = creates
            .into_iter()
            .map(|(_, id, data, at)| (id, data, at))
            .collect();
        self.create_many_in::<T>(txn, new).await.map_err(whole)?;
        Ok(())
    }

    /// Where a new record goes, if the caller may write there; looked up once per owner
    /// for records placed by their organisation ([`Table::placed_by`]).
    async fn place<T: Table>(
        &self,
        txn: &DatabaseTransaction,
        id: Uuid,
        data: &T::Data,
        places: &mut HashMap<Uuid, Location>,
    ) -> Result<Location, StoreError> {
        let at = match T::placed_by(data) {
            Some(owner) => match places.get(&owner) {
                Some(at) => at.clone(),
                None => {
                    let at = T::locate(self, txn, id, data).await?;
                    places.insert(owner, at.clone());
                    at
                }
            },
            None => T::locate(self, txn, id, data).await?,
        };
        self.check_write::<T>(&at)?;
        Ok(at)
    }

    /// Stores new records, already placed and allowed ([`Scoped::place`]): one `INSERT` for
    /// the rows, one for their audit events, one for the feed, the statistics maintained
    /// once for all of them. Every create goes through here ([`Scoped::create_in`] for one).
    async fn create_many_in<T: Table>(
        &self,
        txn: &DatabaseTransaction,
        new: Vec<(Uuid, T::Data, Location)>,
    ) -> Result<Vec<Record<T::Data>>, StoreError> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        let now = stored_now();
        let meta = |id| Meta {
            id,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        T::Entity::insert_many(
            new.iter()
                .map(|(id, data, at)| T::to_active(meta(*id), data, at)),
        )
        .exec_without_returning(txn)
        .await?;
        let mut touched: Vec<(&'static str, crate::aggregates::Restriction)> = Vec::new();
        let mut readers = Vec::with_capacity(new.len());
        for (id, data, _) in &new {
            write_children::<T>(txn, *id, data).await?;
            crate::aggregates::merge(
                &mut touched,
                crate::aggregates::touched(txn, T::KIND, *id).await?,
            );
            readers.push(T::readers(txn, data).await?);
        }
        crate::aggregates::maintain(txn, &touched, 1).await?;
        let fields: Vec<&str> = T::Column::iter()
            .map(|c| c.as_str())
            .filter(|c| !is_bookkeeping(c))
            .collect();
        let changes: Vec<Written> = new
            .iter()
            .zip(&readers)
            .map(|((id, data, at), readers)| Written {
                kind: T::KIND,
                id: *id,
                action: AuditAction::Create,
                version: 1,
                at,
                public: T::in_directory(data),
                before: None,
                readers,
                readers_before: &[],
            })
            .collect();
        self.audit_many(txn, &changes, &fields).await?;
        Ok(new
            .into_iter()
            .map(|(id, data, _)| Record {
                id,
                version: 1,
                created_at: now,
                updated_at: now,
                data,
            })
            .collect())
    }

    /// Rewrites the records of `D` that match `pointing` with `change`, each as an update
    /// in `txn` (a cascade of a delete); refuses with [`Conflict::InTheWay`] naming those for
    /// which `change` has no valid record, before anything is rewritten.
    pub(crate) async fn rewrite_dependents<D: Table>(
        &self,
        txn: &DatabaseTransaction,
        pointing: Condition,
        what: &'static str,
        change: impl Fn(&D::Data) -> Option<D::Data> + Send,
    ) -> Result<(), StoreError> {
        let models = D::Entity::find().filter(pointing).all(txn).await?;
        let mut rewrites = Vec::new();
        let mut blocked = Vec::new();
        for old in D::attach(txn, models).await? {
            match change(&old.data) {
                Some(data) => rewrites.push((old, data)),
                None => blocked.push(old.id),
            }
        }
        if !blocked.is_empty() {
            return Err(StoreError::Conflict(Conflict::InTheWay {
                what,
                ids: blocked,
            }));
        }
        for (old, data) in rewrites {
            self.replace_in::<D>(txn, &old, old.version, data, AuditAction::Update)
                .await?;
        }
        Ok(())
    }

    /// Deletes a record if its version is still `expected_version`.
    pub async fn delete<T: Table>(
        &self,
        id: Uuid,
        expected_version: i32,
    ) -> Result<(), StoreError> {
        if !self.scope.writes_anything() {
            return Err(StoreError::Forbidden);
        }
        let txn = self.begin_write().await?;
        let deleted = self.delete_in::<T>(&txn, id, expected_version).await;
        txn.settle(deleted).await
    }

    /// The delete inside its transaction: the records pointing at it first, then the row,
    /// the statistics and the audit event.
    async fn delete_in<T: Table>(
        &self,
        txn: &DatabaseTransaction,
        id: Uuid,
        expected_version: i32,
    ) -> Result<(), StoreError> {
        let old = self.get_in::<T>(txn, id).await?;
        if old.version != expected_version {
            return Err(StoreError::Conflict(Conflict::StaleVersion {
                expected: expected_version,
                current: old.version,
            }));
        }
        lock_current::<T>(txn, id, expected_version).await?;
        let at = T::locate(self, txn, id, &old.data).await?;
        self.check_write::<T>(&at)?;
        // Records that point at this one change first, each a write of its own.
        T::detach(self, txn, id).await?;
        let touched = crate::aggregates::touched(txn, T::KIND, id).await?;
        crate::aggregates::maintain(txn, &touched, -1).await?;
        let res = T::Entity::delete_many()
            .filter(T::ID.eq(id))
            .filter(T::VERSION.eq(expected_version))
            .exec(txn)
            .await?;
        won(res.rows_affected, expected_version)?;
        // Records that pointed to this one (an offering's mentorships) count again.
        crate::aggregates::maintain(txn, &touched, 1).await?;
        let readers = T::readers(txn, &old.data).await?;
        let change = Written {
            kind: T::KIND,
            id,
            action: AuditAction::Delete,
            version: old.version,
            at: &at,
            public: T::in_directory(&old.data),
            before: None,
            readers: &readers,
            readers_before: &[],
        };
        self.audit(txn, change, &[]).await
    }
}

/// Takes the record's row lock for the rest of the transaction without waiting for it, and
/// checks that its version is still the expected one (PostgreSQL; SQLite writers take turns
/// before they begin). A writer that finds the row locked by another is answered at once
/// (409, [`Conflict::Busy`]) instead of queuing behind it: the other's commit will make its
/// version stale anyway.
async fn lock_current<T: Table>(
    txn: &DatabaseTransaction,
    id: Uuid,
    expected: i32,
) -> Result<(), StoreError> {
    use sea_orm::sea_query::{LockBehavior, LockType};
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let current: Option<i32> = T::Entity::find()
        .select_only()
        .column(T::VERSION)
        .filter(T::ID.eq(id))
        .lock_with_behavior(LockType::Update, LockBehavior::Nowait)
        .into_tuple()
        .one(txn)
        .await?;
    match current {
        None => Err(StoreError::NotFound),
        Some(current) if current != expected => Err(StoreError::Conflict(Conflict::StaleVersion {
            expected,
            current,
        })),
        Some(_) => Ok(()),
    }
}

fn is_bookkeeping(col: &str) -> bool {
    matches!(col, "id" | "version" | "created_at" | "updated_at")
}

/// Now, to the microsecond: what both databases keep, so that the record a write returns
/// is the record a later read returns (and its representation can be sent back as it is).
pub(crate) fn stored_now() -> chrono::DateTime<Utc> {
    use chrono::DurationRound;
    let now = Utc::now();
    now.duration_trunc(chrono::TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// A write guarded by `version = expected` that changed no row lost a race: someone else
/// wrote between our read and our write.
fn won(rows_affected: u64, expected: i32) -> Result<(), StoreError> {
    if rows_affected == 0 {
        return Err(StoreError::Conflict(Conflict::StaleVersion {
            expected,
            current: expected + 1,
        }));
    }
    Ok(())
}
