//! Differential tests of `kubeclient config …` against the real kubectl
//! (`target/controlplane/bin/kubectl`, built by `controlplane/build`). No cluster is needed.
//!
//! Both binaries run on a private copy of `tests/data/kubeconfig/`, from an unrelated working
//! directory (so relative paths must be taken against each kubeconfig's own directory), with
//! `HOME` pointing to an empty temporary directory and `KUBECONFIG` unset unless a test sets
//! it, so the developer's own configuration never leaks in.
//!
//! Comparisons: JSON and YAML outputs are compared as parsed values (key order, indentation
//! and quoting style are cosmetic; Go's JSON encoder also escapes `<>&`); tables, names and
//! messages of success are compared as text; failures are compared by exit code and the
//! `error: ` convention, since the wording of messages differs on purpose (kubeclient names
//! the entry and field at fault).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The `kubeclient` binary of this build.
fn kubeclient_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kubeclient"))
}

fn kubectl() -> PathBuf {
    let bin = test_support::kubectl_binary();
    assert!(
        bin.exists(),
        "{} is missing: build it with `controlplane/build` (or `controlplane/cluster up`)",
        bin.display()
    );
    bin
}

/// A private copy of the corpus, an empty home and an unrelated working directory.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "kubeclient-config-view-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        copy_dir(
            &repo_root().join("tests/data/kubeconfig"),
            &root.join("data"),
        );
        for dir in ["home", "cwd"] {
            std::fs::create_dir_all(root.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        }
        Fixture { root }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.root.join("data").join(name)
    }

    fn chain(&self, names: &[&str]) -> String {
        let paths: Vec<PathBuf> = names.iter().map(|n| self.file(n)).collect();
        std::env::join_paths(paths)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string_lossy()
            .into_owned()
    }

    fn run(&self, bin: &Path, kubeconfig_env: Option<&str>, args: &[&str]) -> Run {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.root.join("cwd"))
            .env("HOME", self.root.join("home"))
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_MASTER")
            .env("KUBECTL_KUBERC", "false");
        if let Some(list) = kubeconfig_env {
            cmd.env("KUBECONFIG", list);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs kubectl and kubeclient with the same arguments and environment.
    fn both(&self, kubeconfig_env: Option<&str>, args: &[&str]) -> (Run, Run) {
        let theirs = self.run(&kubectl(), kubeconfig_env, args);
        let ours = self.run(kubeclient_binary(), kubeconfig_env, args);
        (theirs, ours)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn describe(what: &str, theirs: &Run, ours: &Run) -> String {
    format!("{what}\n--- kubectl ---\n{theirs:#?}\n--- kubeclient ---\n{ours:#?}")
}

fn parse_json(run: &Run, who: &str) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{who} printed invalid JSON ({e}):\n{}", run.stdout))
}

fn parse_yaml(run: &Run, who: &str) -> Value {
    serde_saphyr::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{who} printed invalid YAML ({e}):\n{}", run.stdout))
}

/// Both succeed and print the same JSON value.
fn assert_same_json(fx: &Fixture, env: Option<&str>, args: &[&str]) -> Value {
    let (theirs, ours) = fx.both(env, args);
    let what = format!("KUBECONFIG={env:?} {}", args.join(" "));
    assert_eq!(theirs.code, 0, "{}", describe(&what, &theirs, &ours));
    assert_eq!(ours.code, 0, "{}", describe(&what, &theirs, &ours));
    let (t, o) = (
        parse_json(&theirs, "kubectl"),
        parse_json(&ours, "kubeclient"),
    );
    assert_eq!(t, o, "{}", describe(&what, &theirs, &ours));
    o
}

/// Both fail (exit code 1), or both succeed and print the same JSON value.
fn assert_same_json_outcome(fx: &Fixture, env: Option<&str>, args: &[&str]) {
    let (theirs, ours) = fx.both(env, args);
    let what = format!("KUBECONFIG={env:?} {}", args.join(" "));
    assert_eq!(
        theirs.code,
        ours.code,
        "{}",
        describe(&what, &theirs, &ours)
    );
    if theirs.code == 0 {
        let (t, o) = (
            parse_json(&theirs, "kubectl"),
            parse_json(&ours, "kubeclient"),
        );
        assert_eq!(t, o, "{}", describe(&what, &theirs, &ours));
    } else {
        assert!(
            ours.stderr.starts_with("error: "),
            "{}",
            describe(&what, &theirs, &ours)
        );
    }
}

/// Both succeed and print the same YAML value.
fn assert_same_yaml(fx: &Fixture, env: Option<&str>, args: &[&str]) -> Value {
    let (theirs, ours) = fx.both(env, args);
    let what = format!("KUBECONFIG={env:?} {}", args.join(" "));
    assert_eq!(
        (theirs.code, ours.code),
        (0, 0),
        "{}",
        describe(&what, &theirs, &ours)
    );
    let (t, o) = (
        parse_yaml(&theirs, "kubectl"),
        parse_yaml(&ours, "kubeclient"),
    );
    assert_eq!(t, o, "{}", describe(&what, &theirs, &ours));
    o
}

/// Both print exactly the same text and exit the same way.
fn assert_same_text(fx: &Fixture, env: Option<&str>, args: &[&str]) -> Run {
    let (theirs, ours) = fx.both(env, args);
    let what = format!("KUBECONFIG={env:?} {}", args.join(" "));
    assert_eq!(
        theirs.code,
        ours.code,
        "{}",
        describe(&what, &theirs, &ours)
    );
    assert_eq!(
        theirs.stdout,
        ours.stdout,
        "{}",
        describe(&what, &theirs, &ours)
    );
    assert_eq!(
        theirs.stderr,
        ours.stderr,
        "{}",
        describe(&what, &theirs, &ours)
    );
    ours
}

/// Both fail with exit code 1 and kubectl's `error: ` convention; kubeclient's message
/// contains every one of `needles`.
fn assert_both_fail(fx: &Fixture, env: Option<&str>, args: &[&str], needles: &[&str]) {
    let (theirs, ours) = fx.both(env, args);
    let what = format!("KUBECONFIG={env:?} {}", args.join(" "));
    assert_eq!(
        (theirs.code, ours.code),
        (1, 1),
        "{}",
        describe(&what, &theirs, &ours)
    );
    assert!(
        theirs.stderr.starts_with("error: "),
        "{}",
        describe(&what, &theirs, &ours)
    );
    assert!(
        ours.stderr.starts_with("error: "),
        "{}",
        describe(&what, &theirs, &ours)
    );
    for needle in needles {
        assert!(
            ours.stderr.contains(needle),
            "{needle:?} missing\n{}",
            describe(&what, &theirs, &ours)
        );
    }
}

const MINIFY_FLATTEN_JSON: [&str; 5] = ["view", "--minify", "--flatten", "-o", "json"];

fn config_args<'a>(prefix: &[&'a str], rest: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = prefix.to_vec();
    args.push("config");
    args.extend_from_slice(rest);
    args
}

