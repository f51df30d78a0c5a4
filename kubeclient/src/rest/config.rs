//! `rest::Config`: everything needed to talk to one API server as one identity, as client-go's
//! `rest.Config`. The `config` module produces it from a kubeconfig or from inside a pod; it
//! can also be built by hand.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{SecretBox, SecretString};
use url::Url;

use super::auth::{ExecAuthenticator, TokenSource};
use super::metrics::RequestMetrics;
use super::throttle::{RateLimiter, limiter_for};
use super::warnings::WarningHandler;
use crate::redact::redact_url;

/// Default queries per second of the client-side token bucket (client-go's `DefaultQPS`).
pub const DEFAULT_QPS: f32 = 5.0;
/// Default burst of the client-side token bucket (client-go's `DefaultBurst`).
pub const DEFAULT_BURST: u32 = 10;
/// Default limit on an answer's body read whole (after decompression): 1 GiB, room for a
/// JSON list of about 90,000 typical pods from the watch cache, which does not page.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 30;

/// How to reach and authenticate to one API server.
///
/// `Debug` shows no secret: credentials are redacted, and so are a user name and password in
/// `host` or `proxy_url` (shown as `xxxxx`).
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The server's base URL, e.g. `https://127.0.0.1:6443` (it may carry a path prefix).
    pub host: Url,
    /// Server verification and client certificate.
    pub tls: TlsConfig,
    /// How requests authenticate.
    pub auth: Auth,
    /// Whom to act as (`Impersonate-*` headers).
    pub impersonate: Impersonation,
    /// A proxy for every request to this server (a kubeconfig cluster's `proxy-url`); when
    /// `None`, the `HTTPS_PROXY`/`NO_PROXY` environment decides.
    pub proxy_url: Option<Url>,
    /// The `User-Agent` header; `None` means kubeclient's default.
    pub user_agent: Option<String>,
    /// Client-side rate limit: sustained queries per second. Negative disables throttling.
    /// Clients built from this configuration (and its clones) share one token bucket while
    /// `qps` and `burst` stay the same; changing them gives later clients a new bucket.
    pub qps: f32,
    /// Client-side rate limit: bucket size.
    pub burst: u32,
    /// A timeout for each request; `None` means no timeout beyond the server's.
    pub timeout: Option<Duration>,
    /// Ask the server not to compress responses.
    pub disable_compression: bool,
    /// The wire format of typed clients for the types that have a protobuf form (kubeclient's
    /// generated built-in types): protobuf by default, as client-go's typed clients. Custom
    /// resources, the dynamic client and raw requests speak JSON whatever this says.
    pub wire_format: WireFormat,
    /// The largest answer body read whole, counted after decompression; a larger one is an
    /// error ([`Error::TooLarge`](super::Error::TooLarge)), so a broken or hostile server cannot
    /// exhaust memory. Streams (watches, logs) are not read whole and are not limited by it.
    pub max_response_bytes: usize,
    /// A limiter of your own instead of the `qps`/`burst` token bucket.
    pub rate_limiter: Option<Arc<dyn RateLimiter>>,
    /// Where `Warning` headers go; `None` logs each distinct warning once.
    pub warning_handler: Option<Arc<dyn WarningHandler>>,
    /// Receives one record per request, e.g. to feed Prometheus.
    pub metrics: Option<Arc<dyn RequestMetrics>>,
    /// The token bucket every client built from this configuration (and its clones) shares,
    /// with the `qps` and `burst` it was made for.
    pub(crate) shared_limiter: Arc<Mutex<Option<SharedLimiter>>>,
}

/// A token bucket and the settings it was made from.
#[derive(Debug)]
pub(crate) struct SharedLimiter {
    qps: f32,
    burst: u32,
    limiter: Option<Arc<dyn RateLimiter>>,
}

