//! The items of a delaying queue that wait for their ready time (client-go keeps them in a heap
//! fed by a goroutine; here they sit next to the queue's other state under the same lock).
//!
//! An item waits at most once: waiting again keeps the earlier of the two ready times, as
//! client-go's `insert` does.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use tokio::time::Instant;

/// Items ordered by ready time, each present at most once.
#[derive(Debug)]
pub(crate) struct WaitingItems<T> {
    /// Ready time and insertion number (so equal times leave in insertion order) → item.
    by_time: BTreeMap<(Instant, u64), T>,
    /// Item → its key in `by_time`.
    by_item: HashMap<T, (Instant, u64)>,
    next_seq: u64,
}

impl<T> Default for WaitingItems<T> {
    fn default() -> Self {
        WaitingItems {
            by_time: BTreeMap::new(),
            by_item: HashMap::new(),
            next_seq: 0,
        }
    }
}

impl<T> WaitingItems<T> {
    /// How many items wait.
    pub(crate) fn len(&self) -> usize {
        self.by_time.len()
    }
}

impl<T: Clone + Eq + Hash> WaitingItems<T> {
    /// Makes `item` wait until `ready_at`, or until its current ready time if that is earlier.
    pub(crate) fn insert(&mut self, item: T, ready_at: Instant) {
        if let Some(&(current, seq)) = self.by_item.get(&item) {
            if current <= ready_at {
                return;
            }
            self.by_time.remove(&(current, seq));
        }
        let key = (ready_at, self.next_seq);
        self.next_seq = self.next_seq.wrapping_add(1);
        self.by_time.insert(key, item.clone());
        self.by_item.insert(item, key);
    }

    /// Removes and returns the earliest item whose ready time is at or before `now`, with its
    /// ready time.
    pub(crate) fn pop_ready(&mut self, now: Instant) -> Option<(T, Instant)> {
        let (&(ready_at, _), _) = self.by_time.first_key_value()?;
        if ready_at > now {
            return None;
        }
        let (_, item) = self.by_time.pop_first()?;
        self.by_item.remove(&item);
        Some((item, ready_at))
    }

    /// The earliest ready time, if anything waits.
    pub(crate) fn next_ready_at(&self) -> Option<Instant> {
        self.by_time.first_key_value().map(|(&(at, _), _)| at)
    }

    /// Drops every waiting item (on shutdown: client-go's waiting loop stops and its heap goes).
    pub(crate) fn clear(&mut self) {
        self.by_time.clear();
        self.by_item.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn leaves_in_ready_time_order_then_insertion_order() {
        let t0 = Instant::now();
        let mut w = WaitingItems::default();
        w.insert("c", t0 + Duration::from_secs(3));
        w.insert("a", t0 + Duration::from_secs(1));
        w.insert("b1", t0 + Duration::from_secs(2));
        w.insert("b2", t0 + Duration::from_secs(2));
        assert_eq!(w.next_ready_at(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(w.pop_ready(t0), None, "nothing is ready at t0");
        let later = t0 + Duration::from_secs(2);
        let popped: Vec<_> = std::iter::from_fn(|| w.pop_ready(later).map(|(i, _)| i)).collect();
        assert_eq!(popped, vec!["a", "b1", "b2"]);
        assert_eq!(w.len(), 1);
        assert_eq!(
            w.pop_ready(t0 + Duration::from_secs(3)),
            Some(("c", t0 + Duration::from_secs(3)))
        );
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_ready_at(), None);
    }

    #[test]
    fn waiting_twice_keeps_the_earlier_time() {
        let t0 = Instant::now();
        let mut w = WaitingItems::default();
        w.insert("x", t0 + Duration::from_secs(5));
        w.insert("x", t0 + Duration::from_secs(9));
        assert_eq!(w.len(), 1);
        assert_eq!(w.next_ready_at(), Some(t0 + Duration::from_secs(5)));
        w.insert("x", t0 + Duration::from_secs(1));
        assert_eq!(w.len(), 1);
        assert_eq!(w.next_ready_at(), Some(t0 + Duration::from_secs(1)));
        w.clear();
        assert_eq!(w.len(), 0);
        assert_eq!(w.pop_ready(t0 + Duration::from_secs(10)), None);
    }
}
