//! Migrations, named `mYYYYMMDD_NNNNNN_verb_noun`, run by `verbund migrate` and on start.

use sea_orm_migration::prelude::*;

mod m20261126_000001_create_core_tables;
mod m20261126_000002_create_settings;
mod m20261126_000003_create_idempotency_keys;
pub(crate) mod m20261126_000004_create_statistics;
mod m20261126_000005_create_search_indexes;
mod m20261201_000006_bind_idempotency_keys;
mod m20261202_000007_owner_in_statistic_cells;
pub(crate) mod m20261206_000008_one_primary_contact;
mod m20261206_000009_association_register;
mod m20261206_000010_change_feed;
mod m20261207_000011_webhooks;
mod m20261207_000012_change_readers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_core_tables::Migration),
            Box::new(m20261126_000002_create_settings::Migration),
            Box::new(m20261126_000003_create_idempotency_keys::Migration),
            Box::new(m20261126_000004_create_statistics::Migration),
            Box::new(m20261126_000005_create_search_indexes::Migration),
            Box::new(m20261201_000006_bind_idempotency_keys::Migration),
            Box::new(m20261202_000007_owner_in_statistic_cells::Migration),
            Box::new(m20261206_000008_one_primary_contact::Migration),
            Box::new(m20261206_000009_association_register::Migration),
            Box::new(m20261206_000010_change_feed::Migration),
            Box::new(m20261207_000011_webhooks::Migration),
            Box::new(m20261207_000012_change_readers::Migration),
        ]
    }
}
