//! The dynamic and metadata clients (client-go's `dynamic` and `metadata`): any resource,
//! named by its group, version and resource at run time (from discovery, typically), served
//! by the same generic [`Client`] as typed resources.
//!
//! - [`DynamicClient`] reads and writes [`DynamicObject`]s: unstructured JSON with typed access
//!   to the metadata.
//! - [`MetadataClient`] asks the server for `PartialObjectMetadata` only (the `Accept` header
//!   `as=PartialObjectMetadata`): names, labels, owners and versions without the bodies, which
//!   is what controllers that only track existence need.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Target;
use crate::client::{Client, Object, ObjectMeta};
use crate::discovery::{GroupVersionResource, RestMapping, Scope};
use crate::rest::RestClient;

/// An object of any kind, as JSON, with typed access to its metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DynamicObject(pub Value);

impl DynamicObject {
    fn meta_str(&self, field: &str) -> Option<&str> {
        self.0.get("metadata")?.get(field)?.as_str()
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> Option<&str> {
        self.0.get("apiVersion")?.as_str()
    }

    /// `kind`.
    pub fn kind(&self) -> Option<&str> {
        self.0.get("kind")?.as_str()
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.meta_str("name")
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.meta_str("namespace")
    }

    /// `metadata.resourceVersion`.
    pub fn resource_version(&self) -> Option<&str> {
        self.meta_str("resourceVersion")
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> Option<&str> {
        self.meta_str("uid")
    }

    /// `metadata.labels` (empty when there are none or they are not strings).
    pub fn labels(&self) -> BTreeMap<String, String> {
        self.0
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object)
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Object for DynamicObject {
    fn object_name(&self) -> Option<&str> {
        self.name()
    }

    fn object_namespace(&self) -> Option<&str> {
        self.namespace()
    }

    fn object_resource_version(&self) -> Option<&str> {
        self.resource_version()
    }

    fn object_uid(&self) -> Option<&str> {
        self.uid()
    }

    fn object_label(&self, key: &str) -> Option<&str> {
        self.0.get("metadata")?.get("labels")?.get(key)?.as_str()
    }
}

/// `metav1.PartialObjectMetadata`: an object's type and metadata, without spec or status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialObjectMetadata {
    /// `apiVersion` (`meta.k8s.io/v1`, as the server answers).
    #[serde(default)]
    pub api_version: String,
    /// `kind` (`PartialObjectMetadata`).
    #[serde(default)]
    pub kind: String,
    /// The object's metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl Object for PartialObjectMetadata {
    fn object_name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    fn object_namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    fn object_resource_version(&self) -> Option<&str> {
        self.metadata.resource_version.as_deref()
    }

    fn object_uid(&self) -> Option<&str> {
        self.metadata.uid.as_deref()
    }

    fn object_label(&self, key: &str) -> Option<&str> {
        self.metadata.labels.get(key).map(String::as_str)
    }
}

fn target(gvr: &GroupVersionResource, namespaced: bool, namespace: Option<&str>) -> Target {
    Target {
        api_version: gvr.group_version().to_string(),
        plural: gvr.resource.clone(),
        kind: gvr.resource.clone(),
        namespaced,
        namespace: namespace.map(str::to_string),
        metadata_only: false,
    }
}

/// Clients for any resource, with unstructured objects.
#[derive(Debug, Clone)]
pub struct DynamicClient {
    rest: RestClient,
}

impl DynamicClient {
    /// A dynamic client over `rest`.
    pub fn new(rest: RestClient) -> Self {
        DynamicClient { rest }
    }

    /// `gvr` in one namespace (namespaced resources).
    pub fn namespaced(&self, gvr: &GroupVersionResource, namespace: &str) -> Client<DynamicObject> {
        Client::for_target(self.rest.clone(), target(gvr, true, Some(namespace)))
    }

    /// `gvr` cluster-wide: a cluster-scoped resource, or a namespaced one across all
    /// namespaces (lists and watches).
    pub fn cluster(&self, gvr: &GroupVersionResource, namespaced: bool) -> Client<DynamicObject> {
        Client::for_target(self.rest.clone(), target(gvr, namespaced, None))
    }

    /// The resource of a RESTMapper mapping, in `namespace` when it is namespaced.
    pub fn for_mapping(
        &self,
        mapping: &RestMapping,
        namespace: Option<&str>,
    ) -> Client<DynamicObject> {
        let namespaced = mapping.scope == Scope::Namespaced;
        let mut t = target(
            &mapping.resource,
            namespaced,
            if namespaced { namespace } else { None },
        );
        t.kind = mapping.kind.kind.clone();
        Client::for_target(self.rest.clone(), t)
    }
}

/// Clients for any resource that read only metadata ([`PartialObjectMetadata`]).
#[derive(Debug, Clone)]
pub struct MetadataClient {
    rest: RestClient,
}

impl MetadataClient {
    /// A metadata client over `rest`.
    pub fn new(rest: RestClient) -> Self {
        MetadataClient { rest }
    }

    /// `gvr` in one namespace.
    pub fn namespaced(
        &self,
        gvr: &GroupVersionResource,
        namespace: &str,
    ) -> Client<PartialObjectMetadata> {
        let mut t = target(gvr, true, Some(namespace));
        t.metadata_only = true;
        Client::for_target(self.rest.clone(), t)
    }

    /// `gvr` cluster-wide (cluster-scoped, or all namespaces for lists and watches).
    pub fn cluster(
        &self,
        gvr: &GroupVersionResource,
        namespaced: bool,
    ) -> Client<PartialObjectMetadata> {
        let mut t = target(gvr, namespaced, None);
        t.metadata_only = true;
        Client::for_target(self.rest.clone(), t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_objects_expose_their_metadata() {
        let obj = DynamicObject(serde_json::json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "ns", "resourceVersion": "7", "uid": "u",
                         "labels": {"a": "1", "bad": 2}},
        }));
        assert_eq!(obj.name(), Some("w"));
        assert_eq!(obj.namespace(), Some("ns"));
        assert_eq!(obj.resource_version(), Some("7"));
        assert_eq!(obj.uid(), Some("u"));
        assert_eq!(obj.api_version(), Some("example.com/v1"));
        assert_eq!(obj.kind(), Some("Widget"));
        assert_eq!(
            obj.labels(),
            BTreeMap::from([("a".to_string(), "1".to_string())])
        );
        let empty = DynamicObject(serde_json::json!("not an object"));
        assert_eq!(empty.name(), None);
        assert!(empty.labels().is_empty());
    }
}
