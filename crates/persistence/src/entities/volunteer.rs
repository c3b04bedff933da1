//! Table `volunteers`.

use sea_orm::entity::prelude::*;

super::record_entity!("volunteers" {
    organisation_id: Uuid,
    reference: String,
    capacity: i32,
    languages: String,
    active: bool,
    external_id: Option<String>,
});
