//! The dynamic and metadata clients against the real API server: resources named at run
//! time, through discovery's RESTMapper, every verb including apply and watch; and metadata
//! only, as PartialObjectMetadata.

use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use kubeclient::client::Patch;
use kubeclient::discovery::{DiscoveryClient, GroupVersionResource};
use kubeclient::dynamic::{DynamicClient, DynamicObject, MetadataClient};
use kubeclient::rest::watch::WatchEvent;
use kubeclient::rest::{
    ApplyOptions, CreateOptions, DeleteOptions, ListOptions, PatchOptions, RestClient,
};
use serde_json::json;
use test_support::{cluster, namespace};

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

#[tokio::test]
async fn any_resource_through_the_mapper_every_verb() {
    let ns = namespace().await;
    let discovery = DiscoveryClient::new(&cluster().rest_config()).expect("discovery");
    let mapping = discovery.resolve("cm").await.expect("cm resolves");
    let dynamic = DynamicClient::new(rest());
    let cms = dynamic.for_mapping(&mapping, Some(ns.name()));

    let created = cms
        .create(
            &DynamicObject(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "dyn", "labels": {"via": "dynamic"}},
                                  "data": {"k": "1"}})),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    assert_eq!(created.namespace(), Some(ns.name()));
    assert_eq!(
        created.labels().get("via").map(String::as_str),
        Some("dynamic")
    );

    let mut got = cms.get("dyn", &Default::default()).await.expect("get");
    got.0["data"]["k"] = json!("2");
    let updated = cms
        .update(&got, &CreateOptions::default())
        .await
        .expect("update");
    assert_eq!(updated.0["data"]["k"], "2");
    let patched = cms
        .patch(
            "dyn",
            &Patch::Merge(json!({"data": {"p": "yes"}})),
            &PatchOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(patched.0["data"]["p"], "yes");
    let applied = cms
        .apply(
            "applied",
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "1"}}),
            &ApplyOptions::new("dynamic-test").force(),
        )
        .await
        .expect("apply");
    assert_eq!(applied.0["data"]["a"], "1");

    let names: Vec<String> = cms
        .list_all(&ListOptions::default())
        .map_ok(|o| o.name().unwrap_or_default().to_string())
        .try_collect()
        .await
        .expect("list");
    assert_eq!(names, ["applied", "dyn"]);

    cms.delete("dyn", &DeleteOptions::default())
        .await
        .expect("delete");
    assert!(
        cms.get("dyn", &Default::default())
            .await
            .expect_err("gone")
            .is_not_found()
    );

    // Cluster-scoped, named directly.
    let namespaces = dynamic.cluster(&GroupVersionResource::new("", "v1", "namespaces"), false);
    let mine = namespaces
        .get(ns.name(), &Default::default())
        .await
        .expect("namespace");
    assert_eq!(mine.kind(), Some("Namespace"));
    assert_eq!(mine.api_version(), Some("v1"));
}

#[tokio::test]
async fn dynamic_watch_sees_kubectl_writes() {
    let ns = namespace().await;
    let dynamic = DynamicClient::new(rest());
    let cms = dynamic.namespaced(
        &GroupVersionResource::new("", "v1", "configmaps"),
        ns.name(),
    );
    let list = cms.list(&ListOptions::default()).await.expect("list");
    let mut events = Box::pin(
        cms.watch(&ListOptions {
            resource_version: list.metadata.resource_version.clone(),
            timeout_seconds: Some(30),
            ..ListOptions::default()
        })
        .await
        .expect("watch"),
    );
    // An independent client writes: kubectl.
    for args in [
        vec!["create", "configmap", "from-kubectl", "--from-literal=a=1"],
        vec!["label", "configmap", "from-kubectl", "changed=yes"],
        vec!["delete", "configmap", "from-kubectl"],
    ] {
        let status = cluster()
            .kubectl()
            .arg("-n")
            .arg(ns.name())
            .args(&args)
            .output()
            .expect("kubectl");
        assert!(
            status.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("an event in time")
            .expect("open")
            .expect("decodes");
        seen.push(match event {
            WatchEvent::Added(o) => ("ADDED", o),
            WatchEvent::Modified(o) => ("MODIFIED", o),
            WatchEvent::Deleted(o) => ("DELETED", o),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        seen.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        ["ADDED", "MODIFIED", "DELETED"]
    );
    assert_eq!(
        seen[1].1.labels().get("changed").map(String::as_str),
        Some("yes")
    );
}

#[tokio::test]
async fn metadata_client_reads_partial_object_metadata() {
    let ns = namespace().await;
    let cs = kubeclient::clientset::Clientset::new(&cluster().rest_config()).expect("clientset");
    let cm: kubeclient::api::core::v1::ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "big", "labels": {"size": "large"}},
        "data": {"payload": "x".repeat(10_000)},
    }))
    .expect("cm");
    cs.core_v1()
        .config_maps(ns.name())
        .create(&cm, &CreateOptions::default())
        .await
        .expect("create");

    let metadata = MetadataClient::new(rest());
    let cms = metadata.namespaced(
        &GroupVersionResource::new("", "v1", "configmaps"),
        ns.name(),
    );
    let one = cms.get("big", &Default::default()).await.expect("get");
    assert_eq!(one.kind, "PartialObjectMetadata");
    assert_eq!(
        one.metadata.labels.get("size").map(String::as_str),
        Some("large")
    );
    assert!(!one.metadata.other.contains_key("data"));

    let list = cms.list(&ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("big"));

    let patched = cms
        .patch(
            "big",
            &Patch::Merge(json!({"metadata": {"labels": {"patched": "yes"}}})),
            &PatchOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(
        patched.metadata.labels.get("patched").map(String::as_str),
        Some("yes")
    );

    let mut events = Box::pin(
        cms.watch(&ListOptions {
            resource_version: Some("0".into()),
            timeout_seconds: Some(10),
            ..ListOptions::default()
        })
        .await
        .expect("watch"),
    );
    let first = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("event in time")
        .expect("open")
        .expect("decodes");
    match first {
        WatchEvent::Added(o) => {
            assert_eq!(o.kind, "PartialObjectMetadata");
            assert_eq!(o.metadata.name.as_deref(), Some("big"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