impl Config {
    /// The limiter requests built from this configuration pass: the custom one, else the
    /// token bucket shared by every client built from this configuration and its clones.
    ///
    /// The sharing rule: clients built while `qps` and `burst` keep the same values share one
    /// bucket (as clients built from one client-go `rest.Config` do). Changing `qps` or
    /// `burst` afterwards is not ignored: the next client built gets a new bucket with the new
    /// values (and shares it with later ones), while clients built before keep theirs.
    pub(crate) fn limiter(&self) -> Option<Arc<dyn RateLimiter>> {
        if let Some(custom) = &self.rate_limiter {
            return Some(custom.clone());
        }
        let mut shared = self
            .shared_limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &*shared {
            Some(s) if s.qps.to_bits() == self.qps.to_bits() && s.burst == self.burst => {
                s.limiter.clone()
            }
            _ => {
                let limiter = limiter_for(self.qps, self.burst);
                *shared = Some(SharedLimiter {
                    qps: self.qps,
                    burst: self.burst,
                    limiter: limiter.clone(),
                });
                limiter
            }
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field named, so that a new one is a compile error here until it is shown.
        let Config {
            host,
            tls,
            auth,
            impersonate,
            proxy_url,
            user_agent,
            qps,
            burst,
            timeout,
            disable_compression,
            wire_format,
            max_response_bytes,
            rate_limiter,
            warning_handler,
            metrics,
            shared_limiter,
        } = self;
        f.debug_struct("Config")
            .field("host", &redact_url(host))
            .field("tls", tls)
            .field("auth", auth)
            .field("impersonate", impersonate)
            .field("proxy_url", &proxy_url.as_ref().map(redact_url))
            .field("user_agent", user_agent)
            .field("qps", qps)
            .field("burst", burst)
            .field("timeout", timeout)
            .field("disable_compression", disable_compression)
            .field("wire_format", wire_format)
            .field("max_response_bytes", max_response_bytes)
            .field("rate_limiter", rate_limiter)
            .field("warning_handler", warning_handler)
            .field("metrics", metrics)
            .field("shared_limiter", shared_limiter)
            .finish()
    }
}

impl Config {
    /// A configuration for `host` with no credentials and client-go's defaults.
    pub fn new(host: Url) -> Self {
        Config {
            host,
            tls: TlsConfig::default(),
            auth: Auth::None,
            impersonate: Impersonation::default(),
            proxy_url: None,
            user_agent: None,
            qps: DEFAULT_QPS,
            burst: DEFAULT_BURST,
            timeout: None,
            disable_compression: false,
            wire_format: WireFormat::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            rate_limiter: None,
            warning_handler: None,
            metrics: None,
            shared_limiter: Arc::new(Mutex::new(None)),
        }
    }
}

/// The wire format typed clients use ([`Config::wire_format`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireFormat {
    /// `application/vnd.kubernetes.protobuf` for the types that have it (accepting JSON from
    /// a server that answers in JSON), JSON for the rest.
    #[default]
    Protobuf,
    /// JSON for everything.
    Json,
}

/// PEM material, either inline or in a file read when the transport is built.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// The PEM text itself.
    Data(Vec<u8>),
    /// A file holding it.
    File(PathBuf),
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pem::Data(d) => write!(f, "Data({} bytes)", d.len()),
            Pem::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// TLS settings.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TlsConfig {
    /// CA bundle that signs the server certificate; `None` uses the platform's roots.
    pub ca: Option<Pem>,
    /// Client certificate chain.
    pub client_cert: Option<Pem>,
    /// Client private key (RSA, ECDSA or PKCS#8, including Ed25519).
    pub client_key: Option<ClientKey>,
    /// Skip server certificate verification (dangerous; kubeconfig
    /// `insecure-skip-tls-verify`).
    pub insecure: bool,
    /// The name to verify the server certificate against (and send as SNI) instead of the
    /// host in the URL.
    pub server_name: Option<String>,
}

/// A client private key; never shown by `Debug`.
#[derive(Clone)]
pub enum ClientKey {
    /// The PEM text.
    Data(Arc<SecretBox<Vec<u8>>>),
    /// A file holding it.
    File(PathBuf),
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Data(_) => f.write_str("Data([REDACTED])"),
            ClientKey::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// How requests authenticate, besides a client certificate.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials (a client certificate in [`TlsConfig`] may still be presented).
    #[default]
    None,
    /// A fixed bearer token.
    Bearer(SecretString),
    /// A bearer token from a [`TokenSource`], asked before every request: a token file
    /// ([`TokenFile`], re-read as it rotates), the `oidc` auth provider
    /// ([`OidcAuthenticator`], refreshed when it expires), or a source of your own.
    ///
    /// [`TokenFile`]: super::auth::TokenFile
    /// [`OidcAuthenticator`]: super::auth::OidcAuthenticator
    TokenSource(Arc<dyn TokenSource>),
    /// An exec credential plugin: the bearer token and/or client certificate it prints,
    /// cached until they expire and fetched again after a 401.
    Exec(Arc<ExecAuthenticator>),
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: SecretString,
    },
}

