//! Organisations: programme partners, their member organisations, coordination offices,
//! welcome centres and administrations.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, DESCRIPTION_MAX, NAME_MAX};
use uuid::Uuid;
use verbund_record::record;

string_enum!(OrganisationKind {
    ProgrammePartner => "programme_partner",
    Member => "member",
    CoordinationOffice => "coordination_office",
    WelcomeCentre => "welcome_centre",
    Administration => "administration",
    Other => "other",
});

string_enum!(Sector { CivilSociety => "civil_society", Public => "public", Business => "business" });

// What every door shows of an organisation (`views::Organisation` adds the bookkeeping).
#[record(input = OrganisationInput)]
pub struct Organisation {
    /// `programme_partner`, `member`, `coordination_office`, `welcome_centre`, `administration` or `other`.
    #[record(word)]
    pub kind: OrganisationKind,
    /// `civil_society`, `public` or `business`.
    #[record(word)]
    pub sector: Sector,
    /// The network the organisation is at home in.
    pub network_id: Uuid,
    /// A member organisation's programme partner (the organisation it is a member of).
    pub parent_organisation_id: Option<Uuid>,
    #[record(text = NAME_MAX)]
    pub name: String,
    /// Not shown in the public directory.
    #[record(text = NAME_MAX)]
    pub street: Option<String>,
    #[record(present = values::postcode)]
    pub postcode: Option<String>,
    #[record(text = NAME_MAX)]
    pub city: Option<String>,
    /// Not shown in the public directory.
    #[record(present = values::email)]
    pub email: Option<String>,
    /// Not shown in the public directory.
    #[record(present = values::phone)]
    pub phone: Option<String>,
    #[record(present = values::url)]
    pub website: Option<String>,
    /// Public description, shown in the directory.
    #[record(text = DESCRIPTION_MAX)]
    pub description: Option<String>,
    /// The organisation's own key, unique within its parent organisation.
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
    /// The court keeping the association register, e.g. `Amtsgericht Berlin-Charlottenburg`
    /// (public, like the register).
    #[record(text = NAME_MAX)]
    pub register_court: Option<String>,
    /// The association register entry, e.g. `VR 12345 B` (`VR`, `HRA`, `HRB`, `GnR` or `PR`,
    /// the number, perhaps a letter); given together with `registerCourt`.
    #[record(present = register_entry)]
    pub register_number: Option<String>,
}

impl Organisation {
    /// Validates the input. `parent_kind` is the stored kind of `parent_organisation_id`
    /// (`None` if there is none or it does not exist).
    pub fn parse(
        input: OrganisationInput,
        parent_kind: Option<OrganisationKind>,
    ) -> Result<Organisation, ValidationErrors> {
        let mut c = Collector::new();
        let parts = Self::parse_fields(&input, &mut c);
        match (&parts.register_court, &parts.register_number) {
            (Some(None), Some(Some(_))) => c.push(
                "registerCourt",
                Reason::Rule("a register number needs the court that keeps the register"),
            ),
            (Some(Some(_)), Some(None)) => c.push(
                "registerNumber",
                Reason::Rule("a register court needs the number of the entry"),
            ),
            _ => {}
        }
        if input.parent_organisation_id.is_some() {
            match parent_kind {
                None => c.push(
                    "parentOrganisationId",
                    Reason::Rule("the parent organisation does not exist"),
                ),
                Some(OrganisationKind::ProgrammePartner) => {}
                Some(_) => c.push(
                    "parentOrganisationId",
                    Reason::Rule("a parent organisation must be a programme partner"),
                ),
            }
            if parts.kind == Some(OrganisationKind::ProgrammePartner) {
                c.push(
                    "parentOrganisationId",
                    Reason::Rule("a programme partner has no parent organisation"),
                );
            }
        }
        c.finish(|| parts.build())
    }
}

impl From<&Organisation> for OrganisationInput {
    /// The input that gives this organisation again (a representation sent back).
    fn from(o: &Organisation) -> Self {
        let o = o.clone();
        OrganisationInput {
            kind: o.kind.as_str().into(),
            sector: o.sector.as_str().into(),
            network_id: o.network_id,
            parent_organisation_id: o.parent_organisation_id,
            name: o.name,
            street: o.street,
            postcode: o.postcode,
            city: o.city,
            email: o.email,
            phone: o.phone,
            website: o.website,
            description: o.description,
            external_id: o.external_id,
            register_court: o.register_court,
            register_number: o.register_number,
        }
    }
}

