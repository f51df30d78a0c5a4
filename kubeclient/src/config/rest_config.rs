//! From configuration to a [`rest::Config`]: a resolved kubeconfig context (client-go's
//! `DirectClientConfig.ClientConfig`), in-cluster configuration (`rest.InClusterConfig`), and
//! the seed program's order as one call, [`infer`]: in a pod, in-cluster configuration; else
//! the kubeconfig (`--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`).
//!
//! client-go's rules kept here:
//! - a server without a scheme gets `https://` when any TLS setting is present, else `http://`;
//! - `*-data` fields win over the file fields;
//! - with `tokenFile` set the token is read from the file and re-read as it rotates (a `token`
//!   beside it is ignored); a token and basic auth together, or an exec plugin together with
//!   basic auth, are refused as ambiguous; a token makes an exec plugin unused;
//! - the removed `gcp` and `azure` auth providers give an error naming their exec-plugin
//!   replacements.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::{SecretBox, SecretString};
use url::Url;

use super::auth::TokenFile;
use super::exec::ExecAuthenticator;
use super::incluster::{InClusterConfig, InClusterError, ServiceAccountFiles};
use super::oidc::OidcAuthenticator;
use super::proxy::{ProxyError, parse_proxy_url};
use super::secret::redact_url_str;
use super::{ClientConfig, ConfigOverrides, KubeconfigError, LoadingRules, ResolvedConfig};
use crate::rest::{self, Auth, ClientKey, Pem};

/// Why a configuration could not become a [`rest::Config`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestConfigError {
    /// The kubeconfig could not be loaded or resolved.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// In-cluster configuration failed (other than not being in a cluster).
    #[error(transparent)]
    InCluster(#[from] InClusterError),
    /// A setting of the chosen cluster or user is unusable.
    #[error("{entry}{}: {reason}", origin_suffix(.origin))]
    Invalid {
        /// The entry at fault, e.g. `cluster "prod"` or `user "admin"`.
        entry: String,
        /// The kubeconfig file it came from.
        origin: Option<PathBuf>,
        /// What is wrong.
        reason: String,
    },
}

fn origin_suffix(origin: &Option<PathBuf>) -> String {
    origin
        .as_ref()
        .map(|p| format!(" in {}", p.display()))
        .unwrap_or_default()
}

/// The server URL as client-go's `DefaultServerURL` reads it. Errors show it with any
/// credentials masked.
fn server_url(server: &str, tls: bool) -> Result<Url, String> {
    if server.is_empty() {
        return Err("no server is set".to_string());
    }
    let shown = || redact_url_str(server);
    match Url::parse(server) {
        Ok(url) if url.has_host() && matches!(url.scheme(), "http" | "https") => Ok(url),
        Ok(url) if url.has_host() => Err(format!(
            "unsupported scheme {:?} in server {:?}",
            url.scheme(),
            shown()
        )),
        _ => {
            let scheme = if tls { "https" } else { "http" };
            Url::parse(&format!("{scheme}://{server}"))
                .map_err(|e| format!("invalid server {:?}: {e}", shown()))
        }
    }
}

fn removed_provider(name: &str) -> Option<&'static str> {
    match name {
        "gcp" => Some(
            "the gcp auth provider was removed from Kubernetes clients; install and use the \
             gke-gcloud-auth-plugin exec credential plugin instead",
        ),
        "azure" => Some(
            "the azure auth provider was removed from Kubernetes clients; install and use the \
             kubelogin exec credential plugin (github.com/Azure/kubelogin) instead",
        ),
        _ => None,
    }
}

/// PEM from a kubeconfig's `*-data` field, else from its file field (client-go's order).
fn pem(data: &[u8], file: &str) -> Option<Pem> {
    if !data.is_empty() {
        Some(Pem::Data(data.to_vec()))
    } else if !file.is_empty() {
        Some(Pem::File(file.into()))
    } else {
        None
    }
}

