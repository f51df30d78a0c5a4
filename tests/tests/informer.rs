//! Informers against the real API server: the cache converges on a fresh LIST after
//! thousands of concurrent writes and cut watches, deletes missed while the watch was down
//! arrive as tombstones, the streaming list is used (and LIST when it is refused), one
//! factory shares one watch between consumers, late handlers and resyncs, transforms,
//! dynamic and metadata informers, and waiting for a condition.
//!
//! Informers reach the server through the fault proxy, which logs every request (so the
//! tests can check which requests were made) and can cut or refuse them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubeclient::api::core::v1::ConfigMap;
use kubeclient::cache::{
    Deleted, EventHandler, HandlerFns, SharedIndexInformer, SharedInformerFactory, wait_for,
};
use kubeclient::client::Client;
use kubeclient::discovery::GroupVersionResource;
use kubeclient::labels::Selector;
use kubeclient::primitives::Map;
use kubeclient::rest::{DeleteOptions, RestClient};
use test_support::api::name_and_version;
use test_support::faults::{Fault, FaultProxy};
use test_support::{cluster, namespace};

fn direct() -> RestClient {
    cluster().unthrottled_client()
}

fn via(proxy: &FaultProxy) -> RestClient {
    RestClient::new(&proxy.client_config()).expect("client")
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kubeclient::api::meta::v1::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(Map::from([("v", value.into())])),
        ..Default::default()
    }
}

/// What a handler saw.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Add { name: String, initial: bool },
    Update { name: String },
    Delete { name: String, tombstone: bool },
}

/// Records what its handler sees, and the state those notifications add up to.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    state: Mutex<HashMap<String, String>>,
}

struct Recording(Arc<Recorder>);

impl EventHandler<ConfigMap> for Recording {
    fn on_add(&self, obj: &Arc<ConfigMap>, initial: bool) {
        let (name, rv) = name_and_version(obj.as_ref());
        self.0.state.lock().expect("state").insert(name.clone(), rv);
        self.0
            .seen
            .lock()
            .expect("seen")
            .push(Seen::Add { name, initial });
    }

    fn on_update(&self, _old: &Arc<ConfigMap>, new: &Arc<ConfigMap>) {
        let (name, rv) = name_and_version(new.as_ref());
        self.0.state.lock().expect("state").insert(name.clone(), rv);
        self.0
            .seen
            .lock()
            .expect("seen")
            .push(Seen::Update { name });
    }

    fn on_delete(&self, obj: &Deleted<ConfigMap>) {
        let (name, _) = name_and_version(obj.object().as_ref());
        self.0.state.lock().expect("state").remove(&name);
        self.0.seen.lock().expect("seen").push(Seen::Delete {
            name,
            tombstone: obj.is_state_unknown(),
        });
    }
}

impl Recorder {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }

    fn state(&self) -> HashMap<String, String> {
        self.state.lock().expect("state").clone()
    }
}

/// Names and resourceVersions of the namespace's ConfigMaps, by a fresh LIST.
async fn fresh_list(ns: &str) -> HashMap<String, String> {
    test_support::api::config_map_versions(ns).await
}

fn cached(informer: &SharedIndexInformer<ConfigMap>) -> HashMap<String, String> {
    informer
        .store()
        .list()
        .iter()
        .map(|c| name_and_version(c.as_ref()))
        .collect()
}

