//! [`EventBroadcaster`] (one background task that writes Events to the API) and
//! [`EventRecorder`] (what controllers call), as client-go's `tools/events`
//! `eventBroadcasterImpl` and `recorderImpl`.
//!
//! A recorder builds the Event and puts it in the broadcaster's buffer of [`DEFAULT_BUFFER`]
//! events (`maxQueuedEvents`) without waiting: when the buffer is full the event is dropped
//! and counted, as client-go drops it. The task takes events in order, runs the correlator
//! (spam filter, aggregation) and the series bookkeeping, and writes: a create for a new
//! Event, a strategic merge patch of `series` for a repeat; a patch answered 404 (the Event
//! was deleted or expired) becomes a create. A write that fails for a reason that may pass
//! (transport errors, an unexpected answer, AlreadyExists when creating a series) is tried up
//! to [`MAX_TRIES_PER_EVENT`] times, [`RETRY_WAIT`] apart plus up to 25% jitter
//! (`maxTriesPerEvent`, `defaultSleepDuration`, `wait.Jitter(…, 0.25)`); any other refusal is
//! logged and the event abandoned. Finishing and refreshing series make a single attempt, as
//! client-go's `finishSeries` and `refreshExistingEventSeries` do.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::Error;
use super::correlator::{Correlator, CorrelatorOptions, Verdict};
use super::event::{
    Event, EventType, FIELD_LENGTH_LIMIT, MicroTime, ObjectReference, event_name,
    is_qualified_name, truncate_note,
};
use super::series::{DEFAULT_SERIES_FINISH, DEFAULT_SERIES_REFRESH, SeriesCache, SeriesKey};
use crate::client::{Client, ObjectMeta, Patch};
use crate::rest::{self, CreateOptions, PatchOptions, RestClient};
use crate::retry::Backoff;

/// Events the buffer between recorders and the writer holds (`maxQueuedEvents`).
pub const DEFAULT_BUFFER: usize = 1000;
/// Attempts at writing one event before it is abandoned (`maxTriesPerEvent`).
pub const MAX_TRIES_PER_EVENT: u32 = 12;
/// The wait between attempts, lengthened by up to 25% at random (`defaultSleepDuration`).
pub const RETRY_WAIT: Duration = Duration::from_secs(10);
/// The namespace of Events about cluster-scoped objects (client-go's `metav1.NamespaceDefault`).
const DEFAULT_NAMESPACE: &str = "default";

/// Where Events are written: the API through a [`RestClient`], or a fake in tests.
pub(crate) trait Sink: Send + Sync + 'static {
    /// Creates the Event.
    fn create(&self, event: &Event) -> impl Future<Output = Result<Event, rest::Error>> + Send;
    /// Patches the Event's `series`.
    fn patch_series(
        &self,
        event: &Event,
    ) -> impl Future<Output = Result<Event, rest::Error>> + Send;
}

struct ApiSink {
    rest: RestClient,
}

impl ApiSink {
    fn client(&self, event: &Event) -> Client<Event> {
        let namespace = event
            .metadata
            .namespace
            .as_deref()
            .unwrap_or(DEFAULT_NAMESPACE);
        Client::namespaced(self.rest.clone(), namespace)
    }
}

impl Sink for ApiSink {
    fn create(&self, event: &Event) -> impl Future<Output = Result<Event, rest::Error>> + Send {
        let client = self.client(event);
        let event = event.clone();
        async move { client.create(&event, &CreateOptions::default()).await }
    }

    fn patch_series(
        &self,
        event: &Event,
    ) -> impl Future<Output = Result<Event, rest::Error>> + Send {
        let client = self.client(event);
        let name = event.metadata.name.clone().unwrap_or_default();
        // client-go sends the two-way strategic merge patch between the Event without and
        // with its series, which is exactly the series field.
        let patch = Patch::Strategic(serde_json::json!({ "series": event.series }));
        async move { client.patch(&name, &patch, &PatchOptions::default()).await }
    }
}

