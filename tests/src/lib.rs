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
