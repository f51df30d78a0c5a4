//! Client-side throttling with client-go's semantics (`util/flowcontrol`): a token bucket that
//! starts full with `burst` tokens and refills at `qps` per second; every request takes one
//! token, waiting if none is left. `qps < 0` disables throttling. A wait longer than 50 ms is
//! logged at debug level, longer than a second as a warning naming the request, like
//! client-go's "Waited for ... due to client-side throttling" message.
//!
//! The bucket is the `governor` crate's GCRA limiter, which is a token bucket in its
//! behaviour: `burst` requests at once, then one every `1/qps` seconds.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use governor::clock::DefaultClock;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter as Gcra};

/// A limiter requests pass before they are sent. Implement it to plug in your own (client-go's
/// `flowcontrol.RateLimiter`); [`TokenBucket`] is the default.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until the next request may go.
    fn acquire(&self) -> BoxFuture<'_, ()>;
}

/// A token bucket of `qps` and `burst`.
pub struct TokenBucket {
    qps: f32,
    burst: u32,
    gcra: Gcra<NotKeyed, InMemoryState, DefaultClock>,
}

impl fmt::Debug for TokenBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBucket")
            .field("qps", &self.qps)
            .field("burst", &self.burst)
            .finish()
    }
}

impl TokenBucket {
    /// A bucket refilling at `qps` tokens per second and holding at most `burst` (at least 1).
    /// `None` when `qps` is not positive (throttling disabled, as client-go does for QPS < 0).
    pub fn new(qps: f32, burst: u32) -> Option<Self> {
        if qps.is_nan() || qps <= 0.0 || qps.is_infinite() {
            return None;
        }
        let period = Duration::from_secs_f64(1.0 / f64::from(qps));
        let burst_nz = NonZeroU32::new(burst.max(1))?;
        let quota = Quota::with_period(period)?.allow_burst(burst_nz);
        Some(TokenBucket {
            qps,
            burst,
            gcra: Gcra::direct(quota),
        })
    }
}

impl RateLimiter for TokenBucket {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.gcra.until_ready())
    }
}

/// The limiter for `qps`/`burst` (client-go's defaults when `qps` is 0), or `None` when
/// throttling is disabled.
pub fn limiter_for(qps: f32, burst: u32) -> Option<Arc<dyn RateLimiter>> {
    let (qps, burst) = if qps == 0.0 {
        (
            super::DEFAULT_QPS,
            if burst == 0 {
                super::DEFAULT_BURST
            } else {
                burst
            },
        )
    } else {
        (qps, burst)
    };
    TokenBucket::new(qps, burst).map(|b| Arc::new(b) as Arc<dyn RateLimiter>)
}

/// Waits for `limiter`, logging long waits for `what` (e.g. `GET /api/v1/pods`); returns the
/// time waited.
pub async fn throttle(limiter: Option<&Arc<dyn RateLimiter>>, what: &str) -> Duration {
    let Some(limiter) = limiter else {
        return Duration::ZERO;
    };
    let start = Instant::now();
    limiter.acquire().await;
    let waited = start.elapsed();
    if waited > Duration::from_secs(1) {
        tracing::warn!(waited = ?waited, request = %what, "waited due to client-side throttling, not priority and fairness");
    } else if waited > Duration::from_millis(50) {
        tracing::debug!(waited = ?waited, request = %what, "waited due to client-side throttling");
    }
    waited
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_positive_qps_disables_and_zero_means_defaults() {
        assert!(TokenBucket::new(-1.0, 10).is_none());
        assert!(TokenBucket::new(f32::NAN, 10).is_none());
        assert!(limiter_for(-1.0, 10).is_none());
        let default = limiter_for(0.0, 0).expect("defaults");
        assert!(
            format!("{default:?}").contains("qps: 5.0, burst: 10"),
            "{default:?}"
        );
    }

    #[tokio::test]
    async fn burst_goes_at_once_then_one_token_per_period() {
        let bucket = TokenBucket::new(10.0, 3).expect("bucket");
        let start = Instant::now();
        for _ in 0..3 {
            bucket.acquire().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "the burst must not wait"
        );
        // Two more: one token per 100 ms. Only a lower bound is asserted; a loaded machine
        // may be slower, never faster.
        bucket.acquire().await;
        bucket.acquire().await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
    }
}
