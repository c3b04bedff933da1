//! The organisation a fine cell's records belong to becomes part of the cell's key, so
//! that the protected view can check what each organisation learns by subtracting its own
//! records (issue 12, the insider). The live cells are derived data: they are recreated
//! empty and recounted when the server starts (the definitions version changes with this
//! migration); the snapshots keep their frozen cells, with no owner (the nil id).

use super::m20261126_000004_create_statistics::{DIMENSIONS, cells_keyed};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn dimensions() -> Vec<&'static str> {
    DIMENSIONS
        .iter()
        .copied()
        .chain(["organisation_id"])
        .collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let dims = dimensions();
        for table in ["statistic_cells", "statistic_rollups"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
            m.create_table(cells_keyed(table, false, &dims)).await?;
        }
        // The frozen cells move through a table beside them (no rename: SQLite refuses to
        // rename onto a name its schema still remembers within the migration).
        m.create_table(cells_keyed("statistic_snapshot_cells_next", true, &dims))
            .await?;
        let old = DIMENSIONS.join(", ");
        let backend = m.get_database_backend();
        let conn = m.get_connection();
        // The nil id bound as the application binds every uuid (its encoding differs by backend).
        let nil = match backend {
            sea_orm::DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        conn.execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO statistic_snapshot_cells_next (snapshot_id, grain, {old}, organisation_id, count, amount) \
                 SELECT snapshot_id, grain, {old}, {nil}, count, amount FROM statistic_snapshot_cells"
            ),
            [sea_orm::Value::from(uuid::Uuid::nil())],
        ))
        .await?;
        m.drop_table(Table::drop().table("statistic_snapshot_cells").to_owned())
            .await?;
        m.create_table(cells_keyed("statistic_snapshot_cells", true, &dims))
            .await?;
        let all = dims.join(", ");
        conn.execute_unprepared(&format!(
            "INSERT INTO statistic_snapshot_cells (snapshot_id, grain, {all}, count, amount) \
             SELECT snapshot_id, grain, {all}, count, amount FROM statistic_snapshot_cells_next"
        ))
        .await?;
        m.drop_table(
            Table::drop()
                .table("statistic_snapshot_cells_next")
                .to_owned(),
        )
        .await
    }
}
