//! Rate limiters for [`RateLimitedQueue`](super::RateLimitedQueue), client-go's
//! `workqueue.TypedRateLimiter` and its implementations: they decide how long an item waits
//! before it is retried.
//!
//! - [`ItemExponentialFailureRateLimiter`]: `base * 2^failures` per item, capped at `max`.
//! - [`ItemFastSlowRateLimiter`]: `fast` for the first attempts of an item, then `slow`.
//! - [`BucketRateLimiter`]: one token bucket for all items (see its own module).
//! - [`MaxOfRateLimiter`]: the longest wait any of several limiters asks for.
//! - [`default_controller_rate_limiter`]: client-go's `DefaultTypedControllerRateLimiter`,
//!   the max of per-item exponential 5 ms → 1000 s and a 10 qps / burst 100 bucket.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::bucket::BucketRateLimiter;

/// Decides how long an item waits before it is queued again.
pub trait RateLimiter<T>: Send + Sync {
    /// How long `item` should wait now; counts as one more requeue of it.
    fn when(&self, item: &T) -> Duration;

    /// Stops tracking `item` (it succeeded, or will not be retried): its next wait starts over.
    fn forget(&self, item: &T);

    /// How many times `item` was requeued since it was last forgotten.
    fn num_requeues(&self, item: &T) -> u32;
}

/// Failure counts per item, behind a lock.
struct Failures<T>(Mutex<HashMap<T, u32>>);

impl<T: Eq + Hash> Failures<T> {
    fn new() -> Self {
        Failures(Mutex::new(HashMap::new()))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<T, u32>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one more failure of `item`; returns the count before it.
    fn record(&self, item: &T) -> u32
    where
        T: Clone,
    {
        let mut failures = self.lock();
        let count = failures.entry(item.clone()).or_insert(0);
        let before = *count;
        *count = count.saturating_add(1);
        before
    }

    fn count(&self, item: &T) -> u32 {
        self.lock().get(item).copied().unwrap_or(0)
    }

    fn forget(&self, item: &T) {
        self.lock().remove(item);
    }
}

/// Waits `base * 2^n` for the `n`th requeue of an item (counting from 0), never more than
/// `max` (client-go's `ItemExponentialFailureRateLimiter`). Stopping retries is up to the
/// caller: see [`RateLimiter::num_requeues`] and [`RateLimiter::forget`].
pub struct ItemExponentialFailureRateLimiter<T> {
    failures: Failures<T>,
    base: Duration,
    max: Duration,
}

impl<T> fmt::Debug for ItemExponentialFailureRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemExponentialFailureRateLimiter")
            .field("base", &self.base)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<T: Eq + Hash> ItemExponentialFailureRateLimiter<T> {
    /// Doubles from `base` up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        ItemExponentialFailureRateLimiter {
            failures: Failures::new(),
            base,
            max,
        }
    }

    /// `base * 2^exponent`, capped at `max` (also when the product does not fit).
    fn backoff(&self, exponent: u32) -> Duration {
        let base = self.base.as_nanos();
        if base == 0 {
            return Duration::ZERO;
        }
        let nanos = 1u128
            .checked_shl(exponent)
            .and_then(|factor| base.checked_mul(factor));
        match nanos {
            Some(nanos) if nanos < self.max.as_nanos() => {
                // Below `max`, so the whole seconds fit in a u64.
                let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
                let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
                Duration::new(secs, sub)
            }
            _ => self.max,
        }
    }
}

impl<T: Clone + Eq + Hash + Send> RateLimiter<T> for ItemExponentialFailureRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        self.backoff(self.failures.record(item))
    }

    fn forget(&self, item: &T) {
        self.failures.forget(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.failures.count(item)
    }
}

/// Waits `fast` for the first `max_fast_attempts` requeues of an item, `slow` after that
/// (client-go's `ItemFastSlowRateLimiter`).
pub struct ItemFastSlowRateLimiter<T> {
    failures: Failures<T>,
    fast: Duration,
    slow: Duration,
    max_fast_attempts: u32,
}

