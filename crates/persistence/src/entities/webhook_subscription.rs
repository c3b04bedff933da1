//! Table `webhook_subscriptions` (see `crate::webhooks`).

use sea_orm::entity::prelude::*;

super::record_entity!("webhook_subscriptions" {
    /// The owner's claims: whose scope the subscription follows the feed with.
    subject: String,
    role: String,
    network_id: Option<Uuid>,
    organisation_id: Option<Uuid>,
    url: String,
    /// Kinds of record, comma-separated; empty: all.
    types: String,
    description: Option<String>,
    /// `whsec_…`, as given to the owner once.
    secret: String,
    /// The secret before the last rotation, still signed with until `previous_until`.
    previous_secret: Option<String>,
    previous_until: Option<DateTimeUtc>,
    /// The last change number the subscription has fanned out.
    cursor: i64,
    enabled: bool,
    disabled_reason: Option<String>,
});
