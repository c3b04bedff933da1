//! Configuration: defaults → TOML file (`--config`, `VERBUND_CONFIG`, or `verbund.toml` in the
//! working directory if present) → `VERBUND_*` environment variables (`__` for nesting,
//! e.g. `VERBUND_GRAPHQL__INTROSPECTION=false`) → command-line flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A secret that never prints.
#[derive(Clone, Deserialize, Serialize, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `development` (the default: demo data on an empty database, GraphiQL, and a
    /// development secret kept in the database when none is configured) or `production`
    /// (`VERBUND_MODE=production`, as the container image sets it: no demo data and no
    /// GraphiQL unless configured, and `serve` refuses to start without `auth.secret` or
    /// `auth.jwks`).
    pub mode: Mode,
    /// `sqlite://verbund.db` (the embedded default) or `postgres://…`.
    pub database_url: String,
    /// `database_url` goes through a pooler in transaction mode (PgBouncer): no statement
    /// is kept prepared on the server and each use of a connection is a transaction of its
    /// own. Set `migration_database_url` to the database itself beside it.
    pub database_transaction_pooler: bool,
    /// Migrations (and the recount they may need) use this URL when set: the database
    /// directly, not through a pooler (`VERBUND_MIGRATION_DATABASE_URL`).
    pub migration_database_url: Option<String>,
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// Load the demo data set when `serve` starts on an empty database.
    pub demo_data: bool,
    pub graphql: GraphqlConfig,
    pub auth: AuthConfig,
    pub statistics: StatisticsConfig,
    pub server: ServerConfig,
    pub rate_limit: RateLimitConfig,
    pub privacy: PrivacyConfig,
    pub webhooks: crate::webhooks::WebhookConfig,
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Development,
    Production,
}

/// `/metrics`, the Prometheus text format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// When set, `/metrics` answers only a scraper that sends it as a bearer token
    /// (`VERBUND_METRICS__TOKEN`); set it wherever the port is reachable from outside.
    pub token: Option<Secret>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: true,
            token: None,
        }
    }
}

/// People's data: how long what is kept.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// A mentee reference is dropped this many days after its mentorship ended (the
    /// mentorship and its counts stay). `verbund retention` applies it once; the server
    /// applies it at start and every `retention_every_hours`.
    pub mentee_retention_days: u32,
    /// How often the server applies the retention (0: never; then run `verbund retention`
    /// from a scheduler).
    pub retention_every_hours: u64,
    /// The change feed keeps changes this many days (pruned with the retention; a reader's
    /// older cursor gets 410 and reads everything again).
    pub change_feed_days: u32,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            mentee_retention_days: verbund_persistence::rights::DEFAULT_MENTEE_RETENTION_DAYS,
            retention_every_hours: 24,
            change_feed_days: 30,
        }
    }
}

/// Timeouts and connection limits of the HTTP server.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// A client must send a request's head within this time (also between requests on a
    /// kept-alive connection), or the connection is closed.
    pub header_read_timeout_secs: u64,
    /// A client must send the whole body within this time (408 otherwise).
    pub body_read_timeout_secs: u64,
    /// A request that takes the server longer than this is answered 503 `TIMEOUT`.
    pub request_timeout_secs: u64,
    /// After SIGTERM or Ctrl-C, in-flight requests get this long; then every connection
    /// is closed and the process exits.
    pub shutdown_timeout_secs: u64,
    /// Most connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// A spreadsheet import (`POST …/import`) may send this many bytes (every other body
    /// at most 1 MiB) …
    pub import_max_bytes: usize,
    /// … and has this long to be received and answered (instead of the two timeouts above).
    pub import_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 30,
            request_timeout_secs: 30,
            shutdown_timeout_secs: 10,
            max_connections: 1024,
            import_max_bytes: 16 * 1024 * 1024,
            import_timeout_secs: 300,
        }
    }
}

