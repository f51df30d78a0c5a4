//! Discovery, as client-go's `discovery`, `discovery/cached` and `restmapper`: what API groups,
//! versions and resources a server offers, cached in memory and on disk the way kubectl caches
//! them, and a [`RestMapper`] that turns what a user types (`deploy`, `deployments.apps`,
//! `Deployment`, a CRD's short name) into a resource to call.
//!
//! ```no_run
//! # async fn demo(config: kubeclient::rest::Config) -> Result<(), kubeclient::discovery::Error> {
//! use kubeclient::discovery::{DiscoveryClient, DiskCache};
//!
//! let discovery = DiscoveryClient::new(&config)?
//!     .with_disk_cache(DiskCache::kubectl_default(&config.host));
//! println!("server {}", discovery.server_version().await?.git_version);
//! let mapping = discovery.resolve("deploy").await?;
//! assert_eq!(mapping.resource.to_string(), "deployments.v1.apps");
//! # Ok(()) }
//! ```
//!
//! - [`DiscoveryClient::discover`] asks for aggregated discovery (`apidiscovery.k8s.io/v2`,
//!   two requests for the whole server) and falls back to the legacy documents (`/api`,
//!   `/apis`, then one request per group version) when the server answers in the old format;
//!   [`DiscoveryClient::legacy_only`] forces the legacy path. Group versions that cannot be
//!   discovered (a stale aggregated API, a failing legacy request) are reported in
//!   [`Discovery::failed`] rather than failing the whole discovery, as client-go's
//!   `ErrGroupDiscoveryFailed` does; [`Discovery::ensure_complete`] turns them into an error.
//! - The result is kept in memory until [`DiscoveryClient::invalidate`]; with a
//!   [`DiskCache`] it is also written in kubectl's layout and format (so kubectl and kubeclient
//!   can share `~/.kube/cache/discovery`) and reused for the cache's TTL (6 hours by default,
//!   as kubectl).
//! - [`RestMapper`] follows client-go's `PriorityRESTMapper` over discovery, with the
//!   short-name expansion of `restmapper.shortcutExpander` and kubectl's argument parsing.

mod client;
mod disk;
mod mapper;

pub use client::{DEFAULT_BURST, DEFAULT_QPS, DEFAULT_TIMEOUT, DiscoveryClient};
pub use disk::{DEFAULT_TTL, DiskCache, cache_dir_for_host, default_cache_root};
pub use kubeclient_core::discovery::GroupDiscoveryFailed;
pub use kubeclient_core::discovery::{
    ApiGroup, ApiResource, ApiSubresource, Discovery, GroupKind, GroupResource, GroupVersion,
    GroupVersionKind, GroupVersionResource, Info, InvalidGroupVersion, Scope,
};
pub use mapper::{RestMapper, RestMapping};

use crate::rest;

/// What can go wrong in discovery and REST mapping.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A discovery request failed.
    #[error("discovery: {0}")]
    Request(#[from] rest::Error),
    /// A discovery document is not what was expected. The reason gives the position, never
    /// the content.
    #[error("discovery: decoding {path}: {reason}")]
    Decode {
        /// The path the document came from.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Some group versions could not be discovered (client-go's `ErrGroupDiscoveryFailed`).
    #[error(transparent)]
    GroupDiscoveryFailed(#[from] GroupDiscoveryFailed),
    /// A group version string is not `version` or `group/version`.
    #[error(transparent)]
    InvalidGroupVersion(#[from] InvalidGroupVersion),
    /// Nothing the server offers matches the input.
    #[error("the server doesn't have a resource type {input:?}{}", did_you_mean(.suggestions))]
    NotFound {
        /// What was asked for.
        input: String,
        /// Close names the server does offer (plural resources qualified by their group).
        suggestions: Vec<String>,
    },
    /// The input matches more than one resource or kind and priority cannot pick one.
    #[error("{input:?} matches more than one resource: {}", .candidates.join(", "))]
    Ambiguous {
        /// What was asked for.
        input: String,
        /// Every match.
        candidates: Vec<String>,
    },
}

fn did_you_mean(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", names.join(", "))
    }
}

impl Error {
    /// Whether the input matched nothing (client-go's `meta.IsNoMatchError`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}
