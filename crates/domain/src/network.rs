//! Networks: the federal root (the umbrella association), the 16 states and their regions.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::string_enum;
use crate::values::{self, NAME_MAX};
use uuid::Uuid;
use verbund_record::record;

string_enum!(
    /// Where a network sits: exactly one federal root, states under it, regions under states.
    NetworkLevel { Federal => "federal", State => "state", Regional => "regional" }
);

impl NetworkLevel {
    /// The level a parent must have for a network of this level.
    pub fn parent_level(self) -> Option<NetworkLevel> {
        match self {
            NetworkLevel::Federal => None,
            NetworkLevel::State => Some(NetworkLevel::Federal),
            NetworkLevel::Regional => Some(NetworkLevel::State),
        }
    }
}

// What every door shows of a network (`views::Network` adds the bookkeeping).
#[record(input = NetworkInput)]
pub struct Network {
    /// `federal`, `state` or `regional`.
    #[record(word)]
    pub level: NetworkLevel,
    /// The network above (the UUID); every network but the federal root has one.
    pub parent_id: Option<Uuid>,
    #[record(text = NAME_MAX)]
    pub name: String,
    /// ISO 3166-2 for states (`DE-BY`), the official district key for regions, `DE` for the
    /// federal root.
    #[record(input = Option<String>, custom)]
    pub code: String,
}

impl Network {
    /// Validates the input. `parent_level` is the stored level of `input.parent_id`, looked
    /// up by the caller (`None` when there is no parent or it does not exist).
    pub fn parse(
        input: NetworkInput,
        parent_level: Option<NetworkLevel>,
    ) -> Result<Network, ValidationErrors> {
        let mut c = Collector::new();
        let mut parts = Self::parse_fields(&input, &mut c);
        let level = parts.level;
        parts.code = level.and_then(|level| {
            let raw = input.code.as_deref().unwrap_or("");
            let parsed = match level {
                NetworkLevel::Federal => match raw.trim() {
                    "" | "DE" => Ok("DE".to_owned()),
                    _ => Err(Reason::Rule("the federal network's code is DE")),
                },
                NetworkLevel::State => values::state_code(raw),
                NetworkLevel::Regional => values::district_key(raw),
            };
            c.check("code", parsed)
        });
        if let Some(level) = level {
            match (level.parent_level(), input.parent_id, parent_level) {
                (None, Some(_), _) => c.push(
                    "parentId",
                    Reason::Rule("the federal network has no parent"),
                ),
                (Some(_), None, _) => c.push("parentId", Reason::Missing),
                (Some(_), Some(_), None) => c.push(
                    "parentId",
                    Reason::Rule("the parent network does not exist"),
                ),
                (Some(want), Some(_), Some(got)) if want != got => c.push(
                    "parentId",
                    match level {
                        NetworkLevel::Regional => Reason::Rule("a region's parent must be a state"),
                        _ => Reason::Rule("a state's parent must be the federal network"),
                    },
                ),
                _ => {}
            }
        }
        c.finish(|| parts.build())
    }
}

/// The materialised path of a network: the simple (32 hex digit) ids from the root down to
/// the network itself, concatenated. Fixed-width segments make "everything under X" a range
/// over one indexed column (`path >= P AND path < P || 'g'`) in any collation.
pub fn child_path(parent_path: Option<&str>, id: Uuid) -> String {
    let mut p = parent_path.unwrap_or("").to_owned();
    p.push_str(&id.simple().to_string());
    p
}

/// The upper bound of the range of paths under `path`: `g` sorts after every hex digit.
pub fn path_upper_bound(path: &str) -> String {
    format!("{path}g")
}

/// Whether `path` is `ancestor` or lies below it.
pub fn path_within(path: &str, ancestor: &str) -> bool {
    path.starts_with(ancestor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(level: &str, parent: Option<Uuid>, name: &str, code: &str) -> NetworkInput {
        NetworkInput {
            level: level.into(),
            parent_id: parent,
            name: name.into(),
            code: Some(code.into()),
        }
    }

    #[test]
    fn federal_has_no_parent_and_code_de() {
        let n = Network::parse(input("federal", None, "Dachverband", ""), None).expect("valid");
        assert_eq!(n.code, "DE");
        let e = Network::parse(input("federal", Some(Uuid::nil()), "X", ""), None).unwrap_err();
        assert!(e.has("parentId"));
    }

    #[test]
    fn state_needs_iso_code_and_federal_parent() {
        let p = Some(Uuid::nil());
        assert!(
            Network::parse(
                input("state", p, "Bayern", "DE-BY"),
                Some(NetworkLevel::Federal)
            )
            .is_ok()
        );
        let e = Network::parse(
            input("state", p, "Bayern", "DE-XX"),
            Some(NetworkLevel::Federal),
        )
        .unwrap_err();
        assert!(matches!(
            e.reason("code"),
            Some(Reason::UnknownValue { .. })
        ));
        let e = Network::parse(
            input("state", p, "Bayern", "DE-BY"),
            Some(NetworkLevel::State),
        )
        .unwrap_err();
        assert!(e.has("parentId"));
        let e = Network::parse(input("state", None, "Bayern", "DE-BY"), None).unwrap_err();
        assert_eq!(e.reason("parentId"), Some(&Reason::Missing));
    }

    #[test]
    fn region_parent_must_be_a_state() {
        let p = Some(Uuid::nil());
        assert!(
            Network::parse(
                input("regional", p, "Leipzig", "14713"),
                Some(NetworkLevel::State)
            )
            .is_ok()
        );
        let e = Network::parse(
            input("regional", p, "Leipzig", "14713"),
            Some(NetworkLevel::Federal),
        )
        .unwrap_err();
        assert_eq!(
            e.reason("parentId"),
            Some(&Reason::Rule("a region's parent must be a state"))
        );
        let e = Network::parse(input("regional", p, "Leipzig", "14713"), None).unwrap_err();
        assert!(e.has("parentId"));
    }

    #[test]
    fn unknown_level_and_empty_name_are_both_reported() {
        let e = Network::parse(input("county", None, " ", ""), None).unwrap_err();
        assert!(e.has("level") && e.has("name"));
    }

    #[test]
    fn paths_nest_by_prefix_and_range() {
        let root = child_path(None, Uuid::now_v7());
        let state = child_path(Some(&root), Uuid::now_v7());
        let region = child_path(Some(&state), Uuid::now_v7());
        assert!(path_within(&region, &root) && path_within(&region, &state));
        assert!(!path_within(&state, &region));
        let upper = path_upper_bound(&state);
        assert!(region.as_str() >= state.as_str() && region.as_str() < upper.as_str());
    }
}
