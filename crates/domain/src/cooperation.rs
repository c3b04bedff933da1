//! Cooperations (Kooperationen): a shared goal, a lead organisation that "wears the hat",
//! and partners, each with a role and the resources it commits.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX, Period};
use uuid::Uuid;
use verbund_record::record;

string_enum!(CooperationStatus {
    Planned => "planned",
    Active => "active",
    Completed => "completed",
    Dissolved => "dissolved",
});

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct PartnerInput {
    pub organisation_id: Uuid,
    pub role: String,
    pub resources: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub organisation_id: Uuid,
    pub role: String,
    pub resources: Option<String>,
}

// What every door shows of a cooperation (`views::Cooperation` adds the bookkeeping).
#[record(input = CooperationInput)]
pub struct Cooperation {
    #[record(text = NAME_MAX)]
    pub title: String,
    #[record(text = DESCRIPTION_MAX)]
    pub goal: String,
    /// The organisation that "wears the hat".
    #[record(input = Option<Uuid>, parse = lead_organisation_id.ok_or(Reason::Missing))]
    pub lead_organisation_id: Uuid,
    /// The network the cooperation works in (its scope).
    pub network_id: Uuid,
    /// `planned`, `active`, `completed` or `dissolved`.
    #[record(word)]
    pub status: CooperationStatus,
    #[record(period)]
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// The partners besides the lead, each with its role and the resources it commits
    /// (`views::Cooperation` shows them with links to the organisations).
    #[record(input = Vec<PartnerInput>, default, custom)]
    #[cfg_attr(feature = "api", serde(skip), graphql(skip))]
    pub partners: Vec<Partner>,
}

impl Cooperation {
    pub fn parse(input: CooperationInput) -> Result<Cooperation, ValidationErrors> {
        let mut c = Collector::new();
        let mut parts = Self::parse_fields(&input, &mut c);
        let lead = parts.lead_organisation_id;
        let mut partners = Vec::with_capacity(input.partners.len());
        for (i, p) in input.partners.into_iter().enumerate() {
            let field = |f: &str| format!("partners[{i}].{f}");
            if Some(p.organisation_id) == lead {
                c.push(
                    &field("organisationId"),
                    Reason::Rule("the lead is not also a partner"),
                );
            } else if partners
                .iter()
                .any(|q: &Partner| q.organisation_id == p.organisation_id)
            {
                c.push(&field("organisationId"), Reason::Duplicate);
            }
            let role = c.check(&field("role"), values::text(&p.role, NAME_MAX));
            let resources = c.check(
                &field("resources"),
                values::optional_text(p.resources.as_deref(), 1000),
            );
            if let (Some(role), Some(resources)) = (role, resources) {
                partners.push(Partner {
                    organisation_id: p.organisation_id,
                    role,
                    resources,
                });
            }
        }
        parts.partners = Some(partners);
        c.finish(|| parts.build())
    }

    /// Every organisation taking part, the lead first.
    pub fn organisation_ids(&self) -> Vec<Uuid> {
        std::iter::once(self.lead_organisation_id)
            .chain(self.partners.iter().map(|p| p.organisation_id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn valid() -> CooperationInput {
        CooperationInput {
            title: "Bündnis Patenschaften Leipzig".into(),
            goal: "Gemeinsame Vermittlung von Tandems".into(),
            lead_organisation_id: Some(Uuid::from_u128(1)),
            network_id: Uuid::nil(),
            status: "active".into(),
            starts_on: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            ends_on: None,
            partners: vec![PartnerInput {
                organisation_id: Uuid::from_u128(2),
                role: "Sprachkurse".into(),
                resources: Some("2 Räume, 5 Std./Woche".into()),
            }],
        }
    }

    #[test]
    fn valid_cooperation() {
        let c = Cooperation::parse(valid()).expect("valid");
        assert_eq!(
            c.organisation_ids(),
            vec![Uuid::from_u128(1), Uuid::from_u128(2)]
        );
    }

    #[test]
    fn without_a_lead() {
        let mut i = valid();
        i.lead_organisation_id = None;
        assert_eq!(
            Cooperation::parse(i)
                .unwrap_err()
                .reason("leadOrganisationId"),
            Some(&Reason::Missing)
        );
    }

    #[test]
    fn lead_as_partner_duplicate_partner_and_empty_role() {
        let mut i = valid();
        i.partners.push(PartnerInput {
            organisation_id: Uuid::from_u128(1),
            role: "x".into(),
            resources: None,
        });
        i.partners.push(PartnerInput {
            organisation_id: Uuid::from_u128(2),
            role: " ".into(),
            resources: None,
        });
        let e = Cooperation::parse(i).unwrap_err();
        assert!(e.has("partners[1].organisationId"));
        assert_eq!(
            e.reason("partners[2].organisationId"),
            Some(&Reason::Duplicate)
        );
        assert_eq!(e.reason("partners[2].role"), Some(&Reason::Empty));
    }

    #[test]
    fn end_before_start() {
        let mut i = valid();
        i.ends_on = NaiveDate::from_ymd_opt(2023, 1, 1);
        assert_eq!(
            Cooperation::parse(i).unwrap_err().reason("endsOn"),
            Some(&Reason::EndBeforeStart)
        );
    }
}
