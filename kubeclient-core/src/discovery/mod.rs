//! Discovery's data: group/version/kind/resource names, the server's version, what discovery
//! found ([`Discovery`]), and the discovery documents on the wire ([`wire`]: the legacy and the
//! aggregated format, decoded and encoded). kubeclient's `discovery` module fetches and caches
//! them.

mod types;
pub mod wire;

pub use types::{
    ApiGroup, ApiResource, ApiSubresource, Discovery, GroupKind, GroupResource, GroupVersion,
    GroupVersionKind, GroupVersionResource, Info, Scope,
};

/// A group version string that is neither `version` nor `group/version`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid group version {0:?}: expected \"version\" or \"group/version\"")]
pub struct InvalidGroupVersion(pub String);

/// Some group versions could not be discovered (client-go's `ErrGroupDiscoveryFailed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to retrieve the complete list of server APIs: {}", failed_list(.failed))]
pub struct GroupDiscoveryFailed {
    /// Each failed group version and why.
    pub failed: Vec<(GroupVersion, String)>,
}

fn failed_list(failed: &[(GroupVersion, String)]) -> String {
    failed
        .iter()
        .map(|(gv, reason)| format!("{gv}: {reason}"))
        .collect::<Vec<_>>()
        .join("; ")
}