/// Waits until the informer's cache equals a fresh LIST (the recorder's state too).
async fn converge(informer: &SharedIndexInformer<ConfigMap>, recorder: &Recorder, ns: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let truth = fresh_list(ns).await;
        if cached(informer) == truth && recorder.state() == truth {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache did not converge: {} cached, {} handled, {} listed",
            cached(informer).len(),
            recorder.state().len(),
            truth.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn synced(informer: &SharedIndexInformer<ConfigMap>) {
    tokio::time::timeout(Duration::from_secs(30), informer.wait_for_cache_sync())
        .await
        .expect("synced within 30 s");
}

/// One writer: creates, updates and deletes its own ConfigMaps; the names it left deleted.
async fn writer(ns: String, id: usize, ops: usize) -> HashSet<String> {
    let cms = Client::<ConfigMap>::namespaced(direct(), &ns);
    let mut exists: HashSet<String> = HashSet::new();
    let mut deleted = HashSet::new();
    for op in 0..ops {
        let name = format!("w{id}-{}", op % 37);
        if !exists.contains(&name) {
            cms.create(&config_map(&name, &op.to_string()), &Default::default())
                .await
                .expect("create");
            exists.insert(name.clone());
            deleted.remove(&name);
        } else if op % 3 == 0 {
            cms.delete(&name, &DeleteOptions::default())
                .await
                .expect("delete");
            exists.remove(&name);
            deleted.insert(name);
        } else {
            let mut cm = cms.get(&name, &Default::default()).await.expect("get");
            cm.data = Some(Map::from([("v", op.to_string().into())]));
            cms.update(&cm, &Default::default()).await.expect("update");
        }
    }
    deleted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_converges_after_concurrent_writes_cut_watches_and_missed_deletes() {
    let ns = namespace().await;
    let proxy = FaultProxy::start().await;
    let factory = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build();
    let informer = factory.informer::<ConfigMap>();
    let recorder = Arc::new(Recorder::default());
    informer.add_event_handler(Recording(recorder.clone()));
    factory.start().expect("start");
    synced(&informer).await;

    // 4 writers, 2,000 creates, updates and deletes; the watch is cut every 300 ms meanwhile.
    let writers: Vec<_> = (0..4)
        .map(|id| tokio::spawn(writer(ns.name().to_string(), id, 500)))
        .collect();
    let mut cuts = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.cut_streams();
        cuts += 1;
    }
    assert!(cuts >= 2, "the writes outran the cuts");
    let mut deleted_by_writers = HashSet::new();
    for w in writers {
        deleted_by_writers.extend(w.await.expect("writer"));
    }
    converge(&informer, &recorder, ns.name()).await;

    // Deletes while the watch is down, then 410 for the resumed watch: a relist finds them
    // gone, and handlers get tombstones.
    proxy.pause();
    proxy.cut_streams();
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    let mut deleted_while_cut = Vec::new();
    for (name, _) in fresh_list(ns.name()).await.into_iter().take(10) {
        cms.delete(&name, &DeleteOptions::default())
            .await
            .expect("delete");
        deleted_while_cut.push(name);
    }
    assert!(!deleted_while_cut.is_empty());
    proxy.plan([Fault::Status {
        code: 410,
        retry_after: None,
    }]);
    proxy.resume();
    converge(&informer, &recorder, ns.name()).await;

    let seen = recorder.seen();
    for name in &deleted_while_cut {
        let last = seen.iter().rev().find(|s| match s {
            Seen::Add { name: n, .. } | Seen::Update { name: n } | Seen::Delete { name: n, .. } => {
                n == name
            }
        });
        assert_eq!(
            last,
            Some(&Seen::Delete {
                name: name.clone(),
                tombstone: true
            }),
            "a delete missed by the watch arrives as a tombstone"
        );
    }
    let now = fresh_list(ns.name()).await;
    for name in deleted_by_writers.iter().filter(|n| !now.contains_key(*n)) {
        assert!(
            seen.iter()
                .any(|s| matches!(s, Seen::Delete { name: n, .. } if n == name)),
            "no delete seen for {name}"
        );
    }
    let writes = seen.len();
    assert!(writes >= 2000, "only {writes} notifications");
    factory.shutdown().await;
}

/// The requests the proxy saw for ConfigMaps.
fn config_map_requests(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.contains("/configmaps"))
        .map(|s| s.target)
        .collect()
}

#[tokio::test]
async fn the_streaming_list_is_used_and_one_factory_shares_one_watch() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    for i in 0..3 {
        cms.create(&config_map(&format!("cm-{i}"), "x"), &Default::default())
            .await
            .expect("create");
    }
    let proxy = FaultProxy::start().await;
    let factory = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build();
    let first = factory.informer::<ConfigMap>();
    let second = factory.informer::<ConfigMap>();
    let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    first.add_event_handler(Recording(a.clone()));
    second.add_event_handler(Recording(b.clone()));
    let lister = factory.lister::<ConfigMap>();
    factory.start().expect("start");
    let synced_all = factory.wait_for_cache_sync().await;
    assert!(synced_all.values().all(|s| *s), "{synced_all:?}");
    assert_eq!(
        lister
            .namespaced(ns.name())
            .list(&Selector::everything())
            .len(),
        3
    );

    cms.create(&config_map("later", "y"), &Default::default())
        .await
        .expect("create");
    for recorder in [&a, &b] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !recorder.state().contains_key("later") {
            assert!(tokio::time::Instant::now() < deadline, "no add seen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let initial: Vec<_> = recorder
            .seen()
            .into_iter()
            .filter(|s| matches!(s, Seen::Add { initial: true, .. }))
            .collect();
        assert_eq!(initial.len(), 3, "the initial state is flagged as such");
    }

    let requests = config_map_requests(&proxy);
    assert_eq!(requests.len(), 1, "one shared watch: {requests:?}");
    let only = &requests[0];
    for part in [
        "watch=1",
        "sendInitialEvents=true",
        "resourceVersionMatch=NotOlderThan",
        "allowWatchBookmarks=true",
        "timeoutSeconds=",
    ] {
        assert!(only.contains(part), "{part} missing from {only}");
    }
    factory.shutdown().await;
}

#[tokio::test]
async fn a_refused_streaming_list_falls_back_to_list_then_watch() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    cms.create(&config_map("before", "x"), &Default::default())
        .await
        .expect("create");
    let proxy = FaultProxy::start().await;
    proxy.refuse_matching("sendInitialEvents=true", 422);
    let informer = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    let recorder = Arc::new(Recorder::default());
    informer.add_event_handler(Recording(recorder.clone()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let errors2 = errors.clone();
    informer
        .set_watch_error_handler(move |e| errors2.lock().expect("errors").push(e.to_string()))
        .expect("before start");
    informer.start().expect("start");
    synced(&informer).await;
    assert!(
        informer
            .store()
            .get_by_key(&format!("{}/before", ns.name()))
            .is_some()
    );
    cms.create(&config_map("after", "y"), &Default::default())
        .await
        .expect("create");
    converge(&informer, &recorder, ns.name()).await;

    let requests = config_map_requests(&proxy);
    let streaming = requests
        .iter()
        .filter(|r| r.contains("sendInitialEvents"))
        .count();
    assert_eq!(streaming, 1, "the refusal is remembered: {requests:?}");
    let lists: Vec<_> = requests.iter().filter(|r| !r.contains("watch=1")).collect();
    assert_eq!(lists.len(), 1, "{requests:?}");
    assert!(lists[0].contains("resourceVersion=0"), "{}", lists[0]);
    assert!(
        requests
            .iter()
            .any(|r| r.contains("watch=1") && !r.contains("sendInitialEvents")),
        "a plain watch follows the list: {requests:?}"
    );
    assert!(
        errors
            .lock()
            .expect("errors")
            .iter()
            .any(|e| e.contains("422")),
        "the refusal went to the watch-error handler"
    );
    informer.shutdown_and_wait().await;
}

#[tokio::test]
async fn a_cut_watch_resumes_from_its_resource_version_without_a_relist() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    let proxy = FaultProxy::start().await;
    let informer = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    let recorder = Arc::new(Recorder::default());
    informer.add_event_handler(Recording(recorder.clone()));
    informer.start().expect("start");
    synced(&informer).await;
    cms.create(&config_map("one", "1"), &Default::default())
        .await
        .expect("create");
    converge(&informer, &recorder, ns.name()).await;
    let last_rv = cached(&informer)["one"].clone();

    proxy.cut_streams();
    cms.create(&config_map("two", "2"), &Default::default())
        .await
        .expect("create");
    converge(&informer, &recorder, ns.name()).await;
    let requests = config_map_requests(&proxy);
    assert_eq!(requests.len(), 2, "{requests:?}");
    let resumed = &requests[1];
    assert!(
        resumed.contains("watch=1")
            && !resumed.contains("sendInitialEvents")
            && resumed.contains(&format!("resourceVersion={last_rv}")),
        "resumed from {last_rv}: {resumed}"
    );
    assert!(
        !recorder
            .seen()
            .iter()
            .any(|s| matches!(s, Seen::Update { .. })),
        "no relist (which would report every object again as an update)"
    );
    informer.shutdown_and_wait().await;
}

#[tokio::test]
async fn late_handlers_get_the_cache_and_resyncs_repeat_it() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    for i in 0..2 {
        cms.create(&config_map(&format!("cm-{i}"), "x"), &Default::default())
            .await
            .expect("create");
    }
    let informer = SharedInformerFactory::builder(direct())
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    informer.start().expect("start");
    synced(&informer).await;
    let late = Arc::new(Recorder::default());
    let registration =
        informer.add_event_handler_with_resync(Recording(late.clone()), Duration::from_millis(700));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !registration.has_synced() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "late handler never synced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let adds: Vec<_> = late.seen().into_iter().take(2).collect();
    assert!(
        adds.iter()
            .all(|s| matches!(s, Seen::Add { initial: true, .. })),
        "{adds:?}"
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let updates = late
        .seen()
        .iter()
        .filter(|s| matches!(s, Seen::Update { .. }))
        .count();
    assert!(
        (4..=6).contains(&updates),
        "two resyncs of two objects, got {updates} updates"
    );
    informer.remove_event_handler(&registration);
    let before = late.seen().len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(late.seen().len(), before, "a removed handler gets nothing");
    informer.shutdown_and_wait().await;
}

#[tokio::test]
async fn a_transform_runs_before_objects_are_stored() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    cms.create(&config_map("managed", "x"), &Default::default())
        .await
        .expect("create");
    // A per-type transform given to the factory, and one set on an informer directly.
    let factory = SharedInformerFactory::builder(direct())
        .namespace(ns.name())
        .transform(|mut cm: ConfigMap| {
            cm.metadata.managed_fields = None;
            cm
        })
        .build();
    let informer = factory.informer::<ConfigMap>();
    let gvr = GroupVersionResource {
        group: String::new(),
        version: "v1".into(),
        resource: "configmaps".into(),
    };
    let metadata = factory.metadata_informer(&gvr, true);
    metadata
        .set_transform(|mut m: kubeclient::dynamic::PartialObjectMetadata| {
            m.metadata.other.remove("managedFields");
            m
        })
        .expect("before start");
    factory.start().expect("start");
    let meta = metadata.wait_for_cache_sync().await;
    assert!(meta);
    let m = metadata
        .store()
        .get_by_key(&format!("{}/managed", ns.name()))
        .expect("cached");
    assert!(!m.metadata.other.contains_key("managedFields"));
    synced(&informer).await;
    let cm = informer
        .store()
        .get_by_key(&format!("{}/managed", ns.name()))
        .expect("cached");
    assert!(cm.metadata.managed_fields.is_none());
    let direct_cm = cms.get("managed", &Default::default()).await.expect("get");
    assert!(
        direct_cm.metadata.managed_fields.is_some(),
        "the server keeps them"
    );
    assert!(matches!(
        informer.set_transform(|cm| cm),
        Err(kubeclient::cache::Error::AlreadyStarted)
    ));
    informer.shutdown_and_wait().await;
}

