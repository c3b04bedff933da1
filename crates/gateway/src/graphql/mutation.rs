//! The mutation root: create, update (with the expected `version`) and delete for every
//! entity, and `transitionMentorship`. Inputs are validated by the domain crate; the access
//! policy applies unchanged through the request's scoped store.

use super::ids;
use super::page::{invalid, scoped};
use super::types::*;
use crate::error::gql;
use async_graphql::{Context, ID, MergedObject, Object, Result, SimpleObject};
use chrono::NaiveDate;
use verbund_domain::committee::{CommitteeInput, MeetingInput};
use verbund_domain::contact::ContactInput;
use verbund_domain::cooperation::CooperationInput;
use verbund_domain::funding::FundingInput;
use verbund_domain::mentorship::{EndReason, MentorshipInput, MentorshipStatus};
use verbund_domain::network::NetworkInput;
use verbund_domain::offering::OfferingInput;
use verbund_domain::organisation::OrganisationInput;
use verbund_domain::people::{StaffInput, VolunteerInput};
use verbund_persistence::tables::*;

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
                Ok($wrap::from(
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
                Ok($wrap::from(
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
    NetworkInput,
    Network,
    "Network",
    create_network,
    update_network,
    delete_network
);
crud!(
    OrganisationMutation,
    Organisations,
    OrganisationInput,
    Organisation,
    "Organisation",
    create_organisation,
    update_organisation,
    delete_organisation
);
crud!(
    ContactMutation,
    Contacts,
    ContactInput,
    Contact,
    "Contact",
    create_contact,
    update_contact,
    delete_contact
);
crud!(
    OfferingMutation,
    Offerings,
    OfferingInput,
    Offering,
    "Offering",
    create_offering,
    update_offering,
    delete_offering
);
crud!(
    VolunteerMutation,
    Volunteers,
    VolunteerInput,
    Volunteer,
    "Volunteer",
    create_volunteer,
    update_volunteer,
    delete_volunteer
);
crud!(
    StaffMutation,
    StaffMembers,
    StaffInput,
    Staff,
    "Staff",
    create_staff,
    update_staff,
    delete_staff
);
crud!(
    MentorshipMutation,
    Mentorships,
    MentorshipInput,
    Mentorship,
    "Mentorship",
    create_mentorship,
    update_mentorship,
    delete_mentorship
);
crud!(
    CooperationMutation,
    Cooperations,
    CooperationInput,
    Cooperation,
    "Cooperation",
    create_cooperation,
    update_cooperation,
    delete_cooperation
);
crud!(
    CommitteeMutation,
    Committees,
    CommitteeInput,
    Committee,
    "Committee",
    create_committee,
    update_committee,
    delete_committee
);
crud!(
    MeetingMutation,
    Meetings,
    MeetingInput,
    Meeting,
    "Meeting",
    create_meeting,
    update_meeting,
    delete_meeting
);
crud!(
    FundingMutation,
    Fundings,
    FundingInput,
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
        Ok(Mentorship::from(
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
        Ok(Contact::from(
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
        Ok(Volunteer::from(
            erase::<Volunteers>(ctx, &id, "Volunteer", version).await?,
        ))
    }

    /// Erases a staff member's reference, function and external id.
    async fn erase_staff(&self, ctx: &Context<'_>, id: ID, version: Option<i32>) -> Result<Staff> {
        Ok(Staff::from(
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
    super::webhooks::WebhookMutation,
);
