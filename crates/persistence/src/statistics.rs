//! The statistics read from the aggregate table `statistic_cells` (kept by `aggregates`):
//! exact cells for callers whose scope allows them, protected tables for everyone else.
//! [`Store::rebuild_statistics`] recomputes the table from the base tables, and
//! [`Store::statistics_drift`] compares the two.

use crate::error::StoreError;
use crate::store::{Scoped, Store};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
use std::collections::HashMap;
use uuid::Uuid;
use verbund_domain::statistics::{
    Axis, GRAINS, NO_NETWORK, OwnerRead, Plan, SEGMENT, STORED, Unprotected, geo_home,
};
use verbund_domain::{Reason, ValidationErrors};

use crate::aggregates::{DIMS, Restriction, Sql, bump, keeps_of, live_table, source};

/// One cell as read: keys in the order of the plan's axes.
pub type Row = (Vec<String>, i64, i64);

fn axis_expr(axis: Axis, level: u8) -> String {
    match (axis, level) {
        (Axis::Level, _) => "CASE length(network_path) WHEN 32 THEN 'federal' WHEN 64 THEN 'state' ELSE 'regional' END".to_owned(),
        (Axis::Geo, l) => format!(
            "substr(network_path || '{}', 1, {})",
            NO_NETWORK.to_string().repeat(2 * SEGMENT),
            SEGMENT * (usize::from(l) + 1)
        ),
        (Axis::OrganisationKind, _) => "organisation_kind".to_owned(),
        (Axis::ProgrammePartner, _) => "programme_partner".to_owned(),
        (Axis::Category, _) => "category".to_owned(),
        (Axis::TargetGroup, _) => "target_group".to_owned(),
        (Axis::Status, _) => "status".to_owned(),
        (Axis::EndReason, _) => "end_reason".to_owned(),
        (Axis::Period, 1) => "substr(period, 1, 4)".to_owned(),
        (Axis::Period, 2) => "substr(period, 1, 4) || '-Q' || CAST((CAST(substr(period, 6, 2) AS INTEGER) + 2) / 3 AS VARCHAR(1))".to_owned(),
        (Axis::Period, _) => "period".to_owned(),
    }
}

/// The `SELECT …` list that rolls fine cells (grain 0) up into `grain` (no FROM).
fn rollup_select(sql: &mut Sql, grain: i16) -> String {
    let nil = sql.bind(Uuid::nil());
    let keeps = keeps_of(grain);
    let geo = match keeps(Axis::Geo) {
        2 => "network_path",
        _ => "substr(network_path, 1, 64)",
    };
    let kind = if keeps(Axis::OrganisationKind) > 0 {
        "organisation_kind"
    } else {
        "''"
    };
    let reason = if keeps(Axis::EndReason) > 0 {
        "end_reason"
    } else {
        "''"
    };
    let owner = sql.bind(Uuid::nil());
    format!(
        "SELECT CAST({grain} AS SMALLINT), measure, {geo}, {kind}, {nil}, '', '', status, {reason}, \
         substr(period, 1, 4), {owner}, CAST(SUM(count) AS BIGINT), CAST(SUM(amount) AS BIGINT)"
    )
}

/// Where a statistic is read from: the live cells or a snapshot's.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Live,
    Snapshot(Uuid),
}

/// A reporting snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: Uuid,
    pub as_of: NaiveDate,
    pub label: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<Utc>,
}

fn snapshot_of(r: &QueryResult) -> Result<Snapshot, StoreError> {
    Ok(Snapshot {
        id: r.try_get_by_index(0)?,
        as_of: r.try_get_by_index(1)?,
        label: r.try_get_by_index(2)?,
        created_by: r.try_get_by_index(3)?,
        created_at: r.try_get_by_index(4)?,
    })
}

impl Scoped {
    /// The exact cells of a planned statistic, grouped by the plan's axes, computed by the
    /// database from the aggregate table with the plan's filters in SQL. Cells that sum to
    /// zero are left out. Only for an exact plan whose subtree the policy lets the caller
    /// see exactly (`Scope::statistics_exact`); anything else is `Forbidden`, so no caller
    /// reads small cells it may only see protected.
    pub async fn statistic_cells(&self, plan: &Plan, from: Source) -> Result<Vec<Row>, StoreError> {
        if plan.protected || !self.scope().statistics_exact(plan.measure, plan.subtree()) {
            return Err(StoreError::Forbidden);
        }
        Ok(cells_on(self.conn(), plan, from, None).await?)
    }

