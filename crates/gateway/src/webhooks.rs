//! The webhook dispatcher: a loop in every server process that fans the change feed out to
//! the subscriptions, leases due deliveries and posts them, signed as Standard Webhooks 1.0
//! asks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`). Replicas share the work through the leases in the database
//! (`verbund_persistence::webhooks`); a replica that dies mid-delivery leaves a lease that
//! runs out, and another sends the delivery.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use uuid::Uuid;
use verbund_domain::webhook::{Outcome, Targets, address_allowed, retry_after, target_of};
use verbund_persistence::Store;
use verbund_persistence::webhooks::{Due, Finished};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Whether this process sends deliveries (subscriptions can be managed either way).
    pub enabled: bool,
    /// How often the dispatcher looks for new changes and due deliveries.
    pub poll_ms: u64,
    /// How long a replica holds a delivery it is sending; one that dies holding it leaves
    /// the delivery to another after this.
    pub lease_secs: u64,
    /// A receiver that has not answered after this long has failed the attempt.
    pub timeout_secs: u64,
    /// Deliveries sent at once by this process.
    pub concurrency: usize,
    /// The waits before each retry, in seconds (Standard Webhooks' schedule: about three
    /// days); when they are used up the delivery has failed.
    pub retry_schedule_secs: Vec<u64>,
    /// Plain `http` targets (otherwise `https` only).
    pub allow_http: bool,
    /// Targets that resolve to loopback, private or link-local addresses (off: no request
    /// to the server's own network can be made through a subscription).
    pub allow_private_targets: bool,
    /// How long the old secret keeps signing after a rotation.
    pub rotation_overlap_hours: u64,
    /// Subscriptions per owner, at most.
    pub max_per_owner: u64,
    /// Delivered deliveries are dropped this many days after delivery; failed ones this
    /// many days after they failed (until then they can be redelivered).
    pub delivered_retention_days: u32,
    pub failed_retention_days: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            enabled: true,
            poll_ms: 1000,
            lease_secs: 60,
            timeout_secs: 10,
            concurrency: 8,
            retry_schedule_secs: verbund_domain::webhook::RETRY_SCHEDULE_SECS.to_vec(),
            allow_http: false,
            allow_private_targets: false,
            rotation_overlap_hours: 24,
            max_per_owner: 25,
            delivered_retention_days: 7,
            failed_retention_days: 30,
        }
    }
}

impl WebhookConfig {
    pub fn targets(&self) -> Targets {
        Targets {
            allow_http: self.allow_http,
            allow_private: self.allow_private_targets,
        }
    }
}

