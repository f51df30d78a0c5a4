//! The broadcaster's writer task end to end against a fake sink, on a paused clock: what is
//! written when, retries, 404s, drops, shutdown.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::broadcaster::Sink;
use super::*;
use crate::rest::{self, ApiError, RestClient};
use crate::retry::Backoff;

/// The permits of a fake sink's gate; a test holding all of them makes every write wait.
const GATE_PERMITS: u32 = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
enum Call {
    /// A create, with the series count it carried.
    Create(String, Option<i32>),
    /// A series patch, with its count.
    Patch(String, i32),
}

#[derive(Default)]
struct FakeState {
    calls: Vec<Call>,
    stored: HashMap<String, Event>,
    failures: VecDeque<rest::Error>,
}

/// Stores Events in memory; answers with queued failures first. Writes wait for a permit of
/// `gate` (plenty unless a test takes them away).
#[derive(Clone)]
struct FakeSink {
    state: Arc<Mutex<FakeState>>,
    gate: Arc<Semaphore>,
}

impl FakeSink {
    fn new() -> Self {
        FakeSink {
            state: Arc::default(),
            gate: Arc::new(Semaphore::new(GATE_PERMITS as usize)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().expect("fake sink state")
    }

    fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    fn fail_next(&self, err: rest::Error) {
        self.lock().failures.push_back(err);
    }

    fn forget(&self, name: &str) {
        self.lock().stored.remove(name);
    }

    async fn pass_gate(&self) {
        let _permit = self.gate.acquire().await.expect("gate open");
    }
}

fn api_error(code: u16, reason: &str) -> rest::Error {
    let body =
        serde_json::json!({"kind": "Status", "status": "Failure", "reason": reason, "code": code});
    rest::Error::Api {
        error: Box::new(ApiError::from_response(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/ns/events",
            code,
            body.to_string().as_bytes(),
        )),
        attempts: 1,
    }
}

fn body_error() -> rest::Error {
    rest::Error::Body {
        verb: http::Method::POST,
        path: "/apis/events.k8s.io/v1/namespaces/ns/events".into(),
        reason: "connection reset".into(),
    }
}

impl Sink for FakeSink {
    fn create(&self, event: &Event) -> impl Future<Output = Result<Event, rest::Error>> + Send {
        let sink = self.clone();
        let event = event.clone();
        async move {
            sink.pass_gate().await;
            let name = event.metadata.name.clone().unwrap_or_default();
            let mut state = sink.lock();
            state.calls.push(Call::Create(
                name.clone(),
                event.series.as_ref().map(|s| s.count),
            ));
            if let Some(err) = state.failures.pop_front() {
                return Err(err);
            }
            if state.stored.contains_key(&name) {
                return Err(api_error(409, "AlreadyExists"));
            }
            state.stored.insert(name, event.clone());
            Ok(event)
        }
    }

    fn patch_series(
        &self,
        event: &Event,
    ) -> impl Future<Output = Result<Event, rest::Error>> + Send {
        let sink = self.clone();
        let event = event.clone();
        async move {
            sink.pass_gate().await;
            let name = event.metadata.name.clone().unwrap_or_default();
            let mut state = sink.lock();
            let count = event.series.as_ref().map_or(0, |s| s.count);
            state.calls.push(Call::Patch(name.clone(), count));
            if let Some(err) = state.failures.pop_front() {
                return Err(err);
            }
            match state.stored.get_mut(&name) {
                Some(stored) => {
                    stored.series = event.series.clone();
                    Ok(stored.clone())
                }
                None => Err(api_error(404, "NotFound")),
            }
        }
    }
}

fn rest() -> RestClient {
    let url = url::Url::parse("http://127.0.0.1:9").expect("url");
    RestClient::new(&rest::Config::new(url)).expect("client")
}

fn start(
    sink: &FakeSink,
    builder: impl FnOnce(EventBroadcasterBuilder) -> EventBroadcasterBuilder,
) -> EventBroadcaster {
    builder(EventBroadcaster::builder(rest()))
        .start_with(sink.clone())
        .expect("start")
}

fn pod(name: &str) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        api_version: Some("v1".into()),
        namespace: Some("ns".into()),
        name: Some(name.into()),
        uid: Some(format!("uid-{name}")),
        ..ObjectReference::default()
    }
}