    /// The cells the protected view starts from (the plan's whole canonical table, the
    /// selection happens after protection), sealed: only the domain's protection opens
    /// them. Given up after `limit` (`None`): on PostgreSQL by the statement timeout of the
    /// read's own transaction, so the database stops working too.
    pub async fn statistic_cells_to_protect(
        &self,
        plan: &Plan,
        from: Source,
        limit: std::time::Duration,
    ) -> Result<Option<Unprotected>, StoreError> {
        Ok(self
            .cells_within(plan, from, limit, None)
            .await?
            .map(Unprotected::new))
    }

    /// The plan's finest cells (protected view: the canonical table) as each organisation
    /// knows them from its own records: the part of each cell that belongs to the
    /// organisation or to its member organisations (the records its own token reads), with
    /// the organisation's id as one more key element at the end. Measures that keep no owner,
    /// and snapshots frozen before owners were kept, have no such parts. Sealed like
    /// [`Scoped::statistic_cells_to_protect`].
    ///
    /// Only the parts that can matter are read ([`OwnerRead`]): the records of the units it
    /// names (an index range each), and of those only the parts that leave fewer than k
    /// records of their cell to others are kept. A coarse table of a large network reads
    /// none.
    pub async fn statistic_owner_cells_to_protect(
        &self,
        plan: &Plan,
        from: Source,
        limit: std::time::Duration,
        read: &OwnerRead,
    ) -> Result<Option<Unprotected>, StoreError> {
        if read.units().is_empty() {
            return Ok(Some(Unprotected::default()));
        }
        let paths: Vec<String> = read
            .units()
            .iter()
            .map(|u| geo_home(u).0.to_owned())
            .collect();
        Ok(self
            .cells_within(plan, from, limit, Some(&paths))
            .await?
            .map(|rows| read.keep(rows)))
    }

    /// For each organisation with member organisations, the geography keys (at region
    /// depth, as the statistics' breakdown names them) of the units it and its members live
    /// in: what [`OwnerRead`] bounds an organisation family's part with.
    pub async fn statistic_families(&self) -> Result<Vec<Vec<String>>, StoreError> {
        let unit = format!(
            "substr(network_path || '{}', 1, {})",
            NO_NETWORK.to_string().repeat(2 * SEGMENT),
            SEGMENT * (usize::from(Axis::Geo.depth()) + 1)
        );
        let sql = format!(
            "SELECT parent_organisation_id, {unit} FROM organisations WHERE parent_organisation_id IS NOT NULL \
             UNION SELECT id, {unit} FROM organisations WHERE id IN \
             (SELECT parent_organisation_id FROM organisations WHERE parent_organisation_id IS NOT NULL)"
        );
        let backend = self.conn().get_database_backend();
        let rows = self
            .conn()
            .query_all_raw(Statement::from_string(backend, sql))
            .await?;
        let mut families: std::collections::BTreeMap<Uuid, std::collections::BTreeSet<String>> =
            Default::default();
        for r in rows {
            let head: Uuid = r.try_get_by_index(0)?;
            let unit: String = r.try_get_by_index(1)?;
            families.entry(head).or_default().insert(unit);
        }
        Ok(families
            .into_values()
            .map(|units| units.into_iter().collect())
            .collect())
    }

    async fn cells_within(
        &self,
        plan: &Plan,
        from: Source,
        limit: std::time::Duration,
        owners_in: Option<&[String]>,
    ) -> Result<Option<Vec<Row>>, StoreError> {
        if !plan.protected {
            return Err(StoreError::Forbidden);
        }
        if self.conn().get_database_backend() == DbBackend::Postgres {
            use sea_orm::TransactionTrait;
            let txn = self.conn().begin().await?;
            txn.execute_unprepared(&format!(
                "SET LOCAL statement_timeout = {}",
                limit.as_millis().max(1)
            ))
            .await?;
            match cells_on(&txn, plan, from, owners_in).await {
                Ok(rows) => {
                    txn.commit().await?;
                    Ok(Some(rows))
                }
                Err(e) if e.to_string().contains("statement timeout") => Ok(None),
                Err(e) => Err(e.into()),
            }
        } else {
            match tokio::time::timeout(limit, cells_on(self.conn(), plan, from, owners_in)).await {
                Ok(r) => r.map(Some).map_err(Into::into),
                Err(_) => Ok(None),
            }
        }
    }
}

