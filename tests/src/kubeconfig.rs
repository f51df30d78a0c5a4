//! A deliberately small kubeconfig reader for the test support: the current context's server,
//! CA, client certificate or token. kubeclient's own `config` module is what the tests test;
//! this one only has to understand the kubeconfigs `controlplane/cluster` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use crate::Error;

#[derive(Deserialize)]
struct Kubeconfig {
    #[serde(rename = "current-context")]
    current_context: String,
    clusters: Vec<Named<ClusterEntry>>,
    users: Vec<Named<UserEntry>>,
    contexts: Vec<Named<ContextEntry>>,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(Deserialize)]
struct ClusterEntry {
    server: String,
    #[serde(rename = "certificate-authority-data")]
    ca_data: Option<String>,
    #[serde(rename = "certificate-authority")]
    ca_file: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
struct UserEntry {
    token: Option<String>,
    #[serde(rename = "client-certificate-data")]
    cert_data: Option<String>,
    #[serde(rename = "client-key-data")]
    key_data: Option<String>,
    #[serde(flatten)]
    _rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct ContextEntry {
    cluster: String,
    user: String,
}

/// One identity's access to one API server, read from a kubeconfig's current context.
///
/// It keeps the credentials, not a connected client: a client's connections live on the
/// runtime that opened them, and every `#[tokio::test]` has a runtime of its own.
#[derive(Clone)]
pub struct Access {
    kubeconfig: PathBuf,
    server: String,
    ca_pem: Vec<u8>,
    identity_pem: Option<Vec<u8>>,
    token: Option<String>,
}

fn find<'a, T>(entries: &'a [Named<T>], name: &str, what: &str) -> Result<&'a T, Error> {
    entries
        .iter()
        .find(|e| e.name == name)
        .map(|e| &e.value)
        .ok_or_else(|| format!("no {what} named {name:?}").into())
}

fn decode(data: &str, field: &str) -> Result<Vec<u8>, Error> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("{field} is not base64: {e}").into())
}

fn client_builder(ca_pem: &[u8]) -> Result<reqwest::ClientBuilder, Error> {
    // reqwest is built without a crypto provider of its own; use ring, as kubeclient does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(ca_pem)?)
        .timeout(std::time::Duration::from_secs(60)))
}

impl Access {
    /// Reads `path` and builds a client for its current context.
    pub fn from_kubeconfig(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading kubeconfig {}: {e}", path.display()))?;
        let config: Kubeconfig = serde_saphyr::from_str(&text)
            .map_err(|e| format!("parsing kubeconfig {}: {e}", path.display()))?;
        Self::from_config(path, &config)
            .map_err(|e| format!("kubeconfig {}: {e}", path.display()).into())
    }

    fn from_config(path: &Path, config: &Kubeconfig) -> Result<Self, Error> {
        let context = find(&config.contexts, &config.current_context, "context")?;
        let cluster = find(&config.clusters, &context.cluster, "cluster")?;
        let user = find(&config.users, &context.user, "user")?;
        let ca_pem = match (&cluster.ca_data, &cluster.ca_file) {
            (Some(data), _) => decode(data, "certificate-authority-data")?,
            (None, Some(file)) => {
                std::fs::read(path.parent().unwrap_or(Path::new(".")).join(file))?
            }
            (None, None) => return Err("the cluster has no certificate authority".into()),
        };
        let identity_pem = match (&user.cert_data, &user.key_data) {
            (Some(cert), Some(key)) => {
                let mut pem = decode(cert, "client-certificate-data")?;
                pem.extend(decode(key, "client-key-data")?);
                Some(pem)
            }
            _ => None,
        };
        let access = Access {
            kubeconfig: path.to_path_buf(),
            server: cluster.server.trim_end_matches('/').to_string(),
            ca_pem,
            identity_pem,
            token: user.token.clone(),
        };
        // Fail here, with the kubeconfig named, rather than in the first request.
        access.try_client(true)?;
        Ok(access)
    }

    fn try_client(&self, authenticated: bool) -> Result<reqwest::Client, Error> {
        let mut builder = client_builder(&self.ca_pem)?;
        if !authenticated {
            return Ok(builder.build()?);
        }
        if let Some(pem) = &self.identity_pem {
            builder = builder.identity(reqwest::Identity::from_pem(pem)?);
        }
        if let Some(token) = &self.token {
            let mut headers = reqwest::header::HeaderMap::new();
            let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
            builder = builder.default_headers(headers);
        }
        Ok(builder.build()?)
    }

    /// The kubeconfig this access was read from.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The API server's base URL, e.g. `https://127.0.0.1:40123`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// `path` (starting with `/`) on the API server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server, path)
    }

    /// A new client that authenticates as this identity, for use on the calling runtime.
    ///
    /// # Panics
    /// If the client cannot be built; `from_kubeconfig` already built one, so it can't.
    pub fn client(&self) -> reqwest::Client {
        self.try_client(true)
            .unwrap_or_else(|e| panic!("client for {}: {e}", self.kubeconfig.display()))
    }

    /// A new client that trusts the server's CA but presents no credentials.
    ///
    /// # Panics
    /// As [`Access::client`].
    pub fn anonymous(&self) -> reqwest::Client {
        self.try_client(false)
            .unwrap_or_else(|e| panic!("client for {}: {e}", self.kubeconfig.display()))
    }
}
