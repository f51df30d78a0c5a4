//! The raw watch and request loop as an informer needs them, against the real API server:
//! bookmarks of a custom type with required fields, for typed, dynamic and metadata clients;
//! timeouts that cover a body that stalls; watches that go silent end instead of hanging.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kubeclient::client::{Client, Namespaced, ObjectMeta, Resource};
use kubeclient::discovery::GroupVersionResource;
use kubeclient::dynamic::{DynamicClient, MetadataClient};
use kubeclient::rest::watch::{WatchError, WatchEvent};
use kubeclient::rest::{self, ListOptions, ResourceVersionMatch, RestClient};
use serde::{Deserialize, Serialize};
use serde_json::json;
use test_support::faults::{Fault, FaultProxy};
use test_support::{api, cluster, namespace};

const GROUP: &str = "watch.kubeclient.test";

/// A custom type whose `spec` is required: a bookmark (metadata only) cannot decode as it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Gadget {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: GadgetSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GadgetSpec {
    size: u32,
}

impl Resource for Gadget {
    const GROUP: &'static str = GROUP;
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Gadget";
    const PLURAL: &'static str = "gadgets";
    type Scope = Namespaced;
    kubeclient::object_meta_accessors!();
}

async fn gadget_crd() {
    api::create_crd(&json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{GROUP}")},
        "spec": {"group": GROUP, "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "required": ["spec"],
                    "properties": {"spec": {"type": "object", "required": ["size"],
                        "properties": {"size": {"type": "integer"}}}}}}}]}
    }))
    .await;
}

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

/// A streaming list: the initial events end with a bookmark annotated
/// `k8s.io/initial-events-end`, whatever the type.
fn streaming_list() -> ListOptions {
    ListOptions {
        send_initial_events: Some(true),
        resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
        allow_watch_bookmarks: Some(true),
        timeout_seconds: Some(20),
        ..ListOptions::default()
    }
}

/// Reads a watch until its initial-events-end bookmark; the names added before it.
async fn until_initial_end<T, S>(mut events: S) -> Vec<String>
where
    S: futures_util::Stream<Item = Result<WatchEvent<T>, rest::Error>> + Unpin,
    T: kubeclient::client::Object + std::fmt::Debug,
{
    let mut added = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the initial-events-end bookmark within 20 s")
            .expect("the stream stays open until the bookmark")
            .expect("every event decodes, bookmarks included");
        match event {
            WatchEvent::Added(obj) => added.push(obj.object_name().unwrap_or_default().to_string()),
            WatchEvent::Bookmark(b) if b.is_initial_events_end() => {
                assert!(!b.resource_version.is_empty());
                return added;
            }
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected event before the end of the initial events: {other:?}"),
        }
    }
}

#[tokio::test]
async fn bookmarks_decode_as_metadata_for_typed_dynamic_and_metadata_clients() {
    gadget_crd().await;
    let ns = namespace().await;
    let gadgets = Client::<Gadget>::namespaced(rest(), ns.name());
    let gadget = Gadget {
        api_version: Gadget::api_version(),
        kind: "Gadget".into(),
        metadata: ObjectMeta {
            name: Some("g1".into()),
            ..ObjectMeta::default()
        },
        spec: GadgetSpec { size: 3 },
    };
    gadgets
        .create(&gadget, &Default::default())
        .await
        .expect("create a gadget");

    let typed = gadgets.watch(&streaming_list()).await.expect("typed watch");
    assert_eq!(until_initial_end(Box::pin(typed)).await, ["g1"]);

    let gvr = GroupVersionResource {
        group: GROUP.into(),
        version: "v1".into(),
        resource: "gadgets".into(),
    };
    let dynamic = DynamicClient::new(rest()).namespaced(&gvr, ns.name());
    let events = dynamic
        .watch(&streaming_list())
        .await
        .expect("dynamic watch");
    assert_eq!(until_initial_end(Box::pin(events)).await, ["g1"]);

    let metadata = MetadataClient::new(rest()).namespaced(&gvr, ns.name());
    let events = metadata
        .watch(&streaming_list())
        .await
        .expect("metadata watch");
    assert_eq!(until_initial_end(Box::pin(events)).await, ["g1"]);
}

#[tokio::test]
async fn a_timeout_covers_a_body_that_stalls() {
    let proxy = FaultProxy::start().await;
    proxy.plan([Fault::StallBody(Duration::from_secs(30))]);
    let mut config = rest::Config::new(url::Url::parse(&proxy.url()).expect("proxy url"));
    config.timeout = Some(Duration::from_secs(1));
    let client = RestClient::new(&config).expect("client");
    let started = Instant::now();
    let err = client
        .get()
        .abs_path("/api/v1/namespaces")
        .raw()
        .await
        .expect_err("the body never comes within the timeout");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(err.to_string().contains("timed out"), "{err}");

    // The same stall, with the timeout set on the request.
    proxy.plan([Fault::StallBody(Duration::from_secs(30))]);
    let client = RestClient::new(&rest::Config::new(
        url::Url::parse(&proxy.url()).expect("proxy url"),
    ))
    .expect("client");
    let started = Instant::now();
    let err = client
        .get()
        .abs_path("/api/v1/namespaces")
        .timeout(Duration::from_secs(1))
        .raw()
        .await
        .expect_err("the body never comes within the timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn a_silent_watch_ends_with_an_idle_error() {
    let ns = namespace().await;
    let cms = Client::<kubeclient::api::core::v1::ConfigMap>::namespaced(rest(), ns.name());
    let list = cms.list(&ListOptions::default()).await.expect("list");
    let options = ListOptions {
        resource_version: list.metadata.resource_version,
        timeout_seconds: Some(60),
        ..ListOptions::default()
    };
    let started = Instant::now();
    let mut events = Box::pin(
        cms.watch_with_idle_timeout(&options, Duration::from_secs(1))
            .await
            .expect("watch"),
    );
    let end = tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .expect("the idle limit ends the watch");
    match end {
        Some(Err(rest::Error::Watch {
            source: WatchError::Idle(d),
            ..
        })) => assert_eq!(d, Duration::from_secs(1)),
        other => panic!("expected an idle error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(
        events.next().await.is_none(),
        "the stream ends after the error"
    );
}
