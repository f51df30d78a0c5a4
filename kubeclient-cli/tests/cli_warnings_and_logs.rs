//! What `kubeclient` prints on stderr besides errors, against the real kubectl: the server's
//! warnings (`Warning: …`, each distinct one once), the request lines of `-v=6`, and the
//! bodies of `-v=8` and up — without the values of Secrets or tokens, which kubectl would
//! print.

mod common;

use common::{both, kubeclient, kubectl_ok, run_with_input};

/// The `Warning:` lines of a run's stderr.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("Warning:"))
        .collect()
}

/// Two Endpoints objects (a deprecated API: the server warns on every request for them).
fn endpoints(prefix: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: {prefix}-a\nsubsets: []\n---\n\
         apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: {prefix}-b\nsubsets: []\n"
    )
}

#[tokio::test(flavor = "current_thread")]
async fn server_warnings_are_printed_once_as_kubectl_prints_them() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    let ours = run_with_input(
        &common::kubeclient_binary(),
        &["apply", "-f", "-", "-n", ns],
        Some(&endpoints("kc")),
    );
    let theirs = run_with_input(
        &common::kubectl_binary(),
        &["apply", "--server-side", "-f", "-", "-n", ns],
        Some(&endpoints("k8s")),
    );
    assert_eq!((ours.code, theirs.code), (0, 0), "{}", ours.stderr);
    let printed = warnings(&ours.stderr);
    assert_eq!(
        printed.len(),
        1,
        "two requests, one warning: {}",
        ours.stderr
    );
    assert!(
        printed[0].contains("Endpoints is deprecated"),
        "{printed:?}"
    );
    assert_eq!(printed, warnings(&theirs.stderr));

    // A list of the deprecated type, twice in one invocation: still once.
    let (ours, theirs) = both(&["get", "endpoints,endpoints", "-n", ns, "-o", "name"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(warnings(&ours.stderr).len(), 1, "{}", ours.stderr);
    assert_eq!(warnings(&ours.stderr), warnings(&theirs.stderr));

    // fieldValidation=Warn (the server's default for a create): one line per unknown field.
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"loose","bogus":1},"spec":{"x":1}}"#;
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let ours = run_with_input(
        &common::kubeclient_binary(),
        &["raw", "post", &path, "-f", "-"],
        Some(cm),
    );
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    assert_eq!(
        warnings(&ours.stderr),
        [
            r#"Warning: unknown field "metadata.bogus""#,
            r#"Warning: unknown field "spec""#
        ]
    );
}

/// The `"Response"` line of a run's stderr for a URL ending in `url_end`, without the klog
/// header and the milliseconds.
fn response_line(stderr: &str, url_end: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains(r#""Response" verb="#) && l.contains(&format!("{url_end}\" ")))
        .unwrap_or_else(|| panic!("no response line for {url_end} in:\n{stderr}"));
    let start = line.find(r#""Response""#).unwrap_or(0);
    let end = line.find(" milliseconds=").unwrap_or(line.len());
    line[start..end].to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn v6_shows_each_request_as_kubectl_does() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    kubectl_ok(&["create", "configmap", "shown", "-n", ns], None);
    let object = format!("/api/v1/namespaces/{ns}/configmaps/shown");
    let missing = format!("/api/v1/namespaces/{ns}/configmaps/missing");
    let (ours, theirs) = both(&["get", "cm", "shown", "-n", ns, "-v=6"]);
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    let line = response_line(&ours.stderr, &object);
    assert!(line.ends_with(r#"status="200 OK""#), "{line}");
    assert_eq!(line, response_line(&theirs.stderr, &object));
    let full = ours
        .stderr
        .lines()
        .find(|l| l.contains(&object))
        .unwrap_or("");
    assert!(full.starts_with('I'), "klog's header: {full}");
    assert!(
        full.split(" milliseconds=")
            .nth(1)
            .is_some_and(|ms| ms.parse::<u64>().is_ok()),
        "{full}"
    );
    // `-v 6` and a failing request.
    let (ours, theirs) = both(&["get", "cm", "missing", "-n", ns, "-v", "6"]);
    assert_eq!((ours.code, theirs.code), (1, 1), "{}", ours.stderr);
    let line = response_line(&ours.stderr, &missing);
    assert!(line.ends_with(r#"status="404 Not Found""#), "{line}");
    assert_eq!(line, response_line(&theirs.stderr, &missing));

    // Below 6, no request lines.
    let quiet = kubeclient(&["get", "cm", "shown", "-n", ns, "-v=5"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains(r#""Response""#), "{}", quiet.stderr);
}

#[tokio::test(flavor = "current_thread")]
async fn v8_shows_bodies_without_secret_values_or_tokens() {
    let ns = test_support::namespace().await;
    let ns = ns.name();
    let value = "kubeclient-secret-value-42";
    let encoded = "a3ViZWNsaWVudC1zZWNyZXQtdmFsdWUtNDI="; // base64 of `value`
    kubectl_ok(
        &[
            "create",
            "secret",
            "generic",
            "hidden",
            "-n",
            ns,
            &format!("--from-literal=password={value}"),
        ],
        None,
    );
    let one = kubeclient(&["get", "secret", "hidden", "-n", ns, "-o", "yaml", "-v=8"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stdout.contains(encoded),
        "the value is printed: {}",
        one.stdout
    );
    assert!(
        one.stderr.contains(r#""Response Body" body="#),
        "{}",
        one.stderr
    );
    assert!(one.stderr.contains("[REDACTED]"), "{}", one.stderr);
    let list = kubeclient(&["get", "secrets", "-n", ns, "-o", "json", "-v=10"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(list.stdout.contains(encoded), "{}", list.stdout);
    for run in [&one, &list] {
        assert!(
            !run.stderr.contains(encoded) && !run.stderr.contains(value),
            "a secret value in the log:\n{}",
            run.stderr
        );
    }

    // A token from a TokenRequest, and the same token sent in a TokenReview.
    kubectl_ok(&["create", "serviceaccount", "robot", "-n", ns], None);
    let request = r#"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}"#;
    let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/robot/token");
    let issued = run_with_input(
        &common::kubeclient_binary(),
        &["raw", "post", &path, "-f", "-", "-v=10"],
        Some(request),
    );
    assert_eq!(issued.code, 0, "{}", issued.stderr);
    let answer: serde_json::Value =
        serde_json::from_str(&issued.stdout).expect("a TokenRequest answer");
    let token = answer["status"]["token"].as_str().expect("a token");
    assert!(token.len() > 20, "{token}");
    let review = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
        "spec": {"token": token},
    });
    let reviewed = run_with_input(
        &common::kubeclient_binary(),
        &[
            "raw",
            "post",
            "/apis/authentication.k8s.io/v1/tokenreviews",
            "-f",
            "-",
            "-v=10",
        ],
        Some(&review.to_string()),
    );
    assert_eq!(reviewed.code, 0, "{}", reviewed.stderr);
    assert!(
        reviewed.stdout.contains(r#""authenticated":true"#),
        "{}",
        reviewed.stdout
    );
    for run in [&issued, &reviewed] {
        assert!(run.stderr.contains(r#""Response Body""#), "{}", run.stderr);
        assert!(
            !run.stderr.contains(token),
            "the token in the log:\n{}",
            run.stderr
        );
    }
    assert!(
        reviewed.stderr.contains(r#""Request Body""#),
        "{}",
        reviewed.stderr
    );
}
