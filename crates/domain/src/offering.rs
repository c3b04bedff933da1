//! Offerings (Angebote): what an organisation offers, where, for whom, in which languages.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX, Period};
use chrono::NaiveDate;
use uuid::Uuid;
use verbund_record::record;

string_enum!(Category {
    Mentorship => "mentorship",
    Language => "language",
    Counselling => "counselling",
    Education => "education",
    Employment => "employment",
    Leisure => "leisure",
    Other => "other",
});

string_enum!(
    /// Who an offering or mentorship is for.
    TargetGroup {
        Refugees => "refugees",
        Children => "children",
        YoungPeople => "young_people",
        Families => "families",
        OlderPeople => "older_people",
        Women => "women",
        Other => "other",
    }
);

// What every door shows of an offering (`views::Offering` adds the bookkeeping).
#[record(input = OfferingInput)]
pub struct Offering {
    #[record(owner)]
    pub organisation_id: Uuid,
    #[record(text = NAME_MAX)]
    pub title: String,
    #[record(text = DESCRIPTION_MAX)]
    pub description: Option<String>,
    /// `mentorship`, `language`, `counselling`, `education`, `employment`, `leisure` or `other`.
    #[record(word)]
    pub category: Category,
    /// Each `refugees`, `children`, `young_people`, `families`, `older_people`, `women` or `other`.
    #[record(
        input = Vec<String>,
        parse = values::distinct_list(target_groups, TargetGroup::parse).and_then(non_empty)
    )]
    #[input(cfg_attr(feature = "api", schema(value_type = Vec<TargetGroup>)))]
    pub target_groups: Vec<TargetGroup>,
    /// ISO 639-1 codes.
    #[record(parse = values::distinct_list(languages, values::language).and_then(non_empty))]
    pub languages: Vec<String>,
    /// The UUIDs of the networks (usually regions) the offering serves; at least one
    /// (GraphQL: `serviceAreaIds`; `serviceArea` there gives the networks).
    #[record(parse = distinct_ids)]
    #[input(doc = " The networks served (at least one).")]
    #[cfg_attr(feature = "api", graphql(name = "serviceAreaIds"))]
    pub service_area: Vec<Uuid>,
    #[record(present = values::postcode)]
    pub postcode: Option<String>,
    #[record(text = NAME_MAX)]
    pub city: Option<String>,
    #[record(input = Option<i64>, present = values::bounded(capacity, 1, 100_000))]
    pub capacity: Option<i32>,
    /// Defaults to today.
    #[record(input_only)]
    pub starts_on: Option<NaiveDate>,
    #[record(input_only)]
    pub ends_on: Option<NaiveDate>,
    #[record(derived)]
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// Shown in the public directory.
    #[record(default)]
    pub published: bool,
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
}

impl Offering {
    /// Validates the input; an offering without a start date starts on `today`.
    pub fn parse(input: OfferingInput, today: NaiveDate) -> Result<Offering, ValidationErrors> {
        let mut c = Collector::new();
        let mut parts = Self::parse_fields(&input, &mut c);
        parts.period = c.check(
            "endsOn",
            Period::parse(input.starts_on.unwrap_or(today), input.ends_on),
        );
        c.finish(|| parts.build())
    }

    /// The networks any of `offerings` serves, each once, in order (to load them at once).
    pub fn service_areas<'a>(offerings: impl IntoIterator<Item = &'a Offering>) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = offerings
            .into_iter()
            .flat_map(|o| o.service_area.iter().copied())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

fn non_empty<T>(v: Vec<T>) -> Result<Vec<T>, Reason> {
    if v.is_empty() {
        Err(Reason::Empty)
    } else {
        Ok(v)
    }
}

pub(crate) fn distinct_ids(ids: &[Uuid]) -> Result<Vec<Uuid>, Reason> {
    let mut out: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in ids {
        if out.contains(id) {
            return Err(Reason::Duplicate);
        }
        out.push(*id);
    }
    non_empty(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn valid() -> OfferingInput {
        OfferingInput {
            organisation_id: Uuid::nil(),
            title: "Lesepatenschaften".into(),
            category: "mentorship".into(),
            target_groups: vec!["children".into()],
            languages: vec!["de".into(), "ar".into()],
            service_area: vec![Uuid::nil()],
            postcode: Some("04109".into()),
            capacity: Some(20),
            starts_on: Some(day("2024-01-01")),
            ..Default::default()
        }
    }

    #[test]
    fn valid_offering_and_default_start() {
        let mut i = valid();
        i.starts_on = None;
        let o = Offering::parse(i, day("2025-03-01")).expect("valid");
        assert_eq!(o.period.start, day("2025-03-01"));
        assert_eq!(o.target_groups, vec![TargetGroup::Children]);
    }

    #[test]
    fn each_rule_names_its_field() {
        let mut i = valid();
        i.category = "sports".into();
        i.target_groups = vec![];
        i.languages = vec!["deutsch".into()];
        i.service_area = vec![];
        i.capacity = Some(-3);
        i.ends_on = Some(day("2023-12-31"));
        let e = Offering::parse(i, day("2025-01-01")).unwrap_err();
        for f in [
            "category",
            "targetGroups",
            "languages",
            "serviceArea",
            "capacity",
            "endsOn",
        ] {
            assert!(e.has(f), "{f} in {e}");
        }
        assert_eq!(e.reason("endsOn"), Some(&Reason::EndBeforeStart));
        assert_eq!(e.reason("capacity"), Some(&Reason::Negative));
    }

    #[test]
    fn duplicate_service_area() {
        let mut i = valid();
        i.service_area = vec![Uuid::nil(), Uuid::nil()];
        assert_eq!(
            Offering::parse(i, day("2025-01-01"))
                .unwrap_err()
                .reason("serviceArea"),
            Some(&Reason::Duplicate)
        );
    }
}
