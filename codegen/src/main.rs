//! `cargo run -p codegen`: writes `kubeclient/src/clientset/generated.rs`, the Clientset's
//! accessors (`clientset.apps_v1().deployments("ns")`), from the resource types that the
//! pinned k8s-openapi crate itself defines for the pinned Kubernetes version.
//!
//! It reads k8s-openapi's source (found with `cargo metadata`) and takes every type that has
//! object metadata and is namespaced or cluster-scoped (subresource types such as Scale are
//! not); nothing is listed by hand. `--check` compares instead of writing and fails on a difference (CI runs it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The Kubernetes version whose types the Clientset serves (k8s-openapi's module name).
const KUBERNETES_MODULE: &str = "v1_37";
const OUTPUT: &str = "kubeclient/src/clientset/generated.rs";

/// One resource type found in k8s-openapi.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    /// `apps`, or empty for the core group.
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    /// `k8s_openapi::api::apps::v1::Deployment`.
    path: String,
}

fn fail(message: String) -> ExitCode {
    eprintln!("codegen: {message}");
    ExitCode::FAILURE
}

/// The directory of k8s-openapi's sources for the pinned version.
fn k8s_openapi_sources(root: &Path) -> Result<PathBuf, String> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("running cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata output: {e}"))?;
    let manifest = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "k8s-openapi")
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or("k8s-openapi is not in the dependency graph")?;
    let dir = Path::new(manifest)
        .parent()
        .ok_or("k8s-openapi's manifest has no directory")?
        .join("src")
        .join(KUBERNETES_MODULE);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{} does not exist", dir.display()))
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The string value of `const NAME: &'static str = "...";` in `block`.
fn const_str(block: &str, name: &str) -> Option<String> {
    let start = block.find(&format!("const {name}: &'static str = \""))?;
    let rest = &block[start..];
    let value = rest.split('"').nth(1)?;
    Some(value.to_string())
}

/// The resource types defined in one file.
fn scan(file: &Path, base: &Path, text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("impl crate::Resource for ") {
        let rest = &text[i + "impl crate::Resource for ".len()..];
        let Some(kind_type) = rest.split_whitespace().next() else {
            continue;
        };
        let Some(end) = rest.find("\n}") else {
            continue;
        };
        let block = &rest[..end];
        let scope = if block.contains("type Scope = crate::NamespaceResourceScope;") {
            true
        } else if block.contains("type Scope = crate::ClusterResourceScope;") {
            false
        } else {
            continue; // subresource types (Scale, Eviction, ...)
        };
        // Create-only kinds (TokenReview, SelfSubjectReview, ...) count too: they have object
        // metadata, just no list.
        let object_meta = text.contains(&format!("impl crate::Metadata for {kind_type} "))
            && text.contains("type Ty = crate::apimachinery::pkg::apis::meta::v1::ObjectMeta;");
        if !object_meta {
            continue;
        }
        let (Some(group), Some(version), Some(plural)) = (
            const_str(block, "GROUP"),
            const_str(block, "VERSION"),
            const_str(block, "URL_PATH_SEGMENT"),
        ) else {
            continue;
        };
        // src/v1_37/api/apps/v1/deployment.rs -> k8s_openapi::api::apps::v1::Deployment
        let Ok(relative) = file.parent().unwrap_or(base).strip_prefix(base) else {
            continue;
        };
        let module: Vec<String> = relative
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        found.push(Found {
            group,
            version,
            kind: kind_type.to_string(),
            plural,
            namespaced: scope,
            path: format!("k8s_openapi::{}::{}", module.join("::"), kind_type),
        });
    }
    found
}

/// `ClusterRole` -> `["cluster", "role"]`.
fn words(camel: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let chars: Vec<char> = camel.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c.is_uppercase()
            && i > 0
            && (chars[i - 1].is_lowercase()
                || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                    && chars[i - 1].is_uppercase());
        if boundary || words.is_empty() {
            words.push(String::new());
        }
        if let Some(w) = words.last_mut() {
            w.extend(c.to_lowercase());
        }
    }
    words
}

/// The accessor name: the plural, split where the kind's words split
/// (`ClusterRole` + `clusterroles` -> `cluster_roles`).
fn accessor(kind: &str, plural: &str) -> String {
    let words = words(kind);
    let mut rest = plural;
    let mut parts = Vec::new();
    for word in &words[..words.len().saturating_sub(1)] {
        match rest.strip_prefix(word.as_str()) {
            Some(r) => {
                parts.push(word.clone());
                rest = r;
            }
            None => break,
        }
    }
    parts.push(rest.to_string());
    parts.join("_")
}

/// `apps` + `v1` -> `apps_v1`; `rbac.authorization.k8s.io` + `v1` -> `rbac_authorization_v1`;
/// the core group -> `core_v1`.
fn group_accessor(group: &str, version: &str) -> String {
    let name = if group.is_empty() {
        "core".to_string()
    } else {
        group.trim_end_matches(".k8s.io").replace(['.', '-'], "_")
    };
    format!("{name}_{version}")
}

