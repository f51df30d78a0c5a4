//! Informers through faults of the whole cluster (each test takes the cluster alone):
//! kube-apiserver restarted under a running informer, and etcd compacted past the informer's
//! resourceVersion. The informer reaches the server through the fault proxy, which logs the
//! requests made.

use std::collections::HashMap;
use std::time::Duration;

use kubeclient::api::core::v1::ConfigMap;
use kubeclient::cache::{HandlerFns, SharedIndexInformer, SharedInformerFactory};
use kubeclient::client::Client;
use kubeclient::primitives::Map;
use kubeclient::rest::{DeleteOptions, RestClient};
use std::sync::{Arc, Mutex};
use test_support::api::name_and_version;
use test_support::cluster;
use test_support::faults::FaultProxy;

fn direct() -> RestClient {
    cluster().unthrottled_client()
}

fn via(proxy: &FaultProxy) -> RestClient {
    RestClient::new(&proxy.client_config()).expect("client")
}

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: kubeclient::api::meta::v1::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(Map::from([("v", name.into())])),
        ..Default::default()
    }
}

/// Names and resourceVersions of the namespace's ConfigMaps, by a fresh LIST.
async fn fresh_list(ns: &str) -> HashMap<String, String> {
    test_support::api::config_map_versions(ns).await
}

async fn converge(informer: &SharedIndexInformer<ConfigMap>, ns: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let cached: HashMap<String, String> = informer
            .store()
            .list()
            .iter()
            .map(|c| name_and_version(c.as_ref()))
            .collect();
        if cached == fresh_list(ns).await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cache did not converge"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `resourceVersion` parameter of a request target.
fn rv_param(target: &str) -> Option<&str> {
    target
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("resourceVersion="))
}

fn config_map_requests(proxy: &FaultProxy) -> Vec<String> {
    proxy
        .seen()
        .into_iter()
        .filter(|s| s.target.contains("/configmaps"))
        .map(|s| s.target)
        .collect()
}

/// Records tombstones (deletes the watch missed).
fn tombstones(informer: &SharedIndexInformer<ConfigMap>) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    informer.add_event_handler(HandlerFns::<ConfigMap>::new().on_delete(move |d| {
        if d.is_state_unknown() {
            let name = d
                .object()
                .metadata
                .name
                .clone()
                .unwrap_or_default()
                .to_string();
            seen2.lock().expect("tombstones").push(name);
        }
    }));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_apiserver_restart_the_informer_resumes_or_relists_at_its_version() {
    let cluster_lock = test_support::exclusive().await;
    let ns = cluster_lock.namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    cms.create(&config_map("before"), &Default::default())
        .await
        .expect("create");
    let proxy = FaultProxy::start().await;
    let informer = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    let missed = tombstones(&informer);
    informer.start().expect("start");
    converge(&informer, ns.name()).await;
    let before = config_map_requests(&proxy).len();

    cluster_lock
        .restart_apiserver()
        .await
        .expect("restart kube-apiserver");
    cms.create(&config_map("after"), &Default::default())
        .await
        .expect("create");
    converge(&informer, ns.name()).await;

    let after: Vec<String> = config_map_requests(&proxy).split_off(before);
    let first = after.first().expect("a request after the restart");
    assert!(
        first.contains("watch=1") && !first.contains("sendInitialEvents"),
        "the first request after the restart resumes the watch: {after:?}"
    );
    let resume_rv = rv_param(first).expect("the resumed watch names a resourceVersion");
    assert!(!resume_rv.is_empty() && resume_rv != "0", "{first}");
    // If that version was gone from the new server's watch cache, the relist asks for it
    // again (NotOlderThan), never for "" (a read from etcd) first.
    for relist in after
        .iter()
        .filter(|r| r.contains("sendInitialEvents") || !r.contains("watch=1"))
    {
        assert_eq!(
            rv_param(relist),
            Some(resume_rv),
            "relist at the last version: {relist}"
        );
    }
    assert!(
        missed.lock().expect("tombstones").is_empty(),
        "nothing was deleted"
    );
    informer.shutdown_and_wait().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_compacted_past_the_informer_gives_410_a_relist_and_a_converged_cache() {
    let cluster_lock = test_support::exclusive().await;
    let ns = cluster_lock.namespace().await;
    let cms = Client::<ConfigMap>::namespaced(direct(), ns.name());
    for name in ["keep", "drop-1", "drop-2"] {
        cms.create(&config_map(name), &Default::default())
            .await
            .expect("create");
    }
    let proxy = FaultProxy::start().await;
    let informer = SharedInformerFactory::builder(via(&proxy))
        .namespace(ns.name())
        .build()
        .informer::<ConfigMap>();
    let missed = tombstones(&informer);
    informer.start().expect("start");
    converge(&informer, ns.name()).await;

    // The informer loses its watch and stays away while things change and history goes.
    proxy.pause();
    proxy.cut_streams();
    for name in ["drop-1", "drop-2"] {
        cms.delete(name, &DeleteOptions::default())
            .await
            .expect("delete");
    }
    let newest = cms
        .create(&config_map("new"), &Default::default())
        .await
        .expect("create");
    let revision: u64 = newest
        .metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .expect("a numeric resourceVersion");
    cluster_lock.compact_etcd(revision).await.expect("compact");
    cluster_lock
        .restart_apiserver()
        .await
        .expect("restart kube-apiserver");
    let before = config_map_requests(&proxy).len();
    proxy.resume();
    converge(&informer, ns.name()).await;

    let after: Vec<String> = config_map_requests(&proxy).split_off(before);
    assert!(
        after.iter().any(|r| r.contains("sendInitialEvents=true")),
        "the 410 led to a relist: {after:?}"
    );
    let mut missed = missed.lock().expect("tombstones").clone();
    missed.sort();
    assert_eq!(
        missed,
        ["drop-1", "drop-2"],
        "the missed deletes as tombstones"
    );
    informer.shutdown_and_wait().await;
}
