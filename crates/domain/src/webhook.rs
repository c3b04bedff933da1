//! Webhooks: a subscription asks the server to follow the change feed on its owner's behalf
//! and to post each change it may see to a URL, signed (Standard Webhooks 1.0), retried on
//! failure. What a subscription is and which targets are allowed is decided here; the
//! storage keeps subscriptions and deliveries, the gateway sends.

use crate::change;
use crate::error::{Collector, Reason, ValidationErrors};
use crate::policy::EntityKind;
use crate::values::{self, DESCRIPTION_MAX};
use chrono::{DateTime, Utc};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use uuid::Uuid;

/// The longest target URL.
pub const URL_MAX: usize = 2000;

/// The waits before each retry after a failed attempt (Standard Webhooks' suggestion, about
/// three days in all): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
pub const RETRY_SCHEDULE_SECS: [u64; 9] =
    [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];

/// A subscription as a caller sends it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "api", derive(async_graphql::InputObject, utoipa::ToSchema))]
pub struct WebhookInput {
    /// Where deliveries are posted: an absolute `https` URL (plain `http` only where the
    /// server allows it).
    pub url: String,
    /// The kinds of record to hear about, e.g. `mentorship` (all the owner may read if
    /// empty or absent).
    #[serde(default)]
    #[cfg_attr(feature = "api", graphql(default))]
    pub types: Vec<String>,
    pub description: Option<String>,
}

/// Which targets the server posts to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// Plain `http` URLs (otherwise only `https`).
    pub allow_http: bool,
    /// Hosts that resolve to loopback, private, link-local or other non-public addresses.
    pub allow_private: bool,
}

/// A valid subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    /// The scheme, host and port the URL names, read once here.
    pub target: Target,
    /// Empty: every kind.
    pub types: Vec<EntityKind>,
    pub description: Option<String>,
}

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    /// A host name, or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

impl Webhook {
    pub fn parse(input: WebhookInput, targets: Targets) -> Result<Webhook, ValidationErrors> {
        let mut c = Collector::new();
        let url = input.url.trim().to_owned();
        let target = c.check("url", target_of(&url, targets));
        let types = c.check("types", change::kinds(&input.types));
        let description = c.check(
            "description",
            values::optional_text(input.description.as_deref(), DESCRIPTION_MAX),
        );
        c.finish(|| {
            Some(Webhook {
                url,
                target: target?,
                types: types?,
                description: description?,
            })
        })
    }

    /// Whether a change of this kind is one the subscription asked for.
    pub fn wants(types: &[EntityKind], kind: EntityKind) -> bool {
        types.is_empty() || types.contains(&kind)
    }
}

/// Reads an absolute URL's scheme, host and port, refusing what the server does not post to.
/// Host names are checked again once resolved, when delivering ([`address_allowed`]).
pub fn target_of(url: &str, targets: Targets) -> Result<Target, Reason> {
    if url.is_empty() {
        return Err(Reason::Empty);
    }
    if url.len() > URL_MAX {
        return Err(Reason::TooLong { max: URL_MAX });
    }
    let malformed = Reason::Malformed {
        expected: "an absolute https URL",
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(malformed);
    }
    let (scheme, rest) = url.split_once("://").ok_or(malformed.clone())?;
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" if targets.allow_http => false,
        "http" => return Err(Reason::Rule("must use https")),
        _ => return Err(malformed),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Reason::Rule("must not carry a user name or password"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(malformed.clone())?;
        (h.to_owned(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        None => {
            if https {
                443
            } else {
                80
            }
        }
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or(malformed.clone())?,
    };
    let host = host.to_ascii_lowercase();
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
    if !name_ok {
        return Err(malformed);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        address_allowed(ip, targets)?;
    } else if host == "localhost" || host.ends_with(".localhost") {
        address_allowed(IpAddr::V4(Ipv4Addr::LOCALHOST), targets)?;
    }
    Ok(Target { https, host, port })
}

/// Whether the server may connect to this address: public unicast only, unless private
/// targets are allowed. Checked on every address a host resolves to, when delivering, so a
/// name that later resolves to an internal address is refused too.
pub fn address_allowed(ip: IpAddr, targets: Targets) -> Result<(), Reason> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let never = match ip {
        IpAddr::V4(a) => a.is_unspecified() || a.is_broadcast() || a.is_multicast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast(),
    };
    if never {
        return Err(Reason::Rule(
            "must not resolve to an unspecified or multicast address",
        ));
    }
    if targets.allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(Reason::Rule(
            "must not resolve to a loopback, private or link-local address",
        ))
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let [o0, o1, ..] = a.octets();
            !(a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_documentation()
                || o0 == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (o0 == 100 && (o1 & 0xc0) == 64)
                // Benchmarking, 198.18.0.0/15; reserved, 240.0.0.0/4.
                || (o0 == 198 && (o1 & 0xfe) == 18)
                || o0 >= 240)
        }
        IpAddr::V6(a) => {
            let s0 = a.segments()[0];
            !(a.is_loopback()
                // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
                || (s0 & 0xfe00) == 0xfc00
                || (s0 & 0xffc0) == 0xfe80
                || (s0 == 0x2001 && a.segments()[1] == 0x0db8)
                || a == Ipv6Addr::UNSPECIFIED)
        }
    }
}

