//! kube-rs's side of the peers benchmark: `Api<Pod>` and `Api<ConfigMap>` list pods, decode
//! a watch of pods, or GET one ConfigMap many times, and print one JSON line (see
//! bench/README.md). kube-rs speaks JSON only, so `default` is JSON.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use peers::{Args, Clock, Format, Workload, die};

const PROGRAM: &str = "kube-rs-peer";

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let args = Args::parse(PROGRAM, &[Format::Default, Format::Json]);
    if let Err(e) = run(&args).await {
        die(PROGRAM, &e);
    }
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let kubeconfig = Kubeconfig::read_from(&args.kubeconfig)?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    // kube-rs has no client-side throttling to turn off.
    let client = Client::try_from(config)?;

    let clock = Clock::start();
    let objects = match args.workload {
        Workload::List => {
            let pods: Api<Pod> = Api::namespaced(client, &args.namespace);
            pods.list(&ListParams::default()).await?.items.len()
        }
        Workload::Watch => {
            let pods: Api<Pod> = Api::namespaced(client, &args.namespace);
            let events = pods.watch(&WatchParams::default(), "0").await?;
            let mut events = std::pin::pin!(events);
            let mut added = 0;
            while let Some(event) = events.next().await {
                match event? {
                    WatchEvent::Added(pod) if pod.metadata.name.is_some() => added += 1,
                    other => {
                        let what = describe(&other);
                        return Err(format!("event {}: {what}, not an ADDED pod", added + 1).into());
                    }
                }
            }
            added
        }
        Workload::Gets => gets(client, args).await?,
    };
    clock.report("kube-rs", args, objects);
    Ok(())
}

/// GETs one ConfigMap `args.requests` times from `args.concurrency` tasks.
async fn gets(client: Client, args: &Args) -> Result<usize, BoxError> {
    let api: Api<ConfigMap> = Api::namespaced(client, &args.namespace);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (api, next, name, requests) =
                (api.clone(), next.clone(), args.name.clone(), args.requests);
            tokio::spawn(async move {
                let mut done = 0usize;
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let cm = api.get(&name).await?;
                    if cm.metadata.name.as_deref() != Some(name.as_str()) {
                        return Err(BoxError::from(format!("got {:?}", cm.metadata.name)));
                    }
                    done += 1;
                }
                Ok(done)
            })
        })
        .collect();
    let mut done = 0;
    for worker in workers {
        done += worker.await??;
    }
    Ok(done)
}

/// What an unexpected watch event is, without dumping a whole object.
fn describe(event: &WatchEvent<Pod>) -> String {
    match event {
        WatchEvent::Added(_) => "ADDED without a name".into(),
        WatchEvent::Modified(_) => "MODIFIED".into(),
        WatchEvent::Deleted(_) => "DELETED".into(),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(e) => format!("ERROR {e:?}"),
    }
}
