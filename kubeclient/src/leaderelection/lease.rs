//! The `coordination.k8s.io/v1` Lease as the elector reads and writes it, and [`LeaseLock`],
//! the lock kept in one Lease (client-go's `resourcelock.LeaseLock`).
//!
//! The generated API types sit behind per-package features a user may turn off, so the
//! elector, which needs a Lease whatever the features, has a small wire type of its own here.
//! Spec fields the elector does not manage (`strategy`, `preferredHolder`, and any
//! field a later API version adds) are read and written back unchanged, so an update never drops
//! them; metadata (labels, annotations, owner references) is kept the same way.

use serde::{Deserialize, Serialize};

use super::Error;
use crate::client::{Client, Namespaced, ObjectMeta, Resource};
use crate::rest::{CreateOptions, UpdateOptions};

/// A `coordination.k8s.io/v1` Lease.
///
/// `apiVersion` and `kind` are written on every request body and ignored when read.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Lease {
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Who holds the lease, and since when.
    pub spec: LeaseSpec,
}

impl Serialize for Lease {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            api_version: &'static str,
            kind: &'static str,
            metadata: &'a ObjectMeta,
            spec: &'a LeaseSpec,
        }
        Body {
            api_version: "coordination.k8s.io/v1",
            kind: Lease::KIND,
            metadata: &self.metadata,
            spec: &self.spec,
        }
        .serialize(serializer)
    }
}

impl Resource for Lease {
    const GROUP: &'static str = "coordination.k8s.io";
    const VERSION: &'static str = "v1";
    const KIND: &'static str = "Lease";
    const PLURAL: &'static str = "leases";
    type Scope = Namespaced;
    crate::object_meta_accessors!();
}

/// `coordinationv1.LeaseSpec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeaseSpec {
    /// The identity of the holder; empty or absent when nobody holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    /// How long, in whole seconds, candidates wait after seeing the lease last change before
    /// they may take it over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    /// When the current holder acquired the lease (a `MicroTime`).
    #[serde(with = "micro_time", skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<jiff::Timestamp>,
    /// When the holder last renewed the lease, by the holder's clock (a `MicroTime`).
    #[serde(with = "micro_time", skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<jiff::Timestamp>,
    /// How many times the lease changed hands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
    /// The coordinated election strategy (kept, not used here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The holder a coordinated election prefers (kept, not used here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_holder: Option<String>,
    /// Every other field, written back as read.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// `metav1.MicroTime` on the wire: RFC 3339 in UTC with exactly six fractional digits, e.g.
/// `2026-11-29T08:00:00.123456Z`. Reading accepts any RFC 3339 timestamp.
mod micro_time {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<jiff::Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(ts) => serializer.serialize_str(&super::format_micro_time(*ts)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<jiff::Timestamp>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => s.parse::<jiff::Timestamp>().map(Some).map_err(|e| {
                serde::de::Error::custom(format_args!("invalid MicroTime {s:?}: {e}"))
            }),
        }
    }
}

/// `ts` as a `MicroTime`: UTC, microseconds (truncated), `Z`.
pub(crate) fn format_micro_time(ts: jiff::Timestamp) -> String {
    format!("{ts:.6}")
}

/// The part of a Lease the election is decided on (client-go's `LeaderElectionRecord`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LeaderElectionRecord {
    /// The holder; empty when nobody holds it.
    pub holder_identity: String,
    /// The lease duration the holder wrote, in seconds.
    pub lease_duration_seconds: i32,
    /// When the holder acquired it (its clock).
    pub acquire_time: Option<jiff::Timestamp>,
    /// When the holder last renewed it (its clock).
    pub renew_time: Option<jiff::Timestamp>,
    /// How many times it changed hands.
    pub lease_transitions: i32,
}

impl LeaderElectionRecord {
    fn from_spec(spec: &LeaseSpec) -> Self {
        LeaderElectionRecord {
            holder_identity: spec.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: spec.lease_duration_seconds.unwrap_or(0),
            acquire_time: spec.acquire_time,
            renew_time: spec.renew_time,
            lease_transitions: spec.lease_transitions.unwrap_or(0),
        }
    }

    /// Writes this record into `spec`, leaving its other fields as they are.
    fn write_to(&self, spec: &mut LeaseSpec) {
        spec.holder_identity = Some(self.holder_identity.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds);
        spec.acquire_time = self.acquire_time;
        spec.renew_time = self.renew_time;
        spec.lease_transitions = Some(self.lease_transitions);
    }
}

/// A lock held in one Lease: the Lease's client (for one namespace), its name, and the
/// identity this candidate writes as holder.
///
/// Every update sends the resourceVersion of the Lease last read or written, so when two
/// candidates race, the server accepts one and answers the other 409 Conflict.
#[derive(Debug)]
pub struct LeaseLock {
    client: Client<Lease>,
    name: String,
    identity: String,
    /// The Lease as last read or written.
    lease: Option<Lease>,
}

