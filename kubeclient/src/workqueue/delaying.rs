//! [`DelayingQueue`], client-go's `workqueue.TypedDelayingInterface`: a [`Queue`] that can also
//! add an item once a delay has passed, so failed items are retried later instead of in a hot
//! loop.

use std::fmt;
use std::hash::Hash;
use std::time::Duration;

use super::queue::{Queue, QueueConfig};

/// A [`Queue`] with [`add_after`](Self::add_after). Delays run on `tokio::time`; no task is
/// spawned for them: idle [`get`](Self::get) calls sleep until the earliest ready time, and
/// every queue call first moves the items that have come due into the queue. Items still
/// waiting when the queue shuts down are dropped.
///
/// Cheap to clone; every clone is the same queue.
pub struct DelayingQueue<T> {
    queue: Queue<T>,
}

impl<T> Clone for DelayingQueue<T> {
    fn clone(&self) -> Self {
        DelayingQueue {
            queue: self.queue.clone(),
        }
    }
}

impl<T> fmt::Debug for DelayingQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DelayingQueue").field(&self.queue).finish()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> Default for DelayingQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Eq + Hash + Send + 'static> DelayingQueue<T> {
    /// An unnamed delaying queue without metrics.
    pub fn new() -> Self {
        Self::with_config(QueueConfig::new())
    }

    /// A delaying queue named and measured as `config` says.
    pub fn with_config(config: QueueConfig) -> Self {
        DelayingQueue {
            queue: Queue::with_config(config),
        }
    }

    /// Adds `item` once `delay` has passed; a zero delay adds it now. If the item is already
    /// waiting, the earlier of the two ready times is kept. Does nothing once the queue is
    /// shutting down. Counts as a retry in the metrics (as client-go's `AddAfter` does).
    pub fn add_after(&self, item: T, delay: Duration) {
        self.queue.shared.add_after(item, delay);
    }

    /// See [`Queue::add`].
    pub fn add(&self, item: T) {
        self.queue.add(item);
    }

    /// See [`Queue::get`]; also wakes when a delayed item comes due.
    pub async fn get(&self) -> Option<T> {
        self.queue.get().await
    }

    /// See [`Queue::done`].
    pub fn done(&self, item: &T) {
        self.queue.done(item);
    }

    /// See [`Queue::len`]; delayed items count once they are due.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// See [`Queue::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// See [`Queue::shut_down`]; items still waiting for their delay are dropped.
    pub fn shut_down(&self) {
        self.queue.shut_down();
    }

    /// See [`Queue::shut_down_with_drain`]; items still waiting for their delay are dropped.
    pub async fn shut_down_with_drain(&self) {
        self.queue.shut_down_with_drain().await;
    }

    /// See [`Queue::is_shutting_down`].
    pub fn is_shutting_down(&self) -> bool {
        self.queue.is_shutting_down()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use tokio::time::{Instant, advance, timeout};

    const MS: Duration = Duration::from_millis(1);

    /// Polls `fut` once (after letting other tasks run) and says whether it was ready.
    async fn ready_now<F: Future>(fut: F) -> Option<F::Output> {
        tokio::task::yield_now().await;
        timeout(Duration::ZERO, fut).await.ok()
    }

    #[tokio::test(start_paused = true)]
    async fn add_after_hands_out_when_due_in_ready_time_order() {
        let q = DelayingQueue::new();
        let t0 = Instant::now();
        q.add_after("slow", 300 * MS);
        q.add_after("fast", 100 * MS);
        q.add_after("mid", 200 * MS);
        assert_eq!(q.len(), 0, "nothing is due yet");
        let mut seen = Vec::new();
        for _ in 0..3 {
            let item = q.get().await.expect("an item");
            seen.push((item, Instant::now() - t0));
            q.done(&item);
        }
        assert_eq!(
            seen,
            vec![("fast", 100 * MS), ("mid", 200 * MS), ("slow", 300 * MS)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn not_handed_out_before_its_time() {
        let q = DelayingQueue::new();
        q.add_after("x", 50 * MS);
        advance(49 * MS).await;
        assert_eq!(q.len(), 0);
        assert_eq!(ready_now(q.get()).await, None);
        advance(MS).await;
        assert_eq!(q.len(), 1);
        assert_eq!(ready_now(q.get()).await, Some(Some("x")));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_delay_adds_now() {
        let q = DelayingQueue::new();
        q.add_after("now", Duration::ZERO);
        assert_eq!(q.len(), 1);
        assert_eq!(ready_now(q.get()).await, Some(Some("now")));
    }

    #[tokio::test(start_paused = true)]
    async fn the_earlier_ready_time_wins() {
        let q = DelayingQueue::new();
        let t0 = Instant::now();
        q.add_after("x", 500 * MS);
        q.add_after("x", 100 * MS);
        q.add_after("x", 900 * MS);
        assert_eq!(q.get().await, Some("x"));
        assert_eq!(Instant::now() - t0, 100 * MS);
        q.done(&"x");
        advance(Duration::from_secs(2)).await;
        assert_eq!(q.len(), 0, "the later ready times were merged, not kept");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_getter_wakes_for_a_newly_added_earlier_item() {
        let q = DelayingQueue::new();
        let t0 = Instant::now();
        q.add_after("late", Duration::from_secs(10));
        let getter = tokio::spawn({
            let q = q.clone();
            async move { q.get().await }
        });
        tokio::task::yield_now().await;
        q.add_after("early", 20 * MS);
        assert_eq!(getter.await.expect("getter"), Some("early"));
        assert_eq!(Instant::now() - t0, 20 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn a_due_item_keeps_its_place_before_later_adds() {
        let q = DelayingQueue::new();
        q.add_after("delayed", 10 * MS);
        advance(20 * MS).await;
        q.add("direct");
        assert_eq!(q.get().await, Some("delayed"));
        assert_eq!(q.get().await, Some("direct"));
    }

    #[tokio::test(start_paused = true)]
    async fn delayed_item_is_deduplicated_with_a_queued_one() {
        let q = DelayingQueue::new();
        q.add("x");
        q.add_after("x", 10 * MS);
        advance(20 * MS).await;
        assert_eq!(q.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_drops_waiting_items_and_ignores_new_ones() {
        let q = DelayingQueue::new();
        q.add_after("waiting", 10 * MS);
        q.shut_down();
        q.add_after("after", Duration::ZERO);
        advance(Duration::from_secs(1)).await;
        assert_eq!(q.len(), 0);
        assert_eq!(ready_now(q.get()).await, Some(None));
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_delay_does_not_panic() {
        let q = DelayingQueue::new();
        q.add_after("never", Duration::MAX);
        q.add_after("soon", MS);
        assert_eq!(q.get().await, Some("soon"));
    }
}
