//! From configuration to a [`rest::Config`]: a resolved kubeconfig context (client-go's
//! `DirectClientConfig.ClientConfig`), in-cluster configuration (`rest.InClusterConfig`), and
//! both chosen as kubectl chooses them, [`infer`] (client-go's `DeferredLoadingClientConfig`).
//!
//! [`infer`] documents the order it follows, client-go's deferred loading, next to the code.
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

use super::incluster::{InClusterConfig, InClusterError, ServiceAccountFiles, pod_namespace};
use super::model::{Cluster, ExecConfig};
use super::persist::KubeconfigPersister;
use super::{ClientConfig, ConfigOverrides, KubeconfigError, LoadingRules, ResolvedConfig};
use crate::redact::redact_url_str;
use crate::rest::auth::{
    ExecAuthenticator, ExecPlugin, OidcAuthenticator, PersistTokens, TokenFile,
};
use crate::rest::proxy::{ProxyError, parse_proxy_url};
use crate::rest::{self, Auth, ClientKey, Pem};

/// The cluster extension passed to exec plugins as `spec.cluster.config`.
const EXEC_CLUSTER_EXTENSION: &str = "client.authentication.k8s.io/exec";

/// A kubeconfig user's `exec` block as the plugin the transport runs, with the cluster's
/// description for `KUBERNETES_EXEC_INFO` when the block sets `provideClusterInfo`.
fn exec_plugin(exec: &ExecConfig, cluster: &Cluster) -> ExecPlugin {
    ExecPlugin {
        command: exec.command.clone(),
        args: exec.args.clone(),
        env: exec
            .env
            .iter()
            .map(|e| {
                (
                    e.name.clone(),
                    SecretString::from(e.value.expose_secret().clone()),
                )
            })
            .collect(),
        api_version: exec.api_version.clone(),
        install_hint: exec.install_hint.clone(),
        interactive_mode: exec.interactive_mode.clone(),
        cluster: exec
            .provide_cluster_info
            .then(|| exec_cluster_info(cluster)),
    }
}

