//! What a reader gets of each record: one type per resource, used as it is by both doors —
//! the REST response and its OpenAPI schema (serde, utoipa) and the GraphQL object (its
//! plain fields; the links to other records as objects are added in `graphql::types`).
//! What a writer sends is the domain's input type (e.g. `ContactInput`), likewise shared.
//!
//! A field named `…Id` holds a record's UUID in every door (REST, GraphQL, CSV); in GraphQL
//! `id` is the opaque global id of `node(id:)` and `uuid` the record's UUID.

use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::committee::{Committee as CommitteeData, Meeting as MeetingData, Member};
use verbund_domain::contact::Contact as ContactData;
use verbund_domain::cooperation::{Cooperation as CooperationData, CooperationStatus};
use verbund_domain::funding::{FunderKind, Funding as FundingData};
use verbund_domain::mentorship::{
    EndReason, Mentorship as MentorshipData, MentorshipFormat, MentorshipStatus,
};
use verbund_domain::network::{Network as NetworkData, NetworkLevel};
use verbund_domain::offering::{Category, Offering as OfferingData, TargetGroup};
use verbund_domain::organisation::{Organisation as OrganisationData, OrganisationKind, Sector};
use verbund_domain::people::{Staff as StaffData, Volunteer as VolunteerData};

/// Identity and bookkeeping of every record.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(visible = false)]
pub struct Meta {
    /// The record's UUID (in GraphQL `uuid`; `id` there is the opaque global id).
    #[graphql(name = "uuid")]
    pub id: Uuid,
    /// Optimistic concurrency: send it back in `If-Match` (it is also the `ETag`), or with
    /// a GraphQL update or delete.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<T> From<&Record<T>> for Meta {
    fn from(r: &Record<T>) -> Self {
        Meta {
            id: r.id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A network: the federal root, a state or a region.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Network {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub level: NetworkLevel,
    /// The network above; none for the federal root.
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// ISO 3166-2 for states (`DE-BY`), the official district key for regions, `DE` for
    /// the federal root.
    pub code: String,
}

impl From<Record<NetworkData>> for Network {
    fn from(r: Record<NetworkData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Network {
            meta,
            level: d.level,
            parent_id: d.parent_id,
            name: d.name,
            code: d.code,
        }
    }
}

/// An organisation: a programme partner, a member organisation, an office.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Organisation {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub kind: OrganisationKind,
    pub sector: Sector,
    /// The network the organisation is at home in.
    pub network_id: Uuid,
    /// A member organisation's programme partner.
    pub parent_organisation_id: Option<Uuid>,
    pub name: String,
    /// Not shown in the public directory.
    pub street: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    /// Not shown in the public directory.
    pub email: Option<String>,
    /// Not shown in the public directory.
    pub phone: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    /// The organisation's own key, unique within its parent organisation.
    pub external_id: Option<String>,
    /// The court keeping the association register (public, like the register).
    pub register_court: Option<String>,
    /// The association register entry, e.g. `VR 12345 B`.
    pub register_number: Option<String>,
}

impl From<Record<OrganisationData>> for Organisation {
    fn from(r: Record<OrganisationData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Organisation {
            meta,
            kind: d.kind,
            sector: d.sector,
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
            register_court: d.register_court,
            register_number: d.register_number,
        }
    }
}

/// A contact person of an organisation.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Contact {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    pub name: String,
    pub function: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The organisation's one primary contact.
    pub primary: bool,
    pub topics: Vec<String>,
    pub external_id: Option<String>,
}

impl From<Record<ContactData>> for Contact {
    fn from(r: Record<ContactData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Contact {
            meta,
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

/// An offering in the directory.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Offering {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub category: Category,
    pub target_groups: Vec<TargetGroup>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// The UUIDs of the networks served (GraphQL: `serviceAreaIds`; `serviceArea` there
    /// gives the networks).
    #[graphql(name = "serviceAreaIds")]
    pub service_area: Vec<Uuid>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i32>,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// Shown in the public directory.
    pub published: bool,
    pub external_id: Option<String>,
}

impl From<Record<OfferingData>> for Offering {
    fn from(r: Record<OfferingData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Offering {
            meta,
            organisation_id: d.organisation_id,
            title: d.title,
            description: d.description,
            category: d.category,
            target_groups: d.target_groups,
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

/// A volunteer, by the organisation's pseudonymous reference.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Volunteer {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; Verbund keeps no names of volunteers.
    pub reference: String,
    /// How many mentorships the volunteer can carry at once (a guide: the overload
    /// insight shows who carries more).
    pub capacity: i32,
    pub languages: Vec<String>,
    pub active: bool,
    pub external_id: Option<String>,
}

impl From<Record<VolunteerData>> for Volunteer {
    fn from(r: Record<VolunteerData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Volunteer {
            meta,
            organisation_id: d.organisation_id,
            reference: d.reference,
            capacity: d.capacity,
            languages: d.languages,
            active: d.active,
            external_id: d.external_id,
        }
    }
}

/// A paid staff member, by the organisation's pseudonymous reference.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Staff {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    pub reference: String,
    pub function: Option<String>,
    /// Paid hours per week.
    pub weekly_hours: i32,
    pub external_id: Option<String>,
}

impl From<Record<StaffData>> for Staff {
    fn from(r: Record<StaffData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Staff {
            meta,
            organisation_id: d.organisation_id,
            reference: d.reference,
            function: d.function,
            weekly_hours: d.weekly_hours,
            external_id: d.external_id,
        }
    }
}

/// A mentorship (tandem) between a volunteer and a mentee.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Mentorship {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    pub offering_id: Option<Uuid>,
    /// The volunteer mentoring; required once matched.
    pub mentor_id: Option<Uuid>,
    /// The organisation's pseudonymous reference for the mentee.
    pub mentee_ref: Option<String>,
    pub format: MentorshipFormat,
    pub target_group: TargetGroup,
    pub status: MentorshipStatus,
    pub requested_on: NaiveDate,
    pub matched_on: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<EndReason>,
    pub external_id: Option<String>,
}

impl From<Record<MentorshipData>> for Mentorship {
    fn from(r: Record<MentorshipData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Mentorship {
            meta,
            organisation_id: d.organisation_id,
            offering_id: d.offering_id,
            mentor_id: d.mentor_id,
            mentee_ref: d.mentee_ref,
            format: d.format,
            target_group: d.target_group,
            status: d.status,
            requested_on: d.requested_on,
            matched_on: d.matched_on,
            started_on: d.started_on,
            ended_on: d.ended_on,
            end_reason: d.end_reason,
            external_id: d.external_id,
        }
    }
}

/// An organisation taking part in a cooperation.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Partner {
    pub organisation_id: Uuid,
    pub role: String,
    pub resources: Option<String>,
}

/// A cooperation of organisations in a network.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Cooperation {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub title: String,
    pub goal: String,
    /// The organisation that "wears the hat".
    pub lead_organisation_id: Uuid,
    pub network_id: Uuid,
    pub status: CooperationStatus,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub partners: Vec<Partner>,
}

impl From<Record<CooperationData>> for Cooperation {
    fn from(r: Record<CooperationData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Cooperation {
            meta,
            title: d.title,
            goal: d.goal,
            lead_organisation_id: d.lead_organisation_id,
            network_id: d.network_id,
            status: d.status,
            starts_on: d.period.start,
            ends_on: d.period.end,
            partners: d
                .partners
                .into_iter()
                .map(|p| Partner {
                    organisation_id: p.organisation_id,
                    role: p.role,
                    resources: p.resources,
                })
                .collect(),
        }
    }
}

/// A committee (Gremium) of a network.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Committee {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub network_id: Uuid,
    pub name: String,
    pub purpose: Option<String>,
    pub member_organisation_ids: Vec<Uuid>,
    pub member_contact_ids: Vec<Uuid>,
}

