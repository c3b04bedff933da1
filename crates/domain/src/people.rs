//! Volunteers and paid staff: pseudonymous people records of an organisation. Verbund keeps
//! the organisation's own reference for a person, never a name.

use crate::values::{self, NAME_MAX};
use uuid::Uuid;
use verbund_record::record;

// What every door shows of a volunteer (`views::Volunteer` adds the bookkeeping).
#[record(input = VolunteerInput, parse)]
pub struct Volunteer {
    #[record(owner)]
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; Verbund keeps no names of volunteers.
    #[record(parse = values::pseudonym)]
    pub reference: String,
    /// How many mentorships the volunteer can carry at once, 1 to 10 (a guide: the overload
    /// insight shows who carries more).
    #[record(input = i64, parse = values::bounded(*capacity, 1, MAX_CAPACITY))]
    pub capacity: i32,
    #[record(default, parse = values::distinct_list(languages, values::language))]
    pub languages: Vec<String>,
    #[input(serde(default = "crate::values::yes"))]
    #[input(cfg_attr(feature = "api", graphql(default = true)))]
    pub active: bool,
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
}

pub const MAX_CAPACITY: i64 = 10;

// What every door shows of a staff member (`views::Staff` adds the bookkeeping).
#[record(input = StaffInput, parse)]
pub struct Staff {
    #[record(owner)]
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; never a name.
    #[record(parse = values::pseudonym)]
    pub reference: String,
    #[record(text = NAME_MAX)]
    pub function: Option<String>,
    /// Paid hours per week, 1 to 60.
    #[record(input = i64, parse = values::bounded(*weekly_hours, 1, 60))]
    pub weekly_hours: i32,
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reason;

    #[test]
    fn volunteer_rules() {
        let ok = VolunteerInput {
            reference: "EA-0042".into(),
            capacity: 2,
            languages: vec!["de".into()],
            active: true,
            ..Default::default()
        };
        assert!(Volunteer::parse(ok.clone()).is_ok());
        let mut bad = ok.clone();
        bad.capacity = 0;
        bad.reference = String::new();
        let e = Volunteer::parse(bad).unwrap_err();
        assert_eq!(
            e.reason("capacity"),
            Some(&Reason::OutOfRange {
                min: 1,
                max: MAX_CAPACITY
            })
        );
        assert_eq!(e.reason("reference"), Some(&Reason::Empty));
        let mut neg = ok;
        neg.capacity = -1;
        assert_eq!(
            Volunteer::parse(neg).unwrap_err().reason("capacity"),
            Some(&Reason::Negative)
        );
    }

    #[test]
    fn staff_rules() {
        let ok = StaffInput {
            reference: "HA-7".into(),
            weekly_hours: 20,
            ..Default::default()
        };
        assert!(Staff::parse(ok.clone()).is_ok());
        let mut bad = ok;
        bad.weekly_hours = 80;
        assert!(Staff::parse(bad).unwrap_err().has("weeklyHours"));
    }
}
