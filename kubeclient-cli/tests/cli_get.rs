//! Differential tests of `kubeclient get`, `version`, `api-versions` and `api-resources`
//! against the real kubectl, on the same objects in a fresh namespace.
//!
//! Comparisons: `-o json|yaml` as parsed values; `-o name`, `api-versions`, `get --raw` and
//! error lines as text, with exit codes; tables as text, except that the AGE column may
//! differ by one second (the two commands run one after the other, and the server computes
//! ages at answer time) — when every age agrees the whole text, alignment included, must be
//! identical; `api-resources` on the NAME, SHORTNAMES, NAMESPACED and KIND columns.

mod common;

use common::{both, json_of, kubeclient, kubectl_ok};
use serde_json::Value;

fn manifest(ns: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: alpha, namespace: {ns}, labels: {{tier: web, owner: {ns}}}}}
data: {{a: "1", b: "2"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: beta, namespace: {ns}, labels: {{tier: db}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: registry.k8s.io/pause:3.10}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: pod-a, namespace: {ns}}}
spec: {{containers: [{{name: c, image: registry.k8s.io/pause:3.10}}]}}
"#
    )
}

fn seed(ns: &str) {
    kubectl_ok(&["create", "-f", "-"], Some(&manifest(ns)));
}

#[tokio::test(flavor = "current_thread")]
async fn json_yaml_and_name_match_kubectl() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    seed(ns);
    for args in [
        vec!["get", "cm", "alpha", "-n", ns, "-o", "json"],
        vec!["get", "configmaps", "-n", ns, "-o", "json"],
        vec!["get", "cm,deploy", "-n", ns, "-o", "json"],
        vec!["get", "cm", "alpha", "beta", "-n", ns, "-o", "json"],
        vec!["get", "cm", "-l", "tier=web", "-n", ns, "-o", "json"],
        vec!["get", "deployments.apps/web", "-n", ns, "-o", "json"],
        vec!["get", "secrets", "-n", ns, "-o", "json"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(
            json_of(&ours, "kubeclient"),
            json_of(&theirs, "kubectl"),
            "{args:?}"
        );
    }
    for args in [
        vec!["get", "deploy", "web", "-n", ns, "-o", "yaml"],
        vec!["get", "cm", "-n", ns, "-o", "yaml"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        let parse = |s: &str| serde_saphyr::from_str::<Value>(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parse(&ours.stdout), parse(&theirs.stdout), "{args:?}");
    }
    for args in [
        vec!["get", "cm,deploy,po", "-n", ns, "-o", "name"],
        vec![
            "get",
            "cm",
            "-A",
            "-l",
            &format!("owner={ns}"),
            "-o",
            "name",
        ],
        vec!["get", "ns", ns, "-o", "name"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours, theirs, "{args:?}");
        assert!(!ours.stdout.is_empty(), "{args:?}");
    }
}

/// Seconds of a kubectl age such as `9s`, `5m3s`, `2m`, `3h4m`.
fn age_seconds(age: &str) -> Option<u64> {
    let mut total = 0;
    let mut number = String::new();
    for c in age.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().ok()?;
        number.clear();
        total += n * match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

fn assert_tables_match(args: &[&str]) {
    let (ours, theirs) = both(args);
    assert_eq!(
        (ours.code, &ours.stderr),
        (theirs.code, &theirs.stderr),
        "{args:?}"
    );
    if ours.stdout == theirs.stdout {
        return;
    }
    let lines = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (lines(&ours.stdout), lines(&theirs.stdout));
    assert_eq!(
        a.len(),
        b.len(),
        "{args:?}\n{}\n{}",
        ours.stdout,
        theirs.stdout
    );
    let header: Vec<&str> = b[0].split_whitespace().collect();
    assert_eq!(
        a[0].split_whitespace().collect::<Vec<_>>(),
        header,
        "{args:?}"
    );
    let mut age = header.iter().position(|h| *h == "AGE");
    for (x, y) in a.iter().zip(&b).skip(1) {
        // `get cm,deploy,po` prints one table per kind, each with its header: the AGE column
        // is where the current table's header has it.
        if x == y {
            if x.starts_with("NAME ") {
                age = x.split_whitespace().position(|h| h == "AGE");
            }
            continue;
        }
        let (xs, ys): (Vec<&str>, Vec<&str>) = (
            x.split_whitespace().collect(),
            y.split_whitespace().collect(),
        );
        assert_eq!(xs.len(), ys.len(), "{args:?}\n{x}\n{y}");
        for (i, (p, q)) in xs.iter().zip(&ys).enumerate() {
            if Some(i) == age {
                let (p, q) = (age_seconds(p), age_seconds(q));
                assert!(
                    matches!((p, q), (Some(p), Some(q)) if p.abs_diff(q) <= 1),
                    "{args:?}: ages {x} / {y}"
                );
            } else {
                assert_eq!(p, q, "{args:?}\n{x}\n{y}");
            }
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn tables_match_kubectl() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    seed(ns);
    let owner = format!("owner={ns}");
    for args in [
        vec!["get", "pods", "-n", ns],
        vec!["get", "po", "-n", ns, "-o", "wide"],
        vec!["get", "cm", "-n", ns],
        vec!["get", "configmap", "alpha", "-n", ns],
        vec!["get", "deploy", "-n", ns],
        vec!["get", "deployments.apps", "-n", ns, "-o", "wide"],
        vec!["get", "cm,deploy,po", "-n", ns],
        vec!["get", "cm", "-A", "-l", &owner],
        vec!["get", "ns", ns],
        vec!["get", "namespaces", ns, "default", "-o", "wide"],
        vec!["get", "secrets", "-n", ns],
        vec![
            "get",
            "cm",
            "--field-selector",
            "metadata.name=beta",
            "-n",
            ns,
        ],
    ] {
        assert_tables_match(&args);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn errors_match_kubectl() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    seed(ns);
    for args in [
        vec!["get", "cm", "missing", "-n", ns],
        vec!["get", "cm", "alpha", "missing", "-n", ns],
        vec!["get", "nosuchtype"],
        vec!["get", "secrets", "-n", ns],
        vec!["get", "secrets", "-n", ns, "-o", "name"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, theirs.code, "{args:?}: {}", ours.stderr);
        assert_eq!(ours.stderr, theirs.stderr, "{args:?}");
        let first = |s: &str| s.lines().next().map(str::to_string);
        assert_eq!(first(&ours.stdout), first(&theirs.stdout), "{args:?}");
    }
}

#[test]
fn discovery_commands_match_kubectl() {
    let (ours, theirs) = both(&["api-versions"]);
    assert_eq!(ours, theirs);
    let (ours, theirs) = both(&["get", "--raw", "/version"]);
    assert_eq!(ours, theirs);
    for args in [
        vec!["api-resources", "-o", "name"],
        vec!["api-resources", "-o", "name", "--namespaced=false"],
        vec!["api-resources", "-o", "name", "--api-group", "apps"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours, theirs, "{args:?}");
    }
    for args in [
        vec!["api-resources"],
        vec!["api-resources", "--namespaced=true"],
    ] {
        let (ours, theirs) = both(&args);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        assert_eq!(
            resource_columns(&ours.stdout),
            resource_columns(&theirs.stdout)
        );
    }
    let ours = json_of(
        &kubeclient(&["version", "-o", "json"]),
        "kubeclient version",
    );
    let theirs = json_of(
        &common::kubectl(&["version", "-o", "json"]),
        "kubectl version",
    );
    assert_eq!(ours["serverVersion"], theirs["serverVersion"]);
    let client = kubeclient(&["version", "--client"]);
    assert_eq!(client.code, 0);
    assert!(
        client.stdout.starts_with("Client Version: v"),
        "{}",
        client.stdout
    );
}

/// NAME, SHORTNAMES, NAMESPACED and KIND of each line, cut at the header's column starts.
fn resource_columns(text: &str) -> Vec<[String; 4]> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let start = |name: &str| {
        header
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {header}"))
    };
    let bounds = [
        (start("NAME"), start("SHORTNAMES")),
        (start("SHORTNAMES"), start("APIVERSION")),
        (start("NAMESPACED"), start("KIND")),
        (start("KIND"), usize::MAX),
    ];
    lines
        .map(|line| {
            bounds.map(|(a, b)| {
                line.get(a..b.min(line.len()))
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
        })
        .collect()
}
