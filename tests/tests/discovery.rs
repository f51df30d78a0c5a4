//! Discovery against the real API server, compared with what the real kubectl reports: the
//! server version, the group versions (`kubectl api-versions`), the resources
//! (`kubectl api-resources -o wide`), aggregated against legacy discovery, the disk cache
//! (written, reused, shared with kubectl, invalidated, healed), and the RESTMapper on
//! built-in names and a CRD created for the test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use kubeclient::discovery::{
    Discovery, DiscoveryClient, DiskCache, GroupVersion, GroupVersionKind, GroupVersionResource,
    Scope,
};
use kubeclient::rest::{self, RequestMetric, RequestMetrics, RestClient};
use serde_json::{Value, json};
use test_support::api::scratch_dir;
use test_support::cluster;

/// Groups of the CRDs the tests here create; left out of comparisons with kubectl, since a
/// CRD may appear between two discoveries while tests run in parallel.
const TEST_GROUP_SUFFIX: &str = ".discovery-test.kubeclient.io";

fn is_test_group(group_version: &str) -> bool {
    group_version
        .split('/')
        .next()
        .is_some_and(|g| g.ends_with(TEST_GROUP_SUFFIX))
}

/// Held by the tests that need every API available (those comparing with kubectl, which
/// fails on an unavailable one, and those expecting no failed group) and by the test that
/// registers an unavailable APIService.
static KUBECTL_VIEW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// kubectl with a cache directory of its own, so it discovers afresh.
fn kubectl(args: &[&str], cache_dir: &Path) -> String {
    let out = cluster()
        .kubectl()
        .arg("--cache-dir")
        .arg(cache_dir)
        .args(args)
        .output()
        .expect("running kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("kubectl output is UTF-8")
}

fn discovery_client() -> DiscoveryClient {
    DiscoveryClient::new(&cluster().rest_config()).expect("discovery client")
}

/// Counts the requests made with a configuration.
#[derive(Debug, Default)]
struct Counter(AtomicUsize);

impl RequestMetrics for Counter {
    fn observe(&self, _metric: &RequestMetric) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counter {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

fn counted_config() -> (rest::Config, Arc<Counter>) {
    let counter = Arc::new(Counter::default());
    let mut config = cluster().rest_config();
    config.metrics = Some(counter.clone());
    (config, counter)
}

/// Retries a comparison a few times: a CRD of a test running alongside may come and go
/// between two discoveries.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut last = String::new();
    for _ in 0..3 {
        match check().await {
            Ok(()) => return,
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{what}: {last}");
}

#[tokio::test]
async fn server_version_matches_the_version_endpoint_and_kubectl() {
    let info = discovery_client().server_version().await.expect("version");
    let raw: Value = RestClient::new(&cluster().rest_config())
        .expect("client")
        .get()
        .abs_path("/version")
        .into_json()
        .await
        .expect("GET /version");
    assert_eq!(serde_json::to_value(&info).expect("json"), raw);
    for (field, value) in [
        ("major", &info.major),
        ("minor", &info.minor),
        ("gitVersion", &info.git_version),
        ("gitCommit", &info.git_commit),
        ("gitTreeState", &info.git_tree_state),
        ("buildDate", &info.build_date),
        ("goVersion", &info.go_version),
        ("compiler", &info.compiler),
        ("platform", &info.platform),
    ] {
        assert_eq!(raw[field], json!(value), "{field}");
        assert!(!value.is_empty(), "{field} is empty");
    }
    let _view = KUBECTL_VIEW.lock().await;
    let scratch = scratch_dir("discovery-version");
    let kubectl: Value =
        serde_json::from_str(&kubectl(&["version", "-o", "json"], &scratch)).expect("json");
    assert_eq!(kubectl["serverVersion"], raw);
}

async fn discover(legacy: bool) -> Arc<Discovery> {
    let discovery = discovery_client()
        .legacy_only(legacy)
        .discover()
        .await
        .expect("discover");
    assert!(discovery.failed.is_empty(), "{:?}", discovery.failed);
    discovery
}

#[tokio::test]
async fn group_versions_equal_kubectl_api_versions() {
    let _view = KUBECTL_VIEW.lock().await;
    let scratch = scratch_dir("discovery-api-versions");
    for legacy in [false, true] {
        eventually(&format!("api-versions (legacy: {legacy})"), || async {
            let ours: BTreeSet<String> = discover(legacy)
                .await
                .group_versions()
                .iter()
                .map(ToString::to_string)
                .filter(|gv| !is_test_group(gv))
                .collect();
            let theirs: BTreeSet<String> = kubectl(&["api-versions"], &scratch)
                .lines()
                .map(str::to_string)
                .filter(|gv| !is_test_group(gv))
                .collect();
            if ours.len() < 10 {
                return Err(format!("too few group versions: {ours:?}"));
            }
            (ours == theirs)
                .then_some(())
                .ok_or_else(|| format!("ours {ours:?}\nkubectl {theirs:?}"))
        })
        .await;
    }
}

/// One row of `kubectl api-resources -o wide`, with verbs and categories sorted.
type Row = (String, String, String, String, String, String, String);

fn sorted_list(items: impl IntoIterator<Item = String>) -> String {
    let mut items: Vec<String> = items.into_iter().filter(|s| !s.is_empty()).collect();
    items.sort();
    items.join(",")
}

/// Parses kubectl's table by the columns' start positions in the header (cells hold no
/// spaces, and empty cells are blank).
fn parse_api_resources(table: &str) -> BTreeSet<Row> {
    let mut lines = table.lines();
    let header = lines.next().expect("header");
    let columns = [
        "NAME",
        "SHORTNAMES",
        "APIVERSION",
        "NAMESPACED",
        "KIND",
        "VERBS",
        "CATEGORIES",
    ];
    let starts: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .find(c)
                .unwrap_or_else(|| panic!("no {c} column in {header}"))
        })
        .collect();
    let cell = |line: &str, i: usize| -> String {
        let start = starts[i].min(line.len());
        let end = starts
            .get(i + 1)
            .copied()
            .unwrap_or(line.len())
            .min(line.len());
        line[start..end].trim().to_string()
    };
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let split = |s: String| s.split(',').map(str::to_string).collect::<Vec<_>>();
            (
                cell(line, 0),
                sorted_list(split(cell(line, 1))),
                cell(line, 2),
                cell(line, 3),
                cell(line, 4),
                sorted_list(split(cell(line, 5))),
                sorted_list(split(cell(line, 6))),
            )
        })
        .filter(|row| !is_test_group(&row.2))
        .collect()
}

