//! The `oidc` auth provider, as client-go's `plugin/pkg/client/auth/oidc`:
//!
//! - the `id-token` is sent as the bearer token while it is valid: its `exp` claim is more
//!   than ten seconds away (the token's signature is the server's business, not the client's);
//! - otherwise, with a `refresh-token`, the issuer's token endpoint (found through
//!   `{idp-issuer-url}/.well-known/openid-configuration`, trusted through
//!   `idp-certificate-authority(-data)` or the platform's roots) is asked for fresh tokens
//!   with the refresh-token grant, authenticating as `client-id`/`client-secret`;
//! - the answer must carry an `id_token`; a new `refresh_token` replaces the old one;
//! - the new tokens are written back into the kubeconfig file the user came from,
//!   atomically, changing nothing else in it, under kubectl's lock (`<file>.lock`, see
//!   [`Kubeconfig::update_file`]; a lock held by another process fails the refresh, as
//!   client-go's persister does).
//!
//! Files (the kubeconfig written back, an `idp-certificate-authority` file) are read and
//! written on tokio's blocking threads, never on the async caller's.
//!
//! Two deliberate differences from client-go, which sends the refresh-token and client
//! secret wherever the issuer points:
//! - a refresh needs an `https` issuer and an `https` token endpoint; anything else is
//!   refused before a connection is made (an id-token that is still valid is used whatever
//!   the issuer, since using it sends nothing to the issuer);
//! - a failed discovery or refresh is described by its HTTP status and, for a token
//!   endpoint's OAuth error answer, its `error` code when that is one of OAuth's registered
//!   codes (`invalid_grant`, `invalid_client`, ...); the answer's text (`error_description`,
//!   an HTML page) is never quoted, since it may echo what was sent. client-go quotes the
//!   first 80 bytes of a failed discovery answer and, through `golang.org/x/oauth2`, the token
//!   endpoint's error answer.

use std::path::PathBuf;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::auth::AuthError;
use super::model::AuthProviderConfig;
use super::secret::Secret;
use super::{Kubeconfig, KubeconfigError};
use crate::redact::{redact_url, redact_url_str};
use crate::rest::transport::send_without_credentials;
use crate::rest::{self, Pem};

/// How long before its expiry an id-token is treated as expired (client-go's `expiryDelta`).
const EXPIRY_MARGIN_SECONDS: i64 = 10;
/// The largest token endpoint answer read.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The OAuth `error` codes a failed refresh may name: RFC 6749 section 5.2's token endpoint
/// codes, its `server_error`, `temporarily_unavailable` and `access_denied`, and the codes
/// later RFCs registered for the token endpoint (8628, 8707, 7009, 9449). Any other value is
/// free text from the server and is not shown.
const OAUTH_ERROR_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "access_denied",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "invalid_target",
    "unsupported_token_type",
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

/// Supplies OIDC id-tokens, refreshing and persisting them as needed.
pub struct OidcAuthenticator {
    client_id: String,
    client_secret: Option<SecretString>,
    issuer: url::Url,
    issuer_ca: Option<Pem>,
    tokens: tokio::sync::Mutex<Tokens>,
    /// Where refreshed tokens are written back: the file and the user's name in it.
    persist_to: Option<(PathBuf, String)>,
}

struct Tokens {
    id_token: Option<SecretString>,
    refresh_token: Option<SecretString>,
}

impl std::fmt::Debug for OidcAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcAuthenticator")
            .field("client_id", &self.client_id)
            .field("issuer", &redact_url(&self.issuer))
            .field("persist_to", &self.persist_to)
            .finish_non_exhaustive()
    }
}

fn oidc_error(reason: impl Into<String>) -> AuthError {
    AuthError::Oidc {
        reason: reason.into(),
    }
}

fn non_empty(config: &AuthProviderConfig, key: &str) -> Option<String> {
    config
        .config
        .get(key)
        .map(|v| v.expose_secret().clone())
        .filter(|v| !v.is_empty())
}

