//! Building a request's URL with client-go's vocabulary: an API group version (or an absolute
//! path), namespace, resource, name, subresource and further path segments, plus query
//! parameters. Pure: no I/O, so every rule is unit-tested here.
//!
//! As client-go does, a namespace, name or resource that cannot be a single path segment
//! (empty, `.`, `..`, or containing `/` or `%`) is an error when the request is sent, not a
//! request to a different URL.

use std::fmt;

use url::Url;

/// The path of a request, part by part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathSpec {
    /// An absolute path that replaces everything else (`AbsPath`).
    pub abs_path: Option<String>,
    /// `v1` (core, under `/api`) or `group/version` (under `/apis`).
    pub group_version: Option<String>,
    /// The namespace (`namespaces/<ns>/` before the resource).
    pub namespace: Option<String>,
    /// The resource's plural name, e.g. `pods`.
    pub resource: Option<String>,
    /// The object's name.
    pub name: Option<String>,
    /// A subresource such as `status` or `log`.
    pub subresource: Option<String>,
    /// Segments after the subresource (client-go's `Suffix`).
    pub suffix: Vec<String>,
}

/// Why a path part is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPart {
    /// Which part: `namespace`, `name`, `resource`, ...
    pub what: &'static str,
    /// The value refused.
    pub value: String,
}

impl fmt::Display for InvalidPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: it must be one non-empty path segment (no '/', '%', '.' or '..')",
            self.what, self.value
        )
    }
}

fn check_segment(what: &'static str, value: &str) -> Result<(), InvalidPart> {
    if value.is_empty() || value == "." || value == ".." || value.contains(['/', '%']) {
        return Err(InvalidPart {
            what,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// `/api/v1` for the core group, `/apis/<group>/<version>` otherwise.
pub fn api_prefix(group_version: &str) -> String {
    if group_version.contains('/') {
        format!("/apis/{group_version}")
    } else {
        format!("/api/{group_version}")
    }
}

impl PathSpec {
    /// The path segments, validated, with `{placeholders}` instead of names when `template`.
    fn segments(&self, template: bool) -> Result<Vec<String>, InvalidPart> {
        if let Some(abs) = &self.abs_path {
            return Ok(abs
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect());
        }
        let mut segments: Vec<String> = Vec::new();
        if let Some(gv) = &self.group_version {
            segments.extend(
                api_prefix(gv)
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        // A namespace applies to namespaced resources; the namespaces resource itself is
        // addressed by name.
        if let Some(ns) = &self.namespace
            && self.resource.as_deref() != Some("namespaces")
        {
            check_segment("namespace", ns)?;
            segments.push("namespaces".into());
            segments.push(if template {
                "{namespace}".into()
            } else {
                ns.clone()
            });
        }
        if let Some(resource) = &self.resource {
            check_segment("resource", resource)?;
            segments.push(resource.clone());
        }
        if let Some(name) = &self.name {
            check_segment("name", name)?;
            segments.push(if template {
                "{name}".into()
            } else {
                name.clone()
            });
        }
        if let Some(sub) = &self.subresource {
            check_segment("subresource", sub)?;
            segments.push(sub.clone());
        }
        segments.extend(self.suffix.iter().filter(|s| !s.is_empty()).cloned());
        Ok(segments)
    }

    /// The full URL below `base` (whose own path is kept as a prefix), with `params`.
    pub fn url(&self, base: &Url, params: &[(String, String)]) -> Result<Url, InvalidPart> {
        let segments = self.segments(false)?;
        let mut url = base.clone();
        url.set_query(None);
        url.set_fragment(None);
        {
            // Infallible for http(s) URLs, which are the only ones a Config holds.
            if let Ok(mut path) = url.path_segments_mut() {
                path.pop_if_empty();
                path.extend(segments.iter().map(String::as_str));
            }
        }
        if !params.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    /// The path with names replaced by placeholders, for metrics and tracing.
    pub fn template(&self) -> String {
        match self.segments(true) {
            Ok(segments) => format!("/{}", segments.join("/")),
            Err(_) => "{invalid}".to_string(),
        }
    }
}

/// The query parameters of a serializable options struct: its fields as `key=value`, `None`
/// fields left out, lists repeated (`dryRun=All&dryRun=...`).
pub fn query_pairs<T: serde::Serialize>(options: &T) -> Result<Vec<(String, String)>, String> {
    let value =
        serde_json::to_value(options).map_err(|e| format!("options cannot be serialized: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("options must serialize to an object".into());
    };
    let mut pairs = Vec::new();
    for (key, value) in map {
        let items = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        for item in items {
            match item {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => pairs.push((key.clone(), s)),
                other => pairs.push((key.clone(), other.to_string())),
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://k.example:6443").expect("url")
    }

    fn spec(gv: &str, ns: Option<&str>, resource: &str, name: Option<&str>) -> PathSpec {
        PathSpec {
            group_version: Some(gv.into()),
            namespace: ns.map(str::to_string),
            resource: Some(resource.into()),
            name: name.map(str::to_string),
            ..PathSpec::default()
        }
    }

    #[test]
    fn urls_follow_client_go_layout() {
        let pod = spec("v1", Some("default"), "pods", Some("web-0"));
        assert_eq!(
            pod.url(&base(), &[]).expect("url").as_str(),
            "https://k.example:6443/api/v1/namespaces/default/pods/web-0"
        );
        let deployments = spec("apps/v1", Some("prod"), "deployments", None);
        let params = [
            ("labelSelector".to_string(), "app in (a,b)".to_string()),
            ("limit".into(), "500".into()),
        ];
        assert_eq!(
            deployments.url(&base(), &params).expect("url").as_str(),
            "https://k.example:6443/apis/apps/v1/namespaces/prod/deployments?labelSelector=app+in+%28a%2Cb%29&limit=500"
        );
        let mut scale = spec("apps/v1", Some("prod"), "deployments", Some("web"));
        scale.subresource = Some("scale".into());
        assert_eq!(
            scale.template(),
            "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"
        );
        // Cluster-scoped, and the namespaces resource addressed by name.
        let ns = spec("v1", Some("team"), "namespaces", Some("team"));
        assert_eq!(
            ns.url(&base(), &[]).expect("url").path(),
            "/api/v1/namespaces/team"
        );
        let abs = PathSpec {
            abs_path: Some("/version".into()),
            ..PathSpec::default()
        };
        assert_eq!(abs.url(&base(), &[]).expect("url").path(), "/version");
    }

    #[test]
    fn a_base_path_prefix_is_kept() {
        let base = Url::parse("https://proxy.example/k8s/clusters/c-1/").expect("url");
        let pods = spec("v1", None, "pods", None);
        assert_eq!(
            pods.url(&base, &[]).expect("url").path(),
            "/k8s/clusters/c-1/api/v1/pods"
        );
    }

    #[test]
    fn names_that_are_not_one_segment_are_refused() {
        for bad in ["", ".", "..", "a/b", "50%"] {
            let err = spec("v1", Some("default"), "pods", Some(bad))
                .url(&base(), &[])
                .expect_err(bad);
            assert_eq!(err.what, "name");
            let err = spec("v1", Some(bad), "pods", None)
                .url(&base(), &[])
                .expect_err(bad);
            assert_eq!(err.what, "namespace");
        }
        // Characters that are fine in names are escaped, not refused.
        let odd = spec("v1", Some("default"), "configmaps", Some("a b:c"));
        assert_eq!(
            odd.url(&base(), &[]).expect("url").path(),
            "/api/v1/namespaces/default/configmaps/a%20b:c"
        );
    }
}
