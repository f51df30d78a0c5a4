//! [`Resource`] for every `k8s-openapi` type with object metadata (feature `k8s-openapi`), and
//! conversions between `k8s-openapi`'s types and kubeclient's generated ones: the only place
//! kubeclient meets `k8s-openapi`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::primitives::TypeInfo;
use crate::resource::{ClusterScoped, Namespaced, Resource, Scope};

/// Maps `k8s-openapi`'s scope markers to kubeclient's.
pub trait OpenApiScope {
    /// The kubeclient scope.
    type Scope: Scope;
}

impl OpenApiScope for k8s_openapi::NamespaceResourceScope {
    type Scope = Namespaced;
}

impl OpenApiScope for k8s_openapi::ClusterResourceScope {
    type Scope = ClusterScoped;
}

impl<K> Resource for K
where
    K: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + Send
        + Sync
        + 'static,
    K::Scope: OpenApiScope,
{
    const GROUP: &'static str = <K as k8s_openapi::Resource>::GROUP;
    const VERSION: &'static str = <K as k8s_openapi::Resource>::VERSION;
    const KIND: &'static str = <K as k8s_openapi::Resource>::KIND;
    const PLURAL: &'static str = <K as k8s_openapi::Resource>::URL_PATH_SEGMENT;
    type Scope = <<K as k8s_openapi::Resource>::Scope as OpenApiScope>::Scope;

    fn name(&self) -> Option<&str> {
        self.metadata().name.as_deref()
    }

    fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    fn resource_version(&self) -> Option<&str> {
        self.metadata().resource_version.as_deref()
    }

    fn uid(&self) -> Option<&str> {
        self.metadata().uid.as_deref()
    }

    fn labels(&self) -> Option<&std::collections::BTreeMap<String, String>> {
        self.metadata().labels.as_ref()
    }
}

/// Why a conversion between a `k8s-openapi` type and a generated type failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// The two types are not the same kind.
    #[error("{from} is not {to}")]
    KindMismatch {
        /// `apiVersion kind` of the value.
        from: String,
        /// `apiVersion kind` asked for.
        to: String,
    },
    /// The value does not fit the other type (a number out of range, say).
    #[error("converting {kind}: {reason}")]
    Invalid {
        /// `apiVersion kind`.
        kind: String,
        /// What did not fit (no values from the object).
        reason: String,
    },
}

fn same_kind<K: k8s_openapi::Resource, T: TypeInfo>() -> Result<String, ConversionError> {
    let openapi = format!("{} {}", K::API_VERSION, K::KIND);
    let ours = format!("{} {}", T::API_VERSION, T::KIND);
    if openapi == ours {
        Ok(ours)
    } else {
        Err(ConversionError::KindMismatch {
            from: openapi,
            to: ours,
        })
    }
}

fn through_json<A: serde::Serialize, B: serde::de::DeserializeOwned>(
    kind: String,
    value: &A,
) -> Result<B, ConversionError> {
    let invalid = |e: serde_json::Error| ConversionError::Invalid {
        kind: kind.clone(),
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    };
    let json = serde_json::to_vec(value).map_err(invalid)?;
    serde_json::from_slice(&json).map_err(invalid)
}

/// Converts a `k8s-openapi` object (kube-rs's types) into kubeclient's generated type of the
/// same kind, e.g. `k8s_openapi::api::core::v1::Pod` into `kubeclient_core::api::core::v1::Pod`.
/// Both are written in the API's JSON form, and the conversion goes through it, so nothing is
/// lost either way; a different kind is an error. Works with whichever Kubernetes version you
/// select for `k8s-openapi`.
pub fn from_openapi<T, K>(object: &K) -> Result<T, ConversionError>
where
    K: k8s_openapi::Resource + serde::Serialize,
    T: TypeInfo + serde::de::DeserializeOwned,
{
    through_json(same_kind::<K, T>()?, object)
}

/// Converts kubeclient's generated type into the `k8s-openapi` type of the same kind: the
/// reverse of [`from_openapi`].
pub fn to_openapi<K, T>(object: &T) -> Result<K, ConversionError>
where
    K: k8s_openapi::Resource + serde::de::DeserializeOwned,
    T: TypeInfo + serde::Serialize,
{
    through_json(same_kind::<K, T>()?, object)
}