/// The `spec.cluster` an exec plugin gets with `provideClusterInfo` (client-go's
/// `clientauthentication.Cluster`): fields the kubeconfig leaves empty are left out.
fn exec_cluster_info(cluster: &Cluster) -> serde_json::Value {
    use base64::Engine;
    use serde_json::json;

    let mut info = serde_json::Map::new();
    info.insert("server".into(), json!(cluster.server));
    let mut set = |key: &str, value: serde_json::Value, present: bool| {
        if present {
            info.insert(key.into(), value);
        }
    };
    set(
        "tls-server-name",
        json!(cluster.tls_server_name),
        !cluster.tls_server_name.is_empty(),
    );
    set(
        "insecure-skip-tls-verify",
        json!(true),
        cluster.insecure_skip_tls_verify,
    );
    set(
        "certificate-authority-data",
        json!(
            base64::engine::general_purpose::STANDARD.encode(&cluster.certificate_authority_data)
        ),
        !cluster.certificate_authority_data.is_empty(),
    );
    set(
        "proxy-url",
        json!(cluster.proxy_url),
        !cluster.proxy_url.is_empty(),
    );
    set(
        "disable-compression",
        json!(true),
        cluster.disable_compression,
    );
    if let Some(ext) = cluster
        .extensions
        .iter()
        .find(|e| e.name == EXEC_CLUSTER_EXTENSION)
    {
        info.insert("config".into(), ext.extension.clone());
    }
    serde_json::Value::Object(info)
}

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
        Auth::TokenSource(Arc::new(file))
    } else if !user.token.is_empty() {
        Auth::Bearer(SecretString::from(user.token.expose_secret().clone()))
    } else if has_basic {
        Auth::Basic {
            username: user.username.clone(),
            password: SecretString::from(user.password.expose_secret().clone()),
        }
    } else if let Some(exec) = &user.exec {
        let authenticator = ExecAuthenticator::new(exec_plugin(exec, cluster))
            .map_err(|e| user_err(e.to_string()))?;
        Auth::Exec(Arc::new(authenticator))
    } else if let Some(provider) = user.auth_provider.as_ref().filter(|p| p.name == "oidc") {
        let persist_to = resolved.user_origin.clone().map(|path| {
            Arc::new(KubeconfigPersister {
                path,
                user: resolved.user_name.clone(),
            }) as Arc<dyn PersistTokens>
        });
        let oidc = OidcAuthenticator::new(&provider.config, persist_to)
            .map_err(|e| user_err(e.to_string()))?;
        Auth::TokenSource(Arc::new(oidc))
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
    config.auth = Auth::TokenSource(Arc::new(in_cluster.token));
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

/// The configuration kubectl would use: the kubeconfig named by `explicit` (the
/// `--kubeconfig` flag), else by `KUBECONFIG`, else `~/.kube/config`; in-cluster
/// configuration (the pod's service account) only when those select no context at all and
/// this process runs in a pod.
///
/// The order is client-go's deferred loading (`DeferredLoadingClientConfig` in
/// `tools/clientcmd/merged_client_builder.go`, which kubectl uses):
/// 1. the kubeconfig files are loaded first: `--kubeconfig` alone, else every file of
///    `KUBECONFIG`, else `~/.kube/config` ([`LoadingRules`]);
/// 2. if they select a usable context, that is the configuration — even inside a pod, so an
///    explicit `--kubeconfig`, `KUBECONFIG`, or a `~/.kube/config` in the container wins over
///    the service account;
/// 3. only if they select nothing at all (no file found, empty files, no `current-context`:
///    client-go's "empty config" error) is in-cluster configuration used, when it is possible:
///    `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` set and the service-account token
///    file present ([`InClusterConfig::possible`]); otherwise the empty-config error stands;
/// 4. any other kubeconfig error (an explicit file that does not exist, a file that does not
///    parse, a missing context, cluster or user) is returned as it is: in-cluster configuration
///    is not a fallback for a broken kubeconfig (client-go returns every error but the empty
///    config one);
/// 5. the namespace: the context's; if the context names none and in-cluster configuration is
///    possible, the pod's (`POD_NAMESPACE`, else the service account's `namespace` file), as
///    client-go's `DeferredLoadingClientConfig.Namespace` does; else `default`.
///
/// Other orders upstream, for comparison: kube-rs's `Config::infer` also tries the kubeconfig
/// first, but falls back to in-cluster configuration on any kubeconfig error; client-go's
/// `BuildConfigFromFlags(masterURL, path)` reads only the file given, and with neither
/// argument tries in-cluster configuration and never reads `KUBECONFIG` or
/// `~/.kube/config`; controller-runtime's `GetConfig` puts in-cluster configuration between
/// `KUBECONFIG` and `~/.kube/config`.
pub fn infer(explicit: Option<&Path>) -> Result<Inferred, RestConfigError> {
    infer_with(explicit, &ServiceAccountFiles::default())
}

/// As [`infer`], with the service-account files looked for at `service_account` (for tests).
pub fn infer_with(
    explicit: Option<&Path>,
    service_account: &ServiceAccountFiles,
) -> Result<Inferred, RestConfigError> {
    let mut rules = LoadingRules::from_env();
    if let Some(path) = explicit {
        rules = rules.with_explicit_path(path);
    }
    infer_from(&rules, |name| std::env::var(name).ok(), service_account)
}

/// [`infer`] with the loading rules and the environment given.
fn infer_from(
    rules: &LoadingRules,
    env: impl Fn(&str) -> Option<String>,
    service_account: &ServiceAccountFiles,
) -> Result<Inferred, RestConfigError> {
    let loaded = ClientConfig::load(rules, ConfigOverrides::default()).and_then(|c| c.resolve());
    let in_cluster_possible = || InClusterConfig::possible(&env, service_account);
    match loaded {
        Ok(resolved) => {
            let namespace = if resolved.context.namespace.is_empty() && in_cluster_possible() {
                pod_namespace(&env, service_account)
            } else {
                resolved.namespace.clone()
            };
            Ok(Inferred {
                config: from_resolved(&resolved)?,
                namespace,
                source: Source::Kubeconfig {
                    context: resolved.context_name.clone(),
                },
            })
        }
        Err(KubeconfigError::EmptyConfig) if in_cluster_possible() => {
            tracing::debug!("no kubeconfig selects a cluster; using in-cluster configuration");
            let in_cluster = InClusterConfig::load_from(&env, service_account)?;
            let namespace = in_cluster.namespace.clone();
            Ok(Inferred {
                config: from_in_cluster(in_cluster)?,
                namespace,
                source: Source::InCluster,
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Kubeconfig;
    use crate::config::{ExecEnvVar, NamedExtension};
    use crate::secret::Secret;

    #[test]
    fn exec_plugins_get_the_cluster_only_when_asked() {
        let mut exec = ExecConfig {
            command: "plugin".into(),
            args: vec!["--flag".into()],
            env: vec![ExecEnvVar {
                name: "EXTRA".into(),
                value: Secret::new("value".to_string()),
                ..ExecEnvVar::default()
            }],
            api_version: "client.authentication.k8s.io/v1".into(),
            interactive_mode: "Never".into(),
            ..ExecConfig::default()
        };
        let cluster = Cluster {
            server: "https://10.0.0.1:6443".into(),
            certificate_authority_data: b"CA".to_vec(),
            extensions: vec![NamedExtension {
                name: EXEC_CLUSTER_EXTENSION.into(),
                extension: serde_json::json!({"audience": "k8s"}),
                ..NamedExtension::default()
            }],
            ..Cluster::default()
        };
        let plugin = exec_plugin(&exec, &cluster);
        assert_eq!(plugin.args, ["--flag"]);
        assert_eq!(plugin.env.len(), 1);
        assert_eq!(plugin.env[0].0, "EXTRA");
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&plugin.env[0].1),
            "value"
        );
        assert!(plugin.cluster.is_none(), "provideClusterInfo is off");

        exec.provide_cluster_info = true;
        let info = exec_plugin(&exec, &cluster).cluster.expect("cluster info");
        assert_eq!(
            info,
            serde_json::json!({
                "server": "https://10.0.0.1:6443",
                "certificate-authority-data": "Q0E=",
                "config": {"audience": "k8s"},
            })
        );
    }

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

    /// A scratch directory with a service account (`sa/`) and kubeconfig files.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("kubeclient-infer-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("sa")).expect("scratch dir");
            std::fs::write(dir.join("sa/token"), "sa-token").expect("token");
            std::fs::write(dir.join("sa/ca.crt"), "CA").expect("ca");
            std::fs::write(dir.join("sa/namespace"), "pod-ns").expect("namespace");
            Scratch(dir)
        }

        fn service_account(&self) -> ServiceAccountFiles {
            ServiceAccountFiles::in_dir(self.0.join("sa"))
        }

        fn kubeconfig(&self, name: &str, namespace: &str) -> PathBuf {
            let path = self.0.join(name);
            let text = format!(
                "clusters: [{{name: c, cluster: {{server: 'https://{name}.example'}}}}]\n\
                 users: [{{name: u, user: {{token: t}}}}]\n\
                 contexts: [{{name: {name}, context: {{cluster: c, user: u, namespace: '{namespace}'}}}}]\n\
                 current-context: {name}\n"
            );
            std::fs::write(&path, text).expect("kubeconfig");
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn in_a_pod(name: &str) -> Option<String> {
        match name {
            "KUBERNETES_SERVICE_HOST" => Some("10.0.0.1".into()),
            "KUBERNETES_SERVICE_PORT" => Some("6443".into()),
            _ => None,
        }
    }

    fn outside(_: &str) -> Option<String> {
        None
    }

    fn source_of(result: Result<Inferred, RestConfigError>) -> (String, String, String) {
        let inferred = result.expect("configuration inferred");
        let source = match inferred.source {
            Source::InCluster => "in-cluster".to_string(),
            Source::Kubeconfig { context } => context,
        };
        (source, inferred.config.host.to_string(), inferred.namespace)
    }

    #[test]
    fn any_kubeconfig_that_selects_a_context_wins_over_in_cluster() {
        let dir = Scratch::new("kubeconfig-wins");
        let sa = dir.service_account();
        let explicit = dir.kubeconfig("explicit", "flag-ns");
        let listed = dir.kubeconfig("listed", "");
        let env_list = std::env::join_paths([&listed]).ok();
        let home = dir.0.join("home");
        std::fs::create_dir_all(home.join(".kube")).expect("home");
        std::fs::copy(
            dir.kubeconfig("homefile", "home-ns"),
            home.join(".kube/config"),
        )
        .expect("home config");

        // --kubeconfig, inside a pod.
        let rules = LoadingRules::from_env_values(env_list.clone(), Some(home.clone()))
            .with_explicit_path(&explicit);
        assert_eq!(
            source_of(infer_from(&rules, in_a_pod, &sa)),
            (
                "explicit".into(),
                "https://explicit.example/".into(),
                "flag-ns".into()
            )
        );
        // KUBECONFIG, inside a pod: the context names no namespace, so the pod's is used.
        let rules = LoadingRules::from_env_values(env_list, Some(home.clone()));
        assert_eq!(
            source_of(infer_from(&rules, in_a_pod, &sa)),
            (
                "listed".into(),
                "https://listed.example/".into(),
                "pod-ns".into()
            )
        );
        // POD_NAMESPACE comes before the service account's file.
        let with_pod_namespace = |name: &str| match name {
            "POD_NAMESPACE" => Some("env-ns".to_string()),
            other => in_a_pod(other),
        };
        assert_eq!(
            source_of(infer_from(&rules, with_pod_namespace, &sa)).2,
            "env-ns"
        );
        // Outside a pod the same context's namespace is `default`.
        assert_eq!(source_of(infer_from(&rules, outside, &sa)).2, "default");
        // ~/.kube/config, inside a pod.
        let rules = LoadingRules::from_env_values(None, Some(home));
        assert_eq!(
            source_of(infer_from(&rules, in_a_pod, &sa)),
            (
                "homefile".into(),
                "https://homefile.example/".into(),
                "home-ns".into()
            )
        );
    }

    #[test]
    fn in_cluster_only_when_no_kubeconfig_selects_anything() {
        let dir = Scratch::new("in-cluster");
        let sa = dir.service_account();
        let nowhere = LoadingRules::from_env_values(None, Some(dir.0.join("no-home")));
        assert_eq!(
            source_of(infer_from(&nowhere, in_a_pod, &sa)),
            (
                "in-cluster".into(),
                "https://10.0.0.1:6443/".into(),
                "pod-ns".into()
            )
        );
        // An explicit file that exists but selects nothing: in-cluster too, as client-go.
        let empty = dir.0.join("empty");
        std::fs::write(&empty, "").expect("empty file");
        let rules = LoadingRules::default().with_explicit_path(&empty);
        assert_eq!(source_of(infer_from(&rules, in_a_pod, &sa)).0, "in-cluster");

        // Not in a pod, or no token mounted: the empty-config error.
        for (env, sa) in [
            (outside as fn(&str) -> Option<String>, sa),
            (in_a_pod, ServiceAccountFiles::in_dir(dir.0.join("no-sa"))),
        ] {
            let err = infer_from(&nowhere, env, &sa).expect_err("nothing configured");
            assert!(
                matches!(
                    err,
                    RestConfigError::Kubeconfig(KubeconfigError::EmptyConfig)
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn a_broken_kubeconfig_is_an_error_in_a_pod_too() {
        let dir = Scratch::new("broken");
        let sa = dir.service_account();
        let missing = dir.0.join("missing");
        let rules = LoadingRules::default().with_explicit_path(&missing);
        let err = infer_from(&rules, in_a_pod, &sa).expect_err("explicit file missing");
        assert!(
            matches!(
                err,
                RestConfigError::Kubeconfig(KubeconfigError::ExplicitFileMissing { .. })
            ),
            "{err:?}"
        );
        let dangling = dir.0.join("dangling");
        std::fs::write(&dangling, "current-context: gone\n").expect("dangling");
        let rules = LoadingRules::default().with_explicit_path(&dangling);
        let err = infer_from(&rules, in_a_pod, &sa).expect_err("missing context");
        assert!(err.to_string().contains("\"gone\""), "{err}");
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
