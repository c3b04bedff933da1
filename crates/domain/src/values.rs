//! Validated value types. Each is built by `parse`, so an invalid value cannot exist past
//! the edge where raw input arrives.

use crate::error::Reason;
use chrono::{DateTime, NaiveDate, Utc};

/// Declares a closed set of lower-case words stored and sent as text, e.g. `federal`.
#[macro_export]
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[cfg_attr(feature = "api", derive(async_graphql::Enum, utoipa::ToSchema))]
        // The words are the variants in snake_case (utoipa does not see a variant's rename
        // when the word comes in as a macro fragment; a test compares the OpenAPI words).
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(
                #[serde(rename = $text)]
                #[cfg_attr(feature = "api", graphql(name = $text))]
                $variant
            ),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const WORDS: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, $crate::error::Reason> {
                match raw.trim() {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::error::Reason::UnknownValue { allowed: Self::WORDS }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// `true`, for fields whose default is yes.
pub fn yes() -> bool {
    true
}

/// A value that may be sent blank (a blank string counts as absent).
pub trait Blank {
    fn is_blank(&self) -> bool;
}

impl Blank for String {
    fn is_blank(&self) -> bool {
        self.trim().is_empty()
    }
}

impl Blank for i64 {
    fn is_blank(&self) -> bool {
        false
    }
}

/// An optional input that was sent and is not blank.
pub fn present<T: Blank>(raw: Option<T>) -> Option<T> {
    raw.filter(|v| !v.is_blank())
}

/// Trimmed text of 1..=`max` characters.
pub fn text(raw: &str, max: usize) -> Result<String, Reason> {
    let t = raw.trim();
    if t.is_empty() {
        Err(Reason::Empty)
    } else if t.chars().count() > max {
        Err(Reason::TooLong { max })
    } else if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        Err(Reason::Malformed {
            expected: "text without control characters",
        })
    } else {
        Ok(t.to_owned())
    }
}

/// The longest pseudonymous reference.
pub const PSEUDONYM_MAX: usize = 40;

/// A pseudonymous reference to a person (a mentee, a volunteer, a staff member): the
/// organisation's own key, never a name. It holds at least one digit and no spaces or `@`,
/// so that a name ("Max Mustermann") or an e-mail address cannot be entered as one; only
/// letters, digits and `- _ . : / # ;` are allowed.
pub fn pseudonym(raw: &str) -> Result<String, Reason> {
    let t = text(raw, PSEUDONYM_MAX)?;
    let allowed = |c: char| c.is_alphanumeric() || "-_.:/#;".contains(c);
    if !t.chars().all(allowed) || !t.chars().any(|c| c.is_ascii_digit()) {
        return Err(Reason::Malformed {
            expected: "a pseudonymous reference (the organisation's own key with at least one digit, e.g. EA-017: letters, digits and - _ . : / # ; without spaces — never a name)",
        });
    }
    Ok(t)
}

/// Optional text: empty or blank counts as absent.
pub fn optional_text(raw: Option<&str>, max: usize) -> Result<Option<String>, Reason> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => text(t, max).map(Some),
    }
}

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 5000;
/// Longest text a list's `search` filter takes.
pub const SEARCH_MAX: usize = 200;

/// An e-mail address: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn email(raw: &str) -> Result<String, Reason> {
    const BAD: Reason = Reason::Malformed {
        expected: "a valid e-mail address",
    };
    let t = raw.trim();
    if t.is_empty() {
        return Err(Reason::Empty);
    }
    if t.len() > 254 {
        return Err(Reason::TooLong { max: 254 });
    }
    let (local, domain) = t.split_once('@').ok_or(BAD)?;
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || !domain.contains('.')
        || !labels_ok
        || t.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(BAD);
    }
    Ok(t.to_owned())
}

