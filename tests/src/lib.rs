//! Support for kubeclient's behaviour tests: access to the real control plane started by
//! `controlplane/cluster up`, a fresh namespace per test, and the fault helpers (restart
//! kube-apiserver, compact etcd) that later fault tests need.
//!
//! Which cluster: `KUBECLIENT_CLUSTER_DIR` names the directory `controlplane/cluster` keeps its
//! state in (default `target/controlplane`); the admin kubeconfig is `admin.kubeconfig` there
//! unless `KUBECLIENT_TEST_KUBECONFIG` names another file. `scripts/test` sets both.
//!
//! Tests run in parallel: each takes its own namespace through [`namespace`]. A test that
//! disturbs the whole cluster (restarting kube-apiserver, compacting etcd) takes
//! [`exclusive`] instead, which waits until no other test of the same test binary holds a
//! namespace. Cargo runs test binaries one after another, so that is enough.
//!
//! This crate reads kubeconfigs and speaks HTTP with its own small, independent client
//! (reqwest): it only sets up and inspects, so a bug in kubeclient cannot hide itself here.

pub mod api;
pub mod api_round_trip;
pub mod faults;
mod gate;
mod kubeconfig;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

pub use kubeconfig::Access;

/// What went wrong in the test support; tests usually `expect` it with context.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The control plane the tests run against.
pub struct TestCluster {
    dir: PathBuf,
    admin: Access,
}

/// The test cluster, loaded once per test binary.
///
/// # Panics
/// When the cluster cannot be reached: behaviour tests fail loudly, they never skip.
pub fn cluster() -> &'static TestCluster {
    static CLUSTER: OnceLock<TestCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| match TestCluster::from_env() {
        Ok(c) => c,
        Err(e) => panic!(
            "no test control plane: {e}\n\
             start one with `controlplane/cluster up`, or run the whole suite with `scripts/test`"
        ),
    })
}

fn repo_root() -> PathBuf {
    // This crate lives in <repo>/tests.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The kubectl that `controlplane/build` builds with the control plane
/// (`target/controlplane/bin/kubectl` in the repository).
pub fn kubectl_binary() -> PathBuf {
    repo_root().join("target/controlplane/bin/kubectl")
}

impl TestCluster {
    fn from_env() -> Result<Self, Error> {
        let dir = std::env::var_os("KUBECLIENT_CLUSTER_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join("target/controlplane"));
        let kubeconfig = std::env::var_os("KUBECLIENT_TEST_KUBECONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("admin.kubeconfig"));
        let admin = Access::from_kubeconfig(&kubeconfig)?;
        Ok(TestCluster { dir, admin })
    }

    /// The admin kubeconfig (client certificate of `system:masters`).
    pub fn kubeconfig(&self) -> &Path {
        self.admin.kubeconfig()
    }

    /// The kubeconfig of the non-admin token user `kubeclient-user`.
    pub fn user_kubeconfig(&self) -> PathBuf {
        self.dir.join("user.kubeconfig")
    }

    /// The state directory of the local control plane.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Admin access to the API server.
    pub fn admin(&self) -> &Access {
        &self.admin
    }

    /// kubeclient's own client configuration for the admin kubeconfig, loaded the way users
    /// load theirs.
    ///
    /// # Panics
    /// If the kubeconfig cannot be loaded: the test cannot run without it.
    pub fn rest_config(&self) -> kubeclient::rest::Config {
        rest_config_from(self.kubeconfig())
    }

    /// A client with the admin's configuration and no client-side throttling, for tests that
    /// write a lot.
    ///
    /// # Panics
    /// If the client cannot be built.
    pub fn unthrottled_client(&self) -> kubeclient::rest::RestClient {
        let mut config = self.rest_config();
        config.qps = -1.0;
        kubeclient::rest::RestClient::new(&config).unwrap_or_else(|e| panic!("client: {e}"))
    }

    /// The kubectl built with the control plane.
    pub fn kubectl(&self) -> Command {
        let mut cmd = Command::new(kubectl_binary());
        cmd.arg("--kubeconfig").arg(self.kubeconfig());
        cmd
    }
}

/// kubeclient's client configuration for the current context of the kubeconfig at `path`.
///
/// # Panics
/// If the kubeconfig cannot be loaded.
pub fn rest_config_from(path: &Path) -> kubeclient::rest::Config {
    use kubeclient::config::{ClientConfig, ConfigOverrides, LoadingRules, from_resolved};
    let rules = LoadingRules::from_env_values(None, None).with_explicit_path(path);
    let loaded = ClientConfig::load(&rules, ConfigOverrides::default())
        .and_then(|c| c.resolve())
        .unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    from_resolved(&loaded).unwrap_or_else(|e| panic!("client config from {}: {e}", path.display()))
}

/// A namespace made for one test and deleted when the value is dropped.
///
/// The cluster runs no kube-controller-manager, so a deleted namespace stays `Terminating`
/// (its contents are not removed) until the cluster goes down; it no longer accepts new objects.
pub struct TestNamespace {
    name: String,
    _shared: Option<gate::Shared>,
}

impl TestNamespace {
    /// The namespace's generated name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let name = self.name.clone();
        let access = cluster().admin().clone();
        // Drop may run inside a test's runtime, which must not block: delete from a thread of
        // its own with a runtime of its own.
        let deleted = std::thread::spawn(move || -> Result<(), Error> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let resp = access
                    .client()
                    .delete(access.url(&format!("/api/v1/namespaces/{name}")))
                    .send()
                    .await?;
                let status = resp.status();
                if status.is_success() || status.as_u16() == 404 {
                    Ok(())
                } else {
                    Err(format!("deleting namespace {name}: HTTP {status}").into())
                }
            })
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test support: {e}"),
            Err(_) => eprintln!(
                "test support: the thread deleting namespace {} panicked",
                self.name
            ),
        }
    }
}