/// What the broadcaster did with the events it was given, counted since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStats {
    /// Events taken into the buffer.
    pub recorded: u64,
    /// Events dropped because the buffer was full or the broadcaster had shut down.
    pub dropped: u64,
    /// Events refused before buffering (empty or too long reason or action).
    pub invalid: u64,
    /// Events dropped by the spam filter.
    pub spam_filtered: u64,
    /// Events that became aggregates.
    pub aggregated: u64,
    /// Successful writes to the API (creates and series patches).
    pub written: u64,
    /// Writes abandoned (refused by the API, or out of attempts).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    recorded: AtomicU64,
    dropped: AtomicU64,
    invalid: AtomicU64,
    spam_filtered: AtomicU64,
    aggregated: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    /// The last nanosecond timestamp used in an Event name, to keep names unique.
    last_name_nanos: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> EventStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        EventStats {
            recorded: get(&self.recorded),
            dropped: get(&self.dropped),
            invalid: get(&self.invalid),
            spam_filtered: get(&self.spam_filtered),
            aggregated: get(&self.aggregated),
            written: get(&self.written),
            failed: get(&self.failed),
        }
    }

    /// A nanosecond timestamp for an Event name: `now`, or one more than the last one handed
    /// out, so two events about one object never get the same name.
    fn name_nanos(&self, now: u64) -> u64 {
        let mut last = self.last_name_nanos.load(Ordering::Relaxed);
        loop {
            let next = now.max(last.saturating_add(1));
            match self.last_name_nanos.compare_exchange_weak(
                last,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

/// Settings of an [`EventBroadcaster`]; start it with [`EventBroadcasterBuilder::start`].
#[must_use = "a builder does nothing until started"]
#[derive(Debug, Clone)]
pub struct EventBroadcasterBuilder {
    rest: RestClient,
    buffer: usize,
    finish_after: Duration,
    refresh_every: Duration,
    correlator: CorrelatorOptions,
    write_retry: Backoff,
}

impl EventBroadcasterBuilder {
    /// How many events the buffer holds (default [`DEFAULT_BUFFER`]; at least 1).
    pub fn buffer(mut self, events: usize) -> Self {
        self.buffer = events.max(1);
        self
    }

    /// How long a series goes without a repeat before its count is written a last time
    /// (default [`DEFAULT_SERIES_FINISH`]; at least 1 ms). Also how often that is checked.
    pub fn series_finish_after(mut self, idle: Duration) -> Self {
        self.finish_after = idle.max(Duration::from_millis(1));
        self
    }

    /// How often the counts of running series are written (default
    /// [`DEFAULT_SERIES_REFRESH`]; at least 1 ms).
    pub fn series_refresh_every(mut self, period: Duration) -> Self {
        self.refresh_every = period.max(Duration::from_millis(1));
        self
    }

    /// The spam filter: `burst` events per source and object at once, then one more every
    /// `refill` (defaults [`DEFAULT_SPAM_BURST`](super::DEFAULT_SPAM_BURST) and
    /// [`DEFAULT_SPAM_REFILL`](super::DEFAULT_SPAM_REFILL)).
    pub fn spam_filter(mut self, burst: u32, refill: Duration) -> Self {
        self.correlator.spam_burst = burst;
        self.correlator.spam_refill = refill;
        self
    }

    /// Aggregation: `max_events` distinct notes of similar events with no gap longer than
    /// `interval` make an aggregate (defaults
    /// [`DEFAULT_AGGREGATE_MAX_EVENTS`](super::DEFAULT_AGGREGATE_MAX_EVENTS) and
    /// [`DEFAULT_AGGREGATE_INTERVAL`](super::DEFAULT_AGGREGATE_INTERVAL)).
    pub fn aggregation(mut self, max_events: usize, interval: Duration) -> Self {
        self.correlator.aggregate_max_events = max_events.max(1);
        self.correlator.aggregate_interval = interval;
        self
    }

    /// Starts the writer task on the current Tokio runtime.
    pub fn start(self) -> Result<EventBroadcaster, Error> {
        let sink = ApiSink {
            rest: self.rest.clone(),
        };
        self.start_with(sink)
    }

    pub(crate) fn start_with<S: Sink>(self, sink: S) -> Result<EventBroadcaster, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let (sender, receiver) = mpsc::channel(self.buffer);
        let counters = Arc::new(Counters::default());
        let drain = CancellationToken::new();
        let writer = Writer {
            sink,
            correlator: Correlator::new(self.correlator),
            series: SeriesCache::default(),
            counters: counters.clone(),
            write_retry: self.write_retry,
            finish_after: self.finish_after,
            refresh_every: self.refresh_every,
        };
        let task = runtime.spawn(run(writer, receiver, drain.clone()));
        Ok(EventBroadcaster {
            sender,
            counters,
            drain,
            task: Some(task),
        })
    }

    #[cfg(test)]
    pub(crate) fn write_retry(mut self, backoff: Backoff) -> Self {
        self.write_retry = backoff;
        self
    }
}

/// Writes the Events its [`EventRecorder`]s record, in one background task.
///
/// ```no_run
/// # async fn demo(rest: kubeclient::rest::RestClient) -> Result<(), kubeclient::record::Error> {
/// use std::time::Duration;
/// use kubeclient::record::{EventBroadcaster, EventType, ObjectReference};
///
/// let broadcaster = EventBroadcaster::new(rest)?;
/// let recorder = broadcaster.recorder("example.com/backup-controller", "backup-controller-0")?;
/// let regarding = ObjectReference {
///     kind: Some("ConfigMap".into()),
///     api_version: Some("v1".into()),
///     namespace: Some("default".into()),
///     name: Some("settings".into()),
///     ..ObjectReference::default()
/// };
/// recorder.eventf(&regarding, None, EventType::Normal, "Backed", "Backup",
///     format_args!("backed up {} keys", 3));
/// broadcaster.shutdown(Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
///
/// Dropping it stops the task at once, without writing what is still buffered; call
/// [`EventBroadcaster::shutdown`] to write it first.
pub struct EventBroadcaster {
    sender: mpsc::Sender<Event>,
    counters: Arc<Counters>,
    drain: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for EventBroadcaster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventBroadcaster")
            .field("stats", &self.counters.snapshot())
            .finish_non_exhaustive()
    }
}

impl EventBroadcaster {
    /// A broadcaster with client-go's defaults, writing through `rest`; its task starts on
    /// the current Tokio runtime.
    pub fn new(rest: RestClient) -> Result<Self, Error> {
        Self::builder(rest).start()
    }

    /// A broadcaster with settings other than the defaults.
    pub fn builder(rest: RestClient) -> EventBroadcasterBuilder {
        EventBroadcasterBuilder {
            rest,
            buffer: DEFAULT_BUFFER,
            finish_after: DEFAULT_SERIES_FINISH,
            refresh_every: DEFAULT_SERIES_REFRESH,
            correlator: CorrelatorOptions::default(),
            write_retry: Backoff {
                duration: RETRY_WAIT,
                factor: 1.0,
                jitter: 0.25,
                steps: MAX_TRIES_PER_EVENT,
            },
        }
    }

    /// A recorder for events from `reporting_controller` (a qualified name such as
    /// `example.com/my-controller`), instance `reporting_instance` (at most 128 bytes, e.g.
    /// the controller's name and its host name, as client-go makes it).
    pub fn recorder(
        &self,
        reporting_controller: &str,
        reporting_instance: &str,
    ) -> Result<EventRecorder, Error> {
        if !is_qualified_name(reporting_controller) {
            return Err(Error::InvalidReportingController(
                reporting_controller.to_string(),
            ));
        }
        if reporting_instance.is_empty() || reporting_instance.len() > FIELD_LENGTH_LIMIT {
            return Err(Error::InvalidReportingInstance(
                reporting_instance.to_string(),
            ));
        }
        Ok(EventRecorder {
            reporting_controller: reporting_controller.into(),
            reporting_instance: reporting_instance.into(),
            sender: self.sender.clone(),
            counters: self.counters.clone(),
        })
    }

    /// What happened to the events so far.
    pub fn stats(&self) -> EventStats {
        self.counters.snapshot()
    }

    /// Stops taking events, writes those already buffered and the series counts not yet
    /// written, then stops the task and returns the final [`EventStats`]; gives up after
    /// `timeout` (the rest is dropped). client-go's `Shutdown` stops without writing either.
    pub async fn shutdown(mut self, timeout: Duration) -> Result<EventStats, Error> {
        self.drain.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(timeout, &mut task).await.is_err()
        {
            task.abort();
            return Err(Error::ShutdownTimedOut { timeout });
        }
        Ok(self.counters.snapshot())
    }
}

impl Drop for EventBroadcaster {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Records events for one reporting controller and instance; cheap to clone. Recording never
/// waits: the event goes to the broadcaster's buffer, or is dropped when that is full.
#[derive(Clone)]
pub struct EventRecorder {
    reporting_controller: Arc<str>,
    reporting_instance: Arc<str>,
    sender: mpsc::Sender<Event>,
    counters: Arc<Counters>,
}

impl fmt::Debug for EventRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventRecorder")
            .field("reporting_controller", &self.reporting_controller)
            .field("reporting_instance", &self.reporting_instance)
            .finish_non_exhaustive()
    }
}

