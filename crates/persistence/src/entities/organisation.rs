//! Table `organisations`.

use sea_orm::entity::prelude::*;

super::record_entity!("organisations" {
    kind: String,
    sector: String,
    network_id: Uuid,
    /// Copy of the home network's path, so subtree reads need no join.
    network_path: String,
    parent_organisation_id: Option<Uuid>,
    name: String,
    street: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    website: Option<String>,
    description: Option<String>,
    external_id: Option<String>,
    register_court: Option<String>,
    register_number: Option<String>,
});
