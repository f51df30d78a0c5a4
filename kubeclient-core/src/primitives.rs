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

/// The `apiVersion` and `kind` of a generated type.
pub trait TypeInfo {
    /// `group/version`, or `version` for the core group.
    const API_VERSION: &'static str;
    /// The kind.
    const KIND: &'static str;
}

/// A quantity (`resource.Quantity`): `"100m"`, `"1Gi"`, `"2"`, kept as the server wrote it.
/// A JSON number is accepted and kept as its text.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(pub String);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity (string or number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Quantity, E> {
                Ok(Quantity(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
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
/// fraction (`100`, where serde_json writes `100.0`). Used by the generated types.
pub fn serialize_float<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    // Integral values below 2^53 are exact as i64.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        s.serialize_i64(*value as i64)
    } else {
        s.serialize_f64(*value)
    }
}

/// [`serialize_float`] for an optional number.
pub fn serialize_option_float<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize_float(v, s),
        None => s.serialize_none(),
    }
}

/// Parses an RFC 3339 timestamp for `what`.
fn parse_time<E: de::Error>(v: &str, what: &str) -> Result<jiff::Timestamp, E> {
    v.parse::<jiff::Timestamp>()
        .map_err(|e| E::custom(format!("{what} {v:?} is not an RFC 3339 time: {e}")))
}

/// A point in time with whole seconds (`metav1.Time`), written as `2006-01-02T15:04:05Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub jiff::Timestamp);

impl Default for Time {
    fn default() -> Self {
        Time(jiff::Timestamp::UNIX_EPOCH)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_time(&text, "time").map(Time)
    }
}

/// A point in time with microseconds (`metav1.MicroTime`), written as
/// `2006-01-02T15:04:05.000000Z`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub jiff::Timestamp);

impl Default for MicroTime {
    fn default() -> Self {
        MicroTime(jiff::Timestamp::UNIX_EPOCH)
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.strftime("%Y-%m-%dT%H:%M:%S.%6fZ"))
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_time(&text, "micro time").map(MicroTime)
    }
}

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
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawJson(pub Box<RawValue>);

impl RawJson {
    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl Default for RawJson {
    fn default() -> Self {
        // `{}` is valid JSON, so this does not fail (the fallback would be `null`).
        RawJson(RawValue::from_string("{}".to_string()).unwrap_or_default())
    }
}

impl PartialEq for RawJson {
    /// Equal when the JSON values are equal (whatever the spacing or key order).
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
            || serde_json::from_str::<serde_json::Value>(self.get()).ok()
                == serde_json::from_str::<serde_json::Value>(other.get()).ok()
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
    fn floats_are_written_as_go_writes_them() {
        #[derive(Serialize)]
        struct F {
            #[serde(serialize_with = "serialize_float")]
            a: f64,
            #[serde(serialize_with = "serialize_option_float")]
            b: Option<f64>,
        }
        let json = serde_json::to_string(&F {
            a: 100.0,
            b: Some(0.5),
        })
        .expect("json");
        assert_eq!(json, r#"{"a":100,"b":0.5}"#);
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
