//! kubeclient's shared informer on the pods of one namespace, for any pod type: waits for the
//! initial sync, lets the process settle, and prints heap and RSS as one JSON line (see the
//! crate docs). The binaries `kubeclient-informer` (k8s-openapi's `Pod`, through the feature
//! `k8s-openapi`) and `kubeclient-api-informer` (kubeclient's generated `Pod`, the Clientset's)
//! differ only in the type.

use std::error::Error;

use kubeclient::cache::SharedInformerFactory;
use kubeclient::client::{Namespaced, Resource};
use kubeclient::rest::RestClient;

use crate::{Args, Baseline, InitialList, report};

/// Runs the informer on pods of type `P`; `name` is the client's name in the results and
/// `drop_managed_fields` clears a pod's managedFields.
pub async fn run<P: Resource<Scope = Namespaced>>(
    program: &str,
    name: &str,
    drop_managed_fields: fn(P) -> P,
) -> Result<(), Box<dyn Error>> {
    let args = Args::parse(program);
    let config = kubeclient::config::infer(Some(&args.kubeconfig))?.config;
    let rest = RestClient::new(&config)?;

    let initial_list = args.initial_list.unwrap_or(InitialList::Streaming);
    let baseline = Baseline::take();
    let factory = SharedInformerFactory::builder(rest)
        .namespace(&args.namespace)
        .use_watch_list(initial_list == InitialList::Streaming)
        .build();
    let informer = factory.informer::<P>();
    if args.drop_managed_fields {
        informer.set_transform(drop_managed_fields)?;
    }
    informer.start()?;
    if !informer.wait_for_cache_sync().await {
        return Err("the informer stopped before its cache synced".into());
    }
    let sync = baseline.elapsed();
    tokio::time::sleep(args.settle).await;

    let pods = informer.store().len();
    report(name, &args, initial_list, &baseline, sync, pods);
    informer.shutdown_and_wait().await;
    Ok(())
}
