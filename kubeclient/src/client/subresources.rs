//! Parameters of subresources that are not objects: a pod's `log`.

use serde::Serialize;

/// The query parameters of `pods/log` (`corev1.PodLogOptions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogParams {
    /// The container; required when the pod has more than one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Keep the stream open and send new lines as they are written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow: Option<bool>,
    /// The log of the previous, terminated instance of the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<bool>,
    /// Only lines newer than this many seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_seconds: Option<i64>,
    /// Only lines after this RFC 3339 time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_time: Option<String>,
    /// Only the last this many lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tail_lines: Option<i64>,
    /// Prefix each line with its RFC 3339 timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<bool>,
    /// Stop after this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_bytes: Option<i64>,
}

/// The kinds whose objects have a log (`pods/log`): the generated `Pod` and, with the feature
/// `k8s-openapi`, k8s-openapi's.
pub trait HasLogs: super::Resource {}

#[cfg(feature = "api-core")]
impl HasLogs for kubeclient_core::api::core::v1::Pod {}

#[cfg(feature = "k8s-openapi")]
impl HasLogs for k8s_openapi::api::core::v1::Pod {}

/// `pods/log` on a Pod client.
impl<K: HasLogs> super::Client<K> {
    /// The pod's log as a stream of bytes (with `follow`, it stays open).
    pub async fn logs(
        &self,
        name: &str,
        params: &LogParams,
    ) -> Result<
        impl futures_util::Stream<Item = Result<bytes::Bytes, crate::rest::Error>> + use<K>,
        crate::rest::Error,
    > {
        self.stream_subresource(name, "log", params).await
    }
}
