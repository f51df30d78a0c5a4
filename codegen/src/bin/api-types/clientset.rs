//! The Clientset's accessors (`kubeclient/src/clientset/generated.rs`): one method per API
//! group version on `Clientset`, and on each group version's struct one method per resource,
//! returning the typed client of the generated type. Each group version sits behind the
//! cargo feature of its API package, as the types do.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One resource the Clientset serves.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    /// `apps`, or empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// The API package (`apps`), whose feature `api-apps` gates the type.
    pub package: String,
    /// `kubeclient_core::api::apps::v1::Deployment`.
    pub path: String,
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

/// The text of `generated.rs` (before rustfmt).
pub fn render(header: &str, entries: &[Entry]) -> Result<String, String> {
    struct Group<'a> {
        api_version: String,
        package: &'a str,
        resources: Vec<&'a Entry>,
    }
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for e in entries {
        let group = groups
            .entry(group_accessor(&e.group, &e.version))
            .or_insert_with(|| Group {
                api_version: if e.group.is_empty() {
                    e.version.clone()
                } else {
                    format!("{}/{}", e.group, e.version)
                },
                package: &e.package,
                resources: Vec::new(),
            });
        if group.package != e.package {
            return Err(format!(
                "{} has types in two API packages ({} and {})",
                group.api_version, group.package, e.package
            ));
        }
        group.resources.push(e);
    }
    let mut out = format!(
        "{header}//! The Clientset's accessors, one per API group version and resource.\n\nuse super::Clientset;\n#[allow(unused_imports)]\nuse crate::client::Client;\n\nimpl Clientset {{\n"
    );
    for (name, g) in &groups {
        let _ = write!(
            out,
            "    /// The `{gv}` API group version.\n    #[cfg(feature = \"api-{package}\")]\n    pub fn {name}(&self) -> {ty} {{\n        {ty} {{ rest: self.rest.clone() }}\n    }}\n\n",
            gv = g.api_version,
            package = g.package,
            ty = type_name(name),
        );
    }
    out.truncate(out.trim_end().len());
    out.push_str("\n}\n");
    for (name, g) in &groups {
        let ty = type_name(name);
        let _ = write!(
            out,
            "\n/// Typed clients of the `{gv}` API group version.\n#[cfg(feature = \"api-{package}\")]\n#[derive(Debug, Clone)]\npub struct {ty} {{\n    rest: crate::rest::RestClient,\n}}\n\n#[cfg(feature = \"api-{package}\")]\nimpl {ty} {{\n",
            gv = g.api_version,
            package = g.package,
        );
        let mut sorted = g.resources.clone();
        sorted.sort_by(|a, b| a.plural.cmp(&b.plural));
        for (i, r) in sorted.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let method = accessor(&r.kind, &r.plural);
            if r.namespaced {
                let _ = write!(
                    out,
                    "    /// `{}` ({}) in one namespace.\n    pub fn {method}(&self, namespace: &str) -> Client<{}> {{\n        Client::namespaced(self.rest.clone(), namespace)\n    }}\n",
                    r.plural, r.kind, r.path
                );
            } else {
                let _ = write!(
                    out,
                    "    /// `{}` ({}, cluster-scoped).\n    pub fn {method}(&self) -> Client<{}> {{\n        Client::cluster(self.rest.clone())\n    }}\n",
                    r.plural, r.kind, r.path
                );
            }
        }
        out.push_str("}\n");
    }
    Ok(out)
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

    #[test]
    fn a_group_version_is_gated_by_its_package() {
        let entry = |kind: &str, plural: &str, namespaced| Entry {
            group: "apps".into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
            package: "apps".into(),
            path: format!("kubeclient_core::api::apps::v1::{kind}"),
        };
        let text = render(
            "",
            &[
                entry("Deployment", "deployments", true),
                entry("ControllerRevision", "controllerrevisions", true),
            ],
        )
        .expect("render");
        assert!(
            text.contains("#[cfg(feature = \"api-apps\")]\n    pub fn apps_v1(&self) -> AppsV1")
        );
        assert!(text.contains(
            "pub fn controller_revisions(&self, namespace: &str) -> Client<kubeclient_core::api::apps::v1::ControllerRevision>"
        ));
        // Sorted by plural.
        assert!(text.find("controller_revisions") < text.find("fn deployments"));
        let mut other = entry("Pod", "pods", true);
        other.package = "core".into();
        assert!(render("", &[entry("Deployment", "deployments", true), other]).is_err());
    }
}
