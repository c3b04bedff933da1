//! Statistics as the ministry and a state coordinator meet them on the demo data: the
//! ministry's tables hide small cells and no hidden value can be recomputed from all the
//! tables it can ask for; the Bavarian coordinator sees Bavaria exactly; snapshots freeze.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use verbund_domain::statistics::{Axis, Cell, Lattice, Visibility, audit};
use verbund_e2e::{Demo, refusal};

async fn bavaria(s: &Demo) -> String {
    verbund_e2e::state_id(&s.server, "DE-BY").await
}

/// Every table of the lattice of state × status × year, as the caller sees them: all
/// protected, no shown cell below k.
async fn lattice(s: &Demo, token: Option<&str>, extra: &str) -> Lattice {
    let mut tables = HashMap::new();
    for (levels, rows) in s.state_status_year(token, extra).await {
        let mut cells = HashMap::new();
        for (key, row) in rows {
            assert_eq!(row["protected"], true, "{row}");
            let visibility = match row["suppression"].as_str() {
                None => Visibility::Shown,
                Some("primary") => Visibility::Primary,
                Some(_) => Visibility::Secondary,
            };
            if let Some(c) = row["count"].as_i64() {
                assert!(c >= 5, "a shown cell below k: {row}");
            }
            assert_eq!(row["suppressed"], visibility != Visibility::Shown);
            cells.insert(
                key,
                Cell {
                    count: row["count"].as_i64().unwrap_or(0),
                    amount: 0,
                    visibility,
                },
            );
        }
        tables.insert(levels, cells);
    }
    Lattice {
        axes: vec![Axis::Geo, Axis::Status, Axis::Period],
        tables,
    }
}

