//! [`Resource`] for every `k8s-openapi` type with object metadata (feature `k8s-openapi`): the
//! only place kubeclient's resource trait meets `k8s-openapi`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

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
