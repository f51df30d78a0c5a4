//! `metav1.Status`, the body of the API server's error answers, and [`ApiError`], the typed
//! error kubeclient makes of it, with client-go's `apierrors.IsNotFound`-style predicates.
//!
//! As in apimachinery, a predicate matches on the Status `reason`; when the reason is empty or
//! not one Kubernetes defines, it falls back to the HTTP code (so a 404 from a proxy in front of
//! the API server still counts as not found). `is_already_exists`, `is_expired` and
//! `is_server_timeout` match on the reason only, since their codes are shared with other
//! reasons; `is_too_many_requests` matches either.

use serde::{Deserialize, Serialize};

/// The `metav1.Status` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Status {
    /// `Success` or `Failure`.
    pub status: String,
    /// A human-readable description.
    pub message: String,
    /// A machine-readable reason (`NotFound`, `AlreadyExists`, ...); empty when unknown.
    pub reason: String,
    /// More about the object concerned and the causes.
    pub details: Option<StatusDetails>,
    /// The HTTP status code.
    pub code: u16,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct StatusDetails {
    /// The object's name.
    pub name: String,
    /// The object's API group.
    pub group: String,
    /// The object's kind.
    pub kind: String,
    /// The object's UID.
    pub uid: String,
    /// The individual problems (for `Invalid`: one per field).
    pub causes: Vec<StatusCause>,
    /// How long the server suggests waiting before retrying.
    pub retry_after_seconds: Option<u32>,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct StatusCause {
    /// The machine-readable kind of problem (`FieldValueRequired`, ...); `type` in JSON.
    #[serde(rename = "type")]
    pub reason: String,
    /// A human-readable description.
    pub message: String,
    /// The field at fault, e.g. `spec.containers[0].image`.
    pub field: String,
}

/// The reasons Kubernetes defines (apimachinery's `StatusReason*` constants).
const KNOWN_REASONS: &[&str] = &[
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Gone",
    "Invalid",
    "ServerTimeout",
    "StoreReadError",
    "Timeout",
    "TooManyRequests",
    "BadRequest",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestEntityTooLarge",
    "UnsupportedMediaType",
    "InternalError",
    "Expired",
    "ServiceUnavailable",
];

/// An API server's refusal: the request, and the Status it answered with (or the code and the
/// start of a body that was not a Status, such as an HTML page from a proxy).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{verb} {path}: {} ({}{})", status.message, status.code, reason_suffix(&status.reason))]
#[non_exhaustive]
pub struct ApiError {
    /// The request's verb, e.g. `GET`.
    pub verb: String,
    /// The request's path (no query string, which could carry a selector or token).
    pub path: String,
    /// What the server said.
    pub status: Status,
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

/// At most this much of a body that is not a Status goes into the error message.
const BODY_EXCERPT: usize = 256;

impl ApiError {
    /// The error for a non-2xx answer to `verb path` with `body`: its Status if the body is
    /// one, else a Status built from the code and an excerpt of the body.
    pub fn from_response(verb: &str, path: &str, code: u16, body: &[u8]) -> ApiError {
        let decoded = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(|v| v.get("kind").and_then(|k| k.as_str()) == Some("Status"))
            .and_then(|v| serde_json::from_value::<Status>(v).ok());
        let status = match decoded {
            Some(mut status) => {
                if status.code == 0 {
                    status.code = code;
                }
                status
            }
            _ => {
                let mut end = body.len().min(BODY_EXCERPT);
                while end > 0 && std::str::from_utf8(&body[..end]).is_err() {
                    end -= 1; // do not cut a UTF-8 sequence in half
                }
                let excerpt = String::from_utf8_lossy(&body[..end]).trim().to_string();
                let message = match (excerpt.is_empty(), end < body.len()) {
                    (true, _) => format!("the server answered {code} with an empty body"),
                    (false, false) => format!("the server answered {code}: {excerpt}"),
                    (false, true) => format!("the server answered {code}: {excerpt}…"),
                };
                Status {
                    status: "Failure".into(),
                    message,
                    code,
                    ..Status::default()
                }
            }
        };
        ApiError {
            verb: verb.to_string(),
            path: path.to_string(),
            status,
        }
    }

    /// The error for a non-2xx answer to `verb path` whose body was decoded as `status`.
    pub fn from_status(verb: &str, path: &str, code: u16, mut status: Status) -> ApiError {
        if status.code == 0 {
            status.code = code;
        }
        ApiError {
            verb: verb.to_string(),
            path: path.to_string(),
            status,
        }
    }

    fn known_reason(&self) -> bool {
        KNOWN_REASONS.contains(&self.status.reason.as_str())
    }

    fn reason_or_code(&self, reason: &str, code: u16) -> bool {
        self.status.reason == reason || (!self.known_reason() && self.status.code == code)
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.reason_or_code("NotFound", 404)
    }

    /// 409 AlreadyExists (a create of an existing name).
    pub fn is_already_exists(&self) -> bool {
        self.status.reason == "AlreadyExists"
    }

    /// 409 Conflict (a write based on a stale resourceVersion).
    pub fn is_conflict(&self) -> bool {
        self.reason_or_code("Conflict", 409)
    }

    /// 403 Forbidden.
    pub fn is_forbidden(&self) -> bool {
        self.reason_or_code("Forbidden", 403)
    }

    /// 401 Unauthorized.
    pub fn is_unauthorized(&self) -> bool {
        self.reason_or_code("Unauthorized", 401)
    }

    /// 422 Invalid.
    pub fn is_invalid(&self) -> bool {
        self.reason_or_code("Invalid", 422)
    }

    /// 400 BadRequest.
    pub fn is_bad_request(&self) -> bool {
        self.reason_or_code("BadRequest", 400)
    }

    /// 429 TooManyRequests, by reason or by code.
    pub fn is_too_many_requests(&self) -> bool {
        self.status.reason == "TooManyRequests" || self.status.code == 429
    }

    /// 410: the requested resourceVersion is too old (reason `Gone` or `Expired`), as a
    /// reflector checks with `IsGone || IsResourceExpired` before re-listing.
    pub fn is_gone(&self) -> bool {
        self.status.reason == "Expired" || self.reason_or_code("Gone", 410)
    }

    /// 504 Timeout: the server could not finish in time.
    pub fn is_timeout(&self) -> bool {
        self.reason_or_code("Timeout", 504)
    }

    /// 500 ServerTimeout: the server is busy; retry after `retry_after_seconds`.
    pub fn is_server_timeout(&self) -> bool {
        self.status.reason == "ServerTimeout"
    }

    /// 500 InternalError.
    pub fn is_internal_error(&self) -> bool {
        self.reason_or_code("InternalError", 500)
    }

    /// 503 ServiceUnavailable.
    pub fn is_service_unavailable(&self) -> bool {
        self.reason_or_code("ServiceUnavailable", 503)
    }

    /// The server's suggested wait before retrying, from the Status details.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        self.status
            .details
            .as_ref()
            .and_then(|d| d.retry_after_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: u16, body: &str) -> ApiError {
        ApiError::from_response("GET", "/api/v1/namespaces/x/pods/p", code, body.as_bytes())
    }

    #[test]
    fn status_bodies_decode_with_reason_details_and_causes() {
        let e = err(
            422,
            r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"bad","reason":"Invalid",
               "details":{"name":"p","kind":"pods","causes":[{"type":"FieldValueRequired","message":"Required value","field":"spec.containers"}]},"code":422}"#,
        );
        assert!(e.is_invalid() && !e.is_not_found());
        let details = e.status.details.as_ref().expect("details");
        assert_eq!(details.causes[0].reason, "FieldValueRequired");
        assert_eq!(details.causes[0].field, "spec.containers");
        assert_eq!(
            e.to_string(),
            "GET /api/v1/namespaces/x/pods/p: bad (422 Invalid)"
        );
    }

    #[test]
    fn predicates_fall_back_to_the_code_only_for_unknown_reasons() {
        assert!(err(404, "").is_not_found());
        assert!(
            err(
                404,
                r#"{"kind":"Status","reason":"SomethingNew","code":404}"#
            )
            .is_not_found()
        );
        // A known reason decides: a 404 that says Forbidden is not NotFound.
        assert!(!err(404, r#"{"kind":"Status","reason":"Forbidden","code":404}"#).is_not_found());
        assert!(
            err(
                409,
                r#"{"kind":"Status","reason":"AlreadyExists","code":409}"#
            )
            .is_already_exists()
        );
        assert!(
            !err(
                409,
                r#"{"kind":"Status","reason":"AlreadyExists","code":409}"#
            )
            .is_conflict()
        );
        assert!(!err(409, "").is_already_exists());
        assert!(err(409, "").is_conflict());
        assert!(err(410, r#"{"kind":"Status","reason":"Expired","code":410}"#).is_gone());
        assert!(err(410, "").is_gone());
        assert!(err(429, r#"{"kind":"Status","reason":"","code":429}"#).is_too_many_requests());
        let busy = err(
            500,
            r#"{"kind":"Status","reason":"ServerTimeout","code":500,"details":{"retryAfterSeconds":3}}"#,
        );
        assert!(busy.is_server_timeout() && !busy.is_internal_error());
        assert_eq!(busy.retry_after_seconds(), Some(3));
        for (code, check) in [
            (401, ApiError::is_unauthorized as fn(&ApiError) -> bool),
            (403, ApiError::is_forbidden),
            (400, ApiError::is_bad_request),
            (504, ApiError::is_timeout),
            (503, ApiError::is_service_unavailable),
            (500, ApiError::is_internal_error),
        ] {
            assert!(check(&err(code, "")), "{code}");
        }
    }

    #[test]
    fn non_status_bodies_keep_the_code_and_a_short_excerpt() {
        let html = format!("<html>{}</html>", "x".repeat(1000));
        let e = err(502, &html);
        assert_eq!(e.status.code, 502);
        assert!(
            e.status
                .message
                .starts_with("the server answered 502: <html>xxx")
        );
        assert!(e.status.message.len() < 300, "{}", e.status.message);
        assert!(err(500, "").status.message.contains("empty body"));
        // Invalid UTF-8 and a multi-byte character at the cut never panic.
        let mut bytes = "é".repeat(200).into_bytes();
        bytes.push(0xff);
        let e = ApiError::from_response("GET", "/x", 500, &bytes);
        assert!(e.status.message.ends_with('…'));
        // A Status body with the wrong types is shown like any other body.
        let e = err(500, r#"{"kind":"Status","code":"not a number"}"#);
        assert_eq!(e.status.code, 500);
        assert!(
            e.status.message.contains("not a number"),
            "{}",
            e.status.message
        );
    }
}