/// Lets the writer task work through what it has (the paused clock moves only when all
/// tasks wait).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn names(calls: &[Call]) -> Vec<&str> {
    calls
        .iter()
        .map(|c| match c {
            Call::Create(n, _) | Call::Patch(n, _) => n.as_str(),
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn repeats_are_one_event_whose_series_is_written_when_it_finishes() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b.series_finish_after(Duration::from_secs(1)));
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    for i in 0..5 {
        rec.eventf(
            &pod("web"),
            None,
            EventType::Normal,
            "Pulled",
            "Pull",
            format_args!("pull {i}"),
        );
    }
    settle().await;
    let calls = sink.calls();
    let name = names(&calls)[0].to_string();
    assert!(name.starts_with("web."), "{name}");
    assert_eq!(
        calls,
        vec![
            Call::Create(name.clone(), None),
            Call::Patch(name.clone(), 2)
        ],
        "created, then turned into a series; later repeats only counted"
    );
    let stored = sink.lock().stored[&name].clone();
    assert_eq!(stored.note, "pull 0", "the note is the first occurrence's");
    assert_eq!(stored.metadata.namespace.as_deref(), Some("ns"));
    assert_eq!(stored.reporting_controller, "example.com/ctl");

    // Idle for longer than the finish time: the final count is written.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(sink.calls().last(), Some(&Call::Patch(name.clone(), 5)));
    assert_eq!(sink.calls().len(), 3);
    assert_eq!(b.stats().written, 3);
    assert_eq!(b.stats().recorded, 5);

    // Forgotten after finishing: the same event starts a new Event.
    rec.event(
        &pod("web"),
        None,
        EventType::Normal,
        "Pulled",
        "Pull",
        "again",
    );
    settle().await;
    let calls = sink.calls();
    assert!(
        matches!(&calls[3], Call::Create(n, None) if *n != name),
        "{calls:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn distinct_reasons_are_distinct_events() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    rec.event(
        &pod("web"),
        None,
        EventType::Normal,
        "Started",
        "Start",
        "n",
    );
    rec.event(&pod("web"), None, EventType::Normal, "Stopped", "Stop", "n");
    rec.event(
        &pod("web"),
        None,
        EventType::Warning,
        "Started",
        "Start",
        "n",
    );
    settle().await;
    let calls = sink.calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| matches!(c, Call::Create(_, None))));
    let mut unique = names(&calls);
    unique.dedup();
    assert_eq!(unique.len(), 3, "every Event has its own name: {calls:?}");
}

#[tokio::test(start_paused = true)]
async fn a_series_whose_event_was_deleted_is_created_anew() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    rec.event(&pod("web"), None, EventType::Normal, "Pulled", "Pull", "n");
    settle().await;
    let name = names(&sink.calls())[0].to_string();
    sink.forget(&name);
    rec.event(&pod("web"), None, EventType::Normal, "Pulled", "Pull", "n");
    settle().await;
    assert_eq!(
        sink.calls(),
        vec![
            Call::Create(name.clone(), None),
            Call::Patch(name.clone(), 2),
            Call::Create(name.clone(), Some(2)),
        ]
    );
    assert_eq!(b.stats().written, 2);
}