impl<T> fmt::Debug for ItemFastSlowRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemFastSlowRateLimiter")
            .field("fast", &self.fast)
            .field("slow", &self.slow)
            .field("max_fast_attempts", &self.max_fast_attempts)
            .finish_non_exhaustive()
    }
}

impl<T: Eq + Hash> ItemFastSlowRateLimiter<T> {
    /// `fast` for the first `max_fast_attempts` requeues, then `slow`.
    pub fn new(fast: Duration, slow: Duration, max_fast_attempts: u32) -> Self {
        ItemFastSlowRateLimiter {
            failures: Failures::new(),
            fast,
            slow,
            max_fast_attempts,
        }
    }
}

impl<T: Clone + Eq + Hash + Send> RateLimiter<T> for ItemFastSlowRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        if self.failures.record(item) < self.max_fast_attempts {
            self.fast
        } else {
            self.slow
        }
    }

    fn forget(&self, item: &T) {
        self.failures.forget(item);
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.failures.count(item)
    }
}

/// Asks every limiter and waits the longest of their answers; requeues are the most any of
/// them counted, and forgetting forgets in all (client-go's `MaxOfRateLimiter`). With a
/// bucket among them the bucket's burst can appear exceeded, since items that another limiter
/// delays longer still took a token.
pub struct MaxOfRateLimiter<T> {
    limiters: Vec<Box<dyn RateLimiter<T>>>,
}

impl<T> fmt::Debug for MaxOfRateLimiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxOfRateLimiter")
            .field("limiters", &self.limiters.len())
            .finish()
    }
}

impl<T> MaxOfRateLimiter<T> {
    /// The max of `limiters` (none: never waits).
    pub fn new(limiters: Vec<Box<dyn RateLimiter<T>>>) -> Self {
        MaxOfRateLimiter { limiters }
    }
}

impl<T> RateLimiter<T> for MaxOfRateLimiter<T> {
    fn when(&self, item: &T) -> Duration {
        // Every limiter is asked (each counts the requeue), not just until the largest.
        self.limiters
            .iter()
            .map(|limiter| limiter.when(item))
            .fold(Duration::ZERO, Duration::max)
    }

    fn forget(&self, item: &T) {
        for limiter in &self.limiters {
            limiter.forget(item);
        }
    }

    fn num_requeues(&self, item: &T) -> u32 {
        self.limiters
            .iter()
            .map(|limiter| limiter.num_requeues(item))
            .max()
            .unwrap_or(0)
    }
}

/// Base delay of the per-item backoff in client-go's default controller limiter.
const DEFAULT_ITEM_BASE_DELAY: Duration = Duration::from_millis(5);
/// Cap of the per-item backoff in client-go's default controller limiter.
const DEFAULT_ITEM_MAX_DELAY: Duration = Duration::from_secs(1000);
/// Overall retry rate of client-go's default controller limiter (it limits retries only).
const DEFAULT_BUCKET_QPS: f64 = 10.0;
/// Overall retry burst of client-go's default controller limiter.
const DEFAULT_BUCKET_BURST: u32 = 100;