/// A register entry: the register's letters, the number, perhaps a letter for the court's
/// branch — `VR 12345 B`, written with single spaces.
fn register_entry(raw: &str) -> Result<String, Reason> {
    const MALFORMED: Reason = Reason::Malformed {
        expected: "a register entry such as `VR 12345 B` (VR, HRA, HRB, GnR or PR, 1 to 6 digits, perhaps a letter)",
    };
    let t: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let digits_at = t.find(|c: char| c.is_ascii_digit()).ok_or(MALFORMED)?;
    let register = t[..digits_at].trim_end();
    let rest = &t[digits_at..];
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (number, suffix) = (&rest[..digits_end], rest[digits_end..].trim_start());
    let suffix_ok = suffix.len() <= 2 && suffix.chars().all(|c| c.is_ascii_uppercase());
    if !["VR", "HRA", "HRB", "GnR", "PR"].contains(&register)
        || !(1..=6).contains(&number.len())
        || !suffix_ok
    {
        return Err(MALFORMED);
    }
    Ok(if suffix.is_empty() {
        format!("{register} {number}")
    } else {
        format!("{register} {number} {suffix}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn valid() -> OrganisationInput {
        OrganisationInput {
            kind: "member".into(),
            sector: "civil_society".into(),
            network_id: Uuid::nil(),
            name: "Patenschaften Leipzig e. V.".into(),
            postcode: Some("04109".into()),
            email: Some("kontakt@patenschaften-leipzig.example".into()),
            phone: Some("0341 1234567".into()),
            website: Some("https://patenschaften-leipzig.example".into()),
            ..Default::default()
        }
    }

    #[test]
    fn register_entries_come_in_pairs_and_in_shape() {
        let with = |court: Option<&str>, number: Option<&str>| {
            let mut i = valid();
            i.register_court = court.map(Into::into);
            i.register_number = number.map(Into::into);
            Organisation::parse(i, None)
        };
        let o = with(
            Some("Amtsgericht Berlin-Charlottenburg"),
            Some("VR  12345B"),
        )
        .expect("valid");
        assert_eq!(o.register_number.as_deref(), Some("VR 12345 B"));
        assert_eq!(with(None, None).expect("none").register_court, None);
        for (court, number, field) in [
            (None, Some("VR 1"), "registerCourt"),
            (Some("Amtsgericht Leipzig"), None, "registerNumber"),
            (Some("Amtsgericht Leipzig"), Some("12345"), "registerNumber"),
            (Some("Amtsgericht Leipzig"), Some("XY 12"), "registerNumber"),
            (
                Some("Amtsgericht Leipzig"),
                Some("VR 1234567"),
                "registerNumber",
            ),
            (
                Some("Amtsgericht Leipzig"),
                Some("VR 12 abc"),
                "registerNumber",
            ),
        ] {
            let e = with(court, number).expect_err(number.unwrap_or("-"));
            assert!(e.has(field), "{number:?}: {e:?}");
        }
        let o = with(Some("Amtsgericht Leipzig"), Some("VR 4711")).expect("valid");
        assert_eq!(
            Organisation::parse(OrganisationInput::from(&o), None),
            Ok(o)
        );
    }

    #[test]
    fn valid_member_parses() {
        let o = Organisation::parse(valid(), None).expect("valid");
        assert_eq!(o.kind, OrganisationKind::Member);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut i = valid();
        i.kind = "club".into();
        i.sector = "private".into();
        i.name = String::new();
        i.postcode = Some("1234".into());
        i.email = Some("no-at-sign".into());
        i.phone = Some("abc".into());
        i.website = Some("verein.de".into());
        i.external_id = Some("has space".into());
        let e = Organisation::parse(i, None).unwrap_err();
        for f in [
            "kind",
            "sector",
            "name",
            "postcode",
            "email",
            "phone",
            "website",
            "externalId",
        ] {
            assert!(e.has(f), "{f} missing in {e}");
        }
    }

    #[test]
    fn over_long_name() {
        let mut i = valid();
        i.name = "x".repeat(NAME_MAX + 1);
        let e = Organisation::parse(i, None).unwrap_err();
        assert_eq!(e.reason("name"), Some(&Reason::TooLong { max: NAME_MAX }));
    }

    #[test]
    fn parent_must_exist_and_be_a_programme_partner() {
        let mut i = valid();
        i.parent_organisation_id = Some(Uuid::nil());
        assert!(Organisation::parse(i.clone(), Some(OrganisationKind::ProgrammePartner)).is_ok());
        assert!(
            Organisation::parse(i.clone(), Some(OrganisationKind::Member))
                .unwrap_err()
                .has("parentOrganisationId")
        );
        assert!(
            Organisation::parse(i.clone(), None)
                .unwrap_err()
                .has("parentOrganisationId")
        );
        i.kind = "programme_partner".into();
        assert!(
            Organisation::parse(i, Some(OrganisationKind::ProgrammePartner))
                .unwrap_err()
                .has("parentOrganisationId")
        );
    }

    #[test]
    fn blank_optionals_are_absent() {
        let mut i = valid();
        i.email = Some("  ".into());
        i.postcode = Some(String::new());
        let o = Organisation::parse(i, None).expect("valid");
        assert_eq!(o.email, None);
        assert_eq!(o.postcode, None);
    }
}
