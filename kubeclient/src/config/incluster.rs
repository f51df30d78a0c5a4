//! In-cluster configuration, as client-go's `rest.InClusterConfig`: inside a pod, the API
//! server is `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, trusted through the
//! service account's `ca.crt`, and authenticated with its token, which the kubelet rotates
//! (so it is re-read periodically; see [`TokenFile`]). The namespace is `$POD_NAMESPACE`, else
//! the service account's `namespace` file, else `default`, as clientcmd's in-cluster config.

use std::path::{Path, PathBuf};

use crate::rest::auth::TokenFile;

/// Where a pod's service-account credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The files in-cluster configuration reads; [`Default`] is the standard mount, and tests
/// point them elsewhere with [`ServiceAccountFiles::in_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountFiles {
    /// The bearer token (`token`).
    pub token: PathBuf,
    /// The cluster CA bundle (`ca.crt`).
    pub ca: PathBuf,
    /// The pod's namespace (`namespace`).
    pub namespace: PathBuf,
}

impl Default for ServiceAccountFiles {
    fn default() -> Self {
        Self::in_dir(SERVICE_ACCOUNT_DIR)
    }
}

impl ServiceAccountFiles {
    /// The files `token`, `ca.crt` and `namespace` in `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        ServiceAccountFiles {
            token: dir.join("token"),
            ca: dir.join("ca.crt"),
            namespace: dir.join("namespace"),
        }
    }
}

/// Configuration found inside a pod.
#[derive(Debug)]
pub struct InClusterConfig {
    /// `https://host:port` of the API server (IPv6 hosts bracketed).
    pub server: String,
    /// The CA bundle that signs the API server's certificate (PEM).
    pub ca_pem: Vec<u8>,
    /// The service-account token, re-read as it rotates.
    pub token: TokenFile,
    /// The pod's namespace.
    pub namespace: String,
}