/// A phone number as people write it (`+49 30 1234567`, `030/123 45-67`): 6 to 15 digits,
/// an optional leading `+`, and spaces, `/`, `-`, `(`, `)` as separators.
pub fn phone(raw: &str) -> Result<String, Reason> {
    const BAD: Reason = Reason::Malformed {
        expected: "a phone number (6 to 15 digits, optional leading +)",
    };
    let t = raw.trim();
    if t.is_empty() {
        return Err(Reason::Empty);
    }
    let body = t.strip_prefix('+').unwrap_or(t);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || " /-()".contains(c))
    {
        return Err(BAD);
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !(6..=15).contains(&digits) {
        return Err(BAD);
    }
    Ok(t.to_owned())
}

/// A German postcode: exactly five digits, not `00000`.
pub fn postcode(raw: &str) -> Result<String, Reason> {
    let t = raw.trim();
    if t.len() == 5 && t.chars().all(|c| c.is_ascii_digit()) && t != "00000" {
        Ok(t.to_owned())
    } else if t.is_empty() {
        Err(Reason::Empty)
    } else {
        Err(Reason::Malformed {
            expected: "a German postcode of five digits",
        })
    }
}

/// The ISO 3166-2 codes of the 16 German states.
pub const STATE_CODES: &[&str] = &[
    "DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV", "DE-NI", "DE-NW",
    "DE-RP", "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH",
];

pub fn state_code(raw: &str) -> Result<String, Reason> {
    let t = raw.trim().to_ascii_uppercase();
    if STATE_CODES.contains(&t.as_str()) {
        Ok(t)
    } else {
        Err(Reason::UnknownValue {
            allowed: STATE_CODES,
        })
    }
}

/// An official district key (Kreisschlüssel): five digits, the first two the state's number
/// 01..=16.
pub fn district_key(raw: &str) -> Result<String, Reason> {
    let t = raw.trim();
    let ok = t.len() == 5
        && t.chars().all(|c| c.is_ascii_digit())
        && t[..2].parse::<u8>().is_ok_and(|s| (1..=16).contains(&s));
    if ok {
        Ok(t.to_owned())
    } else {
        Err(Reason::Malformed {
            expected: "an official district key of five digits (state 01-16)",
        })
    }
}

/// The state number (01..=16) that a district key starts with, for a state code.
pub fn state_number(state_code: &str) -> Option<&'static str> {
    // Order of the official state keys (Länderschlüssel) 01..16.
    const BY_NUMBER: [&str; 16] = [
        "DE-SH", "DE-HH", "DE-NI", "DE-HB", "DE-NW", "DE-HE", "DE-RP", "DE-BW", "DE-BY", "DE-SL",
        "DE-BE", "DE-BB", "DE-MV", "DE-SN", "DE-ST", "DE-TH",
    ];
    const NUMBERS: [&str; 16] = [
        "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
        "16",
    ];
    BY_NUMBER
        .iter()
        .position(|c| *c == state_code)
        .map(|i| NUMBERS[i])
}

/// A language as an ISO 639-1 code of two lower-case letters (`de`, `ar`, `uk`).
/// A postcode or its first digits, as a search filter: one to five digits.
/// A moment as callers write it: RFC 3339 (`2026-12-06T08:00:00Z`, any offset) or a day
/// (`2026-12-06`, meaning its start in UTC).
pub fn instant(raw: &str) -> Result<DateTime<Utc>, Reason> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or(Reason::Malformed {
            expected: "a day (2026-12-31) or a time (2026-12-31T08:00:00Z)",
        })
}

pub fn postcode_prefix(raw: &str) -> Result<String, Reason> {
    let t = raw.trim();
    if !t.is_empty() && t.len() <= 5 && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err(Reason::Malformed {
            expected: "one to five digits of a postcode",
        })
    }
}

pub fn language(raw: &str) -> Result<String, Reason> {
    let t = raw.trim().to_ascii_lowercase();
    if t.len() == 2 && t.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(t)
    } else {
        Err(Reason::Malformed {
            expected: "an ISO 639-1 language code of two letters",
        })
    }
}

