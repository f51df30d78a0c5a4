//! A small, real controller built from kubeclient's toolkit: a shared informer factory and
//! listers, a rate-limited work queue, an event recorder and leader election.
//!
//! For every Namespace labelled `kubeclient.dev/managed=true`, it keeps a ConfigMap named
//! `kubeclient-managed` in that namespace whose data key `namespace` holds the namespace's
//! name: created when missing, put right when changed, recreated when deleted, with an Event
//! each time. Several copies may run at once; only the holder of the Lease
//! `kubeclient-example-controller` in `default` acts. Ctrl-C (or SIGTERM) stops it cleanly and
//! releases the Lease, so another copy takes over at once.
//!
//! ```sh
//! controlplane/cluster up
//! cargo run -p kubeclient --example controller -- \
//!     --kubeconfig target/controlplane/admin.kubeconfig
//! ```
//!
//! Options: `--kubeconfig PATH`, `--identity NAME` (default: host name and process id),
//! `--lease-duration S`, `--renew-deadline S`, `--retry-period S` (client-go's 15/10/2 by
//! default). Logs go to stderr through `tracing` (`RUST_LOG=debug` for more).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use kubeclient::api::core::v1::{ConfigMap, Namespace};
use kubeclient::cache::{HandlerFns, Lister, SharedInformerFactory};
use kubeclient::client::Client;
use kubeclient::leaderelection::{
    CancellationToken, DEFAULT_LEASE_DURATION, DEFAULT_RENEW_DEADLINE, DEFAULT_RETRY_PERIOD,
    LeaderCallbacks, LeaderElectionConfig, LeaderElector, Lease, LeaseLock,
};
use kubeclient::record::{EventBroadcaster, EventRecorder, EventType, ObjectReference};
use kubeclient::rest::{ApplyOptions, RestClient};
use kubeclient::workqueue::{RateLimitedQueue, default_controller_rate_limiter};

const CONTROLLER: &str = "kubeclient.dev/example-controller";
const FIELD_MANAGER: &str = "kubeclient-example-controller";
const LEASE: &str = "kubeclient-example-controller";
const LEASE_NAMESPACE: &str = "default";
const MANAGED_LABEL: &str = "kubeclient.dev/managed";
const CONFIG_MAP: &str = "kubeclient-managed";
const WORKERS: usize = 2;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Options {
    kubeconfig: Option<PathBuf>,
    identity: String,
    lease_duration: Duration,
    renew_deadline: Duration,
    retry_period: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        kubeconfig: None,
        identity: format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "controller".into()),
            std::process::id()
        ),
        lease_duration: DEFAULT_LEASE_DURATION,
        renew_deadline: DEFAULT_RENEW_DEADLINE,
        retry_period: DEFAULT_RETRY_PERIOD,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let seconds = |v: String| {
            v.parse::<f64>()
                .ok()
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{flag}: {v:?} is not a positive number of seconds"))
        };
        match flag.as_str() {
            "--kubeconfig" => options.kubeconfig = Some(PathBuf::from(value()?)),
            "--identity" => options.identity = value()?,
            "--lease-duration" => options.lease_duration = seconds(value()?)?,
            "--renew-deadline" => options.renew_deadline = seconds(value()?)?,
            "--retry-period" => options.retry_period = seconds(value()?)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

/// What the workers share.
struct Controller {
    rest: RestClient,
    namespaces: Lister<Namespace>,
    managed: Lister<ConfigMap>,
    events: EventRecorder,
}

impl Controller {
    /// Makes the ConfigMap of namespace `ns` what it should be.
    async fn reconcile(&self, ns: &str) -> Result<(), Error> {
        let Some(namespace) = self.namespaces.get(ns) else {
            return Ok(()); // gone, or no longer labelled: nothing to keep
        };
        let terminating = namespace
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p == "Terminating")
            || namespace.metadata.deletion_timestamp.is_some();
        if terminating {
            return Ok(());
        }
        let current = self.managed.namespaced(ns).get(CONFIG_MAP);
        let correct = current
            .as_ref()
            .and_then(|cm| cm.data.as_ref())
            .and_then(|d| d.get("namespace"))
            .is_some_and(|v| v == ns);
        if correct {
            return Ok(());
        }
        let desired = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP, "namespace": ns},
            "data": {"namespace": ns},
        });
        let client = Client::<ConfigMap>::namespaced(self.rest.clone(), ns);
        let applied = client
            .apply(
                CONFIG_MAP,
                &desired,
                &ApplyOptions::new(FIELD_MANAGER).force(),
            )
            .await?;
        let (reason, note) = match current {
            None => ("Created", format!("created ConfigMap {ns}/{CONFIG_MAP}")),
            Some(_) => (
                "Corrected",
                format!("set data.namespace of {ns}/{CONFIG_MAP}"),
            ),
        };
        tracing::info!(namespace = ns, reason, "reconciled");
        self.events.event(
            &ObjectReference::from_object(&applied),
            None,
            EventType::Normal,
            reason,
            "Reconcile",
            &note,
        );
        Ok(())
    }
}

