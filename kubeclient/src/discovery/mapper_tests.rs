//! The RESTMapper's resolution rules on a small hand-made discovery.

use super::*;
use crate::discovery::{ApiGroup, ApiResource};

fn resource(
    name: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    short: &[&str],
) -> ApiResource {
    let mut r = ApiResource::default();
    r.name = name.into();
    r.singular_name = singular.into();
    r.namespaced = namespaced;
    r.kind = kind.into();
    r.verbs = vec!["get".into(), "list".into()];
    r.short_names = short.iter().map(|s| s.to_string()).collect();
    if kind == "Pod" || kind == "Deployment" {
        r.categories = vec!["all".into()];
    }
    r
}

fn discovery() -> Discovery {
    let mut d = Discovery::default();
    let mut add = |group: &str,
                   versions: &[&str],
                   preferred: &str,
                   per_version: &[(&str, Vec<ApiResource>)]| {
        d.groups.push(ApiGroup::new(group, versions, preferred));
        for (version, resources) in per_version {
            d.resources
                .insert(GroupVersion::new(group, version), resources.clone());
        }
    };
    add(
        "",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![
                resource("pods", "pod", "Pod", true, &["po"]),
                resource("configmaps", "configmap", "ConfigMap", true, &["cm"]),
                resource("endpoints", "endpoints", "Endpoints", true, &["ep"]),
                resource("events", "event", "Event", true, &["ev"]),
                resource("namespaces", "", "Namespace", false, &["ns"]),
            ],
        )],
    );
    add(
        "apps",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![resource(
                "deployments",
                "deployment",
                "Deployment",
                true,
                &["deploy"],
            )],
        )],
    );
    add(
        "events.k8s.io",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![resource("events", "event", "Event", true, &["ev"])],
        )],
    );
    let hpa = || {
        vec![resource(
            "horizontalpodautoscalers",
            "horizontalpodautoscaler",
            "HorizontalPodAutoscaler",
            true,
            &["hpa"],
        )]
    };
    add(
        "autoscaling",
        &["v2", "v1"],
        "v2",
        &[("v2", hpa()), ("v1", hpa())],
    );
    add(
        "storage.k8s.io",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![resource(
                "storageclasses",
                "storageclass",
                "StorageClass",
                false,
                &["sc"],
            )],
        )],
    );
    let crontabs = || vec![resource("crontabs", "crontab", "CronTab", true, &["ct"])];
    // The preferred version is listed second here: preference, not order, wins.
    add(
        "stable.example.com",
        &["v1beta1", "v1"],
        "v1",
        &[("v1beta1", crontabs()), ("v1", crontabs())],
    );
    // A later group claiming an earlier short name.
    add(
        "other.example.com",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![resource(
                "deployers",
                "deployer",
                "Deployer",
                false,
                &["deploy", "dp"],
            )],
        )],
    );
    // Two resources no priority can tell apart.
    add(
        "weird.example",
        &["v1"],
        "v1",
        &[(
            "v1",
            vec![
                resource("foos", "foo", "Foo", true, &[]),
                resource("bars", "foos", "Bar", true, &[]),
            ],
        )],
    );
    d
}

fn resolve(input: &str) -> RestMapping {
    RestMapper::new(&discovery())
        .resolve(input)
        .unwrap_or_else(|e| panic!("{input}: {e}"))
}

#[test]
fn user_input_resolves_as_kubectl_resolves_it() {
    let deployments = GroupVersionResource::new("apps", "v1", "deployments");
    for input in [
        "deploy",
        "deployments",
        "deployment",
        "Deployment",
        "Deployments",
        "deployments.apps",
        "deployment.apps",
        "deploy.apps",
        "deployments.v1.apps",
        "Deployment.v1.apps",
        "Deployment.apps",
    ] {
        let mapping = resolve(input);
        assert_eq!(mapping.resource, deployments, "{input}");
        assert_eq!(
            mapping.kind,
            GroupVersionKind::new("apps", "v1", "Deployment"),
            "{input}"
        );
        assert_eq!(mapping.scope, Scope::Namespaced, "{input}");
    }
    assert_eq!(
        resolve("po").resource,
        GroupVersionResource::new("", "v1", "pods")
    );
    assert_eq!(resolve("cm").kind.kind, "ConfigMap");
    // No singular name from the server: the lower-cased kind serves.
    let ns = resolve("namespace");
    assert_eq!(
        (ns.resource.resource.as_str(), ns.scope),
        ("namespaces", Scope::Cluster)
    );
    // Plural equal to singular.
    assert_eq!(resolve("endpoints").kind.kind, "Endpoints");
}

