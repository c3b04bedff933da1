//! Table `fundings`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "fundings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub organisation_id: Uuid,
    pub funder_kind: String,
    pub funder_name: String,
    pub programme: String,
    pub amount_cents: i64,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub passed_on_from_id: Option<Uuid>,
    pub contingent_mentorships: Option<i32>,
    pub external_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
