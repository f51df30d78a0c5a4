//! [`Reflector`]: keeps a [`ReflectorSink`] (an informer's store) in step with the server,
//! as client-go's `tools/cache/reflector.go`.
//!
//! The loop, and the client-go rule each step follows:
//! 1. **Initial state.** By a streaming list ("WatchList", client-go's default since 1.35): a
//!    watch with `sendInitialEvents=true`, `resourceVersionMatch=NotOlderThan` and bookmarks,
//!    whose ADDED events up to the bookmark annotated `k8s.io/initial-events-end` are the
//!    current state; that state replaces the sink's contents in one step, and the same stream
//!    goes on as the watch. If the server refuses the streaming list, a paginated LIST
//!    ([`DEFAULT_PAGE_SIZE`] per page) is used instead. Unlike client-go, which tries the
//!    streaming list again before every relist, a refusal that means the feature is missing
//!    (400, 405, 415, 422) is remembered, so such a server is not asked twice.
//! 2. **Which resourceVersion to list at.** The first LIST asks for `resourceVersion=0`
//!    (served from the API server's watch cache); a relist asks for the last resourceVersion
//!    seen, so that a fleet of controllers relisting at once does not all read from etcd; only
//!    if that fails with 410 Gone is the list made at `""` (a consistent read).
//! 3. **Watch.** From the last resourceVersion seen, with bookmarks, and a server-side
//!    `timeoutSeconds` picked at random between 5 and 10 minutes so that watches do not all end
//!    at once. On the client side, a watch that receives nothing at all for that long plus
//!    [`WATCH_IDLE_GRACE`] is presumed dead and ended.
//! 4. **Disconnects.** When a watch ends (timeout, closed or broken connection, idle limit), a
//!    new one resumes from the last resourceVersion seen: no relist. If a new watch cannot be
//!    started because the server cannot be reached or answers 429, it is retried after a backoff,
//!    still without a relist.
//! 5. **410 Gone** (the resourceVersion is older than the server's history): relist (step 2).
//!    Other errors ending a watch also lead to a relist; a watch that ends within a second
//!    having delivered nothing counts as an error.
//! 6. **Backoff** between attempts: exponential from 800 ms to 30 s with full jitter (a random
//!    extra of up to the delay itself), reset after 2 minutes without a failure — client-go's
//!    constants. Every error goes to the sink's [`ReflectorSink::watch_error`].

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use futures_util::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::Error;
use super::store::object_key;
use crate::client::{Client, DEFAULT_PAGE_SIZE, Object};
use crate::rest::watch::WatchEvent;
use crate::rest::{self, ListOptions, ResourceVersionMatch};

/// The shortest server-side watch timeout the reflector asks for (client-go's
/// `minWatchTimeout`); each watch asks for a random value between this and twice it.
pub const MIN_WATCH_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How long past its server-side timeout a silent watch is kept before it is presumed dead.
pub const WATCH_IDLE_GRACE: Duration = Duration::from_secs(30);
/// The first wait after a failure (client-go's reflector backoff).
pub const BACKOFF_INITIAL: Duration = Duration::from_millis(800);
/// The longest wait after failures.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A backoff that has not been needed for this long starts again from [`BACKOFF_INITIAL`].
pub const BACKOFF_RESET: Duration = Duration::from_secs(2 * 60);

/// Where a [`Reflector`] delivers what it learns (an informer implements it).
pub trait ReflectorSink<K>: Send + Sync {
    /// The complete current state (after a list or the initial events of a streaming list):
    /// replace everything held with `objects`.
    fn replace(&self, objects: Vec<K>, resource_version: &str);
    /// An object was added.
    fn added(&self, obj: K);
    /// An object changed.
    fn modified(&self, obj: K);
    /// An object was deleted (its last state).
    fn deleted(&self, obj: K);
    /// Something went wrong; the reflector goes on (after a backoff where due).
    fn watch_error(&self, error: &Error);
    /// Applied to every object as soon as it is decoded, before the reflector keeps it (so a
    /// transform that drops fields lowers the peak memory of a list, not only the steady
    /// state). By default, nothing.
    fn transform(&self, obj: K) -> K {
        obj
    }
}

