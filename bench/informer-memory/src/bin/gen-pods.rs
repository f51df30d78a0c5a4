//! Fills a namespace with N pods shaped like a real cluster's, then prints their average JSON
//! size and managedFields share as one JSON line.
//!
//! Each pod is what a ReplicaSet of a Deployment makes on a real cluster: labels and
//! annotations, an ownerReference to its ReplicaSet, two containers (env with `fieldRef`s,
//! ports, resources, probes, volume mounts, the defaults the controller sends), the projected
//! service-account volume and a configMap volume, the two default tolerations and a node.
//! It is created with `fieldManager=kube-controller-manager`, then its status is written
//! (PUT `/status`, `fieldManager=kubelet`) as a running kubelet reports it, so its
//! managedFields hold the same two managers as on a real cluster.
//!
//! Names are derived from the index, so a second run creates only what is missing and does
//! nothing when the namespace already holds N pods.
//!
//! usage: gen-pods --kubeconfig PATH [--namespace NS] [--count N] [--concurrency C]

use std::collections::HashSet;
use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use kubeclient::rest::RestClient;
use serde_json::{Value, json};

/// The Deployments the pods belong to, one ReplicaSet each.
const APPS: [&str; 20] = [
    "checkout",
    "cart",
    "payments",
    "catalog",
    "search",
    "recommendations",
    "shipping",
    "inventory",
    "accounts",
    "notifications",
    "reviews",
    "pricing",
    "orders",
    "gateway",
    "auth",
    "media",
    "analytics",
    "emails",
    "ads",
    "loyalty",
];

/// The alphabet Kubernetes uses for generated name suffixes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A fixed timestamp base so the data is the same on every run.
const TIME: &str = "2026-11-20T10:14:03Z";

/// splitmix64: a deterministic stream of pseudo-random numbers from a seed.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `len` lowercase hex digits derived from `seed`.
fn hex(seed: u64, len: usize) -> String {
    (0..len.div_ceil(16))
        .map(|i| format!("{:016x}", mix(seed.wrapping_mul(31).wrapping_add(i as u64))))
        .collect::<String>()[..len]
        .to_string()
}

/// A version-4-looking UID derived from `seed`.
fn uid(seed: u64) -> String {
    let h = hex(seed, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

/// `len` characters of Kubernetes' name alphabet, unique per `n` below 27^len.
fn suffix(mut n: u64, len: usize) -> String {
    (0..len)
        .map(|_| {
            let c = NAME_ALPHABET[(n % 27) as usize] as char;
            n /= 27;
            c
        })
        .collect()
}

fn field_env(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
}

fn probe(path: &str, port: &str, period: u32, delay: u32) -> Value {
    json!({
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": delay, "timeoutSeconds": 1, "periodSeconds": period,
        "successThreshold": 1, "failureThreshold": 3
    })
}

/// The name of pod number `i`.
fn pod_name(i: u64) -> String {
    let app = APPS[(i % APPS.len() as u64) as usize];
    format!(
        "{app}-{}-{}",
        rs_hash(app),
        suffix(i / APPS.len() as u64, 5)
    )
}

fn rs_hash(app: &str) -> String {
    let seed = app
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(131).wrapping_add(b as u64));
    suffix(mix(seed) % 27u64.pow(10), 10)
}

/// Pod number `i` as the ReplicaSet controller creates it (after admission defaults).
fn pod(i: u64, namespace: &str) -> Value {
    let app = APPS[(i % APPS.len() as u64) as usize];
    let hash = rs_hash(app);
    let name = pod_name(i);
    let node = format!(
        "gke-prod-pool-{}-{}-{}",
        i % 3 + 1,
        hex(i % 3, 8),
        suffix(i % 40, 4)
    );
    let version = format!("2.{}.{}", i % 7 + 10, i % 5);
    let image = format!("europe-docker.pkg.dev/shop-prod/services/{app}:{version}");
    let token_volume = format!("kube-api-access-{}", suffix(mix(i) % 27u64.pow(5), 5));
    let sa_mount = json!({
        "name": token_volume, "readOnly": true,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"
    });
    let app_container = json!({
        "name": app,
        "image": image,
        "command": [format!("/usr/local/bin/{app}")],
        "args": [
            format!("--config=/etc/{app}/config.yaml"),
            "--log-level=info",
            "--grpc-max-recv-msg-size=16777216",
            "--shutdown-grace-period=25s"
        ],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            field_env("POD_NAME", "metadata.name"),
            field_env("POD_NAMESPACE", "metadata.namespace"),
            field_env("POD_IP", "status.podIP"),
            field_env("NODE_NAME", "spec.nodeName"),
            {"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef":
                {"containerName": app, "resource": "limits.memory", "divisor": "0"}}},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability.svc.cluster.local:4317"}
        ],
        "resources": {
            "limits": {"cpu": "1", "memory": "512Mi"},
            "requests": {"cpu": "250m", "memory": "256Mi"}
        },
        "volumeMounts": [
            {"name": "config", "readOnly": true, "mountPath": format!("/etc/{app}")},
            sa_mount
        ],
        "livenessProbe": probe("/healthz", "http", 10, 10),
        "readinessProbe": probe("/ready", "http", 5, 0),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    });
    let proxy_container = json!({
        "name": "envoy",
        "image": "europe-docker.pkg.dev/shop-prod/mirror/envoyproxy/envoy:v1.33.2-distroless",
        "args": [
            "--service-cluster", app, "--service-node", "$(POD_NAME)", "--drain-time-s", "20",
            "--log-format", "[%Y-%m-%d %T.%e][%t][%l][%n] %v"
        ],
        "ports": [{"name": "admin", "containerPort": 15000, "protocol": "TCP"}],
        "env": [
            field_env("POD_NAME", "metadata.name"),
            {"name": "ENVOY_UID", "value": "1337"},
            {"name": "ENVOY_CONFIG", "value": "/etc/envoy/envoy.yaml"},
            {"name": "ENVOY_LOG_LEVEL", "value": "warning"},
            {"name": "ENVOY_ADMIN_ADDRESS", "value": "127.0.0.1:15000"},
            {"name": "ENVOY_UPSTREAM", "value": "http://127.0.0.1:8080"}
        ],
        "resources": {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"}
        },
        "volumeMounts": [sa_mount],
        "livenessProbe": {
            "tcpSocket": {"port": "admin"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
        },
        "readinessProbe": probe("/ready", "admin", 5, 1),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
    });
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": format!("{app}-{hash}-"),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/instance": format!("{app}-prod"),
                "app.kubernetes.io/part-of": "shop",
                "app.kubernetes.io/version": version,
                "pod-template-hash": hash
            },
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": TIME,
                "checksum/config": hex(i % APPS.len() as u64 + 2_000_000, 64),
                "prometheus.io/scrape": "true"
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{app}-{hash}"),
                "uid": uid(i % APPS.len() as u64 + 1_000_000), "controller": true,
                "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}},
                {"name": token_volume, "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace",
                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                ]}}
            ],
            "containers": [app_container, proxy_container],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": app,
            "serviceAccount": app,
            "nodeName": node,
            "securityContext": {"fsGroup": 2000},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        }
    })
}

