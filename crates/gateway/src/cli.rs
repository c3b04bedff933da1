//! The command line: `serve`, `migrate`, `seed`. Every failure ends in one line on stderr
//! and a non-zero exit code, never a panic.

use crate::config::{self, Config, redact_url};
use crate::http::{AppState, router};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
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
    Demo,
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
    let filter = EnvFilter::try_from_env("VERBUND_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
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
    let store = Store::connect(&config.database_url).await.map_err(|_| {
        format!(
            "cannot connect to the database at {}",
            redact_url(&config.database_url)
        )
    })?;
    store.migrate().await.map_err(|_| {
        format!(
            "cannot migrate the database at {}",
            redact_url(&config.database_url)
        )
    })?;
    Ok(store)
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = config::load(cli.config.as_deref())?;
    if let Some(db) = cli.database {
        config.database_url = db;
    }
    match cli.command {
        Command::Migrate => {
            open(&config).await?;
            tracing::info!(database = %redact_url(&config.database_url), "migrations applied");
            Ok(())
        }
        Command::Seed {
            scale: Scale::Demo,
            seed,
        } => {
            let store = open(&config).await?;
            let r = verbund_persistence::seed::seed_demo(&store, seed)
                .await
                .map_err(|e| format!("cannot seed: {e}"))?;
            tracing::info!(
                networks = r.networks,
                organisations = r.organisations,
                mentorships = r.mentorships,
                "demo data loaded"
            );
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

async fn serve(config: Config) -> Result<(), String> {
    let store = open(&config).await?;
    if config.demo_data
        && verbund_persistence::seed::is_empty(&store)
            .await
            .map_err(|e| e.to_string())?
    {
        let r = verbund_persistence::seed::seed_demo(&store, 1)
            .await
            .map_err(|e| format!("cannot load the demo data: {e}"))?;
        tracing::info!(
            networks = r.networks,
            organisations = r.organisations,
            mentorships = r.mentorships,
            "empty database: demo data loaded"
        );
    }
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let state = AppState {
        schema: crate::graphql::schema(&config.graphql),
        store,
        config: Arc::new(config),
    };
    // The address on stdout lets scripts and tests that bind port 0 find the server.
    println!("listening on http://{addr}");
    tracing::info!(%addr, database = %redact_url(&state.config.database_url), "verbund serving");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await
        .map_err(|e| format!("server error: {e}"))?;
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
