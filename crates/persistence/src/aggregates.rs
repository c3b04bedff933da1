//! The aggregate table `statistic_cells`, kept exact by every write.
//!
//! A cell counts (and sums) the records of one stored measure that share the same
//! dimensions. What a record contributes is defined once, by the `SELECT`s in [`source`];
//! every write subtracts the contribution of the records it touches before it writes and
//! adds it back afterwards, in the same transaction ([`maintain`]), so the table is exact
//! at every commit. The store's write path calls [`touched`] and [`maintain`]; the reads
//! are in `statistics`.

use crate::error::StoreError;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};
use uuid::Uuid;
use verbund_domain::policy::EntityKind;
use verbund_domain::statistics::{Axis, GRAINS, STORED};

pub(crate) const DIMS: &str = "grain, measure, network_path, organisation_kind, programme_partner, category, \
                    target_group, status, end_reason, period, organisation_id";

/// Whether a stored measure's fine cells keep the organisation its records belong to: the
/// measures about people, so that the protected view can check what an organisation learns
/// by subtracting its own records. The others keep the nil id (one cell per network).
fn keeps_owner(measure: &str) -> bool {
    matches!(
        measure,
        "mentorships"
            | "mentorships_started"
            | "mentorships_ended"
            | "mentorships_started_ended"
            | "volunteers"
    )
}

/// SQL text with its bound values, placeholders written for the backend.
pub(crate) struct Sql {
    backend: DbBackend,
    pub text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(backend: DbBackend) -> Sql {
        Sql {
            backend,
            text: String::new(),
            values: Vec::new(),
        }
    }

    /// A placeholder for `v`.
    pub fn bind(&mut self, v: impl Into<Value>) -> String {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, &self.text, self.values.clone())
    }

    fn month(&self, col: &str) -> String {
        match self.backend {
            DbBackend::Postgres => format!("to_char({col}, 'YYYY-MM')"),
            _ => format!("substr({col}, 1, 7)"),
        }
    }
}

/// Which records of a stored measure a write touches.
#[derive(Debug, Clone)]
pub(crate) enum Restriction {
    All,
    /// The measure's own rows by id.
    Ids(Vec<Uuid>),
    /// Everything the organisation contributes (its own row, and rows it owns or leads).
    Organisation(Uuid),
}

