//! Indexes for the public offering search (category and postcode prefix, as a range).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_offerings_category_postcode")
                .table("offerings")
                .col("category")
                .col("postcode")
                .to_owned(),
        )
        .await
    }
}
