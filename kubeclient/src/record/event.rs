//! The `events.k8s.io/v1` wire types the recorder writes: [`Event`], [`EventSeries`],
//! [`ObjectReference`] and [`MicroTime`], plus the rules the API applies to an Event's fields
//! (note length, names) that the recorder follows before it sends one.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::{Namespaced, ObjectMeta, Resource};

/// The longest note the API accepts, in bytes (`NoteLengthLimit` in Kubernetes' event
/// validation); the recorder cuts longer notes to fit, ending them with ` ...`.
pub const NOTE_LENGTH_LIMIT: usize = 1024;
/// The longest `reason`, `action` and `reportingInstance` the API accepts, in bytes
/// (`ReasonLengthLimit`, `ActionLengthLimit`, `ReportingInstanceLengthLimit`).
pub const FIELD_LENGTH_LIMIT: usize = 128;
/// What ends a note that was cut (kube-scheduler marks its truncated event notes the same way).
const TRUNCATION_MARK: &str = " ...";

/// `metav1.MicroTime`: a timestamp written with microseconds, `2026-11-29T08:00:00.123456Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub jiff::Timestamp);

impl MicroTime {
    /// The current time.
    pub fn now() -> Self {
        MicroTime(jiff::Timestamp::now())
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always six fractional digits, cut (not rounded), as Go's RFC3339Micro layout.
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse::<jiff::Timestamp>()
            .map(MicroTime)
            .map_err(|e| serde::de::Error::custom(format!("invalid MicroTime {text:?}: {e}")))
    }
}

/// `Normal` or `Warning`, the two event types the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    /// The API's spelling: `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `core/v1.ObjectReference`: which object an event is about (`regarding`) or also involves
/// (`related`). Build one from an object with [`ObjectReference::from_object`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// The kind, e.g. `Pod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The namespace (`None` for a cluster-scoped object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `group/version`, or `version` for the core group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// The resourceVersion the event saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// A part of the object, e.g. `spec.containers{web}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

impl ObjectReference {
    /// A reference to `obj`, as client-go's `reference.GetReference`: kind and apiVersion from
    /// the type's [`Resource`] constants; name, namespace and resourceVersion from its
    /// accessors; the UID from `metadata.uid` when the object has one.
    pub fn from_object<K: Resource>(obj: &K) -> Self {
        let uid = obj.uid().filter(|uid| !uid.is_empty()).map(str::to_string);
        ObjectReference {
            kind: Some(K::KIND.to_string()),
            namespace: obj.namespace().map(str::to_string),
            name: obj.name().map(str::to_string),
            uid,
            api_version: Some(K::api_version()),
            resource_version: obj.resource_version().map(str::to_string),
            field_path: None,
        }
    }

    /// The same reference, pointing at a part of the object (`fieldPath`).
    #[must_use]
    pub fn with_field_path(mut self, field_path: &str) -> Self {
        self.field_path = Some(field_path.to_string());
        self
    }
}

/// `events.k8s.io/v1.EventSeries`: how often an event recurred and when it was last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSeries {
    /// Occurrences so far (2 at the first repeat).
    pub count: i32,
    /// When the last occurrence was observed.
    pub last_observed_time: MicroTime,
}

/// An `events.k8s.io/v1` Event. The deprecated fields (`deprecatedSource`,
/// `deprecatedFirstTimestamp`, `deprecatedLastTimestamp`, `deprecatedCount`) are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The Event object's own metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// When the event first happened. Required on write; `None` on Events written through
    /// the old `core/v1` API, which have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<MicroTime>,
    /// Set once the event has recurred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<EventSeries>,
    /// The controller that emitted the event, e.g. `example.com/backup-controller`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_controller: String,
    /// Which instance of the controller emitted it, e.g. `backup-controller-7d9f`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reporting_instance: String,
    /// What was done (or failed), e.g. `Scale`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// Why, in UpperCamelCase, e.g. `ScaledUp`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The object the event is about.
    #[serde(default)]
    pub regarding: ObjectReference,
    /// A second object involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<ObjectReference>,
    /// A human-readable description (at most [`NOTE_LENGTH_LIMIT`] bytes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// `Normal` or `Warning` (a string here, since Events written by others may say anything).
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub type_: String,
}

impl Resource for Event {
    const GROUP: &'static str = "events.k8s.io";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Event";
    const PLURAL: &'static str = "events";
    type Scope = Namespaced;
    crate::object_meta_accessors!();
}

