//! Recording `events.k8s.io/v1` Events, as client-go's `tools/events` (broadcaster, recorder,
//! event series) with the spam filter and aggregation of `tools/record`'s `EventCorrelator`.
//!
//! An [`EventBroadcaster`] owns one background task that writes Events to the API; the
//! [`EventRecorder`]s it hands out never wait: an event goes into a bounded buffer, or is
//! dropped and counted ([`EventStats`]) when the buffer is full.
//!
//! ```no_run
//! # #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! # struct Widget { metadata: kubeclient::client::ObjectMeta }
//! # impl kubeclient::client::Resource for Widget {
//! #     const GROUP: &'static str = "example.com"; const VERSION: &'static str = "v1";
//! #     const KIND: &'static str = "Widget"; const PLURAL: &'static str = "widgets";
//! #     type Scope = kubeclient::client::Namespaced;
//! #     kubeclient::object_meta_accessors!();
//! # }
//! # async fn demo(rest: kubeclient::rest::RestClient, widget: Widget) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use kubeclient::record::{EventBroadcaster, EventType, ObjectReference};
//!
//! let broadcaster = EventBroadcaster::new(rest)?;
//! let recorder = broadcaster.recorder("example.com/widget-controller", "widget-controller-0")?;
//! let regarding = ObjectReference::from_object(&widget);
//! recorder.event(&regarding, None, EventType::Warning, "SizeTooLarge", "Resize", "size 12 is over the limit");
//! // Before exiting: write what is still buffered.
//! broadcaster.shutdown(Duration::from_secs(10)).await?;
//! # Ok(()) }
//! ```
//!
//! What happens to an event, in order, and which client-go file each rule follows:
//! 1. The recorder checks `reason` and `action` (1 to 128 bytes, the API's limits), cuts the
//!    note to [`NOTE_LENGTH_LIMIT`] bytes, names the Event `<object name>.<hex nanoseconds>`
//!    in the regarding object's namespace (`default` for cluster-scoped objects), and buffers
//!    it (`tools/events/event_recorder.go`, `tools/record/util`).
//! 2. The writer task runs the correlator: aggregation of similar events and the per-source,
//!    per-object spam filter (`tools/record/events_cache.go`; see [`DEFAULT_SPAM_BURST`],
//!    [`DEFAULT_SPAM_REFILL`], [`DEFAULT_AGGREGATE_MAX_EVENTS`], [`DEFAULT_AGGREGATE_INTERVAL`]).
//! 3. Series (`tools/events/event_broadcaster.go`): the first occurrence is created; the first
//!    repeat of an isomorphic event patches `series` (count 2); later repeats only count, and
//!    the counts are written when the series finishes ([`DEFAULT_SERIES_FINISH`] without a
//!    repeat) or at the periodic refresh ([`DEFAULT_SERIES_REFRESH`]). A patch answered 404
//!    creates the Event anew. Isomorphic means the same type, action, reason, reporting
//!    controller and instance, regarding and related references (the note is not compared).
//! 4. A failed write is tried again, [`RETRY_WAIT`] apart, for at most
//!    [`MAX_TRIES_PER_EVENT`] tries in all.
//!
//! Where this differs from client-go: the spam filter and aggregation (which client-go only
//! applies to `core/v1` events) also run here; [`EventBroadcaster::shutdown`] writes what is
//! buffered and the unwritten series counts before it stops (within a timeout); a finished
//! series whose count the API already has is not written again; a repeat's
//! `lastObservedTime` is the time it was recorded, not the time the task reached it; Event
//! names get a nanosecond count one higher than the last when two fall on the same
//! nanosecond; one task writes (client-go runs eight workers); an event type is an enum, so an
//! invalid type cannot be recorded.

mod broadcaster;
mod correlator;
mod event;
mod series;
#[cfg(test)]
mod tests;

pub use broadcaster::{
    DEFAULT_BUFFER, EventBroadcaster, EventBroadcasterBuilder, EventRecorder, EventStats,
    MAX_TRIES_PER_EVENT, RETRY_WAIT,
};
pub use correlator::{
    AGGREGATE_NOTE_PREFIX, DEFAULT_AGGREGATE_INTERVAL, DEFAULT_AGGREGATE_MAX_EVENTS,
    DEFAULT_SPAM_BURST, DEFAULT_SPAM_REFILL, LRU_CACHE_ENTRIES,
};
pub use event::{
    Event, EventSeries, EventType, FIELD_LENGTH_LIMIT, MicroTime, NOTE_LENGTH_LIMIT,
    ObjectReference,
};
pub use series::{DEFAULT_SERIES_FINISH, DEFAULT_SERIES_REFRESH};

/// What can go wrong setting up event recording. Recording itself reports nothing to the
/// caller (it never waits); see [`EventStats`] and the `tracing` logs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The reporting controller is not a qualified name, as the API requires.
    #[error(
        "event recorder: reporting controller {0:?} is not a qualified name (like example.com/my-controller)"
    )]
    InvalidReportingController(String),
    /// The reporting instance is empty or longer than 128 bytes.
    #[error("event recorder: reporting instance {0:?} must be 1 to 128 bytes")]
    InvalidReportingInstance(String),
    /// The broadcaster was started outside a Tokio runtime.
    #[error("event broadcaster: no tokio runtime to run its writer task on")]
    NoRuntime,
    /// Shutdown did not finish writing within its timeout; the rest was dropped.
    #[error("event broadcaster: shutdown did not finish writing within {timeout:?}")]
    ShutdownTimedOut {
        /// The timeout given.
        timeout: std::time::Duration,
    },
}
