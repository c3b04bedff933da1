//! Verbund's data sets, kept apart from the storage they fill: [`demo`], the small,
//! plausible network a newcomer and the tests start from, and [`large`], the whole
//! programme over ten years for benchmarks. Both build every record through the domain's
//! `parse`, so they hold only what the API would accept; the demo goes through the
//! per-record write path ([`verbund_persistence::WriteBatch`]), the large set through the
//! bulk loader ([`verbund_persistence::BulkLoad`]).

pub mod demo;
pub mod large;

pub use demo::{SeedReport, seed_demo};
pub use large::{Scale, seed_large};
