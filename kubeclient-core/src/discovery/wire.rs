//! The discovery documents on the wire, both formats, and their conversion into the model:
//!
//! - legacy (`Accept: application/json`): `APIVersions` at `/api`, `APIGroupList` at `/apis`,
//!   and one `APIResourceList` per group version, subresources flattened as `pods/log`;
//! - aggregated (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList` at `/api` and `/apis`):
//!   groups, versions and resources in one document, with each group version's freshness.
//!
//! The conversions follow client-go's `SplitGroupsAndResources`: a `Stale` group version is
//! reported as failed and left out of its group; the preferred version of an aggregated group
//! is its first non-stale version. The disk cache stores the legacy format, as kubectl does.
//! Pure: no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{ApiGroup, ApiResource, ApiSubresource, GroupVersion};

/// The `Accept` header asking for aggregated discovery, with the legacy format as fallback
/// (client-go's `acceptDiscoveryFormats`).
pub const ACCEPT_AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
/// The `Accept` header for the legacy documents only.
pub const ACCEPT_LEGACY: &str = "application/json";

/// Whether a `Content-Type` says the body is an aggregated `APIGroupDiscoveryList`:
/// `application/json` with `g=apidiscovery.k8s.io`, `v=v2` and `as=APIGroupDiscoveryList`, in
/// any order, other parameters allowed (client-go's `ContentTypeIsGVK`).
pub fn is_aggregated(content_type: &str) -> bool {
    let mut parts = content_type.split(';');
    let base = parts.next().unwrap_or_default().trim();
    if !base.eq_ignore_ascii_case("application/json") {
        return false;
    }
    let (mut g, mut v, mut kind) = (None, None, None);
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "g" => g = Some(value),
            "v" => v = Some(value),
            "as" => kind = Some(value),
            _ => {}
        }
    }
    g == Some("apidiscovery.k8s.io") && v == Some("v2") && kind == Some("APIGroupDiscoveryList")
}

/// `APIVersions` (`/api`, legacy).
#[derive(Debug, Deserialize)]
struct ApiVersions {
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupVersionForDiscovery {
    #[serde(default)]
    group_version: String,
    #[serde(default)]
    version: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireGroup {
    #[serde(default)]
    name: String,
    #[serde(default)]
    versions: Vec<GroupVersionForDiscovery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preferred_version: Option<GroupVersionForDiscovery>,
}

/// `APIGroupList` (`/apis`, legacy; also the disk cache's `servergroups.json`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupList {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    groups: Vec<WireGroup>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResource {
    #[serde(default)]
    name: String,
    #[serde(default)]
    singular_name: String,
    #[serde(default)]
    namespaced: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    short_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    categories: Vec<String>,
}

/// `APIResourceList` (legacy; also the disk cache's `serverresources.json`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceList {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    group_version: String,
    #[serde(default)]
    resources: Vec<WireResource>,
}

/// `APIGroupDiscoveryList` (aggregated, `apidiscovery.k8s.io/v2`).
#[derive(Debug, Deserialize)]
struct AggregatedList {
    #[serde(default)]
    items: Vec<AggregatedGroup>,
}