/// Impersonation: act as another user (client-go's `ImpersonationConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Impersonation {
    /// `Impersonate-User`.
    pub user: Option<String>,
    /// `Impersonate-Uid`.
    pub uid: Option<String>,
    /// `Impersonate-Group`, one header per group.
    pub groups: Vec<String>,
    /// `Impersonate-Extra-<key>`, one header per value.
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::auth::{OidcAuthenticator, TokenFile};

    #[test]
    fn debug_redacts_keys_tokens_and_passwords() {
        let mut config = Config::new(Url::parse("https://example.test").expect("url"));
        config.tls.client_key = Some(ClientKey::Data(Arc::new(SecretBox::new(Box::new(
            b"-----BEGIN PRIVATE KEY-----very-secret-key".to_vec(),
        )))));
        config.tls.ca = Some(Pem::Data(b"ca-bytes".to_vec()));
        config.auth = Auth::Basic {
            username: "me".into(),
            password: SecretString::from("hunter2-password"),
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-key"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("me"), "{shown}");
        config.auth = Auth::Bearer(SecretString::from("bearer-s3cret"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("bearer-s3cret"), "{shown}");
    }

    /// Every credential a `Config` can hold, in one place.
    fn config_with_every_secret() -> Config {
        let mut config = Config::new(
            Url::parse("https://host-user:host-SECRET@example.test:6443/prefix").expect("url"),
        );
        config.proxy_url =
            Some(Url::parse("http://proxy-user:proxy-SECRET@proxy.test:3128").expect("url"));
        config
    }

    #[test]
    fn debug_redacts_url_credentials() {
        let config = config_with_every_secret();
        let shown = format!("{config:?} {config:#?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(!shown.contains("-user"), "{shown}");
        // The rest of each URL still shows.
        assert!(shown.contains("example.test:6443/prefix"), "{shown}");
        assert!(shown.contains("proxy.test:3128"), "{shown}");
    }

    #[tokio::test]
    async fn debug_redacts_token_files_and_oidc_settings() {
        use crate::secret::Secret;

        let dir = std::env::temp_dir().join(format!("kubeclient-redact-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("token");
        std::fs::write(&path, "tokenfile-SECRET\n").expect("write token");
        let file = TokenFile::new(&path);
        file.token().expect("read token"); // now cached inside
        let mut config = config_with_every_secret();
        config.auth = Auth::TokenSource(Arc::new(file));
        let shown = format!("{config:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("token"), "the file's path shows: {shown}");

        let mut provider = std::collections::BTreeMap::new();
        for (k, v) in [
            ("client-id", "kubectl"),
            ("client-secret", "client-SECRET"),
            ("idp-issuer-url", "https://iss-user:iss-SECRET@issuer.test/"),
            ("id-token", "idtoken-SECRET"),
            ("refresh-token", "refresh-SECRET"),
            ("idp-certificate-authority-data", "Q0EtU0VDUkVU"),
        ] {
            provider.insert(k.into(), Secret::new(v.to_string()));
        }
        let oidc = OidcAuthenticator::new(&provider, None).expect("valid provider");
        config.auth = Auth::TokenSource(Arc::new(oidc));
        let shown = format!("{config:?} {config:#?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("iss-user"),
            "{shown}"
        );
        assert!(shown.contains("issuer.test"), "{shown}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn clients_and_their_errors_never_show_url_credentials() {
        // Nothing listens on port 1: the request fails to connect.
        let mut config =
            Config::new(Url::parse("http://host-user:host-SECRET@127.0.0.1:1/").expect("url"));
        config.qps = -1.0;
        let client = crate::rest::RestClient::new(&config).expect("client");
        let shown = format!("{client:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        let err = client
            .post()
            .abs_path("/api")
            .send()
            .await
            .expect_err("nothing listens");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
    }

    #[test]
    fn defaults_match_client_go() {
        let config = Config::new(Url::parse("https://example.test").expect("url"));
        assert_eq!(config.qps, 5.0);
        assert_eq!(config.burst, 10);
        assert!(matches!(config.auth, Auth::None));
    }
}
