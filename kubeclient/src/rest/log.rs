//! What the request loop reports through `tracing`, besides the `kubeclient.request` span:
//! client-go's debugging round tripper and `Request` body logging (what kubectl shows at
//! `-v=6` and `-v=8`), as events a subscriber can select by target.
//!
//! - [`ROUND_TRIP_TARGET`], at DEBUG: one event per attempt, when its answer's head arrives
//!   or the attempt fails, with the fields `verb`, `url` (never with credentials), `status`
//!   (the code, absent when no answer came), `milliseconds` (the attempt's duration, as
//!   client-go measures it: up to the answer's head) and `error` (when no answer came).
//! - [`BODY_TARGET`], at TRACE: the request body (message `request body`) and each answer
//!   read whole (message `response body`; watches and streams are not), with the fields
//!   `verb`, `url` and `body`. Bodies are only prepared when a subscriber wants them.
//!
//! Unlike client-go, which logs bodies as they are, secrets are taken out first (see
//! `redacted_body`): only JSON bodies are shown, with the values of Secrets' `data` and
//! `stringData` and every string field named `token` (TokenRequest's `status.token`,
//! TokenReview's `spec.token`) replaced by `[REDACTED]`; a body that is not JSON is shown as
//! its size. Headers are not logged at all, so neither is `Authorization`.

use serde_json::Value;

/// The `tracing` target of the request loop's per-attempt events, at DEBUG level (what
/// kubectl shows at `-v=6`): one event per attempt, when the answer's head arrives or the
/// attempt fails, with the fields `verb`, `url` (never with credentials), `status` (absent
/// when no answer came), `milliseconds` (up to the answer's head) and `error` (when no
/// answer came).
pub const ROUND_TRIP_TARGET: &str = "kubeclient::rest::round_trip";
/// The `tracing` target of the request and response bodies, at TRACE level (what kubectl
/// shows at `-v=8`): messages `request body` and `response body` (answers read whole, not
/// watches or streams) with the fields `verb`, `url` and `body`. Secrets are taken out first:
/// only JSON bodies are shown, with the values of Secrets' `data` and `stringData` and every
/// string field named `token` (TokenRequest, TokenReview) replaced by `[REDACTED]`; other
/// bodies are shown as their size. Headers are never logged.
pub const BODY_TARGET: &str = "kubeclient::rest::body";

use crate::redact::REDACTED_PLACEHOLDER as REDACTED;

/// `body`, sent to or received from `path`, as it may be logged.
///
/// Only a JSON body is shown, re-encoded compactly, after these replacements by `[REDACTED]`:
/// - in any object whose `kind` is `Secret`, every value of `data` and `stringData`; in any
///   object whose `kind` is `SecretList`, the same in each of its `items` (list items carry
///   no `kind`);
/// - when `path` addresses secrets (a path segment `secrets`), the same in the top-level
///   object even without a `kind` (a patch), and a top-level array (a JSON patch) is not
///   shown at all;
/// - every string field named `token`, anywhere.
///
/// Any other body is shown as `[N bytes, not JSON]`.
pub(crate) fn redacted_body(path: &str, body: &[u8]) -> String {
    let Ok(mut value) = serde_json::from_slice::<Value>(body) else {
        return format!("[{} bytes, not JSON]", body.len());
    };
    if path.split('/').any(|segment| segment == "secrets") {
        match &mut value {
            Value::Object(object) => {
                let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
                if kind.is_empty() {
                    redact_secret(object);
                }
            }
            Value::Array(_) => return format!("[{} bytes, a patch of secrets]", body.len()),
            _ => {}
        }
    }
    redact(&mut value);
    value.to_string()
}

