//! Volunteers and paid staff: pseudonymous people records of an organisation. Verbund keeps
//! the organisation's own reference for a person, never a name.

use crate::error::{Collector, ValidationErrors};
use crate::organisation::nonblank;
use crate::values::{self, NAME_MAX};
use uuid::Uuid;

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct VolunteerInput {
    /// The owning organisation; an organisation's token may leave it out (its own).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; never a name.
    pub reference: String,
    /// How many mentorships the volunteer can carry at once, 1 to 10.
    pub capacity: i64,
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub languages: Vec<String>,
    #[serde(default = "crate::values::yes")]
    #[cfg_attr(feature = "api", graphql(default = true))]
    pub active: bool,
    pub external_id: Option<String>,
}

// What every door shows of a record (`views::Volunteer` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "VolunteerFields", visible = false))]
pub struct Volunteer {
    pub organisation_id: Uuid,
    /// The organisation's pseudonymous reference; Verbund keeps no names of volunteers.
    pub reference: String,
    /// How many mentorships the volunteer can carry at once (a guide: the overload
    /// insight shows who carries more).
    pub capacity: i32,
    pub languages: Vec<String>,
    pub active: bool,
    pub external_id: Option<String>,
}

pub const MAX_CAPACITY: i64 = 10;

impl Volunteer {
    pub fn parse(input: VolunteerInput) -> Result<Volunteer, ValidationErrors> {
        let mut c = Collector::new();
        let reference = c.check("reference", values::pseudonym(&input.reference));
        let capacity = c.check("capacity", values::bounded(input.capacity, 1, MAX_CAPACITY));
        let languages = c.check(
            "languages",
            values::distinct_list(&input.languages, values::language),
        );
        let external_id = c.check_opt("externalId", nonblank(input.external_id), |e| {
            values::external_id(&e)
        });
        c.finish(|| {
            Some(Volunteer {
                organisation_id: input.organisation_id,
                reference: reference?,
                capacity: capacity?,
                languages: languages?,
                active: input.active,
                external_id: external_id?,
            })
        })
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct StaffInput {
    /// The owning organisation; an organisation's token may leave it out (its own).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub organisation_id: Uuid,
    pub reference: String,
    pub function: Option<String>,
    /// Paid hours per week, 1 to 60.
    pub weekly_hours: i64,
    pub external_id: Option<String>,
}

// What every door shows of a record (`views::Staff` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "StaffFields", visible = false))]
pub struct Staff {
    pub organisation_id: Uuid,
    pub reference: String,
    pub function: Option<String>,
    /// Paid hours per week.
    pub weekly_hours: i32,
    pub external_id: Option<String>,
}

impl Staff {
    pub fn parse(input: StaffInput) -> Result<Staff, ValidationErrors> {
        let mut c = Collector::new();
        let reference = c.check("reference", values::pseudonym(&input.reference));
        let function = c.check(
            "function",
            values::optional_text(input.function.as_deref(), NAME_MAX),
        );
        let weekly_hours = c.check("weeklyHours", values::bounded(input.weekly_hours, 1, 60));
        let external_id = c.check_opt("externalId", nonblank(input.external_id), |e| {
            values::external_id(&e)
        });
        c.finish(|| {
            Some(Staff {
                organisation_id: input.organisation_id,
                reference: reference?,
                function: function?,
                weekly_hours: weekly_hours?,
                external_id: external_id?,
            })
        })
    }
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