/// Builds the [`rest::Config`] of a resolved kubeconfig context.
pub fn from_resolved(resolved: &ResolvedConfig) -> Result<rest::Config, RestConfigError> {
    let cluster = &resolved.cluster;
    let user = &resolved.auth_info;
    let cluster_err = |reason: String| RestConfigError::Invalid {
        entry: format!("cluster {:?}", resolved.cluster_name),
        origin: resolved.cluster_origin.clone(),
        reason,
    };
    let user_err = |reason: String| RestConfigError::Invalid {
        entry: format!("user {:?}", resolved.user_name),
        origin: resolved.user_origin.clone(),
        reason,
    };

    let tls = rest::TlsConfig {
        ca: pem(
            &cluster.certificate_authority_data,
            &cluster.certificate_authority,
        ),
        insecure: cluster.insecure_skip_tls_verify,
        server_name: Some(cluster.tls_server_name.clone()).filter(|n| !n.is_empty()),
        client_cert: pem(&user.client_certificate_data, &user.client_certificate),
        client_key: if !user.client_key_data.expose_secret().is_empty() {
            let key = user.client_key_data.expose_secret().clone();
            Some(ClientKey::Data(Arc::new(SecretBox::new(Box::new(key)))))
        } else if !user.client_key.is_empty() {
            Some(ClientKey::File(user.client_key.clone().into()))
        } else {
            None
        },
    };
    let any_tls =
        tls.ca.is_some() || tls.insecure || tls.client_cert.is_some() || tls.server_name.is_some();
    let host = server_url(&cluster.server, any_tls).map_err(cluster_err)?;

    let has_token = !user.token.is_empty() || !user.token_file.is_empty();
    let has_basic = !user.username.is_empty() || !user.password.is_empty();
    if has_token && has_basic {
        return Err(user_err(
            "both a token and basic auth are set; only one is allowed".into(),
        ));
    }
    if user.exec.is_some() && has_basic {
        return Err(user_err(
            "an exec plugin cannot be combined with basic auth".into(),
        ));
    }
    if user.exec.is_some() && user.auth_provider.is_some() {
        return Err(user_err(
            "an exec plugin and an auth-provider cannot both be set".into(),
        ));
    }
    let auth = if !user.token_file.is_empty() {
        let file = TokenFile::new(&user.token_file);
        // Read now, as client-go does, so a missing file is reported with the user at fault.
        file.token().map_err(|e| user_err(e.to_string()))?;
        Auth::TokenFile(Arc::new(file))
    } else if !user.token.is_empty() {
        Auth::Bearer(SecretString::from(user.token.expose_secret().clone()))
    } else if has_basic {
        Auth::Basic {
            username: user.username.clone(),
            password: SecretString::from(user.password.expose_secret().clone()),
        }
    } else if let Some(exec) = &user.exec {
        let authenticator =
            ExecAuthenticator::new(exec.clone(), cluster).map_err(|e| user_err(e.to_string()))?;
        Auth::Exec(Arc::new(authenticator))
    } else if let Some(provider) = user.auth_provider.as_ref().filter(|p| p.name == "oidc") {
        let persist_to = resolved
            .user_origin
            .clone()
            .map(|file| (file, resolved.user_name.clone()));
        let oidc =
            OidcAuthenticator::new(provider, persist_to).map_err(|e| user_err(e.to_string()))?;
        Auth::Oidc(Arc::new(oidc))
    } else if let Some(provider) = &user.auth_provider {
        let reason = removed_provider(&provider.name)
            .map(str::to_string)
            .unwrap_or_else(|| format!("auth-provider {:?} is not supported yet", provider.name));
        return Err(user_err(reason));
    } else {
        Auth::None
    };

    let mut config = rest::Config::new(host);
    config.tls = tls;
    config.auth = auth;
    config.impersonate = rest::Impersonation {
        user: Some(user.impersonate.clone()).filter(|u| !u.is_empty()),
        uid: Some(user.impersonate_uid.clone()).filter(|u| !u.is_empty()),
        groups: user.impersonate_groups.clone(),
        extra: user.impersonate_user_extra.clone(),
    };
    if !cluster.proxy_url.is_empty() {
        let source = format!("proxy-url of cluster {:?}", resolved.cluster_name);
        config.proxy_url = Some(
            parse_proxy_url(&cluster.proxy_url, &source)
                .map_err(|e: ProxyError| cluster_err(e.to_string()))?,
        );
    }
    config.disable_compression = cluster.disable_compression;
    Ok(config)
}

/// Builds the [`rest::Config`] of a pod's in-cluster configuration.
pub fn from_in_cluster(in_cluster: InClusterConfig) -> Result<rest::Config, RestConfigError> {
    let host = Url::parse(&in_cluster.server).map_err(|e| RestConfigError::Invalid {
        entry: "in-cluster server".into(),
        origin: None,
        reason: e.to_string(),
    })?;
    let mut config = rest::Config::new(host);
    config.tls.ca = Some(Pem::Data(in_cluster.ca_pem));
    config.auth = Auth::TokenFile(Arc::new(in_cluster.token));
    Ok(config)
}

/// A [`rest::Config`] and the namespace requests default to.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inferred {
    /// The client configuration.
    pub config: rest::Config,
    /// The default namespace: the context's, or the pod's.
    pub namespace: String,
    /// Where the configuration came from.
    pub source: Source,
}

/// Where [`infer`] found the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// In-cluster configuration (service account).
    InCluster,
    /// A kubeconfig context.
    Kubeconfig {
        /// The context's name.
        context: String,
    },
}

/// The seed program's order as one call: in a pod (`KUBERNETES_SERVICE_HOST` and
/// `KUBERNETES_SERVICE_PORT` set), in-cluster configuration; otherwise the kubeconfig named by
/// `explicit` (the `--kubeconfig` flag), else by `KUBECONFIG`, else `~/.kube/config`.
pub fn infer(explicit: Option<&Path>) -> Result<Inferred, RestConfigError> {
    infer_with(explicit, &ServiceAccountFiles::default())
}