/// Reads the cells of a plan on `conn`; with `owners_in`, each organisation's part of the
/// cells, from the records of these network paths only.
async fn cells_on(
    conn: &impl ConnectionTrait,
    plan: &Plan,
    from: Source,
    owners_in: Option<&[String]>,
) -> Result<Vec<Row>, sea_orm::DbErr> {
    let by_owner = owners_in.is_some();
    {
        let backend = conn.get_database_backend();
        let mut sql = Sql::new(backend);
        let mut groups: Vec<String> = plan.axes.iter().map(|(a, l)| axis_expr(*a, *l)).collect();
        if by_owner {
            groups.push("family.head".to_owned());
        }
        let signed = plan
            .measure
            .stored()
            .iter()
            .map(|(m, s)| format!("WHEN '{m}' THEN {s}"))
            .collect::<Vec<_>>()
            .join(" ");
        let select: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| format!("{g} AS g{i}"))
            .collect();
        // Only the fine cells keep the owner.
        let grain = if by_owner { 0 } else { plan.grain() };
        let table = match from {
            Source::Live => live_table(grain),
            Source::Snapshot(_) => "statistic_snapshot_cells",
        };
        // What an organisation's own token reads: its records and its member organisations'
        // (see the policy's organisation family). Each cell's owner counts for both heads.
        let table = if by_owner {
            format!(
                "{table} JOIN (SELECT id AS org, id AS head FROM organisations UNION ALL \
                 SELECT id, parent_organisation_id FROM organisations \
                 WHERE parent_organisation_id IS NOT NULL) family ON family.org = {table}.organisation_id"
            )
        } else {
            table.to_owned()
        };
        sql.push(&format!(
            "SELECT {}{}CAST(SUM(count * CASE measure {signed} ELSE 0 END) AS BIGINT) AS n, \
             CAST(SUM(amount * CASE measure {signed} ELSE 0 END) AS BIGINT) AS a FROM {table} WHERE measure IN (",
            select.join(", "),
            if select.is_empty() { "" } else { ", " },
        ));
        let ms: Vec<String> = plan
            .measure
            .stored()
            .iter()
            .map(|(m, _)| sql.bind(*m))
            .collect();
        sql.push(&ms.join(", "));
        sql.push(")");
        sql.push(&format!(" AND grain = {grain}"));
        if let Some(paths) = owners_in {
            let ps: Vec<String> = paths.iter().map(|p| sql.bind(p.clone())).collect();
            sql.push(&format!(" AND network_path IN ({})", ps.join(", ")));
        }
        if let Source::Snapshot(id) = from {
            let p = sql.bind(id);
            sql.push(&format!(" AND snapshot_id = {p}"));
        }
        if let Some(m) = &plan.active_month {
            let p = sql.bind(m.clone());
            sql.push(&format!(" AND period <= {p}"));
        }
        if !plan.protected {
            for (axis, level, value) in &plan.filters {
                let e = axis_expr(*axis, *level);
                let v = match axis {
                    Axis::ProgrammePartner => match Uuid::parse_str(value) {
                        Ok(u) => sql.bind(u),
                        Err(_) => return Ok(Vec::new()),
                    },
                    _ => sql.bind(value.clone()),
                };
                sql.push(&format!(" AND {e} = {v}"));
            }
            if let Some((f, t)) = &plan.months {
                // Rollups keep years: compare years there.
                let cut = |m: &String| -> String {
                    if grain == 0 {
                        m.clone()
                    } else {
                        m.chars().take(4).collect()
                    }
                };
                let (pf, pt) = (sql.bind(cut(f)), sql.bind(cut(t)));
                sql.push(&format!(" AND period >= {pf} AND period <= {pt}"));
            }
        }
        if !groups.is_empty() {
            let pos: Vec<String> = (1..=groups.len()).map(|i| i.to_string()).collect();
            sql.push(&format!(" GROUP BY {}", pos.join(", ")));
        }
        let rows = conn.query_all_raw(sql.statement()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut key = Vec::with_capacity(plan.axes.len());
            for (i, (axis, _)) in plan.axes.iter().enumerate() {
                key.push(match axis {
                    Axis::ProgrammePartner => {
                        let u: Uuid = r.try_get_by_index(i)?;
                        if u.is_nil() {
                            String::new()
                        } else {
                            u.to_string()
                        }
                    }
                    _ => r.try_get_by_index::<String>(i)?,
                });
            }
            let mut n = plan.axes.len();
            if by_owner {
                let u: Uuid = r.try_get_by_index(n)?;
                key.push(u.to_string());
                n += 1;
            }
            let count: Option<i64> = r.try_get_by_index(n)?;
            let amount: Option<i64> = r.try_get_by_index(n + 1)?;
            let (count, amount) = (count.unwrap_or(0), amount.unwrap_or(0));
            if count != 0 || amount != 0 {
                out.push((key, count, amount));
            }
        }
        Ok(out)
    }
}