/// The `SELECT` of a stored measure: one row per cell, `DIMS` then count and amount.
pub(crate) fn source(
    sql: &mut Sql,
    grain: i16,
    measure: &str,
    restriction: &Restriction,
    sign: i64,
) {
    let nil = sql.bind(Uuid::nil());
    let org_dims = format!(
        "o.network_path, o.kind, \
         CASE WHEN o.kind = 'programme_partner' THEN o.id ELSE COALESCE(o.parent_organisation_id, {nil}) END"
    );
    let (from, category, target, status, reason, period, amount, own, extra) = match measure {
        "mentorships"
        | "mentorships_started"
        | "mentorships_ended"
        | "mentorships_started_ended" => {
            let (date, extra) = match measure {
                "mentorships" => ("m.requested_on", ""),
                "mentorships_started" => ("m.started_on", " AND m.started_on IS NOT NULL"),
                "mentorships_ended" => ("m.ended_on", " AND m.ended_on IS NOT NULL"),
                _ => (
                    "m.ended_on",
                    " AND m.ended_on IS NOT NULL AND m.started_on IS NOT NULL",
                ),
            };
            (
                "mentorships m JOIN organisations o ON o.id = m.organisation_id \
                 LEFT JOIN offerings f ON f.id = m.offering_id"
                    .to_owned(),
                "COALESCE(f.category, '')".to_owned(),
                "m.target_group".to_owned(),
                "m.status".to_owned(),
                "COALESCE(m.end_reason, '')".to_owned(),
                sql.month(date),
                "0".to_owned(),
                "m.id",
                extra,
            )
        }
        "volunteers" => (
            "volunteers v JOIN organisations o ON o.id = v.organisation_id".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "CASE WHEN v.active THEN 'active' ELSE 'inactive' END".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "v.capacity".to_owned(),
            "v.id",
            "",
        ),
        "organisations" => (
            "organisations o".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "0".to_owned(),
            "o.id",
            "",
        ),
        "offerings" => (
            "offerings f JOIN organisations o ON o.id = f.organisation_id".to_owned(),
            "f.category".to_owned(),
            "''".to_owned(),
            "CASE WHEN f.published THEN 'published' ELSE 'draft' END".to_owned(),
            "''".to_owned(),
            sql.month("f.starts_on"),
            "COALESCE(f.capacity, 0)".to_owned(),
            "f.id",
            "",
        ),
        "cooperations" => (
            "cooperations c JOIN organisations o ON o.id = c.lead_organisation_id \
             JOIN networks n ON n.id = c.network_id"
                .to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "c.status".to_owned(),
            "''".to_owned(),
            sql.month("c.starts_on"),
            "0".to_owned(),
            "c.id",
            "",
        ),
        // Money granted into the network (by a funder outside it) and money passed on
        // along the chain are two measures: a level's total is never the sum of both.
        _ => (
            "fundings g JOIN organisations o ON o.id = g.organisation_id".to_owned(),
            "g.funder_kind".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            "''".to_owned(),
            sql.month("g.starts_on"),
            "g.amount_cents".to_owned(),
            "g.id",
            if measure == "funding" {
                " AND g.passed_on_from_id IS NULL"
            } else {
                " AND g.passed_on_from_id IS NOT NULL"
            },
        ),
    };
    let org_dims = if measure == "cooperations" {
        org_dims.replacen("o.network_path", "n.path", 1)
    } else {
        org_dims
    };
    // A rollup keeps fewer dimensions: the others collapse to a constant.
    let (org_dims, category, target, reason, period) = if grain == 0 {
        (org_dims, category, target, reason, period)
    } else {
        let keeps = keeps_of(grain);
        let path = if measure == "cooperations" {
            "n.path"
        } else {
            "o.network_path"
        };
        let geo = match keeps(Axis::Geo) {
            2 => path.to_owned(),
            _ => format!("substr({path}, 1, 64)"),
        };
        let kind = if keeps(Axis::OrganisationKind) > 0 {
            "o.kind"
        } else {
            "''"
        };
        let reason = if keeps(Axis::EndReason) > 0 {
            reason
        } else {
            "''".to_owned()
        };
        let year = if period == "''" {
            period
        } else {
            format!("substr({period}, 1, 4)")
        };
        (
            format!("{geo}, {kind}, {nil}"),
            "''".to_owned(),
            "''".to_owned(),
            reason,
            year,
        )
    };
    let owner = if grain == 0 && keeps_owner(measure) {
        "o.id".to_owned()
    } else {
        sql.bind(Uuid::nil())
    };
    let text = format!(
        "SELECT CAST({grain} AS SMALLINT), '{measure}', {org_dims}, {category}, {target}, {status}, {reason}, {period}, {owner}, \
         CAST({sign} * COUNT(*) AS BIGINT), CAST({sign} * COALESCE(SUM({amount}), 0) AS BIGINT) \
         FROM {from} WHERE 1 = 1{extra}"
    );
    sql.push(&text);
    match restriction {
        Restriction::All => {}
        Restriction::Ids(ids) => {
            let ps: Vec<String> = ids.iter().map(|i| sql.bind(*i)).collect();
            sql.push(&format!(" AND {own} IN ({})", ps.join(", ")));
        }
        Restriction::Organisation(id) => {
            let p = sql.bind(*id);
            sql.push(&format!(" AND o.id = {p}"));
        }
    }
    sql.push(" GROUP BY 3, 4, 5, 6, 7, 8, 9, 10, 11");
}

/// Adds `sign` × the contribution of the restricted records to the cells.
async fn apply(
    conn: &impl ConnectionTrait,
    measure: &str,
    restriction: &Restriction,
    sign: i64,
) -> Result<(), StoreError> {
    if matches!(restriction, Restriction::Ids(ids) if ids.is_empty()) {
        return Ok(());
    }
    for grain in GRAINS {
        let mut sql = Sql::new(conn.get_database_backend());
        sql.push(&format!(
            "INSERT INTO {table} ({DIMS}, count, amount) ",
            table = live_table(grain.id)
        ));
        source(&mut sql, grain.id, measure, restriction, sign);
        sql.push(&format!(
            " ON CONFLICT ({DIMS}) DO UPDATE SET count = {table}.count + excluded.count, \
             amount = {table}.amount + excluded.amount",
            table = live_table(grain.id)
        ));
        conn.execute_raw(sql.statement()).await?;
    }
    Ok(())
}

