//! Configuration: kubeconfig files (client-go's `tools/clientcmd`) and, alongside, in-cluster
//! configuration and credentials.
//!
//! The kubeconfig half, from file to effective settings:
//!
//! 1. [`LoadingRules`] pick the files — `--kubeconfig`, else every file of `KUBECONFIG`, else
//!    `~/.kube/config` — and [`LoadingRules::load`] merges them into one [`Kubeconfig`] with
//!    client-go's rules (the first file to define a name wins), resolving relative paths
//!    against the file they appear in and recording each entry's file.
//! 2. [`ConfigOverrides`] carry kubectl's global flags (`--context`, `--cluster`, `--user`,
//!    `--namespace`, `--server`, `--token`, …).
//! 3. [`ClientConfig::resolve`] applies them with client-go's precedence and yields a
//!    [`ResolvedConfig`]: the context name, the effective [`Cluster`], [`AuthInfo`] and
//!    namespace, and with [`ResolvedConfig::to_kubeconfig`] the minified kubeconfig
//!    (`kubectl config view --minify`), which [`Kubeconfig::flatten`] makes self-contained.
//!
//! ```no_run
//! use kubeclient::config::{ClientConfig, ConfigOverrides, LoadingRules};
//!
//! # fn main() -> Result<(), kubeclient::config::KubeconfigError> {
//! let rules = LoadingRules::from_env();
//! let overrides = ConfigOverrides::default().with_namespace("kube-system");
//! let resolved = ClientConfig::load(&rules, overrides)?.resolve()?;
//! println!("{} at {} in {}", resolved.context_name, resolved.cluster.server, resolved.namespace);
//! # Ok(())
//! # }
//! ```
//!
//! Kubeconfig files are changed (`write_current_context`, the OIDC token write-back) under
//! kubectl's lock, `<file>.lock`: see [`Kubeconfig::update_file`].
//!
//! Configuration sits above [`rest`](crate::rest) and below everything else: it reads and
//! writes kubeconfig files and the in-cluster settings, and turns them into a
//! [`rest::Config`](crate::rest::Config) ([`infer`], [`from_resolved`], [`from_in_cluster`]).
//! It does no network I/O and starts no processes: a user's token file, exec plugin or OIDC
//! provider becomes one of the credential sources of [`rest::auth`](crate::rest::auth), which
//! the transport calls; refreshed OIDC tokens come back through [`KubeconfigPersister`].
//! Secrets are held in [`Secret`] and
//! never appear in `Debug` output or error messages; neither does a user name or password in a
//! server, proxy or issuer URL (masked as `xxxxx`, as Go's `url.URL.Redacted` does).

mod client_config;
mod error;
pub mod incluster;
mod loader;
mod lock;
mod model;
mod parse;
mod persist;
mod rest_config;
mod serde_util;
mod view;
mod write;

pub use crate::secret::{REDACTED_PLACEHOLDER, Secret};
pub use client_config::{ClientConfig, ConfigOverrides, DEFAULT_NAMESPACE, ResolvedConfig};
pub use error::KubeconfigError;
pub use loader::{KUBECONFIG_ENV, LoadingRules, home_dir, resolve_local_paths};
pub use model::{
    AuthInfo, AuthProviderConfig, Cluster, Context, ExecConfig, ExecEnvVar, Kubeconfig,
    NamedAuthInfo, NamedCluster, NamedContext, NamedExtension, Preferences, UnknownFields,
};
pub use parse::INLINE_SOURCE;
pub use persist::KubeconfigPersister;
pub use rest_config::{
    Inferred, RestConfigError, Source, from_in_cluster, from_resolved, infer, infer_with,
};
pub use view::{DATA_OMITTED, REDACTED};
pub use write::{current_context_file, write_atomic, write_current_context};
