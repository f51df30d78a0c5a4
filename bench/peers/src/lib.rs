//! What the Rust client binaries of the peers benchmark share: their command line, the clock
//! and CPU time of the measured part, and the one JSON line a run prints (see bench/README.md).
//!
//! CPU time is user + system time of the whole process (`getrusage(RUSAGE_SELF)`, every
//! thread) taken at the start and the end of the measured part; peak RSS is `VmHWM` of the
//! process, start-up included. The Go client (`client-go/internal/measure`) measures the same
//! way.

pub mod kubeclient_side;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;

/// Which work a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// One LIST of the namespace's pods, whole, into typed objects.
    List,
    /// One WATCH, every event decoded into a typed pod, until the server ends the stream.
    Watch,
    /// Many GETs of one small ConfigMap, several at once.
    Gets,
}

impl Workload {
    /// The name on the command line and in the JSON line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::List => "list",
            Workload::Watch => "watch",
            Workload::Gets => "gets",
        }
    }
}

/// The wire format a run asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Whatever the client does when told nothing.
    Default,
    /// `application/json`.
    Json,
    /// `application/vnd.kubernetes.protobuf`.
    Protobuf,
}

impl Format {
    /// The name on the command line and in the JSON line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Default => "default",
            Format::Json => "json",
            Format::Protobuf => "protobuf",
        }
    }
}

/// The command line every client binary of the benchmark takes.
#[derive(Debug)]
pub struct Args {
    /// `--kubeconfig PATH` (required).
    pub kubeconfig: PathBuf,
    /// `--namespace NS` (default `bench-pods`).
    pub namespace: String,
    /// `--workload list|watch|gets` (required).
    pub workload: Workload,
    /// `--format default|json|protobuf` (default `default`).
    pub format: Format,
    /// `--expect COUNT`: pods listed, ADDED events decoded or GETs answered the run must see.
    pub expect: Option<usize>,
    /// `--name NAME`: the ConfigMap the gets workload reads (default `bench-small`).
    pub name: String,
    /// `--requests N`: GETs in the gets workload (default 10000).
    pub requests: usize,
    /// `--concurrency N`: GETs in flight at once (default 32).
    pub concurrency: usize,
}

impl Args {
    /// Parses `std::env::args`; exits with status 2 and a usage message on a mistake, or if
    /// the client cannot speak the format asked for (`formats` lists those it can).
    pub fn parse(program: &str, formats: &[Format]) -> Args {
        let usage = format!(
            "usage: {program} --kubeconfig PATH --workload list|watch|gets \
             [--format default|json|protobuf] [--namespace NS] [--expect COUNT] [--name NAME] \
             [--requests N] [--concurrency N]"
        );
        let fail = |msg: &str| -> ! {
            eprintln!("{program}: {msg}\n{usage}");
            std::process::exit(2)
        };
        let number = |flag: &str, v: String| -> usize {
            match v.parse() {
                Ok(n) => n,
                Err(_) => fail(&format!("bad {flag} {v}")),
            }
        };
        let (mut kubeconfig, mut workload) = (None, None);
        let mut args = Args {
            kubeconfig: PathBuf::new(),
            namespace: "bench-pods".into(),
            workload: Workload::List,
            format: Format::Default,
            expect: None,
            name: "bench-small".into(),
            requests: 10_000,
            concurrency: 32,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let Some(value) = it.next() else {
                fail(&format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--kubeconfig" => kubeconfig = Some(PathBuf::from(value)),
                "--namespace" => args.namespace = value,
                "--workload" => {
                    workload = Some(match value.as_str() {
                        "list" => Workload::List,
                        "watch" => Workload::Watch,
                        "gets" => Workload::Gets,
                        other => fail(&format!("bad --workload {other}")),
                    })
                }
                "--format" => {
                    args.format = match value.as_str() {
                        "default" => Format::Default,
                        "json" => Format::Json,
                        "protobuf" => Format::Protobuf,
                        other => fail(&format!("bad --format {other}")),
                    }
                }
                "--expect" => args.expect = Some(number(&flag, value)),
                "--name" => args.name = value,
                "--requests" => args.requests = number(&flag, value),
                "--concurrency" => args.concurrency = number(&flag, value),
                other => fail(&format!("unknown argument {other}")),
            }
        }
        args.kubeconfig = kubeconfig.unwrap_or_else(|| fail("--kubeconfig is required"));
        args.workload = workload.unwrap_or_else(|| fail("--workload is required"));
        if !formats.contains(&args.format) {
            fail(&format!(
                "this client cannot do --format {}",
                args.format.name()
            ));
        }
        if args.requests == 0 || args.concurrency == 0 {
            fail("--requests and --concurrency must be positive");
        }
        args
    }
}

/// User + system CPU time of the whole process so far.
fn cpu_time() -> Duration {
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let micros = u.user_time().num_microseconds() + u.system_time().num_microseconds();
        Duration::from_micros(u64::try_from(micros).unwrap_or(0))
    })
}

/// A field of `/proc/self/status` in bytes (`VmHWM`, `VmRSS`); 0 where there is none.
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

/// The start of the measured part: wall clock and the process's CPU time.
#[derive(Debug)]
pub struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    /// Starts the clock.
    pub fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: cpu_time(),
        }
    }

    /// Stops the clock and prints the run's JSON line on stdout; exits with status 1 if
    /// `objects` is not what `--expect` said.
    pub fn report(self, client: &str, args: &Args, objects: usize) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = cpu_time().saturating_sub(self.cpu).as_secs_f64();
        let round = |v: f64, scale: f64| (v * scale).round() / scale;
        let mut line = serde_json::json!({
            "client": client,
            "format": args.format.name(),
            "workload": args.workload.name(),
            "objects": objects,
            "wall_seconds": round(wall, 1e4),
            "cpu_seconds": round(cpu, 1e4),
            "peak_rss_bytes": proc_status_bytes("VmHWM"),
        });
        if args.workload == Workload::Gets {
            line["concurrency"] = args.concurrency.into();
            line["gets_per_second"] = round(objects as f64 / wall, 10.0).into();
        }
        println!("{line}");
        if let Some(expect) = args.expect
            && expect != objects
        {
            die(client, &format!("expected {expect}, saw {objects}"));
        }
    }
}

/// Prints the error and exits with status 1.
pub fn die(program: &str, err: &dyn std::fmt::Display) -> ! {
    eprintln!("{program}: {err}");
    std::process::exit(1)
}
