//! Event series bookkeeping, as client-go's `tools/events/event_broadcaster.go`: the first
//! occurrence of an event is written as a new Event; an isomorphic event while the first is
//! still cached turns it into a series (`series.count = 2`, written as a patch); later
//! repeats only bump the cached count and `lastObservedTime`. The cached counts reach the API
//! when a series finishes (no repeat for [`DEFAULT_SERIES_FINISH`], `finishTime`) and every
//! [`DEFAULT_SERIES_REFRESH`] for the series still running (`refreshTime`, which also keeps
//! the Events from expiring); a single event idle as long is just forgotten.
//!
//! Two events are isomorphic when their [`SeriesKey`]s are equal: client-go's `eventKey`
//! (type, action, reason, reportingController, reportingInstance, and the whole regarding and
//! related references, resourceVersion included; not the note). An aggregate event (see
//! `correlator`) is keyed by its group instead, as client-go's correlator keys aggregates.
//!
//! Pure bookkeeping: no I/O; time is `tokio::time::Instant`, so tests run on a paused clock.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use super::event::{Event, EventSeries, MicroTime, ObjectReference};

/// A series with no new occurrence for this long is written a last time and forgotten; a
/// single event this old is forgotten (`finishTime`).
pub const DEFAULT_SERIES_FINISH: Duration = Duration::from_secs(6 * 60);
/// Running series are written this often (`refreshTime`).
pub const DEFAULT_SERIES_REFRESH: Duration = Duration::from_secs(30 * 60);

/// What makes two events the same recurring event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SeriesKey {
    type_: String,
    action: String,
    reason: String,
    reporting_controller: String,
    reporting_instance: String,
    regarding: ObjectReference,
    related: ObjectReference,
    aggregate: bool,
}

impl SeriesKey {
    /// The key of `event`; `aggregate` when the correlator made it an aggregate, which is
    /// keyed by its group (no action, no related object, no resourceVersion or fieldPath).
    pub(crate) fn of(event: &Event, aggregate: bool) -> Self {
        if aggregate {
            let regarding = ObjectReference {
                resource_version: None,
                field_path: None,
                ..event.regarding.clone()
            };
            return SeriesKey {
                type_: event.type_.clone(),
                action: String::new(),
                reason: event.reason.clone(),
                reporting_controller: event.reporting_controller.clone(),
                reporting_instance: event.reporting_instance.clone(),
                regarding,
                related: ObjectReference::default(),
                aggregate,
            };
        }
        SeriesKey {
            type_: event.type_.clone(),
            action: event.action.clone(),
            reason: event.reason.clone(),
            reporting_controller: event.reporting_controller.clone(),
            reporting_instance: event.reporting_instance.clone(),
            regarding: event.regarding.clone(),
            related: event.related.clone().unwrap_or_default(),
            aggregate,
        }
    }
}

#[derive(Debug)]
struct Entry {
    /// The Event as first written, with the series as observed so far.
    event: Event,
    first_seen: Instant,
    last_seen: Instant,
    /// The count the API has (1 once the Event was created; 0 before).
    written_count: i32,
}

impl Entry {
    fn count(&self) -> i32 {
        self.event.series.as_ref().map_or(1, |s| s.count)
    }
}

/// The cached Events, one per [`SeriesKey`].
#[derive(Debug, Default)]
pub(crate) struct SeriesCache {
    entries: HashMap<SeriesKey, Entry>,
}

impl SeriesCache {
    /// Records an occurrence of `event` at `now`; returns what to write now: the new Event,
    /// the Event with its new series (at the first repeat), or nothing (later repeats).
    pub(crate) fn observe(&mut self, key: SeriesKey, event: Event, now: Instant) -> Option<Event> {
        let Some(entry) = self.entries.get_mut(&key) else {
            self.entries.insert(
                key,
                Entry {
                    event: event.clone(),
                    first_seen: now,
                    last_seen: now,
                    written_count: 0,
                },
            );
            return Some(event);
        };
        let observed = event.event_time.unwrap_or_else(MicroTime::now);
        entry.last_seen = now;
        match &mut entry.event.series {
            Some(series) => {
                series.count = series.count.saturating_add(1);
                series.last_observed_time = observed;
                None
            }
            None => {
                entry.event.series = Some(EventSeries {
                    count: 2,
                    last_observed_time: observed,
                });
                Some(entry.event.clone())
            }
        }
    }

