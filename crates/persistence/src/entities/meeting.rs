//! Table `committee_meetings`.

use sea_orm::entity::prelude::*;

super::record_entity!("committee_meetings" {
    committee_id: Uuid,
    held_on: Date,
    topic: String,
    outcome: Option<String>,
});
