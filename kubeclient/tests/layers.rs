//! The layers of kubeclient point one way, and this test is what keeps them so.
//!
//! - `kubeclient-core` (the wire layer: resource trait, options, Status, watch framing, label
//!   selectors, request paths) is its own crate, so the compiler keeps it from importing
//!   anything of kubeclient; [`the_wire_layer_has_no_io_in_its_dependency_tree`] keeps tokio,
//!   hyper and other I/O crates out of its dependency tree.
//! - Inside the `kubeclient` crate, [`LAYERS`] lists the top-level modules from the bottom up;
//!   [`modules_import_only_layers_below_their_own`] reads every source file and fails on a
//!   path (`crate::x`, or `super::` up to the crate root) that names a module of the same layer
//!   or of one above. So there are no import circles either.
//! - The CLI (`kubeclient-cli`) is a crate on top of everything, which the compiler enforces.
//!
//! Run it alone with `cargo test -p kubeclient --test layers`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// kubeclient's top-level modules, bottom layer first. A module may use modules of lower
/// layers only (and `kubeclient_core`, below them all).
const LAYERS: &[&[&str]] = &[
    // Helpers with no I/O of their own: URL credential masking, then the secret wrapper.
    &["redact"],
    &["secret"],
    // The transport: rest::Config, credentials (rest::auth), proxies, TLS, the request loop.
    &["rest"],
    // kubeconfig and in-cluster configuration, made into a rest::Config.
    &["config"],
    // The generic typed client; discovery and REST mapping.
    &["client", "discovery"],
    // On those: the Clientset's accessors, the dynamic and metadata clients, retry helpers.
    &["clientset", "dynamic", "retry"],
    // The controller toolkit: informers, work queues, leader election, events.
    &["cache", "workqueue", "leaderelection", "record"],
    // The crate-wide error every module's error converts into.
    &["error"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// A reference from one top-level module to another.
#[derive(Debug, PartialEq, Eq)]
struct Reference {
    line: usize,
    target: String,
}

/// The module path of a source file relative to `src/` (`rest/auth/exec.rs` is
/// `rest::auth::exec`, `rest/mod.rs` is `rest`, `lib.rs` is the root).
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" && stem != "lib" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// Every top-level module that `source` (the file of module `path`) names through `crate::`
/// or through enough `super::` to reach the crate root. Comments are skipped; `$crate` (in
/// macros) is not a reference. Inline modules (`mod tests { ... }`) are not tracked, so a
/// `super::super::` inside one is read as if written at the file's level: the check errs on
/// the strict side, and such a path is better written `crate::...` anyway.
fn references(source: &str, path: &[String]) -> Vec<Reference> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let bytes = code.as_bytes();
        let mut at = 0;
        while at < code.len() {
            let rest = &code[at..];
            let preceded_by_ident = at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b'$');
            if !preceded_by_ident && rest.starts_with("crate::") {
                found.extend(targets(&rest["crate::".len()..], index + 1));
                at += "crate::".len();
                continue;
            }
            if !preceded_by_ident && rest.starts_with("super::") {
                let mut supers = 0;
                let mut tail = rest;
                while let Some(next) = tail.strip_prefix("super::") {
                    supers += 1;
                    tail = next;
                }
                if supers >= path.len() {
                    found.extend(targets(tail, index + 1));
                }
                at += rest.len() - tail.len();
                continue;
            }
            at += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

/// The top-level modules named right after `crate::`: one identifier, or each first
/// identifier of a `{a, b::c}` group.
fn targets(after: &str, line: usize) -> Vec<Reference> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let names: Vec<String> = match after.strip_prefix('{') {
        Some(group) => group
            .split('}')
            .next()
            .unwrap_or("")
            .split(',')
            .map(ident)
            .collect(),
        None => vec![ident(after)],
    };
    names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|target| Reference { line, target })
        .collect()
}

