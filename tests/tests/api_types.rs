//! kubeclient's own API types (`kubeclient_core::api`, generated from the API's OpenAPI
//! documents) read and write what the real API server sends: objects of many kinds are
//! created (`tests/data/api-types.yaml`: quantities, int-or-string, times with seconds and
//! microseconds, base64 bytes, schemas, ...), then every object of every built-in resource the
//! server lists is decoded into its type and encoded again, and must come out equal.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::Stdio;

use kubeclient_core::resource::{ObjectList, Resource};
use serde_json::Value;
use test_support::api::{call, call_bytes};
use test_support::api_round_trip::{WithProtobufKind, round_trip, with_protobuf_kind};
use test_support::cluster;

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

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
/// The sample objects of every kind (`tests/data/api-types.yaml`) for namespace `ns`, the
/// cluster-scoped ones named with `suffix`.
fn samples(ns: &str, suffix: &str) -> String {
    include_str!("../data/api-types.yaml")
        .replace("NAMESPACE", ns)
        .replace("SUFFIX", suffix)
}

/// Applies [`samples`] (server-side).
fn apply_samples(ns: &str, suffix: &str) {
    let manifest = samples(ns, suffix);
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
}

/// Deletes the cluster-scoped sample objects named with `suffix` (the namespace's go with it).
fn delete_cluster_samples(suffix: &str) {
    kubectl(
        &[
            "delete",
            &format!("priorityclass/api-types-{suffix}"),
            &format!("validatingadmissionpolicy/api-types-{suffix}"),
            &format!("customresourcedefinition/gadgets-{suffix}.api-types.kubeclient.dev"),
        ],
        None,
    );
}

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
    apply_samples(ns.name(), &suffix);
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
    // Objects read in both JSON and protobuf and found equal, by kind.
    let mut in_protobuf: BTreeMap<String, usize> = BTreeMap::new();
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
            if with_protobuf_kind(&gv, kind, HasProtobuf).is_some() {
                let (status, protobuf) = call_bytes(
                    &config,
                    http::Method::GET,
                    &format!("{path}/{name}"),
                    "application/json",
                    PROTOBUF,
                    Vec::new(),
                )
                .await;
                assert_eq!(status, 200, "{path}/{name} in protobuf");
                let json = serde_json::to_vec(&objects).expect("encode");
                let compare = CompareLists {
                    json: &json,
                    protobuf: &protobuf,
                };
                match with_protobuf_kind(&gv, kind, compare) {
                    Some(Ok(n)) => *in_protobuf.entry(format!("{gv} {kind}")).or_default() += n,
                    Some(Err(e)) => failures.push(format!("{gv} {kind} in protobuf: {e}")),
                    None => {}
                }
            }
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
    delete_cluster_samples(&suffix);

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
    // Every kind with objects was also read in protobuf (all but CustomResourceDefinition,
    // whose schema type has no protobuf form in kubeclient).
    for kind in checked.keys() {
        let resource = !kind.ends_with("List");
        if resource && !kind.contains("CustomResourceDefinition") {
            assert!(
                in_protobuf.get(kind).is_some_and(|n| *n > 0),
                "{kind} was not compared in protobuf: {in_protobuf:?}"
            );
        }
    }
}

/// Whether a kind has a protobuf form.
struct HasProtobuf;

impl WithProtobufKind for HasProtobuf {
    type Output = ();
    fn with<K: Resource + PartialEq + std::fmt::Debug>(self) {}
}

/// Reads the same list, sent by the server in JSON and in protobuf, into `K` both times: the
/// objects must be equal (compared where both lists hold the same resourceVersion), and each
/// written back in protobuf must read the same again.
struct CompareLists<'a> {
    json: &'a [u8],
    protobuf: &'a [u8],
}

