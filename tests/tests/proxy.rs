//! kubeclient reaches the API server through a cluster's `proxy-url`: an HTTP proxy (CONNECT)
//! and a SOCKS5 proxy that resolves names itself, with credentials. The server is addressed as
//! `kubernetes.default.svc`, a name this machine cannot resolve and one of the serving
//! certificate's names, so only a proxied connection can succeed, and TLS is still verified
//! end to end.

use serde_json::json;
use test_support::api::{admin_cluster, scratch_dir, user_token, whoami, write_kubeconfig};
use test_support::proxy::TestProxy;
use test_support::rest_config_from;

/// `https://kubernetes.default.svc:<port of the test API server>`.
fn unresolvable_server() -> (String, String) {
    let server = url::Url::parse(&admin_cluster().server).expect("server url");
    let port = server.port().expect("port");
    (
        format!("https://kubernetes.default.svc:{port}"),
        format!("kubernetes.default.svc:{port}"),
    )
}

#[tokio::test]
async fn http_connect_proxy_with_credentials() {
    let proxy = TestProxy::http_connect().await;
    let (server, target) = unresolvable_server();
    let dir = scratch_dir("proxy-http");
    let proxy_url = format!("http://proxy%20user:s3cret@127.0.0.1:{}", proxy.port());
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"server": server, "proxy-url": proxy_url}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    // "proxy user:s3cret", base64.
    let expected = format!("{target} auth=Basic cHJveHkgdXNlcjpzM2NyZXQ=");
    assert_eq!(
        proxy.requests().first(),
        Some(&expected),
        "{:?}",
        proxy.requests()
    );

    // The password is used, and shown nowhere: not by the configuration, what
    // `config::infer` returns, the client, or the kubeconfig as loaded.
    let inferred = kubeclient::config::infer(Some(&kubeconfig)).expect("infer");
    let client = kubeclient::rest::RestClient::new(&config).expect("client");
    let loaded = kubeclient::config::Kubeconfig::read_file(&kubeconfig).expect("kubeconfig");
    let shown = format!("{config:?} {inferred:?} {client:?} {loaded:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(
        shown.contains(&format!("127.0.0.1:{}", proxy.port())),
        "{shown}"
    );
}

#[tokio::test]
async fn socks5h_proxy_resolves_the_name_itself() {
    let proxy = TestProxy::socks5().await;
    let (server, target) = unresolvable_server();
    let dir = scratch_dir("proxy-socks");
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"server": server, "proxy-url": format!("socks5h://me:pw@127.0.0.1:{}", proxy.port())}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    assert_eq!(
        proxy.requests().first(),
        Some(&format!("{target} auth=me:pw"))
    );
}

#[tokio::test]
async fn without_the_proxy_the_name_does_not_resolve() {
    // The control experiment: the same kubeconfig minus proxy-url cannot connect, so the
    // successes above went through the proxies.
    let (server, _) = unresolvable_server();
    let dir = scratch_dir("proxy-none");
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"server": server}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    let transport = kubeclient::rest::Transport::new(&config).expect("transport");
    let request = http::Request::get(config.host.join("/version").expect("url").as_str())
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("request");
    let err = transport
        .send(request)
        .await
        .expect_err("no route without the proxy");
    assert!(err.to_string().contains("kubernetes.default.svc"), "{err}");
}

#[tokio::test]
async fn https_proxy_is_verified_with_the_cluster_ca() {
    let proxy = TestProxy::https_connect().await;
    let (server, target) = unresolvable_server();
    let dir = scratch_dir("proxy-https");
    let kubeconfig = write_kubeconfig(
        &dir,
        json!({"server": server, "proxy-url": format!("https://u:p@127.0.0.1:{}", proxy.port())}),
        json!({"token": user_token()}),
    );
    let config = rest_config_from(&kubeconfig);
    assert_eq!(whoami(&config).await, Ok("kubeclient-user".to_string()));
    // "u:p", base64.
    assert_eq!(
        proxy.requests().first(),
        Some(&format!("{target} auth=Basic dTpw"))
    );
}
