//! `verbund token` as the README shows it: a development token minted from the secret kept
//! with the database works against the running server, and survives a restart.

use std::process::Command;
use verbund_e2e::{Server, TempDir, binary, graphql, refusal};

fn token(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = Command::new(binary());
    cmd.current_dir(dir)
        .arg("token")
        .args(args)
        .env_remove("VERBUND_DATABASE_URL")
        .env_remove("VERBUND_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run verbund token");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn a_development_token_works_and_survives_a_restart() {
    let dir = TempDir::new();
    let server = Server::start(&dir.0, &[], &[]);
    let (ok, admin, err) = token(&dir.0, &["--role", "federal_admin", "--ttl", "1h"], &[]);
    assert!(ok, "{err}");
    assert_eq!(admin.split('.').count(), 3, "a JWT: {admin}");
    let q = "{ organisations { totalCount } }";
    let body = graphql(&server, q, Some(&admin)).await;
    assert!(
        body["data"]["organisations"]["totalCount"]
            .as_u64()
            .expect("count")
            > 0,
        "{body}"
    );
    // A coordinator's token needs the network it is scoped to.
    let (ok, _, err) = token(&dir.0, &["--role", "state_coordinator"], &[]);
    assert!(!ok && err.contains("needs a `network` claim"), "{err}");
    let (ok, _, err) = token(&dir.0, &["--role", "emperor"], &[]);
    assert!(!ok && err.contains("--role"), "{err}");
    assert!(server.stop());

    let again = Server::start(&dir.0, &[], &[]);
    let body = graphql(&again, q, Some(&admin)).await;
    assert!(
        body["errors"].is_null(),
        "the secret is kept with the database: {body}"
    );
    // A different database has a different secret: the token is refused there.
    let other = TempDir::new();
    let elsewhere = Server::start(&other.0, &[], &[]);
    let body = graphql(&elsewhere, q, Some(&admin)).await;
    assert_eq!(refusal(&body).0, "UNAUTHENTICATED", "{body}");
}

#[test]
fn token_refuses_in_a_jwks_configuration() {
    let dir = TempDir::new();
    let (ok, out, err) = token(
        &dir.0,
        &["--role", "federal_admin"],
        &[
            ("VERBUND_AUTH__ALGORITHM", "ES256"),
            ("VERBUND_AUTH__JWKS", "/nonexistent/jwks.json"),
        ],
    );
    assert!(!ok);
    assert!(out.is_empty(), "no token printed");
    assert!(err.contains("only signs development tokens"), "{err}");
}