impl WithProtobufKind for CompareLists<'_> {
    type Output = Result<usize, String>;

    fn with<K: Resource + PartialEq + std::fmt::Debug>(self) -> Result<usize, String> {
        let codec = K::protobuf().ok_or("no protobuf codec")?;
        let json: ObjectList<K> =
            serde_json::from_slice(self.json).map_err(|e| format!("JSON list: {e}"))?;
        let protobuf = kubeclient_core::protobuf::decode_list(self.protobuf, codec.decode)
            .map_err(|e| format!("protobuf list: {e}"))?;
        if protobuf.items.is_empty() != json.items.is_empty() {
            return Err(format!(
                "{} items in JSON, {} in protobuf",
                json.items.len(),
                protobuf.items.len()
            ));
        }
        let mut compared = 0;
        for item in &protobuf.items {
            let again = codec
                .decode_object(&(codec.encode)(item))
                .map_err(|e| format!("{:?} written again: {e}", item.name()))?;
            if again != *item {
                return Err(format!(
                    "{:?}: written again in protobuf, reads differently",
                    item.name()
                ));
            }
            // The same stored state: same object, same resourceVersion (objects the server
            // computes on each read, with none, are compared only by name).
            let Some(same) = json.items.iter().find(|j| {
                j.name() == item.name()
                    && j.namespace() == item.namespace()
                    && j.uid() == item.uid()
                    && j.resource_version() == item.resource_version()
            }) else {
                continue;
            };
            if item.resource_version().is_none_or(str::is_empty) {
                compared += 1;
                continue;
            }
            if same != item {
                let a = serde_json::to_value(same).map_err(|e| e.to_string())?;
                let b = serde_json::to_value(item).map_err(|e| e.to_string())?;
                return Err(format!(
                    "{:?}: JSON and protobuf differ: {}",
                    item.name(),
                    first_difference(&a, &b, "").unwrap_or_default()
                ));
            }
            compared += 1;
        }
        Ok(compared)
    }
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

/// Creates one object through protobuf and reads it through JSON, and another through JSON
/// read through protobuf; both reads must equal what the create answered.
struct CreateBothWays {
    config: kubeclient::rest::Config,
    namespace: String,
    object: Value,
}

/// The collection path of `K` in `namespace`.
fn collection<K: Resource>(namespace: &str) -> String {
    use kubeclient_core::resource::Scope;
    let base = if K::GROUP.is_empty() {
        format!("/api/{}", K::VERSION)
    } else {
        format!("/apis/{}/{}", K::GROUP, K::VERSION)
    };
    if <K::Scope as Scope>::NAMESPACED {
        format!("{base}/namespaces/{namespace}/{}", K::PLURAL)
    } else {
        format!("{base}/{}", K::PLURAL)
    }
}

/// The object an answer holds, in protobuf or JSON; an error with the server's message.
fn decoded<K: Resource>(what: &str, status: u16, body: &[u8]) -> Result<K, String> {
    use kubeclient_core::protobuf;
    if !(200..300).contains(&status) {
        let message = if protobuf::is_protobuf(body) {
            protobuf::decode_status(body).map_or_else(|e| e.to_string(), |s| s.message)
        } else {
            String::from_utf8_lossy(body).into_owned()
        };
        return Err(format!("{what}: {status} {message}"));
    }
    if protobuf::is_protobuf(body) {
        let codec = K::protobuf().ok_or("no protobuf codec")?;
        codec
            .decode_object(body)
            .map_err(|e| format!("{what}: {e}"))
    } else {
        serde_json::from_slice(body).map_err(|e| format!("{what}: {e}"))
    }
}

fn same<K: Resource + PartialEq>(what: &str, a: &K, b: &K) -> Result<(), String> {
    if a == b {
        return Ok(());
    }
    let a = serde_json::to_value(a).map_err(|e| e.to_string())?;
    let b = serde_json::to_value(b).map_err(|e| e.to_string())?;
    Err(format!(
        "{what}: {}",
        first_difference(&a, &b, "").unwrap_or_default()
    ))
}

impl WithProtobufKind for CreateBothWays {
    type Output = std::pin::Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

