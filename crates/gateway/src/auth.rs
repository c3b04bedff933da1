//! Authentication: `Authorization: Bearer <JWT>` parsed once per request into a [`Caller`].
//!
//! The algorithm is pinned by configuration: HS256 with a secret (the configured one, or the
//! development secret generated on first start and kept in the database), or RS256/ES256
//! with public keys from a JWKS document — a file or an http(s) URL, loaded at start and
//! refreshed periodically — chosen by the token's `kid`, so keys rotate without a restart.
//! `exp`, `nbf`, `iss` and `aud` are required and checked. No token means the anonymous
//! caller; any bad token is a 401 with the reason, never a silent downgrade.

use crate::config::AuthConfig;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;
use verbund_domain::policy::{Caller, Role};

/// The settings key under which the development secret is kept in the database.
pub const DEV_SECRET_KEY: &str = "auth.dev_secret";

/// The claims of a Verbund token (DESIGN.md's contract).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<Uuid>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
}

/// Why a token was refused; the text is the reason sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header is not `Bearer <token>`")]
    BadHeader,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not the configured {0:?}")]
    WrongAlgorithm(Algorithm),
    #[error("the token names no key id (`kid`)")]
    MissingKid,
    #[error("the token's key id is unknown")]
    UnknownKid,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token lacks the claim `{0}`")]
    MissingClaim(String),
    #[error("the token's role `{0}` is unknown")]
    UnknownRole(String),
    #[error("{0}")]
    Claims(String),
}

enum Keys {
    Secret(DecodingKey),
    Jwks(Jwks),
}

/// Keys from a JWKS document, and what fetching them again needs.
struct Jwks {
    keys: Arc<RwLock<HashMap<String, DecodingKey>>>,
    /// The document's URL (a file is not fetched again on an unknown key id).
    url: Option<String>,
    /// When a token with an unknown key id last fetched the keys.
    last_refetch: tokio::sync::Mutex<Option<std::time::Instant>>,
    min_refetch: Duration,
}

/// Verifies tokens; shared by every request.
pub struct Authenticator {
    algorithm: Algorithm,
    keys: Keys,
    validation: Validation,
    claims: crate::config::ClaimsConfig,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authenticator({:?})", self.algorithm)
    }
}

pub fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    match name {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(format!(
            "auth.algorithm `{other}` is not one of HS256, RS256, ES256"
        )),
    }
}