/// The controller proper, run while this copy leads; returns when `stop` is cancelled. If it
/// cannot start, it ends the term (`term`), so the lease is released rather than held by a
/// copy that does nothing.
async fn run_controller(
    rest: RestClient,
    identity: String,
    stop: CancellationToken,
    term: CancellationToken,
) {
    if let Err(e) = lead(rest, &identity, stop).await {
        tracing::error!(error = %e, "the controller failed; giving up the lease");
        term.cancel();
    }
}

async fn lead(rest: RestClient, identity: &str, stop: CancellationToken) -> Result<(), Error> {
    tracing::info!(identity, "leading: starting the controller");
    // Two factories, so each informer gets its own selector: labelled Namespaces, and only the
    // ConfigMaps this controller manages.
    let namespaces = SharedInformerFactory::builder(rest.clone())
        .tweak_list_options(|o| o.label_selector = Some(format!("{MANAGED_LABEL}=true")))
        .build();
    let config_maps = SharedInformerFactory::builder(rest.clone())
        .tweak_list_options(|o| o.field_selector = Some(format!("metadata.name={CONFIG_MAP}")))
        .build();
    let queue: RateLimitedQueue<String> = RateLimitedQueue::new(default_controller_rate_limiter());

    let ns_informer = namespaces.informer::<Namespace>();
    let enqueue = |queue: &RateLimitedQueue<String>, ns: Option<&str>| {
        if let Some(ns) = ns {
            queue.add(ns.to_string());
        }
    };
    let (q1, q2) = (queue.clone(), queue.clone());
    ns_informer.add_event_handler(
        HandlerFns::new()
            .on_add(move |ns: &Arc<Namespace>, _| enqueue(&q1, ns.metadata.name.as_deref()))
            .on_update(move |_, ns: &Arc<Namespace>| enqueue(&q2, ns.metadata.name.as_deref())),
    );
    let cm_informer = config_maps.informer::<ConfigMap>();
    let (q3, q4) = (queue.clone(), queue.clone());
    cm_informer.add_event_handler(
        HandlerFns::new()
            .on_update(move |_, cm: &Arc<ConfigMap>| enqueue(&q3, cm.metadata.namespace.as_deref()))
            .on_delete(move |gone| enqueue(&q4, gone.object().metadata.namespace.as_deref())),
    );

    let broadcaster = EventBroadcaster::new(rest.clone())?;
    let controller = Arc::new(Controller {
        rest,
        namespaces: ns_informer.lister(),
        managed: cm_informer.lister(),
        events: broadcaster.recorder(CONTROLLER, identity)?,
    });
    namespaces.start()?;
    config_maps.start()?;
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = async {
            namespaces.wait_for_cache_sync().await;
            config_maps.wait_for_cache_sync().await;
        } => tracing::info!("caches synced"),
    }

    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, controller) = (queue.clone(), controller.clone());
            tokio::spawn(async move {
                while let Some(ns) = queue.get().await {
                    match controller.reconcile(&ns).await {
                        Ok(()) => queue.forget(&ns),
                        Err(e) => {
                            tracing::warn!(namespace = %ns, error = %e, "reconcile failed; retrying");
                            queue.add_rate_limited(ns.clone());
                        }
                    }
                    queue.done(&ns);
                }
            })
        })
        .collect();

    stop.cancelled().await;
    tracing::info!("stopping: finishing the work in hand");
    queue.shut_down_with_drain().await;
    for worker in workers {
        let _ = worker.await;
    }
    namespaces.shutdown().await;
    config_maps.shutdown().await;
    if let Err(e) = broadcaster.shutdown(Duration::from_secs(5)).await {
        tracing::warn!(error = %e, "events not all written");
    }
    Ok(())
}

async fn run(options: Options) -> Result<(), Error> {
    let inferred = kubeclient::config::infer(options.kubeconfig.as_deref())?;
    let rest = RestClient::new(&inferred.config)?;
    let shutdown = CancellationToken::new();
    {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal received; shutting down");
            shutdown.cancel();
        });
    }
    // Campaign until told to stop: a copy that loses the lease (e.g. it could not renew while
    // the API server was away) stands again.
    while !shutdown.is_cancelled() {
        let lock = LeaseLock::new(
            Client::<Lease>::namespaced(rest.clone(), LEASE_NAMESPACE),
            LEASE,
            &options.identity,
        );
        let elector = LeaderElector::new(
            LeaderElectionConfig::new(lock)
                .name(LEASE)
                .lease_duration(options.lease_duration)
                .renew_deadline(options.renew_deadline)
                .retry_period(options.retry_period)
                .release_on_cancel(true),
        )?;
        let (rest, identity) = (rest.clone(), options.identity.clone());
        let term = shutdown.child_token();
        let end_term = term.clone();
        let callbacks =
            LeaderCallbacks::new(move |stop| run_controller(rest, identity, stop, end_term))
                .on_new_leader(|leader| tracing::info!(leader, "new leader observed"));
        elector.run(term, callbacks).await;
        if !shutdown.is_cancelled() {
            tracing::warn!("not leading any more; standing again");
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(options.retry_period) => {}
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "error: {e}\nusage: controller [--kubeconfig PATH] [--identity NAME] [--lease-duration S] [--renew-deadline S] [--retry-period S]"
            );
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
