//! [`ConfigOverrides`] and [`ClientConfig`]: kubectl's global flags applied on top of a
//! merged kubeconfig, as client-go's `ConfigOverrides` + `DirectClientConfig`, giving the
//! effective context, cluster, user and namespace ([`ResolvedConfig`]).
//!
//! Precedence (client-go's `client_config.go`):
//! - context: `--context`, else `current-context`;
//! - cluster / user names: `--cluster` / `--user`, else the context's;
//! - cluster fields: `cluster_defaults`, then the kubeconfig's cluster, then overrides (each
//!   non-empty field wins). `--insecure-skip-tls-verify` or a `--certificate-authority`
//!   replaces the CA settings and the skip flag together; `--tls-server-name` or `--server`
//!   replaces `tls-server-name` (so `--server` alone clears it);
//! - user fields: the kubeconfig's user, then overrides; a client certificate or key given
//!   as an override replaces both the file and the `-data` form of that item;
//! - namespace: `--namespace`, else the context's, else `default`.
//!
//! Missing entries: a context, cluster or user named by an override must exist, as in
//! client-go. A current context that does not exist is an error too (client-go's
//! `ConfirmUsable`), listing the contexts that do. A cluster named by the context must exist
//! unless `--server` is given (client-go then fails with "no server found"). A user named by
//! the context must exist: here kubeclient is stricter than client-go, which silently goes on
//! without credentials; that dangling reference is almost always a mistake, and kubectl's
//! own `config view --minify` rejects it the same way.

use std::path::PathBuf;

use super::error::KubeconfigError;
use super::loader::LoadingRules;
use super::model::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// The namespace used when neither the flags nor the context name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Values that take precedence over the kubeconfig, as kubectl's global flags
/// (client-go's `ConfigOverrides`). Empty means "not overridden".
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConfigOverrides {
    /// `--context`.
    pub current_context: String,
    /// `--cluster` (`cluster`), `--user` (`user`), `--namespace` (`namespace`).
    pub context: Context,
    /// `--server`, `--tls-server-name`, `--insecure-skip-tls-verify`,
    /// `--certificate-authority`, `--proxy-url`, `--disable-compression`.
    pub cluster_info: Cluster,
    /// Cluster values used when the kubeconfig has none (below the kubeconfig in priority).
    pub cluster_defaults: Cluster,
    /// `--token`, `--client-certificate`, `--client-key`, `--username`, `--password`, `--as`,
    /// `--as-uid`, `--as-group`, `--as-user-extra`.
    pub auth_info: AuthInfo,
}

impl ConfigOverrides {
    /// Uses context `name` instead of `current-context`.
    #[must_use]
    pub fn with_context(mut self, name: impl Into<String>) -> Self {
        self.current_context = name.into();
        self
    }

    /// Uses cluster `name` instead of the context's.
    #[must_use]
    pub fn with_cluster(mut self, name: impl Into<String>) -> Self {
        self.context.cluster = name.into();
        self
    }

    /// Uses user `name` instead of the context's.
    #[must_use]
    pub fn with_user(mut self, name: impl Into<String>) -> Self {
        self.context.user = name.into();
        self
    }

    /// Uses namespace `namespace` instead of the context's.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.context.namespace = namespace.into();
        self
    }

    /// Uses `server` as the API server URL.
    #[must_use]
    pub fn with_server(mut self, server: impl Into<String>) -> Self {
        self.cluster_info.server = server.into();
        self
    }
}

/// A merged kubeconfig plus overrides: client-go's `DirectClientConfig`.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    config: Kubeconfig,
    overrides: ConfigOverrides,
}

/// The effective configuration: which context, cluster and user, with every override applied.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResolvedConfig {
    /// The chosen context's name (empty when there is none, e.g. only `--server` given).
    pub context_name: String,
    /// The context, with `--cluster`/`--user`/`--namespace` applied.
    pub context: Context,
    /// The file the context came from.
    pub context_origin: Option<PathBuf>,
    /// The cluster's name.
    pub cluster_name: String,
    /// The effective cluster.
    pub cluster: Cluster,
    /// The file the cluster came from (relative paths in it are resolved against it).
    pub cluster_origin: Option<PathBuf>,
    /// The user's name.
    pub user_name: String,
    /// The effective credentials.
    pub auth_info: AuthInfo,
    /// The file the user came from (where refreshed tokens are written back).
    pub user_origin: Option<PathBuf>,
    /// The effective namespace (`default` when none is set).
    pub namespace: String,
    /// Whether the namespace came from an override (`--namespace`).
    pub namespace_overridden: bool,
}

impl ClientConfig {
    /// Wraps a merged kubeconfig and the overrides to apply to it.
    pub fn new(config: Kubeconfig, overrides: ConfigOverrides) -> Self {
        ClientConfig { config, overrides }
    }

