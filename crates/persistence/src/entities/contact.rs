//! Table `contacts`.

use sea_orm::entity::prelude::*;

super::record_entity!("contacts" {
    organisation_id: Uuid,
    name: String,
    function: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    #[sea_orm(column_name = "is_primary")]
    primary: bool,
    /// Delimited list: `,a,b,`.
    topics: String,
    external_id: Option<String>,
});