#[test]
fn minify_flatten_of_single_files_matches_kubectl() {
    let fx = Fixture::new("single");
    for file in [
        "basic.yaml",
        "anchors.yaml",
        "config.json",
        "empty-lists.yaml",
    ] {
        let path = fx.file(file);
        let path = path.to_string_lossy();
        let v = assert_same_json(
            &fx,
            None,
            &config_args(&["--kubeconfig", &path], &MINIFY_FLATTEN_JSON),
        );
        assert_eq!(
            v["contexts"].as_array().map(Vec::len),
            Some(1),
            "{file}: {v:#}"
        );
    }
}

#[test]
fn minify_flatten_of_every_context_matches_kubectl() {
    let fx = Fixture::new("contexts");
    let path = fx.file("basic.yaml");
    let path = path.to_string_lossy();
    for context in ["dev", "prod", "basic", "oidc", "exec", "data"] {
        let v = assert_same_json(
            &fx,
            None,
            &config_args(
                &["--kubeconfig", &path, "--context", context],
                &MINIFY_FLATTEN_JSON,
            ),
        );
        assert_eq!(v["current-context"], context);
    }
    // The CA and client files were inlined relative to basic.yaml, not the working directory.
    let v = assert_same_json(
        &fx,
        None,
        &config_args(&["--kubeconfig", &path], &MINIFY_FLATTEN_JSON),
    );
    let ca = v["clusters"][0]["cluster"]["certificate-authority-data"].as_str();
    assert!(ca.is_some_and(|s| !s.is_empty()), "{v:#}");
    assert!(
        v["users"][0]["user"]["client-key-data"].is_string(),
        "{v:#}"
    );
}