    /// Loads the files named by `rules`, then applies `overrides`.
    pub fn load(rules: &LoadingRules, overrides: ConfigOverrides) -> Result<Self, KubeconfigError> {
        Ok(ClientConfig::new(rules.load()?, overrides))
    }

    /// The merged kubeconfig, without overrides (client-go's `RawConfig`).
    pub fn raw(&self) -> &Kubeconfig {
        &self.config
    }

    /// The overrides.
    pub fn overrides(&self) -> &ConfigOverrides {
        &self.overrides
    }

    /// The chosen context's name: `--context`, else `current-context`.
    pub fn context_name(&self) -> &str {
        if self.overrides.current_context.is_empty() {
            &self.config.current_context
        } else {
            &self.overrides.current_context
        }
    }

    /// The effective namespace and whether it was overridden. Like client-go, an overridden
    /// namespace is returned even when the rest of the configuration is unusable.
    pub fn namespace(&self) -> Result<(String, bool), KubeconfigError> {
        if !self.overrides.context.namespace.is_empty() {
            return Ok((self.overrides.context.namespace.clone(), true));
        }
        let resolved = self.resolve()?;
        Ok((resolved.namespace, false))
    }

    fn context_entry(&self) -> Result<Option<&NamedContext>, KubeconfigError> {
        let name = self.context_name();
        if name.is_empty() {
            return Ok(None);
        }
        match self.config.context(name) {
            Some(c) => Ok(Some(c)),
            None => {
                let mut available = self.config.context_names();
                available.sort();
                Err(KubeconfigError::ContextNotFound {
                    name: name.to_string(),
                    available,
                })
            }
        }
    }

    /// The effective context, cluster, user and namespace. Precedence, as client-go: the
    /// overrides, then the kubeconfig (with `cluster_defaults` below it); the namespace
    /// defaults to `default`. A context, cluster or user that is named but missing is an
    /// error, except a missing cluster when `--server` is given. (client-go ignores a missing
    /// user named by the kubeconfig's own context and goes on without credentials; kubeclient
    /// reports it, as `kubectl config view --minify` does.)
    pub fn resolve(&self) -> Result<ResolvedConfig, KubeconfigError> {
        let overrides = &self.overrides;
        let entry = self.context_entry()?;
        let context_name = self.context_name().to_string();
        let context_origin = entry.and_then(|e| e.origin.clone());
        let mut context = entry.map(|e| e.context.clone()).unwrap_or_default();
        context.merge_from(&overrides.context);

        // The cluster.
        let cluster_name = context.cluster.clone();
        let cluster_entry: Option<&NamedCluster> = self.config.cluster(&cluster_name);
        let cluster_overridden = !overrides.context.cluster.is_empty();
        if !cluster_name.is_empty()
            && cluster_entry.is_none()
            && (cluster_overridden || overrides.cluster_info.server.is_empty())
        {
            return Err(KubeconfigError::ClusterNotFound {
                name: cluster_name,
                context: (!cluster_overridden).then(|| context_name.clone()),
                origin: if cluster_overridden {
                    None
                } else {
                    context_origin.clone()
                },
            });
        }
        let mut cluster = overrides.cluster_defaults.clone();
        if let Some(e) = cluster_entry {
            cluster.merge_from(&e.cluster);
        }
        cluster.merge_from(&overrides.cluster_info);
        let o = &overrides.cluster_info;
        if o.insecure_skip_tls_verify
            || !o.certificate_authority.is_empty()
            || !o.certificate_authority_data.is_empty()
        {
            cluster.insecure_skip_tls_verify = o.insecure_skip_tls_verify;
            cluster
                .certificate_authority
                .clone_from(&o.certificate_authority);
            cluster
                .certificate_authority_data
                .clone_from(&o.certificate_authority_data);
        }
        if !o.tls_server_name.is_empty() || !o.server.is_empty() {
            cluster.tls_server_name.clone_from(&o.tls_server_name);
        }
        let cluster_origin = cluster_entry.and_then(|e| e.origin.clone());
        if cluster.server.is_empty() {
            return Err(if cluster_name.is_empty() {
                KubeconfigError::EmptyConfig
            } else {
                KubeconfigError::NoServer {
                    cluster: cluster_name,
                    origin: cluster_origin,
                }
            });
        }

        // The user.
        let user_name = context.user.clone();
        let user_entry: Option<&NamedAuthInfo> = self.config.user(&user_name);
        if !user_name.is_empty() && user_entry.is_none() {
            let user_overridden = !overrides.context.user.is_empty();
            return Err(KubeconfigError::UserNotFound {
                name: user_name,
                context: (!user_overridden).then(|| context_name.clone()),
                origin: if user_overridden {
                    None
                } else {
                    context_origin.clone()
                },
            });
        }
        let mut auth_info = user_entry.map(|e| e.auth_info.clone()).unwrap_or_default();
        auth_info.merge_from(&overrides.auth_info);
        let a = &overrides.auth_info;
        if !a.client_key.is_empty() || !a.client_key_data.is_empty() {
            auth_info.client_key.clone_from(&a.client_key);
            auth_info.client_key_data = a.client_key_data.clone();
        }
        if !a.client_certificate.is_empty() || !a.client_certificate_data.is_empty() {
            auth_info
                .client_certificate
                .clone_from(&a.client_certificate);
            auth_info
                .client_certificate_data
                .clone_from(&a.client_certificate_data);
        }
        let user_origin = user_entry.and_then(|e| e.origin.clone());

        let namespace_overridden = !overrides.context.namespace.is_empty();
        let namespace = if context.namespace.is_empty() {
            DEFAULT_NAMESPACE.to_string()
        } else {
            context.namespace.clone()
        };
        Ok(ResolvedConfig {
            context_name,
            context,
            context_origin,
            cluster_name,
            cluster,
            cluster_origin,
            user_name,
            auth_info,
            user_origin,
            namespace,
            namespace_overridden,
        })
    }
}

