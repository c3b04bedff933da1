//! CSV as people export it from spreadsheets: semicolons, a BOM, German dates, quoted
//! fields. One bad row writes nothing and is named; the fixed file imported twice creates
//! its records once. Export gives the same columns back.

use reqwest::StatusCode;
use serde_json::Value;
use verbund_e2e::Demo;

#[tokio::test]
async fn import_all_or_nothing_then_idempotent_upsert_and_export() {
    let s = Demo::start_with(None, &[]);
    let (server, admin, http) = (&s.server, s.admin.clone(), s.http.clone());
    let orgs: Value = http
        .get(server.url("/api/v1/organisations?kind=member&first=1"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let org = orgs["items"][0]["id"].as_str().expect("org").to_owned();
    let before: Value = http
        .get(server.url(&format!(
            "/api/v1/volunteers?organisationId={org}&first=100"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let before = before["items"].as_array().expect("items").len();

    let bad = format!(
        "\u{feff}externalId;organisationId;reference;capacity;languages;active\n\
         CSV-1;{org};\"EA-7;Nörd\";2;de|ar;ja\n\
         CSV-2;{org};EA-2;zwölf;de;nein\n\
         CSV-3;{org};EA-3;3;de;ja\n"
    );
    let post = |body: String| {
        http.post(server.url("/api/v1/volunteers/import"))
            .bearer_auth(&admin)
            .header("content-type", "text/csv; charset=utf-8")
            .body(body)
            .send()
    };
    let res = post(bad.clone()).await.expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.expect("json");
    assert_eq!(problem["code"], "VALIDATION");
    assert_eq!(
        problem["fields"].as_array().expect("fields").len(),
        1,
        "{problem}"
    );
    assert_eq!(
        problem["fields"][0]["field"], "row 3, column capacity",
        "{problem}"
    );
    let after_bad: Value = http
        .get(server.url(&format!(
            "/api/v1/volunteers?organisationId={org}&first=100"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        after_bad["items"].as_array().expect("items").len(),
        before,
        "nothing written"
    );

    // A domain rule is reported with its row too.
    let rule = format!("externalId;organisationId;reference;capacity\nCSV-9;{org};EA-9;11\n");
    let problem: Value = post(rule).await.expect("post").json().await.expect("json");
    assert_eq!(
        problem["fields"][0]["field"], "row 2, column capacity",
        "{problem}"
    );

    let fixed = bad.replace("zwölf", "1");
    let first: Value = post(fixed.clone())
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(first["created"], 3, "{first}");
    let second: Value = post(fixed.clone())
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (second["created"].as_u64(), second["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{second}"
    );
    let changed: Value = post(fixed.replace("EA-3;3", "EA-3;4"))
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (changed["updated"].as_u64(), changed["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{changed}"
    );
    let after: Value = http
        .get(server.url(&format!(
            "/api/v1/volunteers?organisationId={org}&first=100"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        after["items"].as_array().expect("items").len(),
        before + 3,
        "no duplicates"
    );
    let quoted = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|v| v["externalId"] == "CSV-1")
        .expect("CSV-1");
    assert_eq!(quoted["reference"], "EA-7;Nörd");
    assert_eq!(quoted["languages"], serde_json::json!(["de", "ar"]));

    // German dates in a mentorship import.
    let vol = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|v| v["externalId"] == "CSV-3")
        .expect("CSV-3")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let m = format!(
        "externalId,organisationId,mentorId,menteeRef,format,targetGroup,status,requestedOn,matchedOn,startedOn\nM-CSV-1,{org},{vol},T-77,one_to_one,refugees,active,03.02.2025,10.02.2025,01.03.2025\n"
    );
    let res = http
        .post(server.url("/api/v1/mentorships/import"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(m)
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );

    // Export: the same columns, importable again without changes.
    let res = http
        .get(server.url("/api/v1/volunteers/export?delimiter=semicolon"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/csv")
    );
    let text = res.text().await.expect("text");
    assert!(
        text.starts_with("id;externalId;organisationId;reference;capacity;languages;active\n"),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.contains("\"EA-7;Nörd\""));
    let again: Value = post(text).await.expect("post").json().await.expect("json");
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(again["updated"], 0, "{again}");

    // Not CSV, and no token.
    let res = http
        .post(server.url("/api/v1/volunteers/import"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = http
        .post(server.url("/api/v1/volunteers/import"))
        .header("content-type", "text/csv")
        .body(fixed)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
