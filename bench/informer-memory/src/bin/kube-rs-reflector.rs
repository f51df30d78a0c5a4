//! kube-rs's reflector (kube-runtime `watcher` into `reflector::store`) on the pods of one
//! namespace: waits until the store is ready, lets the process settle, and prints heap and RSS
//! as one JSON line (see the crate docs). `--drop-managed-fields` uses kube-rs's documented
//! way, `WatchStreamExt::modify` clearing `managed_fields` before the reflector stores.

use std::error::Error;

use futures_util::StreamExt;
use informer_memory::{Args, Baseline, InitialList, report};
use k8s_openapi::api::core::v1::Pod;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client, Config, ResourceExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = Args::parse("kube-rs-reflector");
    let kubeconfig = Kubeconfig::read_from(&args.kubeconfig)?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    let client = Client::try_from(config)?;

    let initial_list = args.initial_list.unwrap_or(InitialList::Paged);
    let mut config = watcher::Config::default();
    if initial_list == InitialList::Streaming {
        config = config.streaming_lists();
    }
    let baseline = Baseline::take();
    let api: Api<Pod> = Api::namespaced(client, &args.namespace);
    let (reader, writer) = reflector::store();
    let events = watcher(api, config).default_backoff();
    let events = if args.drop_managed_fields {
        events
            .modify(|pod| pod.managed_fields_mut().clear())
            .boxed()
    } else {
        events.boxed()
    };
    let driver = tokio::spawn(reflector(writer, events).for_each(|event| {
        if let Err(e) = event {
            eprintln!("kube-rs-reflector: watch error: {e}");
        }
        std::future::ready(())
    }));
    reader.wait_until_ready().await?;
    let sync = baseline.elapsed();
    tokio::time::sleep(args.settle).await;

    report(
        "kube-rs",
        &args,
        initial_list,
        &baseline,
        sync,
        reader.len(),
    );
    driver.abort();
    Ok(())
}