/// `note` cut to at most [`NOTE_LENGTH_LIMIT`] bytes on a character boundary, ending with
/// ` ...` when it was cut.
pub fn truncate_note(note: &str) -> String {
    if note.len() <= NOTE_LENGTH_LIMIT {
        return note.to_string();
    }
    let mut end = NOTE_LENGTH_LIMIT - TRUNCATION_MARK.len();
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{TRUNCATION_MARK}", &note[..end])
}

/// The name of a new Event about `regarding_name` at `unix_nanos`, as client-go's
/// `GenerateEventName`: `<name>.<nanoseconds in hex>`, or a random UUID when that is not a
/// valid object name (kubernetes#127594).
pub(crate) fn event_name(regarding_name: &str, unix_nanos: i128) -> String {
    let name = format!("{regarding_name}.{unix_nanos:x}");
    if is_dns_subdomain(&name) {
        name
    } else {
        random_uuid()
    }
}

/// A random (version 4) UUID.
fn random_uuid() -> String {
    let mut bytes: [u8; 16] = fastrand::u128(..).to_be_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An RFC 1123 DNS subdomain: at most 253 characters, dot-separated labels of lower-case
/// letters, digits and `-`, each starting and ending with a letter or digit.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
            !b.is_empty()
                && b.first().is_some_and(alnum)
                && b.last().is_some_and(alnum)
                && b.iter().all(|c| alnum(c) || *c == b'-')
        })
}

