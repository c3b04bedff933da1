//! Table `cooperations`.

use sea_orm::entity::prelude::*;

super::record_entity!("cooperations" {
    title: String,
    goal: String,
    lead_organisation_id: Uuid,
    network_id: Uuid,
    status: String,
    starts_on: Date,
    ends_on: Option<Date>,
});
