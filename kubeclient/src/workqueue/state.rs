//! The state a queue keeps under its lock, and the rules of client-go's `Typed` queue over it:
//! - `dirty`: every item that needs processing; an item is in it at most once (dedup);
//! - `fifo`: the order dirty items are handed out; holds exactly the dirty items that are not
//!   being processed;
//! - `processing`: items handed out by `get` and not yet `done`. An item added while it is
//!   processed goes into `dirty` only, and into `fifo` when `done` is called for it, so one item
//!   is never processed by two workers at once;
//! - `waiting`: items of a delaying queue before their ready time. They are moved into the
//!   queue by whichever queue call next sees the time has passed (every call does this first,
//!   and idle getters sleep until the earliest ready time), so the order matches client-go's,
//!   where a goroutine adds them at their ready time.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

use tokio::time::Instant;

use super::metrics::MetricsState;
use super::waiting::WaitingItems;

/// What `done` changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Done {
    /// The item had been added again while processed and is queued once more.
    pub(crate) requeued: bool,
    /// Nothing is being processed any more.
    pub(crate) idle: bool,
}

pub(crate) struct State<T> {
    fifo: VecDeque<T>,
    dirty: HashSet<T>,
    processing: HashSet<T>,
    pub(crate) waiting: WaitingItems<T>,
    pub(crate) shutting_down: bool,
    /// `shut_down_with_drain` is waiting for `processing` to empty.
    pub(crate) drain: bool,
    pub(crate) metrics: Option<MetricsState<T>>,
}

impl<T> State<T> {
    /// Number of items ready to be handed out.
    pub(crate) fn len(&self) -> usize {
        self.fifo.len()
    }

    /// Whether no item is being processed.
    pub(crate) fn idle(&self) -> bool {
        self.processing.is_empty()
    }
}

impl<T: Clone + Eq + Hash> State<T> {
    pub(crate) fn new(metrics: Option<MetricsState<T>>) -> Self {
        State {
            fifo: VecDeque::new(),
            dirty: HashSet::new(),
            processing: HashSet::new(),
            waiting: WaitingItems::default(),
            shutting_down: false,
            drain: false,
            metrics,
        }
    }

    /// Marks `item` as needing processing, as of `queued_at`. Returns whether it went into the
    /// FIFO (so a getter should be woken). Ignored once shutting down.
    pub(crate) fn add(&mut self, item: T, queued_at: Instant) -> bool {
        if self.shutting_down || self.dirty.contains(&item) {
            return false;
        }
        if let Some(metrics) = &mut self.metrics {
            metrics.queued(&item, queued_at);
        }
        if self.processing.contains(&item) {
            self.dirty.insert(item);
            return false;
        }
        self.dirty.insert(item.clone());
        self.fifo.push_back(item);
        true
    }

    /// Moves waiting items whose ready time is at or before `now` into the queue, each as
    /// queued at its ready time. Returns how many went into the FIFO.
    pub(crate) fn promote_ready(&mut self, now: Instant) -> usize {
        let mut pushed = 0;
        while let Some((item, ready_at)) = self.waiting.pop_ready(now) {
            if self.add(item, ready_at) {
                pushed += 1;
            }
        }
        pushed
    }

    /// Hands out the first queued item, now being processed.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<T> {
        let item = self.fifo.pop_front()?;
        self.dirty.remove(&item);
        if let Some(metrics) = &mut self.metrics {
            metrics.started(&item, now);
        }
        self.processing.insert(item.clone());
        Some(item)
    }

    /// Ends the processing of `item`. Calling it for an item not being processed changes
    /// nothing.
    pub(crate) fn done(&mut self, item: &T, now: Instant) -> Done {
        if !self.processing.remove(item) {
            return Done {
                requeued: false,
                idle: self.processing.is_empty(),
            };
        }
        if let Some(metrics) = &mut self.metrics {
            metrics.finished(item, now);
        }
        let requeued = self.dirty.contains(item);
        if requeued {
            self.fifo.push_back(item.clone());
        }
        Done {
            requeued,
            idle: self.processing.is_empty(),
        }
    }

    /// Stops accepting items: items already due move into the queue first, those still
    /// waiting are dropped.
    pub(crate) fn shut_down(&mut self, drain: bool, now: Instant) {
        if !self.shutting_down {
            self.promote_ready(now);
            self.waiting.clear();
        }
        self.shutting_down = true;
        self.drain = drain;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn state() -> State<&'static str> {
        State::new(None)
    }

    #[test]
    fn adding_twice_queues_once() {
        let now = Instant::now();
        let mut s = state();
        assert!(s.add("a", now));
        assert!(!s.add("a", now));
        assert_eq!(s.len(), 1);
        assert_eq!(s.pop(now), Some("a"));
        assert_eq!(s.pop(now), None);
    }

    #[test]
    fn added_while_processing_waits_for_done() {
        let now = Instant::now();
        let mut s = state();
        s.add("a", now);
        assert_eq!(s.pop(now), Some("a"));
        assert!(!s.add("a", now), "not handed out while processed");
        assert!(!s.add("a", now), "still deduplicated");
        assert_eq!(s.len(), 0);
        assert_eq!(
            s.done(&"a", now),
            Done {
                requeued: true,
                idle: true
            }
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s.pop(now), Some("a"));
        assert_eq!(
            s.done(&"a", now),
            Done {
                requeued: false,
                idle: true
            }
        );
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn done_for_an_item_not_processed_changes_nothing() {
        let now = Instant::now();
        let mut s = state();
        s.add("a", now);
        let d = s.done(&"a", now);
        assert!(!d.requeued);
        assert_eq!(s.len(), 1, "not queued a second time");
    }

    #[test]
    fn shutdown_ignores_adds_keeps_queued_and_due_items() {
        let t0 = Instant::now();
        let mut s = state();
        s.add("a", t0);
        s.waiting.insert("due", t0 + Duration::from_secs(1));
        s.waiting.insert("later", t0 + Duration::from_secs(5));
        s.shut_down(false, t0 + Duration::from_secs(2));
        assert!(!s.add("b", t0));
        assert_eq!(s.waiting.len(), 0);
        let t = t0 + Duration::from_secs(9);
        assert_eq!(s.promote_ready(t), 0);
        assert_eq!(s.pop(t), Some("a"));
        assert_eq!(s.pop(t), Some("due"));
        assert_eq!(s.pop(t), None);
    }
}