impl Scoped {
    /// Freezes the live statistics as of a reporting deadline (the last day of a month):
    /// flows after that month are left out. One snapshot per deadline.
    pub async fn create_snapshot(
        &self,
        as_of: NaiveDate,
        label: &str,
    ) -> Result<Snapshot, StoreError> {
        if !self.scope().may_snapshot() {
            return Err(StoreError::Forbidden);
        }
        if as_of.succ_opt().is_some_and(|n| n.month() == as_of.month()) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "asOf",
                Reason::Rule("must be the last day of a month (statistics are kept per month)"),
            )));
        }
        if as_of > Utc::now().date_naive() {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "asOf",
                Reason::Rule("must not be in the future"),
            )));
        }
        let snapshot = Snapshot {
            id: verbund_domain::record::new_id(),
            as_of,
            label: label.trim().to_owned(),
            created_by: self.caller().subject.clone(),
            created_at: Utc::now(),
        };
        let txn = self.begin_write().await?;
        let result = async {
            let backend = txn.get_database_backend();
            let mut sql = Sql::new(backend);
            let ps = [
                sql.bind(snapshot.id),
                sql.bind(snapshot.as_of),
                sql.bind(snapshot.label.clone()),
                sql.bind(snapshot.created_by.clone()),
                sql.bind(snapshot.created_at),
            ];
            sql.push(&format!(
                "INSERT INTO statistic_snapshots (id, as_of, label, created_by, created_at) VALUES ({})",
                ps.join(", ")
            ));
            txn.execute_raw(sql.statement()).await?;
            let mut sql = Sql::new(backend);
            let id = sql.bind(snapshot.id);
            let month = sql.bind(format!("{}", as_of.format("%Y-%m")));
            sql.push(&format!(
                "INSERT INTO statistic_snapshot_cells (snapshot_id, {DIMS}, count, amount) \
                 SELECT {id}, {DIMS}, count, amount FROM statistic_cells \
                 WHERE grain = 0 AND (count <> 0 OR amount <> 0) AND (period = '' OR period <= {month})"
            ));
            txn.execute_raw(sql.statement()).await?;
            // The rollups of the frozen months (a live year cell may hold later months).
            for grain in GRAINS.iter().skip(1) {
                let mut sql = Sql::new(backend);
                // Placeholders in text order (SQLite's `?` are positional).
                let id = sql.bind(snapshot.id);
                let select = rollup_select(&mut sql, grain.id);
                let same = sql.bind(snapshot.id);
                sql.push(&format!(
                    "INSERT INTO statistic_snapshot_cells (snapshot_id, {DIMS}, count, amount) \
                     SELECT {id}, x.* FROM ({select} FROM statistic_snapshot_cells \
                     WHERE grain = 0 AND snapshot_id = {same} GROUP BY 2, 3, 4, 8, 9, 10) x"
                ));
                txn.execute_raw(sql.statement()).await?;
            }
            // A snapshot binds the protected patterns of later answers: cached ones are stale.
            bump(&*txn).await?;
            Ok(snapshot)
        }
        .await;
        txn.settle(result).await
    }

    /// The snapshots, newest deadline first.
    pub async fn snapshots(&self) -> Result<Vec<Snapshot>, StoreError> {
        let sql = Sql::new(self.conn().get_database_backend());
        let mut sql = sql;
        sql.push("SELECT id, as_of, label, created_by, created_at FROM statistic_snapshots ORDER BY as_of DESC");
        self.conn()
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(snapshot_of)
            .collect()
    }

    pub async fn snapshot(&self, id: Uuid) -> Result<Snapshot, StoreError> {
        let mut sql = Sql::new(self.conn().get_database_backend());
        let p = sql.bind(id);
        sql.push(&format!(
            "SELECT id, as_of, label, created_by, created_at FROM statistic_snapshots WHERE id = {p}"
        ));
        match self.conn().query_one_raw(sql.statement()).await? {
            Some(r) => snapshot_of(&r),
            None => Err(StoreError::NotFound),
        }
    }

    /// Names for the keys of statistic rows: networks by path, programme partners by id
    /// (public organisation data).
    pub async fn statistic_labels(
        &self,
        paths: &[String],
        partners: &[Uuid],
    ) -> Result<
        (
            HashMap<String, (Uuid, String, String, String)>,
            HashMap<Uuid, String>,
        ),
        StoreError,
    > {
        let backend = self.conn().get_database_backend();
        let mut networks = HashMap::new();
        if !paths.is_empty() {
            let mut sql = Sql::new(backend);
            let ps: Vec<String> = paths.iter().map(|p| sql.bind(p.clone())).collect();
            sql.push(&format!(
                "SELECT path, id, name, level, code FROM networks WHERE path IN ({})",
                ps.join(", ")
            ));
            for r in self.conn().query_all_raw(sql.statement()).await? {
                networks.insert(
                    r.try_get_by_index::<String>(0)?,
                    (
                        r.try_get_by_index(1)?,
                        r.try_get_by_index(2)?,
                        r.try_get_by_index(3)?,
                        r.try_get_by_index(4)?,
                    ),
                );
            }
        }
        let mut orgs = HashMap::new();
        if !partners.is_empty() {
            let mut sql = Sql::new(backend);
            let ps: Vec<String> = partners.iter().map(|p| sql.bind(*p)).collect();
            sql.push(&format!(
                "SELECT id, name FROM organisations WHERE id IN ({})",
                ps.join(", ")
            ));
            for r in self.conn().query_all_raw(sql.statement()).await? {
                orgs.insert(r.try_get_by_index(0)?, r.try_get_by_index(1)?);
            }
        }
        Ok((networks, orgs))
    }
}

