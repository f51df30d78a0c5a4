//! Proves the test control plane is the real thing: the pinned kube-apiserver release, real
//! authentication and RBAC, and fault helpers that really restart it and compact etcd.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::{Access, cluster};

/// The pinned Kubernetes release, read from controlplane/versions.env.
fn pinned_kubernetes_version() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../controlplane/versions.env");
    let text = std::fs::read_to_string(path).expect("reading controlplane/versions.env");
    text.lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .expect("KUBERNETES_VERSION in versions.env")
        .trim()
        .to_string()
}

async fn get_json(access: &Access, path: &str) -> (u16, Value) {
    let resp = access
        .client()
        .get(access.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = resp.status().as_u16();
    let body = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: body is not JSON: {e}"));
    (status, body)
}

/// Who the server thinks `access` is, via a SelfSubjectReview.
async fn whoami(access: &Access) -> Value {
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let resp = access
        .client()
        .post(access.url("/apis/authentication.k8s.io/v1/selfsubjectreviews"))
        .json(&review)
        .send()
        .await
        .expect("POST selfsubjectreviews");
    assert_eq!(
        resp.status().as_u16(),
        201,
        "SelfSubjectReview should be created"
    );
    let body: Value = resp.json().await.expect("SelfSubjectReview JSON");
    body["status"]["userInfo"].clone()
}

#[tokio::test]
async fn version_endpoint_reports_the_pinned_release() {
    let (status, version) = get_json(cluster().admin(), "/version").await;
    assert_eq!(status, 200);
    assert_eq!(version["gitVersion"], pinned_kubernetes_version().as_str());
    assert_eq!(version["gitTreeState"], "clean");
}

#[tokio::test]
async fn admin_client_certificate_is_system_masters() {
    let user = whoami(cluster().admin()).await;
    assert_eq!(user["username"], "admin");
    let groups = user["groups"].as_array().expect("groups");
    assert!(groups.contains(&json!("system:masters")), "{user}");
}

#[tokio::test]
async fn anonymous_request_to_a_protected_path_is_rejected() {
    let admin = cluster().admin();
    let resp = admin
        .anonymous()
        .get(admin.url("/api/v1/namespaces/kube-system/secrets"))
        .send()
        .await
        .expect("anonymous GET");
    let status = resp.status().as_u16();
    assert!(
        status == 401 || status == 403,
        "anonymous request got {status}"
    );
}

#[tokio::test]
async fn token_user_is_authenticated_but_forbidden_to_list_secrets() {
    let user = Access::from_kubeconfig(&cluster().user_kubeconfig()).expect("user kubeconfig");
    // Authenticated (a 401 would mean the token was not accepted) ...
    let info = whoami(&user).await;
    assert_eq!(info["username"], "kubeclient-user");
    // ... but RBAC grants it nothing in kube-system.
    let (status, body) = get_json(&user, "/api/v1/namespaces/kube-system/secrets").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Forbidden");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("\"kubeclient-user\""), "{message}");
}

#[tokio::test]
async fn each_test_gets_a_fresh_active_namespace() {
    let a = test_support::namespace().await;
    let b = test_support::namespace().await;
    assert_ne!(a.name(), b.name());
    let (status, ns) = get_json(
        cluster().admin(),
        &format!("/api/v1/namespaces/{}", a.name()),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ns["status"]["phase"], "Active");
    let name = a.name().to_string();
    drop(a);
    let (_, ns) = get_json(cluster().admin(), &format!("/api/v1/namespaces/{name}")).await;
    // Deleted: gone, or Terminating (no namespace controller runs to finish the job).
    assert!(
        ns["code"] == 404 || ns["status"]["phase"] == "Terminating",
        "namespace {name} after drop: {ns}"
    );
}

