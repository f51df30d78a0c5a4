//! Typed subresources against the real API server. Pods are created but never run (there is
//! no scheduler or kubelet): what needs a running container is tested up to the error the
//! API server gives, decoded.

use base64::Engine;
use futures_util::TryStreamExt;
use kubeclient::api::apps::v1::Deployment;
use kubeclient::api::authentication::v1::TokenRequest;
use kubeclient::api::autoscaling::v1::Scale;
use kubeclient::api::certificates::v1::CertificateSigningRequest;
use kubeclient::api::core::v1::{Pod, ServiceAccount};
use kubeclient::client::{Client, LogParams, Patch};
use kubeclient::clientset::Clientset;
use kubeclient::rest::{CreateOptions, PatchOptions, UpdateOptions};
use serde_json::{Value, json};
use test_support::{cluster, namespace};

fn clientset() -> Clientset {
    Clientset::new(&cluster().rest_config()).expect("clientset")
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("a valid object")
}

async fn pod(pods: &Client<Pod>, name: &str) -> Pod {
    let pod: Pod = from_json(json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "100m"}}}]},
    }));
    pods.create(&pod, &CreateOptions::default())
        .await
        .expect("create pod")
}

#[tokio::test]
async fn deployment_scale_get_update_patch() {
    let ns = namespace().await;
    let deployments = clientset().apps_v1().deployments(ns.name());
    let deployment: Deployment = from_json(json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}]}}},
    }));
    deployments
        .create(&deployment, &CreateOptions::default())
        .await
        .expect("create");

    let mut scale: Scale = deployments
        .get_subresource("web", "scale")
        .await
        .expect("get scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(1));
    scale.spec.get_or_insert_with(Default::default).replicas = Some(3);
    let updated: Scale = deployments
        .replace_subresource("web", "scale", &scale, &UpdateOptions::default())
        .await
        .expect("update scale");
    assert_eq!(updated.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let patched: Scale = deployments
        .patch_subresource(
            "web",
            "scale",
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
            &PatchOptions::default(),
        )
        .await
        .expect("patch scale");
    assert_eq!(patched.spec.as_ref().and_then(|s| s.replicas), Some(5));
    let got = deployments
        .get("web", &Default::default())
        .await
        .expect("get");
    assert_eq!(got.spec.replicas, Some(5));
}

#[tokio::test]
async fn pod_logs_stream_and_errors_decode() {
    let ns = namespace().await;
    let pods = clientset().core_v1().pods(ns.name());
    pod(&pods, "quiet").await;
    // A pod that never ran has an empty log (the API server answers 200, as kubectl shows).
    let params = LogParams {
        tail_lines: Some(10),
        timestamps: Some(true),
        ..LogParams::default()
    };
    let chunks: Vec<bytes::Bytes> = pods
        .logs("quiet", &params)
        .await
        .expect("log stream")
        .try_collect()
        .await
        .expect("read to the end");
    assert!(chunks.iter().all(|c| c.is_empty()), "{chunks:?}");
    // A container the pod lacks: 400, decoded with the server's message.
    let wrong = LogParams {
        container: Some("nope".into()),
        ..LogParams::default()
    };
    let err = pods
        .logs("quiet", &wrong)
        .await
        .err()
        .expect("no such container");
    let api = err.api().expect("an API error");
    assert!(api.is_bad_request(), "{err}");
    assert!(
        api.status.message.contains("container nope is not valid"),
        "{err}"
    );
    let err = pods
        .logs("missing", &params)
        .await
        .err()
        .expect("no such pod");
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn binding_ephemeral_containers_and_eviction() {
    let ns = namespace().await;
    let pods = clientset().core_v1().pods(ns.name());
    pod(&pods, "bound").await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"},
                         "target": {"kind": "Node", "name": "node-a"}});
    let _: Value = pods
        .create_subresource("bound", "binding", &binding, &CreateOptions::default())
        .await
        .expect("bind");
    let got = pods.get("bound", &Default::default()).await.expect("get");
    assert_eq!(
        got.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        Some("node-a")
    );

    let mut with_debug = got.clone();
    let spec = with_debug.spec.get_or_insert_with(Default::default);
    spec.ephemeral_containers = Some(vec![from_json(
        json!({"name": "debug", "image": "registry.k8s.io/pause:3.10"}),
    )]);
    let updated: Pod = pods
        .replace_subresource(
            "bound",
            "ephemeralcontainers",
            &with_debug,
            &UpdateOptions::default(),
        )
        .await
        .expect("ephemeral containers");
    let names: Vec<kubeclient::primitives::Str> = updated
        .spec
        .and_then(|s| s.ephemeral_containers)
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["debug"]);

    pod(&pods, "evicted").await;
    let eviction =
        json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "evicted"}});
    let _: Value = pods
        .create_subresource("evicted", "eviction", &eviction, &CreateOptions::default())
        .await
        .expect("evict");
    // Not on a node: deleted at once.
    assert!(
        pods.get("evicted", &Default::default())
            .await
            .expect_err("evicted")
            .is_not_found()
    );
}

