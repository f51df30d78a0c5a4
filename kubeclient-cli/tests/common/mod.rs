//! Shared by the differential tests of the API commands: run `kubeclient` and the real
//! kubectl with the same arguments against the test control plane, with `HOME` pointing to
//! an empty temporary directory (so no user configuration and no discovery cache leak in),
//! `KUBECONFIG` unset and `--kubeconfig` passed explicitly.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The `kubeclient` binary of this build.
pub fn kubeclient_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubeclient"))
}

/// The real kubectl.
pub fn kubectl_binary() -> PathBuf {
    let bin = test_support::kubectl_binary();
    assert!(
        bin.exists(),
        "{} is missing: run `controlplane/build`",
        bin.display()
    );
    bin
}

fn home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubeclient-cli-home-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        dir
    })
}

/// Runs `bin args…` against the admin kubeconfig, with `input` on stdin.
pub fn run_with_input(bin: &Path, args: &[&str], input: Option<&str>) -> Run {
    let mut cmd = Command::new(bin);
    cmd.arg("--kubeconfig")
        .arg(test_support::cluster().kubeconfig())
        .args(args)
        .env("HOME", home())
        .env_remove("KUBECONFIG")
        .current_dir(home())
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(input.as_bytes())
            .unwrap_or_else(|e| panic!("writing stdin: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {}: {e}", bin.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kubeclient args…`.
pub fn kubeclient(args: &[&str]) -> Run {
    run_with_input(&kubeclient_binary(), args, None)
}

/// `kubectl args…`.
pub fn kubectl(args: &[&str]) -> Run {
    run_with_input(&kubectl_binary(), args, None)
}

/// `kubectl args…` that must succeed.
pub fn kubectl_ok(args: &[&str], input: Option<&str>) -> String {
    let run = run_with_input(&kubectl_binary(), args, input);
    assert_eq!(run.code, 0, "kubectl {args:?}: {}", run.stderr);
    run.stdout
}

/// Both binaries with the same arguments: (kubeclient, kubectl).
pub fn both(args: &[&str]) -> (Run, Run) {
    (kubeclient(args), kubectl(args))
}

/// Parsed JSON of a successful run.
pub fn json_of(run: &Run, what: &str) -> serde_json::Value {
    assert_eq!(run.code, 0, "{what}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{what}: {e}\n{}", run.stdout))
}
