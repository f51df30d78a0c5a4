//! kubeclient's side of the peers benchmark, for any pod and ConfigMap types: the typed
//! `Client<K>` lists pods, decodes a watch of pods, or GETs one ConfigMap many times, and prints
//! one JSON line (see bench/README.md). The binaries `kubeclient-peer` (k8s-openapi's types,
//! through the generic client) and `kubeclient-api-peer` (kubeclient's generated types, what the
//! Clientset serves: `core_v1().pods(ns)` is this `Client<Pod>`) differ
//! only in the types: the generated ones have a protobuf form, so `default` is protobuf for
//! them (as for client-go's typed clients) and JSON for k8s-openapi's.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::StreamExt;
use kubeclient::client::{Client, Namespaced, Resource, WatchEvent};
use kubeclient::rest::{GetOptions, ListOptions, RestClient, WireFormat};

use crate::{Args, Clock, Format, Workload, die};

type BoxError = Box<dyn Error + Send + Sync>;

/// Runs the benchmark's client with pods of type `P` and ConfigMaps of type `C`; `name` is the
/// client's name in the results.
pub async fn main<P, C>(program: &str, name: &str)
where
    P: Resource<Scope = Namespaced>,
    C: Resource<Scope = Namespaced>,
{
    let formats: &[Format] = if P::protobuf().is_some() {
        &[Format::Default, Format::Json, Format::Protobuf]
    } else {
        &[Format::Default, Format::Json]
    };
    let args = Args::parse(program, formats);
    if let Err(e) = run::<P, C>(&args, name).await {
        die(program, &e);
    }
}

async fn run<P, C>(args: &Args, name: &str) -> Result<(), BoxError>
where
    P: Resource<Scope = Namespaced>,
    C: Resource<Scope = Namespaced>,
{
    let mut config = kubeclient::config::infer(Some(&args.kubeconfig))?.config;
    // No client-side throttling (kubeclient, as client-go, turns the bucket off below zero).
    config.qps = -1.0;
    config.wire_format = match args.format {
        Format::Json => WireFormat::Json,
        Format::Default | Format::Protobuf => WireFormat::Protobuf,
    };
    let rest = RestClient::new(&config)?;

    let clock = Clock::start();
    let objects = match args.workload {
        Workload::List => {
            let pods = Client::<P>::namespaced(rest, &args.namespace)
                .list(&ListOptions::default())
                .await?;
            pods.items.len()
        }
        Workload::Watch => {
            let options = ListOptions {
                resource_version: Some("0".into()),
                ..ListOptions::default()
            };
            let mut events = Client::<P>::namespaced(rest, &args.namespace)
                .watch(&options)
                .await?;
            let mut added = 0;
            while let Some(event) = events.next().await {
                match event? {
                    WatchEvent::Added(pod) if pod.name().is_some() => added += 1,
                    other => {
                        let what = describe(&other);
                        return Err(format!("event {}: {what}, not an ADDED pod", added + 1).into());
                    }
                }
            }
            added
        }
        Workload::Gets => gets(Client::<C>::namespaced(rest, &args.namespace), args).await?,
    };
    clock.report(name, args, objects);
    Ok(())
}

/// GETs one ConfigMap `args.requests` times from `args.concurrency` tasks.
async fn gets<C: Resource<Scope = Namespaced>>(
    client: Client<C>,
    args: &Args,
) -> Result<usize, BoxError> {
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
                    if cm.name() != Some(name.as_str()) {
                        return Err(BoxError::from(format!("got {:?}", cm.name())));
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
fn describe<P>(event: &WatchEvent<P>) -> String {
    match event {
        WatchEvent::Added(_) => "ADDED without a name".into(),
        WatchEvent::Modified(_) => "MODIFIED".into(),
        WatchEvent::Deleted(_) => "DELETED".into(),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(e) => format!("ERROR {e}"),
    }
}
