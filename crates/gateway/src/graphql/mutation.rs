//! The mutation root: create, update (with the expected `version`) and delete for every
//! entity, and `transitionMentorship`. Inputs are validated by the domain crate; the access
//! policy applies unchanged through the request's scoped store.

use super::ids;
use super::types::*;
use super::{invalid, scoped};
use crate::error::gql;
use async_graphql::{Context, ID, InputObject, MergedObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use verbund_domain::committee::{CommitteeInput, MeetingInput};
use verbund_domain::contact::ContactInput;
use verbund_domain::cooperation::{CooperationInput, PartnerInput};
use verbund_domain::funding::FundingInput;
use verbund_domain::mentorship::{EndReason, MentorshipInput, MentorshipStatus};
use verbund_domain::network::NetworkInput;
use verbund_domain::offering::OfferingInput;
use verbund_domain::organisation::OrganisationInput;
use verbund_domain::people::{StaffInput, VolunteerInput};
use verbund_persistence::tables::*;

/// Turns a GraphQL input into the domain's raw input (ids decoded).
pub trait IntoDomain {
    type Out;
    fn into_domain(self) -> Result<Self::Out>;
}

#[derive(InputObject)]
#[graphql(name = "NetworkInput")]
pub struct NetworkIn {
    /// `federal`, `state` or `regional`.
    pub level: String,
    pub parent_id: Option<ID>,
    pub name: String,
    /// ISO 3166-2 for states, the district key for regions.
    pub code: Option<String>,
}

impl IntoDomain for NetworkIn {
    type Out = NetworkInput;
    fn into_domain(self) -> Result<NetworkInput> {
        Ok(NetworkInput {
            level: self.level,
            parent_id: ids::uuid_opt(self.parent_id.as_ref(), "Network", "parentId")?,
            name: self.name,
            code: self.code,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "OrganisationInput")]
pub struct OrganisationIn {
    pub kind: String,
    pub sector: String,
    pub network_id: ID,
    pub parent_organisation_id: Option<ID>,
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

impl IntoDomain for OrganisationIn {
    type Out = OrganisationInput;
    fn into_domain(self) -> Result<OrganisationInput> {
        Ok(OrganisationInput {
            kind: self.kind,
            sector: self.sector,
            network_id: ids::uuid(&self.network_id, "Network", "networkId")?,
            parent_organisation_id: ids::uuid_opt(
                self.parent_organisation_id.as_ref(),
                "Organisation",
                "parentOrganisationId",
            )?,
            name: self.name,
            street: self.street,
            postcode: self.postcode,
            city: self.city,
            email: self.email,
            phone: self.phone,
            website: self.website,
            description: self.description,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "ContactInput")]
pub struct ContactIn {
    pub organisation_id: ID,
    pub name: String,
    pub function: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[graphql(default)]
    pub primary: bool,
    #[graphql(default)]
    pub topics: Vec<String>,
    pub external_id: Option<String>,
}

impl IntoDomain for ContactIn {
    type Out = ContactInput;
    fn into_domain(self) -> Result<ContactInput> {
        Ok(ContactInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            name: self.name,
            function: self.function,
            email: self.email,
            phone: self.phone,
            primary: self.primary,
            topics: self.topics,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "OfferingInput")]
pub struct OfferingIn {
    pub organisation_id: ID,
    pub title: String,
    pub description: Option<String>,
    pub category: String,
    pub target_groups: Vec<String>,
    pub languages: Vec<String>,
    /// Networks the offering serves (at least one).
    pub service_area: Vec<ID>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i64>,
    /// Defaults to today.
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    #[graphql(default)]
    pub published: bool,
    pub external_id: Option<String>,
}

impl IntoDomain for OfferingIn {
    type Out = OfferingInput;
    fn into_domain(self) -> Result<OfferingInput> {
        Ok(OfferingInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            title: self.title,
            description: self.description,
            category: self.category,
            target_groups: self.target_groups,
            languages: self.languages,
            service_area: ids::uuids(&self.service_area, "Network", "serviceArea")?,
            postcode: self.postcode,
            city: self.city,
            capacity: self.capacity,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            published: self.published,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "VolunteerInput")]
pub struct VolunteerIn {
    pub organisation_id: ID,
    pub reference: String,
    pub capacity: i64,
    #[graphql(default)]
    pub languages: Vec<String>,
    #[graphql(default = true)]
    pub active: bool,
    pub external_id: Option<String>,
}

impl IntoDomain for VolunteerIn {
    type Out = VolunteerInput;
    fn into_domain(self) -> Result<VolunteerInput> {
        Ok(VolunteerInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            reference: self.reference,
            capacity: self.capacity,
            languages: self.languages,
            active: self.active,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "StaffInput")]
pub struct StaffIn {
    pub organisation_id: ID,
    pub reference: String,
    pub function: Option<String>,
    pub weekly_hours: i64,
    pub external_id: Option<String>,
}

impl IntoDomain for StaffIn {
    type Out = StaffInput;
    fn into_domain(self) -> Result<StaffInput> {
        Ok(StaffInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            reference: self.reference,
            function: self.function,
            weekly_hours: self.weekly_hours,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "MentorshipInput")]
pub struct MentorshipIn {
    pub organisation_id: ID,
    pub offering_id: Option<ID>,
    pub mentor_id: Option<ID>,
    /// Pseudonymous reference (the organisation's key with at least one digit; never a
    /// name). Required until the mentorship has ended.
    pub mentee_ref: Option<String>,
    /// `one_to_one` or `group`.
    pub format: String,
    pub target_group: String,
    /// Defaults to `requested`; other statuses need their dates (imports).
    pub status: Option<String>,
    pub requested_on: Option<NaiveDate>,
    pub matched_on: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub external_id: Option<String>,
}

impl IntoDomain for MentorshipIn {
    type Out = MentorshipInput;
    fn into_domain(self) -> Result<MentorshipInput> {
        Ok(MentorshipInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            offering_id: ids::uuid_opt(self.offering_id.as_ref(), "Offering", "offeringId")?,
            mentor_id: ids::uuid_opt(self.mentor_id.as_ref(), "Volunteer", "mentorId")?,
            mentee_ref: self.mentee_ref,
            format: self.format,
            target_group: self.target_group,
            status: self.status,
            requested_on: self.requested_on,
            matched_on: self.matched_on,
            started_on: self.started_on,
            ended_on: self.ended_on,
            end_reason: self.end_reason,
            external_id: self.external_id,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "PartnerInput")]
pub struct PartnerIn {
    pub organisation_id: ID,
    pub role: String,
    pub resources: Option<String>,
}

#[derive(InputObject)]
#[graphql(name = "CooperationInput")]
pub struct CooperationIn {
    pub title: String,
    pub goal: String,
    /// The organisation that "wears the hat".
    pub lead_organisation_id: Option<ID>,
    pub network_id: ID,
    /// `planned`, `active`, `completed` or `dissolved`.
    pub status: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[graphql(default)]
    pub partners: Vec<PartnerIn>,
}

impl IntoDomain for CooperationIn {
    type Out = CooperationInput;
    fn into_domain(self) -> Result<CooperationInput> {
        Ok(CooperationInput {
            title: self.title,
            goal: self.goal,
            lead_organisation_id: ids::uuid_opt(
                self.lead_organisation_id.as_ref(),
                "Organisation",
                "leadOrganisationId",
            )?,
            network_id: ids::uuid(&self.network_id, "Network", "networkId")?,
            status: self.status,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            partners: self
                .partners
                .into_iter()
                .map(|p| {
                    Ok(PartnerInput {
                        organisation_id: ids::uuid(
                            &p.organisation_id,
                            "Organisation",
                            "partners.organisationId",
                        )?,
                        role: p.role,
                        resources: p.resources,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "CommitteeInput")]
pub struct CommitteeIn {
    pub network_id: ID,
    pub name: String,
    pub purpose: Option<String>,
    #[graphql(default)]
    pub member_organisation_ids: Vec<ID>,
    #[graphql(default)]
    pub member_contact_ids: Vec<ID>,
}

impl IntoDomain for CommitteeIn {
    type Out = CommitteeInput;
    fn into_domain(self) -> Result<CommitteeInput> {
        Ok(CommitteeInput {
            network_id: ids::uuid(&self.network_id, "Network", "networkId")?,
            name: self.name,
            purpose: self.purpose,
            member_organisations: ids::uuids(
                &self.member_organisation_ids,
                "Organisation",
                "memberOrganisationIds",
            )?,
            member_contacts: ids::uuids(&self.member_contact_ids, "Contact", "memberContactIds")?,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "MeetingInput")]
pub struct MeetingIn {
    pub committee_id: ID,
    pub held_on: NaiveDate,
    pub topic: String,
    pub outcome: Option<String>,
}

impl IntoDomain for MeetingIn {
    type Out = MeetingInput;
    fn into_domain(self) -> Result<MeetingInput> {
        Ok(MeetingInput {
            committee_id: ids::uuid(&self.committee_id, "Committee", "committeeId")?,
            held_on: Some(self.held_on),
            topic: self.topic,
            outcome: self.outcome,
        })
    }
}

#[derive(InputObject)]
#[graphql(name = "FundingInput")]
pub struct FundingIn {
    pub organisation_id: ID,
    /// `federal`, `state`, `municipal`, `foundation` or `other`.
    pub funder_kind: String,
    pub funder_name: String,
    pub programme: String,
    /// Euro cents.
    pub amount_cents: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub passed_on_from_id: Option<ID>,
    pub contingent_mentorships: Option<i64>,
    pub external_id: Option<String>,
}

impl IntoDomain for FundingIn {
    type Out = FundingInput;
    fn into_domain(self) -> Result<FundingInput> {
        Ok(FundingInput {
            organisation_id: ids::uuid(&self.organisation_id, "Organisation", "organisationId")?,
            funder_kind: self.funder_kind,
            funder_name: self.funder_name,
            programme: self.programme,
            amount_cents: self.amount_cents,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            passed_on_from_id: ids::uuid_opt(
                self.passed_on_from_id.as_ref(),
                "Funding",
                "passedOnFromId",
            )?,
            contingent_mentorships: self.contingent_mentorships,
            external_id: self.external_id,
        })
    }
}

/// What a delete returns.
#[derive(SimpleObject)]
pub struct Deleted {
    pub id: ID,
}

macro_rules! crud {
    ($name:ident, $table:ty, $input:ty, $wrap:ident, $kind:literal, $create:ident, $update:ident, $delete:ident) => {
        #[derive(Default)]
        pub struct $name;

        #[Object]
        impl $name {
            #[doc = concat!("Creates a ", $kind, ".")]
            async fn $create(&self, ctx: &Context<'_>, input: $input) -> Result<$wrap> {
                let input = input.into_domain()?;
                Ok($wrap(
                    scoped(ctx)?.create::<$table>(input).await.map_err(gql)?,
                ))
            }

            #[doc = concat!("Replaces a ", $kind, "'s fields if its version is still `version`.")]
            async fn $update(
                &self,
                ctx: &Context<'_>,
                id: ID,
                version: i32,
                input: $input,
            ) -> Result<$wrap> {
                let id = ids::uuid(&id, $kind, "id")?;
                let input = input.into_domain()?;
                Ok($wrap(
                    scoped(ctx)?
                        .update::<$table>(id, version, input)
                        .await
                        .map_err(gql)?,
                ))
            }

            #[doc = concat!("Deletes a ", $kind, " if its version is still `version`.")]
            async fn $delete(&self, ctx: &Context<'_>, id: ID, version: i32) -> Result<Deleted> {
                let uuid = ids::uuid(&id, $kind, "id")?;
                scoped(ctx)?
                    .delete::<$table>(uuid, version)
                    .await
                    .map_err(gql)?;
                Ok(Deleted {
                    id: ids::global($kind, uuid),
                })
            }
        }
    };
}

crud!(
    NetworkMutation,
    Networks,
    NetworkIn,
    Network,
    "Network",
    create_network,
    update_network,
    delete_network
);
crud!(
    OrganisationMutation,
    Organisations,
    OrganisationIn,
    Organisation,
    "Organisation",
    create_organisation,
    update_organisation,
    delete_organisation
);
crud!(
    ContactMutation,
    Contacts,
    ContactIn,
    Contact,
    "Contact",
    create_contact,
    update_contact,
    delete_contact
);
crud!(
    OfferingMutation,
    Offerings,
    OfferingIn,
    Offering,
    "Offering",
    create_offering,
    update_offering,
    delete_offering
);
crud!(
    VolunteerMutation,
    Volunteers,
    VolunteerIn,
    Volunteer,
    "Volunteer",
    create_volunteer,
    update_volunteer,
    delete_volunteer
);
crud!(
    StaffMutation,
    StaffMembers,
    StaffIn,
    Staff,
    "Staff",
    create_staff,
    update_staff,
    delete_staff
);
crud!(
    MentorshipMutation,
    Mentorships,
    MentorshipIn,
    Mentorship,
    "Mentorship",
    create_mentorship,
    update_mentorship,
    delete_mentorship
);
crud!(
    CooperationMutation,
    Cooperations,
    CooperationIn,
    Cooperation,
    "Cooperation",
    create_cooperation,
    update_cooperation,
    delete_cooperation
);
crud!(
    CommitteeMutation,
    Committees,
    CommitteeIn,
    Committee,
    "Committee",
    create_committee,
    update_committee,
    delete_committee
);
crud!(
    MeetingMutation,
    Meetings,
    MeetingIn,
    Meeting,
    "Meeting",
    create_meeting,
    update_meeting,
    delete_meeting
);
crud!(
    FundingMutation,
    Fundings,
    FundingIn,
    Funding,
    "Funding",
    create_funding,
    update_funding,
    delete_funding
);

#[derive(Default)]
pub struct TransitionMutation;

#[Object]
impl TransitionMutation {
    /// Moves a mentorship along requested → matched → active ⇄ paused → ended | cancelled.
    /// Any other move is a `VALIDATION` error naming both states. With `version`, the move
    /// only happens if the mentorship is still at that version.
    async fn transition_mentorship(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(desc = "`matched`, `active`, `paused`, `ended` or `cancelled`")] to: String,
        #[graphql(desc = "For `ended`: goal_reached, moved_away, mismatch, overload, other")]
        reason: Option<String>,
        #[graphql(desc = "The day of the move; defaults to today")] on: Option<NaiveDate>,
        version: Option<i32>,
    ) -> Result<Mentorship> {
        let id = ids::uuid(&id, "Mentorship", "id")?;
        let to = MentorshipStatus::parse(&to).map_err(|r| invalid("to", r))?;
        let reason = reason
            .map(|r| EndReason::parse(&r).map_err(|e| invalid("reason", e)))
            .transpose()?;
        let s = scoped(ctx)?;
        let version = match version {
            Some(v) => v,
            None => s.get::<Mentorships>(id).await.map_err(gql)?.version,
        };
        let on = on.unwrap_or_else(|| chrono::Utc::now().date_naive());
        Ok(Mentorship(
            s.transition_mentorship(id, version, to, on, reason)
                .await
                .map_err(gql)?,
        ))
    }
}

/// Erasure on request (Art. 17 GDPR): the person's fields are overwritten in a new
/// version (audit action `erase`), idempotency replays holding the record are dropped;
/// the record, its counts and what points at it stay. Same roles as an update.
#[derive(Default)]
pub struct ErasureMutation;

async fn erase<T: verbund_persistence::rights::Personal>(
    ctx: &Context<'_>,
    id: &ID,
    type_name: &str,
    version: Option<i32>,
) -> Result<verbund_domain::Record<T::Data>> {
    let id = ids::uuid(id, type_name, "id")?;
    let s = scoped(ctx)?;
    let version = match version {
        Some(v) => v,
        None => s.get::<T>(id).await.map_err(gql)?.version,
    };
    s.erase::<T>(id, version).await.map_err(gql)
}

#[Object]
impl ErasureMutation {
    /// Erases a contact person's name, function, e-mail, phone, topics and external id.
    async fn erase_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
    ) -> Result<Contact> {
        Ok(Contact(
            erase::<Contacts>(ctx, &id, "Contact", version).await?,
        ))
    }

    /// Erases a volunteer's reference, languages and external id.
    async fn erase_volunteer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        version: Option<i32>,
    ) -> Result<Volunteer> {
        Ok(Volunteer(
            erase::<Volunteers>(ctx, &id, "Volunteer", version).await?,
        ))
    }

    /// Erases a staff member's reference, function and external id.
    async fn erase_staff(&self, ctx: &Context<'_>, id: ID, version: Option<i32>) -> Result<Staff> {
        Ok(Staff(
            erase::<StaffMembers>(ctx, &id, "Staff", version).await?,
        ))
    }
}

#[derive(MergedObject, Default)]
pub struct Mutation(
    NetworkMutation,
    OrganisationMutation,
    ContactMutation,
    OfferingMutation,
    VolunteerMutation,
    StaffMutation,
    MentorshipMutation,
    TransitionMutation,
    ErasureMutation,
    CooperationMutation,
    CommitteeMutation,
    MeetingMutation,
    FundingMutation,
    super::statistics::SnapshotMutation,
);