/// kube-apiserver's process start time, from its own metrics.
async fn apiserver_start_time(access: &Access) -> f64 {
    let text = access
        .client()
        .get(access.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix("process_start_time_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .expect("process_start_time_seconds in /metrics")
}

#[tokio::test]
async fn restart_helper_restarts_kube_apiserver_and_keeps_the_data() {
    let ex = test_support::exclusive().await;
    let ns = ex.namespace().await;
    let admin = cluster().admin();
    let before = apiserver_start_time(admin).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ex.restart_apiserver()
        .await
        .expect("restart kube-apiserver");
    let after = apiserver_start_time(admin).await;
    assert!(
        after > before,
        "start time {before} -> {after}: not restarted"
    );
    // etcd kept running: the namespace made before the restart is still there.
    let (status, _) = get_json(admin, &format!("/api/v1/namespaces/{}", ns.name())).await;
    assert_eq!(status, 200);
}

/// Sends `body` as `method` to `path` and returns the answer's status and JSON.
async fn send_json(
    access: &Access,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let content_type = if method == reqwest::Method::PATCH {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let resp = access
        .client()
        .request(method.clone(), access.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON answer"))
}

/// Opens a watch at `path` and returns its first event (newline-delimited JSON).
async fn first_watch_event(access: &Access, path: &str) -> Value {
    let mut resp = access
        .client()
        .get(access.url(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("watch {path}: {e}"));
    let status = resp.status().as_u16();
    let mut buf = Vec::new();
    while !buf.contains(&b'\n') {
        match resp.chunk().await.expect("watch body") {
            Some(chunk) => buf.extend_from_slice(&chunk),
            None => break,
        }
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    serde_json::from_slice(line).unwrap_or_else(|e| {
        panic!(
            "watch {path} (HTTP {status}): first line is not JSON ({e}): {}",
            String::from_utf8_lossy(line)
        )
    })
}

fn resource_version(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_else(|| panic!("no numeric resourceVersion in {object}"))
}

#[tokio::test]
async fn compaction_helper_makes_resumed_watches_expire() {
    let ex = test_support::exclusive().await;
    let ns = ex.namespace().await;
    let admin = cluster().admin();
    let cms = format!("/api/v1/namespaces/{}/configmaps", ns.name());

    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "history"}, "data": {"n": "0"}});
    let (status, created) = send_json(admin, reqwest::Method::POST, &cms, cm).await;
    assert_eq!(status, 201, "{created}");
    let first = resource_version(&created);
    let mut last = first;
    for n in 1..=3 {
        let patch = json!({"data": {"n": n.to_string()}});
        let (status, patched) = send_json(
            admin,
            reqwest::Method::PATCH,
            &format!("{cms}/history"),
            patch,
        )
        .await;
        assert_eq!(status, 200, "{patched}");
        last = resource_version(&patched);
    }

    // A watch from the first version works before compaction: it replays the first update.
    let watch = format!("{cms}?watch=1&timeoutSeconds=10&resourceVersion={first}");
    let event = first_watch_event(admin, &watch).await;
    assert_eq!(event["type"], "MODIFIED", "{event}");
    assert_eq!(event["object"]["data"]["n"], "1", "{event}");

    ex.compact_etcd(last).await.expect("compact etcd");
    // kube-apiserver's watch cache still holds recent history in memory; a restart drops it,
    // as a real apiserver restart or rollout would.
    ex.restart_apiserver()
        .await
        .expect("restart kube-apiserver");

    // Resumed from the old version, the watch now expires: 410 Gone, reason Expired.
    let event = first_watch_event(admin, &watch).await;
    assert_eq!(event["type"], "ERROR", "{event}");
    assert_eq!(event["object"]["code"], 410, "{event}");
    assert_eq!(event["object"]["reason"], "Expired", "{event}");

    // And the compaction itself is real and exact: etcd no longer has the versions before
    // `last`, but still has `last`.
    let exact = |rv: u64| format!("{cms}?resourceVersion={rv}&resourceVersionMatch=Exact");
    let (status, body) = get_json(admin, &exact(first)).await;
    assert_eq!(status, 410, "{body}");
    let (status, body) = get_json(admin, &exact(last)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["data"]["n"], "3", "{body}");
}
