//! The REST representations: what a client sends (`…In`, unknown fields refused) and what
//! it gets (`…Out`), mapped to and from the domain at this edge. camelCase, like GraphQL and
//! like the field names in validation errors.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::committee::{Committee, CommitteeInput, Meeting, MeetingInput, Member};
use verbund_domain::contact::{Contact, ContactInput};
use verbund_domain::cooperation::{Cooperation, CooperationInput, PartnerInput};
use verbund_domain::funding::{Funding, FundingInput};
use verbund_domain::mentorship::{Mentorship, MentorshipInput};
use verbund_domain::network::{Network, NetworkInput};
use verbund_domain::offering::{Offering, OfferingInput};
use verbund_domain::organisation::{Organisation, OrganisationInput};
use verbund_domain::people::{Staff, StaffInput, Volunteer, VolunteerInput};

/// Identity and bookkeeping of every record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub id: Uuid,
    /// Send it back in `If-Match` (it is also the `ETag`).
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn meta<T>(r: &Record<T>) -> Meta {
    Meta {
        id: r.id,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

macro_rules! out {
    ($name:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Serialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            #[serde(flatten)]
            pub meta: Meta,
            $(pub $field: $ty,)*
        }
    };
}

out!(NetworkOut { level: String, parent_id: Option<Uuid>, name: String, code: String });
impl From<Record<Network>> for NetworkOut {
    fn from(r: Record<Network>) -> Self {
        let d = &r.data;
        NetworkOut {
            meta: meta(&r),
            level: d.level.as_str().into(),
            parent_id: d.parent_id,
            name: d.name.clone(),
            code: d.code.clone(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkIn {
    /// `federal`, `state` or `regional`.
    pub level: String,
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// ISO 3166-2 for states (`DE-BY`), the district key for regions.
    pub code: Option<String>,
}
impl From<NetworkIn> for NetworkInput {
    fn from(i: NetworkIn) -> Self {
        NetworkInput {
            level: i.level,
            parent_id: i.parent_id,
            name: i.name,
            code: i.code,
        }
    }
}

out!(OrganisationOut {
    kind: String, sector: String, network_id: Uuid, parent_organisation_id: Option<Uuid>, name: String,
    street: Option<String>, postcode: Option<String>, city: Option<String>, email: Option<String>, phone: Option<String>,
    website: Option<String>, description: Option<String>, external_id: Option<String>,
});
impl From<Record<Organisation>> for OrganisationOut {
    fn from(r: Record<Organisation>) -> Self {
        let d = r.data.clone();
        OrganisationOut {
            meta: meta(&r),
            kind: d.kind.as_str().into(),
            sector: d.sector.as_str().into(),
            network_id: d.network_id,
            parent_organisation_id: d.parent_organisation_id,
            name: d.name,
            street: d.street,
            postcode: d.postcode,
            city: d.city,
            email: d.email,
            phone: d.phone,
            website: d.website,
            description: d.description,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrganisationIn {
    /// `programme_partner`, `member`, `coordination_office`, `welcome_centre`, `administration`, `other`.
    pub kind: String,
    /// `civil_society`, `public` or `business`.
    pub sector: String,
    pub network_id: Uuid,
    pub parent_organisation_id: Option<Uuid>,
    pub name: String,
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub external_id: Option<String>,
}
impl From<OrganisationIn> for OrganisationInput {
    fn from(i: OrganisationIn) -> Self {
        OrganisationInput {
            kind: i.kind,
            sector: i.sector,
            network_id: i.network_id,
            parent_organisation_id: i.parent_organisation_id,
            name: i.name,
            street: i.street,
            postcode: i.postcode,
            city: i.city,
            email: i.email,
            phone: i.phone,
            website: i.website,
            description: i.description,
            external_id: i.external_id,
        }
    }
}

out!(ContactOut {
    organisation_id: Uuid, name: String, function: Option<String>, email: Option<String>, phone: Option<String>,
    primary: bool, topics: Vec<String>, external_id: Option<String>,
});
impl From<Record<Contact>> for ContactOut {
    fn from(r: Record<Contact>) -> Self {
        let d = r.data.clone();
        ContactOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            name: d.name,
            function: d.function,
            email: d.email,
            phone: d.phone,
            primary: d.primary,
            topics: d.topics,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactIn {
    pub organisation_id: Uuid,
    pub name: String,
    pub function: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub topics: Vec<String>,
    pub external_id: Option<String>,
}
impl From<ContactIn> for ContactInput {
    fn from(i: ContactIn) -> Self {
        ContactInput {
            organisation_id: i.organisation_id,
            name: i.name,
            function: i.function,
            email: i.email,
            phone: i.phone,
            primary: i.primary,
            topics: i.topics,
            external_id: i.external_id,
        }
    }
}

out!(OfferingOut {
    organisation_id: Uuid, title: String, description: Option<String>, category: String, target_groups: Vec<String>,
    languages: Vec<String>, service_area: Vec<Uuid>, postcode: Option<String>, city: Option<String>, capacity: Option<i32>,
    starts_on: NaiveDate, ends_on: Option<NaiveDate>, published: bool, external_id: Option<String>,
});
impl From<Record<Offering>> for OfferingOut {
    fn from(r: Record<Offering>) -> Self {
        let d = r.data.clone();
        OfferingOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            title: d.title,
            description: d.description,
            category: d.category.as_str().into(),
            target_groups: d
                .target_groups
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            languages: d.languages,
            service_area: d.service_area,
            postcode: d.postcode,
            city: d.city,
            capacity: d.capacity,
            starts_on: d.period.start,
            ends_on: d.period.end,
            published: d.published,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferingIn {
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// `mentorship`, `language`, `counselling`, `education`, `employment`, `leisure`, `other`.
    pub category: String,
    /// `refugees`, `children`, `young_people`, `families`, `older_people`, `women`, `other`.
    pub target_groups: Vec<String>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// Networks served (at least one).
    pub service_area: Vec<Uuid>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i64>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub published: bool,
    pub external_id: Option<String>,
}
impl From<OfferingIn> for OfferingInput {
    fn from(i: OfferingIn) -> Self {
        OfferingInput {
            organisation_id: i.organisation_id,
            title: i.title,
            description: i.description,
            category: i.category,
            target_groups: i.target_groups,
            languages: i.languages,
            service_area: i.service_area,
            postcode: i.postcode,
            city: i.city,
            capacity: i.capacity,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            published: i.published,
            external_id: i.external_id,
        }
    }
}

out!(VolunteerOut { organisation_id: Uuid, reference: String, capacity: i32, languages: Vec<String>, active: bool, external_id: Option<String> });
impl From<Record<Volunteer>> for VolunteerOut {
    fn from(r: Record<Volunteer>) -> Self {
        let d = r.data.clone();
        VolunteerOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            reference: d.reference,
            capacity: d.capacity,
            languages: d.languages,
            active: d.active,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolunteerIn {
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; never a name.
    pub reference: String,
    /// Concurrent mentorships, 1 to 10.
    pub capacity: i64,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
    pub external_id: Option<String>,
}
fn yes() -> bool {
    true
}
impl From<VolunteerIn> for VolunteerInput {
    fn from(i: VolunteerIn) -> Self {
        VolunteerInput {
            organisation_id: i.organisation_id,
            reference: i.reference,
            capacity: i.capacity,
            languages: i.languages,
            active: i.active,
            external_id: i.external_id,
        }
    }
}

out!(StaffOut { organisation_id: Uuid, reference: String, function: Option<String>, weekly_hours: i32, external_id: Option<String> });
impl From<Record<Staff>> for StaffOut {
    fn from(r: Record<Staff>) -> Self {
        let d = r.data.clone();
        StaffOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            reference: d.reference,
            function: d.function,
            weekly_hours: d.weekly_hours,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaffIn {
    pub organisation_id: Uuid,
    pub reference: String,
    pub function: Option<String>,
    /// Paid hours per week, 1 to 60.
    pub weekly_hours: i64,
    pub external_id: Option<String>,
}
impl From<StaffIn> for StaffInput {
    fn from(i: StaffIn) -> Self {
        StaffInput {
            organisation_id: i.organisation_id,
            reference: i.reference,
            function: i.function,
            weekly_hours: i.weekly_hours,
            external_id: i.external_id,
        }
    }
}

out!(MentorshipOut {
    organisation_id: Uuid, offering_id: Option<Uuid>, mentor_id: Option<Uuid>, mentee_ref: Option<String>, format: String,
    target_group: String, status: String, requested_on: NaiveDate, matched_on: Option<NaiveDate>, started_on: Option<NaiveDate>,
    ended_on: Option<NaiveDate>, end_reason: Option<String>, external_id: Option<String>,
});
impl From<Record<Mentorship>> for MentorshipOut {
    fn from(r: Record<Mentorship>) -> Self {
        let d = r.data.clone();
        MentorshipOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            offering_id: d.offering_id,
            mentor_id: d.mentor_id,
            mentee_ref: d.mentee_ref,
            format: d.format.as_str().into(),
            target_group: d.target_group.as_str().into(),
            status: d.status.as_str().into(),
            requested_on: d.requested_on,
            matched_on: d.matched_on,
            started_on: d.started_on,
            ended_on: d.ended_on,
            end_reason: d.end_reason.map(|e| e.as_str().to_owned()),
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MentorshipIn {
    pub organisation_id: Uuid,
    pub offering_id: Option<Uuid>,
    pub mentor_id: Option<Uuid>,
    /// Pseudonymous reference for the mentee (the organisation's key with at least one
    /// digit; never a name). Required until the mentorship has ended; dropped after the
    /// retention period.
    #[serde(default)]
    pub mentee_ref: Option<String>,
    /// `one_to_one` or `group`.
    pub format: String,
    pub target_group: String,
    /// Default `requested`; other statuses need their dates (imports).
    pub status: Option<String>,
    pub requested_on: Option<NaiveDate>,
    pub matched_on: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub external_id: Option<String>,
}
impl From<MentorshipIn> for MentorshipInput {
    fn from(i: MentorshipIn) -> Self {
        MentorshipInput {
            organisation_id: i.organisation_id,
            offering_id: i.offering_id,
            mentor_id: i.mentor_id,
            mentee_ref: i.mentee_ref,
            format: i.format,
            target_group: i.target_group,
            status: i.status,
            requested_on: i.requested_on,
            matched_on: i.matched_on,
            started_on: i.started_on,
            ended_on: i.ended_on,
            end_reason: i.end_reason,
            external_id: i.external_id,
        }
    }
}

/// A move of a mentorship's status.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransitionIn {
    /// `matched`, `active`, `paused`, `ended` or `cancelled`.
    pub to: String,
    /// For `ended`: `goal_reached`, `moved_away`, `mismatch`, `overload`, `other`.
    pub reason: Option<String>,
    /// Day of the move; defaults to today.
    pub on: Option<NaiveDate>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerDto {
    pub organisation_id: Uuid,
    pub role: String,
    pub resources: Option<String>,
}

out!(CooperationOut {
    title: String, goal: String, lead_organisation_id: Uuid, network_id: Uuid, status: String, starts_on: NaiveDate,
    ends_on: Option<NaiveDate>, partners: Vec<PartnerDto>,
});
impl From<Record<Cooperation>> for CooperationOut {
    fn from(r: Record<Cooperation>) -> Self {
        let d = r.data.clone();
        CooperationOut {
            meta: meta(&r),
            title: d.title,
            goal: d.goal,
            lead_organisation_id: d.lead_organisation_id,
            network_id: d.network_id,
            status: d.status.as_str().into(),
            starts_on: d.period.start,
            ends_on: d.period.end,
            partners: d
                .partners
                .into_iter()
                .map(|p| PartnerDto {
                    organisation_id: p.organisation_id,
                    role: p.role,
                    resources: p.resources,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CooperationIn {
    pub title: String,
    pub goal: String,
    /// The organisation that "wears the hat".
    pub lead_organisation_id: Option<Uuid>,
    pub network_id: Uuid,
    /// `planned`, `active`, `completed` or `dissolved`.
    pub status: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    pub partners: Vec<PartnerDto>,
}
impl From<CooperationIn> for CooperationInput {
    fn from(i: CooperationIn) -> Self {
        CooperationInput {
            title: i.title,
            goal: i.goal,
            lead_organisation_id: i.lead_organisation_id,
            network_id: i.network_id,
            status: i.status,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            partners: i
                .partners
                .into_iter()
                .map(|p| PartnerInput {
                    organisation_id: p.organisation_id,
                    role: p.role,
                    resources: p.resources,
                })
                .collect(),
        }
    }
}

out!(CommitteeOut { network_id: Uuid, name: String, purpose: Option<String>, member_organisation_ids: Vec<Uuid>, member_contact_ids: Vec<Uuid> });
impl From<Record<Committee>> for CommitteeOut {
    fn from(r: Record<Committee>) -> Self {
        let d = r.data.clone();
        CommitteeOut {
            meta: meta(&r),
            network_id: d.network_id,
            name: d.name,
            purpose: d.purpose,
            member_organisation_ids: d
                .members
                .iter()
                .filter_map(|m| {
                    if let Member::Organisation(o) = m {
                        Some(*o)
                    } else {
                        None
                    }
                })
                .collect(),
            member_contact_ids: d
                .members
                .iter()
                .filter_map(|m| {
                    if let Member::Contact(c) = m {
                        Some(*c)
                    } else {
                        None
                    }
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitteeIn {
    pub network_id: Uuid,
    pub name: String,
    pub purpose: Option<String>,
    #[serde(default)]
    pub member_organisation_ids: Vec<Uuid>,
    #[serde(default)]
    pub member_contact_ids: Vec<Uuid>,
}
impl From<CommitteeIn> for CommitteeInput {
    fn from(i: CommitteeIn) -> Self {
        CommitteeInput {
            network_id: i.network_id,
            name: i.name,
            purpose: i.purpose,
            member_organisations: i.member_organisation_ids,
            member_contacts: i.member_contact_ids,
        }
    }
}

out!(MeetingOut { committee_id: Uuid, held_on: NaiveDate, topic: String, outcome: Option<String> });
impl From<Record<Meeting>> for MeetingOut {
    fn from(r: Record<Meeting>) -> Self {
        let d = r.data.clone();
        MeetingOut {
            meta: meta(&r),
            committee_id: d.committee_id,
            held_on: d.held_on,
            topic: d.topic,
            outcome: d.outcome,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MeetingIn {
    pub committee_id: Uuid,
    pub held_on: NaiveDate,
    pub topic: String,
    pub outcome: Option<String>,
}
impl From<MeetingIn> for MeetingInput {
    fn from(i: MeetingIn) -> Self {
        MeetingInput {
            committee_id: i.committee_id,
            held_on: Some(i.held_on),
            topic: i.topic,
            outcome: i.outcome,
        }
    }
}

out!(FundingOut {
    organisation_id: Uuid, funder_kind: String, funder_name: String, programme: String, amount_cents: i64,
    starts_on: NaiveDate, ends_on: Option<NaiveDate>, passed_on_from_id: Option<Uuid>, contingent_mentorships: Option<i32>,
    external_id: Option<String>,
});
impl From<Record<Funding>> for FundingOut {
    fn from(r: Record<Funding>) -> Self {
        let d = r.data.clone();
        FundingOut {
            meta: meta(&r),
            organisation_id: d.organisation_id,
            funder_kind: d.funder_kind.as_str().into(),
            funder_name: d.funder_name,
            programme: d.programme,
            amount_cents: d.amount_cents,
            starts_on: d.period.start,
            ends_on: d.period.end,
            passed_on_from_id: d.passed_on_from_id,
            contingent_mentorships: d.contingent_mentorships,
            external_id: d.external_id,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FundingIn {
    pub organisation_id: Uuid,
    /// `federal`, `state`, `municipal`, `foundation` or `other`.
    pub funder_kind: String,
    pub funder_name: String,
    pub programme: String,
    /// Euro cents, not negative.
    pub amount_cents: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub passed_on_from_id: Option<Uuid>,
    pub contingent_mentorships: Option<i64>,
    pub external_id: Option<String>,
}
impl From<FundingIn> for FundingInput {
    fn from(i: FundingIn) -> Self {
        FundingInput {
            organisation_id: i.organisation_id,
            funder_kind: i.funder_kind,
            funder_name: i.funder_name,
            programme: i.programme,
            amount_cents: i.amount_cents,
            starts_on: i.starts_on,
            ends_on: i.ends_on,
            passed_on_from_id: i.passed_on_from_id,
            contingent_mentorships: i.contingent_mentorships,
            external_id: i.external_id,
        }
    }
}

/// Everything Verbund holds about one person's record (Art. 15 GDPR).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalDataOut {
    /// `contact`, `volunteer` or `staff`.
    pub entity: String,
    /// The record as `GET` returns it.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    /// The fields an erasure overwrites.
    pub erasable: Vec<String>,
    /// Who changed which fields when (field names only, never values), newest first.
    pub audit_events: Vec<AuditEventOut>,
    /// Records that point at this one (a volunteer's mentorships, a contact's committees).
    pub referenced_by: Vec<ReferenceOut>,
    /// Stored replays of earlier responses (idempotency keys, 24 hours) that hold it.
    pub idempotency_replays: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventOut {
    pub id: Uuid,
    /// `create`, `update`, `delete`, `transition`, `erase` or `retention`.
    pub action: String,
    pub fields: Vec<String>,
    pub actor: String,
    pub role: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceOut {
    pub entity: String,
    pub id: Uuid,
}
