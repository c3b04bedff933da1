//! Committees (Gremien) of a network: members (organisations or contact persons) and
//! meetings with their outcomes.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX};
use chrono::NaiveDate;
use uuid::Uuid;

/// A committee member: an organisation, or a contact person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Organisation(Uuid),
    Contact(Uuid),
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct CommitteeInput {
    pub network_id: Uuid,
    pub name: String,
    pub purpose: Option<String>,
    #[serde(default, rename = "memberOrganisationIds")]
    #[cfg_attr(feature = "api", graphql(default, name = "memberOrganisationIds"))]
    pub member_organisations: Vec<Uuid>,
    #[serde(default, rename = "memberContactIds")]
    #[cfg_attr(feature = "api", graphql(default, name = "memberContactIds"))]
    pub member_contacts: Vec<Uuid>,
}

// What every door shows of a record (`views::Committee` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "CommitteeFields", visible = false))]
pub struct Committee {
    pub network_id: Uuid,
    pub name: String,
    pub purpose: Option<String>,
    /// Shown by `views::Committee` as `memberOrganisationIds` and `memberContactIds`.
    #[cfg_attr(feature = "api", serde(skip), graphql(skip))]
    pub members: Vec<Member>,
}

impl Committee {
    /// The committee once `member` is deleted (a committee may have no members).
    pub fn without(&self, member: Member) -> Committee {
        Committee {
            members: self
                .members
                .iter()
                .copied()
                .filter(|m| *m != member)
                .collect(),
            ..self.clone()
        }
    }

    pub fn parse(input: CommitteeInput) -> Result<Committee, ValidationErrors> {
        let mut c = Collector::new();
        let name = c.check("name", values::text(&input.name, NAME_MAX));
        let purpose = c.check(
            "purpose",
            values::optional_text(input.purpose.as_deref(), DESCRIPTION_MAX),
        );
        let mut members = Vec::new();
        for (field, ids, make) in [
            (
                "memberOrganisations",
                &input.member_organisations,
                Member::Organisation as fn(Uuid) -> Member,
            ),
            ("memberContacts", &input.member_contacts, Member::Contact),
        ] {
            for id in ids {
                let m = make(*id);
                if members.contains(&m) {
                    c.push(field, Reason::Duplicate);
                } else {
                    members.push(m);
                }
            }
        }
        c.finish(|| {
            Some(Committee {
                network_id: input.network_id,
                name: name?,
                purpose: purpose?,
                members,
            })
        })
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct MeetingInput {
    pub committee_id: Uuid,
    /// Required.
    pub held_on: Option<NaiveDate>,
    pub topic: String,
    pub outcome: Option<String>,
}

// What every door shows of a record (`views::Meeting` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "MeetingFields", visible = false))]
pub struct Meeting {
    pub committee_id: Uuid,
    pub held_on: NaiveDate,
    pub topic: String,
    pub outcome: Option<String>,
}

impl Meeting {
    pub fn parse(input: MeetingInput) -> Result<Meeting, ValidationErrors> {
        let mut c = Collector::new();
        let held_on = c.check("heldOn", input.held_on.ok_or(Reason::Missing));
        let topic = c.check("topic", values::text(&input.topic, NAME_MAX));
        let outcome = c.check(
            "outcome",
            values::optional_text(input.outcome.as_deref(), DESCRIPTION_MAX),
        );
        c.finish(|| {
            Some(Meeting {
                committee_id: input.committee_id,
                held_on: held_on?,
                topic: topic?,
                outcome: outcome?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committee_rules() {
        let ok = CommitteeInput {
            name: "Runder Tisch Patenschaften".into(),
            member_organisations: vec![Uuid::from_u128(1)],
            member_contacts: vec![Uuid::from_u128(1)],
            ..Default::default()
        };
        // The same id as organisation and as contact are two different members.
        assert_eq!(
            Committee::parse(ok.clone()).expect("valid").members.len(),
            2
        );
        let mut dup = ok;
        dup.member_organisations.push(Uuid::from_u128(1));
        dup.name = String::new();
        let e = Committee::parse(dup).unwrap_err();
        assert_eq!(e.reason("memberOrganisations"), Some(&Reason::Duplicate));
        assert_eq!(e.reason("name"), Some(&Reason::Empty));
    }

    #[test]
    fn meeting_rules() {
        let e = Meeting::parse(MeetingInput {
            topic: "".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.reason("heldOn"), Some(&Reason::Missing));
        assert_eq!(e.reason("topic"), Some(&Reason::Empty));
    }
}
