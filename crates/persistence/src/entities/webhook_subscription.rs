//! Table `webhook_subscriptions` (see `crate::webhooks`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The owner's claims: whose scope the subscription follows the feed with.
    pub subject: String,
    pub role: String,
    pub network_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub url: String,
    /// Kinds of record, comma-separated; empty: all.
    pub types: String,
    pub description: Option<String>,
    /// `whsec_…`, as given to the owner once.
    pub secret: String,
    /// The secret before the last rotation, still signed with until `previous_until`.
    pub previous_secret: Option<String>,
    pub previous_until: Option<DateTimeUtc>,
    /// The last change number the subscription has fanned out.
    pub cursor: i64,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