/// How a reflector lists and watches.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReflectorOptions {
    /// Label and field selectors for both the list and the watch (other fields are set by the
    /// reflector).
    pub list_options: ListOptions,
    /// Start with a streaming list when the server supports it (default `true`).
    pub use_watch_list: bool,
    /// Page size of a LIST from etcd.
    pub page_size: u32,
}

impl Default for ReflectorOptions {
    fn default() -> Self {
        ReflectorOptions {
            list_options: ListOptions::default(),
            use_watch_list: true,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// client-go's backoff manager on backon's exponential backoff: restarts from the initial
/// delay once it has not been used for [`BACKOFF_RESET`].
struct ResettingBackoff {
    current: ExponentialBackoff,
    last_used: Option<tokio::time::Instant>,
}

fn reflector_backoff() -> ExponentialBackoff {
    ExponentialBuilder::new()
        .with_min_delay(BACKOFF_INITIAL)
        .with_max_delay(BACKOFF_MAX)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

impl ResettingBackoff {
    fn new() -> Self {
        ResettingBackoff {
            current: reflector_backoff(),
            last_used: None,
        }
    }

    fn next_delay(&mut self) -> Duration {
        let now = tokio::time::Instant::now();
        if self
            .last_used
            .is_some_and(|last| now.duration_since(last) > BACKOFF_RESET)
        {
            self.current = reflector_backoff();
        }
        self.last_used = Some(now);
        self.current.next().unwrap_or(BACKOFF_MAX)
    }
}

type EventStream<K> = Pin<Box<dyn Stream<Item = Result<WatchEvent<K>, rest::Error>> + Send>>;

/// How a watch ended.
enum WatchEnd {
    /// Cancelled: stop.
    Cancelled,
    /// Closed or broken: resume from the last resourceVersion.
    Resume,
    /// 410 Gone or another error: relist.
    Relist,
}

/// Lists and watches one resource into a [`ReflectorSink`]; see the module docs.
pub struct Reflector<K> {
    client: Client<K>,
    options: ReflectorOptions,
    last_sync_rv: String,
    rv_unavailable: bool,
    watch_list_refused: bool,
    backoff: ResettingBackoff,
}

impl<K> std::fmt::Debug for Reflector<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reflector")
            .field("client", &self.client)
            .field("last_sync_resource_version", &self.last_sync_rv)
            .finish_non_exhaustive()
    }
}

/// Whether the server refused the streaming list as such (400 Bad Request, 405, 415 or 422
/// Invalid: a server without the feature), as opposed to a passing failure (401 while a
/// credential rotates, 403, 410, 429, ...), after which it is tried again.
fn is_refusal(e: &Error) -> bool {
    let Error::Rest(e) = e else { return false };
    e.api()
        .is_some_and(|api| matches!(api.status.code, 400 | 405 | 415 | 422))
}

/// Whether a new watch should simply be retried later: the server could not be reached, or
/// asked us to slow down.
fn is_retryable_watch_start(e: &rest::Error) -> bool {
    matches!(e, rest::Error::Transport { .. }) || e.api().is_some_and(|api| api.status.code == 429)
}

impl<K: Object> Reflector<K> {
    /// A reflector for the objects `client` reaches (one namespace or all).
    pub fn new(client: Client<K>, options: ReflectorOptions) -> Self {
        Reflector {
            client,
            options,
            last_sync_rv: String::new(),
            rv_unavailable: false,
            watch_list_refused: false,
            backoff: ResettingBackoff::new(),
        }
    }

    /// Runs until `cancel` is cancelled.
    pub async fn run(mut self, sink: &dyn ReflectorSink<K>, cancel: CancellationToken) {
        loop {
            if cancel.is_cancelled() {
                return;
            }
            if let Err(e) = self.list_and_watch(sink, &cancel).await {
                sink.watch_error(&e);
            }
            if !self.sleep_backoff(&cancel).await {
                return;
            }
        }
    }

    /// Waits the next backoff delay; false if cancelled meanwhile.
    async fn sleep_backoff(&mut self, cancel: &CancellationToken) -> bool {
        let delay = self.backoff.next_delay();
        tokio::select! {
            _ = cancel.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    fn watch_timeout() -> Duration {
        let min = MIN_WATCH_TIMEOUT.as_secs();
        Duration::from_secs(fastrand::u64(min..=2 * min))
    }

    fn watch_options(&self, timeout: Duration) -> ListOptions {
        ListOptions {
            resource_version: Some(self.last_sync_rv.clone()),
            allow_watch_bookmarks: Some(true),
            timeout_seconds: u32::try_from(timeout.as_secs()).ok(),
            label_selector: self.options.list_options.label_selector.clone(),
            field_selector: self.options.list_options.field_selector.clone(),
            ..ListOptions::default()
        }
    }

    async fn open_watch(
        &self,
        options: &ListOptions,
        timeout: Duration,
    ) -> Result<EventStream<K>, rest::Error> {
        let stream = self
            .client
            .watch_with_idle_timeout(options, timeout + WATCH_IDLE_GRACE)
            .await?;
        Ok(Box::pin(stream))
    }

    /// One round: the initial state, then watches until one needs a relist.
    async fn list_and_watch(
        &mut self,
        sink: &dyn ReflectorSink<K>,
        cancel: &CancellationToken,
    ) -> Result<(), Error> {
        let mut stream = None;
        if self.options.use_watch_list && !self.watch_list_refused {
            match self.watch_list(sink, cancel).await {
                Ok(Some(s)) => stream = Some(s),
                Ok(None) => return Ok(()),
                Err(e) => {
                    if is_refusal(&e) {
                        self.watch_list_refused = true;
                    }
                    tracing::debug!(error = %e, "the streaming list failed; falling back to LIST");
                    sink.watch_error(&e);
                }
            }
        }
        if stream.is_none() {
            let listed = tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                listed = self.list(sink) => listed,
            };
            listed?;
        }
        loop {
            let (events, started) = match stream.take() {
                Some(s) => s,
                None => {
                    let timeout = Self::watch_timeout();
                    let options = self.watch_options(timeout);
                    let opened = tokio::select! {
                        _ = cancel.cancelled() => return Ok(()),
                        opened = self.open_watch(&options, timeout) => opened,
                    };
                    match opened {
                        Ok(s) => (s, tokio::time::Instant::now()),
                        Err(e) if e.is_gone() => return Err(Error::Rest(e)),
                        Err(e) if is_retryable_watch_start(&e) => {
                            sink.watch_error(&Error::Rest(e));
                            if !self.sleep_backoff(cancel).await {
                                return Ok(());
                            }
                            continue;
                        }
                        Err(e) => return Err(Error::Rest(e)),
                    }
                }
            };
            match self.watch_handler(events, started, sink, cancel).await? {
                WatchEnd::Cancelled | WatchEnd::Relist => return Ok(()),
                WatchEnd::Resume => {}
            }
        }
    }

    /// A paginated LIST into the sink, at the resourceVersion client-go's rules pick.
    async fn list(&mut self, sink: &dyn ReflectorSink<K>) -> Result<(), Error> {
        let (items, rv) = match self.list_at(self.relist_resource_version(), sink).await {
            Err(e) if e.is_gone() => {
                // The version we asked for is no longer available: read the latest.
                self.rv_unavailable = true;
                self.list_at(self.relist_resource_version(), sink).await?
            }
            other => other?,
        };
        self.rv_unavailable = false;
        self.last_sync_rv = rv.clone();
        sink.replace(items, &rv);
        Ok(())
    }

    fn relist_resource_version(&self) -> String {
        if self.rv_unavailable {
            String::new()
        } else if self.last_sync_rv.is_empty() {
            "0".to_string()
        } else {
            self.last_sync_rv.clone()
        }
    }

    async fn list_at(
        &self,
        rv: String,
        sink: &dyn ReflectorSink<K>,
    ) -> Result<(Vec<K>, String), rest::Error> {
        // client-go: with a resourceVersion other than "" and "0", paging is switched off so
        // that the watch cache can answer.
        let paged = rv.is_empty() || rv == "0";
        let mut options = ListOptions {
            label_selector: self.options.list_options.label_selector.clone(),
            field_selector: self.options.list_options.field_selector.clone(),
            limit: paged.then_some(self.options.page_size),
            resource_version: Some(rv.clone()),
            resource_version_match: (!rv.is_empty() && rv != "0")
                .then_some(ResourceVersionMatch::NotOlderThan),
            ..ListOptions::default()
        };
        let mut items = Vec::new();
        loop {
            let page = self.client.list(&options).await?;
            items.extend(page.items.into_iter().map(|o| sink.transform(o)));
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => {
                    // Later pages carry the token only (the API refuses a resourceVersion).
                    options.continue_token = Some(token);
                    options.resource_version = None;
                    options.resource_version_match = None;
                }
                None => {
                    return Ok((items, page.metadata.resource_version.unwrap_or_default()));
                }
            }
        }
    }

    /// The initial state by a streaming list; the stream to go on watching with, or `None`
    /// when cancelled.
    async fn watch_list(
        &mut self,
        sink: &dyn ReflectorSink<K>,
        cancel: &CancellationToken,
    ) -> Result<Option<(EventStream<K>, tokio::time::Instant)>, Error> {
        let timeout = Self::watch_timeout();
        let mut options = self.watch_options(timeout);
        options.send_initial_events = Some(true);
        options.resource_version_match = Some(ResourceVersionMatch::NotOlderThan);
        if self.rv_unavailable {
            options.resource_version = Some(String::new());
        }
        let opened = tokio::select! {
            _ = cancel.cancelled() => return Ok(None),
            opened = self.open_watch(&options, timeout) => opened,
        };
        let mut events = opened.map_err(Error::Rest)?;
        let started = tokio::time::Instant::now();
        // The initial events go to a temporary map and reach the sink in one replace.
        let mut initial: HashMap<String, K> = HashMap::new();
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return Ok(None),
                next = events.next() => next,
            };
            match next {
                Some(Ok(WatchEvent::Added(obj) | WatchEvent::Modified(obj))) => {
                    initial.insert(object_key(&obj), sink.transform(obj));
                }
                Some(Ok(WatchEvent::Deleted(obj))) => {
                    initial.remove(&object_key(&obj));
                }
                Some(Ok(WatchEvent::Bookmark(b))) if b.is_initial_events_end() => {
                    self.last_sync_rv = b.resource_version.clone();
                    self.rv_unavailable = false;
                    sink.replace(initial.into_values().collect(), &b.resource_version);
                    return Ok(Some((events, started)));
                }
                Some(Ok(WatchEvent::Bookmark(_))) => {}
                Some(Ok(WatchEvent::Error(e))) => {
                    if e.is_gone() {
                        self.rv_unavailable = true;
                    }
                    return Err(Error::Rest(rest::Error::Api {
                        error: e,
                        attempts: 1,
                    }));
                }
                Some(Err(e)) => return Err(Error::Rest(e)),
                None => return Err(Error::InitialEventsIncomplete),
            }
        }
    }