#[tokio::test]
async fn the_ministry_sees_suppressed_cells_no_subtraction_recovers_and_bavaria_sees_exact_figures()
{
    let s = Demo::start(None);
    let ministry = s.role("ministry_analyst");
    let admin = s.admin.clone();
    let by = bavaria(&s).await;
    let coordinator = s.token(&["--role", "state_coordinator", "--network", &by]);

    // The ministry: every table it can ask for around state × status × year.
    let l = lattice(&s, Some(&ministry), "").await;
    let finest = &l.tables[&vec![1, 1, 1]];
    assert!(finest.values().any(|c| c.visibility == Visibility::Primary));
    let recovered = audit(&l);
    assert!(
        recovered.is_empty(),
        "recomputed from totals and siblings: {recovered:?}"
    );
    // The same for the public, and what a federal admin sees when asking for it.
    let public = lattice(&s, None, "").await;
    let admin_view = lattice(&s, Some(&admin), "&protected=true").await;
    for (levels, t) in &l.tables {
        for (key, c) in t {
            assert_eq!(public.tables[levels].get(key), Some(c));
            assert_eq!(admin_view.tables[levels].get(key), Some(c));
        }
    }

    // Exact figures: the federal admin for the whole network, the coordinator for Bavaria.
    let (_, all) = s
        .fetch(
            "/api/v1/statistics/mentorships?groupBy=state,status,year",
            Some(&admin),
        )
        .await;
    assert_eq!(all["protected"], false);
    let total = all["total"]["count"].as_i64().expect("total");
    let gql = s
        .graphql("{ mentorships { totalCount } }", Some(&admin))
        .await;
    assert_eq!(json!(total), gql["data"]["mentorships"]["totalCount"]);
    assert_eq!(
        l.tables[&vec![0, 0, 0]][&vec![String::new(); 3]].count,
        total
    );

    let (status, mine) = s
        .fetch(
            "/api/v1/statistics/mentorships?groupBy=state,status,year",
            Some(&coordinator),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["protected"], false, "{mine}");
    let rows = mine["rows"].as_array().expect("rows");
    assert!(!rows.is_empty());
    let mut sum = 0;
    for r in rows {
        assert_eq!(r["suppressed"], false);
        assert_eq!(r["keys"][0]["value"], by.as_str(), "only Bavaria: {r}");
        assert_eq!(r["keys"][0]["label"], "Bayern");
        let c = r["count"].as_i64().expect("exact count");
        assert!(c >= 1);
        sum += c;
        // Each exact cell equals the federal admin's.
        let same = all["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|a| a["keys"] == r["keys"])
            .expect("same cell");
        assert_eq!(same["count"], r["count"]);
    }
    assert_eq!(json!(sum), mine["total"]["count"]);
    assert!(
        rows.iter().any(|r| r["count"].as_i64() < Some(5)),
        "small exact cells shown"
    );

    // The coordinator asking about the whole federation gets the protected view.
    let federal_id = {
        let (_, p) = s.fetch("/api/v1/networks?level=federal", None).await;
        p["items"][0]["id"].as_str().expect("federal").to_owned()
    };
    let (_, outside) = s
        .fetch(
            &format!("/api/v1/statistics/mentorships?groupBy=state&network={federal_id}"),
            Some(&coordinator),
        )
        .await;
    assert_eq!(outside["protected"], true);

    // The filters are one declaration for both doors: the same filter gives the same
    // cells, the same bad word the same 422 under the same field, and a parameter that is
    // neither a filter nor an option is refused by name.
    let (_, rest) = s
        .fetch(
            &format!(
                "/api/v1/statistics/mentorships?groupBy=state&network={federal_id}&status=active&from=2025-01-01&to=2025-12-31"
            ),
            Some(&coordinator),
        )
        .await;
    let gql = s
        .graphql(
            &format!(
                r#"{{ statistics(measure: "mentorships", groupBy: ["state"], filter: {{ network: "{federal_id}", status: "active", from: "2025-01-01", to: "2025-12-31" }}) {{ protected total {{ count }} rows {{ keys {{ value }} count suppressed }} }} }}"#
            ),
            Some(&coordinator),
        )
        .await;
    let t = &gql["data"]["statistics"];
    assert_eq!(t["protected"], true, "{gql}");
    assert_eq!(t["total"]["count"], rest["total"]["count"], "{gql} {rest}");
    let cells = |rows: &Value| -> Vec<(Value, Value, Value)> {
        rows.as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    r["keys"][0]["value"].clone(),
                    r["count"].clone(),
                    r["suppressed"].clone(),
                )
            })
            .collect()
    };
    assert!(!cells(&rest["rows"]).is_empty(), "{rest}");
    assert_eq!(cells(&t["rows"]), cells(&rest["rows"]));
    let (status, problem) = s
        .fetch(
            "/api/v1/statistics/mentorships?groupBy=state&status=asleep",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["fields"][0]["field"], "status", "{problem}");
    let gql = s
        .graphql(
            r#"{ statistics(measure: "mentorships", groupBy: ["state"], filter: { status: "asleep" }) { protected } }"#,
            None,
        )
        .await;
    assert_eq!(refusal(&gql), ("VALIDATION", "status"), "{gql}");
    let (status, problem) = s
        .fetch(
            "/api/v1/statistics/mentorships?groupBy=state&asleep=1",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("asleep"),
        "{problem}"
    );

    // GraphQL answers the same.
    let gql = s.graphql("{ statistics(measure: \"mentorships\", groupBy: [\"state\", \"status\", \"year\"]) { protected total { count } rows { count suppressed suppression } } }",
        Some(&ministry),
    )
    .await;
    let t = &gql["data"]["statistics"];
    assert_eq!(t["protected"], true, "{gql}");
    assert_eq!(t["total"]["count"], json!(total));
    assert_eq!(
        t["rows"].as_array().expect("rows").len(),
        finest.len(),
        "the same cells as REST"
    );
    assert!(s.server.stop());
}

