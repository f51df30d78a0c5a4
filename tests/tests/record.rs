//! `kubeclient::record` against the real API server: the Events a recorder writes, series for
//! repeats, distinct Events for distinct reasons, the spam filter, a deleted series Event
//! created anew, the flush at shutdown, and events about a custom resource type.

use std::time::{Duration, Instant};

use kubeclient::api::core::v1::ConfigMap;
use kubeclient::client::{Client, Namespaced, ObjectMeta, Resource};
use kubeclient::record::{
    DEFAULT_SPAM_BURST, Event, EventBroadcaster, EventType, MicroTime, ObjectReference,
};
use kubeclient::rest::{CreateOptions, DeleteOptions, ListOptions, RestClient};
use serde_json::json;
use test_support::{cluster, namespace};

const CONTROLLER: &str = "record.kubeclient.test/tester";
const INSTANCE: &str = "tester-0";

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

async fn configmap(ns: &str, name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    Client::<ConfigMap>::namespaced(rest(), ns)
        .create(&cm, &CreateOptions::default())
        .await
        .expect("create configmap")
}

async fn events(ns: &str) -> Vec<Event> {
    Client::<Event>::namespaced(rest(), ns)
        .list(&ListOptions::default())
        .await
        .expect("list events")
        .items
}

/// Polls the Events of `ns` until `done` accepts them; panics with the last list after 30 s.
async fn wait_for_events(ns: &str, what: &str, done: impl Fn(&[Event]) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = events(ns).await;
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{what}: events are {got:#?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn count(event: &Event) -> Option<i32> {
    event.series.as_ref().map(|s| s.count)
}

#[tokio::test]
async fn an_event_appears_with_the_fields_recorded() {
    let ns = namespace().await;
    let cm = configmap(ns.name(), "settings").await;
    let other = configmap(ns.name(), "other").await;
    let broadcaster = EventBroadcaster::new(rest()).expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&cm);
    let related = ObjectReference::from_object(&other);
    // The API keeps microseconds: compare with the start time cut the same way.
    let before: MicroTime =
        serde_json::from_value(serde_json::to_value(MicroTime::now()).expect("json"))
            .expect("time");
    recorder.eventf(
        &regarding,
        Some(&related),
        EventType::Normal,
        "Synced",
        "Sync",
        format_args!("synced {} keys", 3),
    );

    let got = wait_for_events(ns.name(), "one event", |e| e.len() == 1).await;
    let event = &got[0];
    assert_eq!(event.reason, "Synced");
    assert_eq!(event.action, "Sync");
    assert_eq!(event.note, "synced 3 keys");
    assert_eq!(event.type_, "Normal");
    assert_eq!(event.reporting_controller, CONTROLLER);
    assert_eq!(event.reporting_instance, INSTANCE);
    assert_eq!(event.series, None);
    assert_eq!(event.regarding, regarding);
    assert_eq!(event.regarding.kind.as_deref(), Some("ConfigMap"));
    assert_eq!(event.regarding.api_version.as_deref(), Some("v1"));
    assert_eq!(
        event.regarding.uid.as_deref(),
        cm.metadata.uid.as_deref(),
        "the uid is taken"
    );
    assert!(event.regarding.uid.is_some());
    assert_eq!(event.related.as_ref(), Some(&related));
    let name = event.metadata.name.as_deref().expect("name");
    assert!(name.starts_with("settings."), "{name}");
    let time = event.event_time.expect("eventTime");
    assert!(time >= before, "{time} < {before}");
    assert!(time <= MicroTime::now());

    // The generated Event type (read in protobuf) reads the same object.
    let reference = Client::<kubeclient::api::events::v1::Event>::namespaced(rest(), ns.name())
        .get(name, &Default::default())
        .await
        .expect("get as the generated Event");
    assert_eq!(reference.note.as_deref(), Some("synced 3 keys"));
    assert_eq!(reference.regarding.and_then(|r| r.uid), cm.metadata.uid);
    broadcaster
        .shutdown(Duration::from_secs(10))
        .await
        .expect("shutdown");
}

#[tokio::test]
async fn repeats_are_one_event_whose_series_counts_them() {
    let ns = namespace().await;
    let cm = configmap(ns.name(), "flaky").await;
    let broadcaster = EventBroadcaster::builder(rest())
        .series_finish_after(Duration::from_secs(1))
        .start()
        .expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&cm);
    for i in 0..5 {
        recorder.eventf(
            &regarding,
            None,
            EventType::Warning,
            "ProbeFailed",
            "Probe",
            format_args!("attempt {i}"),
        );
    }
    // The first repeat is patched at once; the final count when the series finishes.
    let got = wait_for_events(ns.name(), "one event counting 5", |e| {
        e.len() == 1 && count(&e[0]) == Some(5)
    })
    .await;
    assert_eq!(got[0].note, "attempt 0", "the series keeps the first note");
    let series = got[0].series.as_ref().expect("series");
    assert!(series.last_observed_time >= got[0].event_time.expect("eventTime"));
    // Created, patched at the first repeat, patched when finished: nothing more.
    let stats = broadcaster
        .shutdown(Duration::from_secs(10))
        .await
        .expect("shutdown");
    assert_eq!((stats.recorded, stats.written), (5, 3), "{stats:?}");
    assert_eq!(count(&events(ns.name()).await[0]), Some(5));
}