    /// Notes that `written` (a snapshot of the entry for `key`) reached the API.
    pub(crate) fn written(&mut self, key: &SeriesKey, written: &Event) {
        if let Some(entry) = self.entries.get_mut(key) {
            let count = written.series.as_ref().map_or(1, |s| s.count);
            entry.written_count = entry.written_count.max(count);
        }
    }

    /// Forgets `key`.
    pub(crate) fn remove(&mut self, key: &SeriesKey) {
        self.entries.remove(key);
    }

    /// The series that ended (no occurrence for more than `finish_after`), to be written a
    /// last time and then removed; single events that old are removed here. Series whose
    /// count the API already has are removed too, with nothing to write.
    pub(crate) fn finished(
        &mut self,
        now: Instant,
        finish_after: Duration,
    ) -> Vec<(SeriesKey, Event)> {
        let idle = |since: Instant| now.saturating_duration_since(since) > finish_after;
        self.entries.retain(|_, e| {
            let done = if e.event.series.is_some() {
                idle(e.last_seen) && e.written_count >= e.count()
            } else {
                idle(e.first_seen)
            };
            !done
        });
        self.entries
            .iter()
            .filter(|(_, e)| e.event.series.is_some() && idle(e.last_seen))
            .map(|(k, e)| (k.clone(), e.event.clone()))
            .collect()
    }

    /// Every running series, to be written again (the periodic refresh).
    pub(crate) fn series(&self) -> Vec<(SeriesKey, Event)> {
        self.entries
            .iter()
            .filter(|(_, e)| e.event.series.is_some())
            .map(|(k, e)| (k.clone(), e.event.clone()))
            .collect()
    }