#[test]
fn the_core_group_and_preferred_versions_win() {
    // `events` is in core v1 and events.k8s.io: core first, as kubectl.
    assert_eq!(resolve("events").resource.group, "");
    assert_eq!(resolve("ev").resource.group, "");
    assert_eq!(
        resolve("events.events.k8s.io").resource.group,
        "events.k8s.io"
    );
    assert_eq!(resolve("hpa").resource.version, "v2");
    assert_eq!(
        resolve("horizontalpodautoscalers.v1.autoscaling")
            .resource
            .version,
        "v1"
    );
    // The preferred version, though listed second.
    assert_eq!(
        resolve("ct").resource,
        GroupVersionResource::new("stable.example.com", "v1", "crontabs")
    );
    assert_eq!(
        resolve("crontabs.v1beta1.stable.example.com")
            .resource
            .version,
        "v1beta1"
    );
    assert_eq!(
        resolve("CronTab.v1beta1.stable.example.com")
            .resource
            .version,
        "v1beta1"
    );
    // A group prefix is enough when nothing matches the group exactly.
    assert_eq!(
        resolve("storageclasses.storage").resource.group,
        "storage.k8s.io"
    );
    assert_eq!(resolve("sc.storage").resource.group, "storage.k8s.io");
    assert_eq!(
        resolve("storageclasses.storage.k8s.io").resource.resource,
        "storageclasses"
    );
}

#[test]
fn short_names_expand_by_discovery_order_and_never_hide_full_names() {
    let mapper = RestMapper::new(&discovery());
    // `deploy` belongs to apps first; other.example.com's claim loses (and is logged).
    assert_eq!(resolve("deploy").resource.group, "apps");
    assert_eq!(
        resolve("deploy.other.example.com").resource.resource,
        "deployers"
    );
    assert_eq!(resolve("dp").resource.resource, "deployers");
    // The expansion drops the version, as client-go's.
    assert_eq!(
        mapper.expand_short_name(&GroupVersionResource::new("apps", "v1", "deploy")),
        GroupVersionResource::new("apps", "", "deployments")
    );
    // A full name is never treated as a short name.
    let pods = GroupVersionResource::new("", "", "pods");
    assert_eq!(mapper.expand_short_name(&pods), pods);
}

#[test]
fn kinds_and_resources_map_both_ways() {
    let mapper = RestMapper::new(&discovery());
    let gvk = GroupVersionKind::new("autoscaling", "v1", "HorizontalPodAutoscaler");
    let mapping = mapper.mapping_for_kind(&gvk).expect("mapping");
    assert_eq!(
        mapping.resource,
        GroupVersionResource::new("autoscaling", "v1", "horizontalpodautoscalers")
    );
    assert_eq!(mapper.kind_for(&mapping.resource).expect("kind"), gvk);
    // Without a version, the preferred one.
    let gk = GroupKind::parse("HorizontalPodAutoscaler.autoscaling");
    assert_eq!(
        mapper
            .rest_mapping(&gk, &[])
            .expect("mapping")
            .resource
            .version,
        "v2"
    );
    assert_eq!(mapper.rest_mappings(&gk, &[]).len(), 2);
    assert_eq!(
        mapper
            .resources_for(&GroupVersionResource::new(
                "",
                "",
                "HorizontalPodAutoscalers"
            ))
            .len(),
        2
    );
    assert_eq!(
        mapper.category("all"),
        [
            GroupResource::parse("pods"),
            GroupResource::parse("deployments.apps")
        ]
    );
}

#[test]
fn not_found_and_ambiguous_inputs_are_clear_errors() {
    let mapper = RestMapper::new(&discovery());
    let err = mapper.resolve("deploymnets").expect_err("typo");
    assert!(err.is_not_found());
    let text = err.to_string();
    assert!(
        text.contains("the server doesn't have a resource type \"deploymnets\""),
        "{text}"
    );
    assert!(text.contains("did you mean deployments.apps"), "{text}");
    assert!(mapper.resolve("pods.v2").is_err());
    assert!(mapper.resolve("deployments.v2.apps").is_err());
    assert!(mapper.resolve("").is_err());
    assert!(mapper.resolve("...").is_err());
    let err = mapper.resolve("foos").expect_err("ambiguous");
    let text = err.to_string();
    assert!(matches!(err, Error::Ambiguous { .. }), "{text}");
    assert!(
        text.contains("foos.v1.weird.example") && text.contains("bars.v1.weird.example"),
        "{text}"
    );
    // An empty discovery maps nothing.
    assert!(
        RestMapper::new(&Discovery::default())
            .resolve("pods")
            .is_err()
    );
}

#[test]
fn edit_distance_counts_single_char_edits() {
    assert_eq!(edit_distance("deploymnets", "deployments"), 2);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("pods", "pods"), 0);
}
