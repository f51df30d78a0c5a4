//! The discovery model: group/version/kind/resource names, the server's version, and what
//! discovery found (groups, resources per group version, and what could not be discovered).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{GroupDiscoveryFailed, InvalidGroupVersion};

/// An API group and version; the core group is the empty string (`v1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupVersion {
    /// The group, empty for the core group.
    pub group: String,
    /// The version.
    pub version: String,
}

impl GroupVersion {
    /// A group version from its parts.
    pub fn new(group: &str, version: &str) -> Self {
        GroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        }
    }

    /// Parses `v1` (core) or `group/version`, as client-go's `schema.ParseGroupVersion`; the
    /// empty string is the empty group version.
    pub fn parse(value: &str) -> Result<Self, InvalidGroupVersion> {
        let mut parts = value.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(""), None, None) => Ok(GroupVersion::default()),
            (Some(version), None, None) => Ok(GroupVersion::new("", version)),
            (Some(group), Some(version), None) if !version.is_empty() => {
                Ok(GroupVersion::new(group, version))
            }
            _ => Err(InvalidGroupVersion(value.to_string())),
        }
    }

    /// This group version with a kind.
    pub fn with_kind(&self, kind: &str) -> GroupVersionKind {
        GroupVersionKind {
            group: self.group.clone(),
            version: self.version.clone(),
            kind: kind.to_string(),
        }
    }

    /// This group version with a resource.
    pub fn with_resource(&self, resource: &str) -> GroupVersionResource {
        GroupVersionResource {
            group: self.group.clone(),
            version: self.version.clone(),
            resource: resource.to_string(),
        }
    }
}

/// `v1` for the core group, `group/version` otherwise: an object's `apiVersion`.
impl fmt::Display for GroupVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.version)
        } else {
            write!(f, "{}/{}", self.group, self.version)
        }
    }
}

/// A kind in a group version, e.g. `apps/v1, Kind=Deployment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupVersionKind {
    /// The group, empty for the core group.
    pub group: String,
    /// The version.
    pub version: String,
    /// The kind, e.g. `Deployment`.
    pub kind: String,
}

impl GroupVersionKind {
    /// A kind from its parts.
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        GroupVersion::new(group, version).with_kind(kind)
    }

    /// The group version.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(&self.group, &self.version)
    }

    /// The group and kind.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind {
            group: self.group.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// `apps/v1, Kind=Deployment`, as client-go prints it.
impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.group_version(), self.kind)
    }
}

/// A resource in a group version, e.g. `deployments.v1.apps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupVersionResource {
    /// The group, empty for the core group.
    pub group: String,
    /// The version.
    pub version: String,
    /// The resource (plural, lower case), e.g. `deployments`.
    pub resource: String,
}

impl GroupVersionResource {
    /// A resource from its parts.
    pub fn new(group: &str, version: &str, resource: &str) -> Self {
        GroupVersion::new(group, version).with_resource(resource)
    }

    /// The group version.
    pub fn group_version(&self) -> GroupVersion {
        GroupVersion::new(&self.group, &self.version)
    }

    /// The group and resource.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource {
            group: self.group.clone(),
            resource: self.resource.clone(),
        }
    }
}

/// `resource.version.group` (`pods.v1.` for the core group), as kubectl accepts it back.
impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.resource, self.version, self.group)
    }
}

/// A resource in a group, any version, e.g. `deployments.apps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupResource {
    /// The group, empty for the core group.
    pub group: String,
    /// The resource.
    pub resource: String,
}

impl GroupResource {
    /// Parses `resource` or `resource.group` (client-go's `schema.ParseGroupResource`).
    pub fn parse(value: &str) -> Self {
        match value.split_once('.') {
            Some((resource, group)) => GroupResource {
                group: group.to_string(),
                resource: resource.to_string(),
            },
            None => GroupResource {
                group: String::new(),
                resource: value.to_string(),
            },
        }
    }
}

/// `resource.group`, or `resource` for the core group.
impl fmt::Display for GroupResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.resource)
        } else {
            write!(f, "{}.{}", self.resource, self.group)
        }
    }
}

/// A kind in a group, any version, e.g. `Deployment.apps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    /// The group, empty for the core group.
    pub group: String,
    /// The kind.
    pub kind: String,
}

impl GroupKind {
    /// Parses `Kind` or `Kind.group` (client-go's `schema.ParseGroupKind`).
    pub fn parse(value: &str) -> Self {
        let GroupResource { group, resource } = GroupResource::parse(value);
        GroupKind {
            group,
            kind: resource,
        }
    }
}

