//! Verbund's business, free of I/O: the entities of the mentoring network, the rules that
//! make a value valid, the mentorship status machine and the access policy.
//!
//! Every entity comes in two shapes: an `…Input` with raw values as a caller sends them,
//! and the validated type built from it by `parse`, which cannot hold an invalid value.
//! Both are declared once, as the validated type with a rule per field (`#[record]`, from
//! the `verbund-record` crate). Storage and transport map at their edges; nothing here
//! knows about SQL or HTTP.

pub mod audit;
pub mod change;
pub mod committee;
pub mod contact;
pub mod cooperation;
pub mod error;
pub mod funding;
pub mod insights;
pub mod mentorship;
pub mod network;
pub mod offering;
pub mod organisation;
pub mod people;
pub mod policy;
pub mod record;
pub mod statistics;
pub mod values;
pub mod webhook;

pub use error::{Reason, ValidationError, ValidationErrors};
pub use record::Record;

#[cfg(test)]
mod record_tests {
    //! What `#[record]` writes: one check per field, each refusal under the field's name as
    //! every door spells it (camelCase), all refusals of an input at once.
    use crate::Reason;
    use crate::funding::{Funding, FundingInput};
    use crate::offering::{Offering, OfferingInput};
    use crate::people::{Staff, StaffInput};
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn every_field_rule_names_the_wire_field() {
        let e = Funding::parse(
            FundingInput {
                funder_kind: "lottery".into(),          // word
                funder_name: " ".into(),                // text = NAME_MAX
                programme: "x".repeat(500),             // text = NAME_MAX
                amount_cents: -1,                       // parse = values::cents
                starts_on: day(2025, 6, 1),             // period …
                ends_on: Some(day(2025, 1, 1)),         // … ending before it starts
                contingent_mentorships: Some(-3),       // input = Option<i64>, present
                external_id: Some("with space".into()), // present = values::external_id
                ..Default::default()
            },
            None,
        )
        .unwrap_err();
        for field in [
            "funderKind",
            "funderName",
            "programme",
            "amountCents",
            "endsOn",
            "contingentMentorships",
            "externalId",
        ] {
            assert!(e.has(field), "{field}: {e:?}");
        }
        assert_eq!(e.reason("funderName"), Some(&Reason::Empty));
    }

    #[test]
    fn blank_optional_values_are_absent_and_kept_values_pass_through() {
        let input = OfferingInput {
            title: "Lesepaten".into(),
            category: "education".into(),
            target_groups: vec!["children".into()],
            languages: vec!["de".into()],
            service_area: vec![uuid::Uuid::from_u128(7)],
            postcode: Some("   ".into()),
            city: Some(" ".into()),
            external_id: Some("".into()),
            published: true,
            ..Default::default()
        };
        let o = Offering::parse(input, day(2025, 3, 1)).expect("valid");
        assert_eq!((o.postcode, o.city, o.external_id), (None, None, None));
        assert!(o.published);
        assert_eq!(
            o.period.start,
            day(2025, 3, 1),
            "the start defaults to today"
        );
        assert_eq!(o.service_area, vec![uuid::Uuid::from_u128(7)]);
    }

    #[test]
    fn a_number_out_of_range_is_refused_not_wrapped() {
        let too_big = StaffInput {
            reference: "HA-1".into(),
            weekly_hours: i64::from(i32::MAX) + 1,
            ..Default::default()
        };
        assert!(Staff::parse(too_big).unwrap_err().has("weeklyHours"));
    }
}