/// Rate limits, counted in this process (each replica on its own).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Sustained requests per second per client address, and the burst above it.
    pub per_address_per_second: f64,
    pub address_burst: f64,
    /// Sustained requests per second per token subject, and the burst above it.
    pub per_subject_per_second: f64,
    pub subject_burst: f64,
    /// Failed authentications (bad, expired or forged tokens) per minute per address.
    pub auth_failures_per_minute: f64,
    pub auth_failure_burst: f64,
    /// Take the client address from the first `X-Forwarded-For` entry (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
    /// Rows of a CSV import per token: an import costs its rows, not one request.
    pub import_rows_per_token: f64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            per_address_per_second: 100.0,
            address_burst: 400.0,
            per_subject_per_second: 100.0,
            subject_burst: 400.0,
            auth_failures_per_minute: 60.0,
            auth_failure_burst: 20.0,
            trust_forwarded_for: false,
            import_rows_per_token: 10.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatisticsConfig {
    /// The smallest count shown to callers who may not read the records (ministry,
    /// public); smaller cells are suppressed. Never below 3.
    pub k: i64,
    /// `overload`: an organisation with more active mentorships per paid coordinator
    /// (staff member) than this is overloaded.
    pub mentorships_per_coordinator: i64,
    /// The most a protected statistic may cost: its cells times the tables of its lattice
    /// (`verbund_domain::statistics::protection_cost`). Dearer requests are refused (400
    /// `TOO_COMPLEX`) before any protection work.
    pub max_cost: u64,
    /// Reading and protecting a table are stopped after this many milliseconds (400
    /// `TOO_COMPLEX`; on PostgreSQL the read by its statement timeout).
    pub time_limit_ms: u64,
    /// Reading and protecting the linked measures together (mentorships requested,
    /// started, ended by year and active at each year end; once per data version, for
    /// every caller, one at a time) is stopped after this many milliseconds (400
    /// `TOO_COMPLEX`). Below the request timeout.
    pub family_time_limit_ms: u64,
    /// Cost units per rate-limit token: a protected statistic that is not cached takes
    /// cost / cost_per_token tokens from the caller's budget.
    pub cost_per_token: u64,
    /// How wide an attacker's interval for a hidden cell must stay when it solves linear
    /// programmes over every shown cell (`primary`: v ± 3 for a primary cell of value v;
    /// `secondary_min`, `secondary_percent`: at least max(5, 10 % of v) for any other hidden
    /// cell). All 0 turns interval protection off.
    pub intervals: verbund_domain::statistics::Ranges,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        StatisticsConfig {
            k: verbund_domain::statistics::DEFAULT_K,
            mentorships_per_coordinator: 40,
            max_cost: 250_000,
            time_limit_ms: 4_000,
            family_time_limit_ms: 15_000,
            cost_per_token: 2_500,
            intervals: verbund_domain::statistics::Ranges::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `HS256` (a shared secret), `RS256` or `ES256` (public keys from `jwks`).
    pub algorithm: String,
    /// HS256 secret. Without one, the development secret kept in the database is used
    /// (generated on first start).
    pub secret: Option<Secret>,
    /// JWKS document for RS256/ES256: a file path or an http(s) URL.
    pub jwks: Option<String>,
    pub jwks_refresh_secs: u64,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// An OpenID Connect provider (e.g. `https://sso.example/realms/verbund`): its keys
    /// come from `/.well-known/openid-configuration`'s `jwks_uri`, tokens must name it as
    /// `iss`, and the algorithm is RS256 unless `algorithm` says ES256.
    pub issuer_url: Option<String>,
    /// A token whose key id is unknown fetches the keys again at once, at most this often
    /// (so a rotation refuses no valid token, and forged key ids cost no more fetches).
    pub jwks_min_refetch_secs: u64,
    /// Where the token says who the caller is.
    pub claims: ClaimsConfig,
}

/// Where a token carries the role and the scope: dotted paths into its claims. The
/// defaults are Verbund's own tokens (`role`, `network`, `organisation`); for Keycloak's
/// realm roles e.g. `role = "realm_access.roles"` and `role_prefix = "verbund:"`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimsConfig {
    /// A string or a list of strings; the first that names a Verbund role (after the
    /// prefix) is the caller's role.
    pub role: String,
    /// Only values with this prefix are roles (the prefix is removed).
    pub role_prefix: String,
    /// A network's UUID, for coordinators.
    pub network: String,
    /// An organisation's UUID, for org_admin and org_member.
    pub organisation: String,
}