#[tokio::test(start_paused = true)]
async fn transport_failures_are_retried_and_refusals_are_not() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    sink.fail_next(body_error());
    sink.fail_next(body_error());
    let started = Instant::now();
    rec.event(&pod("a"), None, EventType::Normal, "Pulled", "Pull", "n");
    tokio::time::sleep(Duration::from_secs(60)).await;
    let calls = sink.calls();
    assert_eq!(calls.len(), 3, "two failures, then written: {calls:?}");
    assert_eq!(b.stats().written, 1);
    // Two waits of 10 s plus up to 25%: the third attempt happened within the minute slept.
    assert!(started.elapsed() >= Duration::from_secs(20));

    sink.fail_next(api_error(422, "Invalid"));
    rec.event(&pod("b"), None, EventType::Normal, "Pulled", "Pull", "n");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(sink.calls().len(), 4, "a refusal is not retried");
    assert_eq!(b.stats().failed, 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_the_attempt_limit() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| {
        b.write_retry(Backoff {
            duration: Duration::from_secs(1),
            factor: 1.0,
            jitter: 0.0,
            steps: 3,
        })
    });
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    for _ in 0..5 {
        sink.fail_next(body_error());
    }
    rec.event(&pod("a"), None, EventType::Normal, "Pulled", "Pull", "n");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(sink.calls().len(), 3);
    assert_eq!(b.stats().failed, 1);
    assert_eq!(b.stats().written, 0);
}

#[tokio::test(start_paused = true)]
async fn the_spam_filter_drops_beyond_the_burst() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    for i in 0..30 {
        rec.event(
            &pod("web"),
            None,
            EventType::Normal,
            &format!("Reason{i}"),
            "Act",
            "n",
        );
    }
    rec.event(
        &pod("other"),
        None,
        EventType::Normal,
        "Reason0",
        "Act",
        "n",
    );
    settle().await;
    let stats = b.stats();
    assert_eq!(stats.spam_filtered, 5);
    assert_eq!(stats.written, 26);
    assert_eq!(sink.calls().len(), 26);
}

#[tokio::test(start_paused = true)]
async fn similar_events_with_many_notes_become_one_aggregate() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    // Distinct actions keep the first nine apart; the tenth distinct note aggregates.
    for i in 0..12 {
        rec.event(
            &pod("web"),
            None,
            EventType::Warning,
            "Failed",
            &format!("Step{i}"),
            &format!("failure {i}"),
        );
    }
    settle().await;
    let calls = sink.calls();
    let creates: Vec<&Call> = calls
        .iter()
        .filter(|c| matches!(c, Call::Create(..)))
        .collect();
    assert_eq!(creates.len(), 10, "{calls:?}");
    let state = sink.lock();
    let aggregates: Vec<&Event> = state
        .stored
        .values()
        .filter(|e| e.note.starts_with(AGGREGATE_NOTE_PREFIX))
        .collect();
    assert_eq!(aggregates.len(), 1);
    assert_eq!(
        aggregates[0].note,
        format!("{AGGREGATE_NOTE_PREFIX}failure 9")
    );
    assert_eq!(
        aggregates[0].series.as_ref().map(|s| s.count),
        Some(2),
        "two repeats after it; the second is counted in the cache"
    );
    drop(state);
    assert_eq!(b.stats().aggregated, 3);
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_drops_without_waiting_and_shutdown_writes_the_rest() {
    let sink = FakeSink::new();
    // No permits: every write waits.
    let blocked = sink
        .gate
        .acquire_many(GATE_PERMITS)
        .await
        .expect("take permits");
    let b = start(&sink, |b| {
        b.buffer(2).series_finish_after(Duration::from_secs(3600))
    });
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    for i in 0..10 {
        rec.event(
            &pod("web"),
            None,
            EventType::Normal,
            &format!("R{i}"),
            "Act",
            "n",
        );
    }
    // Every call returned at once; the buffer took two, the task had not started yet.
    assert_eq!(b.stats().recorded, 2);
    assert_eq!(b.stats().dropped, 8);
    drop(blocked);
    settle().await;
    // A series with a count not written yet, and two more events still buffered at shutdown.
    rec.event(&pod("web"), None, EventType::Normal, "R0", "Act", "n");
    rec.event(&pod("web"), None, EventType::Normal, "R0", "Act", "n");
    settle().await;
    let blocked = sink
        .gate
        .acquire_many(GATE_PERMITS)
        .await
        .expect("take permits");
    rec.event(&pod("web"), None, EventType::Normal, "R0", "Act", "n");
    rec.event(&pod("web"), None, EventType::Normal, "Last", "Act", "n");
    let shutdown = tokio::spawn(b.shutdown(Duration::from_secs(30)));
    settle().await;
    drop(blocked);
    let stats = shutdown.await.expect("join").expect("flushed in time");
    assert_eq!(
        (stats.recorded, stats.dropped, stats.written),
        (6, 8, 5),
        "{stats:?}"
    );
    let calls = sink.calls();
    let r0 = names(&calls)[0].to_string();
    assert_eq!(
        &calls[2..],
        &[
            Call::Patch(r0.clone(), 2),
            Call::Create(names(&calls)[3].to_string(), None),
            Call::Patch(r0, 4),
        ],
        "{calls:?}"
    );
    // Recording after shutdown goes nowhere, quietly.
    rec.event(&pod("web"), None, EventType::Normal, "Late", "Act", "n");
}

