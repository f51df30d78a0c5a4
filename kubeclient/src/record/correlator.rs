//! Spam filtering and aggregation of events before they are written, as client-go's
//! `tools/record/events_cache.go` (`EventCorrelator`, `EventSourceObjectSpamFilter`,
//! `EventAggregator`), applied here to `events.k8s.io/v1` Events:
//!
//! - **Spam filter**: one token bucket per source and object (reportingController,
//!   reportingInstance, the regarding object's kind, namespace, name, UID and apiVersion, and
//!   the event type; `getSpamKey`). It starts with [`DEFAULT_SPAM_BURST`] tokens and gains one
//!   every [`DEFAULT_SPAM_REFILL`]; an event finding the bucket empty is dropped.
//! - **Aggregation**: events that differ only in their note are similar (same source, regarding
//!   object, type and reason; `EventAggregatorByReasonFunc`). When [`DEFAULT_AGGREGATE_MAX_EVENTS`]
//!   distinct notes were seen without a gap longer than [`DEFAULT_AGGREGATE_INTERVAL`], the
//!   event becomes an aggregate: its note is prefixed with `(combined from similar events): `
//!   and, as client-go keys aggregates by the group rather than the single event, every later
//!   similar event joins the same aggregate Event (see `series::SeriesKey`).
//!
//! Both keep their state in least-recently-used caches of [`LRU_CACHE_ENTRIES`] entries
//! (`maxLruCacheEntries`). Time is `tokio::time::Instant`, so tests run on a paused clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

use super::event::{Event, ObjectReference};

/// Events a source may send about one object at once (`defaultSpamBurst`).
pub const DEFAULT_SPAM_BURST: u32 = 25;
/// The spam bucket gains one token this often (`defaultSpamQPS` = 1/300 per second).
pub const DEFAULT_SPAM_REFILL: Duration = Duration::from_secs(300);
/// Distinct notes of similar events before they are aggregated (`defaultAggregateMaxEvents`).
pub const DEFAULT_AGGREGATE_MAX_EVENTS: usize = 10;
/// A gap longer than this between similar events starts the count anew
/// (`defaultAggregateIntervalInSeconds`).
pub const DEFAULT_AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
/// Entries each cache keeps (`maxLruCacheEntries`).
pub const LRU_CACHE_ENTRIES: usize = 4096;
/// The prefix of an aggregate event's note (`EventAggregatorByReasonMessageFunc`).
pub const AGGREGATE_NOTE_PREFIX: &str = "(combined from similar events): ";

/// A map that forgets its least recently used entry when full (`k8s.io/utils/lru`).
#[derive(Debug)]
pub(crate) struct Lru<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
    by_use: BTreeMap<u64, K>,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Lru {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    /// The entry for `key`, made with `make` if absent; marks it most recently used.
    pub(crate) fn get_or_insert_with(&mut self, key: &K, make: impl FnOnce() -> V) -> &mut V {
        self.tick += 1;
        let tick = self.tick;
        match self.entries.get(key) {
            Some((_, used)) => {
                self.by_use.remove(used);
            }
            None => {
                if self.entries.len() >= self.capacity
                    && let Some((_, oldest)) = self.by_use.pop_first()
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.by_use.insert(tick, key.clone());
        let slot = self
            .entries
            .entry(key.clone())
            .or_insert_with(|| (make(), tick));
        slot.1 = tick;
        &mut slot.0
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }
}

/// A token bucket that is only asked, never waited on (`flowcontrol`'s passive limiter):
/// full at first, refilled continuously.
#[derive(Debug, Clone)]
struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn full(burst: u32, now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Takes a token if one is there.
    fn try_take(&mut self, now: Instant, burst: u32, refill: Duration) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        let gained = if refill.is_zero() {
            f64::INFINITY
        } else {
            elapsed.as_secs_f64() / refill.as_secs_f64()
        };
        self.tokens = (self.tokens + gained).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The regarding object as the spam and aggregation keys see it: without resourceVersion and
/// fieldPath (client-go's keys leave those out).
fn object_key(r: &ObjectReference) -> [Option<String>; 5] {
    [
        r.kind.clone(),
        r.namespace.clone(),
        r.name.clone(),
        r.uid.clone(),
        r.api_version.clone(),
    ]
}

/// Source, object and type: one spam bucket each (`getSpamKey`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SpamKey {
    reporting_controller: String,
    reporting_instance: String,
    object: [Option<String>; 5],
    type_: String,
}

/// Source, object, type and reason: similar events (`EventAggregatorByReasonFunc`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AggregateKey {
    reporting_controller: String,
    reporting_instance: String,
    object: [Option<String>; 5],
    type_: String,
    reason: String,
}

#[derive(Debug)]
struct AggregateRecord {
    notes: HashSet<String>,
    last: Instant,
}

/// The settings of a [`Correlator`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CorrelatorOptions {
    pub spam_burst: u32,
    pub spam_refill: Duration,
    pub aggregate_max_events: usize,
    pub aggregate_interval: Duration,
}

