//! Statistics in the formats of statistics offices — JSON-stat 2.0, SDMX-CSV 2.0 and a
//! Frictionless Data Package — hold the same figures as the JSON answer for the same
//! caller, suppressed cells as missing with the symbol `.`, never as 0. The files are also
//! kept (`VERBUND_STATS_DUMP`) for CI's independent readers (`tests/statformats/verify.py`:
//! jsonstat-validator, pysdmx, frictionless).

use reqwest::StatusCode;
use serde_json::Value;
use std::io::Read;
use verbund_e2e::Demo;

/// The code a format gives a key: a network's official code, else the value (`_Z` empty).
fn code(key: &Value) -> String {
    match (key["code"].as_str(), key["value"].as_str().unwrap_or("")) {
        (Some(c), _) => c.to_owned(),
        (None, "") => "_Z".to_owned(),
        (None, v) => v.to_owned(),
    }
}

async fn download(s: &Demo, path: &str, token: &str, accept: Option<&str>) -> (String, Vec<u8>) {
    let mut req = s.http.get(s.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = req.send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let kind = res.headers()["content-type"]
        .to_str()
        .expect("type")
        .to_owned();
    (kind, res.bytes().await.expect("body").to_vec())
}

fn dump(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("VERBUND_STATS_DUMP") {
        let (stem, ext) = name.split_once('.').unwrap_or((name, "bin"));
        let path = std::path::Path::new(&dir).join(format!("{stem}-{}.{ext}", std::process::id()));
        std::fs::write(path, bytes).expect("dump");
    }
}

/// JSON-stat: the value at each row's position is its count (null with status `.` where
/// suppressed); every other position is 0.
fn check_json_stat(table: &Value, js: &Value) -> usize {
    assert_eq!(js["version"], "2.0");
    assert_eq!(js["class"], "dataset");
    let ids: Vec<&str> = js["id"]
        .as_array()
        .expect("id")
        .iter()
        .map(|v| v.as_str().expect("id"))
        .collect();
    let groups: Vec<&str> = table["groupBy"]
        .as_array()
        .expect("groupBy")
        .iter()
        .map(|v| v.as_str().expect("group"))
        .collect();
    assert_eq!(
        ids[..ids.len() - 1],
        groups[..],
        "dimensions in the order of groupBy"
    );
    assert_eq!(*ids.last().expect("measure"), "measure");
    let sizes: Vec<usize> = js["size"]
        .as_array()
        .expect("size")
        .iter()
        .map(|v| v.as_u64().expect("size") as usize)
        .collect();
    let values = js["value"].as_array().expect("value");
    assert_eq!(values.len(), sizes.iter().product::<usize>());
    let metrics = *sizes.last().expect("metrics");
    let mut seen = vec![false; values.len()];
    for row in table["rows"].as_array().expect("rows") {
        let mut at = 0;
        for (i, key) in row["keys"].as_array().expect("keys").iter().enumerate() {
            let index = js["dimension"][ids[i]]["category"]["index"]
                .as_array()
                .expect("index")
                .iter()
                .position(|c| c.as_str() == Some(code(key).as_str()))
                .expect("the row's category");
            at = at * sizes[i] + index;
        }
        at *= metrics;
        seen[at] = true;
        if row["suppressed"] == true {
            assert!(values[at].is_null(), "suppressed at {at}: {}", values[at]);
            assert_eq!(js["status"][at.to_string()], ".");
        } else {
            assert_eq!(values[at], row["count"], "at {at}");
            if metrics == 2 {
                assert_eq!(values[at + 1], row["amount"], "amount at {at}");
            }
        }
    }
    for (at, v) in values.iter().enumerate() {
        if !seen[at - at % metrics] {
            assert_eq!(*v, Value::from(0), "a combination without a row is 0");
        }
    }
    assert_eq!(js["extension"]["total"]["count"], table["total"]["count"]);
    table["rows"].as_array().expect("rows").len()
}

/// SDMX-CSV: one observation per row and metric and the total (`_T`), the value empty and
/// the confidentiality `A`/`D` where suppressed, `F` where shown.
fn check_sdmx(table: &Value, body: &[u8]) {
    let mut reader = csv::Reader::from_reader(body);
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[..3], ["STRUCTURE", "STRUCTURE_ID", "ACTION"]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    let metrics = if header.contains(&"MEASURE".to_owned()) {
        2
    } else {
        1
    };
    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(records.len(), (rows.len() + 1) * metrics);
    let value = header
        .iter()
        .position(|h| h == "OBS_VALUE")
        .expect("OBS_VALUE");
    let conf = header
        .iter()
        .position(|h| h == "CONF_STATUS")
        .expect("CONF_STATUS");
    for (row, record) in rows
        .iter()
        .chain(std::iter::once(&table["total"]))
        .zip(records.iter().step_by(metrics))
    {
        for (i, key) in row["keys"].as_array().expect("keys").iter().enumerate() {
            assert_eq!(record[3 + i], code(key));
        }
        match row["suppression"].as_str() {
            Some(kind) => {
                assert_eq!(&record[value], "");
                assert_eq!(&record[conf], if kind == "primary" { "A" } else { "D" });
            }
            None => {
                assert_eq!(record[value], row["count"].to_string());
                assert_eq!(&record[conf], "F");
            }
        }
    }
    let total = records.last().expect("total");
    for (i, group) in table["groupBy"]
        .as_array()
        .expect("groups")
        .iter()
        .enumerate()
    {
        let key = table["total"]["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .find(|k| k["dimension"] == *group);
        assert_eq!(
            total[3 + i],
            key.map_or_else(|| "_T".to_owned(), code),
            "the total is _T in every dimension it sums over"
        );
    }
}

/// The data package: its descriptor declares `.` a missing value and types the counts; its
/// CSV has the rows of the JSON answer.
fn check_package(table: &Value, zip_bytes: &[u8]) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).expect("a zip");
    let mut descriptor = String::new();
    zip.by_name("datapackage.json")
        .expect("datapackage.json")
        .read_to_string(&mut descriptor)
        .expect("read");
    let d: Value = serde_json::from_str(&descriptor).expect("json");
    let resource = &d["resources"][0];
    let missing = resource["schema"]["missingValues"]
        .as_array()
        .expect("missing");
    assert!(missing.contains(&Value::from(".")), "{d}");
    let count = resource["schema"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "count")
        .expect("count");
    assert_eq!(count["type"], "integer");
    let mut csv_text = String::new();
    zip.by_name(resource["path"].as_str().expect("path"))
        .expect("the data")
        .read_to_string(&mut csv_text)
        .expect("read");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let at = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "count")
        .expect("count column");
    let counts: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[at].to_owned())
        .collect();
    let expected: Vec<String> = table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .chain(std::iter::once(&table["total"]))
        .map(|r| match r["count"].as_i64() {
            Some(n) if r["suppressed"] == false => n.to_string(),
            _ => ".".to_owned(),
        })
        .collect();
    assert_eq!(counts, expected);
}