/// `Kind.group`, or `Kind` for the core group.
impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// Whether a resource's objects live in namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Objects live in a namespace.
    Namespaced,
    /// Objects belong to the whole cluster.
    Cluster,
}

impl Scope {
    /// `Namespaced` when `namespaced`.
    pub fn from_namespaced(namespaced: bool) -> Self {
        if namespaced {
            Scope::Namespaced
        } else {
            Scope::Cluster
        }
    }
}

/// The server's version (`GET /version`), as apimachinery's `version.Info`. Fields the server
/// leaves out are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Info {
    /// Major version, e.g. `1`.
    pub major: String,
    /// Minor version, e.g. `37` (some distributions add a `+`).
    pub minor: String,
    /// The major version the server emulates, when it emulates an older one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub emulation_major: String,
    /// The minor version the server emulates.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub emulation_minor: String,
    /// The oldest major version the server stays compatible with.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub min_compatibility_major: String,
    /// The oldest minor version the server stays compatible with.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub min_compatibility_minor: String,
    /// The full version, e.g. `v1.37.2`.
    pub git_version: String,
    /// The commit built.
    pub git_commit: String,
    /// `clean` or `dirty`.
    pub git_tree_state: String,
    /// When it was built (RFC 3339).
    pub build_date: String,
    /// The Go version it was built with.
    pub go_version: String,
    /// The Go compiler.
    pub compiler: String,
    /// `os/arch`.
    pub platform: String,
}

/// An API group and the versions the server serves it at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiGroup {
    /// The group name, empty for the core group.
    pub name: String,
    /// The versions, most preferred first as the server lists them.
    pub versions: Vec<String>,
    /// The version the server prefers; empty if it names none.
    pub preferred_version: String,
}

impl ApiGroup {
    /// A group from its parts.
    pub fn new(name: &str, versions: &[&str], preferred_version: &str) -> Self {
        ApiGroup {
            name: name.to_string(),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            preferred_version: preferred_version.to_string(),
        }
    }

    /// The group versions, in the server's order.
    pub fn group_versions(&self) -> impl Iterator<Item = GroupVersion> + '_ {
        self.versions
            .iter()
            .map(|version| GroupVersion::new(&self.name, version))
    }
}

/// A resource of a group version, e.g. `deployments` in `apps/v1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiResource {
    /// The plural name used in URLs, e.g. `deployments`.
    pub name: String,
    /// The singular name, e.g. `deployment` (empty if the server names none).
    pub singular_name: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// The kind, e.g. `Deployment`. Empty only for a parent that the server lists solely for
    /// its subresources; such a parent is no resource of its own (client-go drops it).
    pub kind: String,
    /// The verbs it supports, e.g. `get`, `list`, `watch`.
    pub verbs: Vec<String>,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Its subresources, e.g. `status` and `scale`.
    pub subresources: Vec<ApiSubresource>,
}

impl ApiResource {
    /// Whether the resource supports `verb`.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The scope of its objects.
    pub fn scope(&self) -> Scope {
        Scope::from_namespaced(self.namespaced)
    }

    /// The subresource called `name`, e.g. `log` of `pods`.
    pub fn subresource(&self, name: &str) -> Option<&ApiSubresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

/// A subresource, e.g. `scale` of `deployments`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiSubresource {
    /// The subresource's own name, e.g. `scale` (the URL path segment after the object).
    pub name: String,
    /// The group of the kind it takes and returns (the parent's unless the server names
    /// another, e.g. `autoscaling` for `deployments/scale`).
    pub group: String,
    /// The version of that kind (the parent's unless the server names another).
    pub version: String,
    /// The kind it takes and returns, e.g. `Scale` (may be empty, e.g. for `pods/log`).
    pub kind: String,
    /// The verbs it supports.
    pub verbs: Vec<String>,
}

/// Everything discovery found on one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovery {
    /// The groups in the server's order, the core group (`""`) first.
    pub groups: Vec<ApiGroup>,
    /// The resources of every group version that could be discovered.
    pub resources: BTreeMap<GroupVersion, Vec<ApiResource>>,
    /// Group versions that could not be discovered, and why (a stale aggregated API service,
    /// a failing request).
    pub failed: BTreeMap<GroupVersion, String>,
}