/// The wait before the retry that follows `failed` failed attempts (1 for the first
/// failure), or `None` when the schedule is used up and the delivery has failed.
/// `jitter` in [0, 1) spreads retries by up to a tenth of the wait either way.
pub fn retry_after(schedule: &[u64], failed: u32, jitter: f64) -> Option<std::time::Duration> {
    let base = *schedule.get(usize::try_from(failed).ok()?.checked_sub(1)?)?;
    let spread = base as f64 * 0.1 * (2.0 * jitter.clamp(0.0, 1.0) - 1.0);
    Some(std::time::Duration::from_millis(
        ((base as f64 + spread) * 1000.0).max(0.0) as u64,
    ))
}

/// A subscription as its owner sees it (never its secret, which is shown once). One
/// definition for the storage and both doors.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "Webhook"))]
pub struct Subscription {
    pub id: Uuid,
    /// For `If-Match` (REST) and `version` (GraphQL) on changes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where deliveries are posted.
    pub url: String,
    /// The kinds of record it hears about; empty: every kind its owner may read.
    pub types: Vec<EntityKind>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why it is disabled: the receiver answered 410, the owner's organisation is gone, it
    /// fell behind the feed's retention, or "disabled by its owner".
    pub disabled_reason: Option<String>,
    /// Until when deliveries are also signed with the secret before the last rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
}

impl Subscription {
    /// What a change of a subscription asks for, as a whole input: fields left out keep their
    /// current value (`description: Some(None)` removes it). `None` when the change touches
    /// none of them (only `enabled`, which is not part of the input).
    pub fn patched(
        &self,
        url: Option<String>,
        types: Option<Vec<String>>,
        description: Option<Option<String>>,
    ) -> Option<WebhookInput> {
        if url.is_none() && types.is_none() && description.is_none() {
            return None;
        }
        Some(WebhookInput {
            url: url.unwrap_or_else(|| self.url.clone()),
            types: types
                .unwrap_or_else(|| self.types.iter().map(|k| k.as_str().to_owned()).collect()),
            description: description.unwrap_or_else(|| self.description.clone()),
        })
    }
}

/// A subscription with its new secret: keep it, it is not shown again.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "WebhookWithSecret"))]
pub struct SubscriptionWithSecret {
    pub webhook: Subscription,
    /// `whsec_` and the base64 of 32 random bytes: the key of the `webhook-signature`
    /// HMAC (Standard Webhooks).
    pub secret: String,
}

/// One delivery of a change to a subscription, with every attempt.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "WebhookDelivery"))]
pub struct Delivery {
    /// The delivery; the receiver sees it as `webhook-id: msg_<id without dashes>`.
    pub id: Uuid,
    /// `<kind>.<action>`, e.g. `mentorship.updated`.
    pub event_type: String,
    /// `pending` (due at `nextAttemptAt`), `delivered` or `failed` (retries used up, or the
    /// receiver answered 410).
    pub state: String,
    /// The JSON body posted.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "api",
    derive(serde::Serialize, async_graphql::SimpleObject, utoipa::ToSchema)
)]
#[cfg_attr(feature = "api", serde(rename_all = "camelCase"))]
#[cfg_attr(feature = "api", graphql(name = "WebhookAttempt"))]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status; null when it did not answer.
    pub status: Option<u16>,
    /// Why there was no answer: `timed out`, `connection refused or failed`, a refused
    /// target, …
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// What an attempt's answer means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver asks for no more deliveries; the subscription is disabled.
    Gone,
    /// Anything else (and a timeout or a refused connection): retried by the schedule; 429
    /// and 503 wait at least as long as their `Retry-After` asks.
    Failed,
}

impl Outcome {
    pub fn of_status(status: u16) -> Outcome {
        match status {
            200..=299 => Outcome::Delivered,
            410 => Outcome::Gone,
            _ => Outcome::Failed,
        }
    }
}

