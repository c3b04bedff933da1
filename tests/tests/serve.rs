//! The binary as a newcomer meets it: first start on the embedded default, restart, health,
//! bad flags and an unreachable database.

use std::process::Command;
use std::time::{Duration, Instant};
use verbund_e2e::{Server, TempDir, binary, graphql, refusal};

const COUNTS: &str = r#"{
  federal: networks(filter: { level: "federal" }) { totalCount edges { node { code } } }
  states: networks(filter: { level: "state" }, first: 100) { totalCount edges { node { code } } }
  all: networks { totalCount }
  organisations { totalCount }
}"#;

#[tokio::test]
async fn first_start_creates_the_sqlite_file_with_demo_data_and_a_restart_reuses_it() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[], &[]);
    assert!(
        dir.0.join("verbund.db").exists(),
        "the default database file is in the working directory"
    );
    let body = graphql(&server, COUNTS, None).await;
    assert_eq!(body["data"]["federal"]["totalCount"], 1, "{body}");
    assert_eq!(body["data"]["federal"]["edges"][0]["node"]["code"], "DE");
    assert_eq!(body["data"]["states"]["totalCount"], 16, "{body}");
    let mut codes: Vec<String> = body["data"]["states"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["code"].as_str().expect("code").to_owned())
        .collect();
    codes.sort();
    let mut expected: Vec<String> = verbund_iso_codes().into_iter().map(str::to_owned).collect();
    expected.sort();
    assert_eq!(codes, expected);
    let networks = body["data"]["all"]["totalCount"].clone();
    let organisations = body["data"]["organisations"]["totalCount"].clone();
    assert!(organisations.as_u64().expect("count") > 16);
    assert!(server.stop(), "SIGTERM ends the server cleanly");

    let again = Server::start(&dir.0, &[], &[]);
    let body = graphql(&again, COUNTS, None).await;
    assert_eq!(
        body["data"]["all"]["totalCount"], networks,
        "no duplicated networks"
    );
    assert_eq!(
        body["data"]["organisations"]["totalCount"], organisations,
        "no duplicated organisations"
    );
    assert!(again.stop());
}

fn verbund_iso_codes() -> Vec<&'static str> {
    vec![
        "DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV", "DE-NI", "DE-NW",
        "DE-RP", "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH",
    ]
}

#[tokio::test]
async fn health_and_readiness() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[], &[]);
    let health = reqwest::get(server.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn a_bad_request_to_graphql_is_a_clear_error_not_a_crash() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[], &[]);
    let body = graphql(&server, "{ networks(first: 1000) { totalCount } }", None).await;
    assert_eq!(refusal(&body).0, "VALIDATION", "{body}");
    let body = graphql(
        &server,
        r#"{ networks(filter: { level: "county" }) { totalCount } }"#,
        None,
    )
    .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "level", "{body}");
    let body = graphql(&server, "{ networks { ", None).await;
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    // The server is still there.
    assert_eq!(
        reqwest::get(server.url("/healthz"))
            .await
            .expect("healthz")
            .status(),
        200
    );
}

fn run_to_end(args: &[&str]) -> (i32, String) {
    run_with(args, &[])
}

fn run_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = TempDir::new();
    let mut child = Command::new(binary())
        .current_dir(&dir.0)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("VERBUND_DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut err)
                .expect("read");
            return (status.code().unwrap_or(-1), err);
        }
        assert!(Instant::now() < deadline, "verbund {args:?} did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lines of stderr that are not log lines.
fn message_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.contains(" WARN ") && !l.contains(" INFO ") && !l.trim().is_empty())
        .collect()
}

#[test]
fn a_bad_flag_is_one_line_and_a_nonzero_exit() {
    let (code, err) = run_to_end(&["serve", "--no-such-flag"]);
    assert_ne!(code, 0);
    let lines = message_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("--no-such-flag"), "{err}");
}

#[test]
fn an_unreachable_database_is_one_line_and_a_nonzero_exit() {
    let (code, err) = run_to_end(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database",
        "postgres://verbund:secret@127.0.0.1:1/nothing",
    ]);
    assert_ne!(code, 0);
    let lines = message_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("error: cannot connect to the database"),
        "{err}"
    );
    assert!(!err.contains("secret"), "no password in messages: {err}");
}

#[test]
fn production_mode_refuses_to_start_without_keys() {
    let (code, err) = run_with(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("VERBUND_MODE", "production")],
    );
    assert_ne!(code, 0);
    let lines = message_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("auth.secret"), "{err}");
    let (code, err) = run_with(&["serve"], &[("VERBUND_MODE", "prod")]);
    assert_ne!(code, 0);
    assert!(err.contains("production"), "names the modes: {err}");
}

#[tokio::test]
async fn production_mode_loads_no_demo_data_hides_graphiql_and_answers_the_healthcheck() {
    let dir = TempDir::new();
    let server = Server::start(
        &dir.0,
        &[],
        &[
            ("VERBUND_MODE", "production"),
            (
                "VERBUND_AUTH__SECRET",
                "a-made-up-production-secret-for-this-test-0123",
            ),
        ],
    );
    let http = reqwest::Client::new();
    let page = verbund_e2e::get_json(&server, "/api/v1/networks?first=5", None).await;
    assert_eq!(page["items"], serde_json::json!([]), "no demo data");
    let graphiql = http.get(server.url("/graphql")).send().await.expect("get");
    assert_eq!(graphiql.status(), reqwest::StatusCode::NOT_FOUND);
    // No metrics token configured: no metrics in production.
    let metrics = http.get(server.url("/metrics")).send().await.expect("get");
    assert_eq!(metrics.status(), reqwest::StatusCode::NOT_FOUND);
    // The container's health check: the binary itself, no curl.
    let (code, err) = run_to_end(&["healthcheck", "--url", &server.url("")]);
    assert_eq!(code, 0, "{err}");
    assert!(server.stop());
    let (code, err) = run_to_end(&["healthcheck", "--url", "http://127.0.0.1:1"]);
    assert_ne!(code, 0);
    assert_eq!(message_lines(&err).len(), 1, "{err}");
}