#[test]
fn merged_kubeconfig_chains_match_kubectl() {
    let fx = Fixture::new("chains");
    let chains = [
        fx.chain(&["first.yaml", "second.yaml", "sub/third.yaml"]),
        fx.chain(&["second.yaml", "first.yaml"]),
        fx.chain(&["sub/third.yaml", "first.yaml", "second.yaml"]),
        // Missing files are skipped, repeated ones read once.
        fx.chain(&["missing.yaml", "first.yaml", "first.yaml", "second.yaml"]),
        fx.chain(&["empty.yaml", "basic.yaml", "second.yaml"]),
    ];
    for chain in &chains {
        // second.yaml's own "merged" context names a user that exists nowhere: when it wins,
        // both refuse to minify.
        assert_same_json_outcome(&fx, Some(chain), &config_args(&[], &MINIFY_FLATTEN_JSON));
        assert_same_json(&fx, Some(chain), &config_args(&[], &["view", "-o", "json"]));
        assert_same_json(
            &fx,
            Some(chain),
            &config_args(&[], &["view", "--raw", "-o", "json"]),
        );
    }
    // The first file to define a context wins: "merged" comes from first.yaml, its
    // current-context from second.yaml, and its user from second.yaml.
    let v = assert_same_json(
        &fx,
        Some(&chains[0]),
        &config_args(&[], &MINIFY_FLATTEN_JSON),
    );
    assert_eq!(v["current-context"], "merged");
    assert_eq!(v["contexts"][0]["context"]["namespace"], "from-first");
    assert_eq!(
        v["clusters"][0]["cluster"]["server"],
        "https://first.example.com"
    );
    assert_eq!(v["users"][0]["name"], "second-user");
    // A context defined in two files, chosen by flag; a file in a subdirectory.
    for context in ["second-ctx", "third-ctx"] {
        let v = assert_same_json(
            &fx,
            Some(&chains[0]),
            &config_args(&["--context", context], &MINIFY_FLATTEN_JSON),
        );
        assert_eq!(v["current-context"], context);
    }
}

#[test]
fn override_flags_are_ignored_by_config_view_as_in_kubectl() {
    let fx = Fixture::new("overrides");
    let chain = fx.chain(&["first.yaml", "second.yaml", "sub/third.yaml"]);
    let v = assert_same_json(
        &fx,
        Some(&chain),
        &config_args(
            &[
                "--cluster",
                "only-second",
                "--user",
                "third-user",
                "-n",
                "flag-ns",
                "--server",
                "https://flag.example.com",
                "--token",
                "flag-token",
            ],
            &MINIFY_FLATTEN_JSON,
        ),
    );
    assert_eq!(v["contexts"][0]["context"]["namespace"], "from-first");
}

#[test]
fn redacted_views_match_kubectl() {
    let fx = Fixture::new("redacted");
    let basic = fx.file("basic.yaml");
    let basic = basic.to_string_lossy();
    let v = assert_same_yaml(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["view"]),
    );
    let text = serde_json::to_string(&v).unwrap_or_default();
    for secret in ["s3cr3t-t0ken", "pa55w0rd", "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS"] {
        assert!(!text.contains(secret), "{secret} shown without --raw");
    }
    assert!(text.contains("REDACTED") && text.contains("DATA+OMITTED"));
    assert_same_json(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["view", "-o", "json"]),
    );
    assert_same_yaml(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["view", "--minify"]),
    );
    assert_same_yaml(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["view", "--raw"]),
    );
    let chain = fx.chain(&[
        "first.yaml",
        "second.yaml",
        "sub/third.yaml",
        "anchors.yaml",
    ]);
    assert_same_yaml(&fx, Some(&chain), &config_args(&[], &["view"]));
    // The YAML text itself is identical too for this file (kubectl sorts keys; so do we).
    assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["view"]),
    );
}

#[test]
fn current_context_matches_kubectl() {
    let fx = Fixture::new("current");
    let basic = fx.file("basic.yaml");
    let basic = basic.to_string_lossy();
    let out = assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["current-context"]),
    );
    assert_eq!(out.stdout, "dev\n");
    // --context does not change what current-context prints.
    assert_same_text(
        &fx,
        None,
        &config_args(
            &["--kubeconfig", &basic, "--context", "prod"],
            &["current-context"],
        ),
    );
    let chain = fx.chain(&["first.yaml", "sub/third.yaml", "second.yaml"]);
    let out = assert_same_text(&fx, Some(&chain), &config_args(&[], &["current-context"]));
    assert_eq!(out.stdout, "third-ctx\n");
    // Unset: same message, same exit code.
    let empty = fx.file("empty.yaml");
    let out = assert_same_text(
        &fx,
        None,
        &config_args(
            &["--kubeconfig", &empty.to_string_lossy()],
            &["current-context"],
        ),
    );
    assert_eq!(out.code, 1);
    // No kubeconfig at all (empty home).
    let out = assert_same_text(&fx, None, &config_args(&[], &["current-context"]));
    assert_eq!(out.stderr, "error: current-context is not set\n");
}

