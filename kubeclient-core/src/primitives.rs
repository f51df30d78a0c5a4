//! The few API types that are not plain structs, written by hand for the generated types of
//! [`api`](crate::api) to use, with the Kubernetes JSON conventions:
//!
//! - [`Quantity`] (`"500m"`, `"1Gi"`): kept as the text the server sent;
//! - [`IntOrString`]: a JSON number or string;
//! - [`Time`] (RFC 3339, whole seconds, written in UTC with `Z`) and [`MicroTime`] (six
//!   fractional digits), as apimachinery writes them;
//! - [`ByteString`]: bytes written as base64 (`Secret.data`, `caBundle`, ...);
//! - [`FieldsV1`] (managedFields' field sets) and [`RawExtension`] (an embedded object): the
//!   JSON text as received, not a tree of values, so a cached object does not pay for a
//!   `serde_json::Value` per node;
//! - [`ApiVersion`] and [`Kind`]: zero-sized fields that write a kind's `apiVersion` and
//!   `kind` from its [`TypeInfo`] constants, so no object carries those strings.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The string type of the generated types' string fields: up to 24 bytes are kept inline, with
/// no allocation (most names, kinds, reasons and paths in an object are that short). It
/// dereferences to `str`, and `"text".into()` makes one.
pub type Str = compact_str::CompactString;

/// The `apiVersion` and `kind` of a generated type.
pub trait TypeInfo {
    /// `group/version`, or `version` for the core group.
    const API_VERSION: &'static str;
    /// The kind.
    const KIND: &'static str;
}

/// A quantity (`resource.Quantity`): `"100m"`, `"1Gi"`, `"2"`, kept as the server wrote it
/// (inline, with no allocation, as nearly every quantity is short). A JSON number is accepted
/// and kept as its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub Str);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity (string or number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string().into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string().into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string().into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer or a string (`intstr.IntOrString`): a port number or name, a count or a
/// percentage.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// A JSON number.
    Int(i32),
    /// A JSON string.
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => s.serialize_i32(*i),
            IntOrString::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("{v} does not fit in 32 bits")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i32::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("{v} does not fit in 32 bits")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Writes a floating-point number as Go's `encoding/json` does: an integral value without a
/// fraction (`100`, where serde_json writes `100.0`). The generated types write their
/// numbers through it ([`crate::json::Number`]).
pub fn serialize_float<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Integral values below 2^53 are exact as i64.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        s.serialize_i64(*value as i64)
    } else {
        s.serialize_f64(*value)
    }
}

/// A JSON object with string keys (`resources.requests`, `ConfigMap.data`, `nodeSelector`,
/// ...), kept as one boxed slice of entries sorted by key: one allocation and no spare room,
/// where a `BTreeMap` takes a node of room for eleven entries. Lookups are binary searches;
/// it is written with its keys in order, as Go writes a map.
#[derive(Clone, PartialEq)]
pub struct Map<V>(Box<[(Str, V)]>);

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map(Box::new([]))
    }
}

impl<V> Map<V> {
    /// An empty map.
    pub fn new() -> Self {
        Map::default()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.position(key).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: impl Into<Str>, value: V) -> Option<V> {
        let key = key.into();
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(i, (key, value));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.position(key).ok()?;
        let mut entries = std::mem::take(&mut self.0).into_vec();
        let (_, value) = entries.remove(i);
        self.0 = entries.into_boxed_slice();
        Some(value)
    }

    /// The entries, in key order.
    pub fn entries(&self) -> &[(Str, V)] {
        &self.0
    }

    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The values, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<K: Into<Str>, V> FromIterator<(K, V)> for Map<V> {
    /// Collects entries; of two with the same key the later wins, as in a JSON object.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let mut entries: Vec<(Str, V)> = entries.into_iter().map(|(k, v)| (k.into(), v)).collect();
        // A stable sort keeps equal keys in input order; the last of each run is kept.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut kept: Vec<(Str, V)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match kept.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => kept.push(entry),
            }
        }
        Map(kept.into_boxed_slice())
    }
}