    fn with<K: Resource + PartialEq + std::fmt::Debug>(self) -> Self::Output {
        Box::pin(async move {
            let codec = K::protobuf().ok_or("no protobuf codec")?;
            let path = collection::<K>(&self.namespace);
            let base_name = self.object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let named = |suffix: &str| {
                let mut object = self.object.clone();
                object["metadata"]["name"] = Value::from(format!("{base_name}-{suffix}"));
                object
            };
            let get = |name: String, accept: &'static str| {
                let config = self.config.clone();
                let path = format!("{path}/{name}");
                async move {
                    call_bytes(
                        &config,
                        http::Method::GET,
                        &path,
                        "application/json",
                        accept,
                        Vec::new(),
                    )
                    .await
                }
            };

            // Created in protobuf, read in JSON.
            let typed: K = serde_json::from_value(named("pb")).map_err(|e| e.to_string())?;
            let (status, body) = call_bytes(
                &self.config,
                http::Method::POST,
                &path,
                PROTOBUF,
                PROTOBUF,
                (codec.encode)(&typed),
            )
            .await;
            if !kubeclient_core::protobuf::is_protobuf(&body) {
                return Err(format!("{path}: the create was not answered in protobuf"));
            }
            let created: K = decoded("create in protobuf", status, &body)?;
            let name = created.name().unwrap_or_default().to_string();
            let (status, body) = get(name.clone(), "application/json").await;
            let read: K = decoded("read in JSON", status, &body)?;
            same("created in protobuf, read in JSON", &created, &read)?;

            // Created in JSON, read in protobuf.
            let (status, body) = call_bytes(
                &self.config,
                http::Method::POST,
                &path,
                "application/json",
                "application/json",
                serde_json::to_vec(&named("json")).map_err(|e| e.to_string())?,
            )
            .await;
            let created: K = decoded("create in JSON", status, &body)?;
            let other = created.name().unwrap_or_default().to_string();
            let (status, body) = get(other.clone(), PROTOBUF).await;
            if !kubeclient_core::protobuf::is_protobuf(&body) {
                return Err(format!("{path}/{other}: not answered in protobuf"));
            }
            let read: K = decoded("read in protobuf", status, &body)?;
            same("created in JSON, read in protobuf", &created, &read)?;

            if !<K::Scope as kubeclient_core::resource::Scope>::NAMESPACED {
                for n in [&name, &other] {
                    call(
                        &self.config,
                        http::Method::DELETE,
                        &format!("{path}/{n}"),
                        None,
                    )
                    .await;
                }
            }
            Ok(format!("{} {}", K::api_version(), K::KIND))
        })
    }
}

