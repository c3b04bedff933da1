//! sea-orm entities, one module per table. They are storage shapes only: the API never
//! derives its types from them, and the domain never sees them.

/// A table of records: the bookkeeping columns every record has (`id`, `version`,
/// `created_at`, `updated_at`), then the table's own columns, no relations (the scopes are
/// SQL conditions, see `tables`).
macro_rules! record_entity {
    ($table:literal { $($(#[$m:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub version: i32,
            pub created_at: DateTimeUtc,
            pub updated_at: DateTimeUtc,
            $($(#[$m])* pub $field: $ty,)*
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub(crate) use record_entity;

pub mod audit_event;
pub mod change;
pub mod change_reader;
pub mod committee;
pub mod committee_member;
pub mod contact;
pub mod cooperation;
pub mod cooperation_partner;
pub mod funding;
pub mod idempotency_key;
pub mod meeting;
pub mod mentorship;
pub mod network;
pub mod offering;
pub mod offering_service_area;
pub mod organisation;
pub mod setting;
pub mod staff;
pub mod volunteer;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_subscription;