async fn create_namespace(shared: Option<gate::Shared>) -> TestNamespace {
    let access = cluster().admin();
    let body = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"generateName": "kc-test-", "labels": {"kubeclient.test/owner": "test-support"}},
    });
    let created: Result<Value, Error> = async {
        let resp = access
            .client()
            .post(access.url("/api/v1/namespaces"))
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let value: Value = resp.json().await?;
        if !status.is_success() {
            return Err(format!("HTTP {status}: {value}").into());
        }
        Ok(value)
    }
    .await;
    let created = created.unwrap_or_else(|e| panic!("creating a test namespace: {e}"));
    let name = created["metadata"]["name"]
        .as_str()
        .unwrap_or_else(|| panic!("created namespace has no name: {created}"))
        .to_string();
    TestNamespace {
        name,
        _shared: shared,
    }
}

/// A fresh namespace for the calling test, deleted when dropped. Tests holding one run in
/// parallel with each other but never alongside an [`Exclusive`] test.
pub async fn namespace() -> TestNamespace {
    let shared = gate::shared().await;
    create_namespace(Some(shared)).await
}

/// Exclusive use of the cluster, for tests that disturb it: waits until no other test of
/// this binary holds a namespace, and keeps them waiting until dropped.
pub async fn exclusive() -> Exclusive {
    Exclusive {
        _guard: gate::exclusive().await,
    }
}

/// Held by a test that disturbs the whole cluster; see [`exclusive`].
pub struct Exclusive {
    _guard: gate::Exclusive,
}

impl Exclusive {
    /// A fresh namespace for this test, deleted when dropped.
    pub async fn namespace(&self) -> TestNamespace {
        create_namespace(None).await
    }

    /// Stops kube-apiserver and starts it again with the same flags and port; returns once it
    /// is ready again.
    pub async fn restart_apiserver(&self) -> Result<(), Error> {
        run_cluster_script(&["restart-apiserver"]).await
    }

    /// Compacts etcd's history up to `revision`: watches and lists at older resourceVersions
    /// then fail with 410 Gone (once kube-apiserver's watch cache no longer holds them).
    pub async fn compact_etcd(&self, revision: u64) -> Result<(), Error> {
        run_cluster_script(&["compact", &revision.to_string()]).await
    }
}

async fn run_cluster_script(args: &[&str]) -> Result<(), Error> {
    let script = repo_root().join("controlplane/cluster");
    let out = tokio::process::Command::new("bash")
        .arg(&script)
        .args(args)
        .env("KUBECLIENT_CLUSTER_DIR", cluster().dir())
        .output()
        .await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "controlplane/cluster {} failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into())
    }
}
