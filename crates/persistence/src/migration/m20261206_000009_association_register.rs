//! The association register entry German associations carry (Vereinsregister): the court
//! that keeps the register and the entry's number, e.g. "Amtsgericht Berlin-Charlottenburg",
//! "VR 12345 B". Both optional, both public.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    RegisterCourt,
    RegisterNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [Organisations::RegisterCourt, Organisations::RegisterNumber] {
            m.alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .add_column(ColumnDef::new(column).string().null())
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
