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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workqueue::{DelayingQueue, QueueConfig, RateLimitedQueue};
    use std::sync::Mutex;
    use tokio::time::{advance, sleep};

    const MS: Duration = Duration::from_millis(1);

    #[derive(Debug, Clone, PartialEq)]
    enum Event {
        Depth(usize),
        Add,
        Latency(Duration),
        Work(Duration),
        Unfinished(Duration, Duration),
        Retry,
    }

    /// Records every hook call with the queue name it got.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Event)>>);

    impl Recorder {
        fn push(&self, queue: &str, event: Event) {
            self.0
                .lock()
                .expect("recorder lock")
                .push((queue.to_string(), event));
        }

        /// The events since the last call, checking they all name `queue`.
        fn take(&self, queue: &str) -> Vec<Event> {
            let events = std::mem::take(&mut *self.0.lock().expect("recorder lock"));
            events
                .into_iter()
                .map(|(name, event)| {
                    assert_eq!(name, queue, "hook called with the wrong queue name");
                    event
                })
                .collect()
        }
    }

    impl QueueMetrics for Recorder {
        fn set_depth(&self, queue: &str, depth: usize) {
            self.push(queue, Event::Depth(depth));
        }
        fn inc_adds(&self, queue: &str) {
            self.push(queue, Event::Add);
        }
        fn observe_queue_latency(&self, queue: &str, latency: Duration) {
            self.push(queue, Event::Latency(latency));
        }
        fn observe_work_duration(&self, queue: &str, duration: Duration) {
            self.push(queue, Event::Work(duration));
        }
        fn set_unfinished_work(&self, queue: &str, total: Duration, longest: Duration) {
            self.push(queue, Event::Unfinished(total, longest));
        }
        fn inc_retries(&self, queue: &str) {
            self.push(queue, Event::Retry);
        }
    }

    fn measured() -> (DelayingQueue<&'static str>, Arc<Recorder>) {
        let recorder = Arc::new(Recorder::default());
        let config = QueueConfig::new().name("jobs").metrics(recorder.clone());
        (DelayingQueue::with_config(config), recorder)
    }

    #[tokio::test(start_paused = true)]
    async fn adds_depth_latency_and_work_duration() {
        use Event::*;
        let (q, rec) = measured();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(rec.take("jobs"), vec![Add, Depth(1), Add, Depth(2)]);

        advance(10 * MS).await;
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(rec.take("jobs"), vec![Depth(1), Latency(10 * MS)]);

        advance(5 * MS).await;
        q.add("a");
        assert_eq!(
            rec.take("jobs"),
            vec![Add, Depth(2)],
            "re-added while processed"
        );

        advance(20 * MS).await;
        q.done(&"a");
        assert_eq!(rec.take("jobs"), vec![Work(25 * MS)]);
        q.done(&"a");
        assert_eq!(rec.take("jobs"), vec![], "a second done measures nothing");

        assert_eq!(q.get().await, Some("b"));
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(
            rec.take("jobs"),
            vec![Depth(1), Latency(35 * MS), Depth(0), Latency(20 * MS)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_items_count_retries_and_wait_from_their_ready_time() {
        use Event::*;
        let (q, rec) = measured();
        q.add_after("x", 100 * MS);
        q.add_after("y", Duration::ZERO);
        assert_eq!(rec.take("jobs"), vec![Retry, Retry, Add, Depth(1)]);
        advance(300 * MS).await;
        assert_eq!(q.get().await, Some("y"));
        assert_eq!(q.get().await, Some("x"));
        assert_eq!(
            rec.take("jobs"),
            vec![
                // x came due at 100 ms: it is queued (behind y) before y is handed out.
                Add,
                Depth(2),
                Depth(1),
                Latency(300 * MS),
                Depth(0),
                Latency(200 * MS)
            ]
        );
        q.shut_down();
        rec.take("jobs");
        q.add_after("z", MS);
        q.add("z");
        assert_eq!(
            rec.take("jobs"),
            vec![],
            "nothing is counted after shutdown"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn add_rate_limited_counts_a_retry() {
        let recorder = Arc::new(Recorder::default());
        let config = QueueConfig::new().name("rl").metrics(recorder.clone());
        let q = RateLimitedQueue::with_config(
            crate::workqueue::default_controller_rate_limiter::<&str>(),
            config,
        );
        q.add_rate_limited("x");
        q.add_rate_limited("x");
        assert_eq!(recorder.take("rl"), vec![Event::Retry, Event::Retry]);
    }

    #[tokio::test(start_paused = true)]
    async fn unfinished_work_is_reported_every_500ms_until_shutdown() {
        use Event::*;
        let (q, rec) = measured();
        q.add("a");
        q.add("b");
        advance(10 * MS).await;
        assert_eq!(q.get().await, Some("a"));
        rec.take("jobs");
        sleep(200 * MS).await;
        assert_eq!(q.get().await, Some("b"));
        // Reports at 500 ms and 1000 ms after the first get.
        sleep(801 * MS).await;
        let reports: Vec<_> = rec
            .take("jobs")
            .into_iter()
            .filter(|e| matches!(e, Unfinished(..)))
            .collect();
        assert_eq!(
            reports,
            vec![
                Unfinished(800 * MS, 500 * MS),
                Unfinished(1800 * MS, 1000 * MS)
            ]
        );
        q.done(&"a");
        q.done(&"b");
        sleep(500 * MS).await;
        assert_eq!(
            rec.take("jobs"),
            vec![
                Work(1001 * MS),
                Work(801 * MS),
                Unfinished(Duration::ZERO, Duration::ZERO)
            ]
        );
        q.shut_down();
        sleep(2000 * MS).await;
        assert_eq!(rec.take("jobs"), vec![], "no reports after shutdown");
    }
}
