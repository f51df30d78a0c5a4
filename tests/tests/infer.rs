//! The seed program's configuration order, end to end in a process of its own (`probe`, so
//! each case has its own environment): `--kubeconfig`, else `KUBECONFIG`, else
//! `~/.kube/config`, and in-cluster configuration (emulated: the service-account variables and
//! a token directory of our own) only when no kubeconfig is found, as client-go's deferred
//! loading; and `HTTPS_PROXY`/`NO_PROXY`.

use std::path::Path;

use serde_json::{Value, json};
use test_support::api::{admin_cluster, scratch_dir, user_token, write_kubeconfig};
use test_support::cluster;
use test_support::proxy::TestProxy;

struct Probe {
    ok: bool,
    /// `<source> namespace=<ns>`
    source: String,
    status: u16,
    body: Value,
    stderr: String,
}

/// Runs `probe args...` with exactly the environment `env` (plus PATH), HOME in `home`.
async fn probe(home: &Path, env: &[(&str, String)], args: &[&str]) -> Probe {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_probe"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run probe");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut parts = stdout.splitn(4, ' ');
    let source = format!(
        "{} {}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    );
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = parts
        .next()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Probe {
        ok: out.status.success(),
        source,
        status,
        body,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn user_of(p: &Probe) -> &str {
    p.body["status"]["userInfo"]["username"]
        .as_str()
        .unwrap_or_default()
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn kubeconfig_env_then_home_then_explicit_flag() {
    let home = scratch_dir("infer-home");
    let admin = path_str(cluster().kubeconfig());
    let user = path_str(&cluster().user_kubeconfig());

    // KUBECONFIG names the user's file.
    let p = probe(&home, &[("KUBECONFIG", user.clone())], &["whoami"]).await;
    assert!(p.ok, "{}", p.stderr);
    assert_eq!((p.status, user_of(&p)), (201, "kubeclient-user"));
    assert_eq!(
        p.source,
        "context=kubeclient-user@kubeclient-local namespace=default"
    );

    // No KUBECONFIG: ~/.kube/config.
    std::fs::create_dir_all(home.join(".kube")).expect(".kube");
    std::fs::copy(cluster().kubeconfig(), home.join(".kube/config")).expect("copy");
    let p = probe(&home, &[], &["whoami"]).await;
    assert_eq!(user_of(&p), "admin", "{}", p.stderr);

    // --kubeconfig wins over KUBECONFIG.
    let p = probe(
        &home,
        &[("KUBECONFIG", admin)],
        &["--kubeconfig", &user, "whoami"],
    )
    .await;
    assert_eq!(user_of(&p), "kubeclient-user", "{}", p.stderr);

    // An explicit file that does not exist is an error naming it.
    let p = probe(
        &home,
        &[],
        &["--kubeconfig", "/nonexistent/kubeconfig", "whoami"],
    )
    .await;
    assert!(
        !p.ok && p.stderr.contains("/nonexistent/kubeconfig"),
        "{}",
        p.stderr
    );
}

/// An emulated pod: a service-account directory holding the test user's token, the
/// cluster's CA and namespace `team-b`, and the environment variables a pod gets.
fn emulated_pod(tag: &str) -> (std::path::PathBuf, Vec<(&'static str, String)>) {
    let sa = scratch_dir(tag);
    let server = url::Url::parse(&admin_cluster().server).expect("server");
    std::fs::write(sa.join("token"), user_token()).expect("token");
    std::fs::write(
        sa.join("ca.crt"),
        admin_cluster().certificate_authority_data,
    )
    .expect("ca");
    std::fs::write(sa.join("namespace"), "team-b").expect("namespace");
    let env = vec![
        (
            "KUBERNETES_SERVICE_HOST",
            server.host_str().unwrap_or_default().to_string(),
        ),
        (
            "KUBERNETES_SERVICE_PORT",
            server.port().unwrap_or_default().to_string(),
        ),
    ];
    (sa, env)
}

#[tokio::test]
async fn in_cluster_configuration_when_no_kubeconfig_is_found() {
    let home = scratch_dir("infer-pod");
    let (sa, env) = emulated_pod("infer-sa");
    let p = probe(
        &home,
        &env,
        &["--service-account-dir", &path_str(&sa), "whoami"],
    )
    .await;
    assert!(p.ok, "{}", p.stderr);
    assert_eq!(p.source, "in-cluster namespace=team-b");
    assert_eq!(user_of(&p), "kubeclient-user");
}

#[tokio::test]
async fn a_kubeconfig_wins_over_in_cluster_configuration() {
    // client-go's deferred loading: in a pod, a kubeconfig that selects a context is used;
    // the service account only when none is found.
    let home = scratch_dir("infer-pod-kubeconfig");
    let (sa, pod) = emulated_pod("infer-sa-kubeconfig");
    let sa_arg = path_str(&sa);
    let admin = path_str(cluster().kubeconfig());
    let user = path_str(&cluster().user_kubeconfig());

    // KUBECONFIG.
    let mut env = pod.clone();
    env.push(("KUBECONFIG", admin.clone()));
    let p = probe(&home, &env, &["--service-account-dir", &sa_arg, "whoami"]).await;
    assert!(p.ok, "{}", p.stderr);
    assert!(p.source.starts_with("context="), "{}", p.source);
    assert_eq!(user_of(&p), "admin");

    // --kubeconfig, over KUBECONFIG too; its context names namespace `default`, which stays.
    let p = probe(
        &home,
        &env,
        &[
            "--kubeconfig",
            &user,
            "--service-account-dir",
            &sa_arg,
            "whoami",
        ],
    )
    .await;
    assert!(p.ok, "{}", p.stderr);
    assert_eq!(
        p.source,
        "context=kubeclient-user@kubeclient-local namespace=default"
    );
    assert_eq!(user_of(&p), "kubeclient-user");

    // A context that names no namespace: in a pod, the pod's is the default one (client-go's
    // DeferredLoadingClientConfig.Namespace).
    let bare = write_kubeconfig(&home, json!({}), json!({"token": user_token()}));
    let p = probe(
        &home,
        &env,
        &[
            "--kubeconfig",
            &path_str(&bare),
            "--service-account-dir",
            &sa_arg,
            "whoami",
        ],
    )
    .await;
    assert!(p.ok, "{}", p.stderr);
    assert_eq!(p.source, "context=c namespace=team-b");
    assert_eq!(user_of(&p), "kubeclient-user");

    // ~/.kube/config.
    std::fs::create_dir_all(home.join(".kube")).expect(".kube");
    std::fs::copy(cluster().kubeconfig(), home.join(".kube/config")).expect("copy");
    let p = probe(&home, &pod, &["--service-account-dir", &sa_arg, "whoami"]).await;
    assert!(p.ok, "{}", p.stderr);
    assert!(p.source.starts_with("context="), "{}", p.source);
    assert_eq!(user_of(&p), "admin");

    // A kubeconfig that is named but missing is an error, not a reason to use the pod's.
    let p = probe(
        &home,
        &pod,
        &[
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "--service-account-dir",
            &sa_arg,
            "whoami",
        ],
    )
    .await;
    assert!(
        !p.ok && p.stderr.contains("/nonexistent/kubeconfig"),
        "{}",
        p.stderr
    );
}

#[tokio::test]
async fn https_proxy_and_no_proxy_from_the_environment() {
    let proxy = TestProxy::http_connect().await;
    let home = scratch_dir("infer-proxy");
    let port = url::Url::parse(&admin_cluster().server)
        .expect("server")
        .port()
        .unwrap_or_default();
    // A name only the proxy can resolve; the serving certificate carries it.
    let kubeconfig = write_kubeconfig(
        &home,
        json!({"server": format!("https://kubernetes.default.svc:{port}")}),
        json!({"token": user_token()}),
    );
    let kc = path_str(&kubeconfig);
    let via_proxy = [("HTTPS_PROXY", format!("127.0.0.1:{}", proxy.port()))];
    let p = probe(&home, &via_proxy, &["--kubeconfig", &kc, "whoami"]).await;
    assert_eq!(user_of(&p), "kubeclient-user", "{}", p.stderr);
    assert_eq!(
        proxy.requests(),
        vec![format!("kubernetes.default.svc:{port}")]
    );

    // NO_PROXY exempts the name, so the client connects directly, and cannot resolve it.
    let exempt = [
        ("https_proxy", format!("http://127.0.0.1:{}", proxy.port())),
        ("NO_PROXY", ".svc".to_string()),
    ];
    let p = probe(&home, &exempt, &["--kubeconfig", &kc, "whoami"]).await;
    assert!(
        !p.ok && p.stderr.contains("kubernetes.default.svc"),
        "{}",
        p.stderr
    );
    assert_eq!(
        proxy.requests().len(),
        1,
        "the exempt request did not go through the proxy"
    );

    // A proxy that cannot be reached: the error names no credentials of it.
    let unreachable = [(
        "HTTPS_PROXY",
        "http://env-user:env-SECRET@127.0.0.1:1".to_string(),
    )];
    let p = probe(&home, &unreachable, &["--kubeconfig", &kc, "whoami"]).await;
    assert!(!p.ok && !p.stderr.is_empty(), "{}", p.stderr);
    assert!(!p.stderr.contains("SECRET"), "{}", p.stderr);
}
