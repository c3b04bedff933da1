//! The graph as a new user tries it, with a token from `verbund token`: walk federal →
//! state → region → organisation → its mentorships, create an offering, move a mentorship
//! from active to ended, and get clear errors for an illegal move and a stale version.

use serde_json::Value;
use verbund_e2e::{Server, TempDir, graphql, refusal, token};

fn ok(body: &Value) -> &Value {
    assert!(body["errors"].is_null(), "unexpected errors: {body}");
    &body["data"]
}

#[tokio::test]
async fn walk_the_graph_and_change_it() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[], &[]);
    let admin = token(&dir.0, &["--role", "federal_admin"]);
    let t = Some(admin.as_str());

    // federal → states → regions → organisations → mentorships, in one query.
    let q = r#"{ federal { name children(first: 16) { totalCount edges { node { code
        children { edges { node { name code organisations { edges { node { uuid name
          mentorships(first: 50) { totalCount edges { node { id status version } } } } } } } } } } } } } }"#;
    let body = graphql(&server, q, t).await;
    let data = ok(&body);
    assert_eq!(data["federal"]["children"]["totalCount"], 16);
    let mut active = None;
    let mut organisation = None;
    for state in data["federal"]["children"]["edges"]
        .as_array()
        .expect("states")
    {
        for region in state["node"]["children"]["edges"]
            .as_array()
            .expect("regions")
        {
            for org in region["node"]["organisations"]["edges"]
                .as_array()
                .expect("orgs")
            {
                organisation
                    .get_or_insert_with(|| org["node"]["uuid"].as_str().expect("uuid").to_owned());
                for m in org["node"]["mentorships"]["edges"]
                    .as_array()
                    .expect("mentorships")
                {
                    if m["node"]["status"] == "active" && active.is_none() {
                        active = Some((
                            m["node"]["id"].as_str().expect("id").to_owned(),
                            m["node"]["version"].as_i64().expect("v"),
                        ));
                    }
                }
            }
        }
    }
    let organisation = organisation.expect("an organisation in a region");
    // Inputs name other records by their UUID (`…Id` fields), as REST and CSV do.
    let (mentorship, version) = active.expect("an active mentorship");

    // Create an offering.
    let region = ok(&graphql(
        &server,
        &format!(r#"{{ organisation(id: "{organisation}") {{ network {{ uuid }} }} }}"#),
        t,
    )
    .await)["organisation"]["network"]["uuid"]
        .as_str()
        .expect("region")
        .to_owned();
    let create = format!(
        r#"mutation {{ createOffering(input: {{ organisationId: "{organisation}", title: "Neue Lesepatenschaften", category: "mentorship",
            targetGroups: ["children"], languages: ["de", "uk"], serviceArea: ["{region}"], postcode: "04109", published: true }})
            {{ id title version organisation {{ id }} }} }}"#
    );
    let created = graphql(&server, &create, t).await;
    assert_eq!(
        ok(&created)["createOffering"]["title"],
        "Neue Lesepatenschaften"
    );
    assert_eq!(created["data"]["createOffering"]["version"], 1);
    // The same input with a bad field names the field.
    let bad = graphql(&server, &create.replace("\"04109\"", "\"4109\""), t).await;
    assert_eq!(refusal(&bad), ("VALIDATION", "postcode"), "{bad}");

    // An illegal move names both states.
    let illegal = graphql(
        &server,
        &format!(
            r#"mutation {{ transitionMentorship(id: "{mentorship}", to: "matched") {{ status }} }}"#
        ),
        t,
    )
    .await;
    assert_eq!(refusal(&illegal).0, "VALIDATION", "{illegal}");
    let message = illegal["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.contains("`active`") && message.contains("`matched`"),
        "{message}"
    );

    // Active → ended.
    let end = format!(
        r#"mutation {{ transitionMentorship(id: "{mentorship}", to: "ended", reason: "goal_reached", version: {version}) {{ status endReason version }} }}"#
    );
    let ended = graphql(&server, &end, t).await;
    assert_eq!(ok(&ended)["transitionMentorship"]["status"], "ended");
    assert_eq!(
        ended["data"]["transitionMentorship"]["endReason"],
        "goal_reached"
    );
    assert_eq!(
        ended["data"]["transitionMentorship"]["version"],
        version + 1
    );

    // The same request again carries a stale version.
    let stale = graphql(&server, &end, t).await;
    assert_eq!(refusal(&stale).0, "CONFLICT", "{stale}");
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("version"),
        "{stale}"
    );

    // The audit trail names the transition, not the values.
    let audit = graphql(&server, &format!(r#"{{ auditEvents(entityId: "{mentorship}") {{ edges {{ node {{ action fields actor }} }} }} }}"#), t).await;
    let events = ok(&audit)["auditEvents"]["edges"]
        .as_array()
        .expect("events")
        .clone();
    assert_eq!(events[0]["node"]["action"], "transition");
    assert!(
        events[0]["node"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f == "status")
    );

    // Anonymous callers find the new offering in the welcome centre, but no mentorship.
    let public = graphql(&server, r#"{ publicOfferings(postcode: "041", targetGroup: "children") { edges { node { title } } } mentorships { totalCount } }"#, None).await;
    let titles: Vec<&str> = public["data"]["publicOfferings"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["title"].as_str())
        .collect();
    assert!(titles.contains(&"Neue Lesepatenschaften"), "{public}");
    assert_eq!(public["data"]["mentorships"]["totalCount"], 0);
}
