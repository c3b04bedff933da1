//! Idempotency keys of REST POSTs: the first response to a key, replayed for 24 hours.
//! Kept in the database so that every replica replays the same answer.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("idempotency_keys")
                .col(string("subject"))
                .col(string("key"))
                .col(string("route"))
                .col(string("request_hash"))
                .col(integer("status"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("subject").col("key"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_created_at")
                .table("idempotency_keys")
                .col("created_at")
                .to_owned(),
        )
        .await
    }
}
