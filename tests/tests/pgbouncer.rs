//! Verbund behind PgBouncer (Debian's, 1.18: no prepared statements in transaction mode) in
//! transaction mode with a pool of four server connections: with
//! `database_transaction_pooler` and migrations through the direct URL, 32 concurrent
//! clients reading lists, statistics and GraphQL and writing records get no error and the
//! right figures. Without the setting the same load through the same pooler fails (the
//! control: it shows the test reaches the problem the setting solves).
//!
//! Needs `VERBUND_TEST_DATABASE_URL` and the `pgbouncer` binary; CI installs it and sets
//! `VERBUND_TEST_REQUIRE_PGBOUNCER`, so there the test cannot pass by finding neither.

use serde_json::json;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use verbund_e2e::{PgDatabase, Server, TempDir, get_json, token};

struct Bouncer(Child);

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts PgBouncer in transaction mode in front of `pg` on a free port; its URL.
fn bouncer(pg: &PgDatabase, dir: &std::path::Path) -> Option<(Bouncer, String)> {
    let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|b| std::path::Path::new(b).exists());
    let Some(binary) = binary else {
        assert!(
            std::env::var_os("VERBUND_TEST_REQUIRE_PGBOUNCER").is_none(),
            "pgbouncer is required here but not installed"
        );
        eprintln!("no pgbouncer binary: nothing to run against");
        return None;
    };
    // postgres://user@host:port/name
    let rest = pg.url.split_once("://").expect("url").1;
    let (user, rest) = rest.split_once('@').expect("user");
    let user = user.split(':').next().expect("user");
    let (hostport, _) = rest.split_once('/').expect("path");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    let listen = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let bport = listen.local_addr().expect("addr").port();
    drop(listen);
    let db = pg.name();
    std::fs::write(dir.join("users.txt"), format!("\"{user}\" \"\"\n")).expect("users");
    std::fs::write(
        dir.join("pgbouncer.ini"),
        format!(
            "[databases]\n{db} = host={host} port={port} dbname={db}\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {bport}\n\
             unix_socket_dir =\nauth_type = trust\nauth_file = {users}\npool_mode = transaction\n\
             default_pool_size = 4\nmax_client_conn = 200\n\
             ignore_startup_parameters = extra_float_digits,options\n",
            users = dir.join("users.txt").display(),
        ),
    )
    .expect("ini");
    let mut cmd = Command::new(binary);
    // PgBouncer refuses to run as root: it switches to the database's user then.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let _ = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status();
        cmd.args(["-u", "postgres"]);
    }
    let child = cmd
        .arg(dir.join("pgbouncer.ini"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pgbouncer");
    let b = Bouncer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", bport)).is_err() {
        assert!(Instant::now() < deadline, "pgbouncer did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((b, format!("postgres://{user}@127.0.0.1:{bport}/{db}")))
}

/// 32 clients × `each` mixed requests; the failures, described.
async fn load(server: &Server, admin: &str, region: &str, each: usize) -> (usize, Vec<String>) {
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for c in 0..32 {
        let (http, admin, region) = (http.clone(), admin.to_owned(), region.to_owned());
        let base = server.url("");
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut created = 0;
            for i in 0..each {
                let req = match (c + i) % 5 {
                    0 => http.post(format!("{base}/api/v1/organisations")).json(&json!({
                        "kind": "member", "sector": "civil_society", "networkId": region,
                        "name": format!("Hinter dem Pooler {c}-{i}")})),
                    1 => http.get(format!("{base}/api/v1/statistics/mentorships?groupBy=state,year")),
                    2 => http.post(format!("{base}/graphql")).json(&json!({"query":
                        "{ organisations(first: 20) { edges { node { name mentorships(first: 3) { totalCount } } } } }"})),
                    3 => http.get(format!("{base}/api/v1/mentorships?first=50")),
                    _ => http.get(format!("{base}/api/v1/volunteers?first=50")),
                };
                match req.bearer_auth(&admin).send().await {
                    Ok(res) => {
                        let status = res.status();
                        let body = res.text().await.unwrap_or_default();
                        if !status.is_success() || body.contains("\"errors\"") {
                            failures.push(format!("{status} {}", &body[..body.len().min(120)]));
                        } else if status == reqwest::StatusCode::CREATED {
                            created += 1;
                        }
                    }
                    Err(e) => failures.push(format!("{e}")),
                }
            }
            (created, failures)
        }));
    }
    let mut created = 0;
    let mut failures = Vec::new();
    for t in tasks {
        let (c, f) = t.await.expect("task");
        created += c;
        failures.extend(f);
    }
    (created, failures)
}

#[tokio::test]
async fn works_behind_pgbouncer_in_transaction_mode() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    let dir = TempDir::new();
    let Some((_bouncer, pooled)) = bouncer(&pg, &dir.0) else {
        return;
    };
    let direct = pg.url.clone();
    let server = Server::start(
        &dir.0,
        &["--database", &pooled],
        &[
            ("VERBUND_RATE_LIMIT__ENABLED", "false"),
            ("VERBUND_DATABASE_TRANSACTION_POOLER", "true"),
            ("VERBUND_MIGRATION_DATABASE_URL", &direct),
        ],
    );
    let admin = token(&dir.0, &["--database", &direct, "--role", "federal_admin"]);
    let regions = get_json(&server, "/api/v1/networks?level=regional&first=1", None).await;
    let region = regions["items"][0]["id"]
        .as_str()
        .expect("region")
        .to_owned();
    let (created, failures) = load(&server, &admin, &region, 20).await;
    assert!(
        failures.is_empty(),
        "{} failures: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(created, 32 * 20 / 5);
    let found = verbund_e2e::graphql(
        &server,
        r#"{ organisations(filter: { search: "Hinter dem Pooler" }) { totalCount } }"#,
        Some(&admin),
    )
    .await;
    assert_eq!(
        found["data"]["organisations"]["totalCount"],
        json!(created),
        "{found}"
    );
    assert!(server.stop());

    // The control: the same pooler without the setting fails, at start (its background
    // tasks already run beside the start's own queries) or under the same load.
    let log = dir.0.join("control.log");
    let env = [
        ("VERBUND_RATE_LIMIT__ENABLED", "false"),
        ("VERBUND_MIGRATION_DATABASE_URL", direct.as_str()),
    ];
    let started = std::panic::catch_unwind(|| {
        Server::start_logged(&dir.0, &["--database", &pooled], &env, &log)
    });
    if let Ok(plain) = started {
        let (_, failures) = load(&plain, &admin, &region, 10).await;
        assert!(
            !failures.is_empty(),
            "without the setting the pooler breaks statements"
        );
    }
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        log.contains("database error"),
        "the control's log shows the broken statements"
    );
}
