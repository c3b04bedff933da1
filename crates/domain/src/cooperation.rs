//! Cooperations (Kooperationen): a shared goal, a lead organisation that "wears the hat",
//! and partners, each with a role and the resources it commits.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX, Period};
use chrono::NaiveDate;
use uuid::Uuid;

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

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct CooperationInput {
    pub title: String,
    pub goal: String,
    /// The organisation that "wears the hat".
    pub lead_organisation_id: Option<Uuid>,
    pub network_id: Uuid,
    /// `planned`, `active`, `completed` or `dissolved`.
    #[cfg_attr(feature = "api", schema(value_type = CooperationStatus))]
    pub status: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub partners: Vec<PartnerInput>,
}

// What every door shows of a record (`views::Cooperation` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "CooperationFields", visible = false))]
pub struct Cooperation {
    pub title: String,
    pub goal: String,
    /// The organisation that "wears the hat".
    pub lead_organisation_id: Uuid,
    /// The network the cooperation works in (its scope).
    pub network_id: Uuid,
    pub status: CooperationStatus,
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// Shown by `views::Cooperation`, with links to the organisations.
    #[cfg_attr(feature = "api", serde(skip), graphql(skip))]
    pub partners: Vec<Partner>,
}

impl Cooperation {
    pub fn parse(input: CooperationInput) -> Result<Cooperation, ValidationErrors> {
        let mut c = Collector::new();
        let title = c.check("title", values::text(&input.title, NAME_MAX));
        let goal = c.check("goal", values::text(&input.goal, DESCRIPTION_MAX));
        let lead = c.check(
            "leadOrganisationId",
            input.lead_organisation_id.ok_or(Reason::Missing),
        );
        let status = c.check("status", CooperationStatus::parse(&input.status));
        let period = c.check("endsOn", Period::parse(input.starts_on, input.ends_on));
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
        c.finish(|| {
            Some(Cooperation {
                title: title?,
                goal: goal?,
                lead_organisation_id: lead?,
                network_id: input.network_id,
                status: status?,
                period: period?,
                partners,
            })
        })
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
