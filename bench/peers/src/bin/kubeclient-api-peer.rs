//! kubeclient's side of the peers benchmark with kubeclient's own generated `Pod` and
//! `ConfigMap` (`kubeclient_core::api::core::v1`), through the same typed client: what the
//! Clientset serves (see `peers::kubeclient_side`).

#[tokio::main]
async fn main() {
    peers::kubeclient_side::main::<
        kubeclient_core::api::core::v1::Pod,
        kubeclient_core::api::core::v1::ConfigMap,
    >("kubeclient-api-peer", "kubeclient-api")
    .await;
}