impl Discovery {
    /// Every group version the server lists, in its order (`kubectl api-versions` prints
    /// these, sorted).
    pub fn group_versions(&self) -> Vec<GroupVersion> {
        self.groups
            .iter()
            .flat_map(ApiGroup::group_versions)
            .collect()
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Option<&ApiGroup> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The resources of one group version (empty if it was not discovered).
    pub fn resources_for(&self, group_version: &GroupVersion) -> &[ApiResource] {
        self.resources
            .get(group_version)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The resources at each group's preferred version, as `kubectl api-resources` lists
    /// them: for each group in order, each resource name once, at the most preferred version
    /// that has it (client-go's `ServerPreferredResources`).
    pub fn preferred_resources(&self) -> Vec<(GroupVersion, &ApiResource)> {
        let mut out = Vec::new();
        for group in &self.groups {
            let mut order: Vec<&str> = Vec::new();
            if !group.preferred_version.is_empty() {
                order.push(&group.preferred_version);
            }
            order.extend(
                group
                    .versions
                    .iter()
                    .map(String::as_str)
                    .filter(|v| *v != group.preferred_version),
            );
            let mut seen = std::collections::HashSet::new();
            for version in order {
                let gv = GroupVersion::new(&group.name, version);
                for resource in self.resources_for(&gv) {
                    if !resource.kind.is_empty() && seen.insert(resource.name.as_str()) {
                        out.push((gv.clone(), resource));
                    }
                }
            }
        }
        out
    }

    /// `Ok` when every group version was discovered, else client-go's
    /// `ErrGroupDiscoveryFailed` naming each failure.
    pub fn ensure_complete(&self) -> Result<(), GroupDiscoveryFailed> {
        if self.failed.is_empty() {
            return Ok(());
        }
        Err(GroupDiscoveryFailed {
            failed: self
                .failed
                .iter()
                .map(|(gv, reason)| (gv.clone(), reason.clone()))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_versions_parse_and_print_like_client_go() {
        let core = GroupVersion::parse("v1").expect("core");
        assert_eq!(core, GroupVersion::new("", "v1"));
        assert_eq!(core.to_string(), "v1");
        let apps = GroupVersion::parse("apps/v1").expect("apps");
        assert_eq!(apps.to_string(), "apps/v1");
        assert_eq!(
            GroupVersion::parse("").expect("empty"),
            GroupVersion::default()
        );
        for bad in ["a/b/c", "apps/", "/"] {
            assert!(GroupVersion::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            apps.with_kind("Deployment").to_string(),
            "apps/v1, Kind=Deployment"
        );
        assert_eq!(
            apps.with_resource("deployments").to_string(),
            "deployments.v1.apps"
        );
    }

    #[test]
    fn group_resource_and_kind_split_at_the_first_dot() {
        let gr = GroupResource::parse("storageclasses.storage.k8s.io");
        assert_eq!(gr.resource, "storageclasses");
        assert_eq!(gr.group, "storage.k8s.io");
        assert_eq!(GroupResource::parse("pods").group, "");
        let gk = GroupKind::parse("Deployment.apps");
        assert_eq!(
            (gk.kind.as_str(), gk.group.as_str()),
            ("Deployment", "apps")
        );
        assert_eq!(gk.to_string(), "Deployment.apps");
    }

    #[test]
    fn preferred_resources_take_each_name_once_preferred_version_first() {
        let mut d = Discovery::default();
        d.groups
            .push(ApiGroup::new("autoscaling", &["v2", "v1"], "v2"));
        let hpa = |only_v1: bool| {
            let mut r = vec![ApiResource {
                name: "horizontalpodautoscalers".into(),
                kind: "HorizontalPodAutoscaler".into(),
                ..ApiResource::default()
            }];
            if only_v1 {
                r.push(ApiResource {
                    name: "legacythings".into(),
                    kind: "LegacyThing".into(),
                    ..ApiResource::default()
                });
            }
            r
        };
        d.resources
            .insert(GroupVersion::new("autoscaling", "v2"), hpa(false));
        d.resources
            .insert(GroupVersion::new("autoscaling", "v1"), hpa(true));
        let got: Vec<String> = d
            .preferred_resources()
            .iter()
            .map(|(gv, r)| format!("{gv} {}", r.name))
            .collect();
        assert_eq!(
            got,
            [
                "autoscaling/v2 horizontalpodautoscalers",
                "autoscaling/v1 legacythings"
            ]
        );
        assert!(d.ensure_complete().is_ok());
        d.failed.insert(
            GroupVersion::new("metrics.k8s.io", "v1beta1"),
            "stale".into(),
        );
        let err = d.ensure_complete().expect_err("failed group");
        assert!(
            err.to_string().contains("metrics.k8s.io/v1beta1: stale"),
            "{err}"
        );
    }
}
