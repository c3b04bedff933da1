//! Helpers for the black-box tests: start the real `verbund` binary on port 0 in a
//! temporary working directory and talk HTTP to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `verbund` binary of this build, built first if the test runner has not.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/<test> → target/<profile>/verbund
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("verbund{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "verbund-gateway", "--bin", "verbund"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the verbund binary failed");
    }
    bin
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("verbund-e2e-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server; stopped with SIGTERM on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Runs `verbund serve --bind 127.0.0.1:0 <args>` in `dir` and waits until it listens.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(dir, args, env, Stdio::null())
    }

    /// [`Server::start`] with the server's log (stderr) written to `log`.
    pub fn start_logged(dir: &Path, args: &[&str], env: &[(&str, &str)], log: &Path) -> Server {
        let file = std::fs::File::create(log).expect("log file");
        Server::spawn(dir, args, env, Stdio::from(file))
    }

    fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut cmd = Command::new(binary());
        cmd.current_dir(dir)
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env_remove("VERBUND_DATABASE_URL")
            .env_remove("VERBUND_CONFIG")
            .stdout(Stdio::piped())
            .stderr(stderr);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start verbund");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut reader = BufReader::new(stdout);
        while !line.starts_with("listening on ") {
            line.clear();
            let n = reader.read_line(&mut line).expect("read stdout");
            assert!(
                n > 0 && Instant::now() < deadline,
                "server exited before listening"
            );
        }
        let base = line.trim().trim_start_matches("listening on ").to_owned();
        Server { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process without a goodbye (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    /// Sends SIGTERM and waits; returns whether the server exited cleanly.
    pub fn stop(mut self) -> bool {
        let ok = terminate(&mut self.child);
        std::mem::forget(self);
        ok
    }
}

fn terminate(child: &mut Child) -> bool {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// GETs `path` with the token, if any, asserting 200: the body as JSON.
pub async fn get_json(server: &Server, path: &str, token: Option<&str>) -> serde_json::Value {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("GET");
    assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
    res.json().await.expect("JSON body")
}

/// The id of the state network with this ISO 3166-2 code (`DE-BY`), read anonymously.
pub async fn state_id(server: &Server, code: &str) -> String {
    get_json(server, "/api/v1/networks?level=state&first=100", None).await["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["code"] == code)
        .and_then(|n| n["id"].as_str())
        .expect("the state")
        .to_owned()
}

/// POSTs a GraphQL query and returns the JSON body.
pub async fn graphql(server: &Server, query: &str, token: Option<&str>) -> serde_json::Value {
    let mut req = reqwest::Client::new()
        .post(server.url("/graphql"))
        .json(&serde_json::json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON body")
}

/// Runs `verbund <args>` in `dir` and returns its standard output (asserting success).
pub fn cli(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(binary())
        .current_dir(dir)
        .args(args)
        .env_remove("VERBUND_DATABASE_URL")
        .output()
        .expect("run verbund");
    assert!(
        out.status.success(),
        "verbund {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A development token from `verbund token` run in `dir` (the server's working directory,
/// so it signs with that database's development key).
pub fn token(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["token"];
    all.extend(args);
    cli(dir, &all)
}

/// A fresh PostgreSQL database for one test, created through `psql` on the server named by
/// `VERBUND_TEST_DATABASE_URL` and dropped on drop; `None` when the variable is not set.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Option<PgDatabase> {
        let Ok(admin) = std::env::var("VERBUND_TEST_DATABASE_URL") else {
            eprintln!(
                "VERBUND_TEST_DATABASE_URL is not set: this PostgreSQL variant has nothing to run against"
            );
            return None;
        };
        let name = format!("verbund_e2e_{}", uuid::Uuid::now_v7().simple());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let (base, query) = admin
            .split_once('?')
            .map_or((admin.as_str(), None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let path_start = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        let mut url = format!("{}/{name}", &base[..path_start]);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        Some(PgDatabase { admin, name, url })
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The settings every suite that is not about the rate limits runs with: the suites are one
/// caller at a high rate, and the limiter has its own tests (tests/tests/hardening.rs).
pub const NO_RATE_LIMIT: &[(&str, &str)] = &[("VERBUND_RATE_LIMIT__ENABLED", "false")];

/// The real server on the demo data, on SQLite in a temporary directory or on a fresh
/// PostgreSQL database, with the calls every suite makes: tokens minted against that
/// database's key, requests with or without a token, answers as JSON.
pub struct Demo {
    pub server: Server,
    pub http: reqwest::Client,
    pub dir: TempDir,
    /// `--database <url>` on PostgreSQL, nothing on SQLite: the global options of every
    /// command run beside the server.
    pub db: Vec<String>,
    /// A federal admin's token, the caller most suites start from.
    pub admin: String,
    _pg: Option<PgDatabase>,
}

impl Demo {
    /// The server with the rate limits off ([`NO_RATE_LIMIT`]).
    pub fn start(pg: Option<PgDatabase>) -> Demo {
        Demo::start_with(pg, NO_RATE_LIMIT)
    }

    /// The server with these environment settings.
    pub fn start_with(pg: Option<PgDatabase>, env: &[(&str, &str)]) -> Demo {
        Demo::launch(pg, |dir, args| Server::start(dir, args, env))
    }

    /// The server with these settings and its log (stderr) written to `log`.
    pub fn start_logged(pg: Option<PgDatabase>, env: &[(&str, &str)], log: &Path) -> Demo {
        Demo::launch(pg, |dir, args| Server::start_logged(dir, args, env, log))
    }

    fn launch(pg: Option<PgDatabase>, start: impl FnOnce(&Path, &[&str]) -> Server) -> Demo {
        let dir = TempDir::new();
        let db: Vec<String> = pg
            .as_ref()
            .map(|p| vec!["--database".to_owned(), p.url.clone()])
            .unwrap_or_default();
        let args: Vec<&str> = db.iter().map(String::as_str).collect();
        let server = start(&dir.0, &args);
        let mut demo = Demo {
            server,
            http: reqwest::Client::new(),
            dir,
            db,
            admin: String::new(),
            _pg: pg,
        };
        demo.admin = demo.role("federal_admin");
        demo
    }

    /// Whether this server runs on PostgreSQL.
    pub fn database(&self) -> &'static str {
        if self.db.is_empty() {
            "sqlite"
        } else {
            "postgres"
        }
    }

    /// `verbund <database options> <args>` beside the server (asserting success).
    pub fn cli(&self, args: &[&str]) -> String {
        let mut all: Vec<&str> = self.db.iter().map(String::as_str).collect();
        all.extend(args);
        cli(&self.dir.0, &all)
    }

    /// A development token: `verbund token <args>` against the server's database.
    pub fn token(&self, args: &[&str]) -> String {
        let mut all = vec!["token"];
        all.extend(args);
        self.cli(&all)
    }

    /// A member organisation that has volunteers, and another member organisation outside
    /// its family (neither is the other's parent): their ids.
    pub async fn two_organisations(&self) -> (String, String) {
        let v = self
            .get("/api/v1/volunteers?first=1", Some(&self.admin))
            .await;
        let org = v["items"][0]["organisationId"]
            .as_str()
            .expect("organisation")
            .to_owned();
        let orgs = self.all("/api/v1/organisations", Some(&self.admin)).await;
        let other = orgs
            .iter()
            .find(|o| {
                o["id"] != org.as_str()
                    && o["parentOrganisationId"] != org.as_str()
                    && o["kind"] == "member"
            })
            .expect("another member organisation")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        (org, other)
    }

    /// A development token for a role that needs no anchor (or the first one of the demo).
    pub fn role(&self, role: &str) -> String {
        self.token(&["--role", role])
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// Sends a request with the token, if any: the status and the body as JSON (an empty
    /// body is `null`, a body that is not JSON its text).
    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        json_of(req.send().await.expect("request")).await
    }

    /// GET `path`: the status and the body.
    pub async fn fetch(
        &self,
        path: &str,
        token: Option<&str>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.send(self.http.get(self.url(path)), token).await
    }

    /// GET `path`, asserting 200: the body.
    pub async fn get(&self, path: &str, token: Option<&str>) -> serde_json::Value {
        self.expect(path, token, reqwest::StatusCode::OK).await
    }

    /// GET `path`, expecting 422 `VALIDATION`: the field its problem names first.
    pub async fn invalid_field(&self, path: &str, token: Option<&str>) -> String {
        let body = self
            .expect(path, token, reqwest::StatusCode::UNPROCESSABLE_ENTITY)
            .await;
        assert_eq!(body["code"], "VALIDATION", "GET {path}: {body}");
        body["fields"][0]["field"]
            .as_str()
            .unwrap_or_else(|| panic!("GET {path}: no field named: {body}"))
            .to_owned()
    }

    /// GET `path`: the body, once the status is `expected`.
    pub async fn expect(
        &self,
        path: &str,
        token: Option<&str>,
        expected: reqwest::StatusCode,
    ) -> serde_json::Value {
        let (status, body) = self.fetch(path, token).await;
        assert_eq!(status, expected, "GET {path}: {body}");
        body
    }

    /// POST `body` as JSON to `path`: the status and the answer.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        self.send(self.http.post(self.url(path)).json(body), token)
            .await
    }

    /// A GraphQL query: the answer.
    pub async fn graphql(&self, query: &str, token: Option<&str>) -> serde_json::Value {
        graphql(&self.server, query, token).await
    }

    /// The eight tables of mentorships by state × status × year (`extra`: more query
    /// parameters) as `token` sees them: per table its levels (1 where grouped) and its
    /// rows keyed by [`STATE_STATUS_YEAR`] (a group not shown is ""; the total is the
    /// table without groups).
    pub async fn state_status_year(
        &self,
        token: Option<&str>,
        extra: &str,
    ) -> Vec<(Vec<u8>, Vec<(Vec<String>, serde_json::Value)>)> {
        let mut out = Vec::new();
        for mask in 0..8u8 {
            let levels: Vec<u8> = (0..3).map(|i| u8::from(mask & (1 << i) != 0)).collect();
            let groups: Vec<&str> = (0..3)
                .filter(|&i| levels[i] == 1)
                .map(|i| STATE_STATUS_YEAR[i])
                .collect();
            let path = format!(
                "/api/v1/statistics/mentorships?groupBy={}{extra}",
                groups.join(",")
            );
            let table = self.get(&path, token).await;
            let rows: Vec<serde_json::Value> = if groups.is_empty() {
                vec![table["total"].clone()]
            } else {
                table["rows"].as_array().expect("rows").clone()
            };
            let keyed = rows
                .into_iter()
                .map(|row| {
                    let key = STATE_STATUS_YEAR
                        .iter()
                        .map(|g| {
                            row["keys"]
                                .as_array()
                                .expect("keys")
                                .iter()
                                .find(|k| k["dimension"] == *g)
                                .map_or(String::new(), |k| {
                                    k["value"].as_str().expect("value").to_owned()
                                })
                        })
                        .collect();
                    let mut row = row;
                    row["protected"] = table["protected"].clone();
                    (key, row)
                })
                .collect();
            out.push((levels, keyed));
        }
        out
    }

    /// Every item of a REST list, page by page (100 a page, following `nextCursor`).
    pub async fn all(&self, path: &str, token: Option<&str>) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = format!("{path}{sep}first=100");
        loop {
            let page = self.get(&next, token).await;
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["nextCursor"].as_str() {
                Some(c) => next = format!("{path}{sep}first=100&after={c}"),
                None => return out,
            }
        }
    }
}

/// The code and the field of a GraphQL answer's first error (`""` where absent).
pub fn refusal(answer: &serde_json::Value) -> (&str, &str) {
    let e = &answer["errors"][0]["extensions"];
    (
        e["code"].as_str().unwrap_or(""),
        e["field"].as_str().unwrap_or(""),
    )
}

/// Every REST resource, by its path under `/api/v1`.
pub const RESOURCES: [&str; 11] = [
    "networks",
    "organisations",
    "contacts",
    "offerings",
    "volunteers",
    "staff",
    "mentorships",
    "cooperations",
    "committees",
    "meetings",
    "fundings",
];

/// The groups of [`Demo::state_status_year`], in key order.
pub const STATE_STATUS_YEAR: [&str; 3] = ["state", "status", "year"];

/// The status and the body of an answer as JSON (an empty body is `null`, a body that is
/// not JSON its text).
pub async fn json_of(res: reqwest::Response) -> (reqwest::StatusCode, serde_json::Value) {
    let status = res.status();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    (status, body)
}

/// One test per database from one async function of `Option<PgDatabase>`: the first name
/// runs it on the embedded SQLite default, the second on a fresh PostgreSQL database (and
/// says so and passes when `VERBUND_TEST_DATABASE_URL` is not set; CI sets it and counts
/// that both ran).
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$doc:meta])* $run:path => $sqlite:ident, $postgres:ident) => {
        $(#[$doc])*
        #[tokio::test]
        async fn $sqlite() {
            $run(None).await;
        }

        $(#[$doc])*
        #[tokio::test]
        async fn $postgres() {
            if let Some(pg) = $crate::PgDatabase::create() {
                $run(Some(pg)).await;
            }
        }
    };
}