impl Default for CorrelatorOptions {
    fn default() -> Self {
        CorrelatorOptions {
            spam_burst: DEFAULT_SPAM_BURST,
            spam_refill: DEFAULT_SPAM_REFILL,
            aggregate_max_events: DEFAULT_AGGREGATE_MAX_EVENTS,
            aggregate_interval: DEFAULT_AGGREGATE_INTERVAL,
        }
    }
}

/// What the correlator decided about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Write it; `aggregated` when its note was rewritten as an aggregate.
    Pass { aggregated: bool },
    /// Drop it: its source sent too many events about the object.
    Spam,
}

/// Aggregation, then the spam filter (client-go's `EventCorrelate` order).
#[derive(Debug)]
pub(crate) struct Correlator {
    options: CorrelatorOptions,
    aggregates: Lru<AggregateKey, AggregateRecord>,
    spam: Lru<SpamKey, TokenBucket>,
}

impl Correlator {
    pub(crate) fn new(options: CorrelatorOptions) -> Self {
        Correlator {
            options,
            aggregates: Lru::new(LRU_CACHE_ENTRIES),
            spam: Lru::new(LRU_CACHE_ENTRIES),
        }
    }

    /// Looks at `event` observed at `now`; rewrites its note when it becomes an aggregate.
    pub(crate) fn correlate(&mut self, event: &mut Event, now: Instant) -> Verdict {
        let aggregated = self.aggregate(event, now);
        let key = SpamKey {
            reporting_controller: event.reporting_controller.clone(),
            reporting_instance: event.reporting_instance.clone(),
            object: object_key(&event.regarding),
            type_: event.type_.clone(),
        };
        let burst = self.options.spam_burst;
        let bucket = self
            .spam
            .get_or_insert_with(&key, || TokenBucket::full(burst, now));
        if bucket.try_take(now, burst, self.options.spam_refill) {
            Verdict::Pass { aggregated }
        } else {
            Verdict::Spam
        }
    }

    /// Counts the event's note among its similar events; true when it became an aggregate.
    fn aggregate(&mut self, event: &mut Event, now: Instant) -> bool {
        let key = AggregateKey {
            reporting_controller: event.reporting_controller.clone(),
            reporting_instance: event.reporting_instance.clone(),
            object: object_key(&event.regarding),
            type_: event.type_.clone(),
            reason: event.reason.clone(),
        };
        let interval = self.options.aggregate_interval;
        let max = self.options.aggregate_max_events;
        let record = self
            .aggregates
            .get_or_insert_with(&key, || AggregateRecord {
                notes: HashSet::new(),
                last: now,
            });
        if now.saturating_duration_since(record.last) > interval {
            record.notes.clear();
        }
        record.last = now;
        record.notes.insert(event.note.clone());
        if record.notes.len() < max {
            return false;
        }
        // Keep the set from growing past the threshold (client-go pops an arbitrary one).
        if let Some(any) = record.notes.iter().next().cloned() {
            record.notes.remove(&any);
        }
        event.note = format!("{AGGREGATE_NOTE_PREFIX}{}", event.note);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, reason: &str, note: &str) -> Event {
        Event {
            reporting_controller: "example.com/ctl".into(),
            reporting_instance: "ctl-1".into(),
            reason: reason.into(),
            action: "Act".into(),
            note: note.into(),
            type_: "Normal".into(),
            regarding: ObjectReference {
                kind: Some("Pod".into()),
                namespace: Some("ns".into()),
                name: Some(name.into()),
                ..ObjectReference::default()
            },
            ..Event::default()
        }
    }