/// The stored measures a write to `kind` can change, and which of their records it touches.
/// Resolved before the write (an offering's mentorships are found by the offering they
/// point to, which a delete clears).
pub(crate) async fn touched(
    conn: &impl ConnectionTrait,
    kind: EntityKind,
    id: Uuid,
) -> Result<Vec<(&'static str, Restriction)>, StoreError> {
    let mentorship_measures = [
        "mentorships",
        "mentorships_started",
        "mentorships_ended",
        "mentorships_started_ended",
    ];
    let one = || Restriction::Ids(vec![id]);
    Ok(match kind {
        EntityKind::Mentorship => mentorship_measures.iter().map(|m| (*m, one())).collect(),
        EntityKind::Volunteer => vec![("volunteers", one())],
        EntityKind::Cooperation => vec![("cooperations", one())],
        EntityKind::Funding => vec![("funding", one()), ("funding_passed_on", one())],
        EntityKind::Organisation => STORED
            .iter()
            .map(|m| (*m, Restriction::Organisation(id)))
            .collect(),
        EntityKind::Offering => {
            let mut sql = Sql::new(conn.get_database_backend());
            let p = sql.bind(id);
            sql.push(&format!(
                "SELECT id FROM mentorships WHERE offering_id = {p}"
            ));
            let ids: Vec<Uuid> = conn
                .query_all_raw(sql.statement())
                .await?
                .iter()
                .map(|r| r.try_get_by_index::<Uuid>(0))
                .collect::<Result<_, _>>()?;
            let mut out: Vec<(&'static str, Restriction)> = mentorship_measures
                .iter()
                .map(|m| (*m, Restriction::Ids(ids.clone())))
                .collect();
            out.push(("offerings", one()));
            out
        }
        _ => Vec::new(),
    })
}

/// Adds what one more write touches to `all`, so that the writes of an import are applied
/// together: the records of a measure named by id join one list.
pub(crate) fn merge(
    all: &mut Vec<(&'static str, Restriction)>,
    more: Vec<(&'static str, Restriction)>,
) {
    for (measure, r) in more {
        match (all.iter_mut().find(|(m, _)| *m == measure), r) {
            (Some((_, Restriction::Ids(ids))), Restriction::Ids(more)) => ids.extend(more),
            (_, r) => all.push((measure, r)),
        }
    }
}

/// Applies `sign` × the touched records' contributions: −1 before a write, +1 after it.
pub(crate) async fn maintain(
    txn: &DatabaseTransaction,
    touched: &[(&'static str, Restriction)],
    sign: i64,
) -> Result<(), StoreError> {
    if touched.is_empty() {
        return Ok(());
    }
    // Concurrent writes update shared cells; taking the cells in different orders would
    // deadlock. One transaction-scoped lock orders them (SQLite serialises writes anyway).
    write_order_lock(txn).await?;
    if sign > 0 {
        bump(txn).await?;
    }
    for (measure, r) in touched {
        apply(txn, measure, r, sign).await?;
    }
    Ok(())
}

/// The one transaction-scoped lock that orders writers where they meet: the shared
/// statistics cells, and the numbering of the change feed (`crate::changes`). One lock for
/// both, so that no two writers can take them in opposite orders. PostgreSQL only: SQLite
/// serialises writers anyway.
pub(crate) async fn write_order_lock(txn: &DatabaseTransaction) -> Result<(), StoreError> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7331)")
            .await?;
    }
    Ok(())
}

/// Marks the cells as changed (readers key their caches by this version).
pub(crate) async fn bump(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    conn.execute_unprepared("UPDATE statistic_version SET version = version + 1 WHERE id = 1")
        .await?;
    Ok(())
}

/// The live table of a grain: the fine cells, or the (small) rollups beside them.
pub(crate) fn live_table(grain: i16) -> &'static str {
    if grain == 0 {
        "statistic_cells"
    } else {
        "statistic_rollups"
    }
}

/// How deep a grain keeps an axis (0: collapsed).
pub(crate) fn keeps_of(grain: i16) -> impl Fn(Axis) -> u8 {
    move |axis| {
        GRAINS
            .iter()
            .find(|g| g.id == grain)
            .and_then(|g| g.keeps.iter().find(|(a, _)| *a == axis))
            .map_or(0, |(_, l)| *l)
    }
}
