//! People's rights through HTTP (issue 12, item 7), on both databases: erasure of a
//! volunteer and of a contact keeps the counts and the records that point at them, drops
//! the idempotency replays that held them and is refused outside the caller's rights; the
//! access request lists what is held; mentee references are dropped after the retention
//! period, by the server at start and by `verbund retention`; a name is no pseudonym.

use reqwest::StatusCode;
use serde_json::{Value, json};
use verbund_e2e::{Demo, PgDatabase, graphql, on_both_databases, refusal};

/// A request with a method, a token, a JSON body and headers.
async fn request(
    s: &Demo,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = s.http.request(method, s.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    s.send(req, token).await
}

async fn erase(s: &Demo, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    request(
        s,
        reqwest::Method::POST,
        path,
        token,
        None,
        &[("if-match", "*")],
    )
    .await
}

async fn volunteers_total(s: &Demo) -> (i64, i64) {
    let t = s
        .get(
            "/api/v1/statistics/volunteers?groupBy=status",
            Some(&s.admin),
        )
        .await;
    (
        t["total"]["count"].as_i64().expect("count"),
        t["total"]["amount"].as_i64().expect("capacity"),
    )
}

async fn erasure(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    // A volunteer who mentors, and a fresh one created with an idempotency key.
    let page = s.get("/api/v1/mentorships?first=100", Some(&s.admin)).await;
    let mentorship = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|m| m["mentorId"].is_string())
        .expect("a mentored mentorship")
        .clone();
    let vid = mentorship["mentorId"].as_str().expect("mentor").to_owned();
    let volunteer = s
        .get(&format!("/api/v1/volunteers/{vid}"), Some(&s.admin))
        .await;
    let org = volunteer["organisationId"]
        .as_str()
        .expect("org")
        .to_owned();
    let org_admin = s.token(&["--role", "org_admin", "--organisation", &org]);
    let before = volunteers_total(&s).await;

    // Who may not erase: anonymous, the ministry, another organisation's admin.
    let path = format!("/api/v1/volunteers/{vid}/erasure");
    let ministry = s.token(&["--role", "ministry_analyst"]);
    assert_eq!(erase(&s, &path, None).await.0, StatusCode::UNAUTHORIZED);
    // The ministry reads no volunteers: to it, the record does not exist.
    assert_eq!(
        erase(&s, &path, Some(&ministry)).await.0,
        StatusCode::NOT_FOUND
    );
    let orgs = s
        .get("/api/v1/organisations?first=100", Some(&s.admin))
        .await;
    let home = s
        .get(&format!("/api/v1/organisations/{org}"), Some(&s.admin))
        .await;
    // An organisation that is neither the volunteer's nor above it (a programme partner
    // reads its members' records).
    let other = orgs["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|o| o["kind"] != "programme_partner")
        .map(|o| o["id"].as_str().expect("id").to_owned())
        .find(|id| *id != org && Some(id.as_str()) != home["parentOrganisationId"].as_str())
        .expect("another organisation");
    let stranger = s.token(&["--role", "org_admin", "--organisation", &other]);
    let (status, _) = erase(&s, &path, Some(&stranger)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = request(
        &s,
        reqwest::Method::GET,
        &format!("/api/v1/volunteers/{vid}/personal-data"),
        Some(&ministry),
        None,
        &[],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the ministry holds no person"
    );
    // Without If-Match: 428; with an old version: 412.
    let (status, _) = request(
        &s,
        reqwest::Method::POST,
        &path,
        Some(&org_admin),
        None,
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _) = request(
        &s,
        reqwest::Method::POST,
        &path,
        Some(&org_admin),
        None,
        &[("if-match", "\"999\"")],
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // The access request lists what is held.
    let held = s
        .get(
            &format!("/api/v1/volunteers/{vid}/personal-data"),
            Some(&org_admin),
        )
        .await;
    assert_eq!(held["entity"], "volunteer");
    assert_eq!(held["record"]["reference"], volunteer["reference"]);
    assert!(
        held["referencedBy"]
            .as_array()
            .expect("refs")
            .iter()
            .any(|r| r["entity"] == "mentorship" && r["id"] == mentorship["id"]),
        "{held}"
    );
    assert!(
        held["auditEvents"]
            .as_array()
            .expect("audit")
            .iter()
            .any(|e| e["action"] == "create"),
        "{held}"
    );

    // Erased by its organisation's admin.
    let (status, erased) = erase(&s, &path, Some(&org_admin)).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["id"], vid.as_str());
    assert_eq!(
        erased["version"],
        volunteer["version"].as_i64().expect("v") + 1
    );
    assert!(
        erased["reference"]
            .as_str()
            .expect("reference")
            .starts_with("erased-")
    );
    assert_eq!(erased["languages"], json!([]));
    assert!(erased["externalId"].is_null());
    assert_eq!(erased["capacity"], volunteer["capacity"]);
    // The counts stay; the mentorship still points at the volunteer, unchanged.
    assert_eq!(volunteers_total(&s).await, before);
    let after = s
        .get(
            &format!(
                "/api/v1/mentorships/{}",
                mentorship["id"].as_str().expect("id")
            ),
            Some(&s.admin),
        )
        .await;
    assert_eq!(after["mentorId"], vid.as_str());
    assert_eq!(after["version"], mentorship["version"]);
    // The audit trail names the erasure and the fields, never the old value.
    let held = s
        .get(
            &format!("/api/v1/volunteers/{vid}/personal-data"),
            Some(&org_admin),
        )
        .await;
    let old_reference = volunteer["reference"].as_str().expect("reference");
    assert!(!held.to_string().contains(old_reference), "{held}");
    let erase_event = held["auditEvents"]
        .as_array()
        .expect("audit")
        .iter()
        .find(|e| e["action"] == "erase")
        .expect("an erase event")
        .clone();
    assert!(
        erase_event["fields"]
            .as_array()
            .expect("fields")
            .contains(&json!("reference"))
    );
    // The erased record is still a valid one: it can be written back as it is.
    let (status, body) = request(
        &s,
        reqwest::Method::PUT,
        &format!("/api/v1/volunteers/{vid}"),
        Some(&org_admin),
        Some(json!({
            "organisationId": org,
            "reference": erased["reference"],
            "capacity": erased["capacity"],
            "languages": [],
            "active": erased["active"],
        })),
        &[("if-match", "*")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Idempotency replays holding a person are dropped with it.
    let key = "rights-test-key-1";
    let create = json!({ "organisationId": org, "reference": "EA-9911", "capacity": 1, "languages": ["de"] });
    let (status, created) = request(
        &s,
        reqwest::Method::POST,
        "/api/v1/volunteers",
        Some(&org_admin),
        Some(create.clone()),
        &[("idempotency-key", key)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let nid = created["id"].as_str().expect("id").to_owned();
    let held = s
        .get(
            &format!("/api/v1/volunteers/{nid}/personal-data"),
            Some(&org_admin),
        )
        .await;
    assert_eq!(held["idempotencyReplays"], 1, "{held}");
    let (status, _) = erase(
        &s,
        &format!("/api/v1/volunteers/{nid}/erasure"),
        Some(&org_admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let held = s
        .get(
            &format!("/api/v1/volunteers/{nid}/personal-data"),
            Some(&org_admin),
        )
        .await;
    assert_eq!(held["idempotencyReplays"], 0, "{held}");
    assert!(!held.to_string().contains("EA-9911"));

    // A contact on a committee: erased, the committee still names it.
    let committees = s.get("/api/v1/committees?first=100", Some(&s.admin)).await;
    let (committee, cid) = committees["items"]
        .as_array()
        .expect("items")
        .iter()
        .find_map(|c| {
            c["memberContactIds"]
                .as_array()
                .and_then(|a| a.first())
                .map(|id| (c.clone(), id.as_str().expect("id").to_owned()))
        })
        .expect("a committee with a contact");
    let contact = s
        .get(&format!("/api/v1/contacts/{cid}"), Some(&s.admin))
        .await;
    let corg = contact["organisationId"].as_str().expect("org").to_owned();
    let member = s.token(&["--role", "org_member", "--organisation", &corg]);
    let cpath = format!("/api/v1/contacts/{cid}/erasure");
    assert_eq!(
        erase(&s, &cpath, Some(&member)).await.0,
        StatusCode::FORBIDDEN,
        "an org_member may not change contacts"
    );
    let held = s
        .get(
            &format!("/api/v1/contacts/{cid}/personal-data"),
            Some(&s.admin),
        )
        .await;
    assert!(
        held["referencedBy"]
            .as_array()
            .expect("refs")
            .iter()
            .any(|r| r["entity"] == "committee" && r["id"] == committee["id"]),
        "{held}"
    );
    // Through GraphQL this time.
    let gid = graphql(
        &s.server,
        "{ contacts(first: 100) { edges { node { id name } } } }",
        Some(&s.admin),
    )
    .await;
    let gid = gid["data"]["contacts"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["name"] == contact["name"])
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .expect("the contact in GraphQL");
    let out = graphql(
        &s.server,
        &format!("mutation {{ eraseContact(id: \"{gid}\") {{ name email phone version }} }}"),
        Some(&s.admin),
    )
    .await;
    assert!(out["errors"].is_null(), "{out}");
    assert_eq!(out["data"]["eraseContact"]["name"], "(erased)");
    assert!(out["data"]["eraseContact"]["email"].is_null());
    assert!(out["data"]["eraseContact"]["phone"].is_null());
    let again = s
        .get(
            &format!(
                "/api/v1/committees/{}",
                committee["id"].as_str().expect("id")
            ),
            Some(&s.admin),
        )
        .await;
    assert!(
        again["memberContactIds"]
            .as_array()
            .expect("contacts")
            .contains(&json!(cid))
    );
    let held = s
        .get(
            &format!("/api/v1/contacts/{cid}/personal-data"),
            Some(&s.admin),
        )
        .await;
    for field in ["email", "phone"] {
        if let Some(v) = contact[field].as_str() {
            assert!(!held.to_string().contains(v), "{field} still held: {held}");
        }
    }
    assert!(
        !held
            .to_string()
            .contains(contact["name"].as_str().expect("name"))
    );
}

async fn retention(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    // At start the server dropped the references of mentorships ended over 365 days ago.
    let today = chrono::Utc::now().date_naive();
    let mut old_ended = 0;
    let mut after = String::new();
    loop {
        let page = s
            .get(
                &format!("/api/v1/mentorships?status=ended&first=100{after}"),
                Some(&s.admin),
            )
            .await;
        for m in page["items"].as_array().expect("items") {
            let ended: chrono::NaiveDate = m["endedOn"]
                .as_str()
                .expect("endedOn")
                .parse()
                .expect("date");
            if (today - ended).num_days() > 366 {
                old_ended += 1;
                assert!(m["menteeRef"].is_null(), "kept past retention: {m}");
            } else if (today - ended).num_days() < 364 {
                assert!(m["menteeRef"].is_string(), "dropped too early: {m}");
            }
        }
        match page["nextCursor"].as_str() {
            Some(c) => after = format!("&after={c}"),
            None => break,
        }
    }
    assert!(
        old_ended > 0,
        "the demo has mentorships that ended long ago"
    );

    // A mentorship that ended yesterday, and `verbund retention --days 0`.
    let vol = s.get("/api/v1/volunteers?first=1", Some(&s.admin)).await;
    let org = vol["items"][0]["organisationId"]
        .as_str()
        .expect("org")
        .to_owned();
    let mentor = vol["items"][0]["id"].as_str().expect("id").to_owned();
    let yesterday = today - chrono::Duration::days(1);
    let start = today - chrono::Duration::days(60);
    let (status, m) = request(&s, reqwest::Method::POST,
            "/api/v1/mentorships",
            Some(&s.admin),
            Some(json!({
                "organisationId": org, "mentorId": mentor, "menteeRef": "T-RET-01", "format": "one_to_one",
                "targetGroup": "refugees", "status": "ended", "requestedOn": start.to_string(),
                "matchedOn": start.to_string(), "startedOn": start.to_string(),
                "endedOn": yesterday.to_string(), "endReason": "goal_reached",
            })),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().expect("id").to_owned();
    let before = s
        .get("/api/v1/statistics/mentorships_ended", Some(&s.admin))
        .await;
    // The server applied the default (365 days) at start: nothing is left to drop.
    assert_eq!(s.cli(&["retention"]), "0");
    s.cli(&["retention", "--days", "2"]);
    let kept = s
        .get(&format!("/api/v1/mentorships/{id}"), Some(&s.admin))
        .await;
    assert_eq!(
        kept["menteeRef"], "T-RET-01",
        "ended yesterday: kept for 2 days"
    );
    let dropped: u64 = s
        .cli(&["retention", "--days", "0"])
        .parse()
        .expect("a count");
    assert!(dropped >= 1);
    let now = s
        .get(&format!("/api/v1/mentorships/{id}"), Some(&s.admin))
        .await;
    assert!(now["menteeRef"].is_null(), "{now}");
    assert_eq!(now["version"], 2);
    assert_eq!(now["status"], "ended");
    // The count stays, the audit trail says why, and the record can be written back.
    let after = s
        .get("/api/v1/statistics/mentorships_ended", Some(&s.admin))
        .await;
    assert_eq!(after["total"], before["total"]);
    let events = graphql(
        &s.server,
        "{ auditEvents(first: 5) { edges { node { action fields } } } }",
        Some(&s.admin),
    )
    .await;
    assert!(
        events.to_string().contains("retention") && events.to_string().contains("mentee"),
        "{events}"
    );
    let mut back = now.clone();
    for f in ["id", "version", "createdAt", "updatedAt"] {
        back.as_object_mut().expect("object").remove(f);
    }
    back.as_object_mut()
        .expect("object")
        .retain(|_, v| !v.is_null());
    let (status, body) = request(
        &s,
        reqwest::Method::PUT,
        &format!("/api/v1/mentorships/{id}"),
        Some(&s.admin),
        Some(back),
        &[("if-match", "*")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A name is no pseudonym, through both doors.
    let (status, body) = request(
        &s,
        reqwest::Method::POST,
        "/api/v1/volunteers",
        Some(&s.admin),
        Some(json!({ "organisationId": org, "reference": "Max Mustermann", "capacity": 1 })),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("reference"), "{body}");
    assert!(!body.to_string().contains("Mustermann"), "no echo: {body}");
    let out = graphql(
        &s.server,
        &format!(
            "mutation {{ createMentorship(input: {{ organisationId: \"{}\", menteeRef: \"Max Mustermann\", format: \"one_to_one\", targetGroup: \"refugees\" }}) {{ id }} }}",
            graphql_org(&s).await
        ),
        Some(&s.admin),
    )
    .await;
    assert_eq!(refusal(&out).0, "VALIDATION", "{out}");
    assert!(out.to_string().contains("menteeRef"), "{out}");
}

/// The UUID of some organisation, as GraphQL inputs take it (`organisationId`).
async fn graphql_org(s: &Demo) -> String {
    let out = graphql(
        &s.server,
        "{ organisations(first: 1) { edges { node { uuid } } } }",
        Some(&s.admin),
    )
    .await;
    out["data"]["organisations"]["edges"][0]["node"]["uuid"]
        .as_str()
        .expect("an organisation in GraphQL")
        .to_owned()
}

on_both_databases!(erasure => erasure_keeps_counts_and_references_sqlite, erasure_keeps_counts_and_references_postgres);

on_both_databases!(retention => mentee_references_expire_and_names_are_refused_sqlite, mentee_references_expire_and_names_are_refused_postgres);
