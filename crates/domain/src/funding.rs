//! Funding (Förderung): who funds an organisation, with how much, for which period, and the
//! grant it passes on from — the ministry funds a programme partner, which passes
//! contingents on to its member organisations.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::organisation::nonblank;
use crate::string_enum;
use crate::values::{self, NAME_MAX, Period};
use chrono::NaiveDate;
use uuid::Uuid;

string_enum!(FunderKind {
    Federal => "federal",
    State => "state",
    Municipal => "municipal",
    Foundation => "foundation",
    Other => "other",
});

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct FundingInput {
    /// The owning organisation; an organisation's token may leave it out (its own).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub organisation_id: Uuid,
    /// `federal`, `state`, `municipal`, `foundation` or `other`.
    #[cfg_attr(feature = "api", schema(value_type = FunderKind))]
    pub funder_kind: String,
    pub funder_name: String,
    pub programme: String,
    /// Euro cents, not negative.
    pub amount_cents: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    /// The funding this amount was passed on from (a chain of grants).
    pub passed_on_from_id: Option<Uuid>,
    /// For a contingent: the number of mentorships promised for the amount.
    pub contingent_mentorships: Option<i64>,
    pub external_id: Option<String>,
}

// What every door shows of a record (`views::Funding` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "FundingFields", visible = false))]
pub struct Funding {
    pub organisation_id: Uuid,
    pub funder_kind: FunderKind,
    pub funder_name: String,
    pub programme: String,
    /// Euro cents.
    pub amount_cents: i64,
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// The grant this funding passes on from (a programme partner's contingent).
    pub passed_on_from_id: Option<Uuid>,
    /// For a contingent: the mentorships promised for the amount.
    pub contingent_mentorships: Option<i32>,
    pub external_id: Option<String>,
}

/// What the domain needs to know about the grant a funding passes on from.
#[derive(Debug, Clone, Copy)]
pub struct SourceGrant {
    pub organisation_id: Uuid,
    pub amount_cents: i64,
    pub period: Period,
}

impl Funding {
    /// Validates the input. `source` is the stored grant named by `passed_on_from_id`
    /// (`None` if there is none or it does not exist).
    pub fn parse(
        input: FundingInput,
        source: Option<SourceGrant>,
    ) -> Result<Funding, ValidationErrors> {
        let mut c = Collector::new();
        let funder_kind = c.check("funderKind", FunderKind::parse(&input.funder_kind));
        let funder_name = c.check("funderName", values::text(&input.funder_name, NAME_MAX));
        let programme = c.check("programme", values::text(&input.programme, NAME_MAX));
        let amount = c.check("amountCents", values::cents(input.amount_cents));
        let period = c.check("endsOn", Period::parse(input.starts_on, input.ends_on));
        let contingent = c.check_opt("contingentMentorships", input.contingent_mentorships, |n| {
            values::bounded(n, 0, 1_000_000)
        });
        let external_id = c.check_opt("externalId", nonblank(input.external_id), |e| {
            values::external_id(&e)
        });
        if input.passed_on_from_id.is_some() {
            match source {
                None => c.push(
                    "passedOnFromId",
                    Reason::Rule("does not exist or is not visible to you"),
                ),
                Some(s) if s.organisation_id == input.organisation_id => c.push(
                    "passedOnFromId",
                    Reason::Rule("a grant cannot be passed on to the same organisation"),
                ),
                Some(s) => {
                    if amount.is_some_and(|a| a > s.amount_cents) {
                        c.push(
                            "amountCents",
                            Reason::Rule("exceeds the grant it is passed on from"),
                        );
                    }
                    if let Some(p) = period {
                        let within = p.start >= s.period.start
                            && match (p.end, s.period.end) {
                                (_, None) => true,
                                (Some(e), Some(se)) => e <= se,
                                (None, Some(_)) => false,
                            };
                        if !within {
                            c.push(
                                "endsOn",
                                Reason::Rule(
                                    "must lie within the period of the grant it is passed on from",
                                ),
                            );
                        }
                    }
                }
            }
        }
        c.finish(|| {
            Some(Funding {
                organisation_id: input.organisation_id,
                funder_kind: funder_kind?,
                funder_name: funder_name?,
                programme: programme?,
                amount_cents: amount?,
                period: period?,
                passed_on_from_id: input.passed_on_from_id,
                contingent_mentorships: contingent?,
                external_id: external_id?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn valid() -> FundingInput {
        FundingInput {
            organisation_id: Uuid::from_u128(2),
            funder_kind: "federal".into(),
            funder_name: "Bundesministerium".into(),
            programme: "Menschen stärken Menschen".into(),
            amount_cents: 1_000_000,
            starts_on: day(2024, 1, 1),
            ends_on: Some(day(2024, 12, 31)),
            ..Default::default()
        }
    }

    #[test]
    fn negative_amount_and_end_before_start() {
        let mut i = valid();
        i.amount_cents = -1;
        i.ends_on = Some(day(2023, 12, 31));
        let e = Funding::parse(i, None).unwrap_err();
        assert_eq!(e.reason("amountCents"), Some(&Reason::Negative));
        assert_eq!(e.reason("endsOn"), Some(&Reason::EndBeforeStart));
    }

    #[test]
    fn passing_on_rules() {
        let source = SourceGrant {
            organisation_id: Uuid::from_u128(1),
            amount_cents: 5_000_000,
            period: Period::parse(day(2024, 1, 1), Some(day(2024, 12, 31))).expect("p"),
        };
        let mut i = valid();
        i.passed_on_from_id = Some(Uuid::from_u128(9));
        assert!(Funding::parse(i.clone(), Some(source)).is_ok());
        assert!(
            Funding::parse(i.clone(), None)
                .unwrap_err()
                .has("passedOnFromId")
        );
        let mut more = i.clone();
        more.amount_cents = 6_000_000;
        assert!(
            Funding::parse(more, Some(source))
                .unwrap_err()
                .has("amountCents")
        );
        let mut longer = i.clone();
        longer.ends_on = Some(day(2025, 6, 30));
        assert!(
            Funding::parse(longer, Some(source))
                .unwrap_err()
                .has("endsOn")
        );
        let mut same = i;
        same.organisation_id = Uuid::from_u128(1);
        assert!(
            Funding::parse(same, Some(source))
                .unwrap_err()
                .has("passedOnFromId")
        );
    }
}