impl<K: Into<Str>, V, const N: usize> From<[(K, V); N]> for Map<V> {
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<V> From<std::collections::BTreeMap<String, V>> for Map<V> {
    fn from(map: std::collections::BTreeMap<String, V>) -> Self {
        map.into_iter().collect()
    }
}

impl<V: fmt::Debug> fmt::Debug for Map<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Serialize> Serialize for Map<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Map<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut access: A) -> Result<Map<V>, A::Error> {
                let mut entries: Vec<(Str, V)> =
                    Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some(entry) = access.next_entry::<Str, V>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

/// Parses an RFC 3339 timestamp for `what`.
fn parse_time<E: de::Error>(v: &str, what: &str) -> Result<jiff::Timestamp, E> {
    v.parse::<jiff::Timestamp>()
        .map_err(|e| E::custom(format!("{what} {v:?} is not an RFC 3339 time: {e}")))
}

macro_rules! timestamp {
    ($(#[$doc:meta])* $name:ident, $format:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub jiff::Timestamp);

        impl Default for $name {
            fn default() -> Self {
                $name(jiff::Timestamp::UNIX_EPOCH)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0.strftime($format))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                parse_time(&text, $what).map($name)
            }
        }
    };
}

timestamp!(
    /// A point in time with whole seconds (`metav1.Time`), written as `2006-01-02T15:04:05Z`.
    Time,
    "%Y-%m-%dT%H:%M:%SZ",
    "time"
);

timestamp!(
    /// A point in time with microseconds (`metav1.MicroTime`), written as
    /// `2006-01-02T15:04:05.000000Z`.
    MicroTime,
    "%Y-%m-%dT%H:%M:%S.%6fZ",
    "micro time"
);

/// Bytes, written as standard base64 (`Secret.data`, certificate fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ByteString(pub Vec<u8>);

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(ByteString)
            .map_err(|e| de::Error::custom(format!("bytes are not base64: {e}")))
    }
}

/// JSON kept as the text received: compact in memory (one allocation) and written back
/// exactly. Read it with [`RawJson::get`] or parse it with `serde_json::from_str`.
///
/// Read from JSON, the text has been parsed; read from protobuf (where it is bytes, as Go
/// keeps it) it is checked to be UTF-8 only, and checked to be JSON when it is written as
/// JSON: writing text that is not JSON is an error, never a broken document.
#[derive(Clone, Debug)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// `text`, when it is one JSON value.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: &RawValue = serde_json::from_str(text)?;
        Ok(RawJson(raw.get().into()))
    }

    /// Text that should be JSON, taken as it is (see the type's documentation).
    pub(crate) fn unchecked(text: &str) -> Self {
        RawJson(text.into())
    }
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson("{}".into())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(|e| {
            serde::ser::Error::custom(format!("embedded JSON that is not JSON: {e}"))
        })?;
        raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RawJson(Box::<RawValue>::deserialize(d)?.into()))
    }
}

impl PartialEq for RawJson {
    /// Equal when the JSON values are equal (whatever the spacing or key order).
    fn eq(&self, other: &Self) -> bool {
        let parse = |raw: &RawJson| serde_json::from_str::<serde_json::Value>(raw.get()).ok();
        self.get() == other.get()
            || matches!((parse(self), parse(other)), (Some(a), Some(b)) if a == b)
    }
}

/// `managedFields[].fieldsV1`: the set of fields a manager owns, kept as JSON text.
pub type FieldsV1 = RawJson;

/// An embedded object of any kind (`runtime.RawExtension`), kept as JSON text.
pub type RawExtension = RawJson;

macro_rules! type_meta_field {
    ($name:ident, $constant:ident, $what:literal) => {
        #[doc = concat!("The `", $what, "` of `T`: zero-sized, written from [`TypeInfo::", stringify!($constant), "`]; whatever is read is skipped.")]
        pub struct $name<T>(PhantomData<fn() -> T>);

        impl<T> Default for $name<T> {
            fn default() -> Self {
                $name(PhantomData)
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $name<T> {}

        impl<T> PartialEq for $name<T> {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }

        impl<T> Eq for $name<T> {}

        impl<T: TypeInfo> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::$constant)
            }
        }

        impl<T: TypeInfo> $name<T> {
            /// The value written.
            pub fn get(&self) -> &'static str {
                T::$constant
            }
        }

        impl<T: TypeInfo> Serialize for $name<T> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(T::$constant)
            }
        }

        impl<'de, T> Deserialize<'de> for $name<T> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                de::IgnoredAny::deserialize(d)?;
                Ok($name(PhantomData))
            }
        }
    };
}

