//! Methods of the typed client that exist only for one `k8s-openapi` type (feature
//! `k8s-openapi`).

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
