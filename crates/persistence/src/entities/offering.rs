//! Table `offerings`.

use sea_orm::entity::prelude::*;

super::record_entity!("offerings" {
    organisation_id: Uuid,
    title: String,
    description: Option<String>,
    category: String,
    /// Delimited list: `,children,refugees,`.
    target_groups: String,
    /// Delimited list: `,de,ar,`.
    languages: String,
    postcode: Option<String>,
    city: Option<String>,
    capacity: Option<i32>,
    starts_on: Date,
    ends_on: Option<Date>,
    published: bool,
    external_id: Option<String>,
});