#[test]
fn get_contexts_matches_kubectl() {
    let fx = Fixture::new("get");
    let basic = fx.file("basic.yaml");
    let basic = basic.to_string_lossy();
    let out = assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["get-contexts"]),
    );
    assert!(out.stdout.starts_with("CURRENT   NAME"), "{}", out.stdout);
    assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["get-contexts", "-o", "name"]),
    );
    assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["get-contexts", "prod", "dev"]),
    );
    let out = assert_same_text(
        &fx,
        None,
        &config_args(&["--kubeconfig", &basic], &["get-contexts", "dev", "nope"]),
    );
    assert_eq!(out.code, 1);
    let chain = fx.chain(&["first.yaml", "second.yaml", "sub/third.yaml"]);
    assert_same_text(&fx, Some(&chain), &config_args(&[], &["get-contexts"]));
    assert_same_text(&fx, None, &config_args(&[], &["get-contexts"]));
}

#[test]
fn use_context_writes_the_file_kubectl_writes() {
    // Each binary works on its own copy; afterwards kubectl reads both results.
    let theirs = Fixture::new("use-kubectl");
    let ours = Fixture::new("use-kubeclient");
    let names = [
        "missing.yaml",
        "first.yaml",
        "second.yaml",
        "sub/third.yaml",
    ];
    let (t_chain, o_chain) = (theirs.chain(&names), ours.chain(&names));
    for context in ["third-ctx", "second-ctx", "third-ctx"] {
        let t = theirs.run(
            &kubectl(),
            Some(&t_chain),
            &["config", "use-context", context],
        );
        let o = ours.run(
            kubeclient_binary(),
            Some(&o_chain),
            &["config", "use-context", context],
        );
        assert_eq!(
            (&t.stdout, t.code),
            (&o.stdout, o.code),
            "{}",
            describe(context, &t, &o)
        );
        assert_eq!(o.stdout, format!("Switched to context \"{context}\".\n"));
        for name in names {
            let (tf, of) = (theirs.file(name), ours.file(name));
            assert_eq!(
                tf.exists(),
                of.exists(),
                "{name}: created by only one of them"
            );
            if !tf.exists() {
                continue;
            }
            let view = |fx: &Fixture, file: &Path| {
                let run = fx.run(
                    &kubectl(),
                    None,
                    &[
                        "--kubeconfig",
                        &file.to_string_lossy(),
                        "config",
                        "view",
                        "--raw",
                        "-o",
                        "json",
                    ],
                );
                parse_json(&run, "kubectl")
            };
            assert_eq!(
                view(&theirs, &tf),
                view(&ours, &of),
                "{name} after use-context {context}"
            );
        }
    }
    // first.yaml (the first existing file) received the current-context.
    let written = std::fs::read_to_string(ours.file("first.yaml")).unwrap_or_default();
    assert!(written.contains("current-context: third-ctx"), "{written}");
    assert_both_fail(
        &ours,
        Some(&o_chain),
        &["config", "use-context", "nope"],
        &["nope"],
    );

    // An explicit file: kubeclient keeps the fields kubectl does not know.
    let basic = ours.file("basic.yaml");
    let basic_arg = basic.to_string_lossy().into_owned();
    let o = ours.run(
        kubeclient_binary(),
        None,
        &["--kubeconfig", &basic_arg, "config", "use-context", "prod"],
    );
    assert_eq!(o.code, 0, "{o:#?}");
    let written = std::fs::read_to_string(&basic).unwrap_or_default();
    for kept in [
        "a-future-top-level-field",
        "a-future-cluster-field",
        "a-future-context-field",
    ] {
        assert!(written.contains(kept), "{kept} lost:\n{written}");
    }
    let after = theirs.file("basic.yaml");
    let t = theirs.run(
        &kubectl(),
        None,
        &[
            "--kubeconfig",
            &after.to_string_lossy(),
            "config",
            "use-context",
            "prod",
        ],
    );
    assert_eq!(t.code, 0, "{t:#?}");
    let current = |fx: &Fixture, file: &Path| {
        fx.run(
            &kubectl(),
            None,
            &[
                "--kubeconfig",
                &file.to_string_lossy(),
                "config",
                "current-context",
            ],
        )
        .stdout
    };
    assert_eq!(current(&theirs, &after), current(&ours, &basic));
}