fn our_api_resources(discovery: &Discovery) -> BTreeSet<Row> {
    discovery
        .preferred_resources()
        .into_iter()
        .filter(|(gv, _)| !is_test_group(&gv.to_string()))
        .map(|(gv, r)| {
            (
                r.name.clone(),
                sorted_list(r.short_names.clone()),
                gv.to_string(),
                r.namespaced.to_string(),
                r.kind.clone(),
                sorted_list(r.verbs.clone()),
                sorted_list(r.categories.clone()),
            )
        })
        .collect()
}

#[tokio::test]
async fn resources_equal_kubectl_api_resources() {
    let _view = KUBECTL_VIEW.lock().await;
    let scratch = scratch_dir("discovery-api-resources");
    for legacy in [false, true] {
        eventually(&format!("api-resources (legacy: {legacy})"), || async {
            let ours = our_api_resources(&*discover(legacy).await);
            let theirs = parse_api_resources(&kubectl(&["api-resources", "-o", "wide"], &scratch));
            if theirs.len() < 40 {
                return Err(format!("kubectl listed too little: {theirs:?}"));
            }
            if ours == theirs {
                return Ok(());
            }
            Err(format!(
                "only ours: {:?}\nonly kubectl's: {:?}",
                ours.difference(&theirs).collect::<Vec<_>>(),
                theirs.difference(&ours).collect::<Vec<_>>()
            ))
        })
        .await;
    }
    // Spot checks of what the table does not show: subresources and singular names.
    let discovery = discover(false).await;
    let apps = discovery.resources_for(&GroupVersion::new("apps", "v1"));
    let deployments = apps
        .iter()
        .find(|r| r.name == "deployments")
        .expect("deployments");
    assert_eq!(deployments.singular_name, "deployment");
    let scale = deployments.subresource("scale").expect("deployments/scale");
    assert_eq!(
        (
            scale.group.as_str(),
            scale.version.as_str(),
            scale.kind.as_str()
        ),
        ("autoscaling", "v1", "Scale")
    );
    let core = discovery.resources_for(&GroupVersion::new("", "v1"));
    let pods = core.iter().find(|r| r.name == "pods").expect("pods");
    for sub in ["log", "exec", "status", "eviction", "binding"] {
        assert!(pods.subresource(sub).is_some(), "pods/{sub}");
    }
}