/// A web address starting with `http://` or `https://` and a host.
pub fn url(raw: &str) -> Result<String, Reason> {
    let t = raw.trim();
    if t.len() > 500 {
        return Err(Reason::TooLong { max: 500 });
    }
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or(Reason::Malformed {
            expected: "a web address starting with http:// or https://",
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || !host.contains('.') || t.chars().any(char::is_whitespace) {
        return Err(Reason::Malformed {
            expected: "a web address with a host name",
        });
    }
    Ok(t.to_owned())
}

/// An organisation's own key for a record, unique within that organisation.
pub fn external_id(raw: &str) -> Result<String, Reason> {
    let t = text(raw, 100)?;
    if t.chars().any(char::is_whitespace) {
        return Err(Reason::Malformed {
            expected: "an identifier without spaces",
        });
    }
    Ok(t)
}

/// A non-negative amount in euro cents.
pub fn cents(raw: i64) -> Result<i64, Reason> {
    if raw < 0 {
        Err(Reason::Negative)
    } else {
        Ok(raw)
    }
}

/// An integer within bounds.
pub fn bounded(raw: i64, min: i64, max: i64) -> Result<i32, Reason> {
    if (min..=max).contains(&raw) {
        i32::try_from(raw).map_err(|_| Reason::OutOfRange { min, max })
    } else if raw < 0 && min >= 0 {
        Err(Reason::Negative)
    } else {
        Err(Reason::OutOfRange { min, max })
    }
}

/// A span of days: a start and an optional end that is not before it.
// Every door shows it as `startsOn` and `endsOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", graphql(visible = false))]
pub struct Period {
    #[cfg_attr(
        feature = "api",
        serde(rename = "startsOn"),
        graphql(name = "startsOn")
    )]
    pub start: NaiveDate,
    #[cfg_attr(feature = "api", serde(rename = "endsOn"), graphql(name = "endsOn"))]
    pub end: Option<NaiveDate>,
}

impl Period {
    pub fn parse(start: NaiveDate, end: Option<NaiveDate>) -> Result<Self, Reason> {
        match end {
            Some(e) if e < start => Err(Reason::EndBeforeStart),
            _ => Ok(Self { start, end }),
        }
    }

    /// Whether two periods share at least one day (an open end runs forever).
    pub fn overlaps(&self, other: &Period) -> bool {
        let self_end = self.end.unwrap_or(NaiveDate::MAX);
        let other_end = other.end.unwrap_or(NaiveDate::MAX);
        self.start <= other_end && other.start <= self_end
    }
}

