//! sea-orm entities, one module per table. They are storage shapes only: the API never
//! derives its types from them, and the domain never sees them.

pub mod audit_event;
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