impl From<Record<CommitteeData>> for Committee {
    fn from(r: Record<CommitteeData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        let (mut organisations, mut contacts) = (Vec::new(), Vec::new());
        for m in d.members {
            match m {
                Member::Organisation(o) => organisations.push(o),
                Member::Contact(c) => contacts.push(c),
            }
        }
        Committee {
            meta,
            network_id: d.network_id,
            name: d.name,
            purpose: d.purpose,
            member_organisation_ids: organisations,
            member_contact_ids: contacts,
        }
    }
}

/// A meeting of a committee.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Meeting {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub committee_id: Uuid,
    pub held_on: NaiveDate,
    pub topic: String,
    pub outcome: Option<String>,
}

impl From<Record<MeetingData>> for Meeting {
    fn from(r: Record<MeetingData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Meeting {
            meta,
            committee_id: d.committee_id,
            held_on: d.held_on,
            topic: d.topic,
            outcome: d.outcome,
        }
    }
}

/// Money granted to an organisation.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Funding {
    #[serde(flatten)]
    #[graphql(flatten)]
    pub meta: Meta,
    pub organisation_id: Uuid,
    pub funder_kind: FunderKind,
    pub funder_name: String,
    pub programme: String,
    /// Euro cents.
    pub amount_cents: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// The grant this funding passes on from (a programme partner's contingent).
    pub passed_on_from_id: Option<Uuid>,
    /// For a contingent: the mentorships promised for the amount.
    pub contingent_mentorships: Option<i32>,
    pub external_id: Option<String>,
}

impl From<Record<FundingData>> for Funding {
    fn from(r: Record<FundingData>) -> Self {
        let meta = Meta::from(&r);
        let d = r.data;
        Funding {
            meta,
            organisation_id: d.organisation_id,
            funder_kind: d.funder_kind,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The words a door shows for an enum: OpenAPI's, GraphQL's and serde's are the domain's.
    fn same_words<T>(words: &[&str])
    where
        T: utoipa::PartialSchema + async_graphql::EnumType + Serialize + Copy + 'static,
    {
        let schema = serde_json::to_value(T::schema()).expect("schema");
        let openapi: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(|w| w.as_str())
            .collect();
        assert_eq!(openapi, words, "OpenAPI");
        let graphql: Vec<&str> = T::items().iter().map(|i| i.name).collect();
        assert_eq!(graphql, words, "GraphQL");
        let serde: Vec<String> = T::items()
            .iter()
            .map(|i| {
                serde_json::to_value(i.value)
                    .expect("word")
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(serde, words, "JSON");
    }

    #[test]
    fn enums_have_the_domains_words_in_every_door() {
        same_words::<NetworkLevel>(NetworkLevel::WORDS);
        same_words::<OrganisationKind>(OrganisationKind::WORDS);
        same_words::<Sector>(Sector::WORDS);
        same_words::<Category>(Category::WORDS);
        same_words::<TargetGroup>(TargetGroup::WORDS);
        same_words::<MentorshipFormat>(MentorshipFormat::WORDS);
        same_words::<MentorshipStatus>(MentorshipStatus::WORDS);
        same_words::<EndReason>(EndReason::WORDS);
        same_words::<CooperationStatus>(CooperationStatus::WORDS);
        same_words::<FunderKind>(FunderKind::WORDS);
    }
}
