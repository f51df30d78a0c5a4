//! The REST layer against the real API server: every builder path (get, list, create, update,
//! patch, delete, watch) on core resources; errors decoded with the right reasons; warnings;
//! the metrics hook; streaming.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use kubeclient::rest::watch::WatchEvent;
use kubeclient::rest::{self, RequestMetric, RequestMetrics, RestClient, WarningHandler};
use serde_json::{Value, json};
use test_support::{cluster, namespace, rest_config_from};

fn client() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

fn configmap(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "rest-test"}}, "data": data})
}

fn cms(client: &RestClient, verb: http::Method, ns: &str) -> rest::Request {
    client
        .verb(verb)
        .group_version("v1")
        .namespace(ns)
        .resource("configmaps")
}

#[tokio::test]
async fn create_get_list_update_patch_delete() {
    let ns = namespace().await;
    let c = client();
    let created: Value = cms(&c, http::Method::POST, ns.name())
        .json(&configmap("one", json!({"k": "v1"})))
        .into_json()
        .await
        .expect("create");
    assert_eq!(created["metadata"]["namespace"], ns.name());

    let got: Value = cms(&c, http::Method::GET, ns.name())
        .name("one")
        .into_json()
        .await
        .expect("get");
    assert_eq!(got["data"]["k"], "v1");

    cms(&c, http::Method::POST, ns.name())
        .json(&configmap("two", json!({})))
        .into_json::<Value>()
        .await
        .expect("create two");
    let list: Value = cms(&c, http::Method::GET, ns.name())
        .param("labelSelector", "app=rest-test")
        .param("limit", "1")
        .into_json()
        .await
        .expect("list");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert!(
        list["metadata"]["continue"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{list}"
    );

    let mut update = got.clone();
    update["data"]["k"] = json!("v2");
    let updated: Value = cms(&c, http::Method::PUT, ns.name())
        .name("one")
        .json(&update)
        .into_json()
        .await
        .expect("update");
    assert_eq!(updated["data"]["k"], "v2");

    let merged: Value = cms(&c, http::Method::PATCH, ns.name())
        .name("one")
        .content_type("application/merge-patch+json")
        .body(json!({"data": {"added": "yes"}}).to_string())
        .into_json()
        .await
        .expect("merge patch");
    assert_eq!(merged["data"]["added"], "yes");
    let patched: Value = cms(&c, http::Method::PATCH, ns.name())
        .name("one")
        .content_type("application/json-patch+json")
        .body(json!([{"op": "remove", "path": "/data/added"}]).to_string())
        .into_json()
        .await
        .expect("json patch");
    assert!(patched["data"].get("added").is_none(), "{patched}");
    let applied: Value = cms(&c, http::Method::PATCH, ns.name())
        .name("three")
        .content_type("application/apply-patch+yaml")
        .param("fieldManager", "rest-test")
        .body(configmap("three", json!({"via": "apply"})).to_string())
        .into_json()
        .await
        .expect("server-side apply");
    assert_eq!(
        applied["metadata"]["managedFields"][0]["manager"],
        "rest-test"
    );

    cms(&c, http::Method::DELETE, ns.name())
        .name("one")
        .raw()
        .await
        .expect("delete");
    let err = cms(&c, http::Method::GET, ns.name())
        .name("one")
        .raw()
        .await
        .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("/api/v1/namespaces/{}/configmaps/one", ns.name())),
        "{err}"
    );
}