impl Default for ClaimsConfig {
    fn default() -> Self {
        ClaimsConfig {
            role: "role".into(),
            role_prefix: String::new(),
            network: "network".into(),
            organisation: "organisation".into(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            algorithm: "HS256".into(),
            secret: None,
            jwks: None,
            jwks_refresh_secs: 300,
            issuer: "verbund".into(),
            audience: "verbund-api".into(),
            leeway_secs: 5,
            issuer_url: None,
            jwks_min_refetch_secs: 10,
            claims: ClaimsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphqlConfig {
    /// Introspection and GraphiQL; on in development, off in production.
    pub introspection: bool,
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Most fields one request may select (counting every occurrence, fragments included).
    pub max_fields: usize,
    /// Most aliased fields one request may hold (aliases multiply work at no cost to depth).
    pub max_aliases: usize,
    /// Most directives (`@include`, `@skip`, …) one request may hold, fragments expanded.
    pub max_directives: usize,
    /// Deepest bracket nesting of the query text (selection sets, list and object literals,
    /// arguments) and of the variables; checked before the query is parsed.
    pub max_nesting: usize,
    /// Longest query text, in bytes (variables are bounded by the body limit).
    pub max_query_bytes: usize,
    /// Most tokens in the query text.
    pub max_tokens: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://verbund.db".into(),
            database_transaction_pooler: false,
            migration_database_url: None,
            bind: "127.0.0.1:8080".into(),
            mode: Mode::Development,
            demo_data: true,
            graphql: GraphqlConfig::default(),
            auth: AuthConfig::default(),
            statistics: StatisticsConfig::default(),
            server: ServerConfig::default(),
            rate_limit: RateLimitConfig::default(),
            privacy: PrivacyConfig::default(),
            webhooks: crate::webhooks::WebhookConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for GraphqlConfig {
    fn default() -> Self {
        GraphqlConfig {
            introspection: true,
            max_depth: 16,
            max_complexity: 5000,
            max_fields: 1000,
            max_aliases: 30,
            max_directives: 50,
            max_nesting: 40,
            max_query_bytes: 128 * 1024,
            max_tokens: 20_000,
        }
    }
}

/// Loads the configuration; `file` is the `--config` flag if given.
pub fn load(file: Option<&Path>) -> Result<Config, String> {
    // What the operator set: the file, then the environment.
    let mut set = Figment::new();
    let env_file = std::env::var_os("VERBUND_CONFIG").map(std::path::PathBuf::from);
    match file.map(Path::to_path_buf).or(env_file) {
        Some(path) if !path.exists() => {
            return Err(format!(
                "configuration file {} does not exist",
                path.display()
            ));
        }
        Some(path) => set = set.merge(Toml::file(path)),
        None if Path::new("verbund.toml").exists() => set = set.merge(Toml::file("verbund.toml")),
        None => {}
    }
    // `VERBUND_CONFIG` names the file and `VERBUND_TEST_*` belongs to the tests; neither is
    // a configuration key.
    let env = Env::prefixed("VERBUND_")
        .split("__")
        .ignore(&["config"])
        .filter(|k| !k.as_str().starts_with("test_"));
    let set = set.merge(env);
    // Under it the defaults, and production's where it asks for production (an invalid mode
    // is reported by the extraction below).
    let mut fig = Figment::from(Serialized::defaults(Config::default()));
    if set.extract_inner::<Mode>("mode").ok() == Some(Mode::Production) {
        fig = fig
            .merge(Serialized::default("demo_data", false))
            .merge(Serialized::default("graphql.introspection", false));
    }
    let config: Config = fig
        .merge(set)
        .extract()
        .map_err(|e| format!("invalid configuration: {e}"))?;
    if config.statistics.k < verbund_domain::statistics::MIN_K {
        return Err(format!(
            "invalid configuration: statistics.k must be at least {} (got {})",
            verbund_domain::statistics::MIN_K,
            config.statistics.k
        ));
    }
    let r = config.statistics.intervals;
    if r.primary < 0 || r.secondary_min < 0 || !(0..=100).contains(&r.secondary_percent) {
        return Err(
            "invalid configuration: statistics.intervals.primary and secondary_min must \
            not be negative, secondary_percent must be from 0 to 100"
                .into(),
        );
    }
    if config.statistics.family_time_limit_ms >= config.server.request_timeout_secs * 1000 {
        return Err(format!(
            "invalid configuration: statistics.family_time_limit_ms ({}) must be below \
            server.request_timeout_secs ({} s)",
            config.statistics.family_time_limit_ms, config.server.request_timeout_secs
        ));
    }
    if config.statistics.cost_per_token < 1 {
        return Err("invalid configuration: statistics.cost_per_token must be at least 1".into());
    }
    if config.statistics.mentorships_per_coordinator < 1 {
        return Err(
            "invalid configuration: statistics.mentorships_per_coordinator must be at least 1"
                .into(),
        );
    }
    Ok(config)
}

/// The database URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://verbund.db"), "sqlite://verbund.db");
    }

    #[test]
    fn interval_ranges_are_configured_and_checked() {
        let dir = std::env::temp_dir().join(format!("verbund-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("verbund.toml");
        std::fs::write(&file, "[statistics.intervals]\nprimary = 4\n").expect("write");
        let config = load(Some(&file)).expect("valid");
        assert_eq!(config.statistics.intervals.primary, 4);
        assert_eq!(config.statistics.intervals.secondary_min, 5, "default kept");
        std::fs::write(&file, "[statistics.intervals]\nsecondary_percent = 150\n").expect("write");
        let err = load(Some(&file)).expect_err("out of range");
        assert!(err.contains("secondary_percent"), "{err}");
        std::fs::write(&file, "[statistics.intervals]\nprimery = 3\n").expect("write");
        assert!(load(Some(&file)).is_err(), "unknown key refused");
        std::fs::write(&file, "[statistics]\nfamily_time_limit_ms = 30000\n").expect("write");
        let err = load(Some(&file)).expect_err("not below the request timeout");
        assert!(err.contains("family_time_limit_ms"), "{err}");
        std::fs::write(&file, "[statistics]\nfamily_time_limit_ms = 20000\n").expect("write");
        assert_eq!(
            load(Some(&file))
                .expect("valid")
                .statistics
                .family_time_limit_ms,
            20_000
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
