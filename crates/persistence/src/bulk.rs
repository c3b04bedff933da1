//! The bulk loader: fills an empty database with records built and validated by the domain,
//! mapped to rows by the same table mappings the write path uses ([`Table::to_active`],
//! [`Table::children`]), and written in large pieces: `COPY` on PostgreSQL, multi-row
//! `INSERT`s on SQLite, all in one transaction. The aggregate tables are rebuilt from the
//! base tables at the end. It writes no audit events (there is nobody to account for).
//!
//! It refuses a database that holds any network, so it can never overwrite or bypass the
//! scope of records that callers already keep.

use crate::aggregates::Sql;
use crate::error::{Conflict, StoreError};
use crate::store::{Children, Meta, Store, Table};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityName, IdenStatic,
    Iterable, TransactionTrait, Value,
};
use uuid::Uuid;
use verbund_domain::policy::Location;

/// Where rows go: `COPY` on PostgreSQL, multi-row `INSERT`s elsewhere; one transaction.
enum Sink {
    Pg(sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Postgres>),
    Sql(DatabaseTransaction),
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> StoreError {
    StoreError::from(sea_orm::DbErr::Custom(format!("bulk load: {e}")))
}

fn shape(table: &str, why: &str) -> StoreError {
    StoreError::from(sea_orm::DbErr::Custom(format!(
        "bulk load of {table}: {why}"
    )))
}

/// Rows of one table, waiting to be written.
struct Rows {
    table: String,
    columns: Vec<String>,
    /// PostgreSQL: the `COPY` text; elsewhere: the rows' values.
    text: String,
    values: Vec<Vec<Value>>,
    per_statement: usize,
}

/// A bulk load in progress; see the module documentation.
pub struct BulkLoad {
    sink: Sink,
    /// In order of first use, so parents are written before the rows that point at them.
    tables: Vec<Rows>,
    now: DateTime<Utc>,
    written: u64,
}

impl Store {
    /// Begins a bulk load; refuses a database that already holds data.
    pub async fn bulk_load(&self) -> Result<BulkLoad, StoreError> {
        if !self.is_empty().await? {
            return Err(StoreError::Conflict(Conflict::Duplicate(
                "a bulk load (the database is not empty)",
            )));
        }
        let sink = match self.backend() {
            DbBackend::Postgres => Sink::Pg(
                self.conn()
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(sqlx_err)?,
            ),
            _ => Sink::Sql(self.conn().begin().await?),
        };
        Ok(BulkLoad {
            sink,
            tables: Vec::new(),
            now: crate::store::stored_now(),
            written: 0,
        })
    }
}

impl BulkLoad {
    /// Records written so far (child rows not counted).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Adds record `id` of table `T`, which lives at `at` (its network path and owner).
    pub async fn put<T: Table>(
        &mut self,
        id: Uuid,
        data: &T::Data,
        at: &Location,
    ) -> Result<(), StoreError> {
        let meta = Meta {
            id,
            version: 1,
            created_at: self.now,
            updated_at: self.now,
        };
        let active = T::to_active(meta, data, at);
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for c in T::Column::iter() {
            if let Some(v) = active.get(c).into_value() {
                columns.push(c.as_str());
                values.push(v);
            }
        }
        let table = T::Entity::default().table_name();
        self.row(table, &columns, values)?;
        if let Some(Children {
            table,
            parent,
            columns,
            rows,
        }) = T::children(data)
        {
            let mut cols = vec![parent];
            cols.extend_from_slice(columns);
            for row in rows {
                let mut values = vec![Value::from(id)];
                values.extend(row);
                self.row(table, &cols, values)?;
            }
        }
        self.written += 1;
        if self.tables.iter().any(Rows::full) {
            self.flush().await?;
        }
        Ok(())
    }

    fn row(&mut self, table: &str, columns: &[&str], values: Vec<Value>) -> Result<(), StoreError> {
        let i = match self.tables.iter().position(|r| r.table == table) {
            Some(i) => i,
            None => {
                self.tables.push(Rows {
                    table: table.to_owned(),
                    columns: columns.iter().map(|c| (*c).to_owned()).collect(),
                    text: String::new(),
                    values: Vec::new(),
                    // Well below SQLite's 32,766 bound parameters.
                    per_statement: (30_000 / columns.len().max(1)).min(1_000),
                });
                self.tables.len() - 1
            }
        };
        let rows = &mut self.tables[i];
        if rows.columns.len() != columns.len()
            || rows.columns.iter().zip(columns).any(|(a, b)| a != b)
        {
            return Err(shape(table, "rows with different columns"));
        }
        match self.sink {
            Sink::Pg(_) => {
                for (k, v) in values.iter().enumerate() {
                    if k > 0 {
                        rows.text.push('\t');
                    }
                    copy_text(v, &mut rows.text).map_err(|why| shape(table, why))?;
                }
                rows.text.push('\n');
            }
            Sink::Sql(_) => rows.values.push(values),
        }
        Ok(())
    }

