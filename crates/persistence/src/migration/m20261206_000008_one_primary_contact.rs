//! One primary contact per organisation, as a rule of the database (a partial unique index),
//! so that no door and no race between two writers can make a second one. Databases from
//! before the rule keep their earliest primary contact of each organisation as the primary;
//! later ones become ordinary contacts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index's name, which the storage's error mapping recognises.
pub const INDEX: &str = "contacts_one_primary";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE contacts SET is_primary = false WHERE is_primary AND EXISTS ( \
               SELECT 1 FROM contacts c WHERE c.organisation_id = contacts.organisation_id \
               AND c.is_primary AND (c.created_at < contacts.created_at \
               OR (c.created_at = contacts.created_at AND c.id < contacts.id)))",
        )
        .await?;
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {INDEX} ON contacts (organisation_id) WHERE is_primary"
        ))
        .await?;
        Ok(())
    }
}
