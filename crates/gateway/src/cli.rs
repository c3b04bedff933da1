//! The command line: `serve`, `migrate`, `seed`. Every failure ends in one line on stderr
//! and a non-zero exit code, never a panic.

use crate::config::{self, Config, redact_url};
use crate::http::router;
use crate::state::AppState;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use verbund_persistence::Store;

#[derive(Debug, Parser)]
#[command(
    name = "verbund",
    version,
    about = "The data backbone of the Menschen stärken Menschen umbrella association"
)]
pub struct Cli {
    /// Database URL (default `sqlite://verbund.db`); also `VERBUND_DATABASE_URL`.
    #[arg(long, global = true)]
    database: Option<String>,
    /// Configuration file (TOML); also `VERBUND_CONFIG`.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (creates, migrates and fills an empty database first).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Print a development token signed with the development (HS256) key.
    Token {
        /// federal_admin, state_coordinator, regional_coordinator, org_admin, org_member or
        /// ministry_analyst.
        #[arg(long)]
        role: String,
        /// The network a coordinator is scoped to.
        #[arg(long, conflicts_with = "organisation")]
        network: Option<uuid::Uuid>,
        /// The organisation an org_admin or org_member is scoped to.
        #[arg(long)]
        organisation: Option<uuid::Uuid>,
        /// Lifetime, e.g. 8h, 30m, 2d.
        #[arg(long, default_value = "8h")]
        ttl: String,
        /// The subject (`sub`); defaults to `dev-<role>`.
        #[arg(long)]
        sub: Option<String>,
    },
    /// Write the API contracts (schema.graphql, openapi.json) into a folder.
    ExportSchema {
        #[arg(long, default_value = "schema")]
        out: PathBuf,
    },
    /// Freeze the statistics at a reporting deadline (Stichtag), the last day of a month.
    /// Prints the snapshot's id, which statistics name to get exactly these figures.
    Snapshot {
        /// The deadline, e.g. 2026-06-30.
        #[arg(long)]
        as_of: chrono::NaiveDate,
        /// A name for reports; defaults to "Stichtag <date>".
        #[arg(long)]
        label: Option<String>,
    },
    /// Compare the aggregate table with a full recount from the base tables; exits non-zero
    /// and lists the cells if they differ.
    CheckStatistics,
    /// Drop the mentee references of mentorships that ended more than
    /// `privacy.mentee_retention_days` ago (the server also does it daily). Prints how many.
    Retention {
        /// Override `privacy.mentee_retention_days`.
        #[arg(long)]
        days: Option<u32>,
    },
    /// Drop the changes older than `privacy.change_feed_days` from the change feed (the
    /// server also does it with the retention). Prints how many.
    PruneChanges {
        /// Override `privacy.change_feed_days` (0: every change so far).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Exits 0 when the server on this machine answers `/healthz` (for a container's
    /// health check, which has no curl).
    Healthcheck {
        /// The server's address; defaults to the configured `bind` on 127.0.0.1.
        #[arg(long)]
        url: Option<String>,
    },
    /// Fill an empty database with a generated data set.
    Seed {
        #[arg(long, value_enum, default_value = "demo")]
        scale: Scale,
        /// Random seed: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scale {
    /// 49 networks, 60 organisations, 448 mentorships, through the normal write path.
    Demo,
    /// The whole programme over ten years: 25,000 organisations, 3,000,000 mentorships.
    Large,
}

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // One line: clap's first line names the problem; usage follows with --help.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("{first} (see `verbund --help`)");
            return ExitCode::from(2);
        }
    };
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("VERBUND_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,sqlx::postgres::notice=error")
    });
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if std::env::var("VERBUND_LOG_FORMAT").is_ok_and(|f| f == "json") {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}

