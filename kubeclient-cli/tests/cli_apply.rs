//! Differential tests of `kubeclient apply -f` (server-side apply) and `kubeclient delete`
//! against the real kubectl, in a fresh namespace.
//!
//! Comparisons: the objects kubectl sees after kubeclient applied them (data, and the field
//! manager), the text of the output lines (`configmap/a serverside-applied`, `configmap "a"
//! deleted from NS namespace`) against kubectl's on objects of its own, exit codes, and for a
//! conflict the exit code and the conflicting manager named on stderr.

mod common;

use common::{both, json_of, kubeclient, kubectl, kubectl_ok, run_with_input};
use serde_json::Value;

fn write_temp(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("kubeclient-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_string_lossy().into_owned()
}

fn docs(prefix: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}-one\ndata:\n  k: v\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {prefix}-web\nspec:\n  \
         selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: \
         web}}}}\n    spec: {{containers: [{{name: c, image: registry.k8s.io/pause:3.10}}]}}\n\
         ---\n# only a comment\n"
    )
}

#[tokio::test(flavor = "current_thread")]
async fn apply_creates_is_idempotent_and_reports_conflicts() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    let ours_file = write_temp("ours.yaml", &docs("kc"));
    let theirs_file = write_temp("theirs.yaml", &docs("k8s"));
    let ours = kubeclient(&["apply", "-f", &ours_file, "-n", ns]);
    let theirs = kubectl(&["apply", "--server-side", "-f", &theirs_file, "-n", ns]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(ours.stdout.replace("kc-", "k8s-"), theirs.stdout);
    assert_eq!(
        ours.stdout,
        "configmap/kc-one serverside-applied\ndeployment.apps/kc-web serverside-applied\n"
    );

    let cm = json_of(
        &kubectl(&[
            "get",
            "cm",
            "kc-one",
            "-n",
            ns,
            "-o",
            "json",
            "--show-managed-fields",
        ]),
        "get",
    );
    assert_eq!(cm["data"]["k"], "v");
    assert_eq!(cm["metadata"]["managedFields"][0]["manager"], "kubeclient");
    assert_eq!(cm["metadata"]["managedFields"][0]["operation"], "Apply");
    let rv = cm["metadata"]["resourceVersion"].clone();

    // Again, from stdin: the same output, and nothing changes.
    let again = run_with_input(
        &common::kubeclient_binary(),
        &["apply", "-f", "-", "-n", ns],
        Some(&docs("kc")),
    );
    assert_eq!(
        (again.code, &again.stdout),
        (0, &ours.stdout),
        "{}",
        again.stderr
    );
    let cm = json_of(
        &kubectl(&["get", "cm", "kc-one", "-n", ns, "-o", "json"]),
        "get",
    );
    assert_eq!(cm["metadata"]["resourceVersion"], rv);

    // A second manager that changes an owned field conflicts, as with kubectl.
    let changed = |name: &str| {
        format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{{\"apiVersion\":\"v1\",\
                 \"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"{name}\"}},\
                 \"data\":{{\"k\":\"other\"}}}}]}}"
        )
    };
    let ours_file = write_temp("ours.json", &changed("kc-one"));
    let theirs_file = write_temp("theirs.json", &changed("k8s-one"));
    let ours = kubeclient(&[
        "apply",
        "-f",
        &ours_file,
        "-n",
        ns,
        "--field-manager",
        "second",
    ]);
    let theirs = kubectl(&[
        "apply",
        "--server-side",
        "-f",
        &theirs_file,
        "-n",
        ns,
        "--field-manager",
        "second",
    ]);
    assert_eq!(ours.code, theirs.code, "{}", ours.stderr);
    assert_eq!(ours.code, 1);
    assert!(
        ours.stderr
            .starts_with("error: Apply failed with 1 conflict"),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr.contains("conflict with \"kubeclient\""),
        "{}",
        ours.stderr
    );
    assert!(
        theirs.stderr.contains("conflict with \"kubectl\""),
        "{}",
        theirs.stderr
    );

    let forced = kubeclient(&[
        "apply",
        "-f",
        &ours_file,
        "-n",
        ns,
        "--field-manager",
        "second",
        "--force-conflicts",
    ]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(forced.stdout, "configmap/kc-one serverside-applied\n");
    let cm = json_of(
        &kubectl(&["get", "cm", "kc-one", "-n", ns, "-o", "json"]),
        "get",
    );
    assert_eq!(cm["data"]["k"], "other");
}

#[tokio::test(flavor = "current_thread")]
async fn delete_matches_kubectl() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    for name in ["a1", "a2", "b1", "b2"] {
        kubectl_ok(&["create", "configmap", name, "-n", ns], None);
    }
    let ours = kubeclient(&["delete", "cm", "a1", "a2", "-n", ns]);
    let theirs = kubectl(&["delete", "cm", "b1", "b2", "-n", ns]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(ours.stdout.replace("\"a", "\"b"), theirs.stdout);
    assert_eq!(
        ours.stdout,
        format!(
            "configmap \"a1\" deleted from {ns} namespace\nconfigmap \"a2\" deleted from {ns} namespace\n"
        )
    );
    let left = json_of(&kubectl(&["get", "cm", "-n", ns, "-o", "json"]), "get");
    assert_eq!(left["items"], Value::Array(Vec::new()));

    let (ours, theirs) = both(&["delete", "configmap", "a1", "-n", ns]);
    assert_eq!((ours.code, &ours.stderr), (theirs.code, &theirs.stderr));
    assert_eq!(ours.code, 1);

    // By manifest.
    kubectl_ok(&["create", "configmap", "c1", "-n", ns], None);
    let file = write_temp(
        "del.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n",
    );
    let ours = kubeclient(&["delete", "-f", &file, "-n", ns]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(
        ours.stdout,
        format!("configmap \"c1\" deleted from {ns} namespace\n")
    );
}
