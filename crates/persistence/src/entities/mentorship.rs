//! Table `mentorships`.

use sea_orm::entity::prelude::*;

super::record_entity!("mentorships" {
    organisation_id: Uuid,
    offering_id: Option<Uuid>,
    mentor_id: Option<Uuid>,
    mentee_ref: Option<String>,
    format: String,
    target_group: String,
    status: String,
    requested_on: Date,
    matched_on: Option<Date>,
    started_on: Option<Date>,
    ended_on: Option<Date>,
    end_reason: Option<String>,
    external_id: Option<String>,
});
