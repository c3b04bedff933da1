//! CSV as people export it from spreadsheets: semicolons, a BOM, German dates, quoted
//! fields. One bad row writes nothing and is named; the fixed file imported twice creates
//! its records once. Export gives the same columns back.

use reqwest::StatusCode;
use serde_json::Value;
use verbund_e2e::{Demo, PgDatabase, on_both_databases};

#[tokio::test]
async fn import_all_or_nothing_then_idempotent_upsert_and_export() {
    let s = Demo::start_with(None, &[]);
    let (server, admin, http) = (&s.server, s.admin.clone(), s.http.clone());
    let orgs: Value = s
        .get("/api/v1/organisations?kind=member&first=1", Some(&admin))
        .await;
    let org = orgs["items"][0]["id"].as_str().expect("org").to_owned();
    let volunteers = format!("/api/v1/volunteers?organisationId={org}");
    let before = s.all(&volunteers, Some(&admin)).await.len();

    let bad = format!(
        "\u{feff}externalId;organisationId;reference;capacity;languages;active\n\
         CSV-1;{org};\"EA-7;Nörd\";2;de|ar;ja\n\
         CSV-2;{org};EA-2;zwölf;de;nein\n\
         CSV-3;{org};EA-3;3;de;ja\n"
    );
    let post = |body: String| {
        let csv = "text/csv; charset=utf-8";
        let req = http.post(server.url("/api/v1/volunteers/import"));
        s.send(req.header("content-type", csv).body(body), Some(&admin))
    };
    let (status, problem) = post(bad.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
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
    let after_bad = s.all(&volunteers, Some(&admin)).await;
    assert_eq!(after_bad.len(), before, "nothing written");

    // A domain rule is reported with its row too.
    let rule = format!("externalId;organisationId;reference;capacity\nCSV-9;{org};EA-9;11\n");
    let (_, problem) = post(rule).await;
    assert_eq!(
        problem["fields"][0]["field"], "row 2, column capacity",
        "{problem}"
    );

    let fixed = bad.replace("zwölf", "1");
    let (_, first) = post(fixed.clone()).await;
    assert_eq!(first["created"], 3, "{first}");
    let (_, second) = post(fixed.clone()).await;
    assert_eq!(
        (second["created"].as_u64(), second["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{second}"
    );
    let (_, changed) = post(fixed.replace("EA-3;3", "EA-3;4")).await;
    assert_eq!(
        (changed["updated"].as_u64(), changed["unchanged"].as_u64()),
        (Some(1), Some(2)),
        "{changed}"
    );
    let after: Value = s
        .get(
            &format!("/api/v1/volunteers?organisationId={org}&first=100"),
            Some(&admin),
        )
        .await;
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
    let path = "/api/v1/mentorships/import";
    let (status, body) = import(&s, &admin, path, "text/csv", m.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Export: the same columns, importable again without changes.
    let (content_type, _, text) =
        export(&s, &admin, "/api/v1/volunteers/export?delimiter=semicolon").await;
    assert!(content_type.starts_with("text/csv"));
    assert!(
        text.starts_with(
            "\u{feff}id;version;externalId;organisationId;reference;capacity;languages;active\r\n"
        ),
        "{}",
        &text[..80.min(text.len())]
    );
    assert!(text.contains("\"EA-7;Nörd\""));
    let (_, again) = post(text).await;
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(again["updated"], 0, "{again}");

    // Not CSV, and no token.
    let path = "/api/v1/volunteers/import";
    let (status, _) = import(&s, &admin, path, "application/json", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = http
        .post(server.url("/api/v1/volunteers/import"))
        .header("content-type", "text/csv")
        .body(fixed)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// POSTs `body` to `path` as CSV with `content_type`: the status and the answer.
async fn import(
    s: &Demo,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let res = s
        .http
        .post(s.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("post");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

/// GETs an export: its Content-Type, Content-Disposition and text.
async fn export(s: &Demo, token: &str, path: &str) -> (String, String, String) {
    let res = s
        .http
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (ct, cd, res.text().await.expect("text"))
}

/// The places a 422 report names (`row N, column C`).
fn problem_fields(report: &Value) -> Vec<&str> {
    report["fields"]
        .as_array()
        .map(|fs| fs.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

/// The counts of an import's answer.
fn counts(v: &Value) -> (u64, u64, u64) {
    let n = |k: &str| v[k].as_u64().unwrap_or(u64::MAX);
    (n("created"), n("updated"), n("unchanged"))
}

/// Issue 15, item 1: export → edit → import changes exactly the edited rows. Rows are
/// matched by the `id` the export wrote (so giving a row an `externalId` updates it rather
/// than making a duplicate), an unedited export is all unchanged, a row without `id` or
/// `externalId` is created, and a row of an export older than its record is refused (its
/// `version`), with nothing written.
async fn round_trip(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let (org, other) = s.two_organisations().await;
    let admin = s.admin.clone();
    let path = "/api/v1/volunteers/export?format=excel";
    let (ct, cd, text) = export(&s, &admin, path).await;
    assert_eq!(ct, "text/csv; charset=utf-8; header=present");
    assert_eq!(cd, "attachment; filename=\"volunteers.csv\"");
    let body = text.strip_prefix('\u{feff}').expect("a BOM for Excel");
    let mut lines: Vec<String> = body.split("\r\n").map(str::to_owned).collect();
    assert_eq!(lines.pop().as_deref(), Some(""), "CRLF after the last row");
    assert_eq!(
        lines[0],
        "id;version;externalId;organisationId;reference;capacity;languages;active"
    );
    let rows = lines.len() as u64 - 1;
    assert!(rows >= 3, "{rows}");
    let csv = "text/csv; charset=utf-8";
    let volunteers = "/api/v1/volunteers/import";

    // Unedited: everything unchanged (rows with and without an externalId alike).
    let (status, r) = import(&s, &admin, volunteers, csv, text.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(counts(&r), (0, 0, rows), "{r}");

    // Edit one row's capacity, give another row (without one) an externalId, add a row.
    let cells = |l: &str| l.split(';').map(str::to_owned).collect::<Vec<_>>();
    let mut edited = lines.clone();
    let mut a = cells(&edited[1]);
    let a_id = a[0].clone();
    let capacity: i64 = a[5].parse().expect("capacity");
    let new_capacity = if capacity == 1 { 2 } else { 1 };
    a[5] = new_capacity.to_string();
    edited[1] = a.join(";");
    let (b_at, mut b) = edited
        .iter()
        .enumerate()
        .skip(2)
        .map(|(i, l)| (i, cells(l)))
        .find(|(_, c)| c[2].is_empty())
        .unwrap_or_else(|| (2, cells(&edited[2])));
    let b_id = b[0].clone();
    b[2] = "KARTEI-RT-1".into();
    edited[b_at] = b.join(";");
    edited.push(format!(";;;{org};RT-NEU-1;2;de;ja"));
    let file = format!("\u{feff}{}\r\n", edited.join("\r\n"));
    // A dry run answers the same and writes nothing.
    let dry = "/api/v1/volunteers/import?dryRun=true";
    let (status, r) = import(&s, &admin, dry, csv, file.clone().into_bytes()).await;
    assert_eq!(
        (status, counts(&r)),
        (StatusCode::OK, (1, 2, rows - 2)),
        "{r}"
    );
    let a_dry = s
        .get(&format!("/api/v1/volunteers/{a_id}"), Some(&admin))
        .await;
    assert_eq!(a_dry["capacity"], capacity, "a dry run writes nothing");
    assert_eq!(
        s.all("/api/v1/volunteers", Some(&admin)).await.len() as u64,
        rows
    );
    let (status, r) = import(
        &s,
        &admin,
        dry,
        csv,
        file.replace("RT-NEU-1", "RT NEU").into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(
        problem_fields(&r),
        [format!("row {}, column reference", rows + 2)],
        "{r}"
    );
    let (status, r) = import(&s, &admin, volunteers, csv, file.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(counts(&r), (1, 2, rows - 2), "{r}");
    let a_now = s
        .get(&format!("/api/v1/volunteers/{a_id}"), Some(&admin))
        .await;
    assert_eq!(a_now["capacity"], new_capacity);
    assert_eq!(
        a_now["version"],
        cells(&lines[1])[1].parse::<i64>().expect("v") + 1
    );
    let b_now = s
        .get(&format!("/api/v1/volunteers/{b_id}"), Some(&admin))
        .await;
    assert_eq!(b_now["externalId"], "KARTEI-RT-1");
    let all = s.all("/api/v1/volunteers", Some(&admin)).await;
    assert_eq!(all.len() as u64, rows + 1, "one created, no duplicate");

    // The first export again: its row of `a` is older than the record now. Refused, and
    // nothing of the file is written.
    let (status, r) = import(&s, &admin, volunteers, csv, text.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["code"], "CONFLICT", "{r}");
    assert!(
        r["detail"].as_str().unwrap_or("").starts_with("row 2:"),
        "{r}"
    );
    let b_still = s
        .get(&format!("/api/v1/volunteers/{b_id}"), Some(&admin))
        .await;
    assert_eq!(b_still["externalId"], "KARTEI-RT-1", "nothing written");

    // An id nobody may change (unknown, or out of the caller's scope) names its row.
    let stranger = format!(
        "id;externalId;organisationId;reference;capacity\n{};X-1;{org};RT-X1;1\n",
        uuid_like()
    );
    let (status, r) = import(&s, &admin, volunteers, csv, stranger.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["fields"][0]["field"], "row 2, column id", "{r}");
    // The new row's volunteer belongs to `org`; the other organisation cannot see it.
    let created = all
        .iter()
        .find(|v| v["reference"] == "RT-NEU-1")
        .expect("created");
    let c_id = created["id"].as_str().expect("id");
    let outsider = s.token(&["--role", "org_admin", "--organisation", &other]);
    let theirs = format!("id;reference;capacity\n{c_id};RT-X2;1\n");
    let (status, r) = import(&s, &outsider, volunteers, csv, theirs.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["fields"][0]["field"], "row 2, column id", "{r}");
    assert_eq!(
        r["fields"][0]["reason"], "no record with this id that you may change",
        "{r}"
    );
    let c_still = s
        .get(&format!("/api/v1/volunteers/{c_id}"), Some(&admin))
        .await;
    assert_eq!(c_still["reference"], "RT-NEU-1", "nothing written");

    // Plain RFC 4180 on request: no BOM, commas.
    let (_, _, plain) = export(&s, &admin, "/api/v1/volunteers/export?format=rfc4180").await;
    assert!(
        plain.starts_with(
            "id,version,externalId,organisationId,reference,capacity,languages,active\r\n"
        ),
        "{}",
        &plain[..60.min(plain.len())]
    );
    let (status, r) = import(&s, &admin, volunteers, "text/csv", plain.into_bytes()).await;
    assert_eq!(
        (status, counts(&r)),
        (StatusCode::OK, (0, 0, rows + 1)),
        "{r}"
    );
}

fn uuid_like() -> &'static str {
    "0199a5c0-0000-7000-8000-000000000001"
}

on_both_databases!(round_trip => an_edited_export_changes_exactly_the_edited_rows_sqlite, an_edited_export_changes_exactly_the_edited_rows_postgres);

/// Windows-1252 as German Excel saves "CSV (Trennzeichen-getrennt)".
fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

/// Issue 15, item 2: files as people save them — Windows-1252 (detected or named), UTF-8
/// with BOM, `;` and tab, CRLF, German headers, dates, numbers and yes/no, empty trailing
/// rows and columns; a bad value is reported under the file's own column name.
async fn saved_files(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let (org, _) = s.two_organisations().await;
    let admin = s.admin.clone();
    let volunteers = "/api/v1/volunteers/import";
    // German Excel: Windows-1252, `;`, CRLF, German headers, an empty last column, "2,0",
    // "x" for yes, two empty rows at the end.
    let german = format!(
        "Externe ID;Organisation;Referenz;Kapazität;Sprachen;Aktiv;\r\n\
         WIN-1;{org};Büro-Ä1;2,0;de|tr;x;\r\n\
         WIN-2;{org};Büro-Ö2;1;de;nein;\r\n\
         ;;;;;;\r\n\
         ;;;;;;\r\n"
    );
    for content_type in ["text/csv", "text/csv; charset=windows-1252"] {
        let (status, r) = import(&s, &admin, volunteers, content_type, windows_1252(&german)).await;
        assert_eq!(status, StatusCode::OK, "{content_type}: {r}");
    }
    let all = s.all("/api/v1/volunteers", Some(&admin)).await;
    let win1 = all
        .iter()
        .find(|v| v["externalId"] == "WIN-1")
        .expect("WIN-1");
    assert_eq!(win1["reference"], "Büro-Ä1");
    assert_eq!(win1["capacity"], 2);
    assert_eq!(win1["active"], true);
    assert_eq!(win1["languages"], serde_json::json!(["de", "tr"]));
    let win2 = all
        .iter()
        .find(|v| v["externalId"] == "WIN-2")
        .expect("WIN-2");
    assert_eq!(
        (win2["reference"].as_str(), win2["active"].as_bool()),
        (Some("Büro-Ö2"), Some(false))
    );

    // UTF-8 with BOM, tab-separated, English headers in another spelling, German dates.
    let vol = win1["id"].as_str().expect("id");
    let tabbed = format!(
        "\u{feff}external_id\torganisation_id\tmentor_id\tmentee_ref\tformat\ttarget_group\tstatus\tAngefragt am\tVermittelt am\tBegonnen am\r\n\
         TAB-1\t{org}\t{vol}\tT-1\tone_to_one\trefugees\tactive\t03.02.2025\t10.02.2025\t01.03.2025\r\n"
    );
    let (status, r) = import(
        &s,
        &admin,
        "/api/v1/mentorships/import",
        "text/csv; charset=utf-8",
        tabbed.into_bytes(),
    )
    .await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (1, 0, 0)), "{r}");
    let m = s.all("/api/v1/mentorships", Some(&admin)).await;
    let tab = m
        .iter()
        .find(|v| v["externalId"] == "TAB-1")
        .expect("TAB-1");
    assert_eq!(tab["startedOn"], "2025-03-01");

    // Bad values are named by the file's own column names and rows; nothing is written.
    let bad = format!(
        "Externe ID;Organisation;Referenz;Kapazität;Aktiv\r\n\
         WIN-3;{org};Büro-3;2,5;ja\r\n\
         WIN-4;{org};Büro-4;1.000.0;vielleicht\r\n"
    );
    let (status, r) = import(&s, &admin, volunteers, "text/csv", windows_1252(&bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let fields = problem_fields(&r);
    assert_eq!(
        fields,
        [
            "row 2, column Kapazität",
            "row 3, column Kapazität",
            "row 3, column Aktiv"
        ],
        "{r}"
    );
    // A domain rule too (capacity at most 10), under the German name.
    let rule =
        format!("Externe ID;Organisation;Referenz;Kapazität\r\nWIN-5;{org};Büro-5;1.100\r\n");
    let (status, r) = import(&s, &admin, volunteers, "text/csv", windows_1252(&rule)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["fields"][0]["field"], "row 2, column Kapazität", "{r}");
    let after = s.all("/api/v1/volunteers", Some(&admin)).await;
    assert_eq!(after.len(), all.len(), "nothing written");

    // A charset it does not know, a file that is not UTF-8 though it says so, an unknown
    // column, a value in a column without a header.
    let (status, r) = import(
        &s,
        &admin,
        volunteers,
        "text/csv; charset=utf-16",
        german.clone().into_bytes(),
    )
    .await;
    assert_eq!(
        (status, r["code"].as_str()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("UNSUPPORTED_MEDIA_TYPE")
        ),
        "{r}"
    );
    let (status, r) = import(
        &s,
        &admin,
        volunteers,
        "text/csv; charset=utf-8",
        windows_1252(&german),
    )
    .await;
    assert_eq!(
        (status, r["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MALFORMED")),
        "{r}"
    );
    let odd = format!(
        "Externe ID;Organisation;Referenz;Lieblingsfarbe;\r\nWIN-6;{org};Büro-6;blau;mehr\r\n"
    );
    let (status, r) = import(&s, &admin, volunteers, "text/csv", odd.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    let fields = problem_fields(&r);
    assert_eq!(
        fields,
        ["row 1, column Lieblingsfarbe", "row 2, column 5"],
        "{r}"
    );
}

on_both_databases!(saved_files => files_as_people_save_them_import_sqlite, files_as_people_save_them_import_postgres);

/// Issue 15, item 4: every resource a member keeps in a list exports and imports back
/// unchanged; fundings take amounts in euros under a German header; meetings, which have
/// no key of their organisation's, are matched by the id their export wrote.
async fn every_resource(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let admin = s.admin.clone();
    // Networks, cooperations and committees have no CSV doors.
    let with_csv = verbund_e2e::RESOURCES
        .into_iter()
        .filter(|r| !matches!(*r, "networks" | "cooperations" | "committees"));
    for resource in with_csv {
        let (_, cd, text) = export(&s, &admin, &format!("/api/v1/{resource}/export")).await;
        assert_eq!(cd, format!("attachment; filename=\"{resource}.csv\""));
        let rows = text.split("\r\n").filter(|l| !l.is_empty()).count() as u64 - 1;
        assert!(rows > 0, "{resource}: the demo has some");
        let (status, r) = import(
            &s,
            &admin,
            &format!("/api/v1/{resource}/import"),
            "text/csv",
            text.into_bytes(),
        )
        .await;
        assert_eq!(
            (status, counts(&r)),
            (StatusCode::OK, (0, 0, rows)),
            "{resource}: {r}"
        );
    }

    let (org, _) = s.two_organisations().await;
    let funding = format!(
        "Externe ID;Organisation;Art des Fördergebers;Fördergeber;Programm;Betrag;Beginn;Ende\r\n\
         F-CSV-1;{org};foundation;Stiftung Nord;Tandem 2026;1.234,56 €;01.01.2026;31.12.2026\r\n"
    );
    let (status, r) = import(
        &s,
        &admin,
        "/api/v1/fundings/import",
        "text/csv",
        windows_1252(&funding),
    )
    .await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (1, 0, 0)), "{r}");
    let all = s.all("/api/v1/fundings", Some(&admin)).await;
    let f = all
        .iter()
        .find(|f| f["externalId"] == "F-CSV-1")
        .expect("F-CSV-1");
    assert_eq!(f["amountCents"], 123_456);
    assert_eq!(f["funderName"], "Stiftung Nord");
    assert_eq!(f["endsOn"], "2026-12-31");
    let (status, r) = import(
        &s,
        &admin,
        "/api/v1/fundings/import",
        "text/csv",
        windows_1252(&funding.replace("1.234,56 €", "1.234,567 €")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(problem_fields(&r), ["row 2, column Betrag"], "{r}");

    // A meeting's topic edited in the exported file: that meeting, and only it, changes.
    let (_, _, text) = export(&s, &admin, "/api/v1/meetings/export?format=rfc4180").await;
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let topic = header.iter().position(|h| *h == "topic").expect("topic");
    let mut first: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let id = first[0].clone();
    first[topic] = "Neues Thema 7".into();
    lines[1] = first.join(",");
    let rows = lines.iter().filter(|l| !l.is_empty()).count() as u64 - 1;
    let (status, r) = import(
        &s,
        &admin,
        "/api/v1/meetings/import",
        "text/csv",
        lines.join("\r\n").into_bytes(),
    )
    .await;
    assert_eq!(
        (status, counts(&r)),
        (StatusCode::OK, (0, 1, rows - 1)),
        "{r}"
    );
    let m = s.get(&format!("/api/v1/meetings/{id}"), Some(&admin)).await;
    assert_eq!(m["topic"], "Neues Thema 7");
}

on_both_databases!(every_resource => every_resource_round_trips_sqlite, every_resource_round_trips_postgres);

/// Parses a CSV file (`;` or `,`, a BOM dropped) into records.
fn records(text: &str, delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes())
        .records()
        .map(|r| r.expect("record").iter().map(str::to_owned).collect())
        .collect()
}

/// Issue 15, item 6: every statistics answer as a table: one row per cell (the total last)
/// with each group's code and name, the filters, the count or `.` where suppressed and
/// why — the same cells and figures as the JSON answer, for Excel or as RFC 4180.
async fn statistics_tables(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let query = "/api/v1/statistics/mentorships?groupBy=state,year";
    let json = s.get(query, Some(&ministry)).await;
    let (ct, cd, text) = export(&s, &ministry, &format!("{query}&format=csv")).await;
    assert_eq!(ct, "text/csv; charset=utf-8; header=present");
    assert_eq!(cd, "attachment; filename=\"mentorships.csv\"");
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    let table = records(&text, b';');
    assert_eq!(
        table[0],
        [
            "state",
            "state_label",
            "state_code",
            "year",
            "year_label",
            "count",
            "suppression",
            "suppression_reason"
        ]
    );
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(
        table.len(),
        rows.len() + 2,
        "a row per cell, the total, the header"
    );
    let mut suppressed = 0;
    for (row, record) in rows.iter().zip(&table[1..]) {
        let key = |d: &str| {
            row["keys"]
                .as_array()
                .and_then(|ks| ks.iter().find(|k| k["dimension"] == d))
                .expect("key")
                .clone()
        };
        assert_eq!(record[0], key("state")["value"].as_str().expect("state"));
        assert_eq!(record[1], key("state")["label"].as_str().expect("a name"));
        // States by their ISO 3166-2 code (the federal network's own row: DE).
        let code = key("state")["code"].as_str().expect("a code").to_owned();
        assert!(
            code == "DE" || (code.starts_with("DE-") && code.len() == 5),
            "{code}"
        );
        assert_eq!(record[2], code);
        assert_eq!(record[3], key("year")["value"].as_str().expect("year"));
        if row["suppressed"] == true {
            suppressed += 1;
            assert_eq!(record[5], ".", "{record:?}");
            assert_eq!(record[6], row["suppression"].as_str().expect("suppression"));
            assert_eq!(
                record[7],
                row["suppressionReason"].as_str().expect("reason")
            );
        } else {
            assert_eq!(record[5], row["count"].as_i64().expect("count").to_string());
            assert_eq!((record[6].as_str(), record[7].as_str()), ("", ""));
        }
    }
    assert!(suppressed > 0, "the demo's protected table hides cells");
    let total = table.last().expect("total");
    assert_eq!(total[1], "total");
    assert_eq!(
        total[5],
        json["total"]["count"]
            .as_i64()
            .map_or(".".into(), |c| c.to_string())
    );
    let codes: std::collections::BTreeSet<&str> =
        table[1..].iter().map(|r| r[2].as_str()).collect();
    assert!(
        codes.contains("DE-BY") && codes.contains("DE-SN"),
        "{codes:?}"
    );

    // Filters are columns of their own; plain RFC 4180 on request; a snapshot's deadline.
    let state = rows[0]["keys"][0]["value"]
        .as_str()
        .expect("state")
        .to_owned();
    let (_, _, plain) = export(
        &s,
        &s.admin,
        &format!("/api/v1/statistics/volunteers?groupBy=status&network={state}&format=rfc4180"),
    )
    .await;
    assert!(!plain.starts_with('\u{feff}'));
    let table = records(&plain, b',');
    assert_eq!(
        table[0],
        [
            "status",
            "status_label",
            "filter_network",
            "count",
            "amount",
            "suppression",
            "suppression_reason"
        ]
    );
    assert!(table[1..].iter().all(|r| r[2] == state), "{table:?}");
    // Words come with their German names beside them (and the JSON answer names them in
    // German and English).
    let labelled: Vec<(&str, &str)> = table[1..table.len() - 1]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert!(
        labelled
            .iter()
            .all(|l| matches!(*l, ("active", "aktiv") | ("inactive", "inaktiv"))),
        "{labelled:?}"
    );
    let (_, _, groups) = export(
        &s,
        &s.admin,
        "/api/v1/statistics/mentorships?groupBy=target_group,status&format=csv",
    )
    .await;
    let groups = records(&groups, b';');
    assert!(
        groups[1..]
            .iter()
            .any(|r| r[..4] == ["young_people", "Jugendliche", "active", "aktiv"]),
        "{groups:?}"
    );
    let json = s
        .get(
            "/api/v1/statistics/mentorships?groupBy=target_group",
            Some(&s.admin),
        )
        .await;
    let key = json["rows"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["keys"][0]["value"] == "older_people"))
        .map(|r| r["keys"][0].clone())
        .expect("older people");
    assert_eq!(
        (key["label"].as_str(), key["labelDe"].as_str()),
        (Some("older people"), Some("Ältere Menschen"))
    );
    // The Accept header chooses when `format` is not given.
    let accept = |media: &'static str| {
        let s = &s;
        let ministry = ministry.clone();
        async move {
            let res = s
                .http
                .get(s.url(query))
                .bearer_auth(&ministry)
                .header("accept", media)
                .send()
                .await
                .expect("get");
            let ct = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (res.status(), ct, res.bytes().await.expect("body"))
        }
    };
    let (status, ct, body) = accept("text/csv").await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8; header=present")
    );
    assert_eq!(
        std::str::from_utf8(&body).expect("utf-8"),
        text,
        "the same as format=csv"
    );
    let (status, ct, body) = accept(
        "application/json;q=0.5, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, XLSX));
    assert_eq!(sheets(&body)[0].0, "statistic");
    let (status, ct, _) = accept("text/html, */*;q=0.8").await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "application/json"));
    let (status, r) = s
        .fetch(&format!("{query}&format=pdf"), Some(&ministry))
        .await;
    assert_eq!(
        (status, r["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MALFORMED")),
        "{r}"
    );
}

on_both_databases!(statistics_tables => statistics_download_as_tables_sqlite, statistics_download_as_tables_postgres);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Keeps a workbook where CI's independent reader (openpyxl, `tests/xlsx/verify.py`) checks
/// its typed cells, when `VERBUND_XLSX_DUMP` names a folder.
fn dump_workbook(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("VERBUND_XLSX_DUMP") {
        let path = std::path::Path::new(&dir).join(format!("{name}-{}.xlsx", std::process::id()));
        std::fs::write(path, bytes).expect("dump");
    }
}

/// A workbook's sheets: name → rows of cells.
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<calamine::Data>>)> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    book.sheet_names()
        .into_iter()
        .map(|n| {
            let range = book.worksheet_range(&n).expect("sheet");
            (n, range.rows().map(<[calamine::Data]>::to_vec).collect())
        })
        .collect()
}

/// Issue 15, item 3: Excel workbooks both ways. Files written by openpyxl (another tool;
/// `tests/xlsx/fixtures.py`) import with their typed cells (numbers, yes/no, dates) and
/// German headers; a fraction where a whole number belongs is named by row and column;
/// exports and statistics come as workbooks with typed cells, and an exported workbook
/// imports back unchanged.
async fn workbooks(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let (org, _) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    let volunteers = include_bytes!("../xlsx/volunteers.xlsx").to_vec();
    let (status, r) = import(&s, &own, "/api/v1/volunteers/import", XLSX, volunteers).await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (2, 0, 0)), "{r}");
    let all = s.all("/api/v1/volunteers", Some(&s.admin)).await;
    let one = all
        .iter()
        .find(|v| v["externalId"] == "XL-1")
        .expect("XL-1");
    assert_eq!(one["organisationId"], org.as_str());
    assert_eq!(one["reference"], "XL-Büro-1");
    assert_eq!(one["capacity"], 2);
    assert_eq!(one["languages"], serde_json::json!(["de", "uk"]));
    assert_eq!(one["active"], true);
    let two = all
        .iter()
        .find(|v| v["externalId"] == "XL-2")
        .expect("XL-2");
    assert_eq!(
        (two["capacity"].as_i64(), two["active"].as_bool()),
        (Some(3), Some(false))
    );
    let mentorships = include_bytes!("../xlsx/mentorships.xlsx").to_vec();
    let (status, r) = import(&s, &own, "/api/v1/mentorships/import", XLSX, mentorships).await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (1, 0, 0)), "{r}");
    let m = s.all("/api/v1/mentorships", Some(&s.admin)).await;
    let m = m
        .iter()
        .find(|m| m["externalId"] == "XL-M-1")
        .expect("XL-M-1");
    assert_eq!(m["requestedOn"], "2025-12-31", "a date cell");
    let fraction = include_bytes!("../xlsx/volunteers-fraction.xlsx").to_vec();
    let (status, r) = import(&s, &own, "/api/v1/volunteers/import", XLSX, fraction).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(problem_fields(&r), ["row 2, column Kapazität"], "{r}");
    let (status, r) = import(
        &s,
        &own,
        "/api/v1/volunteers/import",
        XLSX,
        b"not a zip".to_vec(),
    )
    .await;
    assert_eq!(
        (status, r["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MALFORMED")),
        "{r}"
    );

    // Export as a workbook: typed cells, and it imports back unchanged.
    let res = s
        .http
        .get(s.url("/api/v1/volunteers/export?format=xlsx"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], XLSX);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"volunteers.xlsx\""
    );
    let book = res.bytes().await.expect("bytes").to_vec();
    dump_workbook("volunteers", &book);
    let read = sheets(&book);
    assert_eq!(read.len(), 1);
    let (name, rows) = &read[0];
    assert_eq!(name, "volunteers");
    assert_eq!(
        rows.len(),
        all.len() + 1,
        "a header and a row per volunteer"
    );
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    let col = |h: &str| header.iter().position(|x| x == h).expect(h);
    for row in &rows[1..] {
        assert!(
            matches!(row[col("version")], calamine::Data::Float(_)),
            "{row:?}"
        );
        assert!(
            matches!(row[col("capacity")], calamine::Data::Float(_)),
            "{row:?}"
        );
        assert!(
            matches!(row[col("active")], calamine::Data::Bool(_)),
            "{row:?}"
        );
    }
    let (status, r) = import(&s, &s.admin, "/api/v1/volunteers/import", XLSX, book).await;
    assert_eq!(
        (status, counts(&r)),
        (StatusCode::OK, (0, 0, all.len() as u64)),
        "{r}"
    );
    let res = s
        .http
        .get(s.url("/api/v1/mentorships/export?format=xlsx"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("export");
    let book = res.bytes().await.expect("bytes").to_vec();
    dump_workbook("mentorships", &book);
    let (_, rows) = &sheets(&book)[0];
    let requested = rows[0]
        .iter()
        .position(|h| *h == "requestedOn")
        .expect("requestedOn");
    assert!(
        matches!(rows[1][requested], calamine::Data::DateTime(_)),
        "{:?}",
        rows[1]
    );

    // A statistic as a workbook: the table with numbers, and what it is.
    let ministry = s.role("ministry_analyst");
    let query = "/api/v1/statistics/mentorships?groupBy=state,year";
    let json = s.get(query, Some(&ministry)).await;
    let res = s
        .http
        .get(s.url(&format!("{query}&format=xlsx")))
        .bearer_auth(&ministry)
        .send()
        .await
        .expect("statistics");
    assert_eq!(res.headers()["content-type"], XLSX);
    let book = res.bytes().await.expect("bytes").to_vec();
    dump_workbook("statistic", &book);
    let read = sheets(&book);
    let names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["statistic", "about"]);
    let table = &read[0].1;
    assert_eq!(
        table.len(),
        json["rows"].as_array().expect("rows").len() + 2
    );
    let count = table[0].iter().position(|h| *h == "count").expect("count");
    for (row, cells) in json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .zip(&table[1..])
    {
        match row["count"].as_i64() {
            Some(n) => assert_eq!(cells[count], calamine::Data::Float(n as f64)),
            None => assert_eq!(cells[count], calamine::Data::String(".".into())),
        }
    }
}

on_both_databases!(workbooks => excel_workbooks_both_ways_sqlite, excel_workbooks_both_ways_postgres);

/// Issue 15, item 5 (part): a spreadsheet import is not bounded by the 1 MiB of other
/// bodies, nor by axum's 2 MB for extractors (`server.import_max_bytes`, 16 MiB by
/// default): a 2.4 MB file (its bulk empty rows, which are passed over) imports, a JSON
/// body over 1 MiB is refused, and a file over the import limit is refused with 413.
async fn large_files(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[("VERBUND_SERVER__IMPORT_MAX_BYTES", "3000000")]);
    let (org, _) = s.two_organisations().await;
    let mut file = format!(
        "externalId;organisationId;reference;capacity;languages;active\r\nBIG-1;{org};BIG-R1;1;de;ja\r\n"
    );
    file.push_str(&";;;;;\r\n".repeat(350_000));
    assert!(file.len() > 2_400_000, "{}", file.len());
    let (status, r) = import(
        &s,
        &s.admin,
        "/api/v1/volunteers/import",
        "text/csv",
        file.clone().into_bytes(),
    )
    .await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (1, 0, 0)), "{r}");
    let (status, r) = s
        .send(
            s.http
                .post(s.url("/api/v1/volunteers"))
                .header("content-type", "application/json")
                // Just over 1 MiB, so that it is all sent before the answer comes.
                .body(format!("{{\"reference\":\"{}\"}}", "x".repeat(1 << 20))),
            Some(&s.admin),
        )
        .await;
    assert_eq!(
        (status, r["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE")),
        "{r}"
    );
    // Over the limit: the server answers 413 and stops reading, so a client still sending
    // may see the connection closed instead of the answer (HTTP/1.1 without
    // `Expect: 100-continue`). Either way nothing is written and the server goes on.
    file = file
        .replace("BIG-1;", "BIG-2;")
        .replace("BIG-R1;", "BIG-R2;");
    while file.len() <= 3_000_000 {
        file.push_str(";;;;;\r\n");
    }
    let sent = s
        .http
        .post(s.url("/api/v1/volunteers/import"))
        .bearer_auth(&s.admin)
        .header("content-type", "text/csv")
        .body(file.into_bytes())
        .send()
        .await;
    if let Ok(res) = sent {
        let (status, r) = verbund_e2e::json_of(res).await;
        assert_eq!(
            (status, r["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE")),
            "{r}"
        );
        assert_eq!(r["detail"], "the body is larger than 3000000 bytes", "{r}");
    }
    let all = s.all("/api/v1/volunteers", Some(&s.admin)).await;
    assert!(all.iter().any(|v| v["externalId"] == "BIG-1"));
    assert!(
        !all.iter().any(|v| v["externalId"] == "BIG-2"),
        "nothing written"
    );
}