#[tokio::test]
async fn errors_carry_the_servers_reasons() {
    let ns = namespace().await;
    let c = client();
    let cm = configmap("dup", json!({}));
    let created: Value = cms(&c, http::Method::POST, ns.name())
        .json(&cm)
        .into_json()
        .await
        .expect("create");
    let err = cms(&c, http::Method::POST, ns.name())
        .json(&cm)
        .raw()
        .await
        .expect_err("again");
    assert!(err.is_already_exists() && !err.is_conflict(), "{err}");

    // An update from a stale resourceVersion conflicts.
    let mut stale = created.clone();
    stale["data"] = json!({"a": "1"});
    cms(&c, http::Method::PUT, ns.name())
        .name("dup")
        .json(&stale)
        .raw()
        .await
        .expect("first update");
    stale["data"] = json!({"a": "2"});
    let err = cms(&c, http::Method::PUT, ns.name())
        .name("dup")
        .json(&stale)
        .raw()
        .await
        .expect_err("stale");
    assert!(err.is_conflict(), "{err}");

    let invalid = configmap("Not_A_Valid_Name", json!({}));
    let err = cms(&c, http::Method::POST, ns.name())
        .json(&invalid)
        .raw()
        .await
        .expect_err("invalid");
    let api = err.api().expect("api error");
    assert!(api.is_invalid(), "{err}");
    assert_eq!(api.status.code, 422);
    let causes = &api.status.details.as_ref().expect("details").causes;
    assert!(
        causes.iter().any(|c| c.field == "metadata.name"),
        "{causes:?}"
    );

    let user =
        RestClient::new(&rest_config_from(&cluster().user_kubeconfig())).expect("user client");
    let err = user
        .get()
        .group_version("v1")
        .namespace("kube-system")
        .resource("secrets")
        .raw()
        .await
        .expect_err("forbidden");
    assert!(err.api().is_some_and(|a| a.is_forbidden()), "{err}");

    let mut anonymous = cluster().rest_config();
    anonymous.tls.client_cert = None;
    anonymous.tls.client_key = None;
    anonymous.auth = rest::Auth::Bearer("not-a-real-token".to_string().into());
    let err = RestClient::new(&anonymous)
        .expect("client")
        .get()
        .group_version("v1")
        .resource("namespaces")
        .raw()
        .await
        .expect_err("unauthorized");
    assert!(err.api().is_some_and(|a| a.is_unauthorized()), "{err}");

    let err = cms(&c, http::Method::GET, ns.name())
        .name("a/b")
        .raw()
        .await
        .expect_err("bad name");
    assert!(matches!(err, rest::Error::InvalidRequest { .. }), "{err}");
}

#[tokio::test]
async fn watch_sees_added_modified_deleted() {
    let ns = namespace().await;
    let c = client();
    let list: Value = cms(&c, http::Method::GET, ns.name())
        .into_json()
        .await
        .expect("list");
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    let mut events = Box::pin(
        cms(&c, http::Method::GET, ns.name())
            .param("resourceVersion", &rv)
            .param("timeoutSeconds", "30")
            .watch::<Value>()
            .await
            .expect("watch"),
    );
    cms(&c, http::Method::POST, ns.name())
        .json(&configmap("w", json!({})))
        .raw()
        .await
        .expect("create");
    cms(&c, http::Method::PATCH, ns.name())
        .name("w")
        .content_type("application/merge-patch+json")
        .body(r#"{"data":{"x":"1"}}"#)
        .raw()
        .await
        .expect("patch");
    cms(&c, http::Method::DELETE, ns.name())
        .name("w")
        .raw()
        .await
        .expect("delete");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(20), events.next())
            .await
            .expect("an event within 20 s")
            .expect("stream open")
            .expect("event decodes");
        seen.push(match event {
            WatchEvent::Added(o) => ("ADDED", o),
            WatchEvent::Modified(o) => ("MODIFIED", o),
            WatchEvent::Deleted(o) => ("DELETED", o),
            other => panic!("unexpected {other:?}"),
        });
    }
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, ["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(seen[1].1["data"]["x"], "1");
}

#[derive(Debug, Default)]
struct Collect(Mutex<Vec<String>>);

impl WarningHandler for Collect {
    fn handle_warning(&self, message: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.push(message.to_string());
        }
    }
}

#[derive(Debug, Default)]
struct Record(Mutex<Vec<RequestMetric>>);

impl RequestMetrics for Record {
    fn observe(&self, metric: &RequestMetric) {
        if let Ok(mut m) = self.0.lock() {
            m.push(metric.clone());
        }
    }
}

#[tokio::test]
async fn warnings_reach_the_handler_and_metrics_the_hook() {
    let ns = namespace().await;
    let warnings = Arc::new(Collect::default());
    let metrics = Arc::new(Record::default());
    let mut config = cluster().rest_config();
    config.warning_handler = Some(warnings.clone());
    config.metrics = Some(metrics.clone());
    let c = RestClient::new(&config).expect("client");
    let mut cm = configmap("warned", json!({}));
    cm["spec"] = json!({"unknownField": true});
    cms(&c, http::Method::POST, ns.name())
        .param("fieldValidation", "Warn")
        .json(&cm)
        .raw()
        .await
        .expect("created despite the unknown field");
    let got = warnings.0.lock().map(|w| w.clone()).unwrap_or_default();
    assert!(
        got.iter()
            .any(|w| w.contains("unknown field") && w.contains("spec")),
        "{got:?}"
    );

    let recorded = metrics.0.lock().map(|m| m.clone()).unwrap_or_default();
    let metric = recorded.last().expect("a metric");
    assert_eq!(metric.verb, "POST");
    assert_eq!(
        metric.path_template,
        "/api/v1/namespaces/{namespace}/configmaps"
    );
    assert_eq!(metric.status, Some(201));
    assert_eq!(metric.attempts, 1);
    assert!(metric.request_bytes > 0 && metric.response_bytes.is_some_and(|b| b > 0));
}

