//! The change feed, from outside: every door's writes appear in commit order, each caller
//! sees exactly the changes of records it may read (with `entered`/`left` when an update
//! moves a record across its scope), cursors are checked, and an expired cursor is a 410.
//! A reader that follows the feed while eight writers write reconstructs every record's
//! final version (commit order under concurrency, on PostgreSQL too).

use reqwest::StatusCode;
use serde_json::{Value, json};
use verbund_e2e::{Demo, PgDatabase, on_both_databases};

/// Every change after `cursor` the token may see: (entity, id, action, version), and the
/// cursor to go on from.
async fn follow(
    s: &Demo,
    cursor: &str,
    token: Option<&str>,
) -> (Vec<(String, String, String, i64)>, String) {
    let mut out = Vec::new();
    let mut cursor = cursor.to_owned();
    loop {
        let page = s
            .get(&format!("/api/v1/changes?after={cursor}&limit=7"), token)
            .await;
        for c in page["items"].as_array().expect("items") {
            out.push((
                c["entity"].as_str().expect("entity").to_owned(),
                c["id"].as_str().expect("id").to_owned(),
                c["action"].as_str().expect("action").to_owned(),
                c["version"].as_i64().expect("version"),
            ));
        }
        cursor = page["nextCursor"].as_str().expect("nextCursor").to_owned();
        if !page["hasMore"].as_bool().expect("hasMore") {
            return (out, cursor);
        }
    }
}

async fn now(s: &Demo, token: Option<&str>) -> String {
    let page = s.get("/api/v1/changes?after=now", token).await;
    assert_eq!(page["items"], json!([]), "`now` is an empty page");
    page["nextCursor"].as_str().expect("cursor").to_owned()
}

async fn write(
    s: &Demo,
    method: reqwest::Method,
    path: &str,
    token: &str,
    version: Option<i64>,
    body: Option<Value>,
) -> Value {
    let mut req = s.http.request(method.clone(), s.url(path));
    if let Some(v) = version {
        req = req.header("if-match", format!("\"{v}\""));
    }
    if let Some(b) = body {
        req = if method == reqwest::Method::PATCH {
            req.header("content-type", "application/merge-patch+json")
                .body(b.to_string())
        } else {
            req.json(&b)
        };
    }
    let (status, out) = s.send(req, Some(token)).await;
    assert!(status.is_success(), "{method} {path}: {status} {out}");
    out
}

fn actions(events: &[(String, String, String, i64)], id: &str) -> Vec<(String, i64)> {
    events
        .iter()
        .filter(|e| e.1 == id)
        .map(|e| (e.2.clone(), e.3))
        .collect()
}

