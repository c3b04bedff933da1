//! Table `staff`.

use sea_orm::entity::prelude::*;

super::record_entity!("staff" {
    organisation_id: Uuid,
    reference: String,
    function: Option<String>,
    weekly_hours: i32,
    external_id: Option<String>,
});