/// What is wrong with `file` (module `path`) under the layering: one line per reference to a
/// module of the same layer or above, or to a module the table does not know.
fn violations(file: &str, source: &str, path: &[String]) -> Vec<String> {
    let Some(own) = path.first() else {
        return Vec::new(); // lib.rs declares the modules and re-exports; it imports nothing.
    };
    let Some(own_layer) = layer_of(own) else {
        return vec![format!("{file}: module `{own}` is not in LAYERS")];
    };
    let mut problems = Vec::new();
    for Reference { line, target } in references(source, path) {
        if &target == own {
            continue;
        }
        match layer_of(&target) {
            Some(layer) if layer < own_layer => {}
            Some(layer) => problems.push(format!(
                "{file}:{line}: `{own}` (layer {own_layer}) uses `{target}` (layer {layer}): \
                 a module may use only layers below its own"
            )),
            // Items of the crate root (the re-exported macro, VERSION) are not modules.
            None if is_root_item(&target) => {}
            None => problems.push(format!(
                "{file}:{line}: `{own}` uses `crate::{target}`, which is not in LAYERS"
            )),
        }
    }
    problems
}

fn is_root_item(name: &str) -> bool {
    matches!(name, "VERSION" | "object_meta_accessors" | "Error")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_only_layers_below_their_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut modules_seen = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let path = module_path(relative);
        if let Some(top) = path.first() {
            *modules_seen.entry(top.clone()).or_insert(0) += 1;
        }
        let source = std::fs::read_to_string(file).expect("read source");
        problems.extend(violations(&relative.display().to_string(), &source, &path));
    }
    assert!(
        modules_seen.len() >= 10,
        "too few modules found under {}: {modules_seen:?}",
        src.display()
    );
    assert!(problems.is_empty(), "layering:\n{}", problems.join("\n"));
}

#[test]
fn the_checker_finds_upward_and_sideways_imports() {
    let path = |p: &str| module_path(Path::new(p));
    // rest importing config (above it), in the forms Rust allows.
    for source in [
        "use crate::config::Kubeconfig;",
        "use crate::{redact, config::Kubeconfig};",
        "    let home = crate::config::home_dir();",
    ] {
        let found = violations("rest/config.rs", source, &path("rest/config.rs"));
        assert_eq!(found.len(), 1, "{source}: {found:?}");
        assert!(found[0].contains("uses `config`"), "{found:?}");
    }
    // super:: that climbs to the crate root counts; super:: inside the module does not.
    let found = violations(
        "rest/auth/exec.rs",
        "use super::super::super::cache::Store;",
        &path("rest/auth/exec.rs"),
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        violations(
            "rest/auth/exec.rs",
            "use super::AuthError;",
            &path("rest/auth/exec.rs")
        )
        .is_empty()
    );
    assert_eq!(
        violations("retry.rs", "use super::cache::Store;", &path("retry.rs")).len(),
        1
    );
    // Same layer, sideways: client and discovery may not use each other.
    assert_eq!(
        violations(
            "client/typed.rs",
            "use crate::discovery::X;",
            &path("client/typed.rs")
        )
        .len(),
        1
    );
    // Downward, comments, macros' $crate and the module itself are fine.
    for source in [
        "use crate::rest::Config;",
        "use crate::{rest, redact::redact_url};",
        "// see crate::cache for informers",
        "$crate::object_meta_accessors!();",
        "use crate::config::model::Cluster;",
    ] {
        assert!(
            violations("config/x.rs", source, &path("config/x.rs")).is_empty(),
            "{source}"
        );
    }
    assert_eq!(
        violations("nowhere/x.rs", "", &path("nowhere/x.rs")).len(),
        1,
        "an unknown module is reported"
    );
}

/// Crates that do I/O (sockets, async runtimes, HTTP), which the wire layer must not pull in.
const IO_CRATES: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "hyper-util",
    "h2",
    "reqwest",
    "tower",
    "rustls",
    "async-std",
];

#[test]
fn the_wire_layer_has_no_io_in_its_dependency_tree() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kubeclient-core/Cargo.toml");
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "tree", "--edges", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(["--all-features", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"kubeclient-core") && crates.contains(&"serde"),
        "unexpected cargo tree output: {tree}"
    );
    let io: Vec<&&str> = crates.iter().filter(|c| IO_CRATES.contains(c)).collect();
    assert!(io.is_empty(), "kubeclient-core depends on {io:?}:\n{tree}");
}
