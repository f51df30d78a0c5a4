//! [`RestMapper`]: kinds to resources and back, and kubectl's resolution of what a user types,
//! over what discovery found. The rules are client-go's:
//!
//! - each group version maps its resources' plural and singular names (the singular guessed
//!   as the lower-cased kind when the server names none) to the kind, and the kind (as
//!   written and lower-cased) to the plural resource; subresources are not mapped
//!   (`restmapper.NewDiscoveryRESTMapper`);
//! - resource names are matched in lower case; a group that matches no group exactly is
//!   matched as a prefix (`storageclasses.storage` finds `storage.k8s.io`)
//!   (`meta.DefaultRESTMapper`);
//! - several matches are narrowed by priority: core `v1` first, then each group in discovery
//!   order at its preferred version then its other versions, then each group at any version;
//!   the first pattern that leaves one match picks it, and matches no pattern can separate
//!   are ambiguous (`meta.PriorityRESTMapper`);
//! - short names expand to their resource unless the input is some resource's plural or
//!   singular name; the first short name in discovery order wins, a clash with another
//!   resource is logged (`restmapper.shortcutExpander`);
//! - user input is tried as `resource.version.group`, then `resource.group`, then as
//!   `Kind.version.group` and `Kind.group` (kubectl's `Builder.mappingFor`).
//!
//! Pure: built from a [`Discovery`] with no I/O.

use std::collections::HashSet;

use super::Error;
use kubeclient_core::discovery::{
    Discovery, GroupKind, GroupResource, GroupVersion, GroupVersionKind, GroupVersionResource,
    Scope,
};

/// Where to find a kind: its resource and scope (client-go's `meta.RESTMapping`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RestMapping {
    /// The resource to call, e.g. `deployments.v1.apps`.
    pub resource: GroupVersionResource,
    /// The kind its objects have, e.g. `apps/v1, Kind=Deployment`.
    pub kind: GroupVersionKind,
    /// Whether its objects live in namespaces.
    pub scope: Scope,
}

/// One mapped resource of one group version.
#[derive(Debug, Clone)]
struct Entry {
    gv: GroupVersion,
    plural: String,
    singular: String,
    kind: String,
    scope: Scope,
    short_names: Vec<String>,
    categories: Vec<String>,
}

impl Entry {
    fn gvr(&self) -> GroupVersionResource {
        self.gv.with_resource(&self.plural)
    }

    fn gvk(&self) -> GroupVersionKind {
        self.gv.with_kind(&self.kind)
    }

    fn mapping(&self) -> RestMapping {
        RestMapping {
            resource: self.gvr(),
            kind: self.gvk(),
            scope: self.scope,
        }
    }

    fn names(&self, resource: &str) -> bool {
        self.plural == resource || self.singular == resource
    }

    fn kind_is(&self, kind: &str) -> bool {
        self.kind == kind || self.kind.to_lowercase() == kind
    }
}

/// A priority pattern: a group and version, `None` matching any.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    group: Option<String>,
    version: Option<String>,
}

impl Pattern {
    fn matches(&self, gv: &GroupVersion) -> bool {
        self.group.as_ref().is_none_or(|g| *g == gv.group)
            && self.version.as_ref().is_none_or(|v| *v == gv.version)
    }
}

/// Maps kinds to resources and back, and resolves user input, over one [`Discovery`]
/// (client-go's discovery-backed `PriorityRESTMapper` with its shortcut expander). See the
/// module docs for the rules.
#[derive(Debug, Clone, Default)]
pub struct RestMapper {
    /// Every mapped resource, in discovery order (groups, then versions as listed).
    entries: Vec<Entry>,
    priority: Vec<Pattern>,
}