on_both_databases!(large_files => imports_are_not_bounded_by_the_body_limit_sqlite, imports_are_not_bounded_by_the_body_limit_postgres);

/// A workbook that unpacks to far more than it weighs (a "zip bomb": 300 MB of zeros in
/// a few hundred kilobytes) is refused with 413 before it is unpacked, and the server
/// goes on answering.
async fn zip_bomb(pg: Option<PgDatabase>) {
    use std::io::Write;
    let s = Demo::start(pg);
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    bomb.start_file("xl/worksheets/sheet1.xml", options)
        .expect("entry");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        bomb.write_all(&zeros).expect("write");
    }
    let bytes = bomb.finish().expect("zip").into_inner();
    assert!(bytes.len() < 2_000_000, "{}", bytes.len());
    let (status, r) = import(&s, &s.admin, "/api/v1/volunteers/import", XLSX, bytes).await;
    assert_eq!(
        (status, r["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("PAYLOAD_TOO_LARGE")),
        "{r}"
    );
    assert_eq!(
        r["detail"], "the workbook unpacks to more than 268435456 bytes",
        "{r}"
    );
    assert_eq!(s.get("/healthz", None).await["status"], "ok");
}

on_both_databases!(zip_bomb => a_workbook_that_unpacks_too_far_is_refused_sqlite, a_workbook_that_unpacks_too_far_is_refused_postgres);

/// The mentorships the admin sees, and the statistics' total of them.
async fn mentorship_counts(s: &Demo) -> (u64, i64) {
    let list = s
        .get("/api/v1/mentorships?first=1&total=true", Some(&s.admin))
        .await;
    let stats = s
        .get("/api/v1/statistics/mentorships", Some(&s.admin))
        .await;
    (
        list["total"].as_u64().expect("total"),
        stats["total"]["count"].as_i64().expect("count"),
    )
}

/// Issue 15, item 5: a large import is read and written in pieces of a thousand rows, and is
/// still one all-or-nothing import: 2,500 rows of one organisation (with its mentors and
/// offerings, looked up for all rows together) are created with their statistics and one
/// `created` change each; a dry run counts them and writes nothing; a row in the third
/// piece that names the same record as a row of the first, or a record that does not
/// exist, is reported by its row and column, and nothing of the file is written.
async fn large_imports(pg: Option<PgDatabase>) {
    let s = Demo::start_with(pg, &[("VERBUND_RATE_LIMIT__ENABLED", "false")]);
    let (org, _) = s.two_organisations().await;
    let own = s.token(&["--role", "org_admin", "--organisation", &org]);
    let mentors: Vec<String> = s
        .all(
            &format!("/api/v1/volunteers?organisationId={org}"),
            Some(&s.admin),
        )
        .await
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!mentors.is_empty());
    let header = "externalId;Mentor;Mentee;Format;Zielgruppe;Status;Angefragt am;Vermittelt am\r\n";
    let row = |i: usize| {
        let m = &mentors[i % mentors.len()];
        if i % 2 == 0 {
            format!("PIECE-{i};{m};P-{i};one_to_one;children;matched;01.02.2024;15.02.2024\r\n")
        } else {
            format!("PIECE-{i};;P-{i};one_to_one;women;requested;01.02.2024;\r\n")
        }
    };
    let file: String = std::iter::once(header.to_owned())
        .chain((0..2500).map(row))
        .collect();
    let path = "/api/v1/mentorships/import";
    let csv = "text/csv";
    let before = mentorship_counts(&s).await;
    let cursor = s.get("/api/v1/changes?after=now", Some(&s.admin)).await["nextCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();

    // A row of the third piece names the record of the first piece's row 2 (its
    // externalId), or a record that is not there: reported, nothing written.
    let twice = format!("{file}PIECE-0;;P-X1;one_to_one;women;requested;01.02.2024;\r\n");
    let (status, r) = import(&s, &own, path, csv, twice.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(problem_fields(&r), ["row 2502, column externalId"], "{r}");
    assert_eq!(
        r["fields"][0]["reason"], "names the same record as an earlier row",
        "{r}"
    );
    let missing = format!(
        "id;{}{}00000000-0000-7000-8000-000000000000;PIECE-X;;P-Y2;one_to_one;women;requested;01.02.2024;\r\n",
        header,
        file.lines()
            .skip(1)
            .map(|l| format!(";{l}\r\n"))
            .collect::<String>()
    );
    let (status, r) = import(&s, &own, path, csv, missing.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(problem_fields(&r), ["row 2502, column id"], "{r}");
    assert_eq!(mentorship_counts(&s).await, before, "nothing written");

    // A dry run answers what the import will do.
    let (status, r) = import(
        &s,
        &own,
        &format!("{path}?dryRun=true"),
        csv,
        file.clone().into_bytes(),
    )
    .await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (2500, 0, 0)), "{r}");
    assert_eq!(
        mentorship_counts(&s).await,
        before,
        "a dry run writes nothing"
    );

    let (status, r) = import(&s, &own, path, csv, file.clone().into_bytes()).await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (2500, 0, 0)), "{r}");
    assert_eq!(
        mentorship_counts(&s).await,
        (before.0 + 2500, before.1 + 2500),
        "every row stored and counted by the statistics"
    );
    let mut created = 0;
    let mut cursor = cursor;
    loop {
        let page = s
            .get(
                &format!("/api/v1/changes?after={cursor}&limit=1000&types=mentorship"),
                Some(&s.admin),
            )
            .await;
        for c in page["items"].as_array().expect("items") {
            assert_eq!(
                (c["action"].as_str(), c["version"].as_i64()),
                (Some("created"), Some(1))
            );
            created += 1;
        }
        cursor = page["nextCursor"].as_str().expect("cursor").to_owned();
        if !page["hasMore"].as_bool().expect("hasMore") {
            break;
        }
    }
    assert_eq!(created, 2500, "one change per row in the feed");
    let mine = s
        .all(
            &format!("/api/v1/mentorships?organisationId={org}&search=P-"),
            Some(&own),
        )
        .await;
    let matched = mine
        .iter()
        .filter(|m| m["menteeRef"].as_str().is_some_and(|r| r.starts_with("P-")))
        .filter(|m| m["status"] == "matched")
        .filter(|m| {
            m["mentorId"]
                .as_str()
                .is_some_and(|id| mentors.contains(&id.to_owned()))
        })
        .count();
    assert_eq!(matched, 1250, "the mentors as the file named them");

    // Again: everything unchanged, also across pieces.
    let (status, r) = import(&s, &own, path, csv, file.into_bytes()).await;
    assert_eq!((status, counts(&r)), (StatusCode::OK, (0, 0, 2500)), "{r}");
}

on_both_databases!(large_imports => large_imports_go_in_pieces_and_stay_whole_sqlite, large_imports_go_in_pieces_and_stay_whole_postgres);
