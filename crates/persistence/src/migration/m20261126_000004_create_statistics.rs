//! The aggregate table behind every statistic, kept in the transaction of each write, and
//! the reporting snapshots that freeze it at a deadline.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The dimensions of a cell; together they are the cell's key.
pub const DIMENSIONS: [&str; 9] = [
    "measure",
    "network_path",
    "organisation_kind",
    "programme_partner",
    "category",
    "target_group",
    "status",
    "end_reason",
    "period",
];

/// A table of cells keyed by `dimensions` (uuid columns: the programme partner and, from
/// migration 7, the owning organisation).
pub(crate) fn cells_keyed(
    name: &'static str,
    snapshot: bool,
    dimensions: &[&'static str],
) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(name);
    let mut key = Index::create();
    if snapshot {
        t.col(uuid("snapshot_id"));
        key.col("snapshot_id");
    }
    // Which aggregate grain the row belongs to (see `verbund_domain::statistics::GRAINS`).
    t.col(small_integer("grain"));
    key.col("grain");
    for &d in dimensions {
        if d == "programme_partner" || d == "organisation_id" {
            t.col(uuid(d));
        } else {
            t.col(string(d));
        }
        key.col(d);
    }
    t.col(big_integer("count"))
        .col(big_integer("amount"))
        .primary_key(&mut key);
    if snapshot {
        t.foreign_key(
            ForeignKey::create()
                .name("fk_statistic_snapshot_cells_snapshot_id")
                .from(name, "snapshot_id")
                .to("statistic_snapshots", "id")
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
    t.to_owned()
}

fn cells(name: &'static str, snapshot: bool) -> TableCreateStatement {
    cells_keyed(name, snapshot, &DIMENSIONS)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(cells("statistic_cells", false)).await?;
        // The rollups (grains 1 and 2) in their own small table, so that the common
        // dashboards read a few thousand neighbouring rows.
        m.create_table(cells("statistic_rollups", false)).await?;
        m.create_table(
            Table::create()
                .table("statistic_snapshots")
                .col(uuid("id").primary_key())
                .col(date("as_of"))
                .col(string("label"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_statistic_snapshots_as_of")
                .table("statistic_snapshots")
                .col("as_of")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(cells("statistic_snapshot_cells", true))
            .await?;
        // Bumped by every write that changes a cell: readers cache a statistic per version.
        m.create_table(
            Table::create()
                .table("statistic_version")
                .col(integer("id").primary_key())
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table("statistic_version")
                .columns(["id", "version"])
                .values_panic([1.into(), 0i64.into()])
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