fn validation(algorithm: Algorithm, config: &AuthConfig) -> Validation {
    let mut v = Validation::new(algorithm);
    v.validate_exp = true;
    v.validate_nbf = true;
    v.leeway = config.leeway_secs;
    v.set_issuer(&[config.issuer.as_str()]);
    v.set_audience(&[config.audience.as_str()]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v
}

/// Loads a JWKS document from a file path or an http(s) URL.
pub async fn load_jwks(source: &str) -> Result<HashMap<String, DecodingKey>, String> {
    let text = if source.starts_with("https://") || source.starts_with("http://") {
        let res = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?
            .get(source)
            .send()
            .await
            .map_err(|e| format!("cannot fetch the JWKS from {source}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!(
                "cannot fetch the JWKS from {source}: HTTP {}",
                res.status()
            ));
        }
        res.text()
            .await
            .map_err(|e| format!("cannot read the JWKS from {source}: {e}"))?
    } else {
        tokio::fs::read_to_string(source)
            .await
            .map_err(|e| format!("cannot read the JWKS file {source}: {e}"))?
    };
    let set: JwkSet = serde_json::from_str(&text)
        .map_err(|e| format!("the JWKS at {source} is not a JWK set: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| format!("the JWKS key `{kid}` is not usable: {e}"))?;
        keys.insert(kid, key);
    }
    if keys.is_empty() {
        return Err(format!("the JWKS at {source} has no key with a `kid`"));
    }
    Ok(keys)
}

impl Authenticator {
    /// HS256 with a shared secret.
    pub fn with_secret(secret: &str, config: &AuthConfig) -> Authenticator {
        Authenticator {
            algorithm: Algorithm::HS256,
            keys: Keys::Secret(DecodingKey::from_secret(secret.as_bytes())),
            validation: validation(Algorithm::HS256, config),
            claims: config.claims.clone(),
        }
    }

    /// RS256/ES256 with keys from a JWKS document, refreshed every
    /// `config.jwks_refresh_secs` by a background task (a failed refresh keeps the old keys).
    pub async fn with_jwks(
        algorithm: Algorithm,
        source: &str,
        config: &AuthConfig,
    ) -> Result<Authenticator, String> {
        let keys = Arc::new(RwLock::new(load_jwks(source).await?));
        let refresh = Duration::from_secs(config.jwks_refresh_secs.max(1));
        let weak = Arc::downgrade(&keys);
        let url_of_refresh = source.to_owned();
        tokio::spawn(async move {
            let source = url_of_refresh;
            loop {
                tokio::time::sleep(refresh).await;
                let Some(keys) = weak.upgrade() else { break };
                match load_jwks(&source).await {
                    Ok(fresh) => {
                        if let Ok(mut k) = keys.write() {
                            *k = fresh;
                        }
                        tracing::debug!("JWKS refreshed");
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "JWKS refresh failed; keeping the previous keys")
                    }
                }
            }
        });
        let url = (source.starts_with("https://") || source.starts_with("http://"))
            .then(|| source.to_owned());
        Ok(Authenticator {
            algorithm,
            keys: Keys::Jwks(Jwks {
                keys,
                url,
                last_refetch: Default::default(),
                min_refetch: Duration::from_secs(config.jwks_min_refetch_secs),
            }),
            validation: validation(algorithm, config),
            claims: config.claims.clone(),
        })
    }

    /// RS256/ES256 with the keys of an OpenID Connect provider, found through its discovery
    /// document; tokens must name the provider as their issuer.
    pub async fn with_issuer(
        issuer_url: &str,
        config: &AuthConfig,
    ) -> Result<Authenticator, String> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let base = issuer_url.trim_end_matches('/');
        let url = format!("{base}/.well-known/openid-configuration");
        let res = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?
            .get(&url)
            .send()
            .await
            .map_err(|_| format!("cannot fetch the OpenID configuration at {url}"))?;
        if !res.status().is_success() {
            return Err(format!(
                "cannot fetch the OpenID configuration at {url}: HTTP {}",
                res.status()
            ));
        }
        let d: Discovery = res
            .json()
            .await
            .map_err(|_| format!("the OpenID configuration at {url} has no issuer and jwks_uri"))?;
        if d.issuer.trim_end_matches('/') != base {
            return Err(format!(
                "the OpenID configuration at {url} names the issuer {}, not {issuer_url}",
                d.issuer
            ));
        }
        let algorithm = match config.algorithm.as_str() {
            "ES256" => Algorithm::ES256,
            _ => Algorithm::RS256,
        };
        let config = AuthConfig {
            issuer: d.issuer,
            ..config.clone()
        };
        Authenticator::with_jwks(algorithm, &d.jwks_uri, &config).await
    }

    /// [`Authenticator::caller`]; a token whose key id is unknown fetches the keys again
    /// first (at most every `auth.jwks_min_refetch_secs`), so a key the provider has just
    /// rotated in is accepted at its first use.
    pub async fn caller_refreshing(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        match self.caller(header) {
            Err(AuthError::UnknownKid) if self.refetch().await => self.caller(header),
            other => other,
        }
    }

    /// Fetches the JWKS again unless that was done within the minimum interval; whether
    /// new keys were taken.
    async fn refetch(&self) -> bool {
        let Keys::Jwks(jwks) = &self.keys else {
            return false;
        };
        let Some(url) = &jwks.url else { return false };
        let mut last = jwks.last_refetch.lock().await;
        if last.is_some_and(|t| t.elapsed() < jwks.min_refetch) {
            return false;
        }
        *last = Some(std::time::Instant::now());
        match load_jwks(url).await {
            Ok(fresh) => {
                if let Ok(mut k) = jwks.keys.write() {
                    *k = fresh;
                }
                tracing::info!("JWKS fetched again for an unknown key id");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWKS refetch failed; keeping the previous keys");
                false
            }
        }
    }

    /// The caller named by an `Authorization` header value, or the anonymous caller.
    pub fn caller(&self, header: Option<&str>) -> Result<Caller, AuthError> {
        let Some(value) = header else {
            return Ok(Caller::anonymous());
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::BadHeader)?;
        let claims = self.verify(token)?;
        self.caller_of(&claims)
    }

    /// The caller the verified claims name, read where `auth.claims` says.
    fn caller_of(&self, claims: &serde_json::Value) -> Result<Caller, AuthError> {
        let c = &self.claims;
        let at = |path: &str| {
            path.split('.')
                .try_fold(claims, |v, key| v.get(key))
                .filter(|v| !v.is_null())
        };
        let sub = at("sub")
            .and_then(|v| v.as_str())
            .ok_or_else(|| AuthError::MissingClaim("sub".into()))?;
        let values: Vec<&str> = match at(&c.role) {
            Some(serde_json::Value::String(s)) => vec![s.as_str()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => return Err(AuthError::MissingClaim(c.role.clone())),
        };
        let mut named = values
            .iter()
            .filter_map(|v| v.strip_prefix(c.role_prefix.as_str()));
        let role = named
            .clone()
            .find_map(|v| Role::parse(v).ok())
            .ok_or_else(|| AuthError::UnknownRole(named.next().unwrap_or_default().to_owned()))?;
        let id = |path: &str| -> Result<Option<Uuid>, AuthError> {
            match at(path) {
                None => Ok(None),
                Some(v) => v
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .map(Some)
                    .ok_or_else(|| AuthError::Claims(format!("the claim `{path}` is not a UUID"))),
            }
        };
        Caller::from_claims(sub, role, id(&c.network)?, id(&c.organisation)?)
            .map_err(|e| AuthError::Claims(e.to_string()))
    }

    fn verify(&self, token: &str) -> Result<serde_json::Value, AuthError> {
        use jsonwebtoken::errors::ErrorKind as K;
        // The header is read before any key is chosen; `alg: none` and unknown algorithms
        // fail to parse here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != self.algorithm {
            return Err(AuthError::WrongAlgorithm(self.algorithm));
        }
        let decoded = match &self.keys {
            Keys::Secret(key) => {
                jsonwebtoken::decode::<serde_json::Value>(token, key, &self.validation)
            }
            Keys::Jwks(jwks) => {
                let kid = header.kid.ok_or(AuthError::MissingKid)?;
                let keys = jwks.keys.read().map_err(|_| AuthError::UnknownKid)?;
                let key = keys.get(&kid).ok_or(AuthError::UnknownKid)?;
                jsonwebtoken::decode::<serde_json::Value>(token, key, &self.validation)
            }
        };
        decoded.map(|d| d.claims).map_err(|e| match e.kind() {
            K::InvalidSignature => AuthError::BadSignature,
            K::ExpiredSignature => AuthError::Expired,
            K::ImmatureSignature => AuthError::NotYetValid,
            K::InvalidIssuer => AuthError::WrongIssuer,
            K::InvalidAudience => AuthError::WrongAudience,
            K::InvalidAlgorithm => AuthError::WrongAlgorithm(self.algorithm),
            K::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
            K::Json(_) => AuthError::Claims("the token's claims do not match the contract (sub, role, network or organisation, iss, aud, exp, nbf, iat)".into()),
            _ => AuthError::Malformed,
        })
    }
}

/// Signs a development token with an HS256 secret.
pub fn sign_hs256(secret: &str, claims: &Claims) -> Result<String, String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign the token: {e}"))
}

/// A fresh random development secret (256 bits, hex).
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses a lifetime such as `8h`, `30m`, `2d`, `90s`.
pub fn parse_ttl(raw: &str) -> Result<chrono::Duration, String> {
    let raw = raw.trim();
    let (num, unit) = raw.split_at(raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("--ttl `{raw}` is not a number with a unit (s, m, h, d)"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" | "" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("--ttl `{raw}`: unit must be s, m, h or d")),
    };
    if n <= 0 || d > chrono::Duration::days(366) {
        return Err(format!(
            "--ttl `{raw}` must be positive and at most 366 days"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl() {
        assert_eq!(parse_ttl("8h"), Ok(chrono::Duration::hours(8)));
        assert_eq!(parse_ttl("30m"), Ok(chrono::Duration::minutes(30)));
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("8x").is_err());
        assert!(parse_ttl("h").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(
            format!("{:?}", crate::config::Secret("s3cr3t".into())),
            "Secret(***)"
        );
        assert_eq!(random_secret().len(), 64);
        assert_ne!(random_secret(), random_secret());
    }
}