#[tokio::test]
async fn snapshots_freeze_figures_and_only_the_federal_admin_takes_them() {
    let s = Demo::start(None);
    let http = s.http.clone();
    let ministry = s.role("ministry_analyst");
    let admin = s.admin.clone();
    let url = s.url("/api/v1/statistics/snapshots");
    let post = |t: &str, body: Value| {
        http.post(url.clone())
            .bearer_auth(t.to_owned())
            .json(&body)
            .send()
    };

    let res = post(&ministry, json!({"asOf": "2025-12-31"}))
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(&admin, json!({"asOf": "2025-12-15"}))
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = post(
        &admin,
        json!({"asOf": "2025-12-31", "label": "Jahresbericht 2025"}),
    )
    .await
    .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let snap: Value = res.json().await.expect("json");
    let id = snap["id"].as_str().expect("id").to_owned();
    let res = post(&admin, json!({"asOf": "2025-12-31"}))
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CONFLICT);

    let (demo, admin_token) = (&s, admin.as_str());
    let figures = move |snapshot: Option<&str>| {
        let q = match snapshot {
            Some(id) => format!("/api/v1/statistics/mentorships?groupBy=year,status&snapshot={id}"),
            None => "/api/v1/statistics/mentorships?groupBy=year,status".to_owned(),
        };
        async move { demo.fetch(&q, Some(admin_token)).await }
    };
    let (_, frozen) = figures(Some(&id)).await;
    assert_eq!(frozen["snapshot"]["asOf"], "2025-12-31");
    assert!(
        frozen["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["keys"][0]["value"].as_str() <= Some("2025")),
        "nothing after the deadline: {frozen}"
    );

    // A write into the frozen period after the snapshot: live figures move (the answer is
    // not served from a cache of the old cells), the snapshot not.
    let (_, before) = figures(None).await;
    let (_, orgs) = s.fetch("/api/v1/organisations?first=1", Some(&admin)).await;
    let org = orgs["items"][0]["id"].as_str().expect("org").to_owned();
    let res = http
        .post(s.url("/api/v1/mentorships"))
        .bearer_auth(&admin)
        .json(
            &json!({"organisationId": org, "menteeRef": "S-1", "format": "one_to_one",
                      "targetGroup": "children", "requestedOn": "2024-03-01"}),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), StatusCode::CREATED);
    let (_, live) = figures(None).await;
    assert_eq!(
        live["total"]["count"].as_i64(),
        before["total"]["count"].as_i64().map(|c| c + 1)
    );
    let (_, again) = figures(Some(&id)).await;
    assert_eq!(again["rows"], frozen["rows"]);
    assert_eq!(again["total"], frozen["total"]);
    assert_eq!(
        live["total"]["count"].as_i64(),
        frozen["total"]["count"]
            .as_i64()
            .map(|c| c + 1 + live_after_deadline(&live))
    );
    // Unknown snapshots and bad requests are named.
    let (status, p) = figures(Some("01a219b7-898f-7268-a3f9-94af3e539b7b")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["fields"][0]["field"], "snapshot");
    let p = s
        .expect(
            "/api/v1/statistics/people",
            Some(&admin),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(p["fields"][0]["field"], "measure");
    let p = s
        .expect(
            "/api/v1/statistics/mentorships_active?activeAt=2025-06-15",
            Some(&admin),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(p["fields"][0]["field"], "activeAt");
    // Two years in one protected table: refused.
    s.expect(
        "/api/v1/statistics/mentorships?groupBy=year&from=2024-01-01&to=2025-12-31",
        Some(&ministry),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(s.server.stop());
}

/// Live mentorships requested after 2025 (not in a snapshot as of 2025-12-31).
fn live_after_deadline(live: &Value) -> i64 {
    live["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["keys"][0]["value"].as_str() > Some("2025"))
        .filter_map(|r| r["count"].as_i64())
        .sum()
}

/// A series of stocks (`activeAt` … `activeTo`) in one request: each month's rows are
/// exactly those of the same table asked for with that month end alone (suppressed alike),
/// grouped by `month` first, in REST, CSV and GraphQL; malformed series are 422 naming the
/// field.
async fn series_of_stocks(pg: Option<verbund_e2e::PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let ends = ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30"];
    let series = s.expect("/api/v1/statistics/mentorships_active?groupBy=target_group&activeAt=2025-01-31&activeTo=2025-04-30", Some(&ministry), StatusCode::OK).await;
    assert_eq!(series["groupBy"], json!(["month", "target_group"]));
    assert_eq!(series["protected"], true);
    let rows = series["rows"].as_array().expect("rows");
    let mut compared = 0;
    for end in ends {
        let one = s
            .expect(
                &format!(
                    "/api/v1/statistics/mentorships_active?groupBy=target_group&activeAt={end}"
                ),
                Some(&ministry),
                StatusCode::OK,
            )
            .await;
        let month = &end[..7];
        let of_month: Vec<&Value> = rows
            .iter()
            .filter(|r| r["keys"][0]["value"] == month)
            .collect();
        let alone = one["rows"].as_array().expect("rows");
        assert_eq!(of_month.len(), alone.len(), "{month}");
        for (a, b) in of_month.iter().zip(alone) {
            assert_eq!(a["keys"][0]["dimension"], "month");
            assert_eq!(a["keys"][1], b["keys"][0], "{month}");
            for field in ["count", "suppressed", "suppression", "suppressionReason"] {
                assert_eq!(a[field], b[field], "{month} {field}");
            }
            compared += 1;
        }
        if end == "2025-04-30" {
            assert_eq!(
                series["total"]["count"], one["total"]["count"],
                "the last month's total"
            );
        }
    }
    assert!(compared >= 16, "{compared} cells compared");
    // Without groups, each month's total is its row; GraphQL gives the same.
    let (_, plain) = s
        .fetch(
            "/api/v1/statistics/mentorships_active?activeAt=2025-01-31&activeTo=2025-04-30",
            Some(&ministry),
        )
        .await;
    let counts: Vec<Value> = plain["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["count"].clone())
        .collect();
    assert_eq!(counts.len(), 4, "{plain}");
    let g = s
        .graphql(
            r#"{ statistics(measure: "mentorships_active", activeAt: "2025-01-31", activeTo: "2025-04-30") { groupBy rows { keys { value } count } } }"#,
            Some(&ministry),
        )
        .await;
    let g_counts: Vec<Value> = g["data"]["statistics"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["count"].clone())
        .collect();
    assert_eq!(g_counts, counts, "{g}");
    assert_eq!(
        g["data"]["statistics"]["rows"][3]["keys"][0]["value"],
        "2025-04"
    );
    // As a table for spreadsheets: a month column first.
    let res = s
        .http
        .get(s.url(
            "/api/v1/statistics/mentorships_active?activeAt=2025-01-31&activeTo=2025-04-30&format=rfc4180",
        ))
        .bearer_auth(&ministry)
        .send()
        .await
        .expect("csv");
    let csv = res.text().await.expect("text");
    assert!(csv.starts_with("month,month_label,"), "{csv}");
    assert_eq!(
        csv.lines().count(),
        1 + 4 + 1,
        "header, four months, total: {csv}"
    );
    // Malformed series, each named.
    for (query, field) in [
        ("activeTo=2025-04-30", "activeAt"),
        ("activeAt=2025-04-30&activeTo=2025-01-31", "activeTo"),
        ("activeAt=2025-01-31&activeTo=2025-04-15", "activeTo"),
        ("activeAt=2010-01-31&activeTo=2025-04-30", "activeTo"),
    ] {
        let path = format!("/api/v1/statistics/mentorships_active?{query}");
        assert_eq!(s.invalid_field(&path, Some(&ministry)).await, field);
    }
    let body = s
        .expect(
            "/api/v1/statistics/mentorships?activeAt=2025-01-31&activeTo=2025-04-30",
            Some(&ministry),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(
        body["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f["field"] == "activeTo"),
        "{body}"
    );
    assert!(s.server.stop());
}

verbund_e2e::on_both_databases!(series_of_stocks => a_series_of_stocks_is_each_month_as_alone_sqlite, a_series_of_stocks_is_each_month_as_alone_postgres);