/// A Kubernetes qualified name (`IsQualifiedName`): `name` or `prefix/name`, the prefix a DNS
/// subdomain, the name 1–63 characters of letters, digits, `-`, `_` and `.` that starts and
/// ends with a letter or digit. `reportingController` must be one.
pub(crate) fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    if prefix.is_some_and(|p| !is_dns_subdomain(p)) {
        return false;
    }
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn micro_time_is_written_with_six_digits_and_read_back() {
        let t: jiff::Timestamp = "2026-11-29T08:00:00.123456789Z".parse().expect("timestamp");
        assert_eq!(
            serde_json::to_value(MicroTime(t)).expect("json"),
            json!("2026-11-29T08:00:00.123456Z")
        );
        let whole: jiff::Timestamp = "2026-11-29T08:00:00Z".parse().expect("timestamp");
        assert_eq!(
            MicroTime(whole).to_string(),
            "2026-11-29T08:00:00.000000Z",
            "zeros are kept"
        );
        let read: MicroTime =
            serde_json::from_value(json!("2026-11-29T08:00:00.123456Z")).expect("read");
        assert_eq!(read.0.as_microsecond(), t.as_microsecond());
        // Offsets other than Z and other precisions are read too.
        let offset: MicroTime =
            serde_json::from_value(json!("2026-11-29T09:00:00+01:00")).expect("offset");
        assert_eq!(offset.0, whole);
        assert!(serde_json::from_value::<MicroTime>(json!("yesterday")).is_err());
    }

    #[test]
    fn events_use_the_api_field_names() {
        let t: jiff::Timestamp = "2026-11-29T08:00:00.5Z".parse().expect("timestamp");
        let event = Event {
            metadata: ObjectMeta {
                name: Some("web.1".into()),
                namespace: Some("ns".into()),
                ..ObjectMeta::default()
            },
            event_time: Some(MicroTime(t)),
            series: Some(EventSeries {
                count: 3,
                last_observed_time: MicroTime(t),
            }),
            reporting_controller: "example.com/ctl".into(),
            reporting_instance: "ctl-1".into(),
            action: "Scale".into(),
            reason: "ScaledUp".into(),
            regarding: ObjectReference {
                kind: Some("Deployment".into()),
                namespace: Some("ns".into()),
                name: Some("web".into()),
                uid: Some("u-1".into()),
                api_version: Some("apps/v1".into()),
                resource_version: Some("42".into()),
                field_path: Some("spec.replicas".into()),
            },
            related: None,
            note: "scaled to 3".into(),
            type_: "Normal".into(),
        };
        let value = serde_json::to_value(&event).expect("json");
        assert_eq!(
            value,
            json!({
                "metadata": {"name": "web.1", "namespace": "ns"},
                "eventTime": "2026-11-29T08:00:00.500000Z",
                "series": {"count": 3, "lastObservedTime": "2026-11-29T08:00:00.500000Z"},
                "reportingController": "example.com/ctl",
                "reportingInstance": "ctl-1",
                "action": "Scale",
                "reason": "ScaledUp",
                "regarding": {"kind": "Deployment", "namespace": "ns", "name": "web", "uid": "u-1",
                              "apiVersion": "apps/v1", "resourceVersion": "42",
                              "fieldPath": "spec.replicas"},
                "note": "scaled to 3",
                "type": "Normal",
            })
        );
        let back: Event = serde_json::from_value(value).expect("read back");
        assert_eq!(back, event);
        // An Event written through core/v1 has a null eventTime and deprecated fields.
        let legacy: Event = serde_json::from_value(json!({
            "metadata": {"name": "x"}, "eventTime": null, "reason": "Old",
            "regarding": {"kind": "Pod"}, "deprecatedCount": 4,
        }))
        .expect("legacy event");
        assert_eq!(legacy.event_time, None);
        assert_eq!(legacy.reason, "Old");
    }

    #[derive(Clone, Serialize, Deserialize)]
    struct Widget {
        metadata: ObjectMeta,
    }

    impl Resource for Widget {
        const GROUP: &'static str = "example.com";
        const VERSION: &'static str = "v2";
        const KIND: &'static str = "Widget";
        const PLURAL: &'static str = "widgets";
        type Scope = Namespaced;
        crate::object_meta_accessors!();
    }

    #[test]
    fn references_come_from_the_type_and_the_object() {
        let mut widget = Widget {
            metadata: ObjectMeta {
                name: Some("w".into()),
                namespace: Some("ns".into()),
                uid: Some("0b5e".into()),
                resource_version: Some("7".into()),
                ..ObjectMeta::default()
            },
        };
        let r = ObjectReference::from_object(&widget).with_field_path("spec.size");
        assert_eq!(
            r,
            ObjectReference {
                kind: Some("Widget".into()),
                namespace: Some("ns".into()),
                name: Some("w".into()),
                uid: Some("0b5e".into()),
                api_version: Some("example.com/v2".into()),
                resource_version: Some("7".into()),
                field_path: Some("spec.size".into()),
            }
        );
        widget.metadata.uid = None;
        assert_eq!(ObjectReference::from_object(&widget).uid, None);
    }

    #[test]
    fn long_notes_are_cut_to_the_limit_on_a_character_boundary() {
        assert_eq!(truncate_note("short"), "short");
        let exact = "a".repeat(NOTE_LENGTH_LIMIT);
        assert_eq!(truncate_note(&exact), exact);
        let long = "b".repeat(NOTE_LENGTH_LIMIT + 1);
        let cut = truncate_note(&long);
        assert_eq!(cut.len(), NOTE_LENGTH_LIMIT);
        assert!(cut.ends_with(" ..."));
        // 'é' is two bytes: the cut must not split one.
        let accents = "é".repeat(NOTE_LENGTH_LIMIT);
        let cut = truncate_note(&accents);
        assert!(cut.len() <= NOTE_LENGTH_LIMIT, "{}", cut.len());
        assert!(cut.len() >= NOTE_LENGTH_LIMIT - 1, "{}", cut.len());
        assert!(cut.trim_end_matches(" ...").chars().all(|c| c == 'é'));
    }

    #[test]
    fn event_names_follow_client_go() {
        assert_eq!(event_name("web", 255), "web.ff");
        // Not a valid name (upper case, a colon, empty): a random UUID instead.
        for bad in ["Web", "system:node", ""] {
            let name = event_name(bad, 1);
            assert_eq!(name.len(), 36, "{name}");
            assert!(is_dns_subdomain(&name), "{name}");
            assert_eq!(&name[14..15], "4", "version 4: {name}");
        }
        assert_ne!(event_name("", 1), event_name("", 1));
    }

    #[test]
    fn name_rules() {
        assert!(is_dns_subdomain("a.b-c.d1"));
        assert!(!is_dns_subdomain("a..b"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
        assert!(is_qualified_name("example.com/my-controller"));
        assert!(is_qualified_name("My_Controller.v2"));
        assert!(!is_qualified_name(""));
        assert!(!is_qualified_name("example.com/"));
        assert!(!is_qualified_name("Example.com/x"));
        assert!(!is_qualified_name("a/b/c"));
        assert!(!is_qualified_name(&"x".repeat(64)));
    }
}
