//! [`Resource`] for every `k8s-openapi` type with object metadata: the only place kubeclient's
//! clients meet `k8s-openapi` (feature `k8s-openapi`). A switch to other built-in types
//! replaces this file and the generated accessors, nothing else.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::resource::{ClusterScoped, Namespaced, Resource, Scope};

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

/// `pods/log` on a Pod client.
impl super::Client<k8s_openapi::api::core::v1::Pod> {
    /// The pod's log as a stream of bytes (with `follow`, it stays open).
    pub async fn logs(
        &self,
        name: &str,
        params: &super::LogParams,
    ) -> Result<
        impl futures_util::Stream<Item = Result<bytes::Bytes, crate::rest::Error>> + use<>,
        crate::rest::Error,
    > {
        self.stream_subresource(name, "log", params).await
    }
}
