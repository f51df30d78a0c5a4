//! `decode --list FILE [--protobuf FILE] [--runs N]`: decodes the `items` of a captured pod
//! list (JSON, as the API server sent it) into typed pods, once per type layer, and, given the
//! same list captured in protobuf, into kubeclient's pods from protobuf; prints a Markdown
//! table: decode time (median of the runs) and throughput, and the live heap and allocations
//! each decoded pod holds, measured with a counting allocator ([`stats_alloc`] around the
//! system allocator: bytes requested and not freed, without malloc's own overhead).
//!
//! It first checks that kubeclient's pods encode back to what was read, that every pod
//! converts from k8s-openapi's `Pod` to kubeclient's and back with nothing lost, and that the
//! protobuf list reads into the same pods as the JSON one.

use std::alloc::System;
use std::time::{Duration, Instant};

use kubeclient_core::protobuf::Message as _;
use serde::de::DeserializeOwned;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live bytes and live allocations now.
fn live() -> (i64, i64) {
    let s = INSTRUMENTED_SYSTEM.stats();
    (
        s.bytes_allocated as i64 - s.bytes_deallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

#[derive(serde::Deserialize)]
struct List<T> {
    items: Vec<T>,
}

struct Row {
    name: &'static str,
    median: Duration,
    heap_per_pod: f64,
    allocations_per_pod: f64,
    pods: usize,
}

fn measure<T: DeserializeOwned>(
    name: &'static str,
    body: &[u8],
    runs: usize,
) -> Result<Row, String> {
    measure_with(name, runs, || {
        serde_json::from_slice::<List<T>>(body)
            .map(|l| l.items)
            .map_err(|e| format!("{name}: {e}"))
    })
}

/// Runs `decode` `runs` times: the median time, and the heap the first run's pods hold.
fn measure_with<T>(
    name: &'static str,
    runs: usize,
    decode: impl Fn() -> Result<Vec<T>, String>,
) -> Result<Row, String> {
    let mut times = Vec::new();
    let mut heap = (0.0, 0.0);
    let mut pods = 0;
    for run in 0..runs {
        let before = live();
        let start = Instant::now();
        let list = decode()?;
        times.push(start.elapsed());
        if run == 0 {
            let after = live();
            pods = list.len();
            let n = pods.max(1) as f64;
            heap = (
                (after.0 - before.0) as f64 / n,
                (after.1 - before.1) as f64 / n,
            );
        }
        drop(list);
    }
    times.sort();
    Ok(Row {
        name,
        median: times[times.len() / 2],
        heap_per_pod: heap.0,
        allocations_per_pod: heap.1,
        pods,
    })
}

/// Where two JSON values first differ (a JSON pointer and both sides).
fn difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys()
                .chain(y.keys())
                .find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => difference(p, q, format!("{at}/{k}")),
                    // Go reads `null` as absent; the types write nothing for an absent field.
                    (Some(Value::Null), None) | (None, Some(Value::Null)) => None,
                    (p, q) => Some(format!("{at}/{k}: read {p:?}, written {q:?}")),
                })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| difference(p, q, format!("{at}/{i}"))),
        _ if a == b => None,
        _ => Some(format!("{at}: read {a}, written {b}")),
    }
}