#[derive(Debug, Default, Deserialize)]
struct ObjectMeta {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct AggregatedGroup {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    versions: Vec<AggregatedVersion>,
}

#[derive(Debug, Deserialize)]
struct AggregatedVersion {
    #[serde(default)]
    version: String,
    #[serde(default)]
    resources: Vec<AggregatedResource>,
    #[serde(default)]
    freshness: String,
}

#[derive(Debug, Default, Deserialize)]
struct ResponseKind {
    #[serde(default)]
    group: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedResource {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    response_kind: Option<ResponseKind>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    singular_resource: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    subresources: Vec<AggregatedSubresource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AggregatedSubresource {
    #[serde(default)]
    subresource: String,
    #[serde(default)]
    response_kind: Option<ResponseKind>,
    #[serde(default)]
    verbs: Vec<String>,
}

/// What an aggregated document holds, split as client-go splits it.
#[derive(Debug, Default)]
pub struct Aggregated {
    /// The groups, each with its versions and preferred version.
    pub groups: Vec<ApiGroup>,
    /// The resources of each group version.
    pub resources: BTreeMap<GroupVersion, Vec<ApiResource>>,
    /// The group versions the server reports as stale, and why.
    pub failed: BTreeMap<GroupVersion, String>,
}

/// Decoding errors: position and category only, never the content.
pub fn describe(e: &serde_json::Error) -> String {
    format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    )
}

/// Parses an aggregated `APIGroupDiscoveryList`.
pub fn parse_aggregated(body: &[u8]) -> Result<Aggregated, serde_json::Error> {
    let list: AggregatedList = serde_json::from_slice(body)?;
    let mut out = Aggregated::default();
    for item in list.items {
        let name = item.metadata.name;
        let mut group = ApiGroup {
            name: name.clone(),
            ..ApiGroup::default()
        };
        for version in item.versions {
            let gv = GroupVersion::new(&name, &version.version);
            if version.freshness.eq_ignore_ascii_case("stale") {
                out.failed
                    .insert(gv, "stale GroupVersion discovery".to_string());
                continue;
            }
            if group.preferred_version.is_empty() {
                group.preferred_version = version.version.clone();
            }
            group.versions.push(version.version);
            let resources = version
                .resources
                .into_iter()
                .map(|r| from_aggregated(r, &gv))
                .collect();
            out.resources.insert(gv, resources);
        }
        out.groups.push(group);
    }
    Ok(out)
}

fn kind_parts(kind: Option<ResponseKind>) -> ResponseKind {
    kind.unwrap_or_default()
}

/// A subresource's group and version: each one the server leaves empty is the parent's (the
/// meaning of an empty `group`/`version` in both formats).
fn fill(group: String, version: String, parent: &GroupVersion) -> (String, String) {
    (
        if group.is_empty() {
            parent.group.clone()
        } else {
            group
        },
        if version.is_empty() {
            parent.version.clone()
        } else {
            version
        },
    )
}

fn from_aggregated(r: AggregatedResource, gv: &GroupVersion) -> ApiResource {
    let kind = kind_parts(r.response_kind);
    ApiResource {
        name: r.resource,
        singular_name: r.singular_resource,
        namespaced: r.scope == "Namespaced",
        kind: kind.kind,
        verbs: r.verbs,
        short_names: r.short_names,
        categories: r.categories,
        subresources: r
            .subresources
            .into_iter()
            .map(|s| {
                let kind = kind_parts(s.response_kind);
                let (group, version) = fill(kind.group, kind.version, gv);
                ApiSubresource {
                    name: s.subresource,
                    group,
                    version,
                    kind: kind.kind,
                    verbs: s.verbs,
                }
            })
            .collect(),
    }
}

/// Parses a legacy `APIVersions` (`/api`) into the core group; `None` when it lists no
/// version. The first version is the preferred one.
pub fn parse_api_versions(body: &[u8]) -> Result<Option<ApiGroup>, serde_json::Error> {
    let versions: ApiVersions = serde_json::from_slice(body)?;
    let Some(first) = versions.versions.first() else {
        return Ok(None);
    };
    Ok(Some(ApiGroup {
        name: String::new(),
        preferred_version: first.clone(),
        versions: versions.versions,
    }))
}

/// Parses a legacy `APIGroupList` (`/apis`, or the disk cache's `servergroups.json`).
pub fn parse_group_list(body: &[u8]) -> Result<Vec<ApiGroup>, serde_json::Error> {
    let list: GroupList = serde_json::from_slice(body)?;
    Ok(list
        .groups
        .into_iter()
        .map(|g| ApiGroup {
            name: g.name,
            versions: g.versions.into_iter().map(|v| v.version).collect(),
            preferred_version: g.preferred_version.map(|p| p.version).unwrap_or_default(),
        })
        .collect())
}

/// Parses a legacy `APIResourceList`, attaching `parent/sub` entries to their parent as
/// subresources. A subresource whose parent is not listed gets a parent with no kind.
pub fn parse_resource_list(body: &[u8]) -> Result<Vec<ApiResource>, serde_json::Error> {
    let list: ResourceList = serde_json::from_slice(body)?;
    let parent = GroupVersion::parse(&list.group_version).unwrap_or_default();
    let mut resources: Vec<ApiResource> = Vec::new();
    let mut subresources = Vec::new();
    for r in list.resources {
        match r.name.split_once('/') {
            Some((owner, sub)) => {
                let (group, version) = fill(r.group, r.version, &parent);
                subresources.push((
                    owner.to_string(),
                    r.namespaced,
                    ApiSubresource {
                        name: sub.to_string(),
                        group,
                        version,
                        kind: r.kind,
                        verbs: r.verbs,
                    },
                ));
            }
            None => resources.push(ApiResource {
                name: r.name,
                singular_name: r.singular_name,
                namespaced: r.namespaced,
                kind: r.kind,
                verbs: r.verbs,
                short_names: r.short_names,
                categories: r.categories,
                subresources: Vec::new(),
            }),
        }
    }
    for (parent, namespaced, sub) in subresources {
        match resources.iter_mut().find(|r| r.name == parent) {
            Some(r) => r.subresources.push(sub),
            None => resources.push(ApiResource {
                name: parent,
                namespaced,
                subresources: vec![sub],
                ..ApiResource::default()
            }),
        }
    }
    Ok(resources)
}

fn gv_for_discovery(group: &str, version: &str) -> GroupVersionForDiscovery {
    GroupVersionForDiscovery {
        group_version: GroupVersion::new(group, version).to_string(),
        version: version.to_string(),
    }
}

/// The legacy `APIGroupList` for `groups`, the core group included as client-go's
/// `ServerGroups` includes it (the disk cache's `servergroups.json`).
pub fn encode_group_list(groups: &[ApiGroup]) -> Result<Vec<u8>, serde_json::Error> {
    let list = GroupList {
        kind: "APIGroupList".into(),
        api_version: "v1".into(),
        groups: groups
            .iter()
            .map(|g| WireGroup {
                name: g.name.clone(),
                versions: g
                    .versions
                    .iter()
                    .map(|v| gv_for_discovery(&g.name, v))
                    .collect(),
                preferred_version: (!g.preferred_version.is_empty())
                    .then(|| gv_for_discovery(&g.name, &g.preferred_version)),
            })
            .collect(),
    };
    serde_json::to_vec(&list)
}

/// The legacy `APIResourceList` for one group version, subresources flattened as
/// `parent/sub` the way client-go converts aggregated discovery (the disk cache's
/// `serverresources.json`). Parents without a kind are left out, their subresources kept.
pub fn encode_resource_list(
    group_version: &GroupVersion,
    resources: &[ApiResource],
) -> Result<Vec<u8>, serde_json::Error> {
    let mut wire = Vec::new();
    for r in resources {
        if !r.kind.is_empty() {
            wire.push(WireResource {
                name: r.name.clone(),
                singular_name: r.singular_name.clone(),
                namespaced: r.namespaced,
                kind: r.kind.clone(),
                verbs: r.verbs.clone(),
                short_names: r.short_names.clone(),
                categories: r.categories.clone(),
                ..WireResource::default()
            });
        }
        for s in &r.subresources {
            let same_gv = s.group == group_version.group && s.version == group_version.version;
            wire.push(WireResource {
                name: format!("{}/{}", r.name, s.name),
                singular_name: r.singular_name.clone(),
                namespaced: r.namespaced,
                // Left out when the parent's, as servers write them.
                group: if same_gv {
                    String::new()
                } else {
                    s.group.clone()
                },
                version: if same_gv {
                    String::new()
                } else {
                    s.version.clone()
                },
                kind: s.kind.clone(),
                verbs: s.verbs.clone(),
                ..WireResource::default()
            });
        }
    }
    let list = ResourceList {
        kind: "APIResourceList".into(),
        api_version: "v1".into(),
        group_version: group_version.to_string(),
        resources: wire,
    };
    serde_json::to_vec(&list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGGREGATED_APIS: &str = r#"{
      "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
      "items": [
        {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "freshness": "Current",
          "resources": [{"resource": "deployments", "singularResource": "deployment",
            "responseKind": {"group": "", "version": "", "kind": "Deployment"},
            "scope": "Namespaced", "verbs": ["get", "list"], "shortNames": ["deploy"],
            "categories": ["all"],
            "subresources": [
              {"subresource": "scale", "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]},
              {"subresource": "status", "responseKind": {"group": "", "version": "", "kind": "Deployment"}, "verbs": ["get"]}
            ]}]}]},
        {"metadata": {"name": "metrics.k8s.io"}, "versions": [
          {"version": "v1beta2", "freshness": "Stale", "resources": []},
          {"version": "v1beta1", "freshness": "Current", "resources": [
            {"resource": "nodes", "singularResource": "", "responseKind": {"group": "", "version": "", "kind": "NodeMetrics"}, "scope": "Cluster", "verbs": ["get"]}
          ]}]},
        {"metadata": {"name": "future.example"}, "versions": [{"version": "v9", "unknownField": 1, "resources": [
          {"resource": "things", "responseKind": {"group": "", "version": "", "kind": "Thing"}, "scope": "Cluster", "verbs": [], "newField": {"x": 1}}
        ]}]}
      ]}"#;