/// Deletes an object by its absolute path when the test ends, pass or fail.
struct DeleteOnDrop {
    path: String,
}

impl Drop for DeleteOnDrop {
    fn drop(&mut self) {
        let path = self.path.clone();
        let deleted = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let client =
                    RestClient::new(&cluster().rest_config()).map_err(|e| e.to_string())?;
                match client.delete().abs_path(&path).raw().await {
                    Err(e) if !e.is_not_found() => Err(e.to_string()),
                    _ => Ok(()),
                }
            })
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("deleting {}: {deleted:?}", self.path);
        }
    }
}

/// A unique suffix for names made by one test run.
fn unique() -> String {
    format!(
        "{}{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    )
}

/// An APIService whose backend does not exist: aggregated discovery marks its version
/// `Stale`, the legacy endpoint answers 503. Either way it is reported, and the rest of
/// discovery (and the RESTMapper) works.
#[tokio::test]
async fn an_unavailable_api_service_is_reported_not_fatal() {
    let _view = KUBECTL_VIEW.lock().await;
    let group = format!("u{}{TEST_GROUP_SUFFIX}", unique());
    let name = format!("v1.{group}");
    let rest = RestClient::new(&cluster().rest_config()).expect("client");
    let service = json!({
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": name},
        "spec": {
            "group": group, "version": "v1", "groupPriorityMinimum": 100, "versionPriority": 10,
            "insecureSkipTLSVerify": true,
            "service": {"namespace": "default", "name": "kubeclient-no-such-service"}
        }
    });
    let _guard = DeleteOnDrop {
        path: format!("/apis/apiregistration.k8s.io/v1/apiservices/{name}"),
    };
    rest.post()
        .abs_path("/apis/apiregistration.k8s.io/v1/apiservices")
        .json(&service)
        .into_json::<Value>()
        .await
        .expect("create APIService");
    let gv = GroupVersion::new(&group, "v1");
    for legacy in [false, true] {
        let deadline = Instant::now() + Duration::from_secs(30);
        let found = loop {
            let found = discovery_client()
                .legacy_only(legacy)
                .discover()
                .await
                .expect("discovery does not fail as a whole");
            if found.failed.contains_key(&gv) {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "{gv} never reported (legacy: {legacy}): {:?}",
                found.failed
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let reason = &found.failed[&gv];
        if legacy {
            assert!(reason.contains("503"), "{reason}");
        } else {
            assert!(reason.contains("stale"), "{reason}");
        }
        let err = found.ensure_complete().expect_err("incomplete");
        assert!(err.to_string().contains(&gv.to_string()), "{err}");
        assert!(
            found
                .resources
                .contains_key(&GroupVersion::new("apps", "v1"))
        );
        let mapping = kubeclient::discovery::RestMapper::new(&found)
            .resolve("deploy")
            .expect("deploy");
        assert_eq!(mapping.resource.resource, "deployments");
    }
}

/// A discovery with resources sorted by name, for comparing two formats whose order may
/// differ.
fn normalised(discovery: &Discovery) -> Discovery {
    let mut d = discovery.clone();
    d.groups.retain(|g| !g.name.ends_with(TEST_GROUP_SUFFIX));
    d.resources
        .retain(|gv, _| !gv.group.ends_with(TEST_GROUP_SUFFIX));
    for resources in d.resources.values_mut() {
        resources.sort_by(|a, b| a.name.cmp(&b.name));
        for r in resources.iter_mut() {
            r.subresources.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    d
}

#[tokio::test]
async fn aggregated_and_legacy_discovery_agree() {
    let _view = KUBECTL_VIEW.lock().await;
    eventually("aggregated vs legacy", || async {
        let aggregated = normalised(&*discover(false).await);
        let legacy = normalised(&*discover(true).await);
        if aggregated.groups != legacy.groups {
            return Err(format!(
                "groups differ:\n{:?}\n{:?}",
                aggregated.groups, legacy.groups
            ));
        }
        for (gv, resources) in &aggregated.resources {
            let other = legacy.resources_for(gv);
            for (a, b) in resources.iter().zip(other) {
                if a != b {
                    return Err(format!("{gv}: aggregated {a:?}\nlegacy {b:?}"));
                }
            }
            if resources.len() != other.len() {
                return Err(format!(
                    "{gv}: {} vs {} resources",
                    resources.len(),
                    other.len()
                ));
            }
        }
        (aggregated == legacy)
            .then_some(())
            .ok_or_else(|| "the discoveries differ".to_string())
    })
    .await;
}

/// The aggregated path makes two requests (`/api`, `/apis`); the legacy path one more per
/// group version.
#[tokio::test]
async fn aggregated_discovery_takes_two_requests() {
    let _view = KUBECTL_VIEW.lock().await;
    let (config, counter) = counted_config();
    let client = DiscoveryClient::new(&config).expect("client");
    let found = client.discover().await.expect("discover");
    assert_eq!(counter.take(), 2);
    // Memory cache: no request the second time.
    let again = client.discover().await.expect("discover again");
    assert!(Arc::ptr_eq(&found, &again));
    assert_eq!(counter.take(), 0);
    client.invalidate().await;
    client.discover().await.expect("after invalidate");
    assert_eq!(counter.take(), 2);

    let legacy = DiscoveryClient::new(&config)
        .expect("client")
        .legacy_only(true);
    let found = legacy.discover().await.expect("legacy discover");
    assert_eq!(counter.take(), 2 + found.group_versions().len());
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn the_disk_cache_is_written_reused_shared_with_kubectl_and_refreshed() {
    let _view = KUBECTL_VIEW.lock().await;
    let root = scratch_dir("discovery-disk-cache");
    let (config, counter) = counted_config();
    let cache = || DiskCache::in_root(&root, &config.host);
    let port = config.host.port().expect("port");
    let dir: PathBuf = root.join("discovery").join(format!("127.0.0.1_{port}"));
    assert_eq!(cache().dir(), dir);

    // Written.
    let first = DiscoveryClient::new(&config)
        .expect("client")
        .with_disk_cache(cache());
    let found = first.discover().await.expect("discover");
    assert!(counter.take() > 0);
    let groups_file = dir.join("servergroups.json");
    let apps_file = dir.join("apps/v1/serverresources.json");
    for file in [
        &groups_file,
        &apps_file,
        &dir.join("v1/serverresources.json"),
    ] {
        let value: Value = serde_json::from_slice(&std::fs::read(file).expect("cache file"))
            .expect("cache file is JSON");
        assert!(value["kind"] == "APIGroupList" || value["kind"] == "APIResourceList");
    }
    let written = mtime(&groups_file);

    // Reused within the TTL by another client (as by another process): no request at all.
    let second = DiscoveryClient::new(&config)
        .expect("client")
        .with_disk_cache(cache());
    let cached = second.discover().await.expect("discover from cache");
    assert_eq!(counter.take(), 0, "discovery came from the disk cache");
    assert_eq!(normalised(&cached), normalised(&found));
    assert!(!second.fresh(), "files of another client are not fresh");
    assert_eq!(mtime(&groups_file), written);

    // kubectl reads our files as its own (`api-resources --cached` skips its invalidation):
    // the same table, and no file rewritten.
    let apps_written = mtime(&apps_file);
    let theirs = parse_api_resources(&kubectl(
        &["api-resources", "--cached", "-o", "wide"],
        &root,
    ));
    assert_eq!(our_api_resources(&cached), theirs);
    assert_eq!(mtime(&groups_file), written, "kubectl used our groups file");
    assert_eq!(
        mtime(&apps_file),
        apps_written,
        "kubectl used our apps/v1 file"
    );

    // Refreshed after invalidate.
    tokio::time::sleep(Duration::from_millis(20)).await;
    second.invalidate().await;
    second.discover().await.expect("discover after invalidate");
    assert!(counter.take() >= 2);
    assert!(mtime(&groups_file) > written, "rewritten after invalidate");
    assert!(second.fresh());

    // Expired files are not used.
    let expired = DiscoveryClient::new(&config)
        .expect("client")
        .with_disk_cache(cache().ttl(Duration::ZERO));
    tokio::time::sleep(Duration::from_millis(20)).await;
    expired
        .discover()
        .await
        .expect("discover with expired cache");
    assert!(counter.take() >= 2);

    // Corrupt files are ignored and rewritten.
    std::fs::write(&groups_file, b"{\"groups\": [{\"name\": 7").expect("corrupt");
    std::fs::write(&apps_file, b"\xff\xfe garbage").expect("corrupt");
    let healed = DiscoveryClient::new(&config)
        .expect("client")
        .with_disk_cache(cache())
        .discover()
        .await
        .expect("discover over corrupt cache");
    assert!(counter.take() >= 2);
    assert_eq!(normalised(&healed), normalised(&found));
    for file in [&groups_file, &apps_file] {
        serde_json::from_slice::<Value>(&std::fs::read(file).expect("read"))
            .unwrap_or_else(|e| panic!("{} not rewritten: {e}", file.display()));
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn the_rest_mapper_resolves_builtin_names() {
    let discovery = discovery_client();
    let deployments = GroupVersionResource::new("apps", "v1", "deployments");
    for input in [
        "deploy",
        "deployments",
        "deployment",
        "Deployment",
        "deployments.apps",
        "deployments.v1.apps",
    ] {
        let mapping = discovery
            .resolve(input)
            .await
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(mapping.resource, deployments, "{input}");
        assert_eq!(
            mapping.kind,
            GroupVersionKind::new("apps", "v1", "Deployment")
        );
        assert_eq!(mapping.scope, Scope::Namespaced);
    }
    let pods = discovery.resolve("po").await.expect("po");
    assert_eq!(pods.resource, GroupVersionResource::new("", "v1", "pods"));
    let cm = discovery.resolve("cm").await.expect("cm");
    assert_eq!(cm.kind, GroupVersionKind::new("", "v1", "ConfigMap"));
    let ns = discovery.resolve("ns").await.expect("ns");
    assert_eq!(ns.scope, Scope::Cluster);
    // kubectl prefers core v1 events over events.k8s.io.
    assert_eq!(
        discovery.resolve("ev").await.expect("ev").resource.group,
        ""
    );
    let hpa = discovery.resolve("hpa").await.expect("hpa");
    assert_eq!(hpa.resource.version, "v2");

    let mapper = discovery.rest_mapper().await.expect("mapper");
    let back = mapper
        .mapping_for_kind(&GroupVersionKind::new(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
        ))
        .expect("ClusterRole");
    assert_eq!(back.resource.resource, "clusterroles");
    assert_eq!(back.scope, Scope::Cluster);
    let err = discovery.resolve("deploymentz").await.expect_err("typo");
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("deployments.apps"), "{err}");
}

#[tokio::test]
async fn the_rest_mapper_resolves_a_new_crd_after_invalidate() {
    let unique = unique();
    let group = format!("g{unique}{TEST_GROUP_SUFFIX}");
    let short = format!("kcw{unique}");
    let name = format!("widgets.{group}");
    let discovery = discovery_client();
    // Discovered before the CRD exists, so the mapper has to be refreshed.
    discovery.discover().await.expect("discover");

    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": [short], "categories": ["kubeclient-test"]},
            "versions": [
                {"name": "v1", "served": true, "storage": true,
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                {"name": "v1beta1", "served": true, "storage": false,
                 "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
            ]
        }
    });
    let _guard = DeleteOnDrop {
        path: format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"),
    };
    test_support::api::create_crd(&crd).await;

    // The cached discovery does not know it yet.
    let stale = discovery.rest_mapper().await.expect("mapper");
    assert!(
        stale
            .resolve(&short)
            .expect_err("not yet discovered")
            .is_not_found()
    );

    let expected = GroupVersionResource::new(&group, "v1", "widgets");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mapping = loop {
        discovery.invalidate().await;
        match discovery.resolve(&short).await {
            Ok(mapping) => break mapping,
            Err(e) => {
                // The server publishes a new CRD in discovery a moment after Established.
                assert!(Instant::now() < deadline, "{short}: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(mapping.resource, expected);
    assert_eq!(mapping.kind, GroupVersionKind::new(&group, "v1", "Widget"));
    assert_eq!(mapping.scope, Scope::Namespaced);
    for input in [
        "widget",
        "widgets",
        "Widget",
        &format!("widgets.{group}"),
        &format!("Widget.{group}"),
    ] {
        let found = discovery
            .resolve(input)
            .await
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(found.resource, expected, "{input}");
    }
    let beta = discovery
        .resolve(&format!("widgets.v1beta1.{group}"))
        .await
        .expect("v1beta1");
    assert_eq!(beta.resource.version, "v1beta1");
    let mapper = discovery.rest_mapper().await.expect("mapper");
    assert_eq!(
        mapper.category("kubeclient-test"),
        [expected.group_resource()]
    );
}