impl RestMapper {
    /// A mapper over `discovery`.
    pub fn new(discovery: &Discovery) -> Self {
        let mut entries = Vec::new();
        let mut priority = vec![Pattern {
            group: Some(String::new()),
            version: Some("v1".into()),
        }];
        for group in &discovery.groups {
            let has = |version: &str| {
                discovery
                    .resources
                    .contains_key(&GroupVersion::new(&group.name, version))
            };
            if !group.preferred_version.is_empty() && has(&group.preferred_version) {
                priority.push(Pattern {
                    group: Some(group.name.clone()),
                    version: Some(group.preferred_version.clone()),
                });
            }
            for version in &group.versions {
                if !has(version) {
                    continue;
                }
                if *version != group.preferred_version {
                    priority.push(Pattern {
                        group: Some(group.name.clone()),
                        version: Some(version.clone()),
                    });
                }
                let gv = GroupVersion::new(&group.name, version);
                for r in discovery.resources_for(&gv) {
                    if r.kind.is_empty() || r.name.contains('/') {
                        continue;
                    }
                    let singular = if r.singular_name.is_empty() {
                        r.kind.to_lowercase()
                    } else {
                        r.singular_name.clone()
                    };
                    entries.push(Entry {
                        gv: gv.clone(),
                        plural: r.name.clone(),
                        singular,
                        kind: r.kind.clone(),
                        scope: r.scope(),
                        short_names: r.short_names.clone(),
                        categories: r.categories.clone(),
                    });
                }
            }
        }
        for group in &discovery.groups {
            priority.push(Pattern {
                group: Some(group.name.clone()),
                version: None,
            });
        }
        RestMapper { entries, priority }
    }

    /// Every resource matching a partly given one (empty fields match anything), without
    /// short-name expansion (client-go's `ResourcesFor`).
    pub fn resources_for(&self, input: &GroupVersionResource) -> Vec<GroupVersionResource> {
        dedup(self.matching(input).map(Entry::gvr))
    }

    /// Every kind a partly given resource maps to (client-go's `KindsFor`).
    pub fn kinds_for(&self, input: &GroupVersionResource) -> Vec<GroupVersionKind> {
        dedup(self.matching(input).map(Entry::gvk))
    }

    /// The one resource a partly given resource means, by priority (client-go's
    /// `ResourceFor`).
    pub fn resource_for(
        &self,
        input: &GroupVersionResource,
    ) -> Result<GroupVersionResource, Error> {
        let found = self.resources_for(input);
        self.pick(found, |r| r.group_version(), &[], &partial(input))
    }

    /// The kind a partly given resource maps to, by priority (client-go's `KindFor`).
    pub fn kind_for(&self, input: &GroupVersionResource) -> Result<GroupVersionKind, Error> {
        let found = self.kinds_for(input);
        self.pick(found, |k| k.group_version(), &[], &partial(input))
            .map_err(|e| match e {
                // Name the resources, which is what the user typed.
                Error::Ambiguous { input: what, .. } => Error::Ambiguous {
                    input: what,
                    candidates: self
                        .resources_for(input)
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                },
                other => other,
            })
    }

    /// Every mapping of a kind: at the first of `versions` that has it in each group
    /// version, or at every version when none is given (client-go's `RESTMappings`). The
    /// kind matches as written or in lower case.
    pub fn rest_mappings(&self, kind: &GroupKind, versions: &[&str]) -> Vec<RestMapping> {
        let versions: Vec<&str> = versions.iter().copied().filter(|v| !v.is_empty()).collect();
        dedup(
            self.entries
                .iter()
                .filter(|e| e.gv.group == kind.group && e.kind_is(&kind.kind))
                .filter(|e| versions.is_empty() || versions.contains(&e.gv.version.as_str()))
                .map(Entry::mapping),
        )
    }

