//! Table `networks`.

use sea_orm::entity::prelude::*;

super::record_entity!("networks" {
    level: String,
    parent_id: Option<Uuid>,
    name: String,
    code: String,
    /// Materialised path: the simple ids from the root down to this network.
    path: String,
});
