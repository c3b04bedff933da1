//! Verbund's business, free of I/O: the entities of the mentoring network, the rules that
//! make a value valid, the mentorship status machine and the access policy.
//!
//! Every entity comes in two shapes: an `…Input` with raw values as a caller sends them,
//! and the validated type built from it by `parse`, which cannot hold an invalid value.
//! Storage and transport map at their edges; nothing here knows about SQL or HTTP.

pub mod audit;
pub mod change;
pub mod committee;
pub mod contact;
pub mod cooperation;
pub mod error;
pub mod funding;
pub mod mentorship;
pub mod network;
pub mod offering;
pub mod organisation;
pub mod people;
pub mod policy;
pub mod record;
pub mod statistics;
pub mod values;
pub mod webhook;

pub use error::{Reason, ValidationError, ValidationErrors};
pub use record::Record;
