//! The trait every resource type implements to be served by kubeclient's generic typed client: where it
//! lives in the API (group, version, plural), its kind and scope, and access to the metadata
//! the client needs, and its protobuf codec when it has one. kubeclient's generated built-in
//! types ([`api`](crate::api)) implement it, with protobuf; `k8s-openapi`'s types get it with
//! the feature `k8s-openapi`; your own types (custom resources) implement it directly — no code
//! generation step.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::list::{ListMeta, ObjectList};

/// Where objects of a resource live: in a namespace, or cluster-wide.
pub trait Scope: sealed::Sealed + Send + Sync + 'static {
    /// Whether the resource is namespaced.
    const NAMESPACED: bool;
}

/// Marker: the resource lives in namespaces (Pods, Deployments, ConfigMaps, ...).
#[derive(Debug, Clone, Copy)]
pub enum Namespaced {}

/// Marker: the resource is cluster-wide (Namespaces, Nodes, ClusterRoles, ...).
#[derive(Debug, Clone, Copy)]
pub enum ClusterScoped {}

impl Scope for Namespaced {
    const NAMESPACED: bool = true;
}

impl Scope for ClusterScoped {
    const NAMESPACED: bool = false;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Namespaced {}
    impl Sealed for super::ClusterScoped {}
}

/// A Kubernetes resource type.
///
/// ```
/// use std::collections::BTreeMap;
/// use kubeclient_core::resource::{Namespaced, Resource};
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Backup {
///     metadata: kubeclient_core::resource::ObjectMeta,
///     spec: serde_json::Value,
/// }
///
/// impl Resource for Backup {
///     const GROUP: &'static str = "example.com";
///     const VERSION: &'static str = "v1";
///     const KIND: &'static str = "Backup";
///     const PLURAL: &'static str = "backups";
///     type Scope = Namespaced;
///     fn name(&self) -> Option<&str> { self.metadata.name.as_deref() }
///     fn namespace(&self) -> Option<&str> { self.metadata.namespace.as_deref() }
///     fn resource_version(&self) -> Option<&str> { self.metadata.resource_version.as_deref() }
///     fn uid(&self) -> Option<&str> { self.metadata.uid.as_deref() }
///     fn labels(&self) -> Option<&BTreeMap<String, String>> { Some(&self.metadata.labels) }
/// }
/// ```
pub trait Resource: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The API group; empty for the core group.
    const GROUP: &'static str;
    /// The version, e.g. `v1`.
    const VERSION: &'static str;
    /// The kind, e.g. `Deployment`.
    const KIND: &'static str;
    /// The resource name in URLs: lower-case plural, e.g. `deployments`.
    const PLURAL: &'static str;
    /// [`Namespaced`] or [`ClusterScoped`].
    type Scope: Scope;

    /// `metadata.name`.
    fn name(&self) -> Option<&str>;
    /// `metadata.namespace`.
    fn namespace(&self) -> Option<&str>;
    /// `metadata.resourceVersion`.
    fn resource_version(&self) -> Option<&str>;
    /// `metadata.uid`.
    fn uid(&self) -> Option<&str>;
    /// `metadata.labels` (what label selectors in caches and listers match against).
    fn labels(&self) -> Option<&BTreeMap<String, String>>;

    /// How the type is read and written in protobuf, when it can be (the generated built-in
    /// types can; custom resources cannot, as the API server serves them in JSON only). A
    /// typed client that prefers protobuf uses it.
    fn protobuf() -> Option<crate::protobuf::Codec<Self>> {
        None
    }

    /// `group/version`, or `version` for the core group (the `apiVersion` field).
    fn api_version() -> String {
        if Self::GROUP.is_empty() {
            Self::VERSION.to_string()
        } else {
            format!("{}/{}", Self::GROUP, Self::VERSION)
        }
    }
}

/// The five metadata accessors of [`Resource`] (`name`, `namespace`, `resource_version`,
/// `uid`, `labels`) for a type whose `metadata` field is an [`ObjectMeta`]; use it inside the
/// `impl Resource` block:
///
/// ```
/// use kubeclient_core::resource::{Namespaced, ObjectMeta, Resource};
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Backup {
///     metadata: ObjectMeta,
///     spec: serde_json::Value,
/// }
///
/// impl Resource for Backup {
///     const GROUP: &'static str = "example.com";
///     const VERSION: &'static str = "v1";
///     const KIND: &'static str = "Backup";
///     const PLURAL: &'static str = "backups";
///     type Scope = Namespaced;
///     kubeclient_core::object_meta_accessors!();
/// }
/// ```
#[macro_export]
macro_rules! object_meta_accessors {
    () => {
        fn name(&self) -> ::std::option::Option<&str> {
            self.metadata.name.as_deref()
        }
        fn namespace(&self) -> ::std::option::Option<&str> {
            self.metadata.namespace.as_deref()
        }
        fn resource_version(&self) -> ::std::option::Option<&str> {
            self.metadata.resource_version.as_deref()
        }
        fn uid(&self) -> ::std::option::Option<&str> {
            self.metadata.uid.as_deref()
        }
        fn labels(
            &self,
        ) -> ::std::option::Option<
            &::std::collections::BTreeMap<::std::string::String, ::std::string::String>,
        > {
            $crate::resource::LabelsField::labels_ref(&self.metadata.labels)
        }
    };
}

/// What [`object_meta_accessors!`] reads `metadata.labels` through: a map, as in this
/// crate's [`ObjectMeta`], or an optional map, as in the generated
/// [`api::meta::v1::ObjectMeta`](crate::api::meta::v1::ObjectMeta).
#[doc(hidden)]
pub trait LabelsField {
    /// The labels, if there are any.
    fn labels_ref(&self) -> Option<&BTreeMap<String, String>>;
}

impl LabelsField for BTreeMap<String, String> {
    fn labels_ref(&self) -> Option<&BTreeMap<String, String>> {
        Some(self)
    }
}

impl LabelsField for Option<BTreeMap<String, String>> {
    fn labels_ref(&self) -> Option<&BTreeMap<String, String>> {
        self.as_ref()
    }
}

/// Object metadata for your own resource types (a subset of `metav1.ObjectMeta` that keeps
/// every other field it reads).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// `name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `generateName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    /// `namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `uid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `resourceVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `labels`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `annotations`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Every other field (creationTimestamp, managedFields, ownerReferences, ...).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}
