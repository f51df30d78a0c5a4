//! The generic typed client against the real API server: the generated built-in types, a
//! custom resource type of our own, and k8s-openapi's types, every verb, scope, paging and
//! watch.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use kubeclient::api::apps::v1::Deployment;
use kubeclient::api::core::v1::{ConfigMap, Namespace};
use kubeclient::client::{Client, Namespaced, ObjectMeta, Patch, Resource};
use kubeclient::primitives::{Map, Str};
use kubeclient::rest::watch::WatchEvent;
use kubeclient::rest::{
    ApplyOptions, CreateOptions, DeleteOptions, ListOptions, PatchOptions, Preconditions,
    PropagationPolicy, RestClient,
};
use serde_json::{Value, json};
use test_support::{cluster, namespace};

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

fn unthrottled() -> RestClient {
    let mut config = cluster().rest_config();
    config.qps = -1.0;
    RestClient::new(&config).expect("client")
}

fn configmap(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: kubeclient::api::meta::v1::ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([("app".to_string(), "typed".to_string())])),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (*k, kubeclient::primitives::Str::from(*v)))
                .collect(),
        ),
        ..Default::default()
    }
}

#[tokio::test]
async fn configmaps_through_every_verb() {
    let ns = namespace().await;
    let cms: Client<ConfigMap> = Client::namespaced(rest(), ns.name());
    let created = cms
        .create(&configmap("one", &[("k", "1")]), &CreateOptions::default())
        .await
        .expect("create");
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.name()));

    let mut got = cms.get("one", &Default::default()).await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(|v| v.as_str()),
        Some("1")
    );

    got.data = Some(Map::from([("k", "2".into())]));
    let updated = cms
        .update(&got, &CreateOptions::default())
        .await
        .expect("update");
    // The stale copy conflicts.
    let err = cms
        .update(&got, &CreateOptions::default())
        .await
        .expect_err("stale update");
    assert!(err.is_conflict(), "{err}");

    let merged = cms
        .patch(
            "one",
            &Patch::Merge(json!({"data": {"m": "yes"}})),
            &PatchOptions::default(),
        )
        .await
        .expect("merge patch");
    assert_eq!(
        merged
            .data
            .as_ref()
            .and_then(|d| d.get("m"))
            .map(|v| v.as_str()),
        Some("yes")
    );
    let strategic = cms
        .patch(
            "one",
            &Patch::Strategic(json!({"data": {"s": "yes"}})),
            &PatchOptions::default(),
        )
        .await
        .expect("strategic merge patch");
    assert_eq!(strategic.data.as_ref().map(Map::len), Some(3));
    let json_patched = cms
        .patch(
            "one",
            &Patch::Json(json!([{"op": "remove", "path": "/data/m"}])),
            &PatchOptions::default(),
        )
        .await
        .expect("json patch");
    assert!(
        json_patched
            .data
            .as_ref()
            .is_some_and(|d| !d.contains_key("m"))
    );
    assert_ne!(
        json_patched.metadata.resource_version,
        updated.metadata.resource_version
    );

    // Server-side apply: a conflict without force names the other manager.
    cms.apply("applied", &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "1"}}), &ApplyOptions::new("first"))
        .await
        .expect("apply");
    let again = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"a": "2"}});
    let err = cms
        .apply("applied", &again, &ApplyOptions::new("second"))
        .await
        .expect_err("conflict");
    assert!(
        err.is_conflict() && err.to_string().contains("first"),
        "{err}"
    );
    let forced = cms
        .apply("applied", &again, &ApplyOptions::new("second").force())
        .await
        .expect("forced");
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(|v| v.as_str()),
        Some("2")
    );

    let list = cms.list(&ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), 2);
    assert!(list.metadata.resource_version.is_some());

    // Delete with a precondition that fails, then for real; then a collection by label.
    let wrong = DeleteOptions {
        preconditions: Some(Preconditions {
            uid: Some("nope".into()),
            ..Preconditions::default()
        }),
        ..DeleteOptions::default()
    };
    assert!(
        cms.delete("one", &wrong)
            .await
            .expect_err("precondition")
            .is_conflict()
    );
    cms.delete(
        "one",
        &DeleteOptions {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteOptions::default()
        },
    )
    .await
    .expect("delete");
    assert!(
        cms.get("one", &Default::default())
            .await
            .expect_err("gone")
            .is_not_found()
    );
    cms.create(&configmap("two", &[]), &CreateOptions::default())
        .await
        .expect("create two");
    cms.delete_collection(
        &DeleteOptions::default(),
        &ListOptions {
            label_selector: Some("app=typed".into()),
            ..ListOptions::default()
        },
    )
    .await
    .expect("delete collection");
    let left: Vec<Str> = cms
        .list(&ListOptions::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    assert_eq!(left, ["applied"], "only the unlabelled one is left");
}