impl EventRecorder {
    /// Records that `action` was taken (or failed) on `regarding` (and `related`) for
    /// `reason`, with a human-readable `note` (cut to
    /// [`NOTE_LENGTH_LIMIT`](super::NOTE_LENGTH_LIMIT) bytes). `reason` and `action` must be
    /// 1 to 128 bytes; an event with others is dropped (and counted as invalid).
    pub fn event(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        event_type: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) {
        self.record(regarding, related, event_type, reason, action, note);
    }

    /// [`EventRecorder::event`] with a formatted note (client-go's `Eventf`):
    /// `format_args!("scaled to {replicas}")`.
    pub fn eventf(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        event_type: EventType,
        reason: &str,
        action: &str,
        note: fmt::Arguments<'_>,
    ) {
        let note = match note.as_str() {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(note.to_string()),
        };
        self.record(regarding, related, event_type, reason, action, &note);
    }

    fn record(
        &self,
        regarding: &ObjectReference,
        related: Option<&ObjectReference>,
        event_type: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) {
        let valid = |s: &str| !s.is_empty() && s.len() <= FIELD_LENGTH_LIMIT;
        if !valid(reason) || !valid(action) {
            bump(&self.counters.invalid);
            tracing::warn!(
                reason,
                action,
                "event dropped: reason and action must be 1 to {FIELD_LENGTH_LIMIT} bytes"
            );
            return;
        }
        let now = MicroTime::now();
        let nanos = u64::try_from(now.0.as_nanosecond()).unwrap_or(0);
        let name = event_name(
            regarding.name.as_deref().unwrap_or_default(),
            i128::from(self.counters.name_nanos(nanos)),
        );
        let namespace = regarding
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(DEFAULT_NAMESPACE);
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.to_string()),
                ..ObjectMeta::default()
            },
            event_time: Some(now),
            series: None,
            reporting_controller: self.reporting_controller.to_string(),
            reporting_instance: self.reporting_instance.to_string(),
            action: action.to_string(),
            reason: reason.to_string(),
            regarding: regarding.clone(),
            related: related.cloned(),
            note: truncate_note(note),
            type_: event_type.as_str().to_string(),
        };
        match self.sender.try_send(event) {
            Ok(()) => bump(&self.counters.recorded),
            Err(mpsc::error::TrySendError::Full(event)) => {
                bump(&self.counters.dropped);
                tracing::warn!(
                    reason = event.reason,
                    regarding = ?event.regarding.name,
                    "event dropped: too many queued events"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                bump(&self.counters.dropped);
                tracing::debug!(reason, "event dropped: the broadcaster has shut down");
            }
        }
    }
}

