//! Funding (Förderung): who funds an organisation, with how much, for which period, and the
//! grant it passes on from — the ministry funds a programme partner, which passes
//! contingents on to its member organisations.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, NAME_MAX, Period};
use uuid::Uuid;
use verbund_record::record;

string_enum!(FunderKind {
    Federal => "federal",
    State => "state",
    Municipal => "municipal",
    Foundation => "foundation",
    Other => "other",
});

// What every door shows of a funding (`views::Funding` adds the bookkeeping).
#[record(input = FundingInput)]
pub struct Funding {
    #[record(owner)]
    pub organisation_id: Uuid,
    /// `federal`, `state`, `municipal`, `foundation` or `other`.
    #[record(word)]
    pub funder_kind: FunderKind,
    #[record(text = NAME_MAX)]
    pub funder_name: String,
    #[record(text = NAME_MAX)]
    pub programme: String,
    /// Euro cents, not negative.
    #[record(parse = values::cents(*amount_cents))]
    pub amount_cents: i64,
    #[record(period)]
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// The grant this funding passes on from (a programme partner's contingent; a chain of
    /// grants).
    pub passed_on_from_id: Option<Uuid>,
    /// For a contingent: the number of mentorships promised for the amount.
    #[record(input = Option<i64>, present = values::bounded(contingent_mentorships, 0, 1_000_000))]
    pub contingent_mentorships: Option<i32>,
    #[record(present = values::external_id)]
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
        let parts = Self::parse_fields(&input, &mut c);
        let (amount, period) = (parts.amount_cents, parts.period);
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
        c.finish(|| parts.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

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