    #[test]
    fn aggregated_documents_split_into_groups_resources_and_failures() {
        let agg = parse_aggregated(AGGREGATED_APIS.as_bytes()).expect("parse");
        let names: Vec<&str> = agg.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["apps", "metrics.k8s.io", "future.example"]);
        // A stale version is reported, left out, and not preferred.
        let metrics = &agg.groups[1];
        assert_eq!(metrics.versions, ["v1beta1"]);
        assert_eq!(metrics.preferred_version, "v1beta1");
        assert_eq!(
            agg.failed
                .keys()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["metrics.k8s.io/v1beta2"]
        );
        let deployments = &agg.resources[&GroupVersion::new("apps", "v1")][0];
        assert_eq!(deployments.name, "deployments");
        assert_eq!(deployments.singular_name, "deployment");
        assert!(deployments.namespaced);
        assert_eq!(deployments.kind, "Deployment");
        assert_eq!(deployments.short_names, ["deploy"]);
        assert_eq!(deployments.categories, ["all"]);
        let scale = deployments.subresource("scale").expect("scale");
        assert_eq!(
            (
                scale.group.as_str(),
                scale.version.as_str(),
                scale.kind.as_str()
            ),
            ("autoscaling", "v1", "Scale")
        );
        // An empty group and version mean the parent's.
        let status = deployments.subresource("status").expect("status");
        assert_eq!(
            (status.group.as_str(), status.version.as_str()),
            ("apps", "v1")
        );
        let nodes = &agg.resources[&GroupVersion::new("metrics.k8s.io", "v1beta1")][0];
        assert!(!nodes.namespaced);
        // Unknown fields and a missing freshness are tolerated.
        assert_eq!(agg.groups[2].versions, ["v9"]);
    }

