//! The organisations that may read a change's record although it lives elsewhere (a
//! cooperation's partners, the organisations on a committee and so at its meetings), before
//! and after the change, so that the change feed is scoped exactly like reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChangeReaders {
    Table,
    Seq,
    OrganisationId,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ChangeReaders::Table)
                .col(ColumnDef::new(ChangeReaders::Seq).big_integer().not_null())
                .col(
                    ColumnDef::new(ChangeReaders::OrganisationId)
                        .uuid()
                        .not_null(),
                )
                .col(ColumnDef::new(ChangeReaders::After).boolean().not_null())
                .primary_key(
                    Index::create()
                        .col(ChangeReaders::Seq)
                        .col(ChangeReaders::OrganisationId)
                        .col(ChangeReaders::After),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("change_readers_organisation")
                .table(ChangeReaders::Table)
                .col(ChangeReaders::OrganisationId)
                .col(ChangeReaders::Seq)
                .to_owned(),
        )
        .await
    }
}
