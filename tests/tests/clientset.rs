//! The generated Clientset against the real API server: the seed's
//! `clientset.apps_v1().deployments("default").list(...)` shape, cluster-scoped accessors, and
//! the accessor list matching what the server serves.

use std::collections::BTreeSet;

use kubeclient::api::core::v1::ConfigMap;
use kubeclient::clientset::Clientset;
use kubeclient::rest::{CreateOptions, ListOptions};
use serde_json::Value;
use test_support::{cluster, namespace};

fn clientset() -> Clientset {
    Clientset::new(&cluster().rest_config()).expect("clientset")
}

#[tokio::test]
async fn typed_accessors_reach_their_resources() {
    let ns = namespace().await;
    let cs = clientset();
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "via-clientset"}}))
            .expect("cm");
    cs.core_v1()
        .config_maps(ns.name())
        .create(&cm, &CreateOptions::default())
        .await
        .expect("create");
    let got = cs
        .core_v1()
        .config_maps(ns.name())
        .get("via-clientset", &Default::default())
        .await
        .expect("get");
    assert_eq!(got.metadata.namespace.as_deref(), Some(ns.name()));
    let deployments = cs
        .apps_v1()
        .deployments(ns.name())
        .list(&ListOptions::default())
        .await
        .expect("list");
    assert!(deployments.items.is_empty());
    let roles = cs
        .rbac_authorization_v1()
        .cluster_roles()
        .list(&ListOptions::default())
        .await
        .expect("cluster roles");
    assert!(
        roles
            .items
            .iter()
            .any(|r| r.metadata.name.as_deref() == Some("cluster-admin"))
    );
    let namespaces = cs
        .core_v1()
        .namespaces()
        .get(ns.name(), &Default::default())
        .await
        .expect("namespace");
    assert_eq!(namespaces.metadata.name.as_deref(), Some(ns.name()));
}

/// Create-only kinds (reviews) have accessors too, and their answers come back filled in.
#[tokio::test]
async fn create_only_kinds_answer_through_the_clientset() {
    use kubeclient::api::authentication::v1::SelfSubjectReview;
    use kubeclient::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    let cs = clientset();
    let me = cs
        .authentication_v1()
        .self_subject_reviews()
        .create(&SelfSubjectReview::default(), &CreateOptions::default())
        .await
        .expect("self subject review");
    let user = me
        .status
        .and_then(|s| s.user_info)
        .expect("the review names the user");
    assert!(
        user.groups
            .iter()
            .flatten()
            .any(|g| g.as_str() == "system:masters"),
        "the test cluster's admin is in system:masters: {user:?}"
    );
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(Box::new(ResourceAttributes {
                verb: Some("delete".into()),
                resource: Some("nodes".into()),
                ..Default::default()
            })),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = cs
        .authorization_v1()
        .self_subject_access_reviews()
        .create(&review, &CreateOptions::default())
        .await
        .expect("self subject access review");
    assert!(answer.status.expect("status").allowed);
}

/// Every group version the generated accessors cover is one the server serves (alpha and
/// beta versions aside, which the test cluster does not enable), and the server serves no
/// stable group version the accessors lack.
#[tokio::test]
async fn accessors_cover_the_servers_stable_group_versions() {
    let generated = include_str!("../../kubeclient/src/clientset/generated.rs");
    let covered: BTreeSet<String> = generated
        .lines()
        .filter_map(|l| l.trim().strip_prefix("/// The `"))
        .filter_map(|l| l.strip_suffix("` API group version."))
        .map(str::to_string)
        .collect();
    let cs = clientset();
    let mut served = BTreeSet::new();
    let core: Value = cs
        .rest()
        .get()
        .abs_path("/api")
        .into_json()
        .await
        .expect("/api");
    served.extend(
        core["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .map(str::to_string),
    );
    let groups: Value = cs
        .rest()
        .get()
        .abs_path("/apis")
        .into_json()
        .await
        .expect("/apis");
    for group in groups["groups"].as_array().into_iter().flatten() {
        for version in group["versions"].as_array().into_iter().flatten() {
            if let Some(gv) = version["groupVersion"].as_str() {
                served.insert(gv.to_string());
            }
        }
    }
    // Built-in groups only (custom resources of other tests may be served too).
    let built_in = |gv: &String| match gv.split_once('/') {
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
        None => true,
    };
    let stable = |gv: &String| built_in(gv) && !gv.contains("alpha") && !gv.contains("beta");
    let missing: Vec<&String> = served
        .iter()
        .filter(|gv| stable(gv) && !covered.contains(*gv))
        .collect();
    assert!(
        missing.is_empty(),
        "served but without accessors: {missing:?}"
    );
    let unserved: Vec<&String> = covered
        .iter()
        .filter(|gv| stable(gv) && !served.contains(*gv))
        .collect();
    assert!(
        unserved.is_empty(),
        "accessors for stable versions the server lacks: {unserved:?}"
    );
}