/// The `exp` claim of a JWT, without verifying it.
fn jwt_expiry(token: &str) -> Result<i64, AuthError> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| oidc_error("the id-token is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| oidc_error("the id-token's payload is not base64url"))?;
    #[derive(Deserialize)]
    struct Claims {
        exp: Option<f64>,
    }
    let claims: Claims = serde_json::from_slice(&bytes)
        .map_err(|_| oidc_error("the id-token's payload is not JSON"))?;
    claims
        .exp
        .map(|e| e as i64)
        .ok_or_else(|| oidc_error("the id-token has no exp claim"))
}

fn still_valid(token: &str, now: i64) -> bool {
    jwt_expiry(token).is_ok_and(|exp| now + EXPIRY_MARGIN_SECONDS < exp)
}

/// Refuses `url` unless it is `https`: a refresh sends the refresh-token and client secret.
fn require_https(url: &url::Url, what: &str) -> Result<(), AuthError> {
    if url.scheme() == "https" {
        return Ok(());
    }
    Err(oidc_error(format!(
        "{what} {:?} is not https; refusing to send the refresh-token and client secret \
         over it",
        redact_url(url)
    )))
}

/// A failed answer in words: its status and, when the body is an OAuth error answer with one
/// of `OAUTH_ERROR_CODES`, that code. Nothing else of the body: it may echo what was sent.
fn describe_failure(status: http::StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
    }
    let code = serde_json::from_slice::<OAuthError>(body)
        .ok()
        .and_then(|e| OAUTH_ERROR_CODES.iter().find(|c| **c == e.error));
    match code {
        Some(code) => format!("HTTP {status}, OAuth error {code}"),
        None => format!("HTTP {status}"),
    }
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    refresh_token: Option<String>,
}

impl OidcAuthenticator {
    /// Reads the provider's settings; `persist_to` names the kubeconfig file and user that
    /// refreshed tokens are written back to.
    pub fn new(
        config: &AuthProviderConfig,
        persist_to: Option<(PathBuf, String)>,
    ) -> Result<Self, AuthError> {
        let client_id =
            non_empty(config, "client-id").ok_or_else(|| oidc_error("client-id is not set"))?;
        let issuer = non_empty(config, "idp-issuer-url")
            .ok_or_else(|| oidc_error("idp-issuer-url is not set"))?;
        let issuer = url::Url::parse(&issuer).map_err(|e| {
            oidc_error(format!("idp-issuer-url {:?}: {e}", redact_url_str(&issuer)))
        })?;
        let issuer_ca = match (
            non_empty(config, "idp-certificate-authority-data"),
            non_empty(config, "idp-certificate-authority"),
        ) {
            (Some(data), _) => Some(Pem::Data(
                base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .map_err(|_| oidc_error("idp-certificate-authority-data is not base64"))?,
            )),
            (None, Some(file)) => Some(Pem::File(file.into())),
            (None, None) => None,
        };
        Ok(OidcAuthenticator {
            client_id,
            client_secret: non_empty(config, "client-secret").map(SecretString::from),
            issuer,
            issuer_ca,
            tokens: tokio::sync::Mutex::new(Tokens {
                id_token: non_empty(config, "id-token").map(SecretString::from),
                refresh_token: non_empty(config, "refresh-token").map(SecretString::from),
            }),
            persist_to,
        })
    }

