//! [`BucketRateLimiter`], client-go's `workqueue.TypedBucketRateLimiter`: one token bucket for
//! all items, answering like Go's `rate.Limiter.Reserve().Delay()`.
//!
//! Each call takes a token and says how long until that token exists: the bucket starts full
//! with `burst` tokens, refills at `qps` tokens per second up to `burst`, and may go into debt,
//! so with 10 qps / burst 100 the first 100 calls wait nothing and the following ones 100 ms,
//! 200 ms, 300 ms ... apart from the same instant.
//!
//! Written here rather than on `governor` (which `rest` uses to throttle requests): governor
//! answers "allowed now, or not until T" without taking the token in the second case, so it
//! cannot hand out future tokens the way `Reserve` does; and it reads its own clock, while
//! this bucket reads `tokio::time` so paused-clock tests drive it. The maths is a few lines.

use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::rate_limiter::RateLimiter;

/// A token bucket shared by all items (client-go's `BucketRateLimiter` over `rate.Limiter`).
/// It counts no requeues and forgets nothing.
///
/// Edge cases as Go's limiter: an infinite `qps` never waits; a `qps` of zero or less (or NaN)
/// hands out the `burst` tokens and then answers [`Duration::MAX`] without taking a token;
/// a `burst` of zero always answers [`Duration::MAX`].
pub struct BucketRateLimiter {
    qps: f64,
    burst: u32,
    state: Mutex<Bucket>,
}

struct Bucket {
    /// Tokens at `last`; negative when future tokens were handed out.
    tokens: f64,
    last: Instant,
}

impl fmt::Debug for BucketRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BucketRateLimiter")
            .field("qps", &self.qps)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl BucketRateLimiter {
    /// A full bucket of `burst` tokens refilling at `qps` per second.
    pub fn new(qps: f64, burst: u32) -> Self {
        BucketRateLimiter {
            qps,
            burst,
            state: Mutex::new(Bucket {
                tokens: f64::from(burst),
                last: Instant::now(),
            }),
        }
    }

    /// Takes a token; returns how long until it is available.
    fn reserve(&self) -> Duration {
        if self.qps == f64::INFINITY {
            return Duration::ZERO;
        }
        if self.burst == 0 {
            return Duration::MAX;
        }
        let now = Instant::now();
        let mut bucket = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let refills = self.qps > 0.0;
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        let refill = if refills { elapsed * self.qps } else { 0.0 };
        let tokens = (bucket.tokens + refill).min(f64::from(self.burst));
        if !refills && tokens < 1.0 {
            return Duration::MAX;
        }
        let tokens = tokens - 1.0;
        bucket.tokens = tokens;
        bucket.last = now;
        if tokens >= 0.0 {
            return Duration::ZERO;
        }
        // Like Go's durationFromTokens: nanoseconds computed in floating point, truncated.
        let nanos = -tokens / self.qps * 1e9;
        if nanos.is_finite() && nanos < u64::MAX as f64 {
            Duration::from_nanos(nanos as u64)
        } else {
            Duration::MAX
        }
    }
}

impl<T> RateLimiter<T> for BucketRateLimiter {
    fn when(&self, _item: &T) -> Duration {
        self.reserve()
    }

    fn forget(&self, _item: &T) {}

    fn num_requeues(&self, _item: &T) -> u32 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::advance;

    const MS: Duration = Duration::from_millis(1);

    fn when(limiter: &BucketRateLimiter) -> Duration {
        RateLimiter::<&str>::when(limiter, &"any")
    }

    #[tokio::test(start_paused = true)]
    async fn burst_at_once_then_spaced_by_the_rate() {
        let limiter = BucketRateLimiter::new(10.0, 100);
        for i in 0..100 {
            assert_eq!(
                when(&limiter),
                Duration::ZERO,
                "call {i} is within the burst"
            );
        }
        for k in 1..=20u32 {
            assert_eq!(when(&limiter), k * 100 * MS, "call {} after the burst", k);
        }
        assert_eq!(RateLimiter::<&str>::num_requeues(&limiter, &"any"), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn debt_is_repaid_as_time_passes() {
        let limiter = BucketRateLimiter::new(10.0, 2);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), 100 * MS);
        assert_eq!(when(&limiter), 200 * MS);
        advance(150 * MS).await;
        // 1.5 tokens of the 2 owed came back: the next token exists in 150 ms.
        assert_eq!(when(&limiter), 150 * MS);
        advance(Duration::from_secs(10)).await;
        // Refilled, but never beyond the burst.
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), Duration::ZERO);
        assert_eq!(when(&limiter), 100 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn edge_rates() {
        let unlimited = BucketRateLimiter::new(f64::INFINITY, 0);
        for _ in 0..1000 {
            assert_eq!(when(&unlimited), Duration::ZERO);
        }
        let no_refill = BucketRateLimiter::new(0.0, 2);
        assert_eq!(when(&no_refill), Duration::ZERO);
        assert_eq!(when(&no_refill), Duration::ZERO);
        assert_eq!(when(&no_refill), Duration::MAX);
        advance(Duration::from_secs(60)).await;
        assert_eq!(when(&no_refill), Duration::MAX);
        let no_burst = BucketRateLimiter::new(10.0, 0);
        assert_eq!(when(&no_burst), Duration::MAX);
        let nan = BucketRateLimiter::new(f64::NAN, 1);
        assert_eq!(when(&nan), Duration::ZERO);
        assert_eq!(when(&nan), Duration::MAX);
    }
}
