//! kubeclient's shared informer on the pods of one namespace, with kubeclient's own generated
//! `Pod` (`kubeclient_core::api::core::v1`; see `informer_memory::kubeclient_side`).

use kubeclient_core::api::core::v1::Pod;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    informer_memory::kubeclient_side::run::<Pod>(
        "kubeclient-api-informer",
        "kubeclient-api",
        |mut pod| {
            pod.metadata.managed_fields = None;
            pod
        },
    )
    .await
}