/// The event type of a change, as the payload names it: `<kind>.<action>`, e.g.
/// `mentorship.updated`.
pub fn event_type(kind: EntityKind, action: crate::change::ChangeAction) -> String {
    format!("{}.{}", kind.as_str(), action.as_str())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_patch_keeps_what_it_leaves_out() {
        let now = Utc::now();
        let current = Subscription {
            id: Uuid::nil(),
            version: 3,
            created_at: now,
            updated_at: now,
            url: "https://crm.example.org/hook".into(),
            types: vec![EntityKind::Volunteer],
            description: Some("CRM".into()),
            enabled: true,
            disabled_reason: None,
            previous_secret_until: None,
        };
        assert_eq!(current.patched(None, None, None), None);
        let input = current.patched(None, None, Some(None)).expect("changed");
        assert_eq!(input.url, current.url);
        assert_eq!(input.types, ["volunteer"]);
        assert_eq!(input.description, None);
        let input = current
            .patched(Some("https://x.example.org/".into()), Some(vec![]), None)
            .expect("changed");
        assert_eq!(input.url, "https://x.example.org/");
        assert!(input.types.is_empty());
        assert_eq!(input.description.as_deref(), Some("CRM"));
    }
    use super::*;

    const STRICT: Targets = Targets {
        allow_http: false,
        allow_private: false,
    };

    #[test]
    fn urls_are_checked_before_anything_is_stored() {
        let ok = target_of("https://crm.example.org:8443/hooks?x=1", STRICT).expect("ok");
        assert_eq!(
            ok,
            Target {
                https: true,
                host: "crm.example.org".into(),
                port: 8443
            }
        );
        for (url, why) in [
            ("", "must not be empty"),
            ("http://crm.example.org/", "must use https"),
            ("ftp://crm.example.org/", "is not an absolute https URL"),
            (
                "https://user:pw@crm.example.org/",
                "must not carry a user name or password",
            ),
            ("https://127.0.0.1/", "loopback"),
            ("https://localhost:9000/", "loopback"),
            ("https://10.1.2.3/", "private"),
            ("https://192.168.0.10/", "private"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[::1]/", "loopback"),
            ("https://[::ffff:10.0.0.1]/", "private"),
            ("https://[fd00::1]/", "private"),
            ("https://0.0.0.0/", "unspecified"),
            ("https://crm.example.org:0/", "is not an absolute https URL"),
            ("https://crm example.org/", "is not an absolute https URL"),
        ] {
            let e = target_of(url, STRICT).expect_err(url).to_string();
            assert!(e.contains(why), "{url}: {e}");
        }
        let open = Targets {
            allow_http: true,
            allow_private: true,
        };
        assert!(target_of("http://127.0.0.1:8080/in", open).is_ok());
        assert!(target_of("https://0.0.0.0/", open).is_err());
    }

    #[test]
    fn public_addresses_pass_and_internal_ones_do_not() {
        for ip in ["93.184.216.34", "2a00:1450:4001:80b::200e", "100.128.0.1"] {
            assert!(
                address_allowed(ip.parse().expect("ip"), STRICT).is_ok(),
                "{ip}"
            );
        }
        for ip in [
            "127.0.0.2",
            "172.16.5.4",
            "100.64.0.1",
            "198.18.0.1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "240.0.0.1",
        ] {
            assert!(
                address_allowed(ip.parse().expect("ip"), STRICT).is_err(),
                "{ip}"
            );
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let s = RETRY_SCHEDULE_SECS;
        assert_eq!(retry_after(&s, 0, 0.5), None);
        assert_eq!(
            retry_after(&s, 1, 0.5),
            Some(std::time::Duration::from_secs(5))
        );
        assert_eq!(
            retry_after(&s, 9, 0.5),
            Some(std::time::Duration::from_secs(86_400))
        );
        assert_eq!(retry_after(&s, 10, 0.5), None);
        let low = retry_after(&s, 2, 0.0).expect("low");
        let high = retry_after(&s, 2, 0.999).expect("high");
        assert!(
            low >= std::time::Duration::from_secs(270)
                && high <= std::time::Duration::from_secs(330)
        );
        assert!(low < high);
        let total: u64 = s.iter().sum();
        assert!(
            (2 * 86_400..4 * 86_400).contains(&total),
            "about three days: {total}"
        );
    }

    #[test]
    fn answers_decide_the_delivery() {
        assert_eq!(Outcome::of_status(204), Outcome::Delivered);
        assert_eq!(Outcome::of_status(410), Outcome::Gone);
        for s in [301, 400, 404, 429, 500, 503] {
            assert_eq!(Outcome::of_status(s), Outcome::Failed, "{s}");
        }
    }

    #[test]
    fn types_are_kinds_of_record() {
        assert_eq!(
            change::kinds(&["mentorship, volunteer".into(), "mentorship".into()]),
            Ok(vec![EntityKind::Mentorship, EntityKind::Volunteer])
        );
        assert!(change::kinds(&["audit_event".into()]).is_err());
        let w = Webhook::parse(
            WebhookInput {
                url: "ftp://x".into(),
                types: vec!["nope".into()],
                description: None,
            },
            STRICT,
        )
        .expect_err("invalid");
        assert!(w.has("url") && w.has("types"));
    }
}
