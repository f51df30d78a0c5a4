//! The example controller (`kubeclient/examples/controller.rs`) does what it promises, with two
//! copies running: it keeps the `kubeclient-managed` ConfigMap in a labelled namespace, records
//! Events, hands over to the other copy when its leader is killed, survives kube-apiserver
//! being restarted under it, and releases the Lease when stopped with SIGINT.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kubeclient::api::core::v1::{ConfigMap, Namespace};
use kubeclient::client::{Client, Patch};
use kubeclient::leaderelection::Lease;
use kubeclient::rest::{DeleteOptions, PatchOptions, RestClient};
use serde_json::json;
use test_support::cluster;

const CONFIG_MAP: &str = "kubeclient-managed";

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The example's binary: `cargo test --workspace` builds it next to the test binaries; when
/// a single test is run it is built here.
fn controller_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let binary = profile_dir.join("examples/controller");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "kubeclient", "--example", "controller"])
            .current_dir(repo_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the example failed");
    }
    binary
}

fn start_copy(identity: &str) -> tokio::process::Child {
    let log = std::fs::File::create(std::env::temp_dir().join(format!(
        "kubeclient-example-controller-{identity}-{}.log",
        std::process::id()
    )))
    .expect("log file");
    tokio::process::Command::new(controller_binary())
        .arg("--kubeconfig")
        .arg(cluster().kubeconfig())
        .args(["--identity", identity])
        .args([
            "--lease-duration",
            "4",
            "--renew-deadline",
            "3",
            "--retry-period",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("start the example controller")
}

async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the managed ConfigMap to hold the namespace's name; its uid.
async fn managed_config_map(ns: &str) -> String {
    let cms = Client::<ConfigMap>::namespaced(rest(), ns);
    eventually("the managed ConfigMap", Duration::from_secs(60), || {
        let cms = cms.clone();
        async move {
            let cm = cms.get(CONFIG_MAP, &Default::default()).await.ok()?;
            let data = cm.data.as_ref()?;
            (data.get("namespace").map(|v| v.as_str()) == Some(ns))
                .then(|| cm.metadata.uid.as_deref().unwrap_or_default().to_string())
        }
    })
    .await
}

async fn lease_holder() -> Option<String> {
    let lease = Client::<Lease>::namespaced(rest(), "default")
        .get("kubeclient-example-controller", &Default::default())
        .await
        .ok()?;
    lease.spec.holder_identity.filter(|h| !h.is_empty())
}

async fn created_events(ns: &str) -> usize {
    let events: serde_json::Value = rest()
        .get()
        .group_version("events.k8s.io/v1")
        .namespace(ns)
        .resource("events")
        .into_json()
        .await
        .expect("list events");
    events["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| {
                    e["reason"] == "Created"
                        && e["reportingController"] == "kubeclient.dev/example-controller"
                        && e["regarding"]["name"] == CONFIG_MAP
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_copies_keep_the_config_map_through_leader_loss_and_an_apiserver_restart() {
    let cluster_lock = test_support::exclusive().await;
    let ns = cluster_lock.namespace().await;
    let ns = ns.name().to_string();
    Client::<Namespace>::cluster(rest())
        .patch(
            &ns,
            &Patch::Merge(json!({"metadata": {"labels": {"kubeclient.dev/managed": "true"}}})),
            &PatchOptions::default(),
        )
        .await
        .expect("label the namespace");

    let mut copies = vec![("a", start_copy("a")), ("b", start_copy("b"))];
    let first_uid = managed_config_map(&ns).await;
    let leader = eventually("a leader", Duration::from_secs(30), || async {
        lease_holder().await
    })
    .await;
    assert!(leader == "a" || leader == "b", "leader {leader}");
    eventually(
        "an Event for the creation",
        Duration::from_secs(30),
        || async { (created_events(&ns).await >= 1).then_some(()) },
    )
    .await;

    // Kill the leader without a chance to release: the other copy takes over.
    let index = copies
        .iter()
        .position(|(id, _)| *id == leader)
        .expect("the leader is one of ours");
    let (_, mut killed) = copies.remove(index);
    killed.kill().await.expect("kill the leader");
    let cms = Client::<ConfigMap>::namespaced(rest(), &ns);
    cms.delete(CONFIG_MAP, &DeleteOptions::default())
        .await
        .expect("delete the managed ConfigMap");
    let second_uid = managed_config_map(&ns).await;
    assert_ne!(first_uid, second_uid, "recreated");
    let survivor = copies[0].0;
    assert_eq!(lease_holder().await.as_deref(), Some(survivor));
    eventually(
        "an Event for the recreation",
        Duration::from_secs(30),
        || async { (created_events(&ns).await >= 2).then_some(()) },
    )
    .await;

    // kube-apiserver goes away and comes back under the running controller.
    cluster_lock
        .restart_apiserver()
        .await
        .expect("restart kube-apiserver");
    cms.delete(CONFIG_MAP, &DeleteOptions::default())
        .await
        .expect("delete the managed ConfigMap");
    let third_uid = managed_config_map(&ns).await;
    assert_ne!(second_uid, third_uid, "recreated after the restart");

    // SIGINT: a clean stop that releases the Lease.
    let (_, mut last) = copies.remove(0);
    let pid = last.id().expect("running");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("send SIGINT");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(20), last.wait())
        .await
        .expect("stops within 20 s of SIGINT")
        .expect("exit status");
    assert!(status.success(), "{status}");
    assert_eq!(lease_holder().await, None, "the Lease is released");
}
