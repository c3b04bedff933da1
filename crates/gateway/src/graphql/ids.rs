//! Opaque global ids (`node(id:)`): base64url of `Type:uuid`. Arguments also accept a bare
//! UUID, so that REST users and spreadsheets can paste the ids they already have.

use crate::error::gql;
use async_graphql::{ID, Result};
use base64::Engine as _;
use uuid::Uuid;
use verbund_domain::{Reason, ValidationErrors};
use verbund_persistence::StoreError;

pub fn global(kind: &str, id: Uuid) -> ID {
    ID(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// The type and UUID inside a global id.
pub fn decode(raw: &str) -> Option<(String, Uuid)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, id) = text.split_once(':')?;
    Some((kind.to_owned(), Uuid::parse_str(id).ok()?))
}

fn invalid(field: &str) -> async_graphql::Error {
    gql(StoreError::Invalid(ValidationErrors::single(
        field,
        Reason::Malformed {
            expected: "an id of this API or a UUID",
        },
    )))
}

/// The UUID named by an argument: a global id of type `kind`, or a bare UUID.
pub fn uuid(raw: &ID, kind: &str, field: &str) -> Result<Uuid> {
    if let Ok(u) = Uuid::parse_str(raw) {
        return Ok(u);
    }
    match decode(raw) {
        Some((k, u)) if k == kind => Ok(u),
        _ => Err(invalid(field)),
    }
}

pub fn uuid_opt(raw: Option<&ID>, kind: &str, field: &str) -> Result<Option<Uuid>> {
    raw.map(|r| uuid(r, kind, field)).transpose()
}

pub fn uuids(raw: &[ID], kind: &str, field: &str) -> Result<Vec<Uuid>> {
    raw.iter().map(|r| uuid(r, kind, field)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bare_uuids() {
        let u = Uuid::now_v7();
        let g = global("Organisation", u);
        assert_eq!(decode(&g), Some(("Organisation".into(), u)));
        assert_eq!(uuid(&g, "Organisation", "id").ok(), Some(u));
        assert!(uuid(&g, "Network", "id").is_err());
        assert_eq!(uuid(&ID(u.to_string()), "Network", "id").ok(), Some(u));
        assert!(uuid(&ID("nope".into()), "Network", "id").is_err());
    }
}
