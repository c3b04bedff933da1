//! Table `fundings`.

use sea_orm::entity::prelude::*;

super::record_entity!("fundings" {
    organisation_id: Uuid,
    funder_kind: String,
    funder_name: String,
    programme: String,
    amount_cents: i64,
    starts_on: Date,
    ends_on: Option<Date>,
    passed_on_from_id: Option<Uuid>,
    contingent_mentorships: Option<i32>,
    external_id: Option<String>,
});
