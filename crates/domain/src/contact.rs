//! Contact persons (Ansprechpartner) of an organisation. Personal data: erasable on request,
//! never in aggregates, never in logs.

use crate::error::{Collector, ValidationErrors};
use crate::organisation::nonblank;
use crate::values::{self, NAME_MAX};
use uuid::Uuid;

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct ContactInput {
    /// The owning organisation; an organisation's token may leave it out (its own).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub organisation_id: Uuid,
    pub name: String,
    pub function: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The organisation's one primary contact (at most one per organisation).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub primary: bool,
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub topics: Vec<String>,
    pub external_id: Option<String>,
}

// What every door shows of a record (`views::Contact` adds the bookkeeping).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "ContactFields", visible = false))]
pub struct Contact {
    pub organisation_id: Uuid,
    pub name: String,
    pub function: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The organisation's one primary contact.
    pub primary: bool,
    pub topics: Vec<String>,
    pub external_id: Option<String>,
}

pub const MAX_TOPICS: usize = 20;

impl Contact {
    pub fn parse(input: ContactInput) -> Result<Contact, ValidationErrors> {
        let mut c = Collector::new();
        let name = c.check("name", values::text(&input.name, NAME_MAX));
        let function = c.check(
            "function",
            values::optional_text(input.function.as_deref(), NAME_MAX),
        );
        let email = c.check_opt("email", nonblank(input.email), |e| values::email(&e));
        let phone = c.check_opt("phone", nonblank(input.phone), |p| values::phone(&p));
        let topics = c.check("topics", topics(&input.topics));
        let external_id = c.check_opt("externalId", nonblank(input.external_id), |e| {
            values::external_id(&e)
        });
        c.finish(|| {
            Some(Contact {
                organisation_id: input.organisation_id,
                name: name?,
                function: function?,
                email: email?,
                phone: phone?,
                primary: input.primary,
                topics: topics?,
                external_id: external_id?,
            })
        })
    }
}

fn topics(raw: &[String]) -> Result<Vec<String>, crate::Reason> {
    if raw.len() > MAX_TOPICS {
        return Err(crate::Reason::OutOfRange {
            min: 0,
            max: MAX_TOPICS as i64,
        });
    }
    values::distinct_list(raw, |t| values::text(t, 80))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> ContactInput {
        ContactInput {
            organisation_id: Uuid::nil(),
            name: "Renate Albrecht".into(),
            function: Some("Koordination".into()),
            email: Some("r.albrecht@verein.example".into()),
            phone: Some("+49 341 555123".into()),
            primary: true,
            topics: vec!["Patenschaften".into(), "Sprache".into()],
            external_id: None,
        }
    }

    #[test]
    fn valid_contact() {
        assert!(Contact::parse(valid()).is_ok());
    }

    #[test]
    fn malformed_email_and_phone_and_empty_name() {
        let mut i = valid();
        i.email = Some("renate(at)verein.de".into());
        i.phone = Some("0341-abc".into());
        i.name = "  ".into();
        let e = Contact::parse(i).unwrap_err();
        assert!(e.has("email") && e.has("phone") && e.has("name"));
    }

    #[test]
    fn duplicate_or_too_many_topics() {
        let mut i = valid();
        i.topics = vec!["A".into(), "A".into()];
        assert!(Contact::parse(i.clone()).unwrap_err().has("topics"));
        i.topics = (0..=MAX_TOPICS).map(|n| format!("t{n}")).collect();
        assert!(Contact::parse(i).unwrap_err().has("topics"));
    }
}
