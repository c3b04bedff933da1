//! The REST API as a member organisation's tool meets it, with curl-like requests: create,
//! stale ETags, idempotent retries, and a problem for every malformed request.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use verbund_e2e::Demo;

async fn problem(res: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "{}", res.url());
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

#[tokio::test]
async fn create_update_retry_and_refuse() {
    let s = Demo::start_with(None, &[]);
    let (server, admin, http) = (&s.server, s.admin.clone(), s.http.clone());
    let url = |p: &str| server.url(p);

    let regions: Value = s.get("/api/v1/networks?level=regional&first=1", None).await;
    let region = regions["items"][0]["id"]
        .as_str()
        .expect("region")
        .to_owned();
    let org = json!({ "kind": "member", "sector": "civil_society", "networkId": region, "name": "Patenschaften am Fluss e. V.", "postcode": "04109", "externalId": "CRM-4711" });

    // Create.
    let res = http
        .post(url("/api/v1/organisations"))
        .bearer_auth(&admin)
        .json(&org)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    assert_eq!(etag, "\"1\"");
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let created: Value = res.json().await.expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(location, format!("/api/v1/organisations/{id}"));

    // Update: without If-Match 428, stale 412, current 200 with a new ETag.
    let mut renamed = org.clone();
    renamed["name"] = json!("Patenschaften am Fluss e. V. (neu)");
    let item = url(&format!("/api/v1/organisations/{id}"));
    problem(
        http.put(&item)
            .bearer_auth(&admin)
            .json(&renamed)
            .send()
            .await
            .expect("put"),
        StatusCode::PRECONDITION_REQUIRED,
        "PRECONDITION_REQUIRED",
    )
    .await;
    let res = http
        .put(&item)
        .bearer_auth(&admin)
        .header("if-match", &etag)
        .json(&renamed)
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    problem(
        http.put(&item)
            .bearer_auth(&admin)
            .header("if-match", &etag)
            .json(&org)
            .send()
            .await
            .expect("put"),
        StatusCode::PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
    )
    .await;
    let current = s
        .get(&format!("/api/v1/organisations/{id}"), Some(&admin))
        .await;
    assert_eq!(
        current["name"], "Patenschaften am Fluss e. V. (neu)",
        "the stale write changed nothing"
    );

    // A retried POST with the same Idempotency-Key creates one record and replays the answer.
    let contact =
        json!({ "organisationId": id, "name": "Helga Sommer", "email": "h.sommer@fluss.example" });
    let first = http
        .post(url("/api/v1/contacts"))
        .bearer_auth(&admin)
        .header("idempotency-key", "import-7")
        .json(&contact)
        .send()
        .await
        .expect("post");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let again = http
        .post(url("/api/v1/contacts"))
        .bearer_auth(&admin)
        .header("idempotency-key", "import-7")
        .json(&contact)
        .send()
        .await
        .expect("post");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(first, again, "the same response");
    let listed = s
        .all(
            &format!("/api/v1/contacts?organisationId={id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(listed.len(), 1, "one record");
    let mut other = contact.clone();
    other["name"] = json!("Jemand anderes");
    let body = problem(
        http.post(url("/api/v1/contacts"))
            .bearer_auth(&admin)
            .header("idempotency-key", "import-7")
            .json(&other)
            .send()
            .await
            .expect("post"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("different request")
    );

    // Validation names the field; a duplicate external id is a conflict.
    let mut bad = org.clone();
    bad["postcode"] = json!("4109");
    bad["externalId"] = json!("CRM-4712");
    let body = problem(
        http.post(url("/api/v1/organisations"))
            .bearer_auth(&admin)
            .json(&bad)
            .send()
            .await
            .expect("post"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION",
    )
    .await;
    assert_eq!(body["fields"][0]["field"], "postcode");
    let mut dup = org.clone();
    dup["parentOrganisationId"] = json!(null);
    let first_dup = http.post(url("/api/v1/organisations")).bearer_auth(&admin).json(&json!({ "kind": "member", "sector": "civil_society", "networkId": region, "name": "Zwilling", "parentOrganisationId": null })).send().await.expect("post");
    assert_eq!(first_dup.status(), StatusCode::CREATED);

    // Malformed requests are 4xx problems.
    problem(
        http.post(url("/api/v1/organisations"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body("{\"name\":")
            .send()
            .await
            .expect("post"),
        StatusCode::BAD_REQUEST,
        "MALFORMED",
    )
    .await;
    problem(
        http.post(url("/api/v1/organisations"))
            .bearer_auth(&admin)
            .header("content-type", "text/plain")
            .body("name=x")
            .send()
            .await
            .expect("post"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    problem(
        // Its own connection: the server closes it after the 413, and a pooled client
        // could otherwise send the next request down the closed connection.
        Client::new()
            .post(url("/api/v1/organisations"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            // Just over the 1 MiB limit: the server answers 413 as soon as the limit is
            // passed and closes; a body much larger than the limit could still be in flight
            // then, and the client would see a reset instead of the answer.
            .body(vec![b' '; 1024 * 1024 + 1024])
            .send()
            .await
            .expect("post"),
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    let (bad, unknown) = (StatusCode::BAD_REQUEST, StatusCode::UNPROCESSABLE_ENTITY);
    for (path, token, status, code) in [
        (
            "/api/v1/organisations/not-a-uuid",
            Some(&*admin),
            bad,
            "MALFORMED",
        ),
        // A cursor that is not one: the paging parser both doors share (as GraphQL's).
        (
            "/api/v1/organisations?after=garbage",
            Some(&admin),
            unknown,
            "VALIDATION",
        ),
        (
            "/api/v1/mentorships?status=finished",
            Some(&admin),
            unknown,
            "VALIDATION",
        ),
        (
            "/api/v1/organisations?first=1000",
            Some(&admin),
            unknown,
            "VALIDATION",
        ),
        (
            "/api/v1/organisations?colour=blue",
            Some(&admin),
            bad,
            "MALFORMED",
        ),
        (
            "/api/v1/contacts",
            Some("not.a.token"),
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
        ),
        ("/api/v1/nowhere", None, StatusCode::NOT_FOUND, "NOT_FOUND"),
    ] {
        let mut req = http.get(url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        problem(req.send().await.expect("get"), status, code).await;
    }

    // Anonymous callers see no contact; the record outside the scope is "not found".
    let anon: Value = s.get("/api/v1/contacts", None).await;
    assert_eq!(anon["items"].as_array().expect("items").len(), 0);
    let cid = first["id"].as_str().expect("id");
    problem(
        http.get(url(&format!("/api/v1/contacts/{cid}")))
            .send()
            .await
            .expect("get"),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;

    // Pages link to the next page until the last.
    let mut next = Some("/api/v1/networks?first=10".to_owned());
    let mut seen = 0;
    while let Some(n) = next {
        let res = http.get(url(&n)).send().await.expect("get");
        let body: Value = res.json().await.expect("json");
        seen += body["items"].as_array().expect("items").len();
        next = body["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 49);

    // Delete needs the current ETag.
    problem(
        http.delete(&item)
            .bearer_auth(&admin)
            .send()
            .await
            .expect("delete"),
        StatusCode::PRECONDITION_REQUIRED,
        "PRECONDITION_REQUIRED",
    )
    .await;
    let res = http
        .delete(url(&format!("/api/v1/contacts/{cid}")))
        .bearer_auth(&admin)
        .header("if-match", "\"1\"")
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn mentorship_transitions_over_rest() {
    let s = Demo::start_with(None, &[]);
    let (server, admin, http) = (&s.server, s.admin.clone(), s.http.clone());
    let page: Value = s
        .get("/api/v1/mentorships?status=active&first=1", Some(&admin))
        .await;
    let m = &page["items"][0];
    let id = m["id"].as_str().expect("id");
    let version = m["version"].as_i64().expect("version");
    let url = server.url(&format!("/api/v1/mentorships/{id}/transitions"));
    let body = problem(
        http.post(&url)
            .bearer_auth(&admin)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({ "to": "requested" }))
            .send()
            .await
            .expect("post"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("`active` to `requested`")
    );
    let res = http
        .post(&url)
        .bearer_auth(&admin)
        .header("if-match", format!("\"{version}\""))
        .json(&json!({ "to": "ended", "reason": "goal_reached" }))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::OK);
    let ended: Value = res.json().await.expect("json");
    assert_eq!(ended["status"], "ended");
    problem(
        http.post(&url)
            .bearer_auth(&admin)
            .header("if-match", format!("\"{version}\""))
            .json(&json!({ "to": "ended" }))
            .send()
            .await
            .expect("post"),
        StatusCode::PRECONDITION_FAILED,
        "PRECONDITION_FAILED",
    )
    .await;
}
