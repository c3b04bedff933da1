//! Nothing personal leaks sideways: after a battery of requests through every door and
//! role — lists, out-of-scope ids, forbidden and invalid writes, conflicts, bad CSV rows,
//! GraphQL errors, searches for a person — neither any error body nor the server's debug
//! log holds a demo contact's e-mail address, phone number or name, a volunteer's or staff
//! member's reference, or a mentee reference. On SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};
use verbund_e2e::{Demo, PgDatabase, TempDir, on_both_databases};

/// The demo server and every error body it sent back.
struct Probe {
    demo: Demo,
    errors: Vec<String>,
}

impl Probe {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let (status, v) = self.demo.send(req, None).await;
        if status.is_client_error() || status.is_server_error() {
            self.errors.push(match &v {
                Value::String(text) => text.clone(),
                json => json.to_string(),
            });
        }
        if v["errors"].is_array() {
            self.errors.push(v["errors"].to_string());
        }
        (status, v)
    }
}

/// A record as a PUT body: without the fields the server keeps.
fn writable(record: &Value) -> Value {
    let mut body = record.clone();
    if let Some(o) = body.as_object_mut() {
        for f in ["id", "version", "createdAt", "updatedAt"] {
            o.remove(f);
        }
    }
    body
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn nothing_personal(pg: Option<PgDatabase>) {
    let logs = TempDir::new();
    let log = logs.0.join("server.log");
    let demo = Demo::start_logged(
        pg,
        &[
            ("VERBUND_LOG", "debug"),
            ("VERBUND_RATE_LIMIT__ENABLED", "false"),
        ],
        &log,
    );
    let admin = demo.admin.clone();
    let mut p = Probe {
        demo,
        errors: Vec::new(),
    };

    // What must never leak.
    let contacts = p.demo.all("/api/v1/contacts", Some(&admin)).await;
    let volunteers = p.demo.all("/api/v1/volunteers", Some(&admin)).await;
    let staff = p.demo.all("/api/v1/staff", Some(&admin)).await;
    let mentorships = p.demo.all("/api/v1/mentorships", Some(&admin)).await;
    let mut secrets: Vec<String> = Vec::new();
    for c in &contacts {
        for f in ["email", "phone", "name"] {
            if let Some(v) = c[f].as_str() {
                secrets.push(v.to_owned());
            }
        }
    }
    for (list, field) in [
        (&volunteers, "reference"),
        (&staff, "reference"),
        (&mentorships, "menteeRef"),
    ] {
        secrets.extend(
            list.iter()
                .filter_map(|r| r[field].as_str().map(str::to_owned)),
        );
    }
    // Short references (a few characters) would match unrelated text.
    secrets.retain(|s| s.chars().count() >= 6);
    secrets.sort();
    secrets.dedup();
    assert!(
        secrets.len() > 50,
        "the demo data has people: {}",
        secrets.len()
    );

    // Every role reads every list and statistic, and tries a record outside its scope.
    let orgs = p.demo.all("/api/v1/organisations", Some(&admin)).await;
    let member = orgs
        .iter()
        .find(|o| o["kind"] == "member")
        .and_then(|o| o["id"].as_str())
        .expect("member")
        .to_owned();
    let regions = p.demo.all("/api/v1/networks", Some(&admin)).await;
    let region = regions
        .iter()
        .find(|n| n["level"] == "regional")
        .and_then(|n| n["id"].as_str())
        .expect("region")
        .to_owned();
    let roles: Vec<Option<String>> = vec![
        None,
        Some(p.demo.token(&["--role", "ministry_analyst"])),
        Some(
            p.demo
                .token(&["--role", "org_admin", "--organisation", &member]),
        ),
        Some(
            p.demo
                .token(&["--role", "org_member", "--organisation", &member]),
        ),
        Some(
            p.demo
                .token(&["--role", "regional_coordinator", "--network", &region]),
        ),
    ];
    let contact = &contacts[contacts.len() - 1];
    let cid = contact["id"].as_str().expect("id").to_owned();
    for t in &roles {
        for path in [
            "/api/v1/contacts",
            "/api/v1/volunteers",
            "/api/v1/mentorships",
            &format!("/api/v1/contacts/{cid}"),
            "/api/v1/statistics/mentorships?groupBy=state,status",
            "/api/v1/insights/overload",
        ] {
            let mut r = p.demo.http.get(p.demo.url(path));
            if let Some(t) = t {
                r = r.bearer_auth(t);
            }
            p.send(r).await;
        }
        // A write of a person's record as every role (forbidden, not found or unauthenticated).
        let body = writable(contact);
        let mut r = p
            .demo
            .http
            .put(p.demo.url(&format!("/api/v1/contacts/{cid}")))
            .header("if-match", "\"1\"")
            .json(&body);
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        p.send(r).await;
        let q = json!({ "query": "{ contacts(first: 50) { edges { node { name email phone } } } volunteers(first: 5) { edges { node { reference } } } }" });
        let mut r = p.demo.http.post(p.demo.url("/graphql")).json(&q);
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        p.send(r).await;
    }

    // Invalid and conflicting writes by the admin with people's data in the body.
    let body = writable(contact);
    let url = p.demo.url(&format!("/api/v1/contacts/{cid}"));
    let (st, _) = p
        .send(
            p.demo
                .http
                .put(&url)
                .bearer_auth(&admin)
                .header("if-match", "\"999\"")
                .json(&body),
        )
        .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
    let mut bad = body.clone();
    bad["email"] = json!("not an address");
    bad["phone"] = json!("call me");
    let (st, _) = p
        .send(
            p.demo
                .http
                .put(&url)
                .bearer_auth(&admin)
                .header("if-match", format!("\"{}\"", contact["version"]))
                .json(&bad),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let mut dup = body.clone();
    dup["externalId"] = json!("PRIV-1");
    for expected in [StatusCode::CREATED, StatusCode::CONFLICT] {
        let (st, b) = p
            .send(
                p.demo
                    .http
                    .post(p.demo.url("/api/v1/contacts"))
                    .bearer_auth(&admin)
                    .json(&dup),
            )
            .await;
        assert_eq!(st, expected, "{b}");
    }
    // A CSV file with a person's row and one bad cell.
    let file = format!(
        "externalId,organisationId,name,email,phone,primary\nPRIV-2,{},{},{},{},vielleicht\n",
        contact["organisationId"].as_str().expect("org"),
        contact["name"].as_str().expect("name"),
        contact["email"].as_str().unwrap_or(""),
        contact["phone"].as_str().unwrap_or(""),
    );
    let (st, _) = p
        .send(
            p.demo
                .http
                .post(p.demo.url("/api/v1/contacts/import"))
                .bearer_auth(&admin)
                .header("content-type", "text/csv")
                .body(file),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // GraphQL errors with a person's data in the input.
    let q = json!({ "query": "mutation($id: ID!, $input: ContactInput!) { updateContact(id: $id, version: 999, input: $input) { name } }",
                    "variables": { "id": cid, "input": { "organisationId": contact["organisationId"], "name": contact["name"], "email": contact["email"] } } });
    p.send(
        p.demo
            .http
            .post(p.demo.url("/graphql"))
            .bearer_auth(&admin)
            .json(&q),
    )
    .await;
    // Searching for a person: the search term must not end up in the log.
    let surname = contact["name"]
        .as_str()
        .and_then(|n| n.split_whitespace().last())
        .expect("surname")
        .to_owned();
    let (st, _) = p
        .send(
            p.demo
                .http
                .get(p.demo.url("/api/v1/contacts"))
                .query(&[("search", surname.as_str())])
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    let Probe { demo, errors } = p;
    assert!(demo.server.stop());
    assert!(
        errors.len() >= 10,
        "the battery produced errors: {}",
        errors.len()
    );
    for e in &errors {
        for s in &secrets {
            assert!(!e.contains(s.as_str()), "an error body names {s:?}: {e}");
        }
    }
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(log.lines().count() > 10, "the log was written");
    let mut needles = secrets.clone();
    if surname.chars().count() >= 4 {
        needles.push(surname.clone());
        needles.push(percent(&surname));
    }
    for s in &needles {
        assert!(!log.contains(s.as_str()), "the log names {s:?}");
    }
}

on_both_databases!(nothing_personal => nothing_personal_in_logs_or_errors_sqlite, nothing_personal_in_logs_or_errors_postgres);
