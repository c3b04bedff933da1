//! The door matrix (issue 13): the same attempt through every door that writes — REST PUT,
//! GraphQL update, CSV import and the transitions endpoint — meets the same rule in the one
//! write path, with the same code and the same field, and changes nothing. On SQLite and
//! PostgreSQL. And every problem document's `status` is the HTTP status it came with.

use reqwest::StatusCode;
use serde_json::{Value, json};
use verbund_e2e::{Demo, PgDatabase, graphql, on_both_databases, refusal};

/// A request as the federal admin.
async fn as_admin(s: &Demo, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    s.send(req, Some(&s.admin)).await
}

async fn put(s: &Demo, id: &str, version: i64, body: &Value) -> (StatusCode, Value) {
    as_admin(
        s,
        s.http
            .put(s.server.url(&format!("/api/v1/mentorships/{id}")))
            .header("if-match", format!("\"{version}\""))
            .json(body),
    )
    .await
}

async fn import(s: &Demo, csv: String) -> (StatusCode, Value) {
    as_admin(
        s,
        s.http
            .post(s.server.url("/api/v1/mentorships/import"))
            .header("content-type", "text/csv; charset=utf-8")
            .body(csv),
    )
    .await
}

async fn transition(s: &Demo, id: &str, version: i64, to: &str) -> (StatusCode, Value) {
    as_admin(
        s,
        s.http
            .post(
                s.server
                    .url(&format!("/api/v1/mentorships/{id}/transitions")),
            )
            .header("if-match", format!("\"{version}\""))
            .json(&json!({ "to": to, "on": "2025-06-01" })),
    )
    .await
}

async fn update_gql(s: &Demo, id: &str, version: i64, input: &Value) -> Value {
    // The input as a GraphQL object literal: keys bare, values as JSON.
    let fields: Vec<String> = input
        .as_object()
        .expect("object")
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let q = format!(
        "mutation {{ updateMentorship(id: \"{id}\", version: {version}, input: {{ {} }}) {{ id status version }} }}",
        fields.join(", ")
    );
    graphql(&s.server, &q, Some(&s.admin)).await
}

/// A mentorship in `status` with the dates it needs, as a REST/GraphQL input.
fn body(org: &str, mentor: &str, external: &str, status: &str) -> Value {
    let mut b = json!({
        "organisationId": org,
        "mentorId": mentor,
        "menteeRef": "DOOR-7",
        "format": "one_to_one",
        "targetGroup": "refugees",
        "status": status,
        "requestedOn": "2025-01-10",
        "externalId": external,
    });
    let dates: &[(&str, &str)] = match status {
        "requested" => &[],
        "matched" => &[("matchedOn", "2025-01-20")],
        "active" | "paused" => &[("matchedOn", "2025-01-20"), ("startedOn", "2025-02-01")],
        "ended" => &[
            ("matchedOn", "2025-01-20"),
            ("startedOn", "2025-02-01"),
            ("endedOn", "2025-05-01"),
            ("endReason", "goal_reached"),
        ],
        "cancelled" => &[("endedOn", "2025-01-15")],
        other => panic!("{other}"),
    };
    for (k, v) in dates {
        b[*k] = json!(v);
    }
    b
}

/// The same input as one CSV row under the import's header.
fn csv(b: &Value) -> String {
    let cols = [
        "externalId",
        "organisationId",
        "offeringId",
        "mentorId",
        "menteeRef",
        "format",
        "targetGroup",
        "status",
        "requestedOn",
        "matchedOn",
        "startedOn",
        "endedOn",
        "endReason",
    ];
    let row: Vec<String> = cols
        .iter()
        .map(|c| b[*c].as_str().unwrap_or("").to_owned())
        .collect();
    format!("{}\n{}\n", cols.join(","), row.join(","))
}

async fn status_moves(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let orgs = s
        .get("/api/v1/organisations?kind=member&first=50", Some(&s.admin))
        .await;
    // A member organisation with a volunteer, to mentor.
    let mut found = None;
    for o in orgs["items"].as_array().expect("items") {
        let id = o["id"].as_str().expect("id");
        let v = s
            .get(
                &format!("/api/v1/volunteers?organisationId={id}&first=1"),
                Some(&s.admin),
            )
            .await;
        if let Some(m) = v["items"][0]["id"].as_str() {
            found = Some((id.to_owned(), m.to_owned()));
            break;
        }
    }
    let (org, mentor) = found.expect("a member organisation with a volunteer");

    // Each (from, to): whether the write path lets a whole-record write make the move.
    let moves = [
        ("ended", "active", false),
        ("ended", "requested", false),
        ("cancelled", "ended", false),
        ("active", "requested", false),
        ("active", "matched", false),
        ("matched", "requested", false),
        ("paused", "matched", false),
        ("requested", "active", true),
        ("matched", "ended", true),
        ("active", "paused", true),
        ("paused", "active", true),
        ("requested", "cancelled", true),
    ];
    for (n, (from, to, allowed)) in moves.iter().enumerate() {
        // One record per door, so that each door starts from `from`.
        let mut ids = Vec::new();
        for door in ["put", "graphql", "csv"] {
            let external = format!("DOOR-{n}-{door}");
            let (status, created) = as_admin(
                &s,
                s.http
                    .post(s.server.url("/api/v1/mentorships"))
                    .json(&body(&org, &mentor, &external, from)),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{created}");
            ids.push((
                door,
                created["id"].as_str().expect("id").to_owned(),
                external,
            ));
        }
        for (door, id, external) in &ids {
            let input = body(&org, &mentor, external, to);
            let (status, answer) = match *door {
                "put" => put(&s, id, 1, &input).await,
                "graphql" => {
                    let r = update_gql(&s, id, 1, &input).await;
                    match r["errors"][0]["extensions"]["code"].as_str() {
                        Some("VALIDATION") => (
                            StatusCode::UNPROCESSABLE_ENTITY,
                            json!({
                                "code": "VALIDATION",
                                "fields": [{
                                    "field": r["errors"][0]["extensions"]["field"],
                                    "reason": r["errors"][0]["message"],
                                }],
                            }),
                        ),
                        Some(other) => panic!("{from} → {to} through GraphQL: {other}: {r}"),
                        None => (StatusCode::OK, r),
                    }
                }
                _ => import(&s, csv(&input)).await,
            };
            let record = s
                .get(&format!("/api/v1/mentorships/{id}"), Some(&s.admin))
                .await;
            if *allowed {
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "{from} → {to} through {door}: {answer}"
                );
                assert_eq!(record["status"], *to, "{door}");
                assert_eq!(record["version"], 2, "{door}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{from} → {to} through {door}: {answer}"
                );
                assert_eq!(answer["code"], "VALIDATION", "{door}: {answer}");
                let field = answer["fields"][0]["field"].as_str().unwrap_or_default();
                let expected = if *door == "csv" {
                    "row 2, column status"
                } else {
                    "status"
                };
                assert_eq!(field, expected, "{from} → {to} through {door}: {answer}");
                let reason = answer["fields"][0]["reason"].as_str().unwrap_or_default();
                assert!(
                    reason.contains(&format!("cannot move from `{from}` to `{to}`")),
                    "{door}: {reason}"
                );
                assert_eq!(record["status"], *from, "{door}: nothing written");
                assert_eq!(record["version"], 1, "{door}: nothing written");
            }
        }
        // The transitions endpoint: one arrow at a time, the same words.
        let id = &ids[0].1;
        let record = s
            .get(&format!("/api/v1/mentorships/{id}"), Some(&s.admin))
            .await;
        let version = record["version"].as_i64().expect("version");
        let current = record["status"].as_str().expect("status").to_owned();
        if current == *from {
            let (status, answer) = transition(&s, id, version, to).await;
            let one_arrow = matches!(
                (*from, *to),
                ("active", "paused") | ("paused", "active") | ("requested", "cancelled")
            );
            if one_arrow {
                assert_eq!(status, StatusCode::OK, "{from} → {to}: {answer}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{from} → {to}: {answer}"
                );
                assert_eq!(answer["code"], "VALIDATION");
                assert_eq!(answer["fields"][0]["field"], "to");
                let reason = answer["fields"][0]["reason"].as_str().unwrap_or_default();
                assert!(
                    reason.contains(&format!("cannot move from `{from}` to `{to}`")),
                    "{reason}"
                );
            }
        }
    }
}

