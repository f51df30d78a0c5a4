//! [`Queue`], client-go's `workqueue.Typed`: a FIFO of items that need processing, with dedup
//! and one-worker-per-item, shared by many worker tasks; and [`QueueConfig`].

use std::fmt;
use std::hash::Hash;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::metrics::{MetricsState, QueueMetrics, UNFINISHED_WORK_UPDATE_PERIOD};
use super::state::State;

/// Longer delays are cut to this (tokio's own far-future bound, about 30 years), so timer
/// arithmetic near the end of the clock's range cannot overflow.
const LONGEST_DELAY: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// How a queue is named and measured. Without metrics a queue keeps no timestamps.
#[derive(Clone, Default)]
#[must_use]
pub struct QueueConfig {
    name: String,
    metrics: Option<Arc<dyn QueueMetrics>>,
}

impl fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueConfig")
            .field("name", &self.name)
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

impl QueueConfig {
    /// An unnamed queue without metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// The queue's name, passed to every metrics hook.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Where the queue reports its measurements.
    pub fn metrics(mut self, metrics: Arc<dyn QueueMetrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }
}

/// What every handle of one queue shares.
pub(crate) struct Shared<T> {
    name: Arc<str>,
    state: Mutex<State<T>>,
    /// Wakes getters: an item was queued, the earliest ready time moved, or shutdown.
    item_ready: Notify,
    /// Wakes `shut_down_with_drain`: processing emptied, or a plain shutdown cancelled the drain.
    drained: Notify,
    /// Stops the unfinished-work reporter on shutdown.
    stopped: CancellationToken,
    reporter_started: AtomicBool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panicking metrics hook may poison the lock; the state itself stays consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Shared<T> {
    fn new(config: QueueConfig) -> Self {
        let name: Arc<str> = Arc::from(config.name);
        let metrics = config
            .metrics
            .map(|sink| MetricsState::new(Arc::clone(&name), sink));
        Shared {
            name,
            state: Mutex::new(State::new(metrics)),
            item_ready: Notify::new(),
            drained: Notify::new(),
            stopped: CancellationToken::new(),
            reporter_started: AtomicBool::new(false),
        }
    }

    pub(crate) fn add(&self, item: T) {
        let now = Instant::now();
        let pushed = {
            let mut state = self.lock();
            let promoted = state.promote_ready(now) > 0;
            let added = state.add(item, now);
            promoted || added
        };
        if pushed {
            self.item_ready.notify_one();
        }
    }

    /// Queues `item` once `delay` has passed (client-go's `AddAfter`).
    pub(crate) fn add_after(&self, item: T, delay: Duration) {
        let now = Instant::now();
        let (pushed, earlier_deadline) = {
            let mut state = self.lock();
            if state.shutting_down {
                return;
            }
            if let Some(metrics) = &state.metrics {
                metrics.retried();
            }
            let promoted = state.promote_ready(now) > 0;
            if delay.is_zero() {
                let added = state.add(item, now);
                (promoted || added, false)
            } else {
                let before = state.waiting.next_ready_at();
                // A ready time past what the clock can represent never comes: leave it out.
                if let Some(ready_at) = now.checked_add(delay.min(LONGEST_DELAY)) {
                    state.waiting.insert(item, ready_at);
                }
                (promoted, state.waiting.next_ready_at() != before)
            }
        };
        if pushed {
            self.item_ready.notify_one();
        }
        if earlier_deadline {
            // Idle getters sleep until the earliest ready time; let them set their timers anew.
            self.item_ready.notify_waiters();
        }
    }

    fn done(&self, item: &T) {
        let now = Instant::now();
        let (pushed, idle) = {
            let mut state = self.lock();
            let promoted = state.promote_ready(now) > 0;
            let done = state.done(item, now);
            (promoted || done.requeued, done.idle)
        };
        if pushed {
            self.item_ready.notify_one();
        }
        if idle {
            self.drained.notify_waiters();
        }
    }

    fn len(&self) -> usize {
        let now = Instant::now();
        let mut state = self.lock();
        state.promote_ready(now);
        state.len()
    }

    fn is_shutting_down(&self) -> bool {
        self.lock().shutting_down
    }

    fn shut_down(&self, drain: bool) {
        let now = Instant::now();
        self.lock().shut_down(drain, now);
        self.stopped.cancel();
        self.item_ready.notify_waiters();
        self.drained.notify_waiters();
    }

    async fn wait_drained(&self) {
        loop {
            let mut notified = pin!(self.drained.notified());
            notified.as_mut().enable();
            {
                let state = self.lock();
                if state.idle() || !state.drain {
                    return;
                }
            }
            notified.await;
        }
    }

    async fn get(self: &Arc<Self>) -> Option<T> {
        loop {
            let mut notified = pin!(self.item_ready.notified());
            notified.as_mut().enable();
            let next_ready_at = {
                let now = Instant::now();
                let mut state = self.lock();
                state.promote_ready(now);
                if let Some(item) = state.pop(now) {
                    let more = state.len() > 0;
                    let measured = state.metrics.is_some();
                    drop(state);
                    if more {
                        // Pass the wake-up on: another getter may be waiting for these.
                        self.item_ready.notify_one();
                    }
                    if measured {
                        self.start_unfinished_work_reporter();
                    }
                    return Some(item);
                }
                if state.shutting_down {
                    return None;
                }
                state.waiting.next_ready_at()
            };
            match next_ready_at {
                Some(at) => {
                    tokio::select! {
                        () = notified => {}
                        () = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Starts, once, the task reporting unfinished work every 500 ms until shutdown (client-go's
    /// `updateUnfinishedWorkLoop`). It holds the queue weakly: dropping every handle ends it too.
    fn start_unfinished_work_reporter(self: &Arc<Self>) {
        if self.reporter_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let shared: Weak<Self> = Arc::downgrade(self);
        let stopped = self.stopped.clone();
        runtime.spawn(async move {
            let start = Instant::now() + UNFINISHED_WORK_UPDATE_PERIOD;
            let mut ticker = tokio::time::interval_at(start, UNFINISHED_WORK_UPDATE_PERIOD);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stopped.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let now = Instant::now();
                let state = shared.lock();
                if state.shutting_down {
                    return;
                }
                if let Some(metrics) = &state.metrics {
                    metrics.report_unfinished_work(now);
                }
            }
        });
    }
}

/// A work queue (client-go's `workqueue.Typed`): items that need processing, handed to workers
/// in the order they were added, each item at most once at a time.
///
/// - Dedup: adding an item that is already queued does nothing.
/// - One worker per item: an item added while a worker processes it is queued again only when
///   that worker calls [`done`](Self::done), so it is processed again, but never concurrently.
/// - Shutdown: [`shut_down`](Self::shut_down) makes the queue ignore new items; workers keep
///   getting the items already queued, and `None` once it is empty.
///
/// The queue is a cheap handle: clone it for each worker task.
///
/// ```no_run
/// # async fn demo() {
/// use kubeclient::workqueue::Queue;
///
/// let queue = Queue::<String>::new();
/// queue.add("default/web".to_string());
/// let worker = {
///     let queue = queue.clone();
///     tokio::spawn(async move {
///         while let Some(key) = queue.get().await {
///             println!("reconcile {key}");
///             queue.done(&key);
///         }
///     })
/// };
/// queue.shut_down_with_drain().await;
/// # let _ = worker.await;
/// # }
/// ```
pub struct Queue<T> {
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Queue")
            .field("name", &self.shared.name)
            .field("len", &state.len())
            .field("waiting", &state.waiting.len())
            .field("shutting_down", &state.shutting_down)
            .finish()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Queue<T> {
    /// An unnamed queue without metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::new())
    }

    /// A queue named and measured as `config` says.
    pub fn with_config(config: QueueConfig) -> Self {
        Queue {
            shared: Arc::new(Shared::new(config)),
        }
    }

    /// Marks `item` as needing processing. Does nothing if it is already queued or the queue is
    /// shutting down; if a worker is processing it, it is queued again when that worker calls
    /// [`done`](Self::done).
    pub fn add(&self, item: T) {
        self.shared.add(item);
    }

    /// Waits for the next item and marks it as being processed; call [`done`](Self::done) with it
    /// afterwards. Returns `None` once the queue is shutting down and has nothing left to hand
    /// out: the worker should then stop.
    ///
    /// Cancel safe: an item is taken from the queue only when the call returns it.
    pub async fn get(&self) -> Option<T> {
        self.shared.get().await
    }

    /// Marks `item` as processed. If it was added again meanwhile, it is queued again now.
    /// Calling it for an item that is not being processed does nothing.
    pub fn done(&self, item: &T) {
        self.shared.done(item);
    }

    /// How many items are queued and ready to be handed out (not those being processed, nor
    /// those added again while processed, nor delayed items not yet due). For information only.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether no item is ready to be handed out.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops the queue: new items are ignored, workers get the items already queued and then
    /// `None`. Ends a [`shut_down_with_drain`](Self::shut_down_with_drain) that is waiting.
    pub fn shut_down(&self) {
        self.shared.shut_down(false);
    }

    /// Stops the queue like [`shut_down`](Self::shut_down), then waits until no item is being
    /// processed. Workers must call [`done`](Self::done) for every item they got, or this waits
    /// until a later `shut_down`. As in client-go it waits for the items being processed, not
    /// for queued items no worker has taken yet.
    pub async fn shut_down_with_drain(&self) {
        self.shared.shut_down(true);
        self.shared.wait_drained().await;
    }

    /// Whether [`shut_down`](Self::shut_down) or
    /// [`shut_down_with_drain`](Self::shut_down_with_drain) was called.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.is_shutting_down()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::timeout;

    /// Lets spawned tasks run, then polls `fut` once: `Some(output)` if it was ready.
    async fn ready_now<F: Future>(fut: F) -> Option<F::Output> {
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        timeout(Duration::ZERO, fut).await.ok()
    }

    #[tokio::test(start_paused = true)]
    async fn adding_an_item_three_times_hands_it_out_once() {
        let q = Queue::new();
        q.add("a");
        q.add("a");
        q.add("a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.get().await, Some("a"));
        assert!(q.is_empty());
        assert_eq!(ready_now(q.get()).await, None, "nothing else is queued");
    }

    #[tokio::test(start_paused = true)]
    async fn items_come_out_in_the_order_added() {
        let q = Queue::new();
        for i in 0..10 {
            q.add(i);
        }
        q.add(3);
        let mut out = Vec::new();
        while let Some(Some(i)) = ready_now(q.get()).await {
            out.push(i);
        }
        assert_eq!(out, (0..10).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn added_while_processing_comes_back_after_done_and_not_before() {
        let q = Queue::new();
        q.add("a");
        q.add("b");
        assert_eq!(q.get().await, Some("a"));
        q.add("a");
        assert_eq!(q.len(), 1, "only b is ready: a is being processed");
        assert_eq!(q.get().await, Some("b"));
        assert_eq!(
            ready_now(q.get()).await,
            None,
            "a second worker must not get a while the first processes it"
        );
        q.done(&"a");
        assert_eq!(ready_now(q.get()).await, Some(Some("a")));
        q.done(&"a");
        q.done(&"b");
        assert_eq!(ready_now(q.get()).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_getter_is_woken_by_done_of_a_re_added_item() {
        let q = Queue::new();
        q.add("a");
        assert_eq!(q.get().await, Some("a"));
        q.add("a");
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        q.done(&"a");
        assert_eq!(waiter.await.expect("waiter"), Some("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn every_waiting_getter_gets_an_item() {
        let q = Queue::new();
        let getters: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::task::yield_now().await;
        for i in 0..4 {
            q.add(i);
        }
        let mut got = HashSet::new();
        for getter in getters {
            got.insert(getter.await.expect("getter").expect("an item"));
        }
        assert_eq!(got, (0..4).collect());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_get_loses_nothing() {
        let q = Queue::new();
        assert_eq!(ready_now(q.get()).await, None, "cancelled while waiting");
        let waiter = tokio::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        tokio::task::yield_now().await;
        q.add("a");
        assert_eq!(waiter.await.expect("waiter"), Some("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn workers_never_process_one_item_at_the_same_time() {
        let q = Queue::new();
        let busy = Arc::new(Mutex::new(HashSet::new()));
        let processed = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (q, busy, processed) = (q.clone(), busy.clone(), processed.clone());
                tokio::spawn(async move {
                    while let Some(item) = q.get().await {
                        assert!(
                            busy.lock().expect("lock").insert(item),
                            "{item} is processed twice at once"
                        );
                        tokio::time::sleep(Duration::from_millis(7)).await;
                        busy.lock().expect("lock").remove(&item);
                        processed.fetch_add(1, Ordering::SeqCst);
                        q.done(&item);
                    }
                })
            })
            .collect();
        for round in 0..20 {
            for item in 0..3 {
                q.add(item);
            }
            tokio::time::sleep(Duration::from_millis(1 + round % 5)).await;
        }
        q.shut_down_with_drain().await;
        for worker in workers {
            worker.await.expect("worker");
        }
        assert!(busy.lock().expect("lock").is_empty());
        assert!(processed.load(Ordering::SeqCst) >= 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn threads_share_the_queue_without_losing_or_doubling_work() {
        let q = Queue::new();
        let busy = Arc::new(Mutex::new(HashSet::new()));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (q, busy) = (q.clone(), busy.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while let Some(item) = q.get().await {
                        assert!(
                            busy.lock().expect("lock").insert(item),
                            "{item} twice at once"
                        );
                        tokio::task::yield_now().await;
                        busy.lock().expect("lock").remove(&item);
                        seen.push(item);
                        q.done(&item);
                    }
                    seen
                })
            })
            .collect();
        for item in 0..500u32 {
            q.add(item);
            q.add(item % 50);
        }
        q.shut_down_with_drain().await;
        let mut seen = HashSet::new();
        for worker in workers {
            seen.extend(worker.await.expect("worker"));
        }
        assert_eq!(seen, (0..500).collect(), "every item was processed");
        assert!(q.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_wakes_waiting_getters_with_none() {
        let q: Queue<&str> = Queue::new();
        let getters: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        tokio::task::yield_now().await;
        q.shut_down();
        assert!(q.is_shutting_down());
        for getter in getters {
            assert_eq!(getter.await.expect("getter"), None);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn after_shutdown_queued_items_still_come_out_and_adds_are_ignored() {
        let q = Queue::new();
        q.add("a");
        q.add("b");
        q.shut_down();
        q.add("c");
        assert_eq!(q.len(), 2);
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(q.get().await, Some("b"));
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_with_drain_waits_for_every_item_handed_out() {
        let q = Queue::new();
        q.add("a");
        q.add("b");
        assert_eq!(q.get().await, Some("a"));
        assert_eq!(q.get().await, Some("b"));
        let drain = tokio::spawn({
            let q = q.clone();
            async move { q.shut_down_with_drain().await }
        });
        tokio::task::yield_now().await;
        assert!(q.is_shutting_down());
        q.add("c");
        assert_eq!(q.len(), 0, "adds are ignored while draining");
        q.done(&"a");
        tokio::task::yield_now().await;
        assert!(!drain.is_finished(), "b is still being processed");
        q.done(&"b");
        timeout(Duration::from_secs(1), drain)
            .await
            .expect("drain ends once everything is done")
            .expect("drain task");
        assert_eq!(q.get().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_with_drain_returns_at_once_when_nothing_is_processed() {
        let q: Queue<u8> = Queue::new();
        timeout(Duration::from_secs(1), q.shut_down_with_drain())
            .await
            .expect("nothing to wait for");
    }

    #[tokio::test(start_paused = true)]
    async fn shut_down_ends_a_waiting_drain() {
        let q = Queue::new();
        q.add("a");
        assert_eq!(q.get().await, Some("a"));
        let drain = tokio::spawn({
            let q = q.clone();
            async move { q.shut_down_with_drain().await }
        });
        tokio::task::yield_now().await;
        assert!(!drain.is_finished());
        q.shut_down();
        timeout(Duration::from_secs(1), drain)
            .await
            .expect("the drain stops waiting")
            .expect("drain task");
    }
}