#[tokio::test]
async fn scope_is_enforced_and_cluster_resources_work() {
    let ns = namespace().await;
    let namespaces: Client<Namespace> = Client::cluster(rest());
    let mine = namespaces
        .get(ns.name(), &Default::default())
        .await
        .expect("get namespace");
    assert_eq!(mine.metadata.name.as_deref(), Some(ns.name()));
    // A namespaced resource across all namespaces lists, but cannot name one object.
    let everywhere: Client<ConfigMap> = Client::all(rest());
    let all = everywhere
        .list(&ListOptions {
            limit: Some(1),
            ..ListOptions::default()
        })
        .await
        .expect("list all");
    assert_eq!(all.items.len(), 1);
    let err = everywhere
        .get("x", &Default::default())
        .await
        .expect_err("no namespace");
    assert!(err.to_string().contains("namespaced"), "{err}");
}

#[tokio::test]
async fn paging_yields_every_item_exactly_once() {
    let ns = namespace().await;
    let cms: Client<ConfigMap> = Client::namespaced(unthrottled(), ns.name());
    let names: Vec<String> = (0..1200).map(|i| format!("cm-{i:04}")).collect();
    futures_util::stream::iter(names.iter().map(|n| {
        let cms = cms.clone();
        async move {
            cms.create(&configmap(n, &[]), &CreateOptions::default())
                .await
        }
    }))
    .buffer_unordered(32)
    .try_collect::<Vec<_>>()
    .await
    .expect("create 1,200 ConfigMaps");

    let first = cms
        .list(&ListOptions {
            limit: Some(500),
            ..ListOptions::default()
        })
        .await
        .expect("page");
    assert_eq!(first.items.len(), 500);
    assert!(first.metadata.continue_token.is_some());

    let all: Vec<ConfigMap> = cms
        .list_all(&ListOptions {
            limit: Some(500),
            ..ListOptions::default()
        })
        .try_collect()
        .await
        .expect("all pages");
    let unique: HashSet<Str> = all.iter().filter_map(|c| c.metadata.name.clone()).collect();
    assert_eq!(all.len(), 1200);
    assert_eq!(unique.len(), 1200);
    assert!(names.iter().all(|n| unique.contains(n.as_str())));
}

#[tokio::test]
async fn typed_watch_and_status_subresource() {
    let ns = namespace().await;
    let deployments: Client<Deployment> = Client::namespaced(rest(), ns.name());
    let list = deployments
        .list(&ListOptions::default())
        .await
        .expect("list");
    let mut events = Box::pin(
        deployments
            .watch(&ListOptions {
                resource_version: list.metadata.resource_version.clone(),
                timeout_seconds: Some(30),
                ..ListOptions::default()
            })
            .await
            .expect("watch"),
    );
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}},
    }))
    .expect("deployment");
    let created = deployments
        .create(&deployment, &CreateOptions::default())
        .await
        .expect("create");

    let mut with_status = created.clone();
    with_status.status = Some(
        serde_json::from_value(json!({"observedGeneration": 1, "replicas": 0})).expect("status"),
    );
    let updated = deployments
        .update_status(&with_status, &CreateOptions::default())
        .await
        .expect("update status");
    assert_eq!(
        updated.status.as_ref().and_then(|s| s.observed_generation),
        Some(1)
    );
    let applied = deployments
        .apply_status("web", &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": {"observedGeneration": 7}}), &ApplyOptions::new("status-test").force())
        .await
        .expect("apply status");
    assert_eq!(
        applied.status.as_ref().and_then(|s| s.observed_generation),
        Some(7)
    );

    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("event in time")
            .expect("open")
            .expect("decodes");
        kinds.push(match event {
            WatchEvent::Added(d) => ("ADDED", d.metadata.name),
            WatchEvent::Modified(d) => ("MODIFIED", d.metadata.name),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(kinds[0], ("ADDED", Some("web".into())));
    assert!(kinds[1..].iter().all(|(k, _)| *k == "MODIFIED"));
}

/// A custom resource type of our own: no code generation, just the trait.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Backup {
    #[serde(rename = "apiVersion", default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    metadata: ObjectMeta,
    spec: BackupSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Value>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct BackupSpec {
    schedule: String,
}

const BACKUP_GROUP: &str = "typed.kubeclient.test";

impl Resource for Backup {
    const GROUP: &'static str = BACKUP_GROUP;
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Backup";
    const PLURAL: &'static str = "backups";
    type Scope = Namespaced;
    kubeclient::object_meta_accessors!();
}

/// Creates the Backup CRD (once per cluster; later runs find it) and waits until established.
async fn ensure_backup_crd() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("backups.{BACKUP_GROUP}")},
        "spec": {"group": BACKUP_GROUP, "scope": "Namespaced",
                 "names": {"plural": "backups", "singular": "backup", "kind": "Backup", "shortNames": ["bk"]},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {"schedule": {"type": "string"}}},
                                   "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]},
    });
    test_support::api::create_crd(&crd).await;
}