    /// The mapping of a kind, preferring `versions` in order, then the priority order
    /// (client-go's `RESTMapping`).
    pub fn rest_mapping(&self, kind: &GroupKind, versions: &[&str]) -> Result<RestMapping, Error> {
        let found = self.rest_mappings(kind, versions);
        self.pick(
            found,
            |m| m.kind.group_version(),
            versions,
            &kind.to_string(),
        )
        .map_err(|e| match e {
            Error::NotFound { suggestions, .. } => Error::NotFound {
                input: kind.to_string(),
                suggestions,
            },
            other => other,
        })
    }

    /// The resource for a fully given kind (`GroupVersionKind` → `GroupVersionResource`).
    pub fn mapping_for_kind(&self, kind: &GroupVersionKind) -> Result<RestMapping, Error> {
        self.rest_mapping(&kind.group_kind(), &[&kind.version])
    }

    /// The resources whose categories include `category` (e.g. `all`), each once, in
    /// discovery order (kubectl's category expansion).
    pub fn category(&self, category: &str) -> Vec<GroupResource> {
        dedup(
            self.entries
                .iter()
                .filter(|e| e.categories.iter().any(|c| c == category))
                .map(|e| e.gvr().group_resource()),
        )
    }

    /// Expands a short name to its resource (client-go's `shortcutExpander`): unchanged when
    /// the input is some resource's plural or singular name or no short name matches.
    pub fn expand_short_name(&self, input: &GroupVersionResource) -> GroupVersionResource {
        let in_group = |e: &&Entry| input.group.is_empty() || e.gv.group == input.group;
        if self
            .entries
            .iter()
            .filter(in_group)
            .any(|e| e.names(&input.resource))
        {
            return input.clone();
        }
        let mut found: Option<&Entry> = None;
        for entry in self.entries.iter().filter(in_group) {
            if !entry.short_names.contains(&input.resource) {
                continue;
            }
            match found {
                None => found = Some(entry),
                Some(first) if first.gv.group == entry.gv.group && first.plural == entry.plural => {
                }
                Some(first) => tracing::warn!(
                    "short name {:?} could also match lower priority resource {} (using {})",
                    input.resource,
                    entry.gvr().group_resource(),
                    first.gvr().group_resource()
                ),
            }
        }
        if let Some(entry) = found {
            // As client-go, the expansion keeps the group and resource only.
            return GroupVersionResource::new(&entry.gv.group, "", &entry.plural);
        }
        if input.group.is_empty() {
            return input.clone();
        }
        for entry in &self.entries {
            if entry.gv.group.starts_with(&input.group)
                && entry.short_names.contains(&input.resource)
            {
                return GroupVersionResource::new(&entry.gv.group, &input.version, &entry.plural);
            }
        }
        input.clone()
    }

    /// Resolves what a user typed the way kubectl does: `deploy`, `deployments`,
    /// `deployment`, `Deployment`, `deployments.apps`, `deployments.v1.apps`,
    /// `Deployment.v1.apps`, short names, CRDs' names.
    pub fn resolve(&self, input: &str) -> Result<RestMapping, Error> {
        let mut ambiguity = None;
        let mut kind = None;
        let mut try_kind_for =
            |gvr: GroupVersionResource| match self.kind_for(&self.expand_short_name(&gvr)) {
                Ok(found) => Some(found),
                Err(Error::Ambiguous { candidates, .. }) => {
                    ambiguity.get_or_insert(Error::Ambiguous {
                        input: input.to_string(),
                        candidates,
                    });
                    None
                }
                Err(_) => None,
            };
        let parts: Vec<&str> = input.splitn(3, '.').collect();
        if let [resource, version, group] = parts[..] {
            kind = try_kind_for(GroupVersionResource::new(group, version, resource));
        }
        if kind.is_none() {
            let gr = GroupResource::parse(input);
            kind = try_kind_for(GroupVersionResource::new(&gr.group, "", &gr.resource));
        }
        if let Some(kind) = kind {
            return self.rest_mapping(&kind.group_kind(), &[&kind.version]);
        }
        if let [kind, version, group] = parts[..] {
            let gk = GroupKind {
                group: group.to_string(),
                kind: kind.to_string(),
            };
            if let Ok(mapping) = self.rest_mapping(&gk, &[version]) {
                return Ok(mapping);
            }
        }
        match self.rest_mapping(&GroupKind::parse(input), &[]) {
            Ok(mapping) => Ok(mapping),
            Err(e @ Error::Ambiguous { .. }) => Err(e),
            Err(_) => Err(ambiguity.unwrap_or_else(|| Error::NotFound {
                input: input.to_string(),
                suggestions: self.suggestions(input),
            })),
        }
    }