/// client-go's `DefaultTypedControllerRateLimiter`: the max of a per-item exponential backoff
/// from 5 ms to 1000 s and a 10 qps / burst 100 bucket shared by all items.
pub fn default_controller_rate_limiter<T>() -> MaxOfRateLimiter<T>
where
    T: Clone + Eq + Hash + Send + 'static,
{
    MaxOfRateLimiter::new(vec![
        Box::new(ItemExponentialFailureRateLimiter::new(
            DEFAULT_ITEM_BASE_DELAY,
            DEFAULT_ITEM_MAX_DELAY,
        )),
        Box::new(BucketRateLimiter::new(
            DEFAULT_BUCKET_QPS,
            DEFAULT_BUCKET_BURST,
        )),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn exponential_doubles_to_the_cap() {
        let limiter = ItemExponentialFailureRateLimiter::new(MS, Duration::from_secs(1));
        let waits: Vec<_> = (0..12).map(|_| limiter.when(&"a")).collect();
        let expected: Vec<_> = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 1000]
            .into_iter()
            .map(|ms| ms * MS)
            .collect();
        assert_eq!(waits, expected);
        assert_eq!(limiter.num_requeues(&"a"), 12);
        assert_eq!(limiter.when(&"b"), MS, "items are counted apart");
        assert_eq!(limiter.num_requeues(&"b"), 1);
    }

    #[test]
    fn exponential_forget_starts_over() {
        let limiter = ItemExponentialFailureRateLimiter::new(5 * MS, Duration::from_secs(1000));
        assert_eq!(limiter.when(&"a"), 5 * MS);
        assert_eq!(limiter.when(&"a"), 10 * MS);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), 5 * MS);
    }

    #[test]
    fn exponential_does_not_overflow() {
        let max = Duration::from_secs(1000);
        let limiter = ItemExponentialFailureRateLimiter::new(5 * MS, max);
        for _ in 0..200 {
            limiter.when(&"a");
        }
        assert_eq!(limiter.when(&"a"), max);
        let huge = ItemExponentialFailureRateLimiter::new(Duration::MAX, Duration::MAX);
        assert_eq!(huge.when(&"a"), Duration::MAX);
        assert_eq!(huge.when(&"a"), Duration::MAX);
        let zero = ItemExponentialFailureRateLimiter::new(Duration::ZERO, max);
        for _ in 0..200 {
            assert_eq!(zero.when(&"a"), Duration::ZERO);
        }
    }

    #[test]
    fn fast_then_slow() {
        let limiter = ItemFastSlowRateLimiter::new(5 * MS, 10 * MS, 3);
        let waits: Vec<_> = (0..5).map(|_| limiter.when(&"a")).collect();
        assert_eq!(waits, vec![5 * MS, 5 * MS, 5 * MS, 10 * MS, 10 * MS]);
        assert_eq!(limiter.num_requeues(&"a"), 5);
        assert_eq!(limiter.when(&"b"), 5 * MS);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), 5 * MS);
    }

    #[test]
    fn max_of_takes_the_longest_and_forgets_in_all() {
        let limiter: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(vec![
            Box::new(ItemExponentialFailureRateLimiter::new(
                MS,
                Duration::from_secs(1),
            )),
            Box::new(ItemFastSlowRateLimiter::new(5 * MS, 3 * MS, 2)),
        ]);
        // exponential: 1, 2, 4, 8; fast/slow: 5, 5, 3, 3
        let waits: Vec<_> = (0..4).map(|_| limiter.when(&"a")).collect();
        assert_eq!(waits, vec![5 * MS, 5 * MS, 4 * MS, 8 * MS]);
        assert_eq!(limiter.num_requeues(&"a"), 4);
        limiter.forget(&"a");
        assert_eq!(limiter.num_requeues(&"a"), 0);
        assert_eq!(limiter.when(&"a"), 5 * MS);
        let none: MaxOfRateLimiter<&str> = MaxOfRateLimiter::new(Vec::new());
        assert_eq!(none.when(&"a"), Duration::ZERO);
        assert_eq!(none.num_requeues(&"a"), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn default_controller_limiter_is_the_max_of_backoff_and_bucket() {
        let limiter = default_controller_rate_limiter::<String>();
        // Per item: 5 ms, 10 ms, 20 ms ... while the bucket's burst lasts.
        assert_eq!(limiter.when(&"a".to_string()), 5 * MS);
        assert_eq!(limiter.when(&"a".to_string()), 10 * MS);
        assert_eq!(limiter.when(&"a".to_string()), 20 * MS);
        // 97 more distinct items empty the bucket (100 tokens) at 5 ms each.
        for i in 0..97 {
            assert_eq!(limiter.when(&format!("item-{i}")), 5 * MS);
        }
        // Then the bucket's 100 ms spacing outweighs a first failure's 5 ms.
        assert_eq!(limiter.when(&"b".to_string()), 100 * MS);
        assert_eq!(limiter.when(&"c".to_string()), 200 * MS);
        assert_eq!(limiter.num_requeues(&"a".to_string()), 3);
        // The per-item cap is 1000 s.
        for _ in 0..40 {
            limiter.when(&"d".to_string());
        }
        assert_eq!(limiter.when(&"d".to_string()), Duration::from_secs(1000));
    }
}