#[tokio::test]
async fn custom_resources_through_the_same_client() {
    ensure_backup_crd().await;
    let ns = namespace().await;
    let backups: Client<Backup> = Client::namespaced(rest(), ns.name());
    let backup = Backup {
        api_version: Backup::api_version(),
        kind: "Backup".into(),
        metadata: ObjectMeta {
            name: Some("nightly".into()),
            ..ObjectMeta::default()
        },
        spec: BackupSpec {
            schedule: "0 3 * * *".into(),
        },
        status: None,
    };
    // The API may need a moment after Established before it serves the new type.
    let mut created = None;
    for _ in 0..50 {
        match backups.create(&backup, &CreateOptions::default()).await {
            Ok(b) => {
                created = Some(b);
                break;
            }
            Err(e) if e.is_not_found() => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("create Backup: {e}"),
        }
    }
    let created = created.expect("the Backup type is served");
    assert_eq!(created.spec.schedule, "0 3 * * *");
    assert!(created.metadata.uid.is_some());

    let mut with_status = created.clone();
    with_status.status = Some(json!({"lastRun": "never"}));
    let updated = backups
        .update_status(&with_status, &CreateOptions::default())
        .await
        .expect("status");
    assert_eq!(updated.status, Some(json!({"lastRun": "never"})));
    let patched = backups
        .patch(
            "nightly",
            &Patch::Merge(json!({"spec": {"schedule": "@hourly"}})),
            &PatchOptions::default(),
        )
        .await
        .expect("patch");
    assert_eq!(patched.spec.schedule, "@hourly");
    let list = backups.list(&ListOptions::default()).await.expect("list");
    assert_eq!(list.items.len(), 1);
    backups
        .delete("nightly", &DeleteOptions::default())
        .await
        .expect("delete");
}

/// A watch kept in a struct field: the stream type can be named.
struct Watcher {
    events: kubeclient::client::WatchStream<ConfigMap>,
}

#[tokio::test]
async fn typed_patches_apply_options_and_a_nameable_watch_stream() {
    let ns = namespace().await;
    let cms = Client::<ConfigMap>::namespaced(rest(), ns.name());
    let created = cms
        .create(
            &configmap("typed-patch", &[("a", "1")]),
            &CreateOptions::default(),
        )
        .await
        .expect("create");
    let mut watcher = Watcher {
        events: cms
            .watch(&ListOptions {
                resource_version: created
                    .metadata
                    .resource_version
                    .as_deref()
                    .map(String::from),
                ..ListOptions::default()
            })
            .await
            .expect("watch"),
    };

    // A merge patch from a typed value of our own, not a serde_json::Value.
    #[derive(serde::Serialize)]
    struct DataPatch {
        data: BTreeMap<&'static str, &'static str>,
    }
    let patched = cms
        .patch(
            "typed-patch",
            &Patch::Merge(DataPatch {
                data: BTreeMap::from([("b", "2")]),
            }),
            &PatchOptions::default(),
        )
        .await
        .expect("typed merge patch");
    assert_eq!(
        patched
            .data
            .as_ref()
            .and_then(|d| d.get("b"))
            .map(|v| v.as_str()),
        Some("2")
    );
    match watcher.events.next().await {
        Some(Ok(kubeclient::client::WatchEvent::Modified(cm))) => {
            assert_eq!(
                cm.metadata.resource_version,
                patched.metadata.resource_version
            )
        }
        other => panic!("expected the patch as a MODIFIED event, got {other:?}"),
    }

    // Apply a typed object with options: a dry run changes nothing.
    let desired = configmap("typed-patch", &[("a", "dry")]);
    let dry = cms
        .apply(
            "typed-patch",
            &desired,
            &ApplyOptions::new("typed-test").force().dry_run(),
        )
        .await
        .expect("dry-run apply");
    assert_eq!(
        dry.data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(|v| v.as_str()),
        Some("dry")
    );
    let stored = cms
        .get("typed-patch", &Default::default())
        .await
        .expect("get");
    assert_eq!(
        stored
            .data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(|v| v.as_str()),
        Some("1"),
        "the dry run stored nothing"
    );
}

/// k8s-openapi's types keep working through the generic client (in JSON), and read the same
/// objects as the generated types (in protobuf).
#[tokio::test]
async fn k8s_openapi_types_work_through_the_generic_client() {
    use k8s_openapi::api::core::v1::ConfigMap as OpenApiConfigMap;
    let ns = namespace().await;
    let theirs: Client<OpenApiConfigMap> = Client::namespaced(rest(), ns.name());
    let ours: Client<ConfigMap> = Client::namespaced(rest(), ns.name());
    let created = theirs
        .create(
            &OpenApiConfigMap {
                metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some("openapi".into()),
                    ..Default::default()
                },
                data: Some(BTreeMap::from([("k".to_string(), "v".to_string())])),
                ..Default::default()
            },
            &CreateOptions::default(),
        )
        .await
        .expect("create through k8s-openapi's type");
    let read = ours
        .get("openapi", &Default::default())
        .await
        .expect("get through the generated type");
    let converted: ConfigMap = kubeclient::from_openapi(&created).expect("convert");
    assert_eq!(read, converted);
    let listed = theirs
        .list(&ListOptions::default())
        .await
        .expect("list through k8s-openapi's type");
    assert_eq!(listed.items, [created]);
}
