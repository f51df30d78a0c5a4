//! How the generated API types read and write JSON through serde.
//!
//! The generator writes each type's `Deserialize` as [`deserialize`] over the type's
//! [`ReadFields`]: a `match` from its JSON keys to their indices and one that reads the
//! value of a key into its field. serde's derive writes several visitors per type; over the
//! 851 generated types, this shared reader halves the compiler's front-end time and leaves
//! programs less to instantiate.
//!
//! Reading follows the derive it replaces, with `#[serde(default)]` on every field: a missing
//! key leaves the field's default, an unknown key is skipped, `null` is `None` for an optional
//! field. A key given twice keeps its last value, as Go's `encoding/json` does.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A generated struct as a JSON object: its keys and how each is read.
pub trait ReadFields: Default {
    /// The type's name, for errors.
    const NAME: &'static str;
    /// The JSON keys of the fields.
    const KEYS: &'static [&'static str];
    /// The index of `key` in [`ReadFields::KEYS`]; `None` for a key the type does not have.
    /// (Not generic: each type's is compiled once, as a `match`.)
    fn key_index(key: &str) -> Option<usize>;
    /// Reads the value of the key `KEYS[index]` from `map` into its field.
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        index: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// Reads a JSON object into `T`: the body of a generated type's `Deserialize`.
pub fn deserialize<'de, D: Deserializer<'de>, T: ReadFields>(d: D) -> Result<T, D::Error> {
    d.deserialize_struct(T::NAME, T::KEYS, Fields(PhantomData))
}

/// Reads a list into `out` without spare capacity (a decoded list grows by doubling; a cached
/// object should not keep the unused half).
pub fn read_vec<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    out: &mut Vec<T>,
) -> Result<(), A::Error> {
    *out = map.next_value()?;
    out.shrink_to_fit();
    Ok(())
}

/// [`read_vec`] for an optional list.
pub fn read_option_vec<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    out: &mut Option<Vec<T>>,
) -> Result<(), A::Error> {
    *out = map.next_value()?;
    if let Some(items) = out {
        items.shrink_to_fit();
    }
    Ok(())
}

/// A number written as Go writes it: `100`, not `100.0` (see
/// [`serialize_float`](crate::primitives::serialize_float)).
pub struct Number<'a>(pub &'a f64);

impl Serialize for Number<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::primitives::serialize_float(self.0, s)
    }
}

struct Fields<T>(PhantomData<T>);

impl<'de, T: ReadFields> Visitor<'de> for Fields<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        expecting_object(T::NAME, f)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut out = T::default();
        while let Some(key) = map.next_key_seed(Key(T::key_index))? {
            match key {
                Some(index) => out.read_field(index, &mut map)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

// Not generic: compiled once, not once per type.
#[inline(never)]
fn expecting_object(name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "an object ({name})")
}

/// A key: its index in the type's keys, `None` for a key the type does not have.
struct Key(fn(&str) -> Option<usize>);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok((self.0)(key))
    }

    fn visit_bytes<E: serde::de::Error>(self, key: &[u8]) -> Result<Option<usize>, E> {
        Ok(std::str::from_utf8(key).ok().and_then(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A struct written as the generator writes one.
    #[derive(Debug, Default, PartialEq)]
    struct Sample {
        count: Option<i32>,
        list: Option<Vec<String>>,
        name: String,
    }

    impl ReadFields for Sample {
        const NAME: &'static str = "Sample";
        const KEYS: &'static [&'static str] = &["count", "list", "name"];
        fn key_index(key: &str) -> Option<usize> {
            match key {
                "count" => Some(0),
                "list" => Some(1),
                "name" => Some(2),
                _ => None,
            }
        }
        fn read_field<'de, A: MapAccess<'de>>(
            &mut self,
            index: usize,
            map: &mut A,
        ) -> Result<(), A::Error> {
            match index {
                0 => self.count = map.next_value()?,
                1 => read_option_vec(map, &mut self.list)?,
                2 => self.name = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }

    impl<'de> Deserialize<'de> for Sample {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d)
        }
    }

    #[test]
    fn reads_known_keys_skips_unknown_ones_and_keeps_defaults() {
        let s: Sample = serde_json::from_str(
            r#"{"unknown": {"deep": [1, {"x": null}]}, "name": "a", "list": ["x", "y"], "zz": 1}"#,
        )
        .expect("sample");
        assert_eq!(
            s,
            Sample {
                count: None,
                list: Some(vec!["x".into(), "y".into()]),
                name: "a".into()
            }
        );
        assert_eq!(s.list.as_ref().map(Vec::capacity), Some(2));
        let empty: Sample = serde_json::from_str("{}").expect("empty");
        assert_eq!(empty, Sample::default());
    }

    #[test]
    fn null_is_none_and_the_last_of_a_repeated_key_wins() {
        let s: Sample =
            serde_json::from_str(r#"{"count": 1, "count": null, "name": "b", "name": "c"}"#)
                .expect("repeated");
        assert_eq!(s.count, None);
        assert_eq!(s.name, "c");
    }

    #[test]
    fn escaped_keys_are_read_as_their_text() {
        let s: Sample = serde_json::from_str(r#"{"n\u0061me": "d"}"#).expect("escaped");
        assert_eq!(s.name, "d");
    }

    #[test]
    fn a_wrong_type_is_an_error_naming_what_was_expected() {
        let err = serde_json::from_str::<Sample>(r#"{"count": "x"}"#).expect_err("refused");
        assert!(err.to_string().contains("i32"), "{err}");
        let err = serde_json::from_str::<Sample>("[1]").expect_err("refused");
        assert!(err.to_string().contains("an object (Sample)"), "{err}");
        let err = serde_json::from_str::<Sample>(r#"{"name": null}"#).expect_err("refused");
        assert!(err.to_string().contains("string"), "{err}");
    }

    #[test]
    fn floats_are_written_as_go_writes_them() {
        assert_eq!(serde_json::to_string(&Number(&100.0)).expect("100"), "100");
        assert_eq!(serde_json::to_string(&Number(&0.5)).expect("0.5"), "0.5");
    }
}