#[test]
fn use_context_respects_kubectls_lock_file() {
    // kubectl locks every file of the chain (`<file>.lock`, created exclusively) while it
    // reads and writes, and fails at once when a lock is already there. So must kubeclient.
    let fx = Fixture::new("lock");
    let names = ["missing.yaml", "first.yaml", "second.yaml"];
    let chain = fx.chain(&names);
    let before: Vec<Option<String>> = names
        .iter()
        .map(|n| std::fs::read_to_string(fx.file(n)).ok())
        .collect();
    // A lock on a file of the chain that use-context would not even write, then on the
    // file it writes, then on one that does not exist.
    for locked in ["second.yaml", "first.yaml", "missing.yaml"] {
        let lock = fx.file(&format!("{locked}.lock"));
        std::fs::write(&lock, "").unwrap_or_else(|e| panic!("{e}"));
        let needle = lock.to_string_lossy().into_owned();
        assert_both_fail(
            &fx,
            Some(&chain),
            &["config", "use-context", "second-ctx"],
            &[&needle],
        );
        assert!(lock.exists(), "the other writer's lock was removed");
        std::fs::remove_file(&lock).unwrap_or_else(|e| panic!("{e}"));
    }
    // Nothing was written by either.
    let after: Vec<Option<String>> = names
        .iter()
        .map(|n| std::fs::read_to_string(fx.file(n)).ok())
        .collect();
    assert_eq!(before, after);

    // An explicit file: only its lock matters.
    let first = fx.file("first.yaml");
    let first_arg = first.to_string_lossy().into_owned();
    std::fs::write(fx.file("first.yaml.lock"), "").unwrap_or_else(|e| panic!("{e}"));
    let args = [
        "--kubeconfig",
        &first_arg,
        "config",
        "use-context",
        "merged",
    ];
    assert_both_fail(&fx, None, &args, &["first.yaml.lock"]);
    std::fs::remove_file(fx.file("first.yaml.lock")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(fx.file("second.yaml.lock"), "").unwrap_or_else(|e| panic!("{e}"));
    let ours = fx.run(kubeclient_binary(), Some(&chain), &args);
    assert_eq!(ours.code, 0, "{ours:#?}");
    std::fs::remove_file(fx.file("second.yaml.lock")).unwrap_or_else(|e| panic!("{e}"));

    // Unlocked: it succeeds and leaves no lock behind.
    let ours = fx.run(
        kubeclient_binary(),
        Some(&chain),
        &["config", "use-context", "second-ctx"],
    );
    assert_eq!(ours.code, 0, "{ours:#?}");
    let locks: Vec<String> = std::fs::read_dir(fx.root.join("data"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock"))
        .collect();
    assert!(locks.is_empty(), "{locks:?}");
}

#[test]
fn bad_input_fails_like_kubectl_and_names_the_culprit() {
    let fx = Fixture::new("bad");
    let malformed = fx.file("malformed.yaml.bad");
    let malformed = malformed.to_string_lossy();
    assert_both_fail(
        &fx,
        None,
        &config_args(&["--kubeconfig", &malformed], &["view"]),
        &["malformed.yaml.bad", "line 3"],
    );
    let wrong = fx.file("wrong-type.yaml.bad");
    let wrong = wrong.to_string_lossy();
    assert_both_fail(
        &fx,
        None,
        &config_args(&["--kubeconfig", &wrong], &["get-contexts"]),
        &[
            "wrong-type.yaml.bad",
            "clusters[0] (\"typed\").cluster.insecure-skip-tls-verify",
        ],
    );
    // A broken file in a chain fails the whole load, as in kubectl.
    let chain = std::env::join_paths([fx.file("first.yaml"), fx.file("wrong-type.yaml.bad")])
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert_both_fail(
        &fx,
        Some(&chain),
        &config_args(&[], &["current-context"]),
        &["wrong-type.yaml.bad"],
    );
    // Minify with a context that does not exist / without a current context.
    let basic = fx.file("basic.yaml");
    let basic = basic.to_string_lossy();
    assert_both_fail(
        &fx,
        None,
        &config_args(
            &["--kubeconfig", &basic, "--context", "nope"],
            &["view", "--minify"],
        ),
        &["nope"],
    );
    let empty = fx.file("empty.yaml");
    assert_same_text(
        &fx,
        None,
        &config_args(
            &["--kubeconfig", &empty.to_string_lossy()],
            &["view", "--minify"],
        ),
    );
    // A missing --kubeconfig reads as an empty configuration in `config view`, as in kubectl.
    let missing = fx.file("does-not-exist.yaml");
    assert_same_json(
        &fx,
        None,
        &config_args(
            &["--kubeconfig", &missing.to_string_lossy()],
            &["view", "-o", "json"],
        ),
    );
}
