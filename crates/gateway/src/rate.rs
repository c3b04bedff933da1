//! Rate limits: token buckets per client address, per token subject, and a smaller one per
//! address for failed authentication. A request costs one token; statistics and imports
//! cost more, by their size. In-process: each replica counts on its own (README).

use crate::config::RateLimitConfig;
use crate::error::{ApiError, Code};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The error of a rate limit: which budget, and when to come back.
pub fn rate_limited(wait: std::time::Duration, whom: &str) -> ApiError {
    let secs = wait.as_secs().max(1);
    ApiError {
        code: Code::RateLimited,
        message: format!("too many requests {whom}; retry in {secs} seconds"),
        fields: Vec::new(),
        retry_after: Some(secs),
    }
}

/// Which budget a charge is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Address,
    Subject,
    AuthFailure,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets beyond this many are pruned (the full ones first): an attacker with many
/// addresses or subjects cannot grow the table without bound.
const MAX_BUCKETS: usize = 100_000;

pub struct Limiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(Class, String), Bucket>>,
}

/// Where a request's extra cost is charged: its subject's bucket, or its address's for an
/// anonymous caller. Carried in the request (REST extensions, GraphQL data).
#[derive(Clone)]
pub struct Charge {
    pub limiter: std::sync::Arc<Limiter>,
    pub class: Class,
    pub key: String,
}

impl Charge {
    /// Takes `cost` tokens, or says when to come back.
    pub fn take(&self, cost: f64) -> Result<(), Duration> {
        self.limiter.take(self.class, &self.key, cost)
    }

    /// Charges an import of `rows` rows (`rate_limit.import_rows_per_token`).
    pub fn take_rows(&self, rows: usize) -> Result<(), Duration> {
        let per = self.limiter.config.import_rows_per_token.max(0.001);
        self.take((rows as f64 / per).max(1.0))
    }
}

impl Limiter {
    pub fn new(config: RateLimitConfig) -> Limiter {
        Limiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn rate(&self, class: Class) -> (f64, f64) {
        let c = &self.config;
        match class {
            Class::Address => (c.per_address_per_second, c.address_burst),
            Class::Subject => (c.per_subject_per_second, c.subject_burst),
            Class::AuthFailure => (c.auth_failures_per_minute / 60.0, c.auth_failure_burst),
        }
    }

    /// Takes `cost` tokens from the bucket of `key`, or returns how long until they are
    /// there. A cost above the burst (a large import) is taken once the bucket is full (but
    /// for the one token the request itself took) and leaves it in debt: the caller's next request waits until the debt is paid at the
    /// sustained rate, so the average holds and no request is refused for ever.
    pub fn take(&self, class: Class, key: &str, cost: f64) -> Result<(), Duration> {
        if !self.config.enabled {
            return Ok(());
        }
        let (rate, burst) = self.rate(class);
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|(cl, _), b| {
                let (r, burst) = self.rate(*cl);
                b.tokens + now.duration_since(b.at).as_secs_f64() * r < burst
            });
            if buckets.len() >= MAX_BUCKETS {
                buckets.clear();
            }
        }
        let b = buckets.entry((class, key.to_owned())).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        // Full but for the request's own token, which every request has taken already.
        let full = (burst - 1.0).max(0.0);
        if b.tokens >= cost.min(full) {
            b.tokens -= cost;
            Ok(())
        } else {
            let missing = cost.min(full) - b.tokens;
            Err(Duration::from_secs_f64((missing / rate).max(1.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RateLimitConfig {
        RateLimitConfig {
            per_address_per_second: 10.0,
            address_burst: 5.0,
            auth_failures_per_minute: 60.0,
            auth_failure_burst: 2.0,
            ..RateLimitConfig::default()
        }
    }

    #[test]
    fn a_bucket_empties_and_refills() {
        let l = Limiter::new(config());
        for _ in 0..5 {
            assert!(l.take(Class::Address, "a", 1.0).is_ok());
        }
        let wait = l.take(Class::Address, "a", 1.0).expect_err("empty");
        assert!(wait >= Duration::from_secs(1));
        // Another address has its own bucket.
        assert!(l.take(Class::Address, "b", 1.0).is_ok());
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.take(Class::Address, "a", 1.0).is_ok(), "refilled");
        // Failed authentication has its own, smaller budget.
        assert!(l.take(Class::AuthFailure, "a", 1.0).is_ok());
        assert!(l.take(Class::AuthFailure, "a", 1.0).is_ok());
        assert!(l.take(Class::AuthFailure, "a", 1.0).is_err());
    }

    #[test]
    fn a_cost_above_the_burst_waits_for_a_full_bucket_and_leaves_a_debt() {
        let l = Limiter::new(config());
        // Burst 5, 10 per second: a request's own token, then 20 from the bucket that was
        // full …
        assert!(l.take(Class::Address, "a", 1.0).is_ok());
        assert!(l.take(Class::Address, "a", 20.0).is_ok());
        // … and the next request waits until the debt of 16 is paid (1.6 s, and more).
        let wait = l.take(Class::Address, "a", 1.0).expect_err("in debt");
        assert!(wait >= Duration::from_millis(1600), "{wait:?}");
        // Not from a bucket that is not full: it waits for the burst to refill.
        assert!(l.take(Class::Address, "b", 1.0).is_ok());
        assert!(l.take(Class::Address, "b", 1.0).is_ok());
        assert!(l.take(Class::Address, "b", 20.0).is_err());
    }

    #[test]
    fn disabled_takes_nothing() {
        let off = Limiter::new(RateLimitConfig {
            enabled: false,
            ..config()
        });
        for _ in 0..100 {
            assert!(off.take(Class::Address, "a", 10.0).is_ok());
        }
    }
}
