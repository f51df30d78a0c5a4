//! [`RateLimitedQueue`], client-go's `workqueue.TypedRateLimitingInterface`: a
//! [`DelayingQueue`] whose retries wait as a [`RateLimiter`] says.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use super::delaying::DelayingQueue;
use super::queue::QueueConfig;
use super::rate_limiter::RateLimiter;

/// A [`DelayingQueue`] with a [`RateLimiter`] for retries: a worker that failed on an item
/// calls [`add_rate_limited`](Self::add_rate_limited), and [`forget`](Self::forget) once the
/// item succeeded (or is given up), so its next failure starts from the shortest wait again.
/// `forget` only resets the limiter: [`done`](Self::done) must still be called.
///
/// Cheap to clone; every clone is the same queue.
///
/// ```no_run
/// # async fn reconcile(_key: &str) -> Result<(), std::io::Error> { Ok(()) }
/// # async fn demo() {
/// use kubeclient::workqueue::{RateLimitedQueue, default_controller_rate_limiter};
///
/// let queue = RateLimitedQueue::new(default_controller_rate_limiter::<String>());
/// queue.add("default/web".to_string());
/// while let Some(key) = queue.get().await {
///     match reconcile(&key).await {
///         Ok(()) => queue.forget(&key),
///         Err(_) if queue.num_requeues(&key) < 5 => queue.add_rate_limited(key.clone()),
///         Err(_) => queue.forget(&key),
///     }
///     queue.done(&key);
/// }
/// # }
/// ```
pub struct RateLimitedQueue<T> {
    queue: DelayingQueue<T>,
    limiter: Arc<dyn RateLimiter<T>>,
}

impl<T> Clone for RateLimitedQueue<T> {
    fn clone(&self) -> Self {
        RateLimitedQueue {
            queue: self.queue.clone(),
            limiter: Arc::clone(&self.limiter),
        }
    }
}

impl<T> fmt::Debug for RateLimitedQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RateLimitedQueue")
            .field(&self.queue)
            .finish()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> RateLimitedQueue<T> {
    /// An unnamed queue without metrics whose retries wait as `limiter` says.
    pub fn new(limiter: impl RateLimiter<T> + 'static) -> Self {
        Self::with_config(limiter, QueueConfig::new())
    }

    /// A queue named and measured as `config` says whose retries wait as `limiter` says.
    pub fn with_config(limiter: impl RateLimiter<T> + 'static, config: QueueConfig) -> Self {
        RateLimitedQueue {
            queue: DelayingQueue::with_config(config),
            limiter: Arc::new(limiter),
        }
    }

    /// Adds `item` after the wait the rate limiter gives it (which counts a requeue of it).
    pub fn add_rate_limited(&self, item: T) {
        let delay = self.limiter.when(&item);
        self.queue.add_after(item, delay);
    }

    /// Makes the rate limiter stop tracking `item`. Call [`done`](Self::done) as well.
    pub fn forget(&self, item: &T) {
        self.limiter.forget(item);
    }

    /// How many times `item` was requeued through
    /// [`add_rate_limited`](Self::add_rate_limited) since it was last forgotten.
    pub fn num_requeues(&self, item: &T) -> u32 {
        self.limiter.num_requeues(item)
    }

    /// See [`DelayingQueue::add_after`].
    pub fn add_after(&self, item: T, delay: Duration) {
        self.queue.add_after(item, delay);
    }

    /// See [`Queue::add`](super::Queue::add).
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// See [`Queue::get`](super::Queue::get); also wakes when a delayed item comes due.
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// See [`Queue::done`](super::Queue::done).
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// See [`Queue::len`](super::Queue::len); delayed items count once they are due.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// See [`Queue::is_empty`](super::Queue::is_empty).
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// See [`Queue::shut_down`](super::Queue::shut_down); items still waiting are dropped.
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// See [`Queue::shut_down_with_drain`](super::Queue::shut_down_with_drain); items still
    /// waiting are dropped.
    pub async fn shut_down_with_drain(&self) {
        self.queue.shut_down_with_drain().await;
    }

    /// See [`Queue::is_shutting_down`](super::Queue::is_shutting_down).
    pub fn is_shutting_down(&self) -> bool {
        self.queue.is_shutting_down()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workqueue::{ItemExponentialFailureRateLimiter, default_controller_rate_limiter};
    use tokio::time::Instant;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn retries_back_off_and_forget_resets() {
        let q = RateLimitedQueue::new(ItemExponentialFailureRateLimiter::new(
            10 * MS,
            Duration::from_secs(1),
        ));
        let t0 = Instant::now();
        let mut waits = Vec::new();
        q.add("x");
        for _ in 0..4 {
            let start = Instant::now();
            let item = q.get().await.expect("an item");
            waits.push(Instant::now() - start);
            q.add_rate_limited(item);
            q.done(&item);
        }
        assert_eq!(waits, vec![Duration::ZERO, 10 * MS, 20 * MS, 40 * MS]);
        assert_eq!(q.num_requeues(&"x"), 4);
        assert_eq!(q.get().await, Some("x"));
        assert_eq!(Instant::now() - t0, 150 * MS, "10 + 20 + 40 + 80 ms");
        q.forget(&"x");
        assert_eq!(q.num_requeues(&"x"), 0);
        q.add_rate_limited("x");
        q.done(&"x");
        let start = Instant::now();
        assert_eq!(q.get().await, Some("x"));
        assert_eq!(Instant::now() - start, 10 * MS, "back to the base delay");
    }

    #[tokio::test(start_paused = true)]
    async fn default_limiter_spreads_retries_past_the_burst() {
        let q = RateLimitedQueue::new(default_controller_rate_limiter::<u32>());
        let t0 = Instant::now();
        for i in 0..102 {
            q.add_rate_limited(i);
        }
        let mut last = Duration::ZERO;
        for i in 0..102 {
            assert_eq!(q.get().await, Some(i));
            last = Instant::now() - t0;
        }
        // 100 items come after 5 ms; item 100 after 100 ms, item 101 after 200 ms.
        assert_eq!(last, 200 * MS);
        assert_eq!(q.num_requeues(&0), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_ignores_rate_limited_adds() {
        let q = RateLimitedQueue::new(default_controller_rate_limiter::<&str>());
        q.shut_down();
        q.add_rate_limited("x");
        assert!(q.is_shutting_down());
        assert_eq!(q.get().await, None);
    }
}