#[tokio::test]
async fn pod_resize_subresource() {
    let ns = namespace().await;
    let pods = clientset().core_v1().pods(ns.name());
    pod(&pods, "resizable").await;
    let patch = json!({"spec": {"containers": [{"name": "main",
        "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "200m"}}}]}});
    let resized: Pod = pods
        .patch_subresource(
            "resizable",
            "resize",
            &Patch::Strategic(patch),
            &PatchOptions::default(),
        )
        .await
        .expect("resize");
    let cpu = resized
        .spec
        .as_ref()
        .and_then(|s| s.containers[0].resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("cpu"))
        .map(|q| q.0.clone());
    assert_eq!(cpu.as_deref(), Some("200m"));
}

#[tokio::test]
async fn service_account_token_request() {
    let ns = namespace().await;
    let accounts = clientset().core_v1().service_accounts(ns.name());
    let account: ServiceAccount = from_json(json!({"metadata": {"name": "builder"}}));
    accounts
        .create(&account, &CreateOptions::default())
        .await
        .expect("create service account");
    let request: TokenRequest =
        from_json(json!({"spec": {"audiences": ["kubeclient-test"], "expirationSeconds": 600}}));
    let issued: TokenRequest = accounts
        .create_subresource("builder", "token", &request, &CreateOptions::default())
        .await
        .expect("token");
    let token = issued.status.and_then(|s| s.token).unwrap_or_default();
    let claims = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("base64url"),
    )
    .expect("claims");
    assert_eq!(claims["aud"], json!(["kubeclient-test"]));
    assert_eq!(
        claims["sub"],
        format!("system:serviceaccount:{}:builder", ns.name())
    );
}

#[tokio::test]
async fn certificate_signing_request_approval() {
    let csrs = clientset().certificates_v1().certificate_signing_requests();
    let name = format!("kubeclient-test-{}", std::process::id());
    let pem = include_bytes!("../data/pki/csr-user.pem");
    let csr: CertificateSigningRequest = from_json(json!({
        "metadata": {"name": name},
        "spec": {"request": base64::engine::general_purpose::STANDARD.encode(pem),
                 "signerName": "kubernetes.io/kube-apiserver-client",
                 "usages": ["client auth"]},
    }));
    let mut created = csrs
        .create(&csr, &CreateOptions::default())
        .await
        .expect("create CSR");
    created
        .status
        .get_or_insert_with(Default::default)
        .conditions = Some(vec![from_json(json!({
        "type": "Approved", "status": "True", "reason": "KubeclientTest", "message": "approved by a test"}))]);
    let approved: CertificateSigningRequest = csrs
        .replace_subresource(&name, "approval", &created, &UpdateOptions::default())
        .await
        .expect("approve");
    let conditions = approved
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Approved" && c.status == "True"),
        "{conditions:?}"
    );
    csrs.delete(&name, &Default::default())
        .await
        .expect("delete CSR");
}

#[tokio::test]
async fn exec_attach_and_portforward_without_a_running_pod_are_decoded_errors() {
    let ns = namespace().await;
    let cs = clientset();
    pod(&cs.core_v1().pods(ns.name()), "idle").await;
    for (sub, params) in [
        ("exec", vec![("command", "ls"), ("stdout", "true")]),
        ("attach", vec![("stdout", "true")]),
        ("portforward", vec![("ports", "80")]),
    ] {
        let mut request = cs
            .rest()
            .post()
            .group_version("v1")
            .namespace(ns.name())
            .resource("pods")
            .name("idle")
            .subresource(sub);
        for (k, v) in params {
            request = request.param(k, v);
        }
        // Without a connection upgrade (WebSocket/SPDY) and without a node, the API server
        // refuses; the refusal must come back as a decoded Status.
        let err = request.raw().await.expect_err(sub);
        let api = err
            .api()
            .unwrap_or_else(|| panic!("{sub}: not an API error: {err}"));
        assert!(
            api.status.code >= 400 && api.status.code < 500,
            "{sub}: {err}"
        );
        assert!(!api.status.message.is_empty(), "{sub}: {err}");
    }
}