    const LEGACY_APPS_V1: &str = r#"{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
      "resources": [
        {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment",
         "verbs": ["create", "get"], "shortNames": ["deploy"], "categories": ["all"], "storageVersionHash": "x"},
        {"name": "deployments/scale", "singularName": "", "namespaced": true, "group": "autoscaling",
         "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]},
        {"name": "deployments/status", "singularName": "", "namespaced": true, "kind": "Deployment", "verbs": ["get"]},
        {"name": "orphans/status", "singularName": "", "namespaced": false, "kind": "Orphan", "verbs": ["get"]}
      ]}"#;

    #[test]
    fn legacy_resource_lists_nest_subresources_under_their_parent() {
        let resources = parse_resource_list(LEGACY_APPS_V1.as_bytes()).expect("parse");
        assert_eq!(resources.len(), 2);
        let d = &resources[0];
        assert_eq!(d.verbs, ["create", "get"]);
        let names: Vec<&str> = d.subresources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["scale", "status"]);
        assert_eq!(
            d.subresource("scale").map(|s| s.kind.as_str()),
            Some("Scale")
        );
        // A parent that is not listed is kept without a kind, for its subresources.
        assert_eq!(resources[1].name, "orphans");
        assert!(resources[1].kind.is_empty());
    }

    #[test]
    fn legacy_group_documents_parse() {
        let core = parse_api_versions(
            br#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#,
        )
        .expect("parse")
        .expect("core group");
        assert_eq!(
            (core.name.as_str(), core.preferred_version.as_str()),
            ("", "v1")
        );
        assert!(
            parse_api_versions(br#"{"versions":[]}"#)
                .expect("parse")
                .is_none()
        );
        let groups = parse_group_list(
            br#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
              {"name":"autoscaling","versions":[{"groupVersion":"autoscaling/v2","version":"v2"},{"groupVersion":"autoscaling/v1","version":"v1"}],
               "preferredVersion":{"groupVersion":"autoscaling/v2","version":"v2"}}]}"#,
        )
        .expect("parse");
        assert_eq!(groups, [ApiGroup::new("autoscaling", &["v2", "v1"], "v2")]);
        assert!(parse_group_list(b"{\"groups\": 3}").is_err());
        assert!(parse_resource_list(b"not json").is_err());
    }

    #[test]
    fn encoding_for_the_disk_cache_round_trips() {
        let groups = vec![
            ApiGroup::new("", &["v1"], "v1"),
            ApiGroup::new("autoscaling", &["v2", "v1"], "v2"),
        ];
        let bytes = encode_group_list(&groups).expect("encode");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(value["kind"], "APIGroupList");
        assert_eq!(value["groups"][0]["versions"][0]["groupVersion"], "v1");
        assert_eq!(
            value["groups"][1]["preferredVersion"]["groupVersion"],
            "autoscaling/v2"
        );
        assert_eq!(parse_group_list(&bytes).expect("parse"), groups);

        let resources = parse_resource_list(LEGACY_APPS_V1.as_bytes()).expect("parse");
        let gv = GroupVersion::new("apps", "v1");
        let bytes = encode_resource_list(&gv, &resources).expect("encode");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(value["groupVersion"], "apps/v1");
        assert_eq!(value["resources"][1]["name"], "deployments/scale");
        assert_eq!(value["resources"][1]["group"], "autoscaling");
        assert_eq!(value["resources"][2]["name"], "deployments/status");
        assert!(value["resources"][2].get("group").is_none());
        assert_eq!(parse_resource_list(&bytes).expect("parse"), resources);
    }

    #[test]
    fn content_types_are_recognised_in_any_parameter_order() {
        for yes in [
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "application/json; as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io",
            "Application/JSON;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io;charset=utf-8",
        ] {
            assert!(is_aggregated(yes), "{yes}");
        }
        for no in [
            "application/json",
            "application/json; charset=UTF-8",
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
            "application/yaml;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            "",
            ";;;",
        ] {
            assert!(!is_aggregated(no), "{no}");
        }
    }
}
