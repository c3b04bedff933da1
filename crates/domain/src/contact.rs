//! Contact persons (Ansprechpartner) of an organisation. Personal data: erasable on request,
//! never in aggregates, never in logs.

use crate::values::{self, NAME_MAX};
use uuid::Uuid;
use verbund_record::record;

// What every door shows of a contact person (`views::Contact` adds the bookkeeping).
#[record(input = ContactInput, parse)]
pub struct Contact {
    #[record(owner)]
    pub organisation_id: Uuid,
    #[record(text = NAME_MAX)]
    pub name: String,
    #[record(text = NAME_MAX)]
    pub function: Option<String>,
    #[record(present = values::email)]
    pub email: Option<String>,
    #[record(present = values::phone)]
    pub phone: Option<String>,
    /// The organisation's one primary contact (at most one per organisation).
    #[record(default)]
    pub primary: bool,
    #[record(default, parse = checked_topics)]
    pub topics: Vec<String>,
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
}

pub const MAX_TOPICS: usize = 20;

fn checked_topics(raw: &[String]) -> Result<Vec<String>, crate::Reason> {
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
