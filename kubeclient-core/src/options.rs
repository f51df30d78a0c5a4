//! The typed options of requests (apimachinery's `metav1.ListOptions`, `GetOptions`,
//! `CreateOptions`, `UpdateOptions`, `PatchOptions`, `DeleteOptions`), serialized with the
//! API's own field names. The first five go into the query string (see
//! [`query_pairs`](crate::request::query_pairs)); `DeleteOptions` is a request body, as
//! client-go sends it.

use serde::Serialize;

/// `resourceVersionMatch`: how a list's `resourceVersion` is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ResourceVersionMatch {
    /// At least as new as the given version (possibly from the watch cache).
    NotOlderThan,
    /// Exactly the given version.
    Exact,
}

/// `fieldValidation`: what the server does with unknown or duplicate fields in a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Drop them and answer with a warning for each.
    Warn,
    /// Refuse the request.
    Strict,
}

/// `dryRun=All`: validate and admit, but persist nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum DryRun {
    /// Every stage runs; nothing is stored.
    All,
}

/// Options of list and watch requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListOptions {
    /// Only objects whose labels match, e.g. `app=web,tier!=db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<String>,
    /// Only objects whose fields match, e.g. `metadata.name=web`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_selector: Option<String>,
    /// At most this many items; the rest through `continue`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// The resourceVersion to list at or watch from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// How `resource_version` applies to a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// The server ends the request after this many seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Ask for BOOKMARK events in a watch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_watch_bookmarks: Option<bool>,
    /// Start a watch with ADDED events for the current state (streaming lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_initial_events: Option<bool>,
}

/// Options of get requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetOptions {
    /// `0` allows an answer from the watch cache; empty means the latest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// Options of create requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOptions {
    /// Validate without storing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<DryRun>,
    /// The field manager recorded in managedFields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_manager: Option<String>,
    /// What to do with unknown or duplicate fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_validation: Option<FieldValidation>,
}

/// Options of update requests: the same as [`CreateOptions`].
pub type UpdateOptions = CreateOptions;

/// Options of patch requests, server-side apply included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchOptions {
    /// Validate without storing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<DryRun>,
    /// The field manager; required for server-side apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_manager: Option<String>,
    /// Server-side apply: take ownership of fields other managers own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// What to do with unknown or duplicate fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_validation: Option<FieldValidation>,
}

/// Options of a server-side apply: who applies (the field manager, required), whether to take
/// over fields other managers own instead of failing with a conflict, and dry run.
///
/// ```
/// use kubeclient_core::options::ApplyOptions;
/// let options = ApplyOptions::new("my-controller").force();
/// assert!(options.force);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// The field manager recorded in managedFields.
    pub field_manager: String,
    /// Take ownership of fields other managers own.
    pub force: bool,
    /// Validate without storing.
    pub dry_run: Option<DryRun>,
}

impl ApplyOptions {
    /// Apply as `field_manager`, without force.
    pub fn new(field_manager: &str) -> Self {
        ApplyOptions {
            field_manager: field_manager.to_string(),
            force: false,
            dry_run: None,
        }
    }

    /// Take over conflicting fields.
    #[must_use]
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }

    /// Validate and admit, but store nothing.
    #[must_use]
    pub fn dry_run(mut self) -> Self {
        self.dry_run = Some(DryRun::All);
        self
    }

    /// The query options of the PATCH that carries the apply.
    pub fn patch_options(&self) -> PatchOptions {
        PatchOptions {
            dry_run: self.dry_run,
            field_manager: Some(self.field_manager.clone()),
            force: Some(self.force),
            field_validation: None,
        }
    }
}

/// `propagationPolicy`: what happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum PropagationPolicy {
    /// Leave them, without their owner reference.
    Orphan,
    /// Delete them in the background, after the owner.
    Background,
    /// Delete them first; the owner goes last.
    Foreground,
}

/// Delete only if the object still has this UID and/or resourceVersion.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The UID the object must have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resourceVersion the object must have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// The body of delete requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// Seconds before the object is deleted (0: immediately).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<u64>,
    /// Conditions the object must meet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// What happens to dependents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<PropagationPolicy>,
    /// Validate without deleting (`["All"]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dry_run: Vec<DryRun>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query<T: Serialize>(options: &T) -> String {
        let url = url::Url::parse("https://k").expect("url");
        let client_side = crate::request::query_pairs(options).expect("object");
        let mut url = url;
        url.query_pairs_mut().extend_pairs(client_side);
        url.query().unwrap_or_default().to_string()
    }

    #[test]
    fn options_use_the_api_field_names() {
        let list = ListOptions {
            label_selector: Some("app=web".into()),
            limit: Some(500),
            continue_token: Some("abc".into()),
            resource_version: Some("0".into()),
            resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
            send_initial_events: Some(true),
            ..ListOptions::default()
        };
        assert_eq!(
            query(&list),
            // Parameters come in name order; the server does not mind.
            "continue=abc&labelSelector=app%3Dweb&limit=500&resourceVersion=0&resourceVersionMatch=NotOlderThan&sendInitialEvents=true"
        );
        let patch = PatchOptions {
            dry_run: Some(DryRun::All),
            field_manager: Some("me".into()),
            force: Some(true),
            field_validation: Some(FieldValidation::Strict),
        };
        assert_eq!(
            query(&patch),
            "dryRun=All&fieldManager=me&fieldValidation=Strict&force=true"
        );
        assert_eq!(query(&GetOptions::default()), "");
    }

    #[test]
    fn delete_options_serialize_as_the_body_the_server_expects() {
        let delete = DeleteOptions {
            propagation_policy: Some(PropagationPolicy::Foreground),
            preconditions: Some(Preconditions {
                uid: Some("u-1".into()),
                ..Preconditions::default()
            }),
            ..DeleteOptions::default()
        };
        let json = serde_json::to_value(&delete).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"preconditions": {"uid": "u-1"}, "propagationPolicy": "Foreground"})
        );
    }
}
