//! The `oidc` auth provider's refresh against a stand-in issuer on loopback, served over TLS
//! with a certificate the test cluster's CA signed: an expired id-token is refreshed and
//! written back; the refresh-token and client secret are never sent over plain HTTP (an
//! `http://` issuer or token endpoint is refused before any connection is made); and a failed
//! refresh says its status and OAuth error code but never quotes the answer.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use kubeclient::config::{AuthProviderConfig, Kubeconfig, KubeconfigPersister};
use kubeclient::rest::auth::OidcAuthenticator;
use secrecy::ExposeSecret;
use serde_json::json;
use test_support::api::{admin_cluster, scratch_dir};
use test_support::proxy::loopback_tls_acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

fn jwt(exp: i64) -> String {
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.sig",
        enc(json!({"alg": "none"})),
        enc(json!({"exp": exp}))
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Reads one HTTP/1.1 request: its head and, by `content-length`, its body.
async fn read_request<S: AsyncRead + Unpin>(conn: &mut S) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn reply<S: AsyncWrite + Unpin>(conn: &mut S, status: u16, body: &str) {
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(reply.as_bytes()).await;
    let _ = conn.shutdown().await;
}

/// What a stand-in issuer's discovery document says.
enum Discovery {
    /// Its own `/token`.
    OwnTokenEndpoint,
    /// This token endpoint.
    TokenEndpoint(String),
    /// Discovery fails with this status and body.
    Fails(u16, String),
}

/// A stand-in OIDC issuer over TLS: `/.well-known/openid-configuration` answers as
/// `discovery` says, and `/token` answers `token_answer`. Records each request.
struct Issuer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Issuer {
    async fn start(discovery: Discovery, token_answer: (u16, String)) -> Issuer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let discovery_answer = match discovery {
            Discovery::OwnTokenEndpoint => (
                200,
                json!({"token_endpoint": format!("{url}/token")}).to_string(),
            ),
            Discovery::TokenEndpoint(endpoint) => {
                (200, json!({"token_endpoint": endpoint}).to_string())
            }
            Discovery::Fails(status, body) => (status, body),
        };
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let acceptor = loopback_tls_acceptor();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut conn) = acceptor.accept(tcp).await else {
                    continue;
                };
                let request = read_request(&mut conn).await;
                let (status, body) = if request.starts_with("GET /.well-known/openid-configuration")
                {
                    discovery_answer.clone()
                } else {
                    token_answer.clone()
                };
                if let Ok(mut r) = seen.lock() {
                    r.push(request);
                }
                reply(&mut conn, status, &body).await;
            }
        });
        Issuer {
            url,
            requests,
            task,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A plain-HTTP listener that would answer like a willing token endpoint (and a discovery
/// document naming itself); counts the connections it accepts.
struct PlainEndpoint {
    url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PlainEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PlainEndpoint {
    async fn start() -> PlainEndpoint {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        let connections = Arc::new(AtomicUsize::new(0));
        let (count, base) = (connections.clone(), url.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let request = read_request(&mut conn).await;
                let body = if request.starts_with("GET /.well-known/openid-configuration") {
                    json!({"token_endpoint": format!("{base}/token")})
                } else {
                    json!({"id_token": jwt(now() + 3600)})
                };
                reply(&mut conn, 200, &body.to_string()).await;
            }
        });
        PlainEndpoint {
            url,
            connections,
            task,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The provider settings: client `kubectl` with secret `client-SECRET`, the cluster's CA
/// trusted for the issuer.
fn provider_config(issuer: &str, id_token: &str, refresh: &str) -> serde_json::Value {
    json!({
        "client-id": "kubectl",
        "client-secret": "client-SECRET",
        "idp-issuer-url": issuer,
        "idp-certificate-authority-data":
            base64::engine::general_purpose::STANDARD.encode(admin_cluster().certificate_authority_data),
        "id-token": id_token,
        "refresh-token": refresh,
        "extra-scopes": "groups",
    })
}

/// Writes a kubeconfig whose user `me` has the oidc provider; returns its path and the
/// provider as read back.
fn kubeconfig(name: &str, config: serde_json::Value) -> (PathBuf, AuthProviderConfig) {
    let file = scratch_dir(name).join("config");
    let kubeconfig = json!({
        "apiVersion": "v1", "kind": "Config", "custom-top-level": {"keep": true},
        "users": [{"name": "me", "user": {"auth-provider": {"name": "oidc", "config": config}}}],
    });
    std::fs::write(&file, kubeconfig.to_string()).expect("write kubeconfig");
    let loaded = Kubeconfig::read_file(&file).expect("read kubeconfig");
    let provider = loaded.users[0]
        .auth_info
        .auth_provider
        .clone()
        .expect("provider");
    (file, provider)
}

fn persister(file: PathBuf) -> Option<std::sync::Arc<dyn kubeclient::rest::auth::PersistTokens>> {
    Some(std::sync::Arc::new(KubeconfigPersister::new(file, "me")))
}

fn authenticator(name: &str, config: serde_json::Value) -> OidcAuthenticator {
    let (file, provider) = kubeconfig(name, config);
    OidcAuthenticator::new(&provider.config, persister(file)).expect("valid provider")
}

#[tokio::test]
async fn an_expired_id_token_is_refreshed_over_https_and_written_back() {
    let fresh = jwt(now() + 3600);
    let issuer = Issuer::start(
        Discovery::OwnTokenEndpoint,
        (
            200,
            json!({"id_token": fresh, "refresh_token": "refresh-2", "access_token": "x"})
                .to_string(),
        ),
    )
    .await;
    let (file, provider) = kubeconfig(
        "oidc-refresh",
        provider_config(&issuer.url, &jwt(now() - 60), "refresh-1"),
    );
    let auth =
        OidcAuthenticator::new(&provider.config, persister(file.clone())).expect("valid provider");
    assert_eq!(
        auth.id_token().await.expect("refreshed").expose_secret(),
        &fresh
    );

    let requests = issuer.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        requests[0].starts_with("GET /.well-known/openid-configuration"),
        "{}",
        requests[0]
    );
    let token_request = &requests[1];
    assert!(token_request.starts_with("POST /token"), "{token_request}");
    assert!(
        token_request.contains("grant_type=refresh_token&refresh_token=refresh-1"),
        "{token_request}"
    );
    // client-id:client-secret, "kubectl:client-SECRET", in the Authorization header.
    let basic = base64::engine::general_purpose::STANDARD.encode("kubectl:client-SECRET");
    assert!(
        token_request.contains(&format!("authorization: Basic {basic}")),
        "{token_request}"
    );

    let saved = Kubeconfig::read_file(&file).expect("reread");
    let saved_config = &saved.users[0]
        .auth_info
        .auth_provider
        .as_ref()
        .expect("provider")
        .config;
    assert_eq!(saved_config["id-token"].expose_secret(), &fresh);
    assert_eq!(saved_config["refresh-token"].expose_secret(), "refresh-2");
    assert_eq!(saved_config["extra-scopes"].expose_secret(), "groups");
    let raw: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(&file).expect("text")).expect("yaml");
    assert_eq!(
        raw["custom-top-level"]["keep"], true,
        "unknown fields survive"
    );

    // Now valid: no further requests.
    auth.id_token().await.expect("cached");
    assert_eq!(issuer.requests().len(), 2);
}

#[tokio::test]
async fn a_plain_http_token_endpoint_is_refused_before_anything_is_sent() {
    let plain = PlainEndpoint::start().await;
    let issuer = Issuer::start(
        Discovery::TokenEndpoint(format!("{}/token", plain.url)),
        (500, String::new()),
    )
    .await;
    let auth = authenticator(
        "oidc-http-token",
        provider_config(&issuer.url, &jwt(now() - 60), "refresh-SECRET"),
    );
    let err = auth
        .id_token()
        .await
        .expect_err("an http token endpoint is refused")
        .to_string();
    assert!(err.contains("https"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");
    assert_eq!(
        plain.connections(),
        0,
        "nothing reached the plain-HTTP token endpoint"
    );
    // Discovery was asked; the token endpoint it named was not used.
    assert_eq!(issuer.requests().len(), 1, "{:?}", issuer.requests());
}

#[tokio::test]
async fn a_plain_http_issuer_is_refused_before_anything_is_sent() {
    let plain = PlainEndpoint::start().await;
    let auth = authenticator(
        "oidc-http-issuer",
        provider_config(&plain.url, &jwt(now() - 60), "refresh-SECRET"),
    );
    let err = auth
        .id_token()
        .await
        .expect_err("an http issuer is refused")
        .to_string();
    assert!(err.contains("https"), "{err}");
    assert_eq!(
        plain.connections(),
        0,
        "nothing reached the plain-HTTP issuer"
    );

    // An id-token that is still valid needs no refresh, so it is used whatever the issuer.
    let valid = jwt(now() + 3600);
    let auth = authenticator(
        "oidc-http-issuer-valid",
        provider_config(&plain.url, &valid, "refresh-SECRET"),
    );
    assert_eq!(
        auth.id_token().await.expect("valid").expose_secret(),
        &valid
    );
    assert_eq!(plain.connections(), 0);
}

#[tokio::test]
async fn a_failed_refresh_says_status_and_oauth_code_but_quotes_nothing_else() {
    let cases = [
        (
            400,
            json!({"error": "invalid_grant", "error_description": "refresh token refresh-SECRET was revoked"}),
            Some("invalid_grant"),
        ),
        (
            401,
            json!({"error": "invalid_client", "error_description": "bad secret client-SECRET"}),
            Some("invalid_client"),
        ),
        // An `error` outside OAuth's vocabulary may be anything: it is not shown.
        (400, json!({"error": "token-SECRET"}), None),
        (
            502,
            json!("<html>upstream says refresh-SECRET</html>"),
            None,
        ),
    ];
    for (status, body, code) in cases {
        let body = match body {
            serde_json::Value::String(text) => text,
            other => other.to_string(),
        };
        let issuer = Issuer::start(Discovery::OwnTokenEndpoint, (status, body)).await;
        let auth = authenticator(
            "oidc-failed",
            provider_config(&issuer.url, &jwt(now() - 60), "refresh-SECRET"),
        );
        let err = auth.id_token().await.expect_err("refused").to_string();
        assert!(err.contains(&status.to_string()), "{err}");
        if let Some(code) = code {
            assert!(err.contains(code), "{err}");
        }
        for leak in ["SECRET", "revoked", "bad secret", "html"] {
            assert!(!err.contains(leak), "{leak} in {err}");
        }
    }

    // A failed discovery is described by its status alone.
    let issuer = Issuer::start(
        Discovery::Fails(500, "<html>issuer says refresh-SECRET</html>".into()),
        (200, String::new()),
    )
    .await;
    let auth = authenticator(
        "oidc-failed-discovery",
        provider_config(&issuer.url, &jwt(now() - 60), "refresh-SECRET"),
    );
    let err = auth.id_token().await.expect_err("no discovery").to_string();
    assert!(err.contains("500") && err.contains("discovery"), "{err}");
    assert!(!err.contains("SECRET") && !err.contains("html"), "{err}");

    // An answer without an id_token.
    let issuer = Issuer::start(
        Discovery::OwnTokenEndpoint,
        (200, json!({"access_token": "a"}).to_string()),
    )
    .await;
    let auth = authenticator(
        "oidc-no-id-token",
        provider_config(&issuer.url, "", "refresh-SECRET"),
    );
    let err = auth.id_token().await.expect_err("no id_token").to_string();
    assert!(err.contains("no id_token"), "{err}");
}
