//! Binds an idempotency key to the caller that reserved it (role and scope beside the
//! subject), so that a replay is never handed to another caller with the same `sub`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("idempotency_keys")
                .add_column(ColumnDef::new("caller").string().not_null().default(""))
                .to_owned(),
        )
        .await
    }
}