/// The outcome of one attempt at writing an event.
enum Attempt {
    Written,
    /// May succeed later.
    Retry(rest::Error),
    /// Will not succeed; abandon the event.
    Abandon(rest::Error),
}

/// The state the writer task owns: nothing here is shared, so nothing is locked.
struct Writer<S> {
    sink: S,
    correlator: Correlator,
    series: SeriesCache,
    counters: Arc<Counters>,
    write_retry: Backoff,
    finish_after: Duration,
    refresh_every: Duration,
}

impl<S: Sink> Writer<S> {
    /// Correlates one recorded event, updates its series and writes what is due.
    async fn handle(&mut self, mut event: Event) {
        let now = Instant::now();
        let aggregated = match self.correlator.correlate(&mut event, now) {
            Verdict::Spam => {
                bump(&self.counters.spam_filtered);
                tracing::debug!(
                    reason = event.reason,
                    regarding = ?event.regarding.name,
                    "event dropped by the spam filter"
                );
                return;
            }
            Verdict::Pass { aggregated } => aggregated,
        };
        if aggregated {
            bump(&self.counters.aggregated);
        }
        let key = SeriesKey::of(&event, aggregated);
        if let Some(write) = self.series.observe(key.clone(), event, now)
            && self.write_with_retries(&write).await
        {
            self.series.written(&key, &write);
        }
    }