/// The status a kubelet reports for pod number `i` once both containers run.
fn status(i: u64, pod: &Value) -> Value {
    let host_ip = format!("10.{}.{}.{}", 128 + i % 3, (i / 3) % 40, 10 + i % 3);
    let pod_ip = format!(
        "10.{}.{}.{}",
        64 + (i % 40) / 8,
        (i / 40) % 256,
        2 + i % 250
    );
    let condition = |kind: &str| json!({"type": kind, "status": "True", "lastProbeTime": null, "lastTransitionTime": TIME});
    let containers = pod["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let statuses: Vec<Value> = containers
        .iter()
        .enumerate()
        .map(|(c, container)| {
            // One app container in four has restarted once, as after an OOM kill.
            let (restarts, last_state) = if c == 0 && i.is_multiple_of(4) {
                let id = hex(i * 2 + 9_000_000, 64);
                (
                    1,
                    json!({"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": TIME,
                    "finishedAt": TIME, "containerID": format!("containerd://{id}")}}),
                )
            } else {
                (0, json!({}))
            };
            let image = container["image"].as_str().unwrap_or_default();
            let repo = image.rsplit_once(':').map_or(image, |(repo, _)| repo);
            let mounts: Vec<Value> = container["volumeMounts"]
                .as_array()
                .map(|m| {
                    m.iter()
                        .map(|v| {
                            json!({"name": v["name"], "mountPath": v["mountPath"],
                                        "readOnly": true, "recursiveReadOnly": "Disabled"})
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "name": container["name"],
                "state": {"running": {"startedAt": TIME}},
                "lastState": last_state,
                "ready": true,
                "restartCount": restarts,
                "image": image,
                "imageID": format!("{repo}@sha256:{}", hex(i % 7 * 10 + c as u64, 64)),
                "containerID": format!("containerd://{}", hex(i * 2 + c as u64 + 5_000_000, 64)),
                "started": true,
                "allocatedResources": container["resources"]["requests"],
                "resources": container["resources"],
                "volumeMounts": mounts,
                "user": {"linux": {"uid": 1000, "gid": 3000, "supplementalGroups": [2000]}}
            })
        })
        .collect();
    json!({
        "phase": "Running",
        "conditions": [condition("Initialized"), condition("Ready"), condition("ContainersReady"), condition("PodScheduled")],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": TIME,
        "containerStatuses": statuses,
        "qosClass": "Burstable"
    })
}

/// Creates pod number `i` and writes its status.
async fn create(
    rest: &RestClient,
    namespace: &str,
    i: u64,
) -> Result<(), Box<dyn Error + Send + Sync>> {
    let created: Value = rest
        .post()
        .group_version("v1")
        .namespace(namespace)
        .resource("pods")
        .param("fieldManager", "kube-controller-manager")
        .json(&pod(i, namespace))
        .into_json()
        .await?;
    let mut updated = created.clone();
    updated["status"] = status(i, &created);
    let name = created["metadata"]["name"].as_str().unwrap_or_default();
    rest.put()
        .group_version("v1")
        .namespace(namespace)
        .resource("pods")
        .name(name)
        .subresource("status")
        .param("fieldManager", "kubelet")
        .json(&updated)
        .raw()
        .await?;
    Ok(())
}

/// Every pod of the namespace, page by page; `each` sees each pod's JSON.
async fn list_pods(
    rest: &RestClient,
    namespace: &str,
    mut each: impl FnMut(&Value),
) -> Result<(), Box<dyn Error>> {
    let mut token = String::new();
    loop {
        let mut request = rest
            .get()
            .group_version("v1")
            .namespace(namespace)
            .resource("pods")
            .param("limit", "500");
        if !token.is_empty() {
            request = request.param("continue", &token);
        }
        let page: Value = request.into_json().await?;
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .for_each(&mut each);
        token = page["metadata"]["continue"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if token.is_empty() {
            return Ok(());
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (mut kubeconfig, mut namespace, mut count, mut concurrency) =
        (None, "bench-pods".to_string(), 10_000u64, 32usize);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--kubeconfig" => kubeconfig = Some(value),
            "--namespace" => namespace = value,
            "--count" => count = value.parse()?,
            "--concurrency" => concurrency = value.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let kubeconfig = kubeconfig.ok_or("--kubeconfig is required")?;
    let mut config = kubeclient::config::infer(Some(kubeconfig.as_ref()))?.config;
    config.qps = -1.0; // no client-side throttling: the generator is not what is measured
    let rest = RestClient::new(&config)?;

    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
    match rest
        .post()
        .group_version("v1")
        .resource("namespaces")
        .json(&ns)
        .raw()
        .await
    {
        Err(e) if !e.is_already_exists() => return Err(e.into()),
        _ => {}
    }

    let mut existing = HashSet::new();
    list_pods(&rest, &namespace, |p| {
        existing.insert(
            p["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    })
    .await?;
    let missing: Vec<u64> = (0..count)
        .filter(|&i| !existing.contains(&pod_name(i)))
        .collect();
    if missing.is_empty() {
        eprintln!("gen-pods: namespace {namespace} already holds the {count} pods");
    } else {
        eprintln!(
            "gen-pods: creating {} pods in {namespace} ({concurrency} at a time)",
            missing.len()
        );
        let started = Instant::now();
        let done = AtomicUsize::new(0);
        let failures: Vec<String> = futures_util::stream::iter(missing)
            .map(|i| {
                let (rest, namespace, done) = (&rest, &namespace, &done);
                async move {
                    let result = create(rest, namespace, i).await;
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % 1000 == 0 {
                        eprintln!(
                            "gen-pods: {n} pods ({:.0} s)",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    result.err().map(|e| format!("pod {}: {e}", pod_name(i)))
                }
            })
            .buffer_unordered(concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        if let Some(first) = failures.first() {
            return Err(format!("{} pods failed; the first: {first}", failures.len()).into());
        }
        eprintln!(
            "gen-pods: created in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    let (mut pods, mut bytes, mut managed) = (0u64, 0u64, 0u64);
    list_pods(&rest, &namespace, |p| {
        pods += 1;
        bytes += serde_json::to_vec(p).map_or(0, |v| v.len() as u64);
        if let Some(mf) = p["metadata"].get("managedFields") {
            // The entry as it appears inside metadata: `"managedFields":[...],`.
            managed += serde_json::to_vec(mf).map_or(0, |v| v.len() as u64) + 17;
        }
    })
    .await?;
    let avg = |v: u64| v.checked_div(pods).unwrap_or(0);
    let share = if bytes == 0 {
        0.0
    } else {
        managed as f64 / bytes as f64
    };
    eprintln!(
        "gen-pods: {pods} pods, {} bytes of JSON each on average, managedFields {:.1}% of it",
        avg(bytes),
        share * 100.0
    );
    println!(
        "{}",
        json!({"pods": pods, "json_bytes_per_pod": avg(bytes), "managed_fields_bytes_per_pod": avg(managed),
               "managed_fields_share": (share * 1000.0).round() / 1000.0})
    );
    Ok(())
}
