//! Offerings (Angebote): what an organisation offers, where, for whom, in which languages.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::organisation::nonblank;
use crate::string_enum;
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX, Period};
use chrono::NaiveDate;
use uuid::Uuid;

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

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct OfferingInput {
    /// The owning organisation; an organisation's token may leave it out (its own).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    /// `mentorship`, `language`, `counselling`, `education`, `employment`, `leisure` or `other`.
    #[cfg_attr(feature = "api", schema(value_type = Category))]
    pub category: String,
    /// Each `refugees`, `children`, `young_people`, `families`, `older_people`, `women` or `other`.
    #[cfg_attr(feature = "api", schema(value_type = Vec<TargetGroup>))]
    pub target_groups: Vec<String>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// The networks served (at least one).
    pub service_area: Vec<Uuid>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i64>,
    /// Defaults to today.
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    /// Shown in the public directory.
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub published: bool,
    pub external_id: Option<String>,
}

// What every door shows of a record (`views::Offering` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "OfferingFields", visible = false))]
pub struct Offering {
    pub organisation_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub category: Category,
    pub target_groups: Vec<TargetGroup>,
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// The UUIDs of the networks (usually regions) the offering serves; at least one
    /// (GraphQL: `serviceAreaIds`; `serviceArea` there gives the networks).
    #[cfg_attr(feature = "api", graphql(name = "serviceAreaIds"))]
    pub service_area: Vec<Uuid>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub capacity: Option<i32>,
    #[cfg_attr(feature = "api", serde(flatten), graphql(flatten), schema(inline))]
    pub period: Period,
    /// Shown in the public directory.
    pub published: bool,
    pub external_id: Option<String>,
}

impl Offering {
    /// Validates the input; an offering without a start date starts on `today`.
    pub fn parse(input: OfferingInput, today: NaiveDate) -> Result<Offering, ValidationErrors> {
        let mut c = Collector::new();
        let title = c.check("title", values::text(&input.title, NAME_MAX));
        let description = c.check(
            "description",
            values::optional_text(input.description.as_deref(), DESCRIPTION_MAX),
        );
        let category = c.check("category", Category::parse(&input.category));
        let target_groups = c.check(
            "targetGroups",
            values::distinct_list(&input.target_groups, TargetGroup::parse).and_then(non_empty),
        );
        let languages = c.check(
            "languages",
            values::distinct_list(&input.languages, values::language).and_then(non_empty),
        );
        let service_area = c.check("serviceArea", distinct_ids(&input.service_area));
        let postcode = c.check_opt("postcode", nonblank(input.postcode), |p| {
            values::postcode(&p)
        });
        let city = c.check(
            "city",
            values::optional_text(input.city.as_deref(), NAME_MAX),
        );
        let capacity = c.check_opt("capacity", input.capacity, |n| {
            values::bounded(n, 1, 100_000)
        });
        let period = c.check(
            "endsOn",
            Period::parse(input.starts_on.unwrap_or(today), input.ends_on),
        );
        let external_id = c.check_opt("externalId", nonblank(input.external_id), |e| {
            values::external_id(&e)
        });
        c.finish(|| {
            Some(Offering {
                organisation_id: input.organisation_id,
                title: title?,
                description: description?,
                category: category?,
                target_groups: target_groups?,
                languages: languages?,
                service_area: service_area?,
                postcode: postcode?,
                city: city?,
                capacity: capacity?,
                period: period?,
                published: input.published,
                external_id: external_id?,
            })
        })
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
