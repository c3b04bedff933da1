//! The Open Referral HSDS 3.0 export, validated against the HSDS JSON schemas that
//! `VERBUND_HSDS_SCHEMA_DIR` names (CI sets it to the shared copy; they are not in the
//! repository).

use serde_json::Value;
use std::path::PathBuf;
use verbund_e2e::Demo;

fn schema_dir() -> Option<PathBuf> {
    match std::env::var_os("VERBUND_HSDS_SCHEMA_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.join("service.json").exists(),
                "VERBUND_HSDS_SCHEMA_DIR={} holds no service.json",
                dir.display()
            );
            Some(dir)
        }
        None => {
            // Beside a checkout on these machines; elsewhere the variable must be set.
            let beside =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/hsds/compiled");
            beside.join("service.json").exists().then_some(beside)
        }
    }
}

fn validator(dir: &std::path::Path, name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(dir.join(name)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema json");
    jsonschema::validator_for(&schema).expect("a valid JSON schema")
}

fn check(v: &jsonschema::Validator, item: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(item)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the HSDS schema:\n{}\n{item}",
        errors.join("\n")
    );
}

fn assert_paging(page: &Value, per_page: u64) {
    for f in ["total_items", "total_pages", "page_number", "size"] {
        assert!(page[f].is_u64(), "{f} in {page}");
    }
    for f in ["first_page", "last_page", "empty"] {
        assert!(page[f].is_boolean(), "{f}");
    }
    assert_eq!(page["size"], per_page);
    assert!(page["contents"].is_array());
}

#[tokio::test]
async fn hsds_services_and_organizations_match_the_hsds_schemas() {
    let Some(dir) = schema_dir() else {
        eprintln!(
            "no HSDS schemas here (set VERBUND_HSDS_SCHEMA_DIR): nothing to validate against"
        );
        return;
    };
    let s = Demo::start_with(None, &[]);
    let (server, admin, http) = (&s.server, s.admin.clone(), s.http.clone());

    let service = validator(&dir, "service.json");
    let service_list = validator(&dir, "service_list.json");
    let organization = validator(&dir, "organization.json");
    let organization_list = validator(&dir, "organization_list.json");

    // Anonymous: published offerings, no contacts.
    let page: Value = s.get("/api/v1/hsds/services?per_page=20", None).await;
    assert_paging(&page, 20);
    assert_eq!(page["page_number"], 1);
    assert_eq!(page["first_page"], true);
    let items = page["contents"].as_array().expect("contents");
    assert_eq!(items.len(), 20);
    for s in items {
        check(&service, s, "a service");
        check(&service_list, s, "a service list item");
        check(
            &organization,
            &s["organization"],
            "a service's organization",
        );
        assert!(!s["service_areas"].as_array().expect("areas").is_empty());
        assert!(!s["languages"].as_array().expect("languages").is_empty());
        assert_eq!(
            s["contacts"].as_array().expect("contacts").len(),
            0,
            "no person for anonymous callers"
        );
    }
    // The last page and beyond.
    let total_pages = page["total_pages"].as_u64().expect("pages");
    let last: Value = s
        .get(
            &format!("/api/v1/hsds/services?per_page=20&page={total_pages}"),
            None,
        )
        .await;
    assert_eq!(last["last_page"], true);
    assert_eq!(last["empty"], false);
    let beyond: Value = s
        .get(
            &format!("/api/v1/hsds/services?per_page=20&page={}", total_pages + 1),
            None,
        )
        .await;
    assert_eq!(beyond["empty"], true);

    // A federal admin sees the primary contacts, which match HSDS's contact schema too.
    let page: Value = s
        .get("/api/v1/hsds/services?per_page=50", Some(&admin))
        .await;
    let with_contacts = page["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .filter(|s| !s["contacts"].as_array().expect("c").is_empty())
        .count();
    assert!(with_contacts > 0);
    for s in page["contents"].as_array().expect("contents") {
        check(&service, s, "a service with contacts");
    }

    let orgs: Value = s.get("/api/v1/hsds/organizations?per_page=100", None).await;
    assert_paging(&orgs, 100);
    assert!(orgs["total_items"].as_u64().expect("total") > 16);
    let mut registered = 0;
    for o in orgs["contents"].as_array().expect("contents") {
        check(&organization, o, "an organization");
        check(&organization_list, o, "an organization list item");
        for i in o["organization_identifiers"]
            .as_array()
            .expect("identifiers")
        {
            assert!(
                i["identifier_type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Vereinsregister Amtsgericht ")),
                "{i}"
            );
            assert!(
                i["identifier"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("VR ")),
                "{i}"
            );
            assert_eq!(i["organization_id"], o["id"]);
            registered += 1;
        }
    }
    assert!(
        registered > 0,
        "the demo's associations carry their register entry"
    );
    let bad = http
        .get(server.url("/api/v1/hsds/services?page=0"))
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status(), 422);
}