#[tokio::test]
async fn dynamic_and_metadata_informers_share_the_generic_machinery() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    let mut labelled = config_map("labelled", "x");
    labelled.metadata.labels = Some(BTreeMap::from([("app".into(), "web".into())]));
    cms.create(&labelled, &Default::default())
        .await
        .expect("create");
    cms.create(&config_map("plain", "x"), &Default::default())
        .await
        .expect("create");
    let gvr = GroupVersionResource {
        group: String::new(),
        version: "v1".into(),
        resource: "configmaps".into(),
    };
    let factory = SharedInformerFactory::builder(direct())
        .namespace(ns.name())
        .build();
    let dynamic = factory.dynamic_informer(&gvr, true);
    let metadata = factory.metadata_informer(&gvr, true);
    factory.start().expect("start");
    let synced_all = factory.wait_for_cache_sync().await;
    assert!(synced_all.values().all(|s| *s), "{synced_all:?}");
    let web = Selector::parse("app=web").expect("selector");
    let dyn_web = dynamic.lister().namespaced(ns.name()).list(&web);
    assert_eq!(dyn_web.len(), 1);
    assert_eq!(dyn_web[0].0["data"]["v"], "x", "whole objects");
    let meta = metadata.lister().namespaced(ns.name());
    assert_eq!(meta.list(&Selector::everything()).len(), 2);
    let plain = meta.get("plain").expect("cached");
    assert_eq!(plain.kind, "PartialObjectMetadata");
    assert_eq!(meta.list(&web).len(), 1);
    factory.shutdown().await;
}

