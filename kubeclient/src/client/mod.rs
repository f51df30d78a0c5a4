//! Typed clients: the [`Resource`] trait and the one generic [`Client<K>`] that serves every
//! resource type, built-in or custom.

mod subresources;
mod typed;

pub use crate::rest::watch::{Bookmark, WatchEvent};
#[cfg(feature = "k8s-openapi")]
pub use kubeclient_core::OpenApiScope;
pub use kubeclient_core::resource::{
    ClusterScoped, ListMeta, Namespaced, ObjectList, ObjectMeta, Resource, Scope,
};
pub use subresources::{HasLogs, LogParams};
pub(crate) use typed::Target;
pub use typed::{Client, DEFAULT_PAGE_SIZE, Object, Patch, WatchStream};
