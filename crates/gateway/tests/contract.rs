//! The committed contract in `schema/` is what the code serves.

#[test]
fn committed_graphql_schema_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = verbund_gateway::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql differs from the code: run `cargo run -- export-schema` and commit the result"
    );
}

#[test]
fn the_schema_is_a_federation_v2_subgraph_with_three_entities() {
    let sdl = verbund_gateway::graphql::sdl();
    assert!(
        sdl.contains("url: \"https://specs.apollo.dev/federation/v2"),
        "federation v2 link"
    );
    for entity in ["Network", "Organisation", "Offering"] {
        assert!(
            sdl.contains(&format!(
                "type {entity} implements Node @key(fields: \"id\")"
            )),
            "{entity} is an entity keyed by id"
        );
    }
}

#[test]
fn committed_openapi_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == verbund_gateway::rest::openapi_json(),
        "schema/openapi.json differs from the code: run `cargo run -- export-schema` and commit the result"
    );
}

#[test]
fn every_operation_documents_its_errors_and_roles() {
    let api: serde_json::Value =
        serde_json::from_str(&verbund_gateway::rest::openapi_json()).expect("json");
    assert!(api["openapi"].as_str().expect("version").starts_with("3.1"));
    let mut operations = 0;
    for (path, item) in api["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            operations += 1;
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|k| k.starts_with('4')),
                "{method} {path} documents no error"
            );
            let description = op["description"].as_str().unwrap_or_default();
            assert!(
                description.contains("Roles")
                    || description.contains("role")
                    || description.contains("Like the"),
                "{method} {path} names no role"
            );
        }
    }
    assert_eq!(
        operations,
        11 * 6 + 1 + 2 + 16 + 3 + 3 + 3 * 2 + 1 + 9,
        "six operations per resource (list, create, get, replace, patch, delete), the transition, two HSDS lists, eight spreadsheet imports and exports, statistics and two on snapshots, three insights, erasure and access for contacts, volunteers and staff, the change feed, nine on webhooks (list, create, get, patch, delete, secret rotation, delivery log, two redeliveries)"
    );
}