#[tokio::test]
async fn distinct_reasons_are_distinct_events() {
    let ns = namespace().await;
    let cm = configmap(ns.name(), "busy").await;
    let broadcaster = EventBroadcaster::new(rest()).expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&cm);
    for reason in ["Created", "Updated", "Deleted"] {
        recorder.event(
            &regarding,
            None,
            EventType::Normal,
            reason,
            "Reconcile",
            "n",
        );
    }
    broadcaster
        .shutdown(Duration::from_secs(20))
        .await
        .expect("shutdown");
    let mut reasons: Vec<String> = events(ns.name())
        .await
        .into_iter()
        .map(|e| e.reason)
        .collect();
    reasons.sort();
    assert_eq!(reasons, ["Created", "Deleted", "Updated"]);
}

#[tokio::test]
async fn the_spam_filter_drops_events_beyond_the_burst() {
    let ns = namespace().await;
    let cm = configmap(ns.name(), "noisy").await;
    let broadcaster = EventBroadcaster::new(rest()).expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&cm);
    let sent = DEFAULT_SPAM_BURST as usize + 5;
    for i in 0..sent {
        recorder.event(
            &regarding,
            None,
            EventType::Normal,
            &format!("Step{i}"),
            "Step",
            "n",
        );
    }
    let stats_before_shutdown = broadcaster.stats();
    assert_eq!(stats_before_shutdown.recorded, sent as u64);
    let written = wait_for_events(ns.name(), "the burst written", |e| {
        e.len() >= DEFAULT_SPAM_BURST as usize
    })
    .await;
    let stats = broadcaster
        .shutdown(Duration::from_secs(30))
        .await
        .expect("shutdown");
    assert_eq!(stats.spam_filtered, 5, "{stats:?}");
    let all = events(ns.name()).await;
    assert_eq!(
        all.len(),
        DEFAULT_SPAM_BURST as usize,
        "{} then {}",
        written.len(),
        all.len()
    );
    // The first 25 reasons got through, in order.
    let mut reasons: Vec<String> = all.into_iter().map(|e| e.reason).collect();
    reasons.sort();
    let mut expected: Vec<String> = (0..DEFAULT_SPAM_BURST)
        .map(|i| format!("Step{i}"))
        .collect();
    expected.sort();
    assert_eq!(reasons, expected);
}

#[tokio::test]
async fn a_deleted_series_event_is_created_anew_and_shutdown_writes_the_count() {
    let ns = namespace().await;
    let cm = configmap(ns.name(), "gone").await;
    let broadcaster = EventBroadcaster::new(rest()).expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&cm);
    let record = || recorder.event(&regarding, None, EventType::Normal, "Tick", "Tick", "n");
    record();
    let first = wait_for_events(ns.name(), "the first event", |e| e.len() == 1).await;
    let name = first[0].metadata.name.clone().expect("name");
    Client::<Event>::namespaced(rest(), ns.name())
        .delete(&name, &DeleteOptions::default())
        .await
        .expect("delete the event");

    // The repeat patches the deleted Event, gets 404 and creates it again as a series.
    record();
    let again = wait_for_events(ns.name(), "the event again", |e| e.len() == 1).await;
    assert_eq!(again[0].metadata.name.as_deref(), Some(name.as_str()));
    assert_eq!(count(&again[0]), Some(2));

    // Two more repeats are only counted (the series finishes after 6 minutes) until shutdown.
    record();
    record();
    broadcaster
        .shutdown(Duration::from_secs(20))
        .await
        .expect("shutdown");
    let last = events(ns.name()).await;
    assert_eq!(last.len(), 1);
    assert_eq!(count(&last[0]), Some(4));
}

/// A custom resource type of our own.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Widget {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: ObjectMeta,
    #[serde(default)]
    spec: serde_json::Value,
}

const WIDGET_GROUP: &str = "record.kubeclient.test";

impl Resource for Widget {
    const GROUP: &'static str = WIDGET_GROUP;
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Widget";
    const PLURAL: &'static str = "widgets";
    type Scope = Namespaced;
    kubeclient::object_meta_accessors!();
}

#[tokio::test]
async fn a_warning_about_a_custom_resource() {
    test_support::api::create_crd(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{WIDGET_GROUP}")},
        "spec": {"group": WIDGET_GROUP, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]},
    }))
    .await;
    let ns = namespace().await;
    let widget = Widget {
        api_version: Widget::api_version(),
        kind: Widget::KIND.into(),
        metadata: ObjectMeta {
            name: Some("big".into()),
            ..ObjectMeta::default()
        },
        spec: json!({"size": 12}),
    };
    let widget = Client::<Widget>::namespaced(rest(), ns.name())
        .create(&widget, &CreateOptions::default())
        .await
        .expect("create widget");
    let broadcaster = EventBroadcaster::new(rest()).expect("broadcaster");
    let recorder = broadcaster
        .recorder(CONTROLLER, INSTANCE)
        .expect("recorder");
    let regarding = ObjectReference::from_object(&widget).with_field_path("spec.size");
    let long_note = "x".repeat(3000);
    recorder.event(
        &regarding,
        None,
        EventType::Warning,
        "TooLarge",
        "Validate",
        &long_note,
    );
    broadcaster
        .shutdown(Duration::from_secs(20))
        .await
        .expect("shutdown");

    let got = events(ns.name()).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let event = &got[0];
    assert_eq!(event.type_, "Warning");
    assert_eq!(event.regarding.kind.as_deref(), Some("Widget"));
    assert_eq!(
        event.regarding.api_version.as_deref(),
        Some("record.kubeclient.test/v1")
    );
    assert_eq!(event.regarding.uid, widget.metadata.uid);
    assert!(event.regarding.uid.is_some());
    assert_eq!(event.regarding.field_path.as_deref(), Some("spec.size"));
    assert_eq!(
        event.note.len(),
        kubeclient::record::NOTE_LENGTH_LIMIT,
        "the note was cut to fit"
    );
    assert!(event.note.ends_with(" ..."));
}
