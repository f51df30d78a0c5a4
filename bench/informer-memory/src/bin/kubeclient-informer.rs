//! kubeclient's shared informer on the pods of one namespace: waits for the initial sync,
//! lets the process settle, and prints heap and RSS as one JSON line (see the crate docs).

use std::error::Error;

use informer_memory::{Args, Baseline, InitialList, report};
use k8s_openapi::api::core::v1::Pod;
use kubeclient::cache::SharedInformerFactory;
use kubeclient::rest::RestClient;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse("kubeclient-informer");
    let config = kubeclient::config::infer(Some(&args.kubeconfig))?.config;
    let rest = RestClient::new(&config)?;

    let initial_list = args.initial_list.unwrap_or(InitialList::Streaming);
    let baseline = Baseline::take();
    let factory = SharedInformerFactory::builder(rest)
        .namespace(&args.namespace)
        .use_watch_list(initial_list == InitialList::Streaming)
        .build();
    let informer = factory.informer::<Pod>();
    if args.drop_managed_fields {
        informer.set_transform(|mut pod: Pod| {
            pod.metadata.managed_fields = None;
            pod
        })?;
    }
    informer.start()?;
    if !informer.wait_for_cache_sync().await {
        return Err("the informer stopped before its cache synced".into());
    }
    let sync = baseline.elapsed();
    tokio::time::sleep(args.settle).await;

    let pods = informer.store().len();
    report("kubeclient", &args, initial_list, &baseline, sync, pods);
    informer.shutdown_and_wait().await;
    Ok(())
}