async fn open(config: &Config) -> Result<Store, String> {
    let connect = |url: &str, pooler: bool| {
        let url = url.to_owned();
        async move {
            Store::connect_with(&url, pooler)
                .await
                .map_err(|_| format!("cannot connect to the database at {}", redact_url(&url)))
        }
    };
    let store = connect(&config.database_url, config.database_transaction_pooler).await?;
    // Migrations through the direct URL when one is set (not through a pooler).
    let (migrator, url) = match &config.migration_database_url {
        Some(direct) => (connect(direct, false).await?, direct.as_str()),
        None => (store.clone(), config.database_url.as_str()),
    };
    migrator
        .migrate()
        .await
        .map_err(|_| format!("cannot migrate the database at {}", redact_url(url)))?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = config::load(cli.config.as_deref())?;
    if let Some(db) = cli.database {
        config.database_url = db;
    }
    match cli.command {
        Command::Healthcheck { url } => healthcheck(url, &config.bind).await,
        Command::Migrate => {
            open(&config).await?;
            tracing::info!(database = %redact_url(&config.database_url), "migrations applied");
            Ok(())
        }
        Command::Seed {
            scale: Scale::Demo,
            seed,
        } => demo(&open(&config).await?, seed, "demo data loaded").await,
        Command::Snapshot { as_of, label } => {
            let store = open(&config).await?;
            let s = store
                .scoped(verbund_domain::policy::Caller::system())
                .await
                .map_err(|e| format!("cannot snapshot: {e}"))?;
            let label = label.unwrap_or_else(|| format!("Stichtag {as_of}"));
            let snap = s
                .create_snapshot(as_of, &label)
                .await
                .map_err(|e| match e {
                    verbund_persistence::StoreError::Conflict(_) => {
                        format!("cannot snapshot: a snapshot as of {as_of} exists")
                    }
                    e => format!("cannot snapshot: {e}"),
                })?;
            println!("{}", snap.id);
            tracing::info!(id = %snap.id, as_of = %snap.as_of, "statistics frozen");
            Ok(())
        }
        Command::Seed {
            scale: Scale::Large,
            seed,
        } => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            let bar = ProgressBar::new();
            verbund_seed::seed_large(
                &store,
                seed,
                verbund_seed::Scale::large(),
                &|what, done, of| bar.show(what, done, of),
            )
            .await
            .map_err(|e| format!("cannot seed: {e}"))?;
            eprintln!();
            tracing::info!(
                seconds = started.elapsed().as_secs(),
                "large data set loaded"
            );
            Ok(())
        }
        Command::Retention { days } => {
            let store = open(&config).await?;
            let days = days.unwrap_or(config.privacy.mentee_retention_days);
            let n = store
                .apply_retention(days, chrono::Utc::now().date_naive())
                .await
                .map_err(|e| format!("cannot apply the retention: {e}"))?;
            println!("{n}");
            tracing::info!(mentee_references_dropped = n, days, "retention applied");
            Ok(())
        }
        Command::PruneChanges { days } => {
            let store = open(&config).await?;
            let days = days.unwrap_or(config.privacy.change_feed_days);
            let n = prune_changes(&store, days)
                .await
                .map_err(|e| format!("cannot prune the change feed: {e}"))?;
            println!("{n}");
            Ok(())
        }
        Command::CheckStatistics => {
            let store = open(&config).await?;
            let drift = store
                .statistics_drift()
                .await
                .map_err(|e| format!("cannot check: {e}"))?;
            for line in drift.examples.iter().take(20) {
                eprintln!("{line}");
            }
            if drift.is_empty() {
                println!("statistics exact");
                Ok(())
            } else {
                Err(format!(
                    "{} statistic cells differ from a recount",
                    drift.cells
                ))
            }
        }
        Command::ExportSchema { out } => {
            std::fs::create_dir_all(&out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            let files = [
                ("schema.graphql", crate::graphql::sdl()),
                ("openapi.json", crate::rest::openapi_json()),
            ];
            for (name, text) in files {
                let path = out.join(name);
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        Command::Token {
            role,
            network,
            organisation,
            ttl,
            sub,
        } => {
            let token = mint(&config, &role, network, organisation, &ttl, sub).await?;
            println!("{token}");
            Ok(())
        }
        Command::Serve { bind } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            serve(config).await
        }
    }
}

/// The HS256 secret: the configured one, or the development secret kept in the database
/// (generated the first time it is needed, so every replica and `verbund token` agree).
async fn hs256_secret(config: &Config, store: &Store) -> Result<String, String> {
    match &config.auth.secret {
        Some(s) if s.0.len() < 32 => Err("auth.secret must be at least 32 characters".into()),
        Some(s) => Ok(s.0.clone()),
        None => store
            .setting_or_insert(crate::auth::DEV_SECRET_KEY, &crate::auth::random_secret())
            .await
            .map_err(|e| format!("cannot read the development secret: {e}")),
    }
}

/// Builds the token verifier the configuration asks for.
pub async fn authenticator(
    config: &Config,
    store: &Store,
) -> Result<crate::auth::Authenticator, String> {
    use crate::auth::{Authenticator, parse_algorithm};
    let algorithm = parse_algorithm(&config.auth.algorithm)?;
    if let Some(issuer) = &config.auth.issuer_url {
        return Authenticator::with_issuer(issuer, &config.auth).await;
    }
    match (algorithm, &config.auth.jwks) {
        (jsonwebtoken::Algorithm::HS256, _) => Ok(Authenticator::with_secret(
            &hs256_secret(config, store).await?,
            &config.auth,
        )),
        (alg, Some(source)) => Authenticator::with_jwks(alg, source, &config.auth).await,
        (alg, None) => Err(format!(
            "auth.algorithm {alg:?} needs auth.jwks (a JWKS file or URL)"
        )),
    }
}

async fn mint(
    config: &Config,
    role: &str,
    network: Option<uuid::Uuid>,
    organisation: Option<uuid::Uuid>,
    ttl: &str,
    sub: Option<String>,
) -> Result<String, String> {
    use verbund_domain::policy::{Caller, Role};
    if config.auth.algorithm != "HS256" {
        return Err(format!(
            "this configuration verifies {} tokens with JWKS keys; `verbund token` only signs development tokens with an HS256 secret — issue tokens with your identity provider",
            config.auth.algorithm
        ));
    }
    let parsed = Role::parse(role).map_err(|r| format!("--role `{role}` {r}"))?;
    let sub = sub.unwrap_or_else(|| format!("dev-{role}"));
    Caller::from_claims(&sub, parsed, network, organisation).map_err(|e| e.to_string())?;
    let ttl = crate::auth::parse_ttl(ttl)?;
    let store = open(config).await?;
    if let Some(n) = network {
        store
            .scoped(Caller::from_claims(&sub, parsed, Some(n), None).map_err(|e| e.to_string())?)
            .await
            .map_err(|_| {
                format!(
                    "--network {n} is not a {} network in this database",
                    if parsed == Role::StateCoordinator {
                        "state"
                    } else {
                        "regional"
                    }
                )
            })?;
    }
    if let Some(o) = organisation {
        store
            .scoped(Caller::from_claims(&sub, parsed, None, Some(o)).map_err(|e| e.to_string())?)
            .await
            .map_err(|_| format!("--organisation {o} does not exist in this database"))?;
    }
    let secret = hs256_secret(config, &store).await?;
    let now = chrono::Utc::now();
    let claims = crate::auth::Claims {
        sub,
        role: role.to_owned(),
        network,
        organisation,
        iss: config.auth.issuer.clone(),
        aud: config.auth.audience.clone(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + ttl).timestamp(),
    };
    crate::auth::sign_hs256(&secret, &claims)
}

/// Drops the change feed's changes older than `days` (0: all up to now).
async fn prune_changes(store: &Store, days: u32) -> Result<u64, verbund_persistence::StoreError> {
    let before =
        chrono::Utc::now() + chrono::Duration::seconds(1) - chrono::Duration::days(i64::from(days));
    let n = store.prune_changes(before).await?;
    tracing::info!(changes_dropped = n, days, "change feed pruned");
    Ok(n)
}

/// How long the retention may hold up the start of the server.
const START_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// Applies the mentee retention batch by batch, within `budget` if given; returns whether
/// some is left. A failure is logged and retried at the next run.
async fn retention(store: &Store, days: u32, budget: Option<std::time::Duration>) -> bool {
    let started = std::time::Instant::now();
    let mut dropped = 0;
    loop {
        match store
            .apply_retention_batch(days, chrono::Utc::now().date_naive())
            .await
        {
            Ok((n, done)) => {
                dropped += n;
                if done {
                    tracing::info!(
                        mentee_references_dropped = dropped,
                        days,
                        "retention applied"
                    );
                    return false;
                }
                if budget.is_some_and(|b| started.elapsed() > b) {
                    tracing::info!(
                        mentee_references_dropped = dropped,
                        days,
                        "retention continues in the background"
                    );
                    return true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention failed; retried at the next run");
                return false;
            }
        }
    }
}

/// `verbund healthcheck`: GET `/healthz` within five seconds.
async fn healthcheck(url: Option<String>, bind: &str) -> Result<(), String> {
    let base = url.unwrap_or_else(|| {
        let port = bind.rsplit(':').next().unwrap_or("8080");
        format!("http://127.0.0.1:{port}")
    });
    let res = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .map_err(|e| format!("healthcheck: {e}"))?
        .get(format!("{}/healthz", base.trim_end_matches('/')))
        .send()
        .await
        .map_err(|_| format!("healthcheck: no answer from {base}"))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!("healthcheck: {base} answered {}", res.status()))
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let keys = config.auth.secret.as_ref().is_some_and(|s| !s.0.is_empty())
        || config.auth.jwks.is_some()
        || config.auth.issuer_url.is_some();
    if config.mode == config::Mode::Production && !keys {
        return Err(
            "production mode needs auth.secret (VERBUND_AUTH__SECRET), auth.jwks or auth.issuer_url; set VERBUND_MODE=development to run with a development secret".into(),
        );
    }
    let store = open(&config).await?;
    let auth = authenticator(&config, &store).await?;
    if config.demo_data && store.is_empty().await.map_err(|e| e.to_string())? {
        demo(&store, 1, "empty database: demo data loaded").await?;
    }
    // The retention runs once before the server listens (so that no request races it),
    // then in the background.
    // A long backlog (a first start after an upgrade) is finished in the background.
    let privacy = config.privacy;
    let webhooks = config.webhooks.clone();
    crate::webhooks::spawn(store.clone(), webhooks.clone());
    if privacy.retention_every_hours > 0 {
        let mut pending =
            retention(&store, privacy.mentee_retention_days, Some(START_BUDGET)).await;
        let store = store.clone();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(privacy.retention_every_hours * 3600);
            loop {
                if !pending {
                    tokio::time::sleep(every).await;
                }
                pending = retention(&store, privacy.mentee_retention_days, None).await;
                if let Err(e) = prune_changes(&store, privacy.change_feed_days).await {
                    tracing::warn!(error = %e, "pruning the change feed failed; retried at the next run");
                }
                let now = chrono::Utc::now();
                let days = |d: u32| now - chrono::Duration::days(i64::from(d));
                match store
                    .prune_webhook_deliveries(
                        days(webhooks.delivered_retention_days),
                        days(webhooks.failed_retention_days),
                    )
                    .await
                {
                    Ok(n) => {
                        tracing::info!(webhook_deliveries_dropped = n, "webhook deliveries pruned")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "pruning webhook deliveries failed; retried at the next run")
                    }
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = config.server;
    let state = AppState::new(store, auth, config);
    // The address on stdout lets scripts and tests that bind port 0 find the server.
    println!("listening on http://{addr}");
    tracing::info!(%addr, database = %redact_url(&state.config.database_url), "verbund serving");
    crate::serve::serve(listener, router(state), &server, shutdown()).await;
    tracing::info!("shut down");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// A one-line progress bar on stderr: `[#########-----------]  45% mentorships 1350000/3000000 12s`.
struct ProgressBar {
    started: std::time::Instant,
}

impl ProgressBar {
    fn new() -> ProgressBar {
        ProgressBar {
            started: std::time::Instant::now(),
        }
    }

    fn show(&self, what: &str, done: u64, of: u64) {
        use std::io::Write;
        let pct = (done * 100).checked_div(of).unwrap_or(100);
        let filled = usize::try_from(pct / 5).unwrap_or(20).min(20);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {pct:>3}% {what} {done}/{of} {}s\x1b[K",
            "#".repeat(filled),
            "-".repeat(20 - filled),
            self.started.elapsed().as_secs()
        );
        if done >= of {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// Loads the demo data and says how much.
async fn demo(
    store: &verbund_persistence::Store,
    seed: u64,
    what: &'static str,
) -> Result<(), String> {
    let r = verbund_seed::seed_demo(store, seed)
        .await
        .map_err(|e| format!("cannot load the demo data: {e}"))?;
    tracing::info!(
        networks = r.networks,
        organisations = r.organisations,
        mentorships = r.mentorships,
        "{what}"
    );
    Ok(())
}