    fn matching<'a>(&'a self, input: &GroupVersionResource) -> impl Iterator<Item = &'a Entry> {
        let resource = input.resource.to_lowercase();
        let group = input.group.clone();
        let version = input.version.clone();
        let exact_group = group.is_empty()
            || self
                .entries
                .iter()
                .any(|e| e.gv.group == group && e.names(&resource));
        self.entries.iter().filter(move |e| {
            let group_ok = if group.is_empty() {
                true
            } else if exact_group || !version.is_empty() {
                e.gv.group == group
            } else {
                e.gv.group.starts_with(&group)
            };
            group_ok && (version.is_empty() || e.gv.version == version) && e.names(&resource)
        })
    }

    /// Narrows `found` by `versions` (as patterns of the input's group), then by priority.
    fn pick<T: Clone + ToString>(
        &self,
        found: Vec<T>,
        gv_of: impl Fn(&T) -> GroupVersion,
        versions: &[&str],
        input: &str,
    ) -> Result<T, Error> {
        match found.len() {
            0 => {
                return Err(Error::NotFound {
                    input: input.to_string(),
                    suggestions: self.suggestions(input),
                });
            }
            1 => return Ok(found[0].clone()),
            _ => {}
        }
        let user: Vec<Pattern> = versions
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| Pattern {
                group: None,
                version: Some(v.to_string()),
            })
            .collect();
        let mut remaining: Vec<&T> = found.iter().collect();
        for pattern in user.iter().chain(&self.priority) {
            let matched: Vec<&T> = remaining
                .iter()
                .copied()
                .filter(|t| pattern.matches(&gv_of(t)))
                .collect();
            match matched.len() {
                0 => {}
                1 => return Ok(matched[0].clone()),
                _ => remaining = matched,
            }
        }
        Err(Error::Ambiguous {
            input: input.to_string(),
            candidates: found.iter().map(ToString::to_string).collect(),
        })
    }

    /// Resources with a name close to `input`'s resource part, for "did you mean".
    fn suggestions(&self, input: &str) -> Vec<String> {
        let wanted = input.split('.').next().unwrap_or_default().to_lowercase();
        if wanted.is_empty() {
            return Vec::new();
        }
        let close = |name: &str| {
            let name = name.to_lowercase();
            edit_distance(&name, &wanted) <= 2 || (wanted.len() >= 3 && name.starts_with(&wanted))
        };
        let mut out: Vec<String> = dedup(
            self.entries
                .iter()
                .filter(|e| {
                    close(&e.plural)
                        || close(&e.singular)
                        || close(&e.kind)
                        || e.short_names.iter().any(|s| close(s))
                })
                .map(|e| e.gvr().group_resource().to_string()),
        );
        out.truncate(5);
        out
    }
}

/// A partly given resource as the user would type it: `resource[.version][.group]`.
fn partial(input: &GroupVersionResource) -> String {
    [&input.resource, &input.version, &input.group]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

fn dedup<T: Clone + Eq + std::hash::Hash>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}

/// Levenshtein distance, on chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            current.push(best);
        }
        previous = current;
    }
    previous.last().copied().unwrap_or_default()
}

impl std::fmt::Display for RestMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.resource, self.kind)
    }
}

#[cfg(test)]
#[path = "mapper_tests.rs"]
mod tests;
