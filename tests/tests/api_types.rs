//! kubeclient's own API types (`kubeclient_core::api`, generated from the API's OpenAPI
//! documents) read and write what the real API server sends: objects of many kinds are
//! created (`tests/data/api-types.yaml`: quantities, int-or-string, times with seconds and
//! microseconds, base64 bytes, schemas, ...), then every object of every built-in resource the
//! server lists is decoded into its type and encoded again, and must come out equal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Stdio;

use serde_json::Value;
use test_support::api::call;
use test_support::api_round_trip::round_trip;
use test_support::cluster;

/// `value` without `null` members (Go decodes `null` as absent, and the types write nothing
/// for an absent field).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Where two values first differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &format!("{at}/{k}")),
                (p, q) => Some(format!("{at}/{k}: sent {p:?}, written {q:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{at}: sent {a}, written {b}")),
    }
}

fn kubectl(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = cluster()
        .kubectl()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write manifest");
    }
    let out = child.wait_with_output().expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `"<apiVersion> <kind>"` is of a built-in group: the core group, a group without
/// dots (`apps`, `batch`, ...) or one under `k8s.io`.
fn is_built_in(gv_kind: &str) -> bool {
    let api_version = gv_kind.split(' ').next().unwrap_or_default();
    match api_version.split_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// Every built-in group version the server serves: (path, apiVersion).
async fn group_versions(config: &kubeclient::rest::Config) -> Vec<(String, String)> {
    let mut out = vec![("/api/v1".to_string(), "v1".to_string())];
    let (status, groups) = call(config, http::Method::GET, "/apis", None).await;
    assert_eq!(status, 200, "{groups}");
    for group in groups["groups"].as_array().into_iter().flatten() {
        for version in group["versions"].as_array().into_iter().flatten() {
            let gv = version["groupVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            out.push((format!("/apis/{gv}"), gv));
        }
    }
    out
}

#[tokio::test]
async fn every_object_the_server_lists_round_trips_through_the_generated_types() {
    let ns = test_support::namespace().await;
    let suffix = ns.name().to_string();
    let manifest = include_str!("../data/api-types.yaml")
        .replace("NAMESPACE", ns.name())
        .replace("SUFFIX", &suffix);
    kubectl(
        &[
            "apply",
            "--server-side",
            "--field-manager=api-types-test",
            "-f",
            "-",
        ],
        Some(&manifest),
    );
    // A running pod's status, as a kubelet writes it: conditions, IPs, container states.
    let status = serde_json::json!({"status": {
        "phase": "Running",
        "podIP": "10.244.0.7",
        "podIPs": [{"ip": "10.244.0.7"}],
        "hostIP": "192.168.1.10",
        "startTime": "2026-11-29T10:00:00Z",
        "qosClass": "Burstable",
        "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-29T10:00:05Z"}],
        "containerStatuses": [{
            "name": "app", "ready": true, "restartCount": 1, "image": "registry.example/app:1.2.3",
            "imageID": "registry.example/app@sha256:0123", "containerID": "containerd://abc",
            "started": true,
            "state": {"running": {"startedAt": "2026-11-29T10:00:03Z"}},
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled",
                "startedAt": "2026-11-29T09:00:00Z", "finishedAt": "2026-11-29T09:59:59Z"}},
            "resources": {"requests": {"cpu": "250m"}}
        }]
    }});
    kubectl(
        &[
            "patch",
            "pod",
            "full",
            "-n",
            ns.name(),
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    );

    let config = cluster().rest_config();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let mut without_type = BTreeSet::new();
    let mut failures = Vec::new();
    for (path, gv) in group_versions(&config).await {
        let (status, list) = call(&config, http::Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}: {list}");
        for resource in list["resources"].as_array().into_iter().flatten() {
            let name = resource["name"].as_str().unwrap_or_default();
            let kind = resource["kind"].as_str().unwrap_or_default();
            let listable = resource["verbs"]
                .as_array()
                .is_some_and(|v| v.iter().any(|v| v == "list"));
            if name.contains('/') || !listable {
                continue;
            }
            // Custom resources (other tests' CRDs, still being set up) have no generated type.
            if round_trip(&gv, kind, b"{}").is_none() {
                without_type.insert(format!("{gv} {kind}"));
                continue;
            }
            let (status, objects) =
                call(&config, http::Method::GET, &format!("{path}/{name}"), None).await;
            assert_eq!(status, 200, "{path}/{name}: {objects}");
            for item in objects["items"].as_array().into_iter().flatten() {
                // Items of a list carry no apiVersion and kind; the types always write them.
                let mut sent = item.clone();
                sent["apiVersion"] = Value::from(gv.clone());
                sent["kind"] = Value::from(kind);
                let bytes = serde_json::to_vec(&sent).expect("encode");
                let who = format!(
                    "{gv} {kind} {}/{}",
                    item["metadata"]["namespace"].as_str().unwrap_or_default(),
                    item["metadata"]["name"].as_str().unwrap_or_default()
                );
                match round_trip(&gv, kind, &bytes) {
                    None => failures.push(format!("{who}: its type went away")),
                    Some(Err(e)) => failures.push(format!("{who}: does not decode: {e}")),
                    Some(Ok(written)) => {
                        *checked.entry(format!("{gv} {kind}")).or_default() += 1;
                        if let Some(d) = first_difference(&without_nulls(&sent), &written, "") {
                            failures.push(format!("{who}: {d}"));
                        }
                    }
                }
            }
        }
    }
    kubectl(
        &[
            "delete",
            &format!("priorityclass/api-types-{suffix}"),
            &format!("validatingadmissionpolicy/api-types-{suffix}"),
            &format!("customresourcedefinition/gadgets-{suffix}.api-types.kubeclient.dev"),
        ],
        None,
    );

    assert!(
        failures.is_empty(),
        "{} objects differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every built-in kind has a type: only custom resources may be without.
    let built_in_without: Vec<&String> = without_type.iter().filter(|k| is_built_in(k)).collect();
    assert!(
        built_in_without.is_empty(),
        "no type for {built_in_without:?}"
    );
    for kind in [
        "v1 ConfigMap",
        "v1 Secret",
        "v1 Service",
        "v1 Pod",
        "v1 ServiceAccount",
        "v1 ResourceQuota",
        "v1 LimitRange",
        "v1 PersistentVolumeClaim",
        "v1 Namespace",
        "apps/v1 Deployment",
        "apps/v1 StatefulSet",
        "apps/v1 DaemonSet",
        "batch/v1 Job",
        "batch/v1 CronJob",
        "policy/v1 PodDisruptionBudget",
        "autoscaling/v2 HorizontalPodAutoscaler",
        "networking.k8s.io/v1 NetworkPolicy",
        "networking.k8s.io/v1 Ingress",
        "rbac.authorization.k8s.io/v1 Role",
        "rbac.authorization.k8s.io/v1 RoleBinding",
        "rbac.authorization.k8s.io/v1 ClusterRole",
        "coordination.k8s.io/v1 Lease",
        "events.k8s.io/v1 Event",
        "scheduling.k8s.io/v1 PriorityClass",
        "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
        "apiextensions.k8s.io/v1 CustomResourceDefinition",
        "apiregistration.k8s.io/v1 APIService",
        "flowcontrol.apiserver.k8s.io/v1 FlowSchema",
    ] {
        assert!(
            checked.contains_key(kind),
            "no {kind} was checked: {checked:?}"
        );
    }
    let total: usize = checked.values().sum();
    assert!(total >= 200, "only {total} objects checked: {checked:?}");
}

/// The generated types work with the typed client as they are: create, get, list, update and
/// delete a ConfigMap and a Deployment through `Client<K>`.
#[tokio::test]
async fn the_typed_client_serves_the_generated_types() {
    use kubeclient::client::Client;
    use kubeclient::rest::{CreateOptions, DeleteOptions, GetOptions, ListOptions, UpdateOptions};
    use kubeclient_core::api::apps::v1::{Deployment, DeploymentSpec};
    use kubeclient_core::api::core::v1::{ConfigMap, Container, PodSpec, PodTemplateSpec};
    use kubeclient_core::api::meta::v1::{LabelSelector, ObjectMeta};
    use kubeclient_core::primitives::Str;

    let ns = test_support::namespace().await;
    let rest = cluster().unthrottled_client();
    let maps = Client::<ConfigMap>::namespaced(rest.clone(), ns.name());
    let mut map = ConfigMap::default();
    map.metadata.name = Some("lean".into());
    map.data = Some([("key", Str::from("value"))].into());
    let created = maps
        .create(&map, &CreateOptions::default())
        .await
        .expect("create");
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.name()));
    assert!(created.metadata.creation_timestamp.is_some());
    assert!(
        created
            .metadata
            .managed_fields
            .as_ref()
            .is_some_and(|m| !m.is_empty())
    );
    let mut got = maps.get("lean", &GetOptions::default()).await.expect("get");
    assert_eq!(got, created);
    got.data
        .get_or_insert_default()
        .insert("more", "data".into());
    let updated = maps
        .update(&got, &UpdateOptions::default())
        .await
        .expect("update");
    assert_eq!(updated.data.as_ref().map(|d| d.len()), Some(2));

    let labels: std::collections::BTreeMap<String, String> =
        [("app".to_string(), "lean".to_string())].into();
    let deployment = Deployment {
        metadata: ObjectMeta {
            name: Some("lean".into()),
            ..ObjectMeta::default()
        },
        // The API marks a Deployment's spec required, so it is not optional here.
        spec: DeploymentSpec {
            replicas: Some(2),
            selector: LabelSelector {
                match_labels: Some(
                    labels
                        .clone()
                        .into_iter()
                        .map(|(k, v)| (k, Str::from(v)))
                        .collect(),
                ),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(Box::new(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                })),
                spec: Some(Box::new(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some("registry.example/app:1".into()),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                })),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    };
    let deployments = Client::<Deployment>::namespaced(rest, ns.name());
    let created = deployments
        .create(&deployment, &CreateOptions::default())
        .await
        .expect("create deployment");
    let spec = &created.spec;
    assert_eq!(spec.replicas, Some(2));
    // Defaults the server filled in come back typed.
    assert_eq!(
        spec.strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref())
            .and_then(|r| r.max_surge.clone()),
        Some(kubeclient_core::primitives::IntOrString::String(
            "25%".into()
        ))
    );
    let list = deployments
        .list(&ListOptions::default())
        .await
        .expect("list");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].metadata.name.as_deref(), Some("lean"));
    deployments
        .delete("lean", &DeleteOptions::default())
        .await
        .expect("delete");
}
