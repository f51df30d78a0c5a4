//! kubeclient's side of the peers benchmark with k8s-openapi's `Pod` and `ConfigMap` through
//! the generic typed client (feature `k8s-openapi`; see `peers::kubeclient_side`).

#[tokio::main]
async fn main() {
    peers::kubeclient_side::main::<
        k8s_openapi::api::core::v1::Pod,
        k8s_openapi::api::core::v1::ConfigMap,
    >("kubeclient-peer", "kubeclient")
    .await;
}
