//! Serde helpers that make the kubeconfig model read what kubectl reads and write what
//! kubectl writes.
//!
//! kubectl converts YAML to JSON before decoding, guided by the target type, so a scalar in a
//! string field is taken as a string whatever it looks like (`namespace: 123` is `"123"`), and
//! `null` leaves any field at its zero value. Go encodes `[]byte` fields as padded standard
//! base64 and decodes them ignoring `\r`/`\n`. Lists without `omitempty` in client-go's v1
//! types are written as `null` when empty.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};

use crate::secret::Secret;

/// Go's `base64.StdEncoding`: padded, but lenient about the unused trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Encodes bytes as Go's `encoding/json` does for `[]byte`.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    GO_STD.encode(bytes)
}

/// Decodes base64 as Go's `encoding/json` does for `[]byte` (newlines are ignored). The error
/// never contains the input, which may be a private key.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let cleaned: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD
        .decode(cleaned.as_bytes())
        .map_err(|e| format!("not valid base64 ({})", describe_base64_error(&e)))
}

fn describe_base64_error(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("illegal character at byte {offset}")
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last symbol at byte {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_string(),
    }
}

/// A string that also accepts any YAML scalar (numbers, booleans) and `null` (as `""`).
#[derive(Default)]
pub(crate) struct Lenient(pub(crate) String);

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Lenient, E> {
                Ok(Lenient(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient, E> {
                Ok(Lenient(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Lenient, D::Error> {
                Lenient::deserialize(d)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A string field: any scalar, `null` is empty.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Lenient::deserialize(d).map(|l| l.0)
}

/// A secret string field: any scalar, `null` is empty.
pub(crate) fn secret_string<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<String>, D::Error> {
    Lenient::deserialize(d).map(|l| Secret::new(l.0))
}

/// A boolean field: `null` is `false`, and YAML 1.1's spellings (`yes`, `on`, `y`, …),
/// which Go's YAML library reads as booleans, are accepted (the parser is set to YAML 1.2's
/// strict booleans so that such words in unknown fields survive a round trip as written).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v {
                "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True"
                | "TRUE" => Ok(true),
                "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False"
                | "FALSE" => Ok(false),
                _ => Err(E::invalid_type(de::Unexpected::Other("a string"), &self)),
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_none<E: de::Error>(self) -> Result<bool, E> {
            Ok(false)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            boolean(d)
        }
    }
    d.deserialize_any(V)
}

/// Any field where `null` means the type's default (lists, maps, structs, booleans).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A list of strings; `null` (for the list or an item) is empty.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Option<Vec<Lenient>> = Option::deserialize(d)?;
    Ok(items.unwrap_or_default().into_iter().map(|l| l.0).collect())
}

/// `as-user-extra`: a map of string lists.
pub(crate) fn string_list_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    let map: Option<BTreeMap<String, Option<Vec<Lenient>>>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default().into_iter().map(|l| l.0).collect()))
        .collect())
}

/// An auth-provider `config` map: every value is secret.
pub(crate) fn secret_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Secret<String>>, D::Error> {
    let map: Option<BTreeMap<String, Lenient>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Secret::new(v.0)))
        .collect())
}

fn base64_field<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = string(d)?;
    decode_base64(&text).map_err(de::Error::custom)
}

/// A `*-data` field: base64 in the file, bytes in memory.
pub(crate) fn bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    base64_field(d)
}

/// A secret `*-data` field (`client-key-data`).
pub(crate) fn secret_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<Vec<u8>>, D::Error> {
    base64_field(d).map(Secret::new)
}

/// Writes bytes as base64.
pub(crate) fn ser_bytes<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode_base64(bytes))
}

/// Writes secret bytes as base64.
pub(crate) fn ser_secret_bytes<S: Serializer>(
    bytes: &Secret<Vec<u8>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode_base64(bytes.expose_secret()))
}

/// Writes an empty list as `null`, as Go does for a nil slice.
pub(crate) fn null_if_empty<S: Serializer, T: Serialize>(
    items: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    if items.is_empty() {
        s.serialize_none()
    } else {
        s.collect_seq(items)
    }
}

/// Writes an empty map as `null`, as Go does for a nil map.
pub(crate) fn null_if_empty_map<S: Serializer, V: Serialize>(
    map: &BTreeMap<String, V>,
    s: S,
) -> Result<S::Ok, S::Error> {
    if map.is_empty() {
        s.serialize_none()
    } else {
        let mut m = s.serialize_map(Some(map.len()))?;
        for (k, v) in map {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// `skip_serializing_if` for `bool` fields with Go's `omitempty`.
pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        assert_eq!(decode_base64("Y2VydA==\n").as_deref(), Ok(&b"cert"[..]));
        assert_eq!(decode_base64("Y2Vy\r\ndA==").as_deref(), Ok(&b"cert"[..]));
        // Go requires padding.
        assert!(decode_base64("Y2VydA").is_err());
        let err = decode_base64("s3cr3t!!").err().unwrap_or_default();
        assert!(!err.contains("s3cr3t"), "{err}");
        assert_eq!(encode_base64(b"cert"), "Y2VydA==");
    }
}
