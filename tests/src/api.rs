//! Calls through kubeclient's own transport, and kubeconfigs for the test cluster with the
//! cluster or user entry changed: what the auth and proxy tests share.

use std::path::{Path, PathBuf};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kubeclient::config::Kubeconfig;
use kubeclient::rest::{self, Transport};
use serde_json::{Value, json};

use crate::cluster;

/// Sends `method path` (with an optional JSON body) through kubeclient's transport and
/// returns the status and the JSON answer (`Null` when the answer is not JSON).
///
/// # Panics
/// When the request cannot be sent: tests that expect that use [`Transport`] directly.
pub async fn call(
    config: &rest::Config,
    method: http::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, bytes) = call_bytes(
        config,
        method,
        path,
        "application/json",
        "application/json",
        body.into_bytes(),
    )
    .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends `method path` with `body` of `content_type`, asking for `accept`; the status and the
/// answer's bytes.
///
/// # Panics
/// When the request cannot be sent.
pub async fn call_bytes(
    config: &rest::Config,
    method: http::Method,
    path: &str,
    content_type: &str,
    accept: &str,
    body: Vec<u8>,
) -> (u16, Bytes) {
    let transport = Transport::new(config).expect("transport");
    let url = config.host.join(path).expect("url");
    let request = http::Request::builder()
        .method(method)
        .uri(url.as_str())
        .header("content-type", content_type)
        .header("accept", accept)
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = transport
        .send(request)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes)
}

/// The user name the server authenticated `config` as (a SelfSubjectReview), or the HTTP
/// status when it refused.
pub async fn whoami(config: &rest::Config) -> Result<String, u16> {
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    match call(config, http::Method::POST, path, Some(review)).await {
        (201, body) => Ok(body["status"]["userInfo"]["username"]
            .as_str()
            .unwrap_or_default()
            .to_string()),
        (status, _) => Err(status),
    }
}

/// A fresh scratch directory for one test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubeclient-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The admin kubeconfig's cluster entry: server and CA.
pub fn admin_cluster() -> kubeclient::config::Cluster {
    let admin = Kubeconfig::read_file(cluster().kubeconfig()).expect("admin kubeconfig");
    admin.clusters[0].cluster.clone()
}

/// The token user's bearer token, from the cluster's user kubeconfig.
pub fn user_token() -> String {
    let config = Kubeconfig::read_file(cluster().user_kubeconfig()).expect("user kubeconfig");
    config.users[0].auth_info.token.expose_secret().clone()
}

/// Writes `dir/kubeconfig` for the test cluster: its server and CA, with the fields of
/// `cluster_fields` set on top, and `user` as the user entry. Returns the path.
pub fn write_kubeconfig(dir: &Path, cluster_fields: Value, user: Value) -> PathBuf {
    let base = admin_cluster();
    let mut cluster_entry = json!({
        "server": base.server,
        "certificate-authority-data":
            base64::engine::general_purpose::STANDARD.encode(&base.certificate_authority_data),
    });
    if let (Some(entry), Some(extra)) = (cluster_entry.as_object_mut(), cluster_fields.as_object())
    {
        entry.extend(extra.clone());
    }
    let config = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster_entry}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "test", "user": "u"}}],
        "current-context": "c",
    });
    let path = dir.join("kubeconfig");
    std::fs::write(&path, config.to_string()).expect("write kubeconfig");
    path
}

/// Creates the CustomResourceDefinition `crd` (one of the same name already there is fine)
/// and waits until the API server reports it Established.
///
/// # Panics
/// If it cannot be created, or is not established within 30 seconds.
pub async fn create_crd(crd: &Value) {
    let rest = kubeclient::rest::RestClient::new(&cluster().rest_config()).expect("client");
    let name = crd["metadata"]["name"]
        .as_str()
        .expect("the CRD has a name")
        .to_string();
    let crds = || {
        rest.get()
            .group_version("apiextensions.k8s.io/v1")
            .resource("customresourcedefinitions")
    };
    match rest
        .post()
        .group_version("apiextensions.k8s.io/v1")
        .resource("customresourcedefinitions")
        .json(crd)
        .raw()
        .await
    {
        Ok(_) => {}
        Err(e) if e.is_already_exists() => {}
        Err(e) => panic!("creating CRD {name}: {e}"),
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let got: Value = crds().name(&name).into_json().await.expect("get CRD");
        let established = got["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Established" && c["status"] == "True");
        if established {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "CRD {name} never established: {got}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// An object's name and resourceVersion (empty when missing).
pub fn name_and_version<K: kubeclient::client::Resource>(object: &K) -> (String, String) {
    (
        object.name().unwrap_or_default().to_string(),
        object.resource_version().unwrap_or_default().to_string(),
    )
}

/// The namespace's ConfigMaps as name → resourceVersion, by a fresh LIST through the support
/// crate's own client (so a cache built by kubeclient is compared with an independent reading).
///
/// # Panics
/// If the list fails.
pub async fn config_map_versions(namespace: &str) -> std::collections::HashMap<String, String> {
    let access = cluster().admin();
    let list: Value = access
        .client()
        .get(access.url(&format!("/api/v1/namespaces/{namespace}/configmaps")))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("listing the ConfigMaps of {namespace}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("decoding the ConfigMaps of {namespace}: {e}"));
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|cm| {
            let meta = &cm["metadata"];
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (text(&meta["name"]), text(&meta["resourceVersion"]))
        })
        .collect()
}