    /// Feeds one watch's events to the sink until it ends.
    async fn watch_handler(
        &mut self,
        mut events: EventStream<K>,
        started: tokio::time::Instant,
        sink: &dyn ReflectorSink<K>,
        cancel: &CancellationToken,
    ) -> Result<WatchEnd, Error> {
        let mut count = 0usize;
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return Ok(WatchEnd::Cancelled),
                next = events.next() => next,
            };
            let event = match next {
                Some(Ok(event)) => event,
                Some(Err(e @ (rest::Error::Body { .. } | rest::Error::Transport { .. }))) => {
                    tracing::debug!(error = %e, "the watch broke; resuming");
                    return Ok(self.ended(started, count));
                }
                Some(Err(rest::Error::Watch {
                    source: rest::watch::WatchError::Idle(d),
                    ..
                })) => {
                    tracing::debug!(idle = ?d, "the watch went silent; resuming");
                    return Ok(WatchEnd::Resume);
                }
                Some(Err(e)) => {
                    sink.watch_error(&Error::Rest(e));
                    return Ok(WatchEnd::Relist);
                }
                None => return Ok(self.ended(started, count)),
            };
            count += 1;
            match event {
                WatchEvent::Added(obj) => {
                    self.track(&obj);
                    sink.added(sink.transform(obj));
                }
                WatchEvent::Modified(obj) => {
                    self.track(&obj);
                    sink.modified(sink.transform(obj));
                }
                WatchEvent::Deleted(obj) => {
                    self.track(&obj);
                    sink.deleted(sink.transform(obj));
                }
                // A bookmark without a version says nothing; watching from "" would skip events.
                WatchEvent::Bookmark(b) if !b.resource_version.is_empty() => {
                    self.last_sync_rv = b.resource_version;
                }
                WatchEvent::Bookmark(_) => {}
                WatchEvent::Error(e) => {
                    let gone = e.is_gone();
                    let err = Error::Rest(rest::Error::Api {
                        error: e,
                        attempts: 1,
                    });
                    if gone {
                        tracing::debug!(error = %err, "the watch's resourceVersion is gone; relisting");
                    } else {
                        sink.watch_error(&err);
                    }
                    return Ok(WatchEnd::Relist);
                }
            }
        }
    }

    /// A watch ended by the server or the network: resume, unless it ended at once having
    /// delivered nothing (client-go's "very short watch"), which counts as an error.
    fn ended(&self, started: tokio::time::Instant, count: usize) -> WatchEnd {
        if count == 0 && started.elapsed() < Duration::from_secs(1) {
            WatchEnd::Relist
        } else {
            WatchEnd::Resume
        }
    }

    fn track(&mut self, obj: &K) {
        if let Some(rv) = obj.object_resource_version() {
            self.last_sync_rv = rv.to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn backoff_grows_from_800ms_to_30s_with_jitter_and_resets_after_two_quiet_minutes() {
        let mut b = ResettingBackoff::new();
        let first = b.next_delay();
        assert!(
            first >= BACKOFF_INITIAL && first <= 2 * BACKOFF_INITIAL,
            "{first:?}"
        );
        let mut last = first;
        for _ in 0..12 {
            last = b.next_delay();
            tokio::time::advance(Duration::from_secs(1)).await;
        }
        assert!(last >= BACKOFF_MAX && last <= 2 * BACKOFF_MAX, "{last:?}");
        tokio::time::advance(BACKOFF_RESET + Duration::from_secs(1)).await;
        let reset = b.next_delay();
        assert!(reset <= 2 * BACKOFF_INITIAL, "{reset:?}");
    }

    #[test]
    fn watch_timeouts_are_spread_between_5_and_10_minutes() {
        let timeouts: Vec<Duration> = (0..200)
            .map(|_| Reflector::<crate::dynamic::DynamicObject>::watch_timeout())
            .collect();
        assert!(
            timeouts
                .iter()
                .all(|t| *t >= MIN_WATCH_TIMEOUT && *t <= 2 * MIN_WATCH_TIMEOUT)
        );
        let distinct: std::collections::HashSet<_> = timeouts.iter().collect();
        assert!(distinct.len() > 50, "not random: {}", distinct.len());
    }
}