    /// A valid id-token, refreshed (and persisted) first if the current one has expired.
    pub async fn id_token(&self) -> Result<SecretString, AuthError> {
        let mut tokens = self.tokens.lock().await;
        let now = jiff::Timestamp::now().as_second();
        if let Some(id) = &tokens.id_token
            && still_valid(id.expose_secret(), now)
        {
            return Ok(id.clone());
        }
        let refresh = tokens.refresh_token.clone().ok_or_else(|| {
            oidc_error("the id-token has expired and there is no refresh-token to renew it")
        })?;
        let fresh = self.refresh(&refresh).await?;
        let id_token = fresh
            .id_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| oidc_error("the token endpoint's answer has no id_token"))?;
        tokens.id_token = Some(SecretString::from(id_token));
        if let Some(r) = fresh.refresh_token.filter(|t| !t.is_empty()) {
            tokens.refresh_token = Some(SecretString::from(r));
        }
        self.persist(&tokens).await?;
        tokens
            .id_token
            .clone()
            .ok_or_else(|| oidc_error("no id-token after refresh"))
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        config: &rest::Config,
        request: http::Request<Full<Bytes>>,
        what: &str,
    ) -> Result<T, AuthError> {
        let url = redact_url_str(&request.uri().to_string());
        let response = send_without_credentials(config, request)
            .await
            .map_err(|e| oidc_error(format!("{what} ({url}): {e}")))?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| oidc_error(format!("{what} ({url}): reading the answer: {e}")))?
            .to_bytes();
        if !status.is_success() {
            return Err(oidc_error(format!(
                "{what} ({url}): {}",
                describe_failure(status, &body)
            )));
        }
        serde_json::from_slice(&body).map_err(|e| {
            oidc_error(format!(
                "{what} ({url}): the answer is not the expected JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenResponse, AuthError> {
        require_https(&self.issuer, "idp-issuer-url")?;
        let mut config = rest::Config::new(self.issuer.clone());
        config.tls.ca = match &self.issuer_ca {
            // Read here, off the async threads, rather than while the transport is built.
            Some(Pem::File(path)) => {
                let path = path.clone();
                let read = tokio::task::spawn_blocking({
                    let path = path.clone();
                    move || std::fs::read(path)
                })
                .await
                .map_err(|e| oidc_error(format!("reading idp-certificate-authority: {e}")))?;
                Some(Pem::Data(read.map_err(|e| {
                    oidc_error(format!(
                        "reading idp-certificate-authority {}: {e}",
                        path.display()
                    ))
                })?))
            }
            other => other.clone(),
        };

        let mut discovery_url = self.issuer.clone();
        let path = format!(
            "{}/.well-known/openid-configuration",
            discovery_url.path().trim_end_matches('/')
        );
        discovery_url.set_path(&path);
        let request = http::Request::get(discovery_url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| oidc_error(e.to_string()))?;
        let discovery: Discovery = self.get_json(&config, request, "OIDC discovery").await?;
        let token_endpoint = url::Url::parse(&discovery.token_endpoint).map_err(|e| {
            oidc_error(format!(
                "the issuer's discovery document has an invalid token_endpoint: {e}"
            ))
        })?;
        require_https(&token_endpoint, "the token endpoint the issuer names")?;

        let mut fields = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let mut request = http::Request::post(token_endpoint.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json");
        match &self.client_secret {
            Some(secret) => {
                // OAuth 2 client authentication in the header; both parts form-encoded first.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(&self.client_id), enc(secret.expose_secret()));
                let mut value = http::HeaderValue::from_str(&format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
                .map_err(|_| oidc_error("client credentials are not a valid header"))?;
                value.set_sensitive(true);
                request = request.header(http::header::AUTHORIZATION, value);
            }
            None => fields.push(("client_id", &self.client_id)),
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| oidc_error(e.to_string()))?;
        self.get_json(&config, request, "OIDC token refresh").await
    }

    /// Writes the current tokens into the user's auth-provider config in its own file, under
    /// kubectl's lock, on a blocking thread.
    async fn persist(&self, tokens: &Tokens) -> Result<(), AuthError> {
        let Some((path, user)) = self.persist_to.clone() else {
            return Ok(());
        };
        let shown = path.display().to_string();
        let (id_token, refresh_token) = (tokens.id_token.clone(), tokens.refresh_token.clone());
        tokio::task::spawn_blocking(move || {
            persist_tokens(&path, &user, id_token.as_ref(), refresh_token.as_ref())
        })
        .await
        .map_err(|e| oidc_error(format!("saving refreshed tokens to {shown}: {e}")))?
    }
}

/// Sets `id-token` and `refresh-token` (those given) in the auth-provider config of `user`
/// in the kubeconfig file `path`, changing nothing else, under kubectl's lock.
fn persist_tokens(
    path: &std::path::Path,
    user: &str,
    id_token: Option<&SecretString>,
    refresh_token: Option<&SecretString>,
) -> Result<(), AuthError> {
    let fail = |e: String| {
        oidc_error(format!(
            "saving refreshed tokens to {}: {e}",
            path.display()
        ))
    };
    Kubeconfig::update_file(path, |file| {
        let entry = file
            .users
            .iter_mut()
            .find(|u| u.name == user)
            .ok_or_else(|| PersistError::Gone(format!("user {user:?} is no longer in the file")))?;
        let provider = entry.auth_info.auth_provider.as_mut().ok_or_else(|| {
            PersistError::Gone(format!("user {user:?} no longer has an auth-provider"))
        })?;
        for (key, value) in [("id-token", id_token), ("refresh-token", refresh_token)] {
            if let Some(v) = value {
                provider
                    .config
                    .insert(key.to_string(), Secret::new(v.expose_secret().to_string()));
            }
        }
        Ok(())
    })
    .map_err(|e| match e {
        PersistError::Gone(reason) => fail(reason),
        PersistError::File(e) => fail(e.to_string()),
    })
}

/// Why tokens could not be written back: the file (read, lock, write) or its content.
enum PersistError {
    File(KubeconfigError),
    Gone(String),
}

impl From<KubeconfigError> for PersistError {
    fn from(e: KubeconfigError) -> Self {
        PersistError::File(e)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn jwt(exp: i64) -> String {
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(serde_json::json!({"alg": "none"})),
            enc(serde_json::json!({"exp": exp}))
        )
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    fn provider(issuer: &str, id_token: &str, refresh: &str) -> AuthProviderConfig {
        let mut config = BTreeMap::new();
        for (k, v) in [
            ("client-id", "kubectl"),
            ("client-secret", "shh"),
            ("idp-issuer-url", issuer),
            ("id-token", id_token),
            ("refresh-token", refresh),
        ] {
            config.insert(k.to_string(), Secret::new(v.to_string()));
        }
        AuthProviderConfig {
            name: "oidc".into(),
            config,
            ..AuthProviderConfig::default()
        }
    }

    #[tokio::test]
    async fn a_valid_id_token_is_used_as_it_is() {
        let token = jwt(now() + 3600);
        let auth = OidcAuthenticator::new(&provider("http://127.0.0.1:9", &token, ""), None)
            .expect("valid");
        assert_eq!(auth.id_token().await.expect("token").expose_secret(), token);
    }

    #[tokio::test]
    async fn without_a_refresh_token_an_expired_id_token_is_a_clear_error() {
        let auth =
            OidcAuthenticator::new(&provider("https://127.0.0.1:9", &jwt(now() - 1), ""), None)
                .expect("valid");
        let err = auth
            .id_token()
            .await
            .expect_err("no refresh token")
            .to_string();
        assert!(err.contains("no refresh-token"), "{err}");
    }

    const OIDC_KUBECONFIG: &str = "contexts:\n- name: x\n  context: {cluster: c, user: me}\n\
        - name: y\n  context: {cluster: c, user: me}\n\
        users:\n- name: me\n  user:\n    auth-provider:\n      name: oidc\n      config:\n\
        \x20       client-id: kubectl\n        id-token: old\n        refresh-token: r0\n";

    fn saved_tokens(file: &std::path::Path) -> (String, String, String) {
        let saved = Kubeconfig::read_file(file).expect("reread");
        let config = saved.users[0]
            .auth_info
            .auth_provider
            .as_ref()
            .map(|p| p.config.clone())
            .unwrap_or_default();
        let get = |k: &str| {
            config
                .get(k)
                .map(|v| v.expose_secret().to_string())
                .unwrap_or_default()
        };
        (saved.current_context, get("id-token"), get("refresh-token"))
    }

    #[test]
    fn write_back_and_use_context_at_once_both_land() {
        let dir = std::env::temp_dir().join(format!("kubeclient-oidc-race-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("config");
        std::fs::write(&file, OIDC_KUBECONFIG).expect("write kubeconfig");
        let rules = crate::config::LoadingRules::default().with_explicit_path(&file);
        for round in 0..20 {
            let context = if round % 2 == 0 { "x" } else { "y" };
            let (id, refresh) = (
                SecretString::from(format!("id-{round}")),
                SecretString::from(format!("r-{round}")),
            );
            let start = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                let switch = s.spawn(|| {
                    start.wait();
                    crate::config::write_current_context(&rules, context).map(|_| ())
                });
                let persist = s.spawn(|| {
                    start.wait();
                    persist_tokens(&file, "me", Some(&id), Some(&refresh))
                });
                switch.join().expect("switch").expect("use-context");
                persist.join().expect("persist").expect("write-back");
            });
            assert_eq!(
                saved_tokens(&file),
                (context.into(), format!("id-{round}"), format!("r-{round}")),
                "round {round}: a write was lost"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_back_under_a_held_lock_fails_naming_it() {
        let dir = std::env::temp_dir().join(format!("kubeclient-oidc-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("config");
        std::fs::write(&file, OIDC_KUBECONFIG).expect("write kubeconfig");
        let lock = dir.join("config.lock");
        std::fs::write(&lock, "").expect("foreign lock");
        let err = persist_tokens(&file, "me", Some(&SecretString::from("new-SECRET")), None)
            .expect_err("locked")
            .to_string();
        assert!(err.contains(&*lock.to_string_lossy()), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            OIDC_KUBECONFIG
        );
        assert!(lock.exists(), "someone else's lock was removed");
        std::fs::remove_file(&lock).expect("unlock");
        persist_tokens(&file, "me", Some(&SecretString::from("new")), None).expect("saved");
        assert_eq!(
            saved_tokens(&file),
            (String::new(), "new".into(), "r0".into())
        );
        let err = persist_tokens(&file, "someone-else", None, None)
            .expect_err("no such user")
            .to_string();
        assert!(
            err.contains("\"someone-else\" is no longer in the file"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_https_is_trusted_with_the_refresh_token() {
        let url = |s: &str| url::Url::parse(s).expect("url");
        assert!(require_https(&url("https://issuer.test/token"), "t").is_ok());
        for bad in [
            "http://issuer.test/token",
            "HTTP://u:pw-SECRET@issuer.test/token",
            "ftp://issuer.test/token",
        ] {
            let err = require_https(&url(bad), "the token endpoint")
                .expect_err(bad)
                .to_string();
            assert!(
                err.contains("not https") && err.contains("issuer.test"),
                "{err}"
            );
            assert!(!err.contains("SECRET"), "{err}");
        }
    }

    #[test]
    fn failures_say_the_status_and_a_registered_oauth_code_only() {
        let bad = http::StatusCode::BAD_REQUEST;
        assert_eq!(
            describe_failure(
                bad,
                br#"{"error":"invalid_grant","error_description":"token refresh-SECRET revoked"}"#
            ),
            "HTTP 400 Bad Request, OAuth error invalid_grant"
        );
        for body in [
            &br#"{"error":"refresh-SECRET"}"#[..],
            br#"{"error":"invalid_grant refresh-SECRET"}"#,
            br#"{"error_description":"refresh-SECRET"}"#,
            b"<html>refresh-SECRET</html>",
            b"",
        ] {
            assert_eq!(describe_failure(bad, body), "HTTP 400 Bad Request");
        }
    }

    #[test]
    fn the_issuer_url_is_shown_without_credentials() {
        let auth = OidcAuthenticator::new(
            &provider("https://u:iss-SECRET@issuer.test/", "id-SECRET", "r-SECRET"),
            None,
        )
        .expect("valid");
        let shown = format!("{auth:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("issuer.test"),
            "{shown}"
        );
        let err = OidcAuthenticator::new(&provider("https://u:iss-SECRET@[bad/", "", ""), None)
            .expect_err("bad issuer")
            .to_string();
        assert!(
            !err.contains("SECRET") && err.contains("idp-issuer-url"),
            "{err}"
        );
    }

    #[test]
    fn expiry_has_a_ten_second_margin_and_bad_tokens_are_expired() {
        let t = now();
        assert!(still_valid(&jwt(t + 60), t));
        assert!(!still_valid(&jwt(t + 5), t));
        assert!(!still_valid("not-a-jwt", t));
        assert!(!still_valid("a.!!!.c", t));
    }
}