/// A list of words parsed one by one, without duplicates; errors name the position.
pub fn distinct_list<T: PartialEq>(
    raw: &[String],
    parse: impl Fn(&str) -> Result<T, Reason>,
) -> Result<Vec<T>, Reason> {
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        let v = parse(r)?;
        if out.contains(&v) {
            return Err(Reason::Duplicate);
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_pseudonym_is_no_name() {
        for ok in ["EA-017", "T-2024-017", "HA-123", "EA-7;Nörd", "V1"] {
            assert_eq!(pseudonym(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "Max Mustermann",
            "Mustermann",
            "EA-Nord",
            "max.mustermann@example.org1",
            "Max 1",
            "",
            &"A1".repeat(21),
        ] {
            assert!(pseudonym(bad).is_err(), "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn text_refuses_empty_blank_long_and_control() {
        assert_eq!(text("", 5), Err(Reason::Empty));
        assert_eq!(text("   ", 5), Err(Reason::Empty));
        assert_eq!(text("abcdef", 5), Err(Reason::TooLong { max: 5 }));
        assert!(matches!(text("a\u{0}b", 5), Err(Reason::Malformed { .. })));
        assert_eq!(text("  Jörg  ", 5), Ok("Jörg".into()));
        // Length counts characters, not bytes.
        assert_eq!(text("äöüßé", 5), Ok("äöüßé".into()));
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(optional_text(Some("  "), 3), Ok(None));
        assert_eq!(optional_text(None, 3), Ok(None));
        assert_eq!(
            optional_text(Some("abcd"), 3),
            Err(Reason::TooLong { max: 3 })
        );
    }

    #[test]
    fn email_rules() {
        for ok in [
            "a@b.de",
            "vorname.nachname@verein-beispiel.de",
            "x+y@mail.example.org",
        ] {
            assert!(email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "plain", "@b.de", "a@", "a@b", "a@@b.de", "a b@c.de", "a@b..de", "a@-b.de",
        ] {
            assert!(matches!(email(bad), Err(Reason::Malformed { .. })), "{bad}");
        }
        assert_eq!(email(""), Err(Reason::Empty));
    }

    #[test]
    fn phone_rules() {
        for ok in ["+49 30 1234567", "030/123 45-67", "(0341) 998877"] {
            assert!(phone(ok).is_ok(), "{ok}");
        }
        for bad in ["12345", "call me", "+49 30 12345678901234", "030#1234567"] {
            assert!(matches!(phone(bad), Err(Reason::Malformed { .. })), "{bad}");
        }
    }

    #[test]
    fn postcode_rules() {
        assert_eq!(postcode("04109"), Ok("04109".into()));
        for bad in ["4109", "041099", "0410a", "00000"] {
            assert!(
                matches!(postcode(bad), Err(Reason::Malformed { .. })),
                "{bad}"
            );
        }
        assert_eq!(postcode(" "), Err(Reason::Empty));
    }

    #[test]
    fn state_and_district_codes() {
        assert_eq!(state_code("de-by"), Ok("DE-BY".into()));
        assert!(matches!(
            state_code("DE-XX"),
            Err(Reason::UnknownValue { .. })
        ));
        assert_eq!(STATE_CODES.len(), 16);
        assert!(district_key("09162").is_ok());
        assert!(district_key("17000").is_err());
        assert!(district_key("9162").is_err());
        assert_eq!(state_number("DE-BY"), Some("09"));
        assert_eq!(state_number("DE-TH"), Some("16"));
        assert_eq!(state_number("DE-XX"), None);
    }

    #[test]
    fn language_url_external_id() {
        assert_eq!(language("DE"), Ok("de".into()));
        assert!(language("deu").is_err());
        assert!(url("https://verein.example.org/about").is_ok());
        assert!(url("ftp://x.de").is_err());
        assert!(url("https://localhost").is_err());
        assert!(external_id("CRM-17").is_ok());
        assert!(matches!(external_id("a b"), Err(Reason::Malformed { .. })));
    }

    #[test]
    fn numbers() {
        assert_eq!(cents(-1), Err(Reason::Negative));
        assert_eq!(cents(0), Ok(0));
        assert_eq!(bounded(-1, 0, 10), Err(Reason::Negative));
        assert_eq!(
            bounded(11, 0, 10),
            Err(Reason::OutOfRange { min: 0, max: 10 })
        );
        assert_eq!(
            bounded(0, 1, 10),
            Err(Reason::OutOfRange { min: 1, max: 10 })
        );
    }

    #[test]
    fn period_rules() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(
            Period::parse(d("2024-02-01"), Some(d("2024-01-31"))),
            Err(Reason::EndBeforeStart)
        );
        assert!(Period::parse(d("2024-02-01"), Some(d("2024-02-01"))).is_ok());
        let a = Period::parse(d("2024-01-01"), Some(d("2024-06-30"))).expect("a");
        let b = Period::parse(d("2024-06-30"), None).expect("b");
        let c = Period::parse(d("2024-07-01"), None).expect("c");
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
    }

    #[test]
    fn distinct_list_refuses_duplicates() {
        let raw = vec!["de".to_owned(), "DE".to_owned()];
        assert_eq!(distinct_list(&raw, language), Err(Reason::Duplicate));
    }
}
