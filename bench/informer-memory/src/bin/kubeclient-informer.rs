//! kubeclient's shared informer on the pods of one namespace, with k8s-openapi's `Pod` (see
//! `informer_memory::kubeclient_side`).

use k8s_openapi::api::core::v1::Pod;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    informer_memory::kubeclient_side::run::<Pod>("kubeclient-informer", "kubeclient", |mut pod| {
        pod.metadata.managed_fields = None;
        pod
    })
    .await
}