async fn statisticians_formats(pg: Option<verbund_e2e::PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let bavaria = verbund_e2e::state_id(&s.server, "DE-BY").await;
    let coordinator = s.token(&["--role", "state_coordinator", "--network", &bavaria]);
    let cases = [
        (
            "ended-state-year",
            "mentorships_ended?groupBy=state,year",
            &ministry,
        ),
        ("funding-state", "funding?groupBy=state", &ministry),
        (
            "active-series",
            "mentorships_active?groupBy=target_group&activeAt=2025-01-31&activeTo=2025-06-30",
            &ministry,
        ),
        (
            "partner-status",
            "mentorships?groupBy=programme_partner,status",
            &ministry,
        ),
        (
            "bavaria-region-quarter",
            "mentorships?groupBy=region,quarter",
            &coordinator,
        ),
        ("total", "volunteers", &ministry),
    ];
    let mut suppressed = 0;
    for (name, query, token) in cases {
        let table = s
            .get(&format!("/api/v1/statistics/{query}"), Some(token))
            .await;
        suppressed += table["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter(|r| r["suppressed"] == true)
            .count();
        let name = format!("{name}-{}", s.database());
        dump(&format!("{name}.table.json"), table.to_string().as_bytes());
        let sep = if query.contains('?') { '&' } else { '?' };
        let path = |format: &str| format!("/api/v1/statistics/{query}{sep}format={format}");

        let (kind, body) = download(&s, &path("jsonstat"), token, None).await;
        assert!(kind.starts_with("application/json"), "{kind}");
        let js: Value = serde_json::from_slice(&body).expect("JSON-stat");
        check_json_stat(&table, &js);
        dump(&format!("{name}.jsonstat.json"), &body);

        let (kind, body) = download(&s, &path("sdmx-csv"), token, None).await;
        assert!(kind.starts_with("application/vnd.sdmx.data+csv"), "{kind}");
        check_sdmx(&table, &body);
        dump(&format!("{name}.sdmx.csv"), &body);
        // The same by the Accept header.
        let (kind, by_accept) = download(
            &s,
            &format!("/api/v1/statistics/{query}"),
            token,
            Some("application/vnd.sdmx.data+csv;version=2.0.0"),
        )
        .await;
        assert!(kind.starts_with("application/vnd.sdmx.data+csv"), "{kind}");
        assert_eq!(by_accept.len(), body.len(), "{name}");

        let (kind, body) = download(&s, &path("datapackage"), token, None).await;
        assert_eq!(kind, "application/zip");
        check_package(&table, &body);
        dump(&format!("{name}.datapackage.zip"), &body);
    }
    assert!(
        suppressed > 0,
        "the ministry's tables have suppressed cells"
    );
    let body = s
        .expect(
            "/api/v1/statistics/mentorships?format=sdmx",
            Some(&ministry),
            StatusCode::BAD_REQUEST,
        )
        .await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("sdmx-csv"),
        "{body}"
    );
    assert!(s.server.stop());
}

verbund_e2e::on_both_databases!(statisticians_formats => statistics_in_statisticians_formats_hold_the_same_figures_sqlite, statistics_in_statisticians_formats_hold_the_same_figures_postgres);
