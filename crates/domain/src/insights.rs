//! What the insights answer (computed by the storage's queries, served by both doors):
//! parallel structures and overload.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

/// Two published offerings of different organisations serving the same region with the
/// same category, a shared target group and overlapping periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "api", derive(utoipa::ToSchema), schema(as = OverlapOut))]
#[serde(rename_all = "camelCase")]
pub struct Overlap {
    pub offering_a: Uuid,
    pub offering_b: Uuid,
    pub organisation_a: Uuid,
    pub organisation_b: Uuid,
    pub region: Uuid,
    pub category: String,
    pub target_groups: Vec<String>,
    /// The overlap of the two periods (`until` open when both are open-ended).
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// A volunteer with more current mentorships than capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "api", derive(utoipa::ToSchema), schema(as = OverloadedVolunteerOut))]
#[serde(rename_all = "camelCase")]
pub struct OverloadedVolunteer {
    pub volunteer: Uuid,
    pub organisation: Uuid,
    pub capacity: i64,
    /// Matched, active and paused mentorships.
    pub current: i64,
}

/// An organisation with more active mentorships per paid coordinator than configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "api", derive(utoipa::ToSchema), schema(as = OverloadedOrganisationOut))]
#[serde(rename_all = "camelCase")]
pub struct OverloadedOrganisation {
    pub organisation: Uuid,
    pub active_mentorships: i64,
    pub coordinators: i64,
}