    /// The series with occurrences the API has not been told of yet.
    pub(crate) fn unwritten(&self) -> Vec<(SeriesKey, Event)> {
        self.entries
            .iter()
            .filter(|(_, e)| e.event.series.is_some() && e.written_count < e.count())
            .map(|(k, e)| (k.clone(), e.event.clone()))
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(reason: &str, note: &str) -> Event {
        Event {
            reporting_controller: "example.com/ctl".into(),
            reporting_instance: "ctl-1".into(),
            action: "Act".into(),
            reason: reason.into(),
            note: note.into(),
            type_: "Normal".into(),
            event_time: Some(MicroTime::now()),
            regarding: ObjectReference {
                kind: Some("Pod".into()),
                namespace: Some("ns".into()),
                name: Some("web".into()),
                resource_version: Some("1".into()),
                ..ObjectReference::default()
            },
            ..Event::default()
        }
    }

    fn count(e: &Event) -> Option<i32> {
        e.series.as_ref().map(|s| s.count)
    }

    #[test]
    fn keys_follow_client_go() {
        let base = event("Started", "one");
        let key = SeriesKey::of(&base, false);
        // The note is not part of the key.
        assert_eq!(SeriesKey::of(&event("Started", "two"), false), key);
        assert_ne!(SeriesKey::of(&event("Stopped", "one"), false), key);
        let mut other = base.clone();
        other.action = "Other".into();
        assert_ne!(SeriesKey::of(&other, false), key);
        let mut other = base.clone();
        other.reporting_instance = "ctl-2".into();
        assert_ne!(SeriesKey::of(&other, false), key);
        let mut other = base.clone();
        other.type_ = "Warning".into();
        assert_ne!(SeriesKey::of(&other, false), key);
        let mut other = base.clone();
        other.related = Some(ObjectReference {
            name: Some("node-1".into()),
            ..ObjectReference::default()
        });
        assert_ne!(SeriesKey::of(&other, false), key);
        // The whole reference counts, resourceVersion included...
        let mut newer = base.clone();
        newer.regarding.resource_version = Some("2".into());
        assert_ne!(SeriesKey::of(&newer, false), key);
        // ...except for aggregates, keyed by their group.
        let mut agg = newer.clone();
        agg.action = "Other".into();
        assert_eq!(SeriesKey::of(&agg, true), SeriesKey::of(&base, true));
        assert_ne!(SeriesKey::of(&base, true), key);
    }

    #[tokio::test(start_paused = true)]
    async fn repeats_become_a_series_written_at_the_first_repeat_and_at_the_end() {
        let mut cache = SeriesCache::default();
        let first = event("Started", "n");
        let key = SeriesKey::of(&first, false);
        let write = cache
            .observe(key.clone(), first.clone(), Instant::now())
            .expect("create");
        assert_eq!(write, first, "the first occurrence is written as is");
        cache.written(&key, &write);

        tokio::time::advance(Duration::from_secs(1)).await;
        let repeat = event("Started", "n");
        let write = cache
            .observe(key.clone(), repeat.clone(), Instant::now())
            .expect("the first repeat is written");
        assert_eq!(count(&write), Some(2));
        assert_eq!(write.metadata.name, first.metadata.name);
        assert_eq!(
            write.series.as_ref().map(|s| s.last_observed_time),
            repeat.event_time,
            "lastObservedTime is the repeat's time"
        );
        cache.written(&key, &write);

        for _ in 0..3 {
            tokio::time::advance(Duration::from_secs(1)).await;
            assert_eq!(
                cache.observe(key.clone(), event("Started", "n"), Instant::now()),
                None
            );
        }
        let pending = cache.unwritten();
        assert_eq!(pending.len(), 1);
        assert_eq!(count(&pending[0].1), Some(5));

        // Not finished while repeats keep coming within the finish time.
        tokio::time::advance(DEFAULT_SERIES_FINISH).await;
        assert!(
            cache
                .finished(Instant::now(), DEFAULT_SERIES_FINISH)
                .is_empty()
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        let done = cache.finished(Instant::now(), DEFAULT_SERIES_FINISH);
        assert_eq!(done.len(), 1);
        assert_eq!(count(&done[0].1), Some(5));
        assert_eq!(cache.series().len(), 1, "kept until the write is done");
        cache.written(&done[0].0, &done[0].1);
        cache.remove(&done[0].0);
        assert_eq!(cache.len(), 0);
        // Once forgotten, the same event starts anew.
        let again = cache.observe(key, event("Started", "n"), Instant::now());
        assert_eq!(again.as_ref().and_then(count), None);
    }

    #[tokio::test(start_paused = true)]
    async fn single_events_are_forgotten_without_a_write() {
        let mut cache = SeriesCache::default();
        let e = event("Once", "n");
        cache.observe(SeriesKey::of(&e, false), e, Instant::now());
        tokio::time::advance(DEFAULT_SERIES_FINISH + Duration::from_millis(1)).await;
        assert!(
            cache
                .finished(Instant::now(), DEFAULT_SERIES_FINISH)
                .is_empty()
        );
        assert_eq!(cache.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn written_series_finish_without_another_write() {
        let mut cache = SeriesCache::default();
        let e = event("Twice", "n");
        let key = SeriesKey::of(&e, false);
        cache.observe(key.clone(), e.clone(), Instant::now());
        let write = cache
            .observe(key.clone(), e, Instant::now())
            .expect("series");
        cache.written(&key, &write);
        assert!(cache.unwritten().is_empty());
        assert_eq!(
            cache.series().len(),
            1,
            "refresh still writes running series"
        );
        tokio::time::advance(DEFAULT_SERIES_FINISH + Duration::from_millis(1)).await;
        assert!(
            cache
                .finished(Instant::now(), DEFAULT_SERIES_FINISH)
                .is_empty()
        );
        assert_eq!(cache.len(), 0);
    }
}