/// Applies the `kind` and `token` rules of [`redacted_body`] to `value` and all it holds.
fn redact(value: &mut Value) {
    match value {
        Value::Object(object) => {
            match object.get("kind").and_then(Value::as_str) {
                Some("Secret") => redact_secret(object),
                Some("SecretList") => {
                    if let Some(Value::Array(items)) = object.get_mut("items") {
                        for item in items.iter_mut().filter_map(Value::as_object_mut) {
                            redact_secret(item);
                        }
                    }
                }
                _ => {}
            }
            for (key, field) in object.iter_mut() {
                if key == "token" && field.is_string() {
                    *field = Value::from(REDACTED);
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Replaces the values of a Secret's `data` and `stringData` (keeping the keys), or the whole
/// field when it is not a map.
fn redact_secret(secret: &mut serde_json::Map<String, Value>) {
    for field in ["data", "stringData"] {
        match secret.get_mut(field) {
            Some(Value::Object(entries)) => {
                for entry in entries.values_mut() {
                    *entry = Value::from(REDACTED);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => *other = Value::from(REDACTED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET_VALUE: &str = "c2VjcmV0LXZhbHVl"; // base64 of "secret-value"

    fn shown(path: &str, body: &Value) -> String {
        redacted_body(path, body.to_string().as_bytes())
    }

    #[test]
    fn secrets_lose_their_values_but_keep_their_keys() {
        let secret = serde_json::json!({
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s", "namespace": "ns"},
            "data": {"password": SECRET_VALUE},
            "stringData": {"plain": "secret-value"},
            "type": "Opaque",
        });
        let out = shown("/api/v1/namespaces/ns/secrets/s", &secret);
        assert!(
            !out.contains(SECRET_VALUE) && !out.contains("secret-value"),
            "{out}"
        );
        assert!(out.contains(r#""password":"[REDACTED]""#), "{out}");
        assert!(out.contains(r#""name":"s""#), "{out}");

        let list = serde_json::json!({
            "kind": "SecretList", "apiVersion": "v1", "metadata": {},
            "items": [{"metadata": {"name": "a"}, "data": {"k": SECRET_VALUE}}],
        });
        let out = shown("/api/v1/secrets", &list);
        assert!(!out.contains(SECRET_VALUE), "{out}");

        // Objects embedded elsewhere (a Table's rows, a List) carry their kind.
        let table = serde_json::json!({
            "kind": "Table", "rows": [{"cells": ["a"], "object": {
                "kind": "Secret", "data": {"k": SECRET_VALUE}}}],
        });
        let out = shown("/api/v1/namespaces/ns/secrets", &table);
        assert!(!out.contains(SECRET_VALUE), "{out}");
        let list = serde_json::json!({"kind": "List", "items": [secret]});
        assert!(!shown("/api/v1/x", &list).contains(SECRET_VALUE));
    }

    #[test]
    fn patches_of_secrets_are_redacted_without_a_kind() {
        let merge = serde_json::json!({"data": {"k": SECRET_VALUE}});
        let out = shown("/api/v1/namespaces/ns/secrets/s", &merge);
        assert!(!out.contains(SECRET_VALUE), "{out}");
        let json_patch =
            serde_json::json!([{"op": "add", "path": "/data/k", "value": SECRET_VALUE}]);
        let out = shown("/api/v1/namespaces/ns/secrets/s", &json_patch);
        assert!(!out.contains(SECRET_VALUE), "{out}");
        // The same patch of a config map is shown.
        let out = shown("/api/v1/namespaces/ns/configmaps/c", &merge);
        assert!(out.contains(SECRET_VALUE), "{out}");
    }

    #[test]
    fn tokens_are_redacted_anywhere() {
        let request = serde_json::json!({
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "spec": {"audiences": ["api"]},
            "status": {"token": "eyJhbGciOi.jwt.sig", "expirationTimestamp": "2030-01-01T00:00:00Z"},
        });
        let out = shown("/api/v1/namespaces/ns/serviceaccounts/sa/token", &request);
        assert!(!out.contains("eyJhbGciOi"), "{out}");
        assert!(out.contains("expirationTimestamp"), "{out}");
        let review = serde_json::json!({
            "kind": "TokenReview", "spec": {"token": "opaque-bearer"},
            "status": {"authenticated": true},
        });
        let out = shown("/apis/authentication.k8s.io/v1/tokenreviews", &review);
        assert!(!out.contains("opaque-bearer"), "{out}");
    }

    #[test]
    fn other_bodies_show_only_their_size() {
        assert_eq!(redacted_body("/healthz", b"ok"), "[2 bytes, not JSON]");
        assert_eq!(
            redacted_body("/api/v1/x", b"\x0a\x02k8s\x00"),
            "[6 bytes, not JSON]"
        );
        let cm = serde_json::json!({"kind": "ConfigMap", "data": {"k": "v"}});
        assert_eq!(
            shown("/api/v1/namespaces/ns/configmaps/c", &cm),
            cm.to_string()
        );
    }
}
