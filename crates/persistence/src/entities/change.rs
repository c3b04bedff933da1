//! Table `changes`: the change feed's outbox (see `crate::changes`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "changes")]
pub struct Model {
    /// Commit order: numbers are taken under a lock held until the transaction commits.
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub entity: String,
    pub entity_id: Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// The record's version after the change (for a deletion, the last one).
    pub version: i32,
    /// Where the record lives after the change, so that the feed is scoped like the record.
    pub network_path: String,
    pub organisation_id: Option<Uuid>,
    /// Whether the record is in the public directory after the change.
    pub public: bool,
    /// Where it lived before, when an update moved it (or changed `public`).
    pub prev_network_path: Option<String>,
    pub prev_organisation_id: Option<Uuid>,
    pub prev_public: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
