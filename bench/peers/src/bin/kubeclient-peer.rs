//! kubeclient's side of the peers benchmark: the Clientset's typed `Pod` and `ConfigMap`
//! clients list pods, decode a watch of pods, or GET one ConfigMap many times, and print one
//! JSON line (see bench/README.md). kubeclient speaks JSON only, so `default` is JSON.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kubeclient::client::WatchEvent;
use kubeclient::clientset::Clientset;
use kubeclient::rest::{GetOptions, ListOptions};
use peers::{Args, Clock, Format, Workload, die};

const PROGRAM: &str = "kubeclient-peer";

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() {
    let args = Args::parse(PROGRAM, &[Format::Default, Format::Json]);
    if let Err(e) = run(&args).await {
        die(PROGRAM, &e);
    }
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let mut config = kubeclient::config::infer(Some(&args.kubeconfig))?.config;
    // No client-side throttling (kubeclient, as client-go, turns the bucket off below zero).
    config.qps = -1.0;
    let clientset = Clientset::new(&config)?;

    let clock = Clock::start();
    let objects = match args.workload {
        Workload::List => {
            let pods = clientset
                .core_v1()
                .pods(&args.namespace)
                .list(&ListOptions::default())
                .await?;
            pods.items.len()
        }
        Workload::Watch => {
            let options = ListOptions {
                resource_version: Some("0".into()),
                ..ListOptions::default()
            };
            let mut events = clientset
                .core_v1()
                .pods(&args.namespace)
                .watch(&options)
                .await?;
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
        Workload::Gets => gets(&clientset, args).await?,
    };
    clock.report("kubeclient", args, objects);
    Ok(())
}

/// GETs one ConfigMap `args.requests` times from `args.concurrency` tasks.
async fn gets(clientset: &Clientset, args: &Args) -> Result<usize, BoxError> {
    let client = clientset.core_v1().config_maps(&args.namespace);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, next, name, requests) = (
                client.clone(),
                next.clone(),
                args.name.clone(),
                args.requests,
            );
            tokio::spawn(async move {
                let mut done = 0usize;
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let cm = client.get(&name, &GetOptions::default()).await?;
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
        WatchEvent::Error(e) => format!("ERROR {e}"),
    }
}