/// Every kind of the sample objects (all but CustomResourceDefinition, which kubeclient
/// writes in JSON) is created through protobuf and read through JSON, and the reverse, and
/// reads the same.
#[tokio::test]
async fn built_in_objects_created_in_protobuf_read_the_same_in_json_and_the_reverse() {
    let ns = test_support::namespace().await;
    let manifest = samples(ns.name(), &format!("{}-pb", ns.name()));
    // One JSON document per object.
    let objects: Vec<Value> = serde_json::Deserializer::from_str(&kubectl(
        &["create", "--dry-run=client", "-o", "json", "-f", "-"],
        Some(&manifest),
    ))
    .into_iter()
    .collect::<Result<_, _>>()
    .expect("kubectl's JSON");
    let config = cluster().rest_config();
    let mut done = Vec::new();
    let mut failures = Vec::new();
    let mut json_only = Vec::new();
    for object in &objects {
        let api_version = object["apiVersion"].as_str().unwrap_or_default();
        let kind = object["kind"].as_str().unwrap_or_default();
        let both = CreateBothWays {
            config: config.clone(),
            namespace: ns.name().to_string(),
            object: object.clone(),
        };
        match with_protobuf_kind(api_version, kind, both) {
            None => json_only.push(format!("{api_version} {kind}")),
            Some(check) => match check.await {
                Ok(kind) => done.push(kind),
                Err(e) => failures.push(format!("{api_version} {kind}: {e}")),
            },
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        json_only,
        ["apiextensions.k8s.io/v1 CustomResourceDefinition"],
        "kinds without protobuf"
    );
    assert!(done.len() >= 23, "only {done:?}");
}

#[derive(Debug, Default)]
struct ResponseSizes(std::sync::Mutex<Vec<(String, Option<usize>)>>);

impl kubeclient::rest::RequestMetrics for ResponseSizes {
    fn observe(&self, metric: &kubeclient::rest::RequestMetric) {
        if let Ok(mut m) = self.0.lock() {
            m.push((metric.verb.clone(), metric.response_bytes));
        }
    }
}

impl ResponseSizes {
    fn last(&self) -> Option<usize> {
        self.0.lock().ok()?.last()?.1
    }
}

/// `Client<K>` of a generated type speaks protobuf by default (create, get, update, list,
/// watch, errors) and JSON when the configuration says so; both read the same objects.
#[tokio::test]
async fn the_typed_client_speaks_protobuf_unless_told_json() {
    use futures_util::StreamExt;
    use kubeclient::client::Client;
    use kubeclient::rest::watch::WatchEvent;
    use kubeclient::rest::{
        CreateOptions, DeleteOptions, GetOptions, ListOptions, RestClient, UpdateOptions,
        WireFormat,
    };
    use kubeclient_core::api::core::v1::{Container, Pod, PodSpec};
    use std::sync::Arc;

    let ns = test_support::namespace().await;
    let client = |format| {
        let sizes = Arc::new(ResponseSizes::default());
        let mut config = cluster().rest_config();
        config.qps = -1.0;
        config.wire_format = format;
        config.metrics = Some(sizes.clone());
        let rest = RestClient::new(&config).expect("client");
        (Client::<Pod>::namespaced(rest, ns.name()), sizes)
    };
    let (pb, pb_sizes) = client(WireFormat::default());
    let (json, json_sizes) = client(WireFormat::Json);
    let mut events = pb.watch(&ListOptions::default()).await.expect("watch");

    let mut pod = Pod::default();
    pod.metadata.name = Some("wire".into());
    pod.spec = Some(Box::new(PodSpec {
        containers: vec![Container {
            name: "app".into(),
            image: Some("registry.example/app:1".into()),
            ..Container::default()
        }],
        ..PodSpec::default()
    }));
    let created = pb
        .create(&pod, &CreateOptions::default())
        .await
        .expect("create in protobuf");
    let by_json = json.get("wire", &GetOptions::default()).await.expect("get");
    let json_size = json_sizes.last().expect("a JSON answer");
    let by_protobuf = pb.get("wire", &GetOptions::default()).await.expect("get");
    let protobuf_size = pb_sizes.last().expect("a protobuf answer");
    assert_eq!(by_json, created);
    assert_eq!(by_protobuf, created);
    // The same object, told apart by its size on the wire: protobuf is the smaller.
    assert!(
        protobuf_size < json_size,
        "protobuf {protobuf_size} bytes, JSON {json_size}"
    );

    let mut changed = by_protobuf.clone();
    changed
        .metadata
        .labels
        .get_or_insert_default()
        .insert("wire".into(), "protobuf".into());
    let updated = pb
        .update(&changed, &UpdateOptions::default())
        .await
        .expect("update in protobuf");
    assert_eq!(
        json.get("wire", &GetOptions::default()).await.expect("get"),
        updated
    );
    let listed = pb.list(&ListOptions::default()).await.expect("list");
    assert_eq!(listed.items, vec![updated.clone()]);
    assert!(listed.metadata.resource_version.is_some());
    assert_eq!(
        json.list(&ListOptions::default())
            .await
            .expect("list")
            .items,
        listed.items
    );

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.next())
            .await
            .expect("an event in time")
            .expect("the watch goes on")
            .expect("an event");
        match event {
            WatchEvent::Added(p) => seen.push(("ADDED", p)),
            WatchEvent::Modified(p) => seen.push(("MODIFIED", p)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen[0], ("ADDED", created.clone()));
    assert_eq!(seen[1], ("MODIFIED", updated.clone()));

    let missing = pb
        .get("missing", &GetOptions::default())
        .await
        .expect_err("no such pod");
    let api = missing.api().expect("the server's Status");
    assert!(api.is_not_found(), "{missing}");
    assert!(api.status.message.contains("\"missing\""), "{missing}");
    pb.delete("wire", &DeleteOptions::default())
        .await
        .expect("delete");
}

/// Converts every object of a kind, as `k8s-openapi` reads it, into kubeclient's type and
/// back: both ways lossless, and equal to what kubeclient's type reads from the server.
async fn converts_both_ways<K, T>(rest: &kubeclient::rest::RestClient) -> Result<usize, String>
where
    K: k8s_openapi::Resource + Resource + PartialEq + std::fmt::Debug,
    T: Resource + kubeclient_core::primitives::TypeInfo + PartialEq + std::fmt::Debug,
{
    use kubeclient::client::Client;
    use kubeclient::rest::ListOptions;
    let what = format!("{} {}", T::api_version(), <T as Resource>::KIND);
    let theirs = Client::<K>::all(rest.clone())
        .list(&ListOptions::default())
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let ours = Client::<T>::all(rest.clone())
        .list(&ListOptions::default())
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let mut n = 0;
    for object in &theirs.items {
        let converted: T =
            kubeclient_core::from_openapi(object).map_err(|e| format!("{what}: {e}"))?;
        let back: K =
            kubeclient_core::to_openapi(&converted).map_err(|e| format!("{what}: {e}"))?;
        if back != *object {
            return Err(format!(
                "{what} {:?}: changed on the way back",
                object.name()
            ));
        }
        if let Some(read) = ours.items.iter().find(|o| {
            o.uid() == converted.uid() && o.resource_version() == converted.resource_version()
        }) && *read != converted
        {
            return Err(format!(
                "{what} {:?}: differs from kubeclient's read",
                object.name()
            ));
        }
        n += 1;
    }
    Ok(n)
}

/// kube-rs interop: the sample objects (and whatever else the server holds of their kinds)
/// convert from `k8s-openapi`'s types to kubeclient's and back with nothing lost.
#[tokio::test]
async fn k8s_openapi_objects_convert_to_the_generated_types_and_back() {
    use k8s_openapi::api as o;
    use kubeclient_core::api as a;
    let ns = test_support::namespace().await;
    let suffix = format!("{}-conv", ns.name());
    apply_samples(ns.name(), &suffix);
    let rest = cluster().unthrottled_client();
    let results = [
        converts_both_ways::<o::core::v1::Pod, a::core::v1::Pod>(&rest).await,
        converts_both_ways::<o::core::v1::ConfigMap, a::core::v1::ConfigMap>(&rest).await,
        converts_both_ways::<o::core::v1::Secret, a::core::v1::Secret>(&rest).await,
        converts_both_ways::<o::core::v1::Service, a::core::v1::Service>(&rest).await,
        converts_both_ways::<o::core::v1::Namespace, a::core::v1::Namespace>(&rest).await,
        converts_both_ways::<o::core::v1::ServiceAccount, a::core::v1::ServiceAccount>(&rest).await,
        converts_both_ways::<o::core::v1::PersistentVolumeClaim, a::core::v1::PersistentVolumeClaim>(&rest).await,
        converts_both_ways::<o::core::v1::ResourceQuota, a::core::v1::ResourceQuota>(&rest).await,
        converts_both_ways::<o::core::v1::LimitRange, a::core::v1::LimitRange>(&rest).await,
        converts_both_ways::<o::apps::v1::Deployment, a::apps::v1::Deployment>(&rest).await,
        converts_both_ways::<o::apps::v1::StatefulSet, a::apps::v1::StatefulSet>(&rest).await,
        converts_both_ways::<o::apps::v1::DaemonSet, a::apps::v1::DaemonSet>(&rest).await,
        converts_both_ways::<o::batch::v1::Job, a::batch::v1::Job>(&rest).await,
        converts_both_ways::<o::batch::v1::CronJob, a::batch::v1::CronJob>(&rest).await,
        converts_both_ways::<o::policy::v1::PodDisruptionBudget, a::policy::v1::PodDisruptionBudget>(&rest).await,
        converts_both_ways::<o::autoscaling::v2::HorizontalPodAutoscaler, a::autoscaling::v2::HorizontalPodAutoscaler>(&rest).await,
        converts_both_ways::<o::networking::v1::Ingress, a::networking::v1::Ingress>(&rest).await,
        converts_both_ways::<o::networking::v1::NetworkPolicy, a::networking::v1::NetworkPolicy>(&rest).await,
        converts_both_ways::<o::rbac::v1::ClusterRole, a::rbac::v1::ClusterRole>(&rest).await,
        converts_both_ways::<o::rbac::v1::RoleBinding, a::rbac::v1::RoleBinding>(&rest).await,
        converts_both_ways::<o::coordination::v1::Lease, a::coordination::v1::Lease>(&rest).await,
        converts_both_ways::<o::events::v1::Event, a::events::v1::Event>(&rest).await,
        converts_both_ways::<o::scheduling::v1::PriorityClass, a::scheduling::v1::PriorityClass>(&rest).await,
        converts_both_ways::<o::flowcontrol::v1::FlowSchema, a::flowcontrol::v1::FlowSchema>(&rest).await,
        converts_both_ways::<
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            a::apiextensions::v1::CustomResourceDefinition,
        >(&rest)
        .await,
        converts_both_ways::<
            k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
            a::apiregistration::v1::APIService,
        >(&rest)
        .await,
    ];
    delete_cluster_samples(&suffix);
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    let empty = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|n| *n == 0))
        .count();
    assert_eq!(empty, 0, "a kind had no object to convert: {results:?}");
    let mismatch: Result<a::core::v1::Pod, _> =
        kubeclient_core::from_openapi(&o::core::v1::ConfigMap::default());
    assert!(
        mismatch
            .as_ref()
            .is_err_and(|e| e.to_string() == "v1 ConfigMap is not v1 Pod"),
        "{mismatch:?}"
    );
}

