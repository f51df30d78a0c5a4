//! Where the heap of a decoded k8s-openapi `Pod` goes: lists the namespace's pods, decodes
//! them into a `Vec<Pod>` (no client cache around them), then frees one part after another
//! (managedFields' FieldsV1 trees, the rest of managedFields, status, containers, volumes, the
//! rest of spec, labels and annotations, the rest of metadata) and prints, as Markdown, the
//! live bytes and allocations each part held per pod, next to the `size_of` of the main types.
//! The part freed last is what is left: the `Vec`'s own buffer of `size_of::<Pod>()` per pod.
//!
//! usage: pod-anatomy --kubeconfig PATH [--namespace NS]

use std::error::Error;
use std::mem::size_of;

use informer_memory::Heap;
use k8s_openapi::api::core::v1::{Container, EnvVar, Pod, PodSpec, PodStatus, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};
use kubeclient::rest::RestClient;
use serde::Deserialize;

/// One page of a pod list, decoded straight into k8s-openapi types.
#[derive(Deserialize)]
struct Page {
    items: Vec<Pod>,
    metadata: PageMeta,
}

#[derive(Deserialize)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (mut kubeconfig, mut namespace) = (None, "bench-pods".to_string());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--kubeconfig" => kubeconfig = Some(value),
            "--namespace" => namespace = value,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let kubeconfig = kubeconfig.ok_or("--kubeconfig is required")?;
    let rest = RestClient::new(&kubeclient::config::infer(Some(kubeconfig.as_ref()))?.config)?;

    // Warm the connection up so its buffers are not counted as pods.
    rest.get().abs_path("/version").raw().await?;
    let mut pods: Vec<Pod> = Vec::new();
    let mut token = String::new();
    let before = Heap::now();
    loop {
        let mut request = rest
            .get()
            .group_version("v1")
            .namespace(&namespace)
            .resource("pods");
        request = request.param("limit", "500");
        if !token.is_empty() {
            request = request.param("continue", &token);
        }
        let body = request.raw().await?;
        let page: Page = serde_json::from_slice(&body)?;
        pods.extend(page.items);
        token = page.metadata.continue_token.unwrap_or_default();
        if token.is_empty() {
            break;
        }
    }
    pods.shrink_to_fit();
    let n = pods.len().max(1) as f64;

    // A clone allocates every Vec at its length, where decoding grew them by doubling: the
    // difference is the spare capacity the decoded pods carry.
    let decoded = Heap::now();
    let cloned = pods.clone();
    let clone_bytes = Heap::now().bytes - decoded.bytes;
    drop(cloned);

    // Free one part after another; each row is what that part held.
    let mut rows: Vec<(&str, Heap)> = Vec::new();
    let mut last = Heap::now();
    let total = Heap {
        bytes: last.bytes - before.bytes,
        allocations: last.allocations - before.allocations,
    };
    let mut free = |name: &'static str, pods: &mut Vec<Pod>, f: &dyn Fn(&mut Pod)| {
        pods.iter_mut().for_each(f);
        let now = Heap::now();
        rows.push((
            name,
            Heap {
                bytes: last.bytes - now.bytes,
                allocations: last.allocations - now.allocations,
            },
        ));
        last = now;
    };
    free(
        "managedFields: FieldsV1 (serde_json::Value trees)",
        &mut pods,
        &|p| {
            for entry in p.metadata.managed_fields.iter_mut().flatten() {
                entry.fields_v1 = None;
            }
        },
    );
    free(
        "managedFields: the rest (manager, operation, time, Vec)",
        &mut pods,
        &|p| {
            p.metadata.managed_fields = None;
        },
    );
    free("status", &mut pods, &|p| p.status = None);
    free("spec.containers", &mut pods, &|p| {
        if let Some(spec) = &mut p.spec {
            spec.containers = Vec::new();
        }
    });
    free("spec.volumes", &mut pods, &|p| {
        if let Some(spec) = &mut p.spec {
            spec.volumes = None;
        }
    });
    free("spec: the rest", &mut pods, &|p| p.spec = None);
    free("metadata: labels and annotations", &mut pods, &|p| {
        p.metadata.labels = None;
        p.metadata.annotations = None;
    });
    free("metadata: the rest", &mut pods, &|p| {
        p.metadata = ObjectMeta::default()
    });
    drop(std::mem::take(&mut pods));
    let now = Heap::now();
    rows.push((
        "the Vec<Pod> buffer (size_of::<Pod>() per pod)",
        Heap {
            bytes: last.bytes - now.bytes,
            allocations: last.allocations - now.allocations,
        },
    ));

    let freed = rows
        .iter()
        .fold((0, 0), |(b, a), (_, h)| (b + h.bytes, a + h.allocations));
    rows.push((
        "not freed above (the connection's buffers and the like)",
        Heap {
            bytes: total.bytes - freed.0,
            allocations: total.allocations - freed.1,
        },
    ));
    println!("| part of a decoded Pod | heap bytes/pod | share | allocations/pod |");
    println!("|---|---:|---:|---:|");
    for (name, heap) in rows.iter().chain([("**total**", total)].iter()) {
        println!(
            "| {name} | {:.0} | {:.1}% | {:.1} |",
            heap.bytes as f64 / n,
            100.0 * heap.bytes as f64 / total.bytes.max(1) as f64,
            heap.allocations as f64 / n
        );
    }
    println!();
    println!(
        "A clone of the decoded pods takes {:.0} bytes/pod: {:.0} bytes/pod of the decoded ones \
         are spare capacity of Vecs grown while decoding.",
        clone_bytes as f64 / n,
        (total.bytes - clone_bytes) as f64 / n
    );
    println!();
    println!(
        "`size_of`: Pod {} B, ObjectMeta {} B, PodSpec {} B, PodStatus {} B, Container {} B, \
         Volume {} B, EnvVar {} B, ManagedFieldsEntry {} B, serde_json::Value {} B.",
        size_of::<Pod>(),
        size_of::<ObjectMeta>(),
        size_of::<PodSpec>(),
        size_of::<PodStatus>(),
        size_of::<Container>(),
        size_of::<Volume>(),
        size_of::<EnvVar>(),
        size_of::<ManagedFieldsEntry>(),
        size_of::<serde_json::Value>()
    );
    Ok(())
}
