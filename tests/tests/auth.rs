//! kubeclient connects to the real API server the way users' kubeconfigs and pods ask it to:
//! client certificate, bearer token, token file rotated mid-test, exec credential plugins
//! (including one whose credential expires and one the server rejects), a token source of the
//! caller's own, and in-cluster configuration emulated with environment variables and files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use bytes::Bytes;
use http_body_util::Full;
use kubeclient::config::from_in_cluster;
use kubeclient::config::incluster::{InClusterConfig, ServiceAccountFiles};
use kubeclient::rest::auth::{AuthError, TokenFuture, TokenSource};
use kubeclient::rest::{Auth, Transport};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use test_support::api::{admin_cluster, call, scratch_dir, user_token, whoami, write_kubeconfig};
use test_support::{cluster, rest_config_from};

fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[tokio::test]
async fn client_certificate_from_the_admin_kubeconfig() {
    let config = cluster().rest_config();
    let (status, version) = call(&config, http::Method::GET, "/version", None).await;
    assert_eq!(status, 200);
    assert!(
        version["gitVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("v1.")),
        "{version}"
    );
    assert_eq!(whoami(&config).await, Ok("admin".to_string()));
    // HTTP/2 is negotiated through ALPN.
    let transport = Transport::new(&config).expect("transport");
    let request = http::Request::get(config.host.join("/version").expect("url").as_str())
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = transport.send(request).await.expect("send");
    assert_eq!(response.version(), http::Version::HTTP_2);
}

#[tokio::test]
async fn bearer_token_from_the_user_kubeconfig() {
    let config = rest_config_from(&cluster().user_kubeconfig());
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    let (status, body) = call(
        &config,
        http::Method::GET,
        "/api/v1/namespaces/kube-system/secrets",
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn token_file_rotated_mid_test_is_picked_up_after_a_401() {
    let dir = scratch_dir("tokenfile");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "not-a-valid-token\n").expect("write token");
    let kubeconfig = write_kubeconfig(&dir, json!({}), json!({"tokenFile": "token"}));
    // tokenFile is relative: it resolves against the kubeconfig's directory.
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Err(401));
    // Rotate the file: the 401 dropped the cached token, so the next request re-reads it.
    std::fs::write(&token_file, format!("{}\n", user_token())).expect("rotate token");
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
}

/// GET /version through the transport, which must fail (`why`): the error as text.
async fn version_error(config: &kubeclient::rest::Config, why: &str) -> String {
    let transport = Transport::new(config).expect("transport");
    let request = http::Request::get(config.host.join("/version").expect("url").as_str())
        .body(Full::new(Bytes::new()))
        .expect("request");
    transport.send(request).await.expect_err(why).to_string()
}

/// A token source of a user's own: hands out its tokens in turn, one more after each 401.
#[derive(Debug)]
struct Rotating {
    tokens: Vec<String>,
    at: std::sync::atomic::AtomicUsize,
    asked: std::sync::atomic::AtomicUsize,
}

impl TokenSource for Rotating {
    fn token(self: Arc<Self>) -> TokenFuture {
        Box::pin(async move {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let at = self.at.load(Ordering::SeqCst);
            self.tokens
                .get(at)
                .map(|t| SecretString::from(t.clone()))
                .ok_or_else(|| AuthError::Source {
                    reason: "no tokens left".into(),
                })
        })
    }

    fn unauthorized(&self) -> bool {
        self.at.fetch_add(1, Ordering::SeqCst);
        true
    }
}

#[tokio::test]
async fn a_token_source_of_ones_own_is_asked_per_request_and_told_of_a_401() {
    let source = Arc::new(Rotating {
        tokens: vec!["rejected-token".into(), user_token()],
        at: Default::default(),
        asked: Default::default(),
    });
    let mut config = cluster().rest_config();
    config.tls.client_cert = None;
    config.tls.client_key = None;
    config.auth = Auth::TokenSource(source.clone());
    // The first token is refused; the 401 moves the source on and the request is retried once.
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(source.asked.load(Ordering::SeqCst), 2);
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(
        source.asked.load(Ordering::SeqCst),
        3,
        "asked before every request"
    );
    // A source that fails fails the request with its reason.
    source.at.store(9, Ordering::SeqCst);
    let err = version_error(&config, "no token").await;
    assert!(err.contains("no tokens left"), "{err}");
}

#[tokio::test]
async fn exec_plugin_token_is_used_and_refreshed_on_expiry_and_on_401() {
    let dir = scratch_dir("exec");
    // Run 1 prints a token the server rejects; later runs print the real one, valid for 4 s (at least 3 s, the timestamp has whole seconds).
    script(
        &dir.join("plugin.sh"),
        &format!(
            r#"echo run >> "$(dirname "$0")/runs"
n=$(wc -l < "$(dirname "$0")/runs")
if [ "$n" -eq 1 ]; then token=rejected-token; else token={token}; fi
exp=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s","expirationTimestamp":"%s"}}}}' "$token" "$exp""#,
            token = user_token()
        ),
    );
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({}),
        json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "./plugin.sh",
            "interactiveMode": "Never",
        }}),
    );
    let config = rest_config_from(&kubeconfig);
    // The first credential is rejected: kubeclient runs the plugin again and retries once.
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(runs(&dir), 2);
    // Still valid: cached.
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(runs(&dir), 2);
    // Expired: fetched again.
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(runs(&dir), 3);
}