#[tokio::test(start_paused = true)]
async fn shutdown_gives_up_after_its_timeout() {
    let sink = FakeSink::new();
    let _blocked = sink
        .gate
        .acquire_many(GATE_PERMITS)
        .await
        .expect("take permits");
    let b = start(&sink, |b| b);
    let rec = b.recorder("example.com/ctl", "ctl-0").expect("recorder");
    rec.event(&pod("web"), None, EventType::Normal, "R", "Act", "n");
    let err = b
        .shutdown(Duration::from_secs(5))
        .await
        .expect_err("the write never ends");
    assert!(matches!(err, Error::ShutdownTimedOut { .. }), "{err}");
    rec.event(&pod("web"), None, EventType::Normal, "R", "Act", "n");
}

#[tokio::test(start_paused = true)]
async fn invalid_input_is_refused() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    assert!(matches!(
        b.recorder("Not A Name", "x"),
        Err(Error::InvalidReportingController(_))
    ));
    assert!(matches!(
        b.recorder("ctl", ""),
        Err(Error::InvalidReportingInstance(_))
    ));
    assert!(matches!(
        b.recorder("ctl", &"i".repeat(129)),
        Err(Error::InvalidReportingInstance(_))
    ));
    let rec = b
        .recorder("ctl", "ctl-0")
        .expect("a plain name is qualified");
    rec.event(&pod("web"), None, EventType::Normal, "", "Act", "n");
    rec.event(
        &pod("web"),
        None,
        EventType::Normal,
        "R",
        &"a".repeat(129),
        "n",
    );
    rec.event(
        &pod("web"),
        None,
        EventType::Normal,
        "R",
        "Act",
        &"n".repeat(5000),
    );
    settle().await;
    assert_eq!(b.stats().invalid, 2);
    let state = sink.lock();
    let stored: Vec<&Event> = state.stored.values().collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].note.len(),
        NOTE_LENGTH_LIMIT,
        "the long note was cut"
    );
}

#[tokio::test(start_paused = true)]
async fn cluster_scoped_objects_get_events_in_default() {
    let sink = FakeSink::new();
    let b = start(&sink, |b| b);
    let rec = b.recorder("ctl", "ctl-0").expect("recorder");
    let node = ObjectReference {
        kind: Some("Node".into()),
        api_version: Some("v1".into()),
        name: Some("node-1".into()),
        ..ObjectReference::default()
    };
    rec.event(&node, None, EventType::Warning, "Pressure", "Check", "n");
    settle().await;
    let state = sink.lock();
    let event = state.stored.values().next().expect("written");
    assert_eq!(event.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(event.type_, "Warning");
}

#[test]
fn starting_outside_a_runtime_is_an_error() {
    let err = EventBroadcaster::new(rest()).expect_err("no runtime");
    assert!(matches!(err, Error::NoRuntime), "{err}");
}