    /// Feeds events about `name`, each with its own reason (never aggregated); counts passes.
    fn passes(c: &mut Correlator, name: &str, n: usize, now: Instant) -> usize {
        (0..n)
            .filter(|i| {
                let mut e = event(name, &format!("Reason{i}"), "same");
                c.correlate(&mut e, now) != Verdict::Spam
            })
            .count()
    }

    #[tokio::test(start_paused = true)]
    async fn spam_bucket_allows_a_burst_then_one_per_refill() {
        let mut c = Correlator::new(CorrelatorOptions::default());
        let start = Instant::now();
        assert_eq!(passes(&mut c, "a", 30, start), 25, "the burst is 25");
        // Another object has a bucket of its own.
        assert_eq!(passes(&mut c, "b", 3, start), 3);
        // A Warning about the same object is another bucket too (the type is in the key).
        let mut warning = event("a", "Other", "x");
        warning.type_ = "Warning".into();
        assert_eq!(
            c.correlate(&mut warning, start),
            Verdict::Pass { aggregated: false }
        );

        tokio::time::advance(Duration::from_secs(299)).await;
        assert_eq!(
            passes(&mut c, "a", 1, Instant::now()),
            0,
            "not refilled yet"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            passes(&mut c, "a", 5, Instant::now()),
            1,
            "one token per 5 minutes"
        );
        tokio::time::advance(Duration::from_secs(3 * 300)).await;
        assert_eq!(passes(&mut c, "a", 5, Instant::now()), 3);
        // A long pause refills up to the burst, no more.
        tokio::time::advance(Duration::from_secs(100 * 300)).await;
        assert_eq!(passes(&mut c, "a", 30, Instant::now()), 25);
    }

    #[tokio::test(start_paused = true)]
    async fn ten_distinct_notes_in_ten_minutes_aggregate() {
        let mut c = Correlator::new(CorrelatorOptions::default());
        for i in 0..9 {
            let mut e = event("a", "Failed", &format!("attempt {i}"));
            assert_eq!(
                c.correlate(&mut e, Instant::now()),
                Verdict::Pass { aggregated: false }
            );
            assert_eq!(e.note, format!("attempt {i}"));
            tokio::time::advance(Duration::from_secs(60)).await;
        }
        // A repeated note is not a new distinct one.
        let mut again = event("a", "Failed", "attempt 0");
        assert_eq!(
            c.correlate(&mut again, Instant::now()),
            Verdict::Pass { aggregated: false }
        );
        let mut tenth = event("a", "Failed", "attempt 9");
        assert_eq!(
            c.correlate(&mut tenth, Instant::now()),
            Verdict::Pass { aggregated: true }
        );
        assert_eq!(tenth.note, "(combined from similar events): attempt 9");
        let mut eleventh = event("a", "Failed", "attempt 10");
        assert_eq!(
            c.correlate(&mut eleventh, Instant::now()),
            Verdict::Pass { aggregated: true }
        );
        // Another reason is not similar.
        let mut other = event("a", "Other", "attempt 11");
        assert_eq!(
            c.correlate(&mut other, Instant::now()),
            Verdict::Pass { aggregated: false }
        );
        // More than ten minutes of quiet: the count starts again.
        tokio::time::advance(Duration::from_secs(601)).await;
        let mut fresh = event("a", "Failed", "attempt 12");
        assert_eq!(
            c.correlate(&mut fresh, Instant::now()),
            Verdict::Pass { aggregated: false }
        );
    }

    #[test]
    fn lru_forgets_the_least_recently_used() {
        let mut lru: Lru<&str, u32> = Lru::new(2);
        *lru.get_or_insert_with(&"a", || 1) += 10;
        lru.get_or_insert_with(&"b", || 2);
        // Touch a: b is now the oldest.
        assert_eq!(*lru.get_or_insert_with(&"a", || 0), 11);
        lru.get_or_insert_with(&"c", || 3);
        assert_eq!(lru.len(), 2);
        assert!(lru.contains(&"a") && lru.contains(&"c") && !lru.contains(&"b"));
    }
}