#[tokio::test]
async fn exec_plugin_failure_is_a_clear_error() {
    let dir = scratch_dir("exec-fail");
    script(&dir.join("plugin.sh"), "echo 'token=oops-SECRET' ; exit 2");
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({}),
        json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "./plugin.sh", "interactiveMode": "Never"}}),
    );
    let config = rest_config_from(&kubeconfig);
    let err = version_error(&config, "plugin fails").await;
    assert!(
        err.contains("plugin.sh") && err.contains("exit status: 2"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
}

#[tokio::test]
async fn in_cluster_config_from_env_and_service_account_files() {
    let dir = scratch_dir("incluster");
    let admin = admin_cluster();
    let server = url::Url::parse(&admin.server).expect("server url");
    std::fs::write(dir.join("token"), user_token()).expect("token");
    std::fs::write(dir.join("ca.crt"), &admin.certificate_authority_data).expect("ca");
    std::fs::write(dir.join("namespace"), "team-a\n").expect("namespace");
    let host = server.host_str().expect("host").to_string();
    let port = server.port().expect("port").to_string();
    let env = move |name: &str| match name {
        "KUBERNETES_SERVICE_HOST" => Some(host.clone()),
        "KUBERNETES_SERVICE_PORT" => Some(port.clone()),
        _ => None,
    };
    let in_cluster = InClusterConfig::load_from(env, &ServiceAccountFiles::in_dir(&dir))
        .expect("in-cluster config");
    assert_eq!(in_cluster.namespace, "team-a");
    let config = from_in_cluster(in_cluster).expect("rest config");
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
}

#[tokio::test]
async fn exec_plugin_client_certificate_is_presented() {
    let dir = scratch_dir("exec-cert");
    let admin = kubeclient::config::Kubeconfig::read_file(cluster().kubeconfig())
        .expect("admin kubeconfig");
    let user = &admin.users[0].auth_info;
    let credential = json!({
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {
            "clientCertificateData": String::from_utf8_lossy(&user.client_certificate_data),
            "clientKeyData": String::from_utf8_lossy(user.client_key_data.expose_secret()),
        },
    });
    std::fs::write(dir.join("credential.json"), credential.to_string()).expect("credential");
    script(
        &dir.join("plugin.sh"),
        r#"cat "$(dirname "$0")/credential.json""#,
    );
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({}),
        json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "./plugin.sh"}}),
    );
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Ok("admin".to_string()));
}

#[tokio::test]
async fn tls_server_name_overrides_the_name_verified() {
    // The server is reached by IP; its certificate also names kubernetes.default.svc.
    let dir = scratch_dir("tls-server-name");
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"tls-server-name": "kubernetes.default.svc"}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));

    // A name the certificate does not carry fails verification.
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"tls-server-name": "not-the-server.example"}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    let transport = Transport::new(&config).expect("transport");
    let request = http::Request::get(config.host.join("/version").expect("url").as_str())
        .body(Full::new(Bytes::new()))
        .expect("request");
    let err = transport.send(request).await.expect_err("wrong name");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("NotValidForName") || chain.contains("certificate"),
        "{chain}"
    );
}
