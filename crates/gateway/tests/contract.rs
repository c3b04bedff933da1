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