async fn feed(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let admin = s.admin.clone();

    // The demo data was written through the one write path: its creations are in the feed.
    let first = s.get("/api/v1/changes?limit=5", Some(&admin)).await;
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 5, "{first}");
    assert!(
        items
            .iter()
            .all(|c| c["action"] == "created" && c["version"] == 1),
        "{first}"
    );
    assert_eq!(first["hasMore"], true);

    // An organisation with volunteers, its admin, and an organisation outside its family.
    let (org, other) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    let other = s.token(&["--role", "org_admin", "--organisation", &other]);
    let ministry = s.role("ministry_analyst");
    let offering = s
        .get("/api/v1/offerings?first=1&published=true", Some(&admin))
        .await["items"][0]
        .clone();
    let oid = offering["id"].as_str().expect("offering").to_owned();
    let ov = offering["version"].as_i64().expect("version");

    let start_admin = now(&s, Some(&admin)).await;
    let start_own = now(&s, Some(&own)).await;
    let start_other = now(&s, Some(&other)).await;
    let start_ministry = now(&s, Some(&ministry)).await;
    let start_public = now(&s, None).await;
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // Writes through REST (create, patch, delete) and GraphQL.
    let v = write(
        &s,
        reqwest::Method::POST,
        "/api/v1/volunteers",
        &own,
        None,
        Some(json!({"reference": "FEED-1", "capacity": 2, "languages": ["de"], "active": true})),
    )
    .await;
    let vid = v["id"].as_str().expect("id").to_owned();
    write(
        &s,
        reqwest::Method::PATCH,
        &format!("/api/v1/volunteers/{vid}"),
        &own,
        Some(1),
        Some(json!({"capacity": 3})),
    )
    .await;
    let g = s
        .graphql(
            &format!(
                "mutation {{ updateVolunteer(id: \"{vid}\", version: 2, input: {{ reference: \"FEED-1\", capacity: 4, languages: [\"de\"], active: false }}) {{ version }} }}"
            ),
            Some(&own),
        )
        .await;
    assert_eq!(g["data"]["updateVolunteer"]["version"], 3, "{g}");
    // The offering leaves the public directory and comes back.
    write(
        &s,
        reqwest::Method::PATCH,
        &format!("/api/v1/offerings/{oid}"),
        &admin,
        Some(ov),
        Some(json!({"published": false})),
    )
    .await;
    write(
        &s,
        reqwest::Method::PATCH,
        &format!("/api/v1/offerings/{oid}"),
        &admin,
        Some(ov + 1),
        Some(json!({"published": true})),
    )
    .await;
    write(
        &s,
        reqwest::Method::DELETE,
        &format!("/api/v1/volunteers/{vid}"),
        &own,
        Some(3),
        None,
    )
    .await;

    // The federal admin sees every change, in commit order, with versions.
    let (all, _) = follow(&s, &start_admin, Some(&admin)).await;
    assert_eq!(
        actions(&all, &vid),
        [
            ("created".into(), 1),
            ("updated".into(), 2),
            ("updated".into(), 3),
            ("deleted".into(), 3)
        ]
    );
    assert_eq!(
        actions(&all, &oid),
        [("updated".into(), ov + 1), ("updated".into(), ov + 2)]
    );
    assert_eq!(all.len(), 6, "nothing else changed: {all:?}");

    // The volunteer's organisation sees the same; the offering is public, so it sees it too.
    let (mine, _) = follow(&s, &start_own, Some(&own)).await;
    assert_eq!(actions(&mine, &vid), actions(&all, &vid));
    // Another organisation, the ministry and the public never see the volunteer; for them
    // the offering left the directory and entered it again.
    for (who, start, token) in [
        ("another organisation", &start_other, Some(other.as_str())),
        ("the ministry", &start_ministry, Some(ministry.as_str())),
        ("an anonymous caller", &start_public, None),
    ] {
        let (seen, _) = follow(&s, start, token).await;
        assert!(
            actions(&seen, &vid).is_empty(),
            "{who} saw the volunteer: {seen:?}"
        );
        assert_eq!(
            actions(&seen, &oid),
            [("left".into(), ov + 1), ("entered".into(), ov + 2)],
            "{who}"
        );
        assert!(
            seen.iter()
                .all(|e| e.0 == "offering" || e.0 == "organisation"),
            "{who}: {seen:?}"
        );
    }

    // `modified_after` (HSDS) and `modifiedAfter` (REST lists, GraphQL filters): the
    // offering is the one record of its kind changed since; no organisation changed.
    let hsds = s
        .get(
            &format!("/api/v1/hsds/services?modified_after={before}"),
            None,
        )
        .await;
    assert_eq!(hsds["total_items"], 1, "{hsds}");
    assert_eq!(hsds["contents"][0]["id"], oid.as_str());
    let hsds = s
        .get(
            &format!("/api/v1/hsds/organizations?modified_after={before}"),
            None,
        )
        .await;
    assert_eq!(hsds["total_items"], 0, "{hsds}");
    let all_published = s
        .get("/api/v1/hsds/services?modified_after=2000-01-01", None)
        .await;
    let published = s.get("/api/v1/hsds/services", None).await;
    assert_eq!(all_published["total_items"], published["total_items"]);
    let list = s
        .get(
            &format!("/api/v1/offerings?modifiedAfter={before}&total=true"),
            Some(&admin),
        )
        .await;
    assert_eq!(list["total"], 1, "{list}");
    let g = s
        .graphql(
            &format!(
                "{{ organisations(filter: {{ modifiedAfter: \"{before}\" }}) {{ totalCount }} }}"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(g["data"]["organisations"]["totalCount"], 0, "{g}");
    for (path, field) in [
        (
            "/api/v1/hsds/services?modified_after=yesterday",
            "modified_after",
        ),
        (
            "/api/v1/offerings?modifiedAfter=31.12.2026",
            "modifiedAfter",
        ),
    ] {
        assert_eq!(s.invalid_field(path, Some(&admin)).await, field);
    }

    // `types` filters; GraphQL reads the same feed.
    let only = s
        .get(
            &format!("/api/v1/changes?after={start_admin}&types=offering"),
            Some(&admin),
        )
        .await;
    assert_eq!(only["items"].as_array().expect("items").len(), 2, "{only}");
    let g = s
        .graphql(
            &format!("{{ changes(after: \"{start_admin}\", first: 100, types: [volunteer]) {{ items {{ entity id action version }} hasMore nextCursor }} }}"),
            Some(&admin),
        )
        .await;
    let items = g["data"]["changes"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{g}"));
    let got: Vec<(String, i64)> = items
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap_or("").to_owned(),
                c["version"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, actions(&all, &vid));

    // Bad parameters are named.
    for (query, field) in [
        ("after=not-a-cursor", "after"),
        // A cursor past the last change is not one the feed gave out.
        ("after=Yzk5OTk5OTk5", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("types=audit_event", "types"),
        ("types=person", "types"),
    ] {
        let path = format!("/api/v1/changes?{query}");
        assert_eq!(s.invalid_field(&path, Some(&admin)).await, field);
    }
    s.expect(
        "/api/v1/changes?since=1",
        Some(&admin),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let g = s
        .graphql("{ changes(first: 0) { hasMore } }", Some(&admin))
        .await;
    assert_eq!(g["errors"][0]["extensions"]["field"], "first", "{g}");

    // Pruning: a cursor older than what the feed keeps is gone (410), `now` still works.
    assert_ne!(s.cli(&["prune-changes", "--days", "0"]).trim(), "0");
    let (status, body) = s
        .fetch(
            &format!("/api/v1/changes?after={start_admin}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["code"], "CURSOR_EXPIRED");
    assert_eq!(body["status"], 410);
    let fresh = now(&s, Some(&admin)).await;
    let (after, _) = follow(&s, &fresh, Some(&admin)).await;
    assert!(after.is_empty());
}

on_both_databases!(
    /// Each caller's feed, through every door.
    feed => feed_follows_every_door_in_scope_sqlite, feed_follows_every_door_in_scope_postgres
);

/// Eight writers and a reader that follows the feed at the same time: at the end, the
/// reader knows every record's final version, and saw each write exactly once.
async fn concurrent(pg: Option<PgDatabase>) {
    let s = std::sync::Arc::new(Demo::start(pg));
    let admin = s.admin.clone();
    let volunteers = s.get("/api/v1/volunteers?first=8", Some(&admin)).await;
    let targets: Vec<(String, i64)> = volunteers["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| {
            (
                v["id"].as_str().expect("id").to_owned(),
                v["version"].as_i64().expect("v"),
            )
        })
        .collect();
    assert_eq!(targets.len(), 8);
    let start = now(&s, Some(&admin)).await;
    const WRITES: i64 = 12;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (s, admin, done) = (s.clone(), admin.clone(), done.clone());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = start;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let (events, next) = follow(&s, &cursor, Some(&admin)).await;
                seen.extend(events);
                cursor = next;
                if finished {
                    return seen;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
    };
    let writers: Vec<_> = targets
        .iter()
        .cloned()
        .map(|(id, version)| {
            let (s, admin) = (s.clone(), admin.clone());
            tokio::spawn(async move {
                for i in 0..WRITES {
                    write(
                        &s,
                        reqwest::Method::PATCH,
                        &format!("/api/v1/volunteers/{id}"),
                        &admin,
                        Some(version + i),
                        Some(json!({"capacity": 1 + (i % 5)})),
                    )
                    .await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.expect("reader");
    for (id, version) in &targets {
        let versions: Vec<i64> = seen.iter().filter(|e| &e.1 == id).map(|e| e.3).collect();
        let expected: Vec<i64> = (version + 1..=version + WRITES).collect();
        assert_eq!(
            versions, expected,
            "volunteer {id}: every version once, in order"
        );
        let now = s
            .get(&format!("/api/v1/volunteers/{id}"), Some(&admin))
            .await;
        assert_eq!(now["version"], version + WRITES);
    }
    assert_eq!(seen.len() as i64, 8 * WRITES, "nothing else, nothing twice");
}

on_both_databases!(
    /// Commit order under concurrent writers.
    concurrent => feed_reader_keeps_up_with_eight_writers_sqlite, feed_reader_keeps_up_with_eight_writers_postgres
);

/// Records that an organisation reads although they live elsewhere — a cooperation it is a
/// partner of, a committee it sits on and that committee's meetings — are in its feed as
/// they are in its reads: created, updated, `left` when it is taken off, `entered` when it
/// is put back, and the tombstone when the record is deleted. An organisation that is
/// neither lead nor partner sees none of it.
async fn elsewhere(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let admin = s.admin.clone();
    let (lead, partner) = s.two_organisations().await;
    let partner_token = s.token(&["--role", "org_admin", "--organisation", &partner]);
    let lead_org = s
        .get(&format!("/api/v1/organisations/{lead}"), Some(&admin))
        .await;
    let network = lead_org["networkId"].as_str().expect("network").to_owned();
    // A third organisation, in neither family.
    let orgs = s.all("/api/v1/organisations", Some(&admin)).await;
    let bystander = orgs
        .iter()
        .find(|o| {
            let id = o["id"].as_str().expect("id");
            let parent = o["parentOrganisationId"].as_str().unwrap_or_default();
            o["kind"] == "member"
                && ![lead.as_str(), partner.as_str()].contains(&id)
                && ![lead.as_str(), partner.as_str()].contains(&parent)
        })
        .expect("a third member organisation")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bystander_token = s.token(&["--role", "org_admin", "--organisation", &bystander]);
    let start_partner = now(&s, Some(&partner_token)).await;
    let start_bystander = now(&s, Some(&bystander_token)).await;

    let partners = |with: bool| {
        if with {
            json!([{"organisationId": partner, "role": "Räume"}])
        } else {
            json!([])
        }
    };
    let coop = write(
        &s,
        reqwest::Method::POST,
        "/api/v1/cooperations",
        &admin,
        None,
        Some(
            json!({"title": "Lesepaten", "goal": "Lesen", "leadOrganisationId": lead,
            "networkId": network, "status": "active", "startsOn": "2026-01-01",
            "partners": partners(true)}),
        ),
    )
    .await;
    let cid = coop["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/cooperations/{cid}");
    // Versions 2 to 5: a change it sees, taken off, a change it does not see, put back.
    let changes = [
        json!({"goal": "Mehr lesen"}),
        json!({"partners": partners(false)}),
        json!({"goal": "Unbemerkt"}),
        json!({"partners": partners(true)}),
    ];
    for (version, change) in (1..).zip(changes) {
        let patch = reqwest::Method::PATCH;
        write(&s, patch, &path, &admin, Some(version), Some(change)).await;
    }
    write(&s, reqwest::Method::DELETE, &path, &admin, Some(5), None).await;

    let committee = write(
        &s,
        reqwest::Method::POST,
        "/api/v1/committees",
        &admin,
        None,
        Some(json!({"networkId": network, "name": "Lenkungskreis Lesen",
            "memberOrganisationIds": [partner]})),
    )
    .await;
    let kid = committee["id"].as_str().expect("id").to_owned();
    let meeting = write(
        &s,
        reqwest::Method::POST,
        "/api/v1/meetings",
        &admin,
        None,
        Some(json!({"committeeId": kid, "heldOn": "2026-03-04", "topic": "Auftakt"})),
    )
    .await;
    let mid = meeting["id"].as_str().expect("id").to_owned();

    let (seen, _) = follow(&s, &start_partner, Some(&partner_token)).await;
    let words = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
        v.iter().map(|(a, n)| ((*a).to_owned(), *n)).collect()
    };
    assert_eq!(
        actions(&seen, &cid),
        words(&[
            ("created", 1),
            ("updated", 2),
            ("left", 3),
            ("entered", 5),
            ("deleted", 5)
        ]),
        "the partner's feed follows its reads: {seen:?}"
    );
    assert_eq!(actions(&seen, &kid), words(&[("created", 1)]), "{seen:?}");
    assert_eq!(actions(&seen, &mid), words(&[("created", 1)]), "{seen:?}");
    // Reads agree: the partner reads the committee and the meeting.
    for p in [
        format!("/api/v1/committees/{kid}"),
        format!("/api/v1/meetings/{mid}"),
    ] {
        s.expect(&p, Some(&partner_token), StatusCode::OK).await;
    }

    let (seen, _) = follow(&s, &start_bystander, Some(&bystander_token)).await;
    for id in [&cid, &kid, &mid] {
        assert_eq!(actions(&seen, id), vec![], "{seen:?}");
    }
    s.expect(
        &format!("/api/v1/meetings/{mid}"),
        Some(&bystander_token),
        StatusCode::NOT_FOUND,
    )
    .await;
}

on_both_databases!(
    /// Partners and committee members follow what they read elsewhere.
    elsewhere => feed_follows_records_read_elsewhere_sqlite, feed_follows_records_read_elsewhere_postgres
);
