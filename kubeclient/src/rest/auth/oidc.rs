//! The `oidc` auth provider, as client-go's `plugin/pkg/client/auth/oidc`:
//!
//! - the `id-token` is sent as the bearer token while it is valid: its `exp` claim is more
//!   than ten seconds away (the token's signature is the server's business, not the client's);
//! - otherwise, with a `refresh-token`, the issuer's token endpoint (found through
//!   `{idp-issuer-url}/.well-known/openid-configuration`, trusted through
//!   `idp-certificate-authority(-data)` or the platform's roots) is asked for fresh tokens
//!   with the refresh-token grant, authenticating as `client-id`/`client-secret`;
//! - the answer must carry an `id_token`; a new `refresh_token` replaces the old one;
//! - the new tokens are handed to a [`PersistTokens`] (client-go's persister), which for a
//!   user from a kubeconfig writes them back into the file it came from: see
//!   [`config`](crate::config); a persister that fails fails the refresh, as in client-go.
//!
//! Files (an `idp-certificate-authority` file, and whatever the persister writes) are read and
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

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{AuthError, TokenFuture, TokenSource};
use crate::redact::{redact_url, redact_url_str};
use crate::rest::transport::send_without_credentials;
use crate::rest::{self, Pem};
use crate::secret::Secret;

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

/// Keeps the tokens of a refresh (client-go's `AuthProviderConfigPersister`). Called on one of
/// tokio's blocking threads, so it may do file I/O.
pub trait PersistTokens: Send + Sync {
    /// Saves the provider's new `id-token` and `refresh-token` (those given, the others left
    /// as they are). An error says what failed and never holds a token.
    fn persist(
        &self,
        id_token: Option<&SecretString>,
        refresh_token: Option<&SecretString>,
    ) -> Result<(), String>;

    /// Where the tokens go, for `Debug` and error messages (e.g. a file name).
    fn describe(&self) -> String;
}

/// Supplies OIDC id-tokens, refreshing and persisting them as needed.
pub struct OidcAuthenticator {
    client_id: String,
    client_secret: Option<SecretString>,
    issuer: url::Url,
    issuer_ca: Option<Pem>,
    tokens: tokio::sync::Mutex<Tokens>,
    /// Where refreshed tokens are kept.
    persist_to: Option<Arc<dyn PersistTokens>>,
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
            .field(
                "persist_to",
                &self.persist_to.as_ref().map(|p| p.describe()),
            )
            .finish_non_exhaustive()
    }
}

fn oidc_error(reason: impl Into<String>) -> AuthError {
    AuthError::Oidc {
        reason: reason.into(),
    }
}

fn non_empty(config: &BTreeMap<String, Secret<String>>, key: &str) -> Option<String> {
    config
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
    /// Reads the provider's settings (the `config` map of a kubeconfig's `auth-provider`:
    /// `client-id`, `client-secret`, `idp-issuer-url`, `idp-certificate-authority(-data)`,
    /// `id-token`, `refresh-token`); refreshed tokens are handed to `persist_to`.
    pub fn new(
        config: &BTreeMap<String, Secret<String>>,
        persist_to: Option<Arc<dyn PersistTokens>>,
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

    /// Hands the current tokens to the persister, on a blocking thread.
    async fn persist(&self, tokens: &Tokens) -> Result<(), AuthError> {
        let Some(persister) = self.persist_to.clone() else {
            return Ok(());
        };
        let shown = persister.describe();
        let fail = |e: String| oidc_error(format!("saving refreshed tokens to {shown}: {e}"));
        let (id_token, refresh_token) = (tokens.id_token.clone(), tokens.refresh_token.clone());
        tokio::task::spawn_blocking(move || {
            persister.persist(id_token.as_ref(), refresh_token.as_ref())
        })
        .await
        .map_err(|e| fail(e.to_string()))?
        .map_err(fail)
    }
}

/// The transport's use: the id-token while it is valid, refreshed (and persisted) when not.
impl TokenSource for OidcAuthenticator {
    fn token(self: Arc<Self>) -> TokenFuture {
        Box::pin(async move { self.id_token().await })
    }
}

#[cfg(test)]
mod tests {
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

    fn provider(issuer: &str, id_token: &str, refresh: &str) -> BTreeMap<String, Secret<String>> {
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
        config
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
