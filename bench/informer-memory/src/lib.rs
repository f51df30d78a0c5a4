//! What the benchmark's binaries share: the counting global allocator, the process's memory
//! from `/proc/self/status`, the command line, and the one JSON line a client run prints.
//!
//! Heap figures come from [`stats_alloc`] wrapping the system allocator (glibc malloc): live
//! bytes are the bytes requested and not yet freed (malloc's own per-block overhead is not in
//! them, RSS shows it), live allocations the blocks not yet freed. Every Rust client binary links
//! this library, so all of them are measured by the same allocator and the same code.

pub mod kubeclient_side;

use std::alloc::System;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Live heap: bytes requested and not freed, and blocks not freed.
#[derive(Debug, Clone, Copy)]
pub struct Heap {
    /// Live bytes.
    pub bytes: i64,
    /// Live allocations.
    pub allocations: i64,
}

impl Heap {
    /// The live heap now.
    pub fn now() -> Heap {
        let s = INSTRUMENTED_SYSTEM.stats();
        Heap {
            // stats_alloc already adds a realloc's growth to `bytes_allocated` and its
            // shrinking to `bytes_deallocated`; `bytes_reallocated` is only their net sum.
            bytes: s.bytes_allocated as i64 - s.bytes_deallocated as i64,
            allocations: s.allocations as i64 - s.deallocations as i64,
        }
    }
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`); 0 where there is none.
pub fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// The command line of the Rust client binaries (client-go's program takes the same).
#[derive(Debug)]
pub struct Args {
    /// `--kubeconfig PATH` (required).
    pub kubeconfig: PathBuf,
    /// `--namespace NS` (default `bench-pods`).
    pub namespace: String,
    /// `--drop-managed-fields`: clear `metadata.managedFields` before objects are stored.
    pub drop_managed_fields: bool,
    /// `--expect N`: fail unless the synced cache holds exactly N pods.
    pub expect: Option<usize>,
    /// `--settle-ms MS`: how long to wait after the sync before measuring (default 1500).
    pub settle: Duration,
    /// `--initial-list paged|streaming`: how the informer gets the initial state; `None`
    /// keeps the client's default (kubeclient: streaming, kube-rs: paged).
    pub initial_list: Option<InitialList>,
}

/// How an informer gets its initial state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialList {
    /// LIST requests, page by page.
    Paged,
    /// One WATCH with `sendInitialEvents=true` (WatchList).
    Streaming,
}

impl Args {
    /// Parses `std::env::args`; exits with a usage message on a mistake.
    pub fn parse(program: &str) -> Args {
        let usage = format!(
            "usage: {program} --kubeconfig PATH [--namespace NS] [--drop-managed-fields] \
             [--expect N] [--settle-ms MS] [--initial-list paged|streaming]"
        );
        let fail = |msg: &str| -> ! {
            eprintln!("{program}: {msg}\n{usage}");
            std::process::exit(2)
        };
        let mut kubeconfig = None;
        let mut args = Args {
            kubeconfig: PathBuf::new(),
            namespace: "bench-pods".into(),
            drop_managed_fields: false,
            expect: None,
            settle: Duration::from_millis(1500),
            initial_list: None,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || {
                it.next()
                    .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--kubeconfig" => kubeconfig = Some(PathBuf::from(value())),
                "--namespace" => args.namespace = value(),
                "--drop-managed-fields" => args.drop_managed_fields = true,
                "--expect" => {
                    let v = value();
                    args.expect = Some(
                        v.parse()
                            .unwrap_or_else(|_| fail(&format!("bad --expect {v}"))),
                    );
                }
                "--initial-list" => {
                    args.initial_list = match value().as_str() {
                        "paged" => Some(InitialList::Paged),
                        "streaming" => Some(InitialList::Streaming),
                        other => fail(&format!("bad --initial-list {other}")),
                    }
                }
                "--settle-ms" => {
                    let v = value();
                    let ms = v
                        .parse()
                        .unwrap_or_else(|_| fail(&format!("bad --settle-ms {v}")));
                    args.settle = Duration::from_millis(ms);
                }
                other => fail(&format!("unknown argument {other}")),
            }
        }
        args.kubeconfig = kubeconfig.unwrap_or_else(|| fail("--kubeconfig is required"));
        args
    }
}

/// The state just before the informer starts: the baseline every figure is relative to.
#[derive(Debug)]
pub struct Baseline {
    heap: Heap,
    rss: u64,
    started: Instant,
}

impl Baseline {
    /// Takes the baseline and starts the sync clock.
    pub fn take() -> Baseline {
        Baseline {
            heap: Heap::now(),
            rss: proc_status_bytes("VmRSS"),
            started: Instant::now(),
        }
    }

    /// Time since the baseline.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Measures now and prints the run's JSON line on stdout; exits non-zero if the cache does not
/// hold the expected number of pods. Call it while the informer (and its cache) is alive.
pub fn report(
    client: &str,
    args: &Args,
    initial_list: InitialList,
    baseline: &Baseline,
    sync: Duration,
    pods: usize,
) {
    let heap = Heap::now();
    let bytes = heap.bytes - baseline.heap.bytes;
    let allocations = heap.allocations - baseline.heap.allocations;
    let per = |v: i64| {
        if pods == 0 {
            0.0
        } else {
            v as f64 / pods as f64
        }
    };
    let line = serde_json::json!({
        "client": client,
        "managed_fields": if args.drop_managed_fields { "dropped" } else { "kept" },
        "initial_list": match initial_list {
            InitialList::Paged => "paged",
            InitialList::Streaming => "streaming",
        },
        "pods": pods,
        "heap_bytes": bytes,
        "allocations": allocations,
        "heap_per_pod": per(bytes).round(),
        "allocations_per_pod": (per(allocations) * 10.0).round() / 10.0,
        "rss_before": baseline.rss,
        "rss_after_sync": proc_status_bytes("VmRSS"),
        "peak_rss": proc_status_bytes("VmHWM"),
        "sync_seconds": (sync.as_secs_f64() * 1000.0).round() / 1000.0,
    });
    println!("{line}");
    if let Some(expected) = args.expect
        && expected != pods
    {
        eprintln!("{client}: the cache holds {pods} pods, expected {expected}");
        std::process::exit(1);
    }
}