type_meta_field!(ApiVersion, API_VERSION, "apiVersion");
type_meta_field!(Kind, KIND, "kind");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_written_as_apimachinery_writes_them() {
        let t: Time = serde_json::from_value(json!("2026-11-29T11:20:41Z")).expect("time");
        assert_eq!(
            serde_json::to_value(t).expect("json"),
            json!("2026-11-29T11:20:41Z")
        );
        let t: Time = serde_json::from_value(json!("2026-11-29T12:20:41+01:00")).expect("offset");
        assert_eq!(
            serde_json::to_value(t).expect("json"),
            json!("2026-11-29T11:20:41Z")
        );
        let m: MicroTime =
            serde_json::from_value(json!("2026-11-29T11:20:41.001200Z")).expect("micro");
        assert_eq!(
            serde_json::to_value(m).expect("json"),
            json!("2026-11-29T11:20:41.001200Z")
        );
        let err = serde_json::from_value::<Time>(json!("yesterday")).expect_err("not a time");
        assert!(err.to_string().contains("\"yesterday\""), "{err}");
    }

    #[test]
    fn int_or_string_quantity_and_bytes() {
        for v in [json!(8080), json!("http"), json!("25%")] {
            let x: IntOrString = serde_json::from_value(v.clone()).expect("int or string");
            assert_eq!(serde_json::to_value(x).expect("json"), v);
        }
        assert!(serde_json::from_value::<IntOrString>(json!(1u64 << 40)).is_err());
        let q: Quantity = serde_json::from_value(json!(2)).expect("number");
        assert_eq!(q, Quantity("2".into()));
        let q: Quantity = serde_json::from_value(json!("250m")).expect("string");
        assert_eq!(serde_json::to_value(&q).expect("json"), json!("250m"));
        let b: ByteString = serde_json::from_value(json!("aGk=")).expect("base64");
        assert_eq!(b.0, b"hi");
        assert_eq!(serde_json::to_value(&b).expect("json"), json!("aGk="));
        assert!(serde_json::from_value::<ByteString>(json!("not base64!")).is_err());
    }

    #[test]
    fn raw_json_keeps_the_text_and_compares_by_value() {
        let a: RawJson = serde_json::from_str(r#"{"f:a":{},"f:b":{".":{}}}"#).expect("raw");
        assert_eq!(a.get(), r#"{"f:a":{},"f:b":{".":{}}}"#);
        let b: RawJson = serde_json::from_str(r#"{ "f:b": {".": {}}, "f:a": {} }"#).expect("raw");
        assert_eq!(a, b);
        assert_eq!(RawJson::default().get(), "{}");
        assert_eq!(
            RawJson::from_json(r#" {"a": [1]} "#).expect("json").get(),
            r#"{"a": [1]}"#
        );
        assert!(RawJson::from_json("{").is_err());
        assert_ne!(RawJson::unchecked("{"), RawJson::unchecked("["));
        let broken = RawJson::unchecked(r#"{"a": "#);
        let err = serde_json::to_string(&broken).expect_err("not JSON");
        assert!(
            err.to_string().contains("embedded JSON that is not JSON"),
            "{err}"
        );
    }

    #[test]
    fn maps_are_sorted_slices_with_map_semantics() {
        let mut m: Map<Quantity> =
            serde_json::from_value(json!({"memory": "64Mi", "cpu": "250m"})).expect("map");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["cpu", "memory"]);
        assert_eq!(m.get("cpu"), Some(&Quantity("250m".into())));
        assert_eq!(
            m.insert("cpu", Quantity("1".into())),
            Some(Quantity("250m".into()))
        );
        assert_eq!(m.insert("ephemeral-storage", Quantity("1Gi".into())), None);
        assert_eq!(m.remove("memory"), Some(Quantity("64Mi".into())));
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"cpu":"1","ephemeral-storage":"1Gi"}"#
        );
        let dup: Map<i32> = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).expect("dup");
        assert_eq!(dup.iter().collect::<Vec<_>>(), [("a", &3), ("b", &2)]);
        let empty: Map<i32> = Map::new();
        assert!(empty.is_empty() && empty.get("a").is_none());
        assert_eq!(format!("{:?}", Map::from([("k", 1)])), r#"{"k": 1}"#);
    }

    struct Thing;
    impl TypeInfo for Thing {
        const API_VERSION: &'static str = "example.com/v1";
        const KIND: &'static str = "Thing";
    }

    #[test]
    fn type_meta_fields_write_constants_and_skip_what_they_read() {
        let v: ApiVersion<Thing> = serde_json::from_value(json!("other/v2")).expect("skipped");
        assert_eq!(
            serde_json::to_value(v).expect("json"),
            json!("example.com/v1")
        );
        assert_eq!(Kind::<Thing>::default().get(), "Thing");
        assert_eq!(std::mem::size_of::<ApiVersion<Thing>>(), 0);
    }
}