impl ResolvedConfig {
    /// A kubeconfig holding only the effective context, cluster and user, with the overrides
    /// applied (client-go's `MergedRawConfig` followed by `MinifyConfig`, as
    /// `kubectl config view --minify` shows it). Flatten it with [`Kubeconfig::flatten`].
    pub fn to_kubeconfig(&self) -> Kubeconfig {
        let mut out = Kubeconfig {
            kind: "Config".to_string(),
            api_version: "v1".to_string(),
            current_context: self.context_name.clone(),
            ..Kubeconfig::default()
        };
        out.contexts.push(NamedContext {
            name: self.context_name.clone(),
            context: self.context.clone(),
            origin: self.context_origin.clone(),
            ..NamedContext::default()
        });
        if !self.cluster_name.is_empty() {
            out.clusters.push(NamedCluster {
                name: self.cluster_name.clone(),
                cluster: self.cluster.clone(),
                origin: self.cluster_origin.clone(),
                ..NamedCluster::default()
            });
        }
        if !self.user_name.is_empty() {
            out.users.push(NamedAuthInfo {
                name: self.user_name.clone(),
                auth_info: self.auth_info.clone(),
                origin: self.user_origin.clone(),
                ..NamedAuthInfo::default()
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Kubeconfig {
        let yaml = "current-context: dev\n\
            clusters:\n\
            - name: dev-cluster\n  cluster: {server: https://dev, certificate-authority-data: Q0E=, tls-server-name: dev.internal}\n\
            - name: prod-cluster\n  cluster: {server: https://prod}\n\
            users:\n\
            - name: dev-user\n  user: {token: dev-token, client-certificate: /c.crt, client-key-data: S0VZ}\n\
            - name: admin\n  user: {username: root, password: pw}\n\
            contexts:\n\
            - name: dev\n  context: {cluster: dev-cluster, user: dev-user, namespace: team}\n\
            - name: prod\n  context: {cluster: prod-cluster, user: admin}\n\
            - name: dangling\n  context: {cluster: nowhere, user: nobody}\n\
            - name: no-user\n  context: {cluster: prod-cluster, user: ghost}\n";
        let mut c = Kubeconfig::from_slice(yaml.as_bytes()).unwrap_or_default();
        c.set_origin(std::path::Path::new("/home/me/.kube/config"));
        c
    }

    fn resolve(overrides: ConfigOverrides) -> Result<ResolvedConfig, KubeconfigError> {
        ClientConfig::new(config(), overrides).resolve()
    }

    #[test]
    fn current_context_is_the_default() -> Result<(), KubeconfigError> {
        let r = resolve(ConfigOverrides::default())?;
        assert_eq!(r.context_name, "dev");
        assert_eq!(r.cluster_name, "dev-cluster");
        assert_eq!(r.cluster.server, "https://dev");
        assert_eq!(r.auth_info.token.expose_secret(), "dev-token");
        assert_eq!(r.namespace, "team");
        assert!(!r.namespace_overridden);
        assert_eq!(r.user_origin, Some(PathBuf::from("/home/me/.kube/config")));
        Ok(())
    }

    #[test]
    fn overrides_take_precedence() -> Result<(), KubeconfigError> {
        let r = resolve(ConfigOverrides::default().with_context("prod"))?;
        assert_eq!(
            (r.cluster.server.as_str(), r.namespace.as_str()),
            ("https://prod", "default")
        );
        assert_eq!(r.auth_info.username, "root");

        let r = resolve(
            ConfigOverrides::default()
                .with_cluster("prod-cluster")
                .with_user("admin")
                .with_namespace("ns"),
        )?;
        assert_eq!(
            (r.context_name.as_str(), r.cluster_name.as_str()),
            ("dev", "prod-cluster")
        );
        assert_eq!(
            (r.user_name.as_str(), r.namespace.as_str()),
            ("admin", "ns")
        );
        assert!(r.namespace_overridden);

        let mut o = ConfigOverrides::default().with_server("https://other");
        o.auth_info.token = "flag-token".into();
        let r = resolve(o)?;
        assert_eq!(r.cluster.server, "https://other");
        // --server alone clears the kubeconfig's tls-server-name.
        assert_eq!(r.cluster.tls_server_name, "");
        assert_eq!(r.auth_info.token.expose_secret(), "flag-token");
        // CA data is kept unless the CA or the skip flag is overridden.
        assert_eq!(r.cluster.certificate_authority_data, b"CA");
        Ok(())
    }

    #[test]
    fn insecure_and_ca_overrides_replace_ca_settings() -> Result<(), KubeconfigError> {
        let mut o = ConfigOverrides::default();
        o.cluster_info.insecure_skip_tls_verify = true;
        let r = resolve(o)?;
        assert!(r.cluster.insecure_skip_tls_verify);
        assert!(r.cluster.certificate_authority_data.is_empty());
        assert_eq!(r.cluster.tls_server_name, "dev.internal");

        let mut o = ConfigOverrides::default();
        o.auth_info.client_key = "/flag.key".into();
        let r = resolve(o)?;
        assert_eq!(r.auth_info.client_key, "/flag.key");
        assert!(r.auth_info.client_key_data.is_empty());
        assert_eq!(r.auth_info.client_certificate, "/c.crt");
        Ok(())
    }

    #[test]
    fn missing_context_lists_the_existing_ones() {
        for overrides in [
            ConfigOverrides::default().with_context("staging"),
            ConfigOverrides::default(),
        ] {
            let mut c = config();
            if overrides.current_context.is_empty() {
                c.current_context = "staging".into();
            }
            let err = ClientConfig::new(c, overrides).resolve().err();
            let shown = err.as_ref().map(ToString::to_string).unwrap_or_default();
            assert!(
                matches!(err, Some(KubeconfigError::ContextNotFound { .. })),
                "{err:?}"
            );
            assert!(shown.contains("\"staging\""), "{shown}");
            assert!(shown.contains("dangling, dev, no-user, prod"), "{shown}");
        }
    }

    #[test]
    fn missing_cluster_and_user_name_the_context_and_file() {
        let shown = resolve(ConfigOverrides::default().with_context("dangling"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(shown.contains("cluster \"nowhere\""), "{shown}");
        assert!(shown.contains("context \"dangling\""), "{shown}");
        assert!(shown.contains("/home/me/.kube/config"), "{shown}");

        let shown = resolve(ConfigOverrides::default().with_context("no-user"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(shown.contains("user \"ghost\""), "{shown}");

        let shown = resolve(ConfigOverrides::default().with_user("nope"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            shown.contains("user \"nope\"") && shown.contains("override"),
            "{shown}"
        );

        // --server makes a missing cluster usable, as in client-go.
        let r = resolve(
            ConfigOverrides::default()
                .with_context("dangling")
                .with_server("https://s")
                .with_user("admin"),
        );
        assert_eq!(
            r.map(|r| r.cluster.server).ok().as_deref(),
            Some("https://s")
        );
    }

    #[test]
    fn empty_config_needs_a_server() {
        let empty = ClientConfig::new(Kubeconfig::default(), ConfigOverrides::default());
        assert!(matches!(empty.resolve(), Err(KubeconfigError::EmptyConfig)));
        let only_flags = ClientConfig::new(
            Kubeconfig::default(),
            ConfigOverrides::default()
                .with_server("https://x")
                .with_namespace("n"),
        );
        let r = only_flags.resolve();
        assert_eq!(r.map(|r| r.namespace).ok().as_deref(), Some("n"));
        // The namespace override is answered even when nothing else is usable.
        let ns_only = ClientConfig::new(
            Kubeconfig::default(),
            ConfigOverrides::default().with_namespace("q"),
        );
        assert_eq!(ns_only.namespace().ok(), Some(("q".to_string(), true)));
    }

    #[test]
    fn to_kubeconfig_is_minified_with_overrides() -> Result<(), KubeconfigError> {
        let r = resolve(ConfigOverrides::default().with_namespace("flag-ns"))?;
        let k = r.to_kubeconfig();
        assert_eq!(k.current_context, "dev");
        assert_eq!(k.contexts.len(), 1);
        assert_eq!(k.contexts[0].context.namespace, "flag-ns");
        assert_eq!(k.clusters.len(), 1);
        assert_eq!(k.users.len(), 1);
        assert_eq!(k.users[0].name, "dev-user");
        Ok(())
    }
}