/// A list answer of many HTTP/2 frames, in protobuf, is read item by item by the typed client
/// and equals the same list read in JSON (which kube-apiserver gzips, being over 128 KiB; it
/// sends a streamed protobuf list uncompressed); pages (limit and continue) read the same way.
#[tokio::test]
async fn a_large_protobuf_list_reads_item_by_item_as_the_json_list() {
    use futures_util::{StreamExt, TryStreamExt};
    use kubeclient::client::Client;
    use kubeclient::rest::{CreateOptions, ListOptions, RestClient, WireFormat};
    use kubeclient_core::api::core::v1::ConfigMap;
    use kubeclient_core::primitives::Map;

    const COUNT: usize = 150;
    let ns = test_support::namespace().await;
    let client = |format| {
        let mut config = cluster().rest_config();
        config.qps = -1.0;
        config.wire_format = format;
        Client::<ConfigMap>::namespaced(RestClient::new(&config).expect("client"), ns.name())
    };
    let (pb, json) = (client(WireFormat::Protobuf), client(WireFormat::Json));
    futures_util::stream::iter(0..COUNT)
        .map(|i| {
            let pb = pb.clone();
            async move {
                let mut cm = ConfigMap::default();
                cm.metadata.name = Some(format!("big-{i:03}").into());
                cm.data = Some(Map::from([("blob", "x".repeat(2000 + i).into())]));
                pb.create(&cm, &CreateOptions::default()).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .expect("create");

    // The answer is protobuf, and large.
    let answer = RestClient::new(&cluster().rest_config())
        .expect("client")
        .get()
        .group_version("v1")
        .namespace(ns.name())
        .resource("configmaps")
        .header("accept", kubeclient_core::protobuf::ACCEPT)
        .send()
        .await
        .expect("list");
    let content_type = answer
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert!(
        content_type.is_some_and(|t| t.starts_with(kubeclient_core::protobuf::CONTENT_TYPE)),
        "{content_type:?}"
    );
    assert!(answer.body.len() > 300_000, "{} bytes", answer.body.len());

    let by_protobuf = pb.list(&ListOptions::default()).await.expect("list");
    let by_json = json.list(&ListOptions::default()).await.expect("list");
    assert_eq!(by_protobuf.items.len(), COUNT);
    assert_eq!(by_protobuf.items, by_json.items);
    assert!(by_protobuf.metadata.resource_version.is_some());

    let page = ListOptions {
        limit: Some(40),
        ..Default::default()
    };
    let first = pb.list(&page).await.expect("first page");
    assert_eq!(first.items.len(), 40);
    assert!(first.metadata.continue_token.is_some());
    assert_eq!(
        first.metadata.remaining_item_count,
        Some((COUNT - 40) as i64)
    );
    let paged: Vec<ConfigMap> = pb.list_all(&page).try_collect().await.expect("every page");
    assert_eq!(paged, by_json.items);
}
