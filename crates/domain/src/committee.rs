//! Committees (Gremien) of a network: members (organisations or contact persons) and
//! meetings with their outcomes.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::values::{DESCRIPTION_MAX, NAME_MAX};
use chrono::NaiveDate;
use uuid::Uuid;
use verbund_record::record;

/// A committee member: an organisation, or a contact person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    Organisation(Uuid),
    Contact(Uuid),
}

// What every door shows of a committee (`views::Committee` adds the bookkeeping).
#[record(input = CommitteeInput)]
pub struct Committee {
    pub network_id: Uuid,
    #[record(text = NAME_MAX)]
    pub name: String,
    #[record(text = DESCRIPTION_MAX)]
    pub purpose: Option<String>,
    #[record(input_only, default)]
    #[input(serde(rename = "memberOrganisationIds"))]
    #[input(cfg_attr(feature = "api", graphql(name = "memberOrganisationIds")))]
    pub member_organisations: Vec<Uuid>,
    #[record(input_only, default)]
    #[input(serde(rename = "memberContactIds"))]
    #[input(cfg_attr(feature = "api", graphql(name = "memberContactIds")))]
    pub member_contacts: Vec<Uuid>,
    /// Shown by `views::Committee` as `memberOrganisationIds` and `memberContactIds`.
    #[record(derived)]
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
        let mut parts = Self::parse_fields(&input, &mut c);
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
        parts.members = Some(members);
        c.finish(|| parts.build())
    }
}

// What every door shows of a meeting (`views::Meeting` adds the bookkeeping).
#[record(input = MeetingInput, parse)]
pub struct Meeting {
    pub committee_id: Uuid,
    /// The day it was held (required).
    #[record(input = Option<NaiveDate>, parse = held_on.ok_or(Reason::Missing))]
    pub held_on: NaiveDate,
    #[record(text = NAME_MAX)]
    pub topic: String,
    #[record(text = DESCRIPTION_MAX)]
    pub outcome: Option<String>,
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