    /// Writes `event`, retrying as client-go's `attemptRecording`; true when it was written.
    async fn write_with_retries(&mut self, event: &Event) -> bool {
        let mut waits = self.write_retry.delays();
        loop {
            let err = match self.attempt(event).await {
                Attempt::Written => return true,
                Attempt::Abandon(err) => {
                    bump(&self.counters.failed);
                    tracing::warn!(event = ?event.metadata.name, "event not written: {err}");
                    return false;
                }
                Attempt::Retry(err) => err,
            };
            let Some(wait) = waits.next() else {
                bump(&self.counters.failed);
                tracing::warn!(
                    event = ?event.metadata.name,
                    "event not written after {} attempts: {err}",
                    self.write_retry.steps
                );
                return false;
            };
            tracing::debug!(event = ?event.metadata.name, ?wait, "event write failed, will retry: {err}");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt at writing `event`, as client-go's `recordEvent`.
    async fn attempt(&self, event: &Event) -> Attempt {
        let is_series = event.series.is_some();
        let result = if is_series {
            match self.sink.patch_series(event).await {
                Err(err) if err.is_not_found() => {
                    // Deleted or expired meanwhile: create it anew, series and all.
                    let mut fresh = event.clone();
                    fresh.metadata.resource_version = None;
                    self.sink.create(&fresh).await
                }
                other => other,
            }
        } else {
            self.sink.create(event).await
        };
        match result {
            Ok(_) => {
                bump(&self.counters.written);
                Attempt::Written
            }
            // Built the same way next time: no point retrying.
            Err(err @ (rest::Error::InvalidRequest { .. } | rest::Error::Encode(_))) => {
                Attempt::Abandon(err)
            }
            // Creating a series' Event raced with its first create: the patch will work.
            Err(err) if err.api().is_some() && is_series && err.is_already_exists() => {
                Attempt::Retry(err)
            }
            Err(err) if err.api().is_some() => Attempt::Abandon(err),
            // Transport errors and unreadable answers may pass.
            Err(err) => Attempt::Retry(err),
        }
    }

    /// Writes the series that ended and forgets them (a single attempt each).
    async fn finish_series(&mut self) {
        for (key, event) in self.series.finished(Instant::now(), self.finish_after) {
            match self.attempt(&event).await {
                Attempt::Retry(err) => {
                    tracing::debug!(event = ?event.metadata.name, "finishing series, will retry: {err}");
                }
                Attempt::Written => self.series.remove(&key),
                Attempt::Abandon(err) => {
                    bump(&self.counters.failed);
                    tracing::warn!(event = ?event.metadata.name, "series not written: {err}");
                    self.series.remove(&key);
                }
            }
        }
    }

    /// Writes every running series again (`refreshExistingEventSeries`; a single attempt each).
    async fn refresh_series(&mut self) {
        for (key, event) in self.series.series() {
            match self.attempt(&event).await {
                Attempt::Written => self.series.written(&key, &event),
                Attempt::Retry(err) => {
                    tracing::debug!(event = ?event.metadata.name, "refreshing series failed: {err}");
                }
                Attempt::Abandon(err) => {
                    bump(&self.counters.failed);
                    tracing::warn!(event = ?event.metadata.name, "series not written: {err}");
                }
            }
        }
    }

    /// Writes the series counts the API has not seen yet (at shutdown).
    async fn flush_series(&mut self) {
        for (key, event) in self.series.unwritten() {
            if self.write_with_retries(&event).await {
                self.series.written(&key, &event);
            }
        }
    }
}

/// The writer task: events in order, series finished and refreshed on their tickers; on
/// `drain`, the buffered events and unwritten series counts are written before it returns.
async fn run<S: Sink>(
    mut writer: Writer<S>,
    mut receiver: mpsc::Receiver<Event>,
    drain: CancellationToken,
) {
    let ticker = |period: Duration| {
        let mut ticker = tokio::time::interval_at(Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker
    };
    let mut finish = ticker(writer.finish_after);
    let mut refresh = ticker(writer.refresh_every);
    loop {
        tokio::select! {
            biased;
            () = drain.cancelled() => break,
            received = receiver.recv() => match received {
                Some(event) => writer.handle(event).await,
                None => break,
            },
            _ = finish.tick() => writer.finish_series().await,
            _ = refresh.tick() => writer.refresh_series().await,
        }
    }
    receiver.close();
    while let Some(event) = receiver.recv().await {
        writer.handle(event).await;
    }
    writer.flush_series().await;
}