impl LeaseLock {
    /// The lock in Lease `name`, reached through `client` (made with
    /// [`Client::namespaced`]), held as `identity` (unique per candidate, e.g. the pod name).
    pub fn new(client: Client<Lease>, name: &str, identity: &str) -> Self {
        LeaseLock {
            client,
            name: name.to_string(),
            identity: identity.to_string(),
            lease: None,
        }
    }

    /// The identity this candidate holds the lease as.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// `namespace/name` of the Lease, for messages.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.client.namespace().unwrap_or(""), self.name)
    }

    /// The Lease's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the client is for one namespace (a lock needs one).
    pub(crate) fn has_namespace(&self) -> bool {
        self.client.namespace().is_some()
    }

    /// Reads the Lease; keeps it for the next update.
    pub(crate) async fn get(&mut self) -> Result<LeaderElectionRecord, Error> {
        let lease = self
            .client
            .get(&self.name, &Default::default())
            .await
            .map_err(|source| self.error(source))?;
        let record = LeaderElectionRecord::from_spec(&lease.spec);
        self.lease = Some(lease);
        Ok(record)
    }

    /// Creates the Lease holding `record`.
    pub(crate) async fn create(&mut self, record: &LeaderElectionRecord) -> Result<(), Error> {
        let mut lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                namespace: self.client.namespace().map(str::to_string),
                ..ObjectMeta::default()
            },
            spec: LeaseSpec::default(),
        };
        record.write_to(&mut lease.spec);
        let created = self
            .client
            .create(&lease, &CreateOptions::default())
            .await
            .map_err(|source| self.error(source))?;
        self.lease = Some(created);
        Ok(())
    }

    /// Writes `record` into the Lease last read or written (its other spec fields and its
    /// metadata unchanged), guarded by that Lease's resourceVersion.
    pub(crate) async fn update(&mut self, record: &LeaderElectionRecord) -> Result<(), Error> {
        let Some(mut lease) = self.lease.clone() else {
            return Err(Error::NotRead {
                lease: self.describe(),
            });
        };
        record.write_to(&mut lease.spec);
        let updated = self
            .client
            .update(&lease, &UpdateOptions::default())
            .await
            .map_err(|source| self.error(source))?;
        self.lease = Some(updated);
        Ok(())
    }

    fn error(&self, source: crate::rest::Error) -> Error {
        Error::Lease {
            lease: self.describe(),
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_time_has_six_fraction_digits_in_utc() {
        let ts: jiff::Timestamp = "2026-11-29T09:00:00.123456789+01:00"
            .parse()
            .expect("a valid timestamp");
        assert_eq!(format_micro_time(ts), "2026-11-29T08:00:00.123456Z");
        let whole: jiff::Timestamp = "2026-11-29T08:00:00Z".parse().expect("valid");
        assert_eq!(format_micro_time(whole), "2026-11-29T08:00:00.000000Z");
    }

    #[test]
    fn lease_round_trips_fields_it_does_not_manage() {
        let json = serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "l", "namespace": "ns", "resourceVersion": "7",
                         "labels": {"a": "b"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {
                "holderIdentity": "one",
                "leaseDurationSeconds": 15,
                "acquireTime": "2026-11-29T08:00:00.000001Z",
                "renewTime": "2026-11-29T08:00:05.123456Z",
                "leaseTransitions": 3,
                "strategy": "OldestEmulationVersion",
                "preferredHolder": "two",
                "futureField": {"x": 1}
            }
        });
        let lease: Lease = serde_json::from_value(json.clone()).expect("decodes");
        assert_eq!(lease.spec.holder_identity.as_deref(), Some("one"));
        assert_eq!(lease.spec.lease_transitions, Some(3));
        assert_eq!(
            lease.spec.strategy.as_deref(),
            Some("OldestEmulationVersion")
        );
        let back = serde_json::to_value(&lease).expect("encodes");
        assert_eq!(back, json);
    }

    #[test]
    fn record_update_keeps_other_spec_fields() {
        let mut spec = LeaseSpec {
            strategy: Some("OldestEmulationVersion".into()),
            preferred_holder: Some("two".into()),
            ..LeaseSpec::default()
        };
        spec.other
            .insert("futureField".into(), serde_json::json!(1));
        let record = LeaderElectionRecord {
            holder_identity: "one".into(),
            lease_duration_seconds: 15,
            lease_transitions: 2,
            ..LeaderElectionRecord::default()
        };
        record.write_to(&mut spec);
        assert_eq!(spec.holder_identity.as_deref(), Some("one"));
        assert_eq!(spec.preferred_holder.as_deref(), Some("two"));
        assert_eq!(spec.other.get("futureField"), Some(&serde_json::json!(1)));
        assert_eq!(LeaderElectionRecord::from_spec(&spec), record);
    }

    #[test]
    fn bad_micro_time_is_a_decode_error() {
        let json = serde_json::json!({"spec": {"renewTime": "yesterday"}});
        let err = serde_json::from_value::<Lease>(json).expect_err("must not decode");
        assert!(err.to_string().contains("invalid MicroTime"), "{err}");
    }
}