/// The `webhook-signature` header: one `v1,<signature>` per secret, space-separated.
pub fn signature(secrets: &[String], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| {
            let key = base64::engine::general_purpose::STANDARD
                .decode(s.strip_prefix("whsec_").unwrap_or(s))
                .ok()?;
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
            mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
            let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            Some(format!("v1,{sig}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the dispatcher until the process ends.
pub fn spawn(store: Store, config: WebhookConfig) {
    if !config.enabled {
        return;
    }
    let worker = Uuid::now_v7();
    tokio::spawn(async move {
        let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
        let poll = Duration::from_millis(config.poll_ms.max(10));
        // While changes keep coming, look again soon; back off to `poll` when they stop.
        let quick = (poll / 16).max(Duration::from_millis(10));
        let mut wait = poll;
        loop {
            match store.webhook_fan_out(500).await {
                Ok(0) => wait = (wait * 2).min(poll),
                Ok(_) => wait = quick,
                Err(e) => tracing::warn!(error = %e, "webhook fan-out failed; retried shortly"),
            }
            // Wait for a free slot rather than a poll: with every slot busy, the next claim
            // comes as soon as one delivery ends, so a busy dispatcher keeps up.
            let Ok(first) = slots.clone().acquire_owned().await else {
                return;
            };
            let free = slots.available_permits() as u64 + 1;
            let due = store
                .webhook_claim(worker, Duration::from_secs(config.lease_secs), free)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    Vec::new()
                });
            let busy = !due.is_empty();
            let mut first = Some(first);
            for d in due {
                let permit = match first.take() {
                    Some(p) => p,
                    None => match slots.clone().acquire_owned().await {
                        Ok(p) => p,
                        Err(_) => return,
                    },
                };
                let (store, config) = (store.clone(), config.clone());
                tokio::spawn(async move {
                    let finished = deliver(&d, &config).await;
                    let outcome = if finished.delivered {
                        "delivered"
                    } else {
                        "failed"
                    };
                    metrics::counter!("verbund_webhook_attempts_total", "outcome" => outcome)
                        .increment(1);
                    if finished.delivered {
                        // From the change's delivery being queued to its arrival.
                        let lag = (chrono::Utc::now() - d.created_at).num_milliseconds();
                        metrics::histogram!("verbund_webhook_delivery_lag_seconds")
                            .record(lag.max(0) as f64 / 1000.0);
                    }
                    if let Err(e) = store.webhook_finish(worker, &d, &finished).await {
                        tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt failed; the lease runs out and it is sent again");
                    }
                    drop(permit);
                });
            }
            drop(first);
            if !busy {
                tokio::time::sleep(wait).await;
            }
        }
    });
}

/// The first address of a host that may be sent to. One text whether the name does not
/// resolve or resolves only to refused addresses, so that the delivery log does not tell a
/// subscriber whether a name exists inside the network.
async fn resolve(host: &str, port: u16, targets: Targets) -> Result<SocketAddr, String> {
    let unreachable = || "the host has no address that may be sent to".to_owned();
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| unreachable())?
        .find(|a| address_allowed(a.ip(), targets).is_ok())
        .ok_or_else(unreachable)
}

/// Sends one delivery and says how it went.
async fn deliver(d: &Due, config: &WebhookConfig) -> Finished {
    let started = Instant::now();
    let (status, error, retry_hint) = match post(d, config).await {
        Ok((status, hint)) => (Some(status), None, hint),
        Err(e) => (None, Some(e), None),
    };
    let outcome = status.map_or(Outcome::Failed, Outcome::of_status);
    let failed = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
    let retry_at = (outcome == Outcome::Failed)
        .then(|| retry_after(&config.retry_schedule_secs, failed, rand::random::<f64>()))
        .flatten()
        .map(|wait| {
            // 429 and 503 wait at least as long as the receiver asked.
            let wait = retry_hint.map_or(wait, |h| wait.max(h));
            chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
        });
    Finished {
        status,
        error,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
        delivered: outcome == Outcome::Delivered,
        retry_at,
        gone: outcome == Outcome::Gone,
    }
}

/// Posts the delivery to an address its host resolves to, checked against the allowed
/// targets (so a name that resolves to an internal address is refused when sending, not
/// only when subscribing), without following redirects. Returns the status and, for 429 and
/// 503, the `Retry-After` wait.
async fn post(d: &Due, config: &WebhookConfig) -> Result<(u16, Option<Duration>), String> {
    let targets = config.targets();
    let target = target_of(&d.url, targets).map_err(|e| format!("url {e}"))?;
    let addr = resolve(&target.host, target.port, targets).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(config.timeout_secs.max(1)))
        .resolve(&target.host, addr)
        .user_agent(concat!("Verbund-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|_| "cannot build the HTTP client".to_owned())?;
    let id = format!("msg_{}", d.id.simple());
    let timestamp = chrono::Utc::now().timestamp();
    let response = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature(&d.secrets, &id, timestamp, &d.payload),
        )
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else if e.is_connect() {
                "connection refused or failed".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    let status = response.status().as_u16();
    let hint = matches!(status, 429 | 503)
        .then(|| {
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after)
        })
        .flatten();
    Ok((status, hint))
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_log_does_not_tell_a_missing_name_from_an_internal_one() {
        let refused = Targets {
            allow_http: false,
            allow_private: false,
        };
        let internal = resolve("localhost", 443, refused).await;
        let missing = resolve("nothing.invalid", 443, refused).await;
        assert!(internal.is_err(), "{internal:?}");
        assert_eq!(internal, missing);
        let allowed = Targets {
            allow_http: false,
            allow_private: true,
        };
        assert!(resolve("localhost", 443, allowed).await.is_ok());
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned();
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(std::slice::from_ref(&secret), id, 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let two = signature(&[secret.clone(), secret], id, 1614265330, body);
        assert_eq!(two.split(' ').count(), 2);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(300)).to_rfc2822();
        let d = parse_retry_after(&later).expect("date");
        assert!(d > Duration::from_secs(290) && d <= Duration::from_secs(300));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