/// Why in-cluster configuration is not available.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InClusterError {
    /// `KUBERNETES_SERVICE_HOST` or `KUBERNETES_SERVICE_PORT` is unset or empty: this process
    /// is not running in a pod (client-go's `ErrNotInCluster`).
    #[error(
        "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"
    )]
    NotInCluster,
    /// A service-account file could not be read.
    #[error("reading in-cluster {what} {path}: {source}")]
    ReadFile {
        /// Which file ("token", "CA bundle").
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The service-account token could not be used.
    #[error(transparent)]
    Token(#[from] crate::rest::auth::AuthError),
}

impl InClusterConfig {
    /// Reads the in-cluster configuration from the process environment and the standard
    /// service-account mount.
    pub fn load() -> Result<Self, InClusterError> {
        Self::load_from(
            |name| std::env::var(name).ok(),
            &ServiceAccountFiles::default(),
        )
    }

    /// Whether in-cluster configuration is worth trying (client-go's
    /// `inClusterClientConfig.Possible`): `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT` are set and not empty, and the token file exists and is not a
    /// directory. [`infer`](super::infer) uses in-cluster configuration only then.
    pub fn possible(env: impl Fn(&str) -> Option<String>, files: &ServiceAccountFiles) -> bool {
        let set = |name| env(name).is_some_and(|v| !v.is_empty());
        set("KUBERNETES_SERVICE_HOST")
            && set("KUBERNETES_SERVICE_PORT")
            && std::fs::metadata(&files.token).is_ok_and(|m| !m.is_dir())
    }

    /// Reads the in-cluster configuration with `env` looking up environment variables and the
    /// service-account files at `files`.
    pub fn load_from(
        env: impl Fn(&str) -> Option<String>,
        files: &ServiceAccountFiles,
    ) -> Result<Self, InClusterError> {
        let non_empty = |name| env(name).filter(|v| !v.is_empty());
        let (Some(host), Some(port)) = (
            non_empty("KUBERNETES_SERVICE_HOST"),
            non_empty("KUBERNETES_SERVICE_PORT"),
        ) else {
            return Err(InClusterError::NotInCluster);
        };
        let token = TokenFile::new(&files.token);
        // Read now, so a pod without a token fails here rather than on its first request.
        token.token()?;
        let ca_pem = std::fs::read(&files.ca).map_err(|source| InClusterError::ReadFile {
            what: "CA bundle",
            path: files.ca.clone(),
            source,
        })?;
        Ok(InClusterConfig {
            server: format!("https://{}", join_host_port(&host, &port)),
            ca_pem,
            token,
            namespace: pod_namespace(&env, files),
        })
    }
}

/// The pod's namespace as clientcmd's in-cluster config finds it: `$POD_NAMESPACE`, else the
/// service account's `namespace` file (trimmed), else `default`.
pub(crate) fn pod_namespace(
    env: impl Fn(&str) -> Option<String>,
    files: &ServiceAccountFiles,
) -> String {
    env("POD_NAMESPACE")
        .filter(|v| !v.is_empty())
        .or_else(|| {
            std::fs::read_to_string(&files.namespace)
                .ok()
                .map(|ns| ns.trim().to_string())
                .filter(|ns| !ns.is_empty())
        })
        .unwrap_or_else(|| "default".to_string())
}

/// `host:port`, with an IPv6 host in brackets (Go's `net.JoinHostPort`).
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn service_account(name: &str, namespace: Option<&str>) -> ServiceAccountFiles {
        let dir = std::env::temp_dir().join(format!("kubeclient-sa-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("token"), "sa-token\n").expect("token");
        std::fs::write(dir.join("ca.crt"), "-----BEGIN CERTIFICATE-----\n").expect("ca");
        if let Some(ns) = namespace {
            std::fs::write(dir.join("namespace"), ns).expect("namespace");
        }
        ServiceAccountFiles::in_dir(dir)
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_host_port_token_ca_and_namespace() {
        let files = service_account("basic", Some("team-a\n"));
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ];
        let config = InClusterConfig::load_from(env(&vars), &files).expect("in-cluster");
        assert_eq!(config.server, "https://10.0.0.1:443");
        assert_eq!(config.namespace, "team-a");
        assert_eq!(
            config.token.token().expect("token").expose_secret(),
            "sa-token"
        );
        assert!(config.ca_pem.starts_with(b"-----BEGIN CERTIFICATE"));
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let files = service_account("ipv6", None);
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "6443"),
        ];
        let config = InClusterConfig::load_from(env(&vars), &files).expect("in-cluster");
        assert_eq!(config.server, "https://[fd00::1]:6443");
        assert_eq!(config.namespace, "default");
    }

    #[test]
    fn pod_namespace_env_wins_over_the_file() {
        let files = service_account("podns", Some("from-file"));
        let vars = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", "1"),
            ("POD_NAMESPACE", "from-env"),
        ];
        let config = InClusterConfig::load_from(env(&vars), &files).expect("in-cluster");
        assert_eq!(config.namespace, "from-env");
    }

    #[test]
    fn possible_needs_host_port_and_a_token_file() {
        let files = service_account("possible", None);
        let both = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", "1"),
        ];
        assert!(InClusterConfig::possible(env(&both), &files));
        assert!(!InClusterConfig::possible(
            env(&[("KUBERNETES_SERVICE_HOST", "h")]),
            &files
        ));
        assert!(!InClusterConfig::possible(
            env(&[
                ("KUBERNETES_SERVICE_HOST", "h"),
                ("KUBERNETES_SERVICE_PORT", "")
            ]),
            &files
        ));
        // A directory where the token should be is not a token.
        let dir_token = ServiceAccountFiles {
            token: files.ca.parent().expect("dir").to_path_buf(),
            ..files.clone()
        };
        assert!(!InClusterConfig::possible(env(&both), &dir_token));
        std::fs::remove_file(&files.token).expect("remove token");
        assert!(!InClusterConfig::possible(env(&both), &files));
    }

    #[test]
    fn missing_env_is_not_in_cluster_and_missing_files_are_named() {
        let files = service_account("missing", None);
        let only_host = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", ""),
        ];
        let err = InClusterConfig::load_from(env(&only_host), &files).expect_err("no port");
        assert!(matches!(err, InClusterError::NotInCluster), "{err:?}");

        let vars = [
            ("KUBERNETES_SERVICE_HOST", "h"),
            ("KUBERNETES_SERVICE_PORT", "1"),
        ];
        std::fs::remove_file(&files.ca).expect("remove ca");
        let err = InClusterConfig::load_from(env(&vars), &files).expect_err("no ca");
        assert!(err.to_string().contains("ca.crt"), "{err}");
        std::fs::remove_file(&files.token).expect("remove token");
        let err = InClusterConfig::load_from(env(&vars), &files).expect_err("no token");
        assert!(err.to_string().contains("token"), "{err}");
    }
}