/// As [`infer`], with the service-account files looked for at `service_account` (for tests).
pub fn infer_with(
    explicit: Option<&Path>,
    service_account: &ServiceAccountFiles,
) -> Result<Inferred, RestConfigError> {
    match InClusterConfig::load_from(|name| std::env::var(name).ok(), service_account) {
        Ok(in_cluster) => {
            let namespace = in_cluster.namespace.clone();
            return Ok(Inferred {
                config: from_in_cluster(in_cluster)?,
                namespace,
                source: Source::InCluster,
            });
        }
        Err(InClusterError::NotInCluster) => {}
        Err(e) => return Err(e.into()),
    }
    let mut rules = LoadingRules::from_env();
    if let Some(path) = explicit {
        rules = rules.with_explicit_path(path);
    }
    let resolved = ClientConfig::load(&rules, ConfigOverrides::default())?.resolve()?;
    Ok(Inferred {
        config: from_resolved(&resolved)?,
        namespace: resolved.namespace.clone(),
        source: Source::Kubeconfig {
            context: resolved.context_name.clone(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Kubeconfig;

    fn resolve(yaml: &str) -> ResolvedConfig {
        let config = Kubeconfig::from_slice(yaml.as_bytes()).expect("valid kubeconfig");
        ClientConfig::new(config, ConfigOverrides::default())
            .resolve()
            .expect("resolves")
    }

    fn kubeconfig(cluster: &str, user: &str) -> String {
        format!(
            "clusters: [{{name: c, cluster: {{{cluster}}}}}]\n\
             users: [{{name: u, user: {{{user}}}}}]\n\
             contexts: [{{name: x, context: {{cluster: c, user: u}}}}]\n\
             current-context: x\n"
        )
    }

    #[test]
    fn server_without_scheme_gets_https_only_with_tls_settings() {
        let plain = from_resolved(&resolve(&kubeconfig("server: 'example.test:8080'", "")))
            .expect("config");
        assert_eq!(plain.host.as_str(), "http://example.test:8080/");
        let tls = from_resolved(&resolve(&kubeconfig(
            "server: 'example.test:6443', insecure-skip-tls-verify: true",
            "",
        )))
        .expect("config");
        assert_eq!(tls.host.as_str(), "https://example.test:6443/");
        assert!(tls.tls.insecure);
    }

    #[test]
    fn credentials_map_to_auth_and_impersonation() {
        let config = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k'",
            "token: abc, as: jane, as-groups: [g1, g2]",
        )))
        .expect("config");
        assert!(matches!(config.auth, Auth::Bearer(_)));
        assert_eq!(config.impersonate.user.as_deref(), Some("jane"));
        assert_eq!(config.impersonate.groups, vec!["g1", "g2"]);
        let basic = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k'",
            "username: me, password: pw",
        )))
        .expect("config");
        assert!(matches!(basic.auth, Auth::Basic { ref username, .. } if username == "me"));
    }

    #[test]
    fn ambiguous_or_removed_auth_is_an_error_naming_the_user() {
        let err = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k'",
            "token: abc, username: me, password: pw",
        )))
        .expect_err("token and basic");
        assert!(
            err.to_string().contains("user \"u\"") && err.to_string().contains("only one"),
            "{err}"
        );
        for (provider, replacement) in [("gcp", "gke-gcloud-auth-plugin"), ("azure", "kubelogin")] {
            let err = from_resolved(&resolve(&kubeconfig(
                "server: 'https://k'",
                &format!("auth-provider: {{name: {provider}}}"),
            )))
            .expect_err("removed provider");
            assert!(err.to_string().contains(replacement), "{err}");
        }
    }

    #[test]
    fn missing_token_file_is_an_error_naming_user_and_file() {
        let err = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k'",
            "tokenFile: /nonexistent/kubeclient-token",
        )))
        .expect_err("missing token file");
        let text = err.to_string();
        assert!(
            text.contains("user \"u\"") && text.contains("/nonexistent/kubeclient-token"),
            "{text}"
        );
    }

    #[test]
    fn errors_never_show_url_credentials() {
        for cluster in [
            "server: 'u:srv-SECRET@[bad'",
            "server: 'ftp://u:srv-SECRET@k'",
            "server: 'https://k', proxy-url: 'http://u:proxy-SECRET@[bad'",
            "server: 'https://k', proxy-url: 'ftp://u:proxy-SECRET@p'",
        ] {
            let err = from_resolved(&resolve(&kubeconfig(cluster, ""))).expect_err("unusable URL");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("cluster \"c\""), "{shown}");
        }
    }

    #[test]
    fn proxy_url_is_parsed_with_the_cluster_named_in_errors() {
        let ok = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k', proxy-url: 'socks5://p:1080'",
            "",
        )))
        .expect("config");
        assert_eq!(
            ok.proxy_url.map(|u| u.to_string()).as_deref(),
            Some("socks5://p:1080")
        );
        let err = from_resolved(&resolve(&kubeconfig(
            "server: 'https://k', proxy-url: 'ftp://p'",
            "",
        )))
        .expect_err("ftp proxy");
        assert!(err.to_string().contains("cluster \"c\""), "{err}");
    }
}
