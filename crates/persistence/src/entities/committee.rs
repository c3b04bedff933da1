//! Table `committees`.

use sea_orm::entity::prelude::*;

super::record_entity!("committees" {
    network_id: Uuid,
    name: String,
    purpose: Option<String>,
});
