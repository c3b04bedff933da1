//! Table `offerings`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "offerings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub category: String,
    /// Delimited list: `,children,refugees,`.
    pub target_groups: String,
    /// Delimited list: `,de,ar,`.
    pub languages: String,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i32>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub published: bool,
    pub external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
