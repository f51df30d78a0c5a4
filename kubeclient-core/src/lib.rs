//! kubeclient's wire layer: everything that is only data and encoding, with no I/O (no tokio,
//! no hyper, no sockets, files or processes), so all of it builds and is tested without a
//! network. apimachinery's `metav1` and `runtime` pieces a client needs:
//!
//! - [`resource`]: the [`Resource`](resource::Resource) trait every typed object implements,
//!   [`ObjectMeta`](resource::ObjectMeta), lists and scopes;
//! - [`options`]: list/get/create/update/patch/apply/delete options with the API's field names;
//! - [`status`]: `metav1.Status` and the typed [`ApiError`](status::ApiError) made of it;
//! - [`watch`]: watch events, bookmarks and the framing of a watch stream;
//! - [`labels`]: label selectors, parsed and matched;
//! - [`discovery`]: group/version/kind/resource names and the discovery documents, both
//!   formats;
//! - [`request`]: request paths (group version, namespace, resource, name, subresource) and
//!   query parameters;
//! - [`protobuf`]: Kubernetes' protobuf wire format (envelope, lists, watch frames, `Status`)
//!   and the codec traits the generated [`api`] types implement;
//! - [`list`]: `ListMeta` and the lists every `...List` kind is.
//!
//! Most users reach these through the `kubeclient` crate, which re-exports them where client-go
//! keeps them (`kubeclient::rest::ListOptions`, `kubeclient::client::Resource`,
//! `kubeclient::labels::Selector`, ...). Depend on this crate directly to share types with
//! kubeclient without its transport.

pub mod api;
pub mod discovery;
pub mod json;
#[cfg(feature = "k8s-openapi")]
mod k8s_openapi_impls;
pub mod labels;
pub mod list;
pub mod options;
pub mod primitives;
pub mod protobuf;
pub mod request;
pub mod resource;
pub mod status;
pub mod watch;

#[cfg(feature = "k8s-openapi")]
pub use k8s_openapi_impls::{ConversionError, OpenApiScope, from_openapi, to_openapi};
