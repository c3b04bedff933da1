//! The change feed's outbox: one row per change of a record, written in the transaction
//! of the change (the store's one write path), numbered in commit order (`seq`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Changes {
    Table,
    Seq,
    At,
    Entity,
    EntityId,
    Action,
    Version,
    NetworkPath,
    OrganisationId,
    Public,
    PrevNetworkPath,
    PrevOrganisationId,
    PrevPublic,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Changes::Table)
                .col(
                    ColumnDef::new(Changes::Seq)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Changes::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Changes::Entity).string().not_null())
                .col(ColumnDef::new(Changes::EntityId).uuid().not_null())
                .col(ColumnDef::new(Changes::Action).string().not_null())
                .col(ColumnDef::new(Changes::Version).integer().not_null())
                .col(ColumnDef::new(Changes::NetworkPath).string().not_null())
                .col(ColumnDef::new(Changes::OrganisationId).uuid().null())
                .col(ColumnDef::new(Changes::Public).boolean().not_null())
                .col(ColumnDef::new(Changes::PrevNetworkPath).string().null())
                .col(ColumnDef::new(Changes::PrevOrganisationId).uuid().null())
                .col(ColumnDef::new(Changes::PrevPublic).boolean().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("changes_at")
                .table(Changes::Table)
                .col(Changes::At)
                .to_owned(),
        )
        .await
    }
}