#[tokio::test]
async fn stream_and_send_return_the_body() {
    let c = client();
    let mut chunks = Box::pin(c.get().abs_path("/version").stream().await.expect("stream"));
    let mut body = Vec::new();
    while let Some(chunk) = chunks.next().await {
        body.extend_from_slice(&chunk.expect("chunk"));
    }
    let version: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(version["gitVersion"].is_string());
    // send() returns non-2xx answers as they are.
    let response = c
        .get()
        .abs_path("/api/v1/namespaces/no-such-namespace-here")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status, 404);
    assert!(String::from_utf8_lossy(&response.body).contains("NotFound"));
}

#[tokio::test]
async fn typed_options_reach_the_server() {
    use kubeclient::rest::{
        CreateOptions, DeleteOptions, DryRun, ListOptions, PatchOptions, Preconditions,
    };
    let ns = namespace().await;
    let c = client();
    for name in ["a", "b", "c"] {
        cms(&c, http::Method::POST, ns.name())
            .json(&configmap(name, json!({})))
            .raw()
            .await
            .expect("create");
    }
    // Pages of two: a, b, then c.
    let mut options = ListOptions {
        limit: Some(2),
        ..ListOptions::default()
    };
    let first: Value = cms(&c, http::Method::GET, ns.name())
        .params(&options)
        .into_json()
        .await
        .expect("page 1");
    options.continue_token = first["metadata"]["continue"].as_str().map(str::to_string);
    let second: Value = cms(&c, http::Method::GET, ns.name())
        .params(&options)
        .into_json()
        .await
        .expect("page 2");
    let names: Vec<&str> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().into_iter().flatten())
        .filter_map(|item| item["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);

    // Dry run: answered, not stored.
    let dry = CreateOptions {
        dry_run: Some(DryRun::All),
        ..CreateOptions::default()
    };
    cms(&c, http::Method::POST, ns.name())
        .params(&dry)
        .json(&configmap("dry", json!({})))
        .raw()
        .await
        .expect("dry run");
    let err = cms(&c, http::Method::GET, ns.name())
        .name("dry")
        .raw()
        .await
        .expect_err("not stored");
    assert!(err.is_not_found(), "{err}");

    // Server-side apply: a second manager conflicts, then forces.
    let apply = |manager: &str, force: bool, value: &str| {
        cms(&c, http::Method::PATCH, ns.name())
            .name("applied")
            .content_type("application/apply-patch+yaml")
            .params(&PatchOptions {
                field_manager: Some(manager.into()),
                force: Some(force),
                ..PatchOptions::default()
            })
            .body(configmap("applied", json!({"k": value})).to_string())
    };
    apply("first", false, "1").raw().await.expect("first apply");
    let err = apply("second", false, "2")
        .raw()
        .await
        .expect_err("conflict");
    assert!(err.is_conflict(), "{err}");
    assert!(
        err.to_string().contains("first"),
        "names the other manager: {err}"
    );
    apply("second", true, "2").raw().await.expect("forced");

    // Delete with a precondition that does not hold, then one that does.
    let got: Value = cms(&c, http::Method::GET, ns.name())
        .name("a")
        .into_json()
        .await
        .expect("get");
    let wrong = DeleteOptions {
        preconditions: Some(Preconditions {
            uid: Some("not-the-uid".into()),
            ..Preconditions::default()
        }),
        ..DeleteOptions::default()
    };
    let err = cms(&c, http::Method::DELETE, ns.name())
        .name("a")
        .json(&wrong)
        .raw()
        .await
        .expect_err("precondition");
    assert!(err.is_conflict(), "{err}");
    let right = DeleteOptions {
        preconditions: Some(Preconditions {
            uid: got["metadata"]["uid"].as_str().map(str::to_string),
            ..Preconditions::default()
        }),
        ..DeleteOptions::default()
    };
    cms(&c, http::Method::DELETE, ns.name())
        .name("a")
        .json(&right)
        .raw()
        .await
        .expect("delete");
}

#[tokio::test]
async fn impersonation_acts_as_the_other_user() {
    let mut config = cluster().rest_config();
    config.impersonate.user = Some("kubeclient-user".into());
    config.impersonate.groups = vec!["system:authenticated".into()];
    let c = RestClient::new(&config).expect("client");
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let reviewed: Value = c
        .post()
        .abs_path("/apis/authentication.k8s.io/v1/selfsubjectreviews")
        .json(&review)
        .into_json()
        .await
        .expect("review");
    assert_eq!(
        reviewed["status"]["userInfo"]["username"],
        "kubeclient-user"
    );
    let err = c
        .get()
        .group_version("v1")
        .namespace("kube-system")
        .resource("secrets")
        .raw()
        .await
        .expect_err("forbidden");
    assert!(err.api().is_some_and(|a| a.is_forbidden()), "{err}");
}

#[tokio::test]
async fn large_answers_arrive_gzipped_and_are_decoded() {
    let c = client();
    let response = c
        .get()
        .abs_path("/openapi/v2")
        .send()
        .await
        .expect("openapi");
    assert_eq!(response.status, 200);
    assert_eq!(
        response
            .headers
            .get("content-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    let doc: Value = serde_json::from_slice(&response.body).expect("decoded JSON");
    assert_eq!(doc["swagger"], "2.0");
    // With compression disabled the server sends it plain.
    let mut config = cluster().rest_config();
    config.disable_compression = true;
    let plain = RestClient::new(&config)
        .expect("client")
        .get()
        .abs_path("/openapi/v2")
        .send()
        .await
        .expect("openapi");
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(plain.body.len(), response.body.len());
}

#[tokio::test]
async fn answers_over_the_size_limit_are_refused_counting_after_decompression() {
    // The compressed size, read by the support client (which does not decompress).
    let access = cluster().admin();
    let compressed = access
        .client()
        .get(access.url("/openapi/v2"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("openapi")
        .bytes()
        .await
        .expect("body")
        .len();
    let whole = client()
        .get()
        .abs_path("/openapi/v2")
        .raw()
        .await
        .expect("openapi")
        .len();
    assert!(
        compressed * 2 < whole,
        "{compressed} compressed, {whole} whole"
    );

    let limited = |limit: usize| {
        let mut config = cluster().rest_config();
        config.max_response_bytes = limit;
        RestClient::new(&config).expect("client")
    };
    // Exactly the decompressed size: fine. One byte less: refused, though the compressed
    // body is far below the limit.
    let exact = limited(whole)
        .get()
        .abs_path("/openapi/v2")
        .raw()
        .await
        .expect("at the limit");
    assert_eq!(exact.len(), whole);
    let err = limited(whole - 1)
        .get()
        .abs_path("/openapi/v2")
        .raw()
        .await
        .expect_err("over the limit once decompressed");
    assert!(
        matches!(&err, rest::Error::TooLarge { limit, path, .. } if *limit == whole - 1 && path == "/openapi/v2"),
        "{err}"
    );
    // Uncompressed answers are limited too.
    let err = limited(100)
        .get()
        .abs_path("/api/v1/namespaces")
        .raw()
        .await
        .expect_err("a namespace list is larger than 100 bytes");
    assert!(matches!(err, rest::Error::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn malformed_answers_are_errors_naming_the_request() {
    use test_support::faults::{Fault, FaultProxy};
    let proxy = FaultProxy::start().await;
    let c = RestClient::new(&rest::Config::new(
        url::Url::parse(&proxy.url()).expect("url"),
    ))
    .expect("client");
    proxy.plan([
        Fault::Respond {
            code: 500,
            body: b"<html><body>upstream exploded</body></html>".to_vec(),
        },
        Fault::Respond {
            code: 200,
            body: br#"{"kind":"ConfigMapList","items":[{"meta"#.to_vec(),
        },
        Fault::Respond {
            code: 200,
            body: b"\xff\xfe\x00 not utf-8".to_vec(),
        },
        Fault::Respond {
            code: 502,
            body: Vec::new(),
        },
    ]);
    let get = || {
        c.get()
            .group_version("v1")
            .namespace("default")
            .resource("configmaps")
    };

    let err = get().raw().await.expect_err("HTML 500");
    let api = err.api().expect("api error");
    assert_eq!(api.status.code, 500);
    assert!(api.status.message.contains("upstream exploded"), "{err}");
    assert!(
        err.to_string()
            .contains("/api/v1/namespaces/default/configmaps"),
        "{err}"
    );

    for what in ["truncated JSON", "invalid UTF-8"] {
        let err = get().into_json::<Value>().await.expect_err(what);
        assert!(matches!(err, rest::Error::Decode { .. }), "{what}: {err}");
        assert!(
            err.to_string()
                .contains("/api/v1/namespaces/default/configmaps"),
            "{err}"
        );
    }
    let err = get().raw().await.expect_err("empty 502");
    assert!(err.to_string().contains("empty body"), "{err}");
}