    /// Writes every waiting row, parents first.
    async fn flush(&mut self) -> Result<(), StoreError> {
        for rows in &mut self.tables {
            rows.write(&mut self.sink).await?;
        }
        Ok(())
    }

    /// Writes the rest, commits, and rebuilds the aggregate tables from the base tables.
    pub async fn finish(mut self, store: &Store) -> Result<(), StoreError> {
        self.flush().await?;
        match self.sink {
            Sink::Pg(tx) => tx.commit().await.map_err(sqlx_err)?,
            Sink::Sql(txn) => txn.commit().await?,
        }
        store.rebuild_statistics().await?;
        store.analyze().await
    }
}

impl Rows {
    fn full(&self) -> bool {
        self.text.len() >= 8 << 20 || self.values.len() >= self.per_statement
    }

    async fn write(&mut self, sink: &mut Sink) -> Result<(), StoreError> {
        match sink {
            Sink::Pg(tx) => {
                if self.text.is_empty() {
                    return Ok(());
                }
                let conn: &mut sea_orm::sqlx::PgConnection = tx;
                let mut copy = conn
                    .copy_in_raw(&format!(
                        "COPY {} ({}) FROM STDIN",
                        self.table,
                        self.columns.join(",")
                    ))
                    .await
                    .map_err(sqlx_err)?;
                copy.send(std::mem::take(&mut self.text).into_bytes())
                    .await
                    .map_err(sqlx_err)?;
                copy.finish().await.map_err(sqlx_err)?;
            }
            Sink::Sql(txn) => {
                if self.values.is_empty() {
                    return Ok(());
                }
                let mut sql = Sql::new(txn.get_database_backend());
                let mut groups = Vec::with_capacity(self.values.len());
                for row in std::mem::take(&mut self.values) {
                    let ps: Vec<String> = row.into_iter().map(|v| sql.bind(v)).collect();
                    groups.push(format!("({})", ps.join(",")));
                }
                sql.push(&format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    self.table,
                    self.columns.join(","),
                    groups.join(",")
                ));
                txn.execute_raw(sql.statement()).await?;
            }
        }
        Ok(())
    }
}

/// A value in PostgreSQL's `COPY … FROM STDIN` text format.
fn copy_text(v: &Value, out: &mut String) -> Result<(), &'static str> {
    use std::fmt::Write;
    let written = match v {
        Value::Bool(Some(b)) => {
            out.push(if *b { 't' } else { 'f' });
            Ok(())
        }
        Value::SmallInt(Some(i)) => write!(out, "{i}"),
        Value::Int(Some(i)) => write!(out, "{i}"),
        Value::BigInt(Some(i)) => write!(out, "{i}"),
        Value::Double(Some(f)) => write!(out, "{f}"),
        Value::Uuid(Some(u)) => write!(out, "{u}"),
        Value::ChronoDate(Some(d)) => write!(out, "{}", d.format("%Y-%m-%d")),
        Value::ChronoDateTimeUtc(Some(t)) => {
            out.push_str(&t.to_rfc3339());
            Ok(())
        }
        Value::String(Some(s)) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            Ok(())
        }
        Value::Bool(None)
        | Value::SmallInt(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::Double(None)
        | Value::Uuid(None)
        | Value::ChronoDate(None)
        | Value::ChronoDateTimeUtc(None)
        | Value::String(None) => {
            out.push_str("\\N");
            Ok(())
        }
        _ => return Err("a column type the loader does not know"),
    };
    written.map_err(|_| "a value that cannot be written")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_marks_nulls() {
        let mut out = String::new();
        for v in [
            Value::from("a\tb\\c\nd"),
            Value::String(None),
            Value::from(true),
            Value::from(42i32),
            Value::from(chrono::NaiveDate::from_ymd_opt(2025, 12, 31).expect("date")),
        ] {
            copy_text(&v, &mut out).expect("known type");
            out.push('|');
        }
        assert_eq!(out, "a\\tb\\\\c\\nd|\\N|t|42|2025-12-31|");
        assert!(copy_text(&Value::Char(Some('x')), &mut out).is_err());
    }
}