/// Frees one part of every pod after another and prints what each held.
fn anatomy(body: &[u8]) -> Result<(), String> {
    let before = live();
    let mut list: List<kubeclient_core::api::core::v1::Pod> =
        serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let n = list.items.len().max(1) as f64;
    let total = live().0 - before.0;
    println!("\n| part of a kubeclient Pod | heap bytes/pod | allocations/pod |\n|---|---:|---:|");
    let mut last = live();
    let mut report = |name: &str| {
        let now = live();
        println!(
            "| {name} | {:.0} | {:.1} |",
            (last.0 - now.0) as f64 / n,
            (last.1 - now.1) as f64 / n
        );
        last = now;
    };
    for pod in &mut list.items {
        pod.metadata.managed_fields = None;
    }
    report("metadata.managedFields");
    for pod in &mut list.items {
        pod.status = None;
    }
    report("status");
    for pod in &mut list.items {
        if let Some(spec) = pod.spec.as_mut() {
            spec.containers = Vec::new();
            spec.init_containers = None;
        }
    }
    report("spec.containers");
    for pod in &mut list.items {
        if let Some(spec) = pod.spec.as_mut() {
            spec.volumes = None;
        }
    }
    report("spec.volumes");
    for pod in &mut list.items {
        pod.spec = None;
    }
    report("spec: the rest");
    for pod in &mut list.items {
        pod.metadata.labels = None;
        pod.metadata.annotations = None;
    }
    report("metadata: labels and annotations");
    drop(list);
    report("metadata: the rest, and the list");
    println!("| **total** | {:.0} | |", total as f64 / n);
    Ok(())
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let file = value("--list").ok_or("usage: decode --list FILE [--protobuf FILE] [--runs N]")?;
    let runs: usize = value("--runs")
        .map_or(Ok(5), |r| r.parse())
        .map_err(|e| format!("--runs: {e}"))?;
    let body = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;

    // Equality first: every pod kubeclient decodes is written back as it was read (`null`
    // members, which Go reads as absent, are not written back).
    let raw: List<serde_json::Value> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let ours: List<kubeclient_core::api::core::v1::Pod> =
        serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    for (sent, pod) in raw.items.iter().zip(&ours.items) {
        let mut sent = sent.clone();
        sent["apiVersion"] = "v1".into();
        sent["kind"] = "Pod".into();
        let written = serde_json::to_value(pod).map_err(|e| e.to_string())?;
        if let Some(at) = difference(&sent, &written, String::new()) {
            return Err(format!(
                "pod {:?} is not written back as read: {at}",
                pod.metadata.name
            ));
        }
    }
    // Conversions from and to k8s-openapi's pods lose nothing.
    let theirs: List<k8s_openapi::api::core::v1::Pod> =
        serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    for (their, our) in theirs.items.iter().zip(&ours.items) {
        let converted: kubeclient_core::api::core::v1::Pod =
            kubeclient_core::from_openapi(their).map_err(|e| e.to_string())?;
        let back: k8s_openapi::api::core::v1::Pod =
            kubeclient_core::to_openapi(our).map_err(|e| e.to_string())?;
        if converted != *our || back != *their {
            return Err(format!(
                "pod {:?} changes in the conversion from or to k8s-openapi",
                our.metadata.name
            ));
        }
    }
    drop(theirs);

    // The same list in protobuf reads into the same pods.
    let protobuf = value("--protobuf")
        .map(|f| std::fs::read(f).map_err(|e| format!("{f}: {e}")))
        .transpose()?;
    let decode_protobuf = |bytes: &[u8]| {
        kubeclient_core::protobuf::decode_list(bytes, kubeclient_core::api::core::v1::Pod::decode)
            .map(|l| l.items)
            .map_err(|e| format!("protobuf: {e}"))
    };
    if let Some(bytes) = &protobuf {
        let from_protobuf = decode_protobuf(bytes)?;
        if from_protobuf.len() != ours.items.len() {
            return Err(format!(
                "{} pods in protobuf, {} in JSON",
                from_protobuf.len(),
                ours.items.len()
            ));
        }
        for (a, b) in from_protobuf.iter().zip(&ours.items) {
            if a != b {
                return Err(format!(
                    "pod {:?} reads differently from protobuf and JSON",
                    b.metadata.name
                ));
            }
        }
    }
    drop((raw, ours));

    let mut rows = vec![
        measure::<k8s_openapi::api::core::v1::Pod>("k8s-openapi 0.29", &body, runs)?,
        measure::<kubeclient_core::api::core::v1::Pod>("kubeclient (generated)", &body, runs)?,
    ];
    if let Some(bytes) = &protobuf {
        rows.push(measure_with("kubeclient (generated), protobuf", runs, || {
            decode_protobuf(bytes)
        })?);
    }
    let mb = body.len() as f64 / 1e6;
    println!(
        "{} pods, {:.1} MB of JSON ({:.0} bytes per pod); median of {runs} runs\n",
        rows[0].pods,
        mb,
        body.len() as f64 / rows[0].pods.max(1) as f64
    );
    if let Some(bytes) = &protobuf {
        println!(
            "The same list in protobuf: {:.1} MB ({:.0} bytes per pod).\n",
            bytes.len() as f64 / 1e6,
            bytes.len() as f64 / rows[0].pods.max(1) as f64
        );
    }
    println!("| types | decode | MB/s | heap/pod | allocations/pod | size_of Pod |");
    println!("|---|---:|---:|---:|---:|---:|");
    let sizes = [
        std::mem::size_of::<k8s_openapi::api::core::v1::Pod>(),
        std::mem::size_of::<kubeclient_core::api::core::v1::Pod>(),
        std::mem::size_of::<kubeclient_core::api::core::v1::Pod>(),
    ];
    for (i, (row, size)) in rows.iter().zip(sizes).enumerate() {
        // Throughput of the bytes that row decodes.
        let row_mb = match (i, &protobuf) {
            (2, Some(bytes)) => bytes.len() as f64 / 1e6,
            _ => mb,
        };
        println!(
            "| {} | {:.0} ms | {:.0} | {:.1} KiB | {:.0} | {size} B |",
            row.name,
            row.median.as_secs_f64() * 1e3,
            row_mb / row.median.as_secs_f64(),
            row.heap_per_pod / 1024.0,
            row.allocations_per_pod,
        );
    }
    println!(
        "| *kubeclient / k8s-openapi* | {:.2}× | | {:.2}× | {:.2}× | |",
        rows[1].median.as_secs_f64() / rows[0].median.as_secs_f64(),
        rows[1].heap_per_pod / rows[0].heap_per_pod,
        rows[1].allocations_per_pod / rows[0].allocations_per_pod
    );
    if let Some(pb) = rows.get(2) {
        println!(
            "| *kubeclient protobuf / k8s-openapi JSON* | {:.2}× | | {:.2}× | {:.2}× | |",
            pb.median.as_secs_f64() / rows[0].median.as_secs_f64(),
            pb.heap_per_pod / rows[0].heap_per_pod,
            pb.allocations_per_pod / rows[0].allocations_per_pod
        );
    }
    anatomy(&body)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