fn type_name(accessor: &str) -> String {
    accessor
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn render(found: &[Found]) -> String {
    let mut groups: BTreeMap<String, (String, String, Vec<&Found>)> = BTreeMap::new();
    for f in found {
        let key = group_accessor(&f.group, &f.version);
        groups
            .entry(key)
            .or_insert_with(|| (f.group.clone(), f.version.clone(), Vec::new()))
            .2
            .push(f);
    }
    let mut out = String::new();
    out.push_str("// Generated by `cargo run -p codegen` from the resource types of k8s-openapi\n");
    out.push_str(&format!(
        "// (module {KUBERNETES_MODULE}). Do not edit: change the generator and run it again.\n\n"
    ));
    out.push_str("use super::Clientset;\nuse crate::client::Client;\n\n");
    out.push_str("impl Clientset {\n");
    for (group_fn, (group, version, _)) in &groups {
        let gv = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        out.push_str(&format!(
            "    /// The `{gv}` API group version.\n    pub fn {group_fn}(&self) -> {} {{\n        {} {{ rest: self.rest.clone() }}\n    }}\n\n",
            type_name(group_fn),
            type_name(group_fn)
        ));
    }
    out.truncate(out.trim_end().len());
    out.push_str("\n}\n");
    for (group_fn, (group, version, resources)) in &groups {
        let gv = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        let ty = type_name(group_fn);
        out.push_str(&format!(
            "\n/// Typed clients of the `{gv}` API group version.\n#[derive(Debug, Clone)]\npub struct {ty} {{\n    rest: crate::rest::RestClient,\n}}\n\nimpl {ty} {{\n"
        ));
        let mut sorted = resources.clone();
        sorted.sort_by(|a, b| a.plural.cmp(&b.plural));
        for (i, r) in sorted.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let name = accessor(&r.kind, &r.plural);
            if r.namespaced {
                out.push_str(&format!(
                    "    /// `{}` in one namespace.\n    pub fn {name}(&self, namespace: &str) -> Client<{}> {{\n        Client::namespaced(self.rest.clone(), namespace)\n    }}\n",
                    r.plural, r.path
                ));
            } else {
                out.push_str(&format!(
                    "    /// `{}` (cluster-scoped).\n    pub fn {name}(&self) -> Client<{}> {{\n        Client::cluster(self.rest.clone())\n    }}\n",
                    r.plural, r.path
                ));
            }
        }
        out.push_str("}\n");
    }
    out
}

/// `text` as rustfmt formats it, so the file passes `cargo fmt --check` as it is written.
fn rustfmt(text: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("running rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt has no stdin")?
        .write_all(text.as_bytes())
        .map_err(|e| format!("writing to rustfmt: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt output: {e}"))
}

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let base = match k8s_openapi_sources(&root) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let mut files = Vec::new();
    if let Err(e) = rust_files(&base, &mut files) {
        return fail(e);
    }
    let mut found = Vec::new();
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => found.extend(scan(file, &base, &text)),
            Err(e) => return fail(format!("{}: {e}", file.display())),
        }
    }
    found.sort();
    if found.is_empty() {
        return fail(format!("no resource types found under {}", base.display()));
    }
    let text = match rustfmt(&render(&found)) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let output = root.join(OUTPUT);
    if check {
        let current = std::fs::read_to_string(&output).unwrap_or_default();
        if current != text {
            return fail(format!(
                "{OUTPUT} is out of date: run `cargo run -p codegen`"
            ));
        }
        println!("{OUTPUT} is up to date ({} resource types)", found.len());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::write(&output, text) {
        return fail(format!("writing {}: {e}", output.display()));
    }
    println!("wrote {OUTPUT} ({} resource types)", found.len());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessor_names_follow_the_kind_words() {
        assert_eq!(accessor("Deployment", "deployments"), "deployments");
        assert_eq!(accessor("ClusterRole", "clusterroles"), "cluster_roles");
        assert_eq!(
            accessor("NetworkPolicy", "networkpolicies"),
            "network_policies"
        );
        assert_eq!(accessor("Endpoints", "endpoints"), "endpoints");
        assert_eq!(accessor("CSIDriver", "csidrivers"), "csi_drivers");
        assert_eq!(accessor("APIService", "apiservices"), "api_services");
        assert_eq!(
            accessor("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
            "horizontal_pod_autoscalers"
        );
        assert_eq!(group_accessor("", "v1"), "core_v1");
        assert_eq!(
            group_accessor("rbac.authorization.k8s.io", "v1"),
            "rbac_authorization_v1"
        );
        assert_eq!(type_name("rbac_authorization_v1"), "RbacAuthorizationV1");
    }
}