#[tokio::test]
async fn wait_for_sees_the_current_state_and_later_changes() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    cms.create(&config_map("target", "0"), &Default::default())
        .await
        .expect("create");
    let has = |v: &'static str| {
        move |cm: Option<&ConfigMap>| {
            cm.and_then(|c| c.data.as_ref())
                .and_then(|d| d.get("v"))
                .is_some_and(|x| x == v)
        }
    };
    // Already true: returns at once with the object.
    let now = wait_for(cms.clone(), "target", Duration::from_secs(10), has("0"))
        .await
        .expect("holds already");
    assert!(now.is_some());

    let writer = {
        let cms = cms.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let mut cm = cms.get("target", &Default::default()).await.expect("get");
            cm.data = Some(Map::from([("v", "1".into())]));
            cms.update(&cm, &Default::default()).await.expect("update");
        })
    };
    let later = wait_for(cms.clone(), "target", Duration::from_secs(20), has("1"))
        .await
        .expect("holds after the update");
    assert!(later.is_some());
    writer.await.expect("writer");

    let err = wait_for(
        cms.clone(),
        "target",
        Duration::from_millis(800),
        has("never"),
    )
    .await
    .expect_err("never holds");
    assert!(matches!(err, kubeclient::cache::Error::Timeout(_)), "{err}");

    let deleter = {
        let cms = cms.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            cms.delete("target", &DeleteOptions::default())
                .await
                .expect("delete");
        })
    };
    let gone = wait_for(cms.clone(), "target", Duration::from_secs(20), |cm| {
        cm.is_none()
    })
    .await
    .expect("deleted");
    assert!(gone.is_none());
    deleter.await.expect("deleter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handler_fns_and_a_slow_handler_do_not_hold_up_the_others() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    let informer = SharedInformerFactory::builder(direct())
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    let fast = Arc::new(Mutex::new(0usize));
    let fast2 = fast.clone();
    informer.add_event_handler(HandlerFns::new().on_add(move |_, _| {
        *fast2.lock().expect("count") += 1;
    }));
    let gate = Arc::new(std::sync::Barrier::new(2));
    let gate2 = gate.clone();
    let slow_seen = Arc::new(Mutex::new(0usize));
    let slow2 = slow_seen.clone();
    informer.add_event_handler(HandlerFns::new().on_add(move |_, _| {
        // The first add blocks this handler's task until the test lets it go.
        let mut n = slow2.lock().expect("count");
        *n += 1;
        if *n == 1 {
            drop(n);
            gate2.wait();
        }
    }));
    informer.start().expect("start");
    synced(&informer).await;
    for i in 0..5 {
        cms.create(&config_map(&format!("cm-{i}"), "x"), &Default::default())
            .await
            .expect("create");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while *fast.lock().expect("count") < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the fast handler was held up by the slow one"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *slow_seen.lock().expect("count"),
        1,
        "the slow handler is stuck"
    );
    assert_eq!(informer.store().len(), 5, "the cache is not held up either");
    tokio::task::spawn_blocking(move || gate.wait())
        .await
        .expect("release the slow handler");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while *slow_seen.lock().expect("count") < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slow handler caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    informer.shutdown_and_wait().await;
}