on_both_databases!(status_moves => status_moves_the_same_through_every_door_sqlite, status_moves_the_same_through_every_door_postgres);

/// A problem document's `status` is the status line's, for each kind of error a door gives.
#[tokio::test]
async fn every_problem_status_is_the_http_status() {
    let s = Demo::start(None);
    let url = |p: &str| s.server.url(p);
    let nil = "00000000-0000-0000-0000-000000000000";
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        (
            "a method the path does not have",
            s.http.patch(url("/api/v1/statistics/mentorships")),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "an unknown record",
            s.http.get(url(&format!("/api/v1/mentorships/{nil}"))),
            StatusCode::NOT_FOUND,
        ),
        (
            "a bad query parameter",
            s.http.get(url("/api/v1/mentorships?first=zero")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "an invalid field",
            s.http
                .post(url("/api/v1/organisations"))
                .json(&json!({ "name": "", "kind": "member" })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "a write without If-Match",
            s.http.delete(url(&format!("/api/v1/mentorships/{nil}"))),
            StatusCode::PRECONDITION_REQUIRED,
        ),
        (
            "a body that is not JSON",
            s.http
                .post(url("/api/v1/organisations"))
                .header("content-type", "text/plain")
                .body("x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (what, req, expected) in cases {
        let (status, problem) = as_admin(&s, req).await;
        assert_eq!(status, expected, "{what}: {problem}");
        assert_eq!(
            problem["status"],
            status.as_u16(),
            "{what}: the body's status is the response's: {problem}"
        );
        assert!(problem["code"].is_string(), "{what}: {problem}");
    }
    // 405 names the methods there are.
    let res = s
        .http
        .patch(url("/api/v1/statistics/mentorships"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("send");
    assert!(res.headers().get("allow").is_some(), "Allow header");
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "METHOD_NOT_ALLOWED");
}

async fn created(s: &Demo, path: &str, body: &Value) -> Value {
    let (status, created) = as_admin(s, s.http.post(s.url(path)).json(body)).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {created}");
    created
}

async fn delete(s: &Demo, path: &str, version: i64) -> (StatusCode, Value) {
    as_admin(
        s,
        s.http
            .delete(s.server.url(path))
            .header("if-match", format!("\"{version}\"")),
    )
    .await
}

/// The audit trail of one record: (action, fields) in order.
async fn audit(s: &Demo, id: &str) -> Vec<(String, Vec<String>)> {
    let r = graphql(
        &s.server,
        &format!(
            "{{ auditEvents(entityId: \"{id}\", first: 50) {{ nodes {{ action fields }} }} }}"
        ),
        Some(&s.admin),
    )
    .await;
    r["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["fields"]
                    .as_array()
                    .map(|f| {
                        f.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Deleting a record that others point at changes them as writes of their own (new version,
/// `updatedAt`, audit event, still valid), or is refused with a 409 naming those that would
/// be left invalid — and then nothing changes.
async fn cascades(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let orgs = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&s.admin))
        .await;
    let org = orgs["items"][0]["id"].as_str().expect("org").to_owned();
    let network = orgs["items"][0]["networkId"]
        .as_str()
        .expect("network")
        .to_owned();
    let volunteer = created(
        &s,
        "/api/v1/volunteers",
        &json!({ "organisationId": org, "reference": "EA-CASCADE-1", "capacity": 2 }),
    )
    .await;
    let v = volunteer["id"].as_str().expect("id").to_owned();
    let waiting = created(
        &s,
        "/api/v1/mentorships",
        &body(&org, &v, "CASCADE-WAITING", "requested"),
    )
    .await;
    let running = created(
        &s,
        "/api/v1/mentorships",
        &body(&org, &v, "CASCADE-RUNNING", "active"),
    )
    .await;
    let (w, r) = (
        waiting["id"].as_str().expect("id").to_owned(),
        running["id"].as_str().expect("id").to_owned(),
    );

    // The active mentorship needs its mentor: 409 naming it (and not the other), nothing
    // changed.
    let (status, problem) = delete(&s, &format!("/api/v1/volunteers/{v}"), 1).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "CONFLICT");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(
        detail.contains(&r),
        "names the mentorship in the way: {detail}"
    );
    assert!(!detail.contains(&w), "{detail}");
    let still = s
        .get(&format!("/api/v1/mentorships/{w}"), Some(&s.admin))
        .await;
    assert_eq!(still["version"], 1);
    assert_eq!(still["mentorId"], v.as_str());
    s.get(&format!("/api/v1/volunteers/{v}"), Some(&s.admin))
        .await;

    // Without it, the delete goes through and the waiting one loses its mentor as a write.
    let (status, _) = delete(&s, &format!("/api/v1/mentorships/{r}"), 1).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = delete(&s, &format!("/api/v1/volunteers/{v}"), 1).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
    let after = s
        .get(&format!("/api/v1/mentorships/{w}"), Some(&s.admin))
        .await;
    assert_eq!(after["version"], 2, "{after}");
    assert!(after["mentorId"].is_null(), "{after}");
    assert_ne!(after["updatedAt"], waiting["updatedAt"]);
    let trail = audit(&s, &w).await;
    assert!(
        trail
            .iter()
            .any(|(a, f)| a == "update" && f.iter().any(|x| x == "mentor_id")),
        "an audit event for the cascade: {trail:?}"
    );
    // And it stays valid: its own representation goes back through PUT.
    let mut again = body(&org, &v, "CASCADE-WAITING", "requested");
    again["mentorId"] = Value::Null;
    let (status, answer) = put(&s, &w, 2, &again).await;
    assert_eq!(status, StatusCode::OK, "{answer}");

    // A contact leaves the committees it sits on.
    let contact = created(
        &s,
        "/api/v1/contacts",
        &json!({ "organisationId": org, "name": "Kontakt Kaskade" }),
    )
    .await;
    let c = contact["id"].as_str().expect("id").to_owned();
    let committee = created(
        &s,
        "/api/v1/committees",
        &json!({ "networkId": network, "name": "Gremium Kaskade",
                     "memberOrganisationIds": [org], "memberContactIds": [c] }),
    )
    .await;
    let k = committee["id"].as_str().expect("id").to_owned();
    let (status, problem) = delete(&s, &format!("/api/v1/contacts/{c}"), 1).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{problem}");
    let after = s
        .get(&format!("/api/v1/committees/{k}"), Some(&s.admin))
        .await;
    assert_eq!(after["version"], 2, "{after}");
    assert_eq!(after["memberContactIds"], json!([]));
    assert_eq!(after["memberOrganisationIds"], json!([org]));
    assert!(
        audit(&s, &k).await.iter().any(|(a, _)| a == "update"),
        "an audit event for the committee"
    );
}

on_both_databases!(cascades => deletes_cascade_as_writes_sqlite, deletes_cascade_as_writes_postgres);

on_both_databases!(public_directory => every_role_reads_the_public_directory_sqlite, every_role_reads_the_public_directory_postgres);

/// Every role reads at least the public directory an anonymous caller reads — REST and
/// GraphQL — and its own organisation's parent; its own records keep their full fields.
async fn public_directory(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let anonymous: Vec<String> = {
        let res = s
            .http
            .get(s.server.url("/api/v1/organisations?first=100"))
            .send()
            .await
            .expect("get");
        let v: Value = res.json().await.expect("json");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| o["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert!(anonymous.len() > 10);
    let members = s
        .get("/api/v1/organisations?kind=member&first=5", Some(&s.admin))
        .await;
    let member = &members["items"][0];
    let id = member["id"].as_str().expect("id");
    let parent = member["parentOrganisationId"]
        .as_str()
        .expect("a member organisation has a parent");
    let network = member["networkId"].as_str().expect("network");
    let mint = |args: &[&str]| s.token(args);
    let tokens = [
        (
            "org_admin",
            mint(&["--role", "org_admin", "--organisation", id]),
        ),
        (
            "org_member",
            mint(&["--role", "org_member", "--organisation", id]),
        ),
        (
            "regional_coordinator",
            mint(&["--role", "regional_coordinator", "--network", network]),
        ),
        ("ministry_analyst", mint(&["--role", "ministry_analyst"])),
    ];
    let published_offerings = |t: Option<String>| {
        let s = &s;
        async move {
            let r = graphql(
                &s.server,
                "{ publicOfferings(first: 100) { nodes { id } } }",
                t.as_deref(),
            )
            .await;
            r["data"]["publicOfferings"]["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{r}"))
                .len()
        }
    };
    let public_offerings = published_offerings(None).await;
    assert!(public_offerings > 0);
    for (role, t) in &tokens {
        let res = s
            .http
            .get(s.server.url("/api/v1/organisations?first=100"))
            .bearer_auth(t)
            .send()
            .await
            .expect("get");
        let v: Value = res.json().await.expect("json");
        let seen: Vec<&str> = v["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{role}: {v}"))
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        for a in &anonymous {
            assert!(seen.contains(&a.as_str()), "{role} does not see {a}");
        }
        assert!(
            published_offerings(Some(t.clone())).await >= public_offerings,
            "{role}: public offerings"
        );
        let r = graphql(
            &s.server,
            &format!(
                "{{ organisation(id: \"{id}\") {{ name parentOrganisation {{ id name }} }} }}"
            ),
            Some(t),
        )
        .await;
        assert!(
            r["data"]["organisation"]["parentOrganisation"]["name"].is_string(),
            "{role}: the parent of {id}: {r}"
        );
        let p = s
            .http
            .get(s.server.url(&format!("/api/v1/organisations/{parent}")))
            .bearer_auth(t)
            .send()
            .await
            .expect("get");
        assert_eq!(p.status(), StatusCode::OK, "{role}: the parent over REST");
    }
    // An organisation's own record keeps the fields the directory does not show; another's
    // does not show them to it.
    let admin_view = s
        .get(&format!("/api/v1/organisations/{parent}"), Some(&s.admin))
        .await;
    let own = &tokens[0].1;
    let mine: Value = s
        .http
        .get(s.server.url(&format!("/api/v1/organisations/{id}")))
        .bearer_auth(own)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let full = s
        .get(&format!("/api/v1/organisations/{id}"), Some(&s.admin))
        .await;
    assert_eq!(mine["email"], full["email"], "own record in full");
    let theirs: Value = s
        .http
        .get(s.server.url(&format!("/api/v1/organisations/{parent}")))
        .bearer_auth(own)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        admin_view["email"].is_string() && theirs["email"].is_null(),
        "the parent's e-mail is not in the directory: {theirs}"
    );
}

/// Integration manners: a GET representation of every resource goes back through PUT as it
/// is; PATCH takes a JSON Merge Patch; the fields the server keeps are refused when they
/// contradict the record.
async fn representations(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    for r in verbund_e2e::RESOURCES {
        let page = s.get(&format!("/api/v1/{r}?first=1"), Some(&s.admin)).await;
        let record = page["items"][0].clone();
        let id = record["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}: {page}"));
        let path = format!("/api/v1/{r}/{id}");
        let version = record["version"].as_i64().expect("version");
        // PUT back what GET gave.
        let (status, answer) = as_admin(
            &s,
            s.http
                .put(s.server.url(&path))
                .header("if-match", format!("\"{version}\""))
                .json(&record),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "PUT {r} as GET gave it: {answer}");
        assert_eq!(answer["version"], version + 1, "{r}");
        let mut same = answer.clone();
        let mut before = record.clone();
        for k in ["version", "updatedAt"] {
            same[k] = Value::Null;
            before[k] = Value::Null;
        }
        assert_eq!(same, before, "{r}: nothing but the version changed");
        // A kept field that contradicts the record is refused, named.
        let mut wrong = answer.clone();
        wrong["createdAt"] = json!("2001-01-01T00:00:00Z");
        let (status, problem) = as_admin(
            &s,
            s.http
                .put(s.server.url(&path))
                .header("if-match", format!("\"{}\"", version + 1))
                .json(&wrong),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}: {problem}");
        assert_eq!(problem["fields"][0]["field"], "createdAt", "{r}: {problem}");
        // A stale If-Match is 412 before anything else.
        let (status, _) = as_admin(
            &s,
            s.http
                .patch(s.server.url(&path))
                .header("if-match", format!("\"{version}\""))
                .header("content-type", "application/merge-patch+json")
                .body("{}"),
        )
        .await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{r}");
        // An empty merge patch changes nothing but the version.
        let (status, patched) = as_admin(
            &s,
            s.http
                .patch(s.server.url(&path))
                .header("if-match", format!("\"{}\"", version + 1))
                .header("content-type", "application/merge-patch+json")
                .body("{}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "PATCH {r}: {patched}");
        assert_eq!(patched["version"], version + 2, "{r}");
    }

    // PATCH one field of a mentorship's representation; null clears an optional one.
    let page = s
        .get(
            "/api/v1/mentorships?status=requested&first=1",
            Some(&s.admin),
        )
        .await;
    let m = &page["items"][0];
    let id = m["id"].as_str().expect("id");
    let version = m["version"].as_i64().expect("version");
    let patch = |body: Value, version: i64| {
        as_admin(
            &s,
            s.http
                .patch(s.server.url(&format!("/api/v1/mentorships/{id}")))
                .header("if-match", format!("\"{version}\""))
                .header("content-type", "application/merge-patch+json")
                .body(body.to_string()),
        )
    };
    let (status, answer) = patch(
        json!({ "targetGroup": "older_people", "offeringId": null }),
        version,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["targetGroup"], "older_people");
    assert!(answer["offeringId"].is_null());
    assert_eq!(answer["menteeRef"], m["menteeRef"], "the rest stays");
    // The same rules as every door: a bad value is named, a status may not go back.
    let (status, problem) = patch(json!({ "targetGroup": "aliens" }), version + 1).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["fields"][0]["field"], "targetGroup", "{problem}");
    let (status, problem) = patch(
        json!({ "status": "cancelled", "endedOn": "2099-01-01" }),
        version + 1,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "requested → cancelled: {problem}");
    let (status, problem) = patch(
        json!({ "status": "requested", "endedOn": null }),
        version + 2,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "status", "{problem}");
    let (status, problem) = patch(json!(["not", "an", "object"]), version + 2).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    // If-None-Match: 304 while the ETag is current, the record once it is not.
    let conditional = |tag: String| {
        s.http
            .get(s.server.url(&format!("/api/v1/mentorships/{id}")))
            .bearer_auth(&s.admin)
            .header("if-none-match", tag)
            .send()
    };
    let res = conditional(format!("\"{}\"", version + 2))
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        res.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(format!("\"{}\"", version + 2).as_str())
    );
    assert!(res.bytes().await.expect("body").is_empty());
    let res = conditional(format!("\"{version}\"")).await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);
}

on_both_databases!(representations => representations_go_back_through_put_and_patch_sqlite, representations_go_back_through_put_and_patch_postgres);

/// GraphQL answers keep the order of the selection, request after request, however long
/// each field takes to resolve.
#[tokio::test]
async fn graphql_answers_in_selection_order() {
    let s = Demo::start(None);
    let query = "{ k9: statistics(measure: \"mentorships\", groupBy: [\"state\"]) { protected } \
                 k1: me { role } k8: organisations(first: 1) { totalCount } \
                 k2: volunteers(first: 1) { totalCount } k7: mentorships(first: 1) { totalCount } \
                 ...F } fragment F on Query { k3: networks(first: 1) { totalCount } }";
    let order = ["\"k9\"", "\"k1\"", "\"k8\"", "\"k2\"", "\"k7\"", "\"k3\""];
    for _ in 0..12 {
        let text = s
            .http
            .post(s.server.url("/graphql"))
            .bearer_auth(&s.admin)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("post")
            .text()
            .await
            .expect("body");
        let at: Vec<usize> = order
            .iter()
            .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} in {text}")))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}

/// The same bad filter value gets the same code and field through REST and GraphQL.
#[tokio::test]
async fn bad_filters_are_the_same_error_through_every_door() {
    let s = Demo::start(None);
    for (field, bad) in [
        ("postcode", "04a"),
        ("postcode", "123456"),
        ("language", "deu"),
    ] {
        let (status, problem) = as_admin(
            &s,
            s.http
                .get(s.server.url(&format!("/api/v1/offerings?{field}={bad}"))),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "VALIDATION");
        assert_eq!(problem["fields"][0]["field"], field, "{problem}");
        for q in [
            format!("{{ offerings(first: 1, filter: {{ {field}: \"{bad}\" }}) {{ totalCount }} }}"),
            format!("{{ publicOfferings(first: 1, {field}: \"{bad}\") {{ totalCount }} }}"),
        ] {
            let r = graphql(&s.server, &q, Some(&s.admin)).await;
            assert_eq!(refusal(&r), ("VALIDATION", field), "{q}: {r}");
            assert_eq!(
                r["errors"][0]["extensions"]["fields"][0]["reason"], problem["fields"][0]["reason"],
                "the same words: {r}"
            );
        }
    }
    // Paging: one reading of `first` and `after` for both doors.
    for (field, bad, literal) in [
        ("first", "0", "0"),
        ("first", "101", "101"),
        ("after", "not-a-cursor", "\"not-a-cursor\""),
    ] {
        let (status, problem) = as_admin(
            &s,
            s.http.get(
                s.server
                    .url(&format!("/api/v1/organisations?{field}={bad}")),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "VALIDATION");
        assert_eq!(problem["fields"][0]["field"], field, "{problem}");
        let q = format!("{{ organisations({field}: {literal}) {{ totalCount }} }}");
        let r = graphql(&s.server, &q, Some(&s.admin)).await;
        assert_eq!(refusal(&r), ("VALIDATION", field), "{q}: {r}");
        assert_eq!(
            r["errors"][0]["extensions"]["fields"][0]["reason"], problem["fields"][0]["reason"],
            "the same words: {r}"
        );
    }
}

/// One primary contact per organisation, through every door that writes contacts.
async fn one_primary_contact(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let org = created(&s, "/api/v1/organisations",
            &json!({ "kind": "member", "sector": "civil_society",
                     "networkId": s.get("/api/v1/networks?level=regional&first=1", Some(&s.admin)).await["items"][0]["id"],
                     "name": "Primär e. V." }),
        )
        .await;
    let org = org["id"].as_str().expect("id").to_owned();
    let first = created(
        &s,
        "/api/v1/contacts",
        &json!({ "organisationId": org, "name": "Erste Person", "primary": true }),
    )
    .await;
    let second = created(
        &s,
        "/api/v1/contacts",
        &json!({ "organisationId": org, "name": "Zweite Person", "externalId": "K-2" }),
    )
    .await;
    let two = second["id"].as_str().expect("id");
    let refused = |status: StatusCode, problem: &Value, door: &str| {
        assert_eq!(status, StatusCode::CONFLICT, "{door}: {problem}");
        assert_eq!(problem["code"], "CONFLICT", "{door}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("primary contact already")),
            "{door}: {problem}"
        );
    };
    let (status, problem) = as_admin(
        &s,
        s.http
            .post(s.server.url("/api/v1/contacts"))
            .json(&json!({ "organisationId": org, "name": "Dritte", "primary": true })),
    )
    .await;
    refused(status, &problem, "POST");
    let (status, problem) = as_admin(
        &s,
        s.http
            .patch(s.server.url(&format!("/api/v1/contacts/{two}")))
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"primary": true}"#),
    )
    .await;
    refused(status, &problem, "PATCH");
    let (status, problem) = as_admin(
        &s,
        s.http
            .post(s.server.url("/api/v1/contacts/import"))
            .header("content-type", "text/csv")
            .body(format!(
                "externalId;organisationId;name;primary\nK-2;{org};Zweite Person;ja\n"
            )),
    )
    .await;
    refused(status, &problem, "CSV");
    assert_eq!(
        s.get(&format!("/api/v1/contacts/{two}"), Some(&s.admin))
            .await["version"],
        1,
        "nothing written"
    );
    // Unmark the first, then the second may be primary.
    let one = first["id"].as_str().expect("id");
    let (status, _) = as_admin(
        &s,
        s.http
            .patch(s.server.url(&format!("/api/v1/contacts/{one}")))
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"primary": false}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = as_admin(
        &s,
        s.http
            .patch(s.server.url(&format!("/api/v1/contacts/{two}")))
            .header("if-match", "\"1\"")
            .header("content-type", "application/merge-patch+json")
            .body(r#"{"primary": true}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

on_both_databases!(one_primary_contact => one_primary_contact_per_organisation_sqlite, one_primary_contact_per_organisation_postgres);

/// One attempt through every door that writes a whole mentorship, as `token`: REST
/// POST (a new record), PUT and PATCH (over `existing`, version 1 each), GraphQL
/// create and update, CSV import (over `existing`'s external id). Each answer as
/// (door, status, code, field).
async fn every_door(
    s: &Demo,
    token: &str,
    input: &Value,
    existing: &[(String, String); 4],
) -> Vec<(String, u16, String, String)> {
    let mut out = Vec::new();
    let as_caller = |req: reqwest::RequestBuilder| req.bearer_auth(token);
    let answer = |door: &str, res: reqwest::Response| {
        let door = door.to_owned();
        async move {
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (
                door,
                status,
                body["code"].as_str().unwrap_or("").to_owned(),
                body["fields"][0]["field"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    let mut fresh = input.clone();
    fresh["externalId"] = json!(format!("NEW-{}", uuid::Uuid::now_v7().simple()));
    let res = as_caller(s.http.post(s.server.url("/api/v1/mentorships")))
        .json(&fresh)
        .send()
        .await
        .expect("post");
    out.push(answer("POST", res).await);
    // PUT over the first existing record, PATCH (merge patch) over the second.
    for (door, (id, external_id)) in ["PUT", "PATCH"].into_iter().zip(existing) {
        let mut over = input.clone();
        over["externalId"] = json!(external_id);
        let url = s.url(&format!("/api/v1/mentorships/{id}"));
        let req = match door {
            "PUT" => s.http.put(url).json(&over),
            _ => s
                .http
                .patch(url)
                .header("content-type", "application/merge-patch+json")
                .body(over.to_string()),
        };
        let res = as_caller(req.header("if-match", "\"1\""));
        out.push(answer(door, res.send().await.expect("write")).await);
    }
    let literal = |v: &Value| -> String {
        v.as_object()
            .expect("object")
            .iter()
            .filter(|(_, x)| !x.is_null())
            .map(|(k, x)| format!("{k}: {x}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let gql = |q: String| async move {
        let r = graphql(&s.server, &q, Some(token)).await;
        let e = &r["errors"][0]["extensions"];
        (
            if r["errors"].is_array() { 400 } else { 200 },
            e["code"].as_str().unwrap_or("").to_owned(),
            e["field"].as_str().unwrap_or("").to_owned(),
        )
    };
    let (status, code, field) = gql(format!(
        "mutation {{ createMentorship(input: {{ {} }}) {{ id }} }}",
        literal(&fresh)
    ))
    .await;
    out.push(("GraphQL create".into(), status, code, field));
    let mut over = input.clone();
    over["externalId"] = json!(existing[2].1);
    let (status, code, field) = gql(format!(
        "mutation {{ updateMentorship(id: \"{}\", version: 1, input: {{ {} }}) {{ id }} }}",
        existing[2].0,
        literal(&over)
    ))
    .await;
    out.push(("GraphQL update".into(), status, code, field));
    let mut over = input.clone();
    over["externalId"] = json!(existing[3].1);
    let res = as_caller(s.http.post(s.server.url("/api/v1/mentorships/import")))
        .header("content-type", "text/csv")
        .body(csv(&over))
        .send()
        .await
        .expect("import");
    let (door, status, code, field) = answer("CSV", res).await;
    // A CSV report names the row and the column.
    let field = field
        .strip_prefix("row 2, column ")
        .map(str::to_owned)
        .unwrap_or(field);
    out.push((door, status, code, field));
    out
}

/// The door matrix for the rules that are not status moves: a mentor once matched, the
/// scope of a foreign id, a bad value. Each attempt gets the same code and field through
/// every door, and nothing is written.
async fn door_matrix(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let members = s
        .get("/api/v1/organisations?kind=member&first=50", Some(&s.admin))
        .await;
    let mut with_volunteer = Vec::new();
    for o in members["items"].as_array().expect("items") {
        let id = o["id"].as_str().expect("id");
        let v = s
            .get(
                &format!("/api/v1/volunteers?organisationId={id}&first=1"),
                Some(&s.admin),
            )
            .await;
        if let Some(m) = v["items"][0]["id"].as_str() {
            with_volunteer.push((id.to_owned(), m.to_owned()));
        }
        if with_volunteer.len() == 2 {
            break;
        }
    }
    let (org, mentor) = with_volunteer[0].clone();
    let (other_org, other_mentor) = with_volunteer[1].clone();
    let org_admin = s.token(&["--role", "org_admin", "--organisation", &org]);

    // Four requested mentorships of `org`, one per door that writes over a record.
    let mut existing = Vec::new();
    for i in 0..4 {
        let external = format!("MATRIX-{i}");
        let m = created(
            &s,
            "/api/v1/mentorships",
            &body(&org, &mentor, &external, "requested"),
        )
        .await;
        existing.push((m["id"].as_str().expect("id").to_owned(), external));
    }
    let existing: [(String, String); 4] = existing.try_into().expect("four");

    let mut no_mentor = body(&org, &mentor, "", "matched");
    no_mentor["mentorId"] = Value::Null;
    let mut bad_group = body(&org, &mentor, "", "requested");
    bad_group["targetGroup"] = json!("aliens");
    let mut foreign_mentor = body(&org, &mentor, "", "requested");
    foreign_mentor["mentorId"] = json!(other_mentor);
    let mut bad_date_order = body(&org, &mentor, "", "active");
    bad_date_order["startedOn"] = json!("2024-01-01");
    let cases: Vec<(&str, &str, Value, u16, &str, &str)> = vec![
        (
            "a matched mentorship without a mentor",
            "admin",
            no_mentor,
            422,
            "VALIDATION",
            "mentorId",
        ),
        (
            "an unknown target group",
            "admin",
            bad_group,
            422,
            "VALIDATION",
            "targetGroup",
        ),
        (
            "a mentor of another organisation",
            "admin",
            foreign_mentor,
            422,
            "VALIDATION",
            "mentorId",
        ),
        (
            "dates out of order",
            "admin",
            bad_date_order,
            422,
            "VALIDATION",
            "startedOn",
        ),
    ];
    for (what, who, input, status, code, field) in cases {
        let token = if who == "admin" { &s.admin } else { &org_admin };
        for (door, got_status, got_code, got_field) in
            every_door(&s, token, &input, &existing).await
        {
            let expected_status = if door.starts_with("GraphQL") {
                400
            } else {
                status
            };
            assert_eq!(
                (got_status, got_code.as_str(), got_field.as_str()),
                (expected_status, code, field),
                "{what} through {door}"
            );
        }
    }
    // The scope of a foreign id: an org_admin writing a mentorship into another
    // organisation is forbidden through every door (that organisation is in the public
    // directory, so it is known, not "not found").
    let mut elsewhere = body(&other_org, &other_mentor, "", "requested");
    elsewhere["mentorId"] = Value::Null;
    for (door, got_status, got_code, _) in every_door(&s, &org_admin, &elsewhere, &existing).await {
        let expected_status = if door.starts_with("GraphQL") {
            400
        } else {
            403
        };
        assert_eq!(
            (got_status, got_code.as_str()),
            (expected_status, "FORBIDDEN"),
            "another organisation's mentorship through {door}"
        );
    }
    // Nothing was written over the four.
    for (id, _) in &existing {
        let m = s
            .get(&format!("/api/v1/mentorships/{id}"), Some(&s.admin))
            .await;
        assert_eq!(m["version"], 1, "{m}");
        assert_eq!(m["organisationId"], org.as_str());
    }
    // The transitions door: matching needs a mentor, named the same.
    let (id, _) = &existing[0];
    let mut bare = body(&org, &mentor, "MATRIX-0", "requested");
    bare["mentorId"] = Value::Null;
    let (status, answer) = put(&s, id, 1, &bare).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, problem) = transition(&s, id, 2, "matched").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "VALIDATION");
    assert_eq!(problem["fields"][0]["field"], "mentorId", "{problem}");
}

on_both_databases!(door_matrix => the_same_attempt_gets_the_same_answer_through_every_door_sqlite, the_same_attempt_gets_the_same_answer_through_every_door_postgres);

/// A REST list carries its total on request, counted in the caller's scope and filter.
#[tokio::test]
async fn lists_carry_a_total_on_request() {
    let s = Demo::start(None);
    let page = s
        .get("/api/v1/organisations?first=2&total=true", Some(&s.admin))
        .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let all = s
        .get("/api/v1/organisations?first=100", Some(&s.admin))
        .await;
    assert_eq!(
        page["total"].as_u64(),
        all["items"].as_array().map(|a| a.len() as u64),
        "{page}"
    );
    let members = s
        .get(
            "/api/v1/organisations?kind=member&first=1&total=true",
            Some(&s.admin),
        )
        .await;
    assert!(members["total"].as_u64() < page["total"].as_u64());
    let plain = s.get("/api/v1/organisations?first=2", Some(&s.admin)).await;
    assert!(plain.get("total").is_none(), "only on request: {plain}");
    // Anonymous: the same directory, so the same total.
    let anonymous: Value = s
        .http
        .get(s.server.url("/api/v1/organisations?first=1&total=true"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(anonymous["total"], page["total"]);
    let volunteers = s.get("/api/v1/volunteers?first=1&total=true", None).await;
    assert_eq!(
        volunteers["total"], 0,
        "no person for anonymous: {volunteers}"
    );
}

/// One definition per resource: the same record reads the same through REST and GraphQL —
/// every field REST gives (and its value) is a GraphQL field of the same name, `id` being
/// GraphQL's `uuid`; enums are the same words; links are UUIDs in `…Id` fields in both.
async fn both_doors_read_alike(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    for (path, list) in [
        ("networks", "networks"),
        ("organisations", "organisations"),
        ("contacts", "contacts"),
        ("offerings", "offerings"),
        ("volunteers", "volunteers"),
        ("staff", "staff"),
        ("mentorships", "mentorships"),
        ("cooperations", "cooperations"),
        ("committees", "committees"),
        ("fundings", "fundings"),
    ] {
        let page = s
            .get(&format!("/api/v1/{path}?first=1"), Some(&s.admin))
            .await;
        let rest = page["items"][0].as_object().cloned().expect("a record");
        // GraphQL's names for REST's fields.
        let gql_name = |k: &str| match k {
            "id" => "uuid".to_owned(),
            "serviceArea" => "serviceAreaIds".to_owned(),
            "partners" => "partners { organisationId role resources }".to_owned(),
            k => k.to_owned(),
        };
        let fields: Vec<String> = rest.keys().map(|k| gql_name(k)).collect();
        let q = format!(
            "{{ {list}(first: 1) {{ edges {{ node {{ {} }} }} }} }}",
            fields.join(" ")
        );
        let out = graphql(&s.server, &q, Some(&s.admin)).await;
        assert!(out["errors"].is_null(), "{path}: {out}");
        let node = &out["data"][list]["edges"][0]["node"];
        for (k, v) in &rest {
            let g = gql_name(k);
            let g = g.split(' ').next().unwrap_or_default();
            let got = &node[g];
            // Times: the same instant, perhaps written with other digits.
            if k.ends_with("At") {
                assert_eq!(
                    v.as_str().map(|t| t.get(..19)),
                    got.as_str().map(|t| t.get(..19)),
                    "{path}.{k}"
                );
            } else {
                assert_eq!(v, got, "{path}.{k} through REST and GraphQL");
            }
        }
    }
    // Links as objects, beside the UUIDs.
    let out = graphql(
        &s.server,
        "{ committees(first: 5) { edges { node { memberOrganisationIds memberOrganisations { uuid name } } } }
           fundings(first: 100) { edges { node { passedOnFromId passedOnFrom { uuid } } } }
           cooperations(first: 1) { edges { node { partners { organisationId organisation { uuid } } } } } }",
        Some(&s.admin),
    )
    .await;
    assert!(out["errors"].is_null(), "{out}");
    for c in out["data"]["committees"]["edges"]
        .as_array()
        .expect("committees")
    {
        let ids = &c["node"]["memberOrganisationIds"];
        let objects: Vec<&Value> = c["node"]["memberOrganisations"]
            .as_array()
            .expect("members")
            .iter()
            .map(|o| &o["uuid"])
            .collect();
        assert_eq!(
            ids.as_array().map(|a| a.iter().collect::<Vec<_>>()),
            Some(objects)
        );
    }
    let fundings = out["data"]["fundings"]["edges"]
        .as_array()
        .expect("fundings");
    assert!(
        fundings
            .iter()
            .any(|f| !f["node"]["passedOnFromId"].is_null()),
        "the demo passes funding on"
    );
    for f in fundings {
        assert_eq!(
            f["node"]["passedOnFromId"], f["node"]["passedOnFrom"]["uuid"],
            "{f}"
        );
    }
    for p in out["data"]["cooperations"]["edges"][0]["node"]["partners"]
        .as_array()
        .expect("partners")
    {
        assert_eq!(p["organisationId"], p["organisation"]["uuid"]);
    }
    // A GraphQL enum takes and gives the same words as REST.
    let out = graphql(
        &s.server,
        "{ __type(name: \"TargetGroup\") { enumValues { name } } }",
        Some(&s.admin),
    )
    .await;
    let words: Vec<&str> = out["data"]["__type"]["enumValues"]
        .as_array()
        .expect("an enum")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert!(
        words.contains(&"young_people") && words.contains(&"refugees"),
        "{out}"
    );
}

on_both_databases!(both_doors_read_alike => one_record_reads_alike_through_both_doors_sqlite, one_record_reads_alike_through_both_doors_postgres);

/// The association register entry (issue 13, the one new field): written and read through
/// REST, PATCH, GraphQL and CSV alike, refused alike when it is half or malformed.
async fn register_entry(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let page = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&s.admin))
        .await;
    let org = page["items"][0].clone();
    let id = org["id"].as_str().expect("id").to_owned();
    assert!(
        org["registerNumber"]
            .as_str()
            .is_some_and(|n| n.starts_with("VR ")),
        "the demo: {org}"
    );
    // PATCH a new entry (normalised), read it back through GraphQL.
    let (status, patched) = as_admin(&s, s.http
                .patch(s.server.url(&format!("/api/v1/organisations/{id}")))
                .header("if-match", format!("\"{}\"", org["version"]))
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"registerCourt":"Amtsgericht Berlin-Charlottenburg","registerNumber":"VR  12345B"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["registerNumber"], "VR 12345 B");
    let read = s
        .get(&format!("/api/v1/organisations/{id}"), Some(&s.admin))
        .await;
    assert_eq!(
        read, patched,
        "a write answers with the record a read gives"
    );
    let out = graphql(
        &s.server,
        &format!("{{ organisation(id: \"{id}\") {{ registerCourt registerNumber }} }}"),
        Some(&s.admin),
    )
    .await;
    assert_eq!(
        out["data"]["organisation"]["registerCourt"], "Amtsgericht Berlin-Charlottenburg",
        "{out}"
    );
    assert_eq!(out["data"]["organisation"]["registerNumber"], "VR 12345 B");
    // A number without its court: the same 422 and field through REST and GraphQL.
    let mut half = patched.clone();
    half["registerCourt"] = Value::Null;
    let (status, body) = as_admin(
        &s,
        s.http
            .put(s.server.url(&format!("/api/v1/organisations/{id}")))
            .header("if-match", format!("\"{}\"", patched["version"]))
            .json(&half),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "VALIDATION");
    assert_eq!(body["fields"][0]["field"], "registerCourt", "{body}");
    let out = graphql(
        &s.server,
        &format!(
            "mutation {{ updateOrganisation(id: \"{id}\", version: {}, input: {{ kind: \"member\", sector: {}, networkId: {}, parentOrganisationId: {}, name: {}, registerNumber: \"VR 1\" }}) {{ id }} }}",
            patched["version"], patched["sector"], patched["networkId"], patched["parentOrganisationId"], patched["name"]
        ),
        Some(&s.admin),
    )
    .await;
    assert_eq!(refusal(&out), ("VALIDATION", "registerCourt"), "{out}");
    // The CSV files carry the columns; a malformed number is named by row and column.
    let (status, text) = {
        let res = s
            .http
            .get(s.server.url("/api/v1/organisations/export"))
            .bearer_auth(&s.admin)
            .send()
            .await
            .expect("export");
        (res.status(), res.text().await.expect("text"))
    };
    assert_eq!(status, StatusCode::OK);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("registerCourt") && header.contains("registerNumber"),
        "{header}"
    );
    assert!(text.contains("VR 12345 B"), "the patched entry is exported");
    let csv = format!(
        "externalId,kind,sector,networkId,name,registerCourt,registerNumber\nREG-1,member,civil_society,{},Neuer Verein,Amtsgericht Leipzig,XY 1\n",
        patched["networkId"].as_str().unwrap_or_default()
    );
    let (status, body) = as_admin(
        &s,
        s.http
            .post(s.server.url("/api/v1/organisations/import"))
            .header("content-type", "text/csv")
            .body(csv),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("registerNumber"), "{body}");
}

on_both_databases!(register_entry => the_register_entry_goes_through_every_door_sqlite, the_register_entry_goes_through_every_door_postgres);

/// An organisation's token may leave out `organisationId`: its own organisation, through
/// REST, GraphQL and CSV alike. A caller not anchored at one organisation must name it (the
/// same 422 naming `organisationId` in every door).
async fn own_organisation_by_default(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let page = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&s.admin))
        .await;
    let org = page["items"][0]["id"]
        .as_str()
        .expect("a member")
        .to_owned();
    let org_admin = s.token(&["--role", "org_admin", "--organisation", &org]);
    let post = |tok: String, body: Value| {
        let req = s
            .http
            .post(s.server.url("/api/v1/volunteers"))
            .bearer_auth(tok)
            .json(&body);
        async move {
            let res = req.send().await.expect("post");
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, created) = post(
        org_admin.clone(),
        json!({ "reference": "EA-DEFAULT-1", "capacity": 2 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["organisationId"], org.as_str());
    let out = graphql(
        &s.server,
        "mutation { createVolunteer(input: { reference: \"EA-DEFAULT-2\", capacity: 1 }) { organisationId } }",
        Some(&org_admin),
    )
    .await;
    assert_eq!(
        out["data"]["createVolunteer"]["organisationId"],
        org.as_str(),
        "{out}"
    );
    let res = s
        .http
        .post(s.server.url("/api/v1/volunteers/import"))
        .bearer_auth(&org_admin)
        .header("content-type", "text/csv")
        .body("externalId;reference;capacity\nDEFAULT-3;EA-DEFAULT-3;1\n")
        .send()
        .await
        .expect("import");
    assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
    let mine = s
        .get(
            &format!("/api/v1/volunteers?organisationId={org}&first=100"),
            Some(&s.admin),
        )
        .await;
    let refs: Vec<&str> = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|v| v["reference"].as_str())
        .collect();
    for r in ["EA-DEFAULT-1", "EA-DEFAULT-2", "EA-DEFAULT-3"] {
        assert!(refs.contains(&r), "{r} in {refs:?}");
    }
    // The federal admin has no organisation of its own: the same refusal in both doors.
    let (status, problem) = post(
        s.admin.clone(),
        json!({ "reference": "EA-DEFAULT-4", "capacity": 2 }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "organisationId", "{problem}");
    let out = graphql(
        &s.server,
        "mutation { createVolunteer(input: { reference: \"EA-DEFAULT-5\", capacity: 1 }) { organisationId } }",
        Some(&s.admin),
    )
    .await;
    assert_eq!(refusal(&out), ("VALIDATION", "organisationId"), "{out}");
}

on_both_databases!(own_organisation_by_default => an_organisation_token_writes_for_its_own_organisation_by_default_sqlite, an_organisation_token_writes_for_its_own_organisation_by_default_postgres);

/// One filter declaration serves both doors: the same filter selects the same records
/// through REST's query parameters and GraphQL's `filter:` (ids are UUIDs in both).
#[tokio::test]
async fn filters_select_alike_through_both_doors() {
    let s = Demo::start(None);
    let org = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&s.admin))
        .await["items"][0]["id"]
        .as_str()
        .expect("a member")
        .to_owned();
    let state = s
        .get("/api/v1/networks?level=state&first=1", Some(&s.admin))
        .await["items"][0]["id"]
        .as_str()
        .expect("a state")
        .to_owned();
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "networks",
            vec![("level", "regional".into()), ("within", state.clone())],
        ),
        (
            "organisations",
            vec![("kind", "member".into()), ("within", state.clone())],
        ),
        (
            "mentorships",
            vec![("organisationId", org.clone()), ("status", "active".into())],
        ),
        (
            "mentorships",
            vec![
                ("within", state.clone()),
                ("targetGroup", "refugees".into()),
            ],
        ),
        ("volunteers", vec![("organisationId", org.clone())]),
        (
            "offerings",
            vec![("within", state.clone()), ("published", "true".into())],
        ),
        ("cooperations", vec![("within", state.clone())]),
        ("committees", vec![("within", state.clone())]),
    ];
    for (path, pairs) in cases {
        let field = path;
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let rest = s
            .get(
                &format!("/api/v1/{path}?first=100&total=true&{}", query.join("&")),
                Some(&s.admin),
            )
            .await;
        let mut rest_ids: Vec<String> = rest["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect();
        let literal: Vec<String> = pairs
            .iter()
            .map(|(k, v)| match v.as_str() {
                "true" => format!("{k}: true"),
                _ => format!("{k}: \"{v}\""),
            })
            .collect();
        let q = format!(
            "{{ {field}(first: 100, filter: {{ {} }}) {{ totalCount edges {{ node {{ uuid }} }} }} }}",
            literal.join(", ")
        );
        let r = graphql(&s.server, &q, Some(&s.admin)).await;
        assert!(r["errors"].is_null(), "{q}: {r}");
        let mut gql_ids: Vec<String> = r["data"][field]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["uuid"].as_str().expect("uuid").to_owned())
            .collect();
        rest_ids.sort();
        gql_ids.sort();
        assert!(
            !rest_ids.is_empty(),
            "{path} {query:?} selects something on the demo data"
        );
        assert_eq!(rest_ids, gql_ids, "{path} {query:?}");
        assert_eq!(
            rest["total"], r["data"][field]["totalCount"],
            "{path} {query:?}"
        );
    }
    // A word outside its vocabulary: the same 422 naming the field in both doors.
    let (status, problem) = as_admin(
        &s,
        s.http
            .get(s.server.url("/api/v1/mentorships?status=finished")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "status", "{problem}");
    let r = graphql(
        &s.server,
        "{ mentorships(filter: { status: \"finished\" }) { totalCount } }",
        Some(&s.admin),
    )
    .await;
    assert_eq!(refusal(&r), ("VALIDATION", "status"), "{r}");
    // An unknown filter is refused in REST, as GraphQL refuses an unknown input field.
    let (status, problem) = as_admin(
        &s,
        s.http.get(s.server.url("/api/v1/mentorships?colour=red")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("colour"),
        "{problem}"
    );
}
