//! Metrics hooks for work queues, the counterpart of client-go's `workqueue.MetricsProvider`.
//!
//! A queue built with [`QueueConfig::metrics`](super::QueueConfig::metrics) calls the hooks of
//! its [`QueueMetrics`] with the queue's name, so one recorder can export the gauges, counters
//! and histograms of every queue with the name as a label (client-go's metric names are
//! `workqueue_depth`, `workqueue_adds_total`, `workqueue_queue_duration_seconds`,
//! `workqueue_work_duration_seconds`, `workqueue_unfinished_work_seconds`,
//! `workqueue_longest_running_processor_seconds` and `workqueue_retries_total`).
//! A queue without metrics keeps no timestamps and calls nothing.
//!
//! When each hook fires, as in client-go:
//! - adds and depth: an item becomes queued (`add`, or a delayed item coming due) and was not
//!   queued already; depth counts the queued items including those added again while being
//!   processed, and goes down when `get` hands an item out;
//! - queue latency: at `get`, the time since the item was added (for a delayed item, since its
//!   ready time);
//! - work duration: at `done`, the time since `get` handed the item out;
//! - unfinished work: every 500 ms from the first `get` until shutdown, the summed and the
//!   longest time the items being processed have been out;
//! - retries: every `add_after` (so every `add_rate_limited`) on a queue not shutting down.
//!
//! Hooks run while the queue's lock is held: keep them quick and do not call the queue from
//! them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// How often the unfinished-work gauges are reported (client-go's
/// `defaultUnfinishedWorkUpdatePeriod`, 500 ms).
pub(crate) const UNFINISHED_WORK_UPDATE_PERIOD: Duration = Duration::from_millis(500);

/// Receives a queue's measurements; implement the hooks you export. Every hook has an empty
/// default body. `queue` is the name given in the queue's config.
pub trait QueueMetrics: Send + Sync {
    /// The number of queued items changed to `depth` (a gauge).
    fn set_depth(&self, queue: &str, depth: usize) {
        let _ = (queue, depth);
    }

    /// An item was queued (a counter).
    fn inc_adds(&self, queue: &str) {
        let _ = queue;
    }

    /// An item waited `latency` between being queued and being handed out by `get`
    /// (a histogram).
    fn observe_queue_latency(&self, queue: &str, latency: Duration) {
        let _ = (queue, latency);
    }

    /// An item was processed for `duration`, from `get` to `done` (a histogram).
    fn observe_work_duration(&self, queue: &str, duration: Duration) {
        let _ = (queue, duration);
    }

    /// The items being processed have been out for `total` together, the oldest for `longest`
    /// (two gauges; zero when nothing is being processed).
    fn set_unfinished_work(&self, queue: &str, total: Duration, longest: Duration) {
        let _ = (queue, total, longest);
    }

    /// An item was handed to `add_after` (a counter).
    fn inc_retries(&self, queue: &str) {
        let _ = queue;
    }
}

/// The bookkeeping behind the hooks of one queue: when each item was queued and when each
/// item being processed was handed out.
pub(crate) struct MetricsState<T> {
    name: Arc<str>,
    sink: Arc<dyn QueueMetrics>,
    depth: usize,
    queued_at: HashMap<T, Instant>,
    started_at: HashMap<T, Instant>,
}

impl<T: Eq + Hash + Clone> MetricsState<T> {
    pub(crate) fn new(name: Arc<str>, sink: Arc<dyn QueueMetrics>) -> Self {
        MetricsState {
            name,
            sink,
            depth: 0,
            queued_at: HashMap::new(),
            started_at: HashMap::new(),
        }
    }

    /// `item` became queued at `at`.
    pub(crate) fn queued(&mut self, item: &T, at: Instant) {
        self.sink.inc_adds(&self.name);
        self.depth += 1;
        self.sink.set_depth(&self.name, self.depth);
        self.queued_at.entry(item.clone()).or_insert(at);
    }

    /// `get` handed `item` out at `now`.
    pub(crate) fn started(&mut self, item: &T, now: Instant) {
        self.depth = self.depth.saturating_sub(1);
        self.sink.set_depth(&self.name, self.depth);
        self.started_at.insert(item.clone(), now);
        if let Some(at) = self.queued_at.remove(item) {
            self.sink
                .observe_queue_latency(&self.name, now.saturating_duration_since(at));
        }
    }

    /// `done` was called for `item` at `now`.
    pub(crate) fn finished(&mut self, item: &T, now: Instant) {
        if let Some(at) = self.started_at.remove(item) {
            self.sink
                .observe_work_duration(&self.name, now.saturating_duration_since(at));
        }
    }

    /// An `add_after` was accepted.
    pub(crate) fn retried(&self) {
        self.sink.inc_retries(&self.name);
    }

    /// Reports how long the items being processed have been out, as of `now`.
    pub(crate) fn report_unfinished_work(&self, now: Instant) {
        let mut total = Duration::ZERO;
        let mut longest = Duration::ZERO;
        for at in self.started_at.values() {
            let age = now.saturating_duration_since(*at);
            total = total.saturating_add(age);
            longest = longest.max(age);
        }
        self.sink.set_unfinished_work(&self.name, total, longest);
    }
}