impl Store {
    /// Refreshes the planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<(), StoreError> {
        self.conn().execute_unprepared("ANALYZE").await?;
        Ok(())
    }

    /// Recomputes every cell from the base tables (after a bulk load).
    pub async fn rebuild_statistics(&self) -> Result<(), StoreError> {
        let txn = self.begin_write().await?;
        let result = async {
            txn.execute_unprepared("DELETE FROM statistic_cells")
                .await?;
            txn.execute_unprepared("DELETE FROM statistic_rollups")
                .await?;
            bump(&*txn).await?;
            let backend = txn.get_database_backend();
            let pg = backend == DbBackend::Postgres;
            if pg {
                // Millions of cells: build the key index once, sorted, instead of row by row.
                txn.execute_unprepared("SET LOCAL maintenance_work_mem = '256MB'")
                    .await?;
                txn.execute_unprepared("SET LOCAL work_mem = '256MB'")
                    .await?;
                txn.execute_unprepared(
                    "ALTER TABLE statistic_cells DROP CONSTRAINT statistic_cells_pkey",
                )
                .await?;
            }
            for m in STORED {
                let mut sql = Sql::new(backend);
                sql.push(&format!(
                    "INSERT INTO statistic_cells ({DIMS}, count, amount) "
                ));
                source(&mut sql, 0, m, &Restriction::All, 1);
                txn.execute_raw(sql.statement()).await?;
            }
            if pg {
                txn.execute_unprepared(&format!(
                    "ALTER TABLE statistic_cells ADD CONSTRAINT statistic_cells_pkey PRIMARY KEY ({DIMS})"
                ))
                .await?;
            }
            // The rollups from the fine cells: far fewer rows to read than the base tables.
            for grain in GRAINS.iter().skip(1) {
                let mut sql = Sql::new(backend);
                let select = rollup_select(&mut sql, grain.id);
                sql.push(&format!(
                    "INSERT INTO statistic_rollups ({DIMS}, count, amount) \
                     {select} FROM statistic_cells WHERE grain = 0 GROUP BY 2, 3, 4, 8, 9, 10"
                ));
                txn.execute_raw(sql.statement()).await?;
            }
            Ok(())
        }
        .await;
        txn.settle(result).await
    }

    /// The cells whose stored value differs from a recount from the base tables (none when
    /// the aggregate is exact). The database compares them (stored and recounted cells
    /// joined on their keys): only the cells that differ come back, at most
    /// [`DRIFT_EXAMPLES`] of them as readable lines.
    pub async fn statistics_drift(&self) -> Result<Drift, StoreError> {
        let backend = self.conn().get_database_backend();
        let mut sql = Sql::new(backend);
        let columns = format!("{DIMS}, count, amount");
        sql.push(&format!("WITH recount ({columns}) AS ("));
        let mut first = true;
        for grain in GRAINS {
            for m in STORED {
                if !std::mem::take(&mut first) {
                    sql.push(" UNION ALL ");
                }
                sql.push("SELECT * FROM (");
                source(&mut sql, grain.id, m, &Restriction::All, 1);
                sql.push(") x");
            }
        }
        let dims: Vec<&str> = DIMS.split(',').map(str::trim).collect();
        let on = dims
            .iter()
            .map(|d| format!("s.{d} = r.{d}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let key = dims
            .iter()
            .map(|d| format!("COALESCE(s.{d}, r.{d})"))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push(&format!(
            "), stored AS (SELECT {columns} FROM statistic_cells \
                UNION ALL SELECT {columns} FROM statistic_rollups), \
             s AS (SELECT * FROM stored WHERE count <> 0 OR amount <> 0), \
             r AS (SELECT * FROM recount WHERE count <> 0 OR amount <> 0) \
             SELECT {key}, s.count, s.amount, r.count, r.amount, COUNT(*) OVER () \
             FROM s FULL OUTER JOIN r ON {on} \
             WHERE s.grain IS NULL OR r.grain IS NULL OR s.count <> r.count OR s.amount <> r.amount \
             ORDER BY {} LIMIT {DRIFT_EXAMPLES}",
            (1..=dims.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let rows = self.conn().query_all_raw(sql.statement()).await?;
        let mut drift = Drift::default();
        let n = dims.len();
        for r in rows {
            let mut key = vec![r.try_get_by_index::<i16>(0)?.to_string()];
            for i in 1..n {
                key.push(if i == 4 || i == n - 1 {
                    r.try_get_by_index::<Uuid>(i)?.to_string()
                } else {
                    r.try_get_by_index::<String>(i)?
                });
            }
            let pair = |c: usize| -> Result<Option<(i64, i64)>, StoreError> {
                Ok(r.try_get_by_index::<Option<i64>>(c)?
                    .zip(r.try_get_by_index::<Option<i64>>(c + 1)?))
            };
            let (stored, recounted) = (pair(n)?, pair(n + 2)?);
            drift.cells = r.try_get_by_index::<i64>(n + 4)?.try_into().unwrap_or(0);
            drift.examples.push(format!(
                "{}: stored {stored:?}, recounted {recounted:?}",
                key.join("|")
            ));
        }
        Ok(drift)
    }
}

/// How many differing cells [`Store::statistics_drift`] names.
pub const DRIFT_EXAMPLES: usize = 1000;

/// The cells whose stored value differs from a recount: how many, and the first of them.
#[derive(Debug, Default)]
pub struct Drift {
    pub cells: u64,
    pub examples: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.cells == 0
    }
}

impl Scoped {
    /// The version of the live cells: it changes with every write that changes a cell.
    pub async fn statistics_version(&self) -> Result<i64, StoreError> {
        let row = self
            .conn()
            .query_one_raw(Statement::from_string(
                self.conn().get_database_backend(),
                "SELECT version FROM statistic_version WHERE id = 1",
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get_by_index(0)?,
            None => 0,
        })
    }

    /// The subtree filter of a statistic (networks are public); an unknown id is the
    /// caller's mistake in `network`.
    pub async fn statistics_network(
        &self,
        id: Uuid,
    ) -> Result<verbund_domain::statistics::NetworkFilter, StoreError> {
        let path = self.network_path("network", id).await?;
        let level = u8::try_from(path.len() / 32).unwrap_or(1).saturating_sub(1);
        Ok(verbund_domain::statistics::NetworkFilter { path, level })
    }
}
