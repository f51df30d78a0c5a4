//! `kubeclient::retry` against the real API server: two writers doing get-modify-update on the
//! same ConfigMap at the same time; one of them conflicts, retries and both changes land.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use kubeclient::api::core::v1::ConfigMap;
use kubeclient::client::Client;
use kubeclient::primitives::Map;
use kubeclient::rest::{CreateOptions, RestClient, UpdateOptions};
use kubeclient::retry::{DEFAULT_RETRY, retry_on_conflict};
use test_support::{cluster, namespace};
use tokio::sync::Barrier;

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

/// Sets `key=value` in the ConfigMap `shared` by get-modify-update under `retry_on_conflict`.
/// On its first attempt the writer waits at `barrier` between its read and its write, so both
/// writers hold the same resourceVersion and one of the two updates must conflict. Returns how
/// many attempts it took.
async fn set_key(cms: Client<ConfigMap>, barrier: Arc<Barrier>, key: &str, value: &str) -> u32 {
    let attempts = AtomicU32::new(0);
    retry_on_conflict(DEFAULT_RETRY, async || {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        let mut cm = cms.get("shared", &Default::default()).await?;
        if attempt == 1 {
            barrier.wait().await;
        }
        cm.data
            .get_or_insert_with(Map::new)
            .insert(key, value.into());
        cms.update(&cm, &UpdateOptions::default()).await
    })
    .await
    .unwrap_or_else(|e| panic!("writer of {key}: {e}"));
    attempts.load(Ordering::SeqCst)
}

#[tokio::test]
async fn two_writers_both_land_with_retry_on_conflict() {
    let ns = namespace().await;
    let cms: Client<ConfigMap> = Client::namespaced(rest(), ns.name());
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("shared".into());
    cm.data = Some(Map::from([("base", "0".into())]));
    cms.create(&cm, &CreateOptions::default())
        .await
        .expect("create");

    let barrier = Arc::new(Barrier::new(2));
    let first = tokio::spawn(set_key(cms.clone(), barrier.clone(), "first", "1"));
    let second = tokio::spawn(set_key(cms.clone(), barrier, "second", "2"));
    let first = first.await.expect("first writer");
    let second = second.await.expect("second writer");

    // Both read the same version before either wrote: exactly one of them conflicted once.
    let mut attempts = [first, second];
    attempts.sort();
    assert_eq!(attempts, [1, 2], "attempts of the two writers");

    let data = cms
        .get("shared", &Default::default())
        .await
        .expect("get")
        .data
        .unwrap_or_default();
    assert_eq!(data.get("base").map(|v| v.as_str()), Some("0"), "{data:?}");
    assert_eq!(data.get("first").map(|v| v.as_str()), Some("1"), "{data:?}");
    assert_eq!(
        data.get("second").map(|v| v.as_str()),
        Some("2"),
        "{data:?}"
    );
}
