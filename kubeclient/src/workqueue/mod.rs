//! Work queues for controllers, client-go's `util/workqueue`: informer event handlers add object
//! keys, worker tasks take them one at a time, reconcile, and mark them done or retry them later.
//!
//! - [`Queue`] (client-go's `Typed`): FIFO with dedup — an item is queued at most once, and an
//!   item added while a worker processes it is queued again only after that worker's
//!   [`done`](Queue::done), so no two workers process the same item at once. After
//!   [`shut_down`](Queue::shut_down) adds are ignored and workers get what is still queued, then
//!   `None`; [`shut_down_with_drain`](Queue::shut_down_with_drain) also waits until every item
//!   handed out is done.
//! - [`DelayingQueue`] (`TypedDelayingInterface`): adds [`add_after`](DelayingQueue::add_after);
//!   an item waiting twice keeps the earlier ready time.
//! - [`RateLimitedQueue`] (`TypedRateLimitingInterface`): adds
//!   [`add_rate_limited`](RateLimitedQueue::add_rate_limited), [`forget`](RateLimitedQueue::forget)
//!   and [`num_requeues`](RateLimitedQueue::num_requeues) over a [`RateLimiter`].
//! - Rate limiters: [`ItemExponentialFailureRateLimiter`], [`ItemFastSlowRateLimiter`],
//!   [`BucketRateLimiter`], [`MaxOfRateLimiter`] and [`default_controller_rate_limiter`]
//!   (per-item 5 ms doubling to 1000 s, and 10 qps / burst 100 overall).
//! - Metrics: [`QueueMetrics`] hooks for depth, adds, queue latency, work duration, unfinished
//!   work and retries, given through [`QueueConfig`]; a queue without them measures nothing.
//!
//! Items are any `Clone + Eq + Hash + Send + 'static` value, typically a `"namespace/name"`
//! key. Queues are cheap handles: clone one per worker task. All waiting uses `tokio::time`,
//! so tests can run on a paused clock.

mod bucket;
mod delaying;
mod metrics;
mod queue;
mod rate_limited;
mod rate_limiter;
mod state;
mod waiting;

pub use bucket::BucketRateLimiter;
pub use delaying::DelayingQueue;
pub use metrics::QueueMetrics;
pub use queue::{Queue, QueueConfig};
pub use rate_limited::RateLimitedQueue;
pub use rate_limiter::{
    ItemExponentialFailureRateLimiter, ItemFastSlowRateLimiter, MaxOfRateLimiter, RateLimiter,
    default_controller_rate_limiter,
};
