//! Nothing personal leaks sideways: after a battery of requests through every door and
//! role — lists, out-of-scope ids, forbidden and invalid writes, conflicts, bad CSV rows,
//! GraphQL errors, searches for a person — neither any error body nor the server's debug
//! log holds a demo contact's e-mail address, phone number or name, a volunteer's or staff
//! member's reference, or a mentee reference. On SQLite and PostgreSQL.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use verbund_e2e::{PgDatabase, Server, TempDir, token};

struct Probe {
    server: Server,
    http: Client,
    errors: Vec<String>,
}

impl Probe {
    async fn send(&mut self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        if status.is_client_error() || status.is_server_error() {
            self.errors.push(text.clone());
        }
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if v["errors"].is_array() {
            self.errors.push(v["errors"].to_string());
        }
        (status, v)
    }

    fn url(&self, p: &str) -> String {
        self.server.url(p)
    }

    /// Every record of a REST list, following `next`.
    async fn all(&mut self, token: &str, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut next = Some(format!("{path}?first=100"));
        while let Some(p) = next {
            let (status, body) = self
                .send(self.http.get(self.url(&p)).bearer_auth(token))
                .await;
            assert_eq!(status, StatusCode::OK, "{p}: {body}");
            out.extend(body["items"].as_array().cloned().unwrap_or_default());
            next = body["next"].as_str().map(str::to_owned);
        }
        out
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
    let dir = TempDir::new();
    let log = dir.0.join("server.log");
    let db: Vec<String> = pg
        .as_ref()
        .map(|p| vec!["--database".to_owned(), p.url.clone()])
        .unwrap_or_default();
    let db: Vec<&str> = db.iter().map(String::as_str).collect();
    let server = Server::start_logged(
        &dir.0,
        &db,
        &[
            ("VERBUND_LOG", "debug"),
            ("VERBUND_RATE_LIMIT__ENABLED", "false"),
        ],
        &log,
    );
    let tok = |args: &[&str]| {
        let mut all = db.clone();
        all.extend(args);
        token(&dir.0, &all)
    };
    let admin = tok(&["--role", "federal_admin"]);
    let mut p = Probe {
        server,
        http: Client::new(),
        errors: Vec::new(),
    };

    // What must never leak.
    let contacts = p.all(&admin, "/api/v1/contacts").await;
    let volunteers = p.all(&admin, "/api/v1/volunteers").await;
    let staff = p.all(&admin, "/api/v1/staff").await;
    let mentorships = p.all(&admin, "/api/v1/mentorships").await;
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
    let orgs = p.all(&admin, "/api/v1/organisations").await;
    let member = orgs
        .iter()
        .find(|o| o["kind"] == "member")
        .and_then(|o| o["id"].as_str())
        .expect("member")
        .to_owned();
    let regions = p.all(&admin, "/api/v1/networks").await;
    let region = regions
        .iter()
        .find(|n| n["level"] == "regional")
        .and_then(|n| n["id"].as_str())
        .expect("region")
        .to_owned();
    let roles: Vec<Option<String>> = vec![
        None,
        Some(tok(&["--role", "ministry_analyst"])),
        Some(tok(&["--role", "org_admin", "--organisation", &member])),
        Some(tok(&["--role", "org_member", "--organisation", &member])),
        Some(tok(&[
            "--role",
            "regional_coordinator",
            "--network",
            &region,
        ])),
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
            let mut r = p.http.get(p.url(path));
            if let Some(t) = t {
                r = r.bearer_auth(t);
            }
            p.send(r).await;
        }
        // A write of a person's record as every role (forbidden, not found or unauthenticated).
        let body = writable(contact);
        let mut r = p
            .http
            .put(p.url(&format!("/api/v1/contacts/{cid}")))
            .header("if-match", "\"1\"")
            .json(&body);
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        p.send(r).await;
        let q = json!({ "query": "{ contacts(first: 50) { edges { node { name email phone } } } volunteers(first: 5) { edges { node { reference } } } }" });
        let mut r = p.http.post(p.url("/graphql")).json(&q);
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        p.send(r).await;
    }

    // Invalid and conflicting writes by the admin with people's data in the body.
    let body = writable(contact);
    let url = p.url(&format!("/api/v1/contacts/{cid}"));
    let (st, _) = p
        .send(
            p.http
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
            p.http
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
                p.http
                    .post(p.url("/api/v1/contacts"))
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
            p.http
                .post(p.url("/api/v1/contacts/import"))
                .bearer_auth(&admin)
                .header("content-type", "text/csv")
                .body(file),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    // GraphQL errors with a person's data in the input.
    let q = json!({ "query": "mutation($id: ID!, $input: ContactInput!) { updateContact(id: $id, version: 999, input: $input) { name } }",
                    "variables": { "id": cid, "input": { "organisationId": contact["organisationId"], "name": contact["name"], "email": contact["email"] } } });
    p.send(p.http.post(p.url("/graphql")).bearer_auth(&admin).json(&q))
        .await;
    // Searching for a person: the search term must not end up in the log.
    let surname = contact["name"]
        .as_str()
        .and_then(|n| n.split_whitespace().last())
        .expect("surname")
        .to_owned();
    let (st, _) = p
        .send(
            p.http
                .get(p.url("/api/v1/contacts"))
                .query(&[("search", surname.as_str())])
                .bearer_auth(&admin),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    let Probe { server, errors, .. } = p;
    assert!(server.stop());
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

#[tokio::test]
async fn nothing_personal_in_logs_or_errors_sqlite() {
    nothing_personal(None).await;
}

#[tokio::test]
async fn nothing_personal_in_logs_or_errors_postgres() {
    if let Some(pg) = PgDatabase::create() {
        nothing_personal(Some(pg)).await;
    }
}
