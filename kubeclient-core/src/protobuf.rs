//! Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`), as kube-apiserver
//! speaks it to client-go's typed clients:
//!
//! - an object is the 4 bytes `k8s\0` followed by a `runtime.Unknown` message that carries the
//!   object's `apiVersion` and `kind` and the object's own message as bytes
//!   ([`decode_envelope`], [`encode_envelope`]);
//! - a list is such an object whose message has the list metadata in field 1 and the items in
//!   field 2 ([`decode_list`]);
//! - a watch stream is a sequence of frames, each a 4-byte big-endian length and a bare
//!   `metav1.WatchEvent` message whose object is itself an enveloped object
//!   ([`FrameDecoder`], [`decode_event`]);
//! - an error answer is an enveloped `metav1.Status` ([`decode_status`]).
//!
//! The generated API types implement [`Message`]; field values implement [`Value`]. Varints
//! and keys are prost's encoding primitives.

use std::borrow::Cow;
use std::fmt;

use bytes::{Buf, Bytes, BytesMut};
use prost::encoding::{decode_varint, encode_varint, encoded_len_varint};

pub use prost::encoding::WireType;

use crate::list::{ListMeta, ObjectList};
use crate::primitives::{
    ByteString, IntOrString, MicroTime, Quantity, RawJson, Str, Time, TypeInfo,
};
use crate::status::{ApiError, Status, StatusCause, StatusDetails};
use crate::watch::{Bookmark, WatchEvent};

/// The media type of Kubernetes' protobuf encoding.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The `Accept` header of a client that prefers protobuf and takes JSON from a server (or a
/// resource) that has no protobuf.
pub const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

/// The 4 bytes that start every enveloped object.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Bytes that are not the message they should be: the problem and the messages it was found
/// in, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    reason: Cow<'static, str>,
    within: Vec<&'static str>,
}

impl DecodeError {
    /// An error with `reason`.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        DecodeError {
            reason: reason.into(),
            within: Vec::new(),
        }
    }

    /// The same error, found inside a message named `name`.
    pub fn within(mut self, name: &'static str) -> Self {
        self.within.push(name);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)?;
        if !self.within.is_empty() {
            f.write_str(" (in ")?;
            for (i, name) in self.within.iter().rev().enumerate() {
                if i > 0 {
                    f.write_str(" > ")?;
                }
                f.write_str(name)?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

impl From<prost::DecodeError> for DecodeError {
    fn from(e: prost::DecodeError) -> Self {
        DecodeError::new(e.to_string())
    }
}

/// A protobuf message: a generated API type, or one of apimachinery's special types.
pub trait Message: Default {
    /// The message's name, for errors.
    const NAME: &'static str;
    /// Writes the message's fields (no length prefix).
    fn encode_fields(&self, buf: &mut Vec<u8>);
    /// The length of what [`Message::encode_fields`] writes.
    fn fields_len(&self) -> usize;
    /// Reads a message from exactly `buf`; fields it does not know are skipped.
    fn decode(buf: &[u8]) -> Result<Self, DecodeError>;
    /// Whether this is the zero value Go leaves out of JSON (only Go's zero time).
    fn is_zero(&self) -> bool {
        false
    }

    /// The message as bytes.
    fn encode_to_vec(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.fields_len());
        self.encode_fields(&mut buf);
        buf
    }
}

/// A field's value: how it is written after the field's key.
pub trait Value: Sized {
    /// The wire type of the value.
    const WIRE: WireType;
    /// Reads one value (after its key).
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError>;
    /// Writes the value (with its length, when length-delimited).
    fn encode_value(&self, buf: &mut Vec<u8>);
    /// The length of what [`Value::encode_value`] writes.
    fn value_len(&self) -> usize;
    /// Whether this is the zero value Go leaves out of JSON under `omitempty`.
    fn is_zero(&self) -> bool {
        false
    }
}

/// Reads a field's key: its number and wire type.
pub fn key(buf: &mut &[u8]) -> Result<(u32, WireType), DecodeError> {
    Ok(prost::encoding::decode_key(buf)?)
}

fn put_key(tag: u32, wire: WireType, buf: &mut Vec<u8>) {
    prost::encoding::encode_key(tag, wire, buf);
}

fn key_len(tag: u32) -> usize {
    prost::encoding::key_len(tag)
}

/// Reads a length and that many bytes.
pub fn len_delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    let len = decode_varint(buf)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|len| *len <= buf.len())
        .ok_or_else(|| {
            DecodeError::new(format!(
                "a length of {len} bytes runs past the {} bytes left",
                buf.len()
            ))
        })?;
    let (head, tail) = buf.split_at(len);
    *buf = tail;
    Ok(head)
}

fn advance(buf: &mut &[u8], n: usize) -> Result<(), DecodeError> {
    if buf.len() < n {
        return Err(DecodeError::new("a fixed-size value is cut short"));
    }
    *buf = &buf[n..];
    Ok(())
}

/// Skips a field this reader does not know.
pub fn skip(wire: WireType, buf: &mut &[u8]) -> Result<(), DecodeError> {
    match wire {
        WireType::Varint => decode_varint(buf).map(drop).map_err(Into::into),
        WireType::SixtyFourBit => advance(buf, 8),
        WireType::ThirtyTwoBit => advance(buf, 4),
        WireType::LengthDelimited => len_delimited(buf).map(drop),
        WireType::StartGroup | WireType::EndGroup => Err(DecodeError::new(
            "groups are not part of Kubernetes' protobuf",
        )),
    }
}

fn check(wire: WireType, want: WireType) -> Result<(), DecodeError> {
    if wire == want {
        Ok(())
    } else {
        Err(DecodeError::new(format!(
            "wire type {wire:?} where {want:?} was expected"
        )))
    }
}

/// Reads a field's value.
pub fn get<V: Value>(wire: WireType, buf: &mut &[u8]) -> Result<V, DecodeError> {
    check(wire, V::WIRE)?;
    V::decode_value(buf)
}

/// Reads a field's value; `None` for Go's zero value (a field Go leaves out of JSON under
/// `omitempty` but always writes in protobuf).
pub fn get_nonzero<V: Value>(wire: WireType, buf: &mut &[u8]) -> Result<Option<V>, DecodeError> {
    let value: V = get(wire, buf)?;
    Ok((!value.is_zero()).then_some(value))
}

// The readers below store a field's value in place. The generated `Message::decode` calls one
// per field: each is compiled once per value type and never inlined, so that a message's
// decoder stays a table of calls (the API types have thousands of fields; inlined, their
// decoders are most of the crate's machine code and build time).

/// Reads a field's value into `out`.
#[inline(never)]
pub fn set<V: Value>(wire: WireType, buf: &mut &[u8], out: &mut V) -> Result<(), DecodeError> {
    *out = get(wire, buf)?;
    Ok(())
}

/// Reads an optional field's value into `out`.
#[inline(never)]
pub fn set_some<V: Value>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Option<V>,
) -> Result<(), DecodeError> {
    *out = Some(get(wire, buf)?);
    Ok(())
}

/// Reads an optional field's value into `out`, boxed.
#[inline(never)]
pub fn set_box<V: Value>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Option<Box<V>>,
) -> Result<(), DecodeError> {
    *out = Some(Box::new(get(wire, buf)?));
    Ok(())
}

/// Reads an optional field's value into `out`; `None` for Go's zero value (see
/// [`get_nonzero`]).
#[inline(never)]
pub fn set_nonzero<V: Value>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Option<V>,
) -> Result<(), DecodeError> {
    *out = get_nonzero(wire, buf)?;
    Ok(())
}

/// Reads one element (or several packed) of an optional repeated field into `out`.
#[inline(never)]
pub fn push_some<V: Value>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Option<Vec<V>>,
) -> Result<(), DecodeError> {
    push(wire, buf, out.get_or_insert_with(Vec::new))
}

/// Reads one map entry into `out`.
#[inline(never)]
pub fn push_entry<K: Value + Default, V: Value + Default>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Vec<(K, V)>,
) -> Result<(), DecodeError> {
    out.push(entry(wire, buf)?);
    Ok(())
}

/// Reads one entry of a `map<string, string>` kept as a `BTreeMap` (an object's labels and
/// annotations) into `out`.
pub fn insert_entry(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Option<std::collections::BTreeMap<String, String>>,
) -> Result<(), DecodeError> {
    let (k, v) = entry::<String, String>(wire, buf)?;
    out.get_or_insert_with(Default::default).insert(k, v);
    Ok(())
}

/// Reads one element of a repeated field into `out`, or several when they come packed.
#[inline(never)]
pub fn push<V: Value>(
    wire: WireType,
    buf: &mut &[u8],
    out: &mut Vec<V>,
) -> Result<(), DecodeError> {
    if wire == WireType::LengthDelimited && V::WIRE != WireType::LengthDelimited {
        let mut packed = len_delimited(buf)?;
        while !packed.is_empty() {
            out.push(V::decode_value(&mut packed)?);
        }
        return Ok(());
    }
    out.push(get(wire, buf)?);
    Ok(())
}

/// Reads one map entry (a message with the key in field 1 and the value in field 2).
pub fn entry<K: Value + Default, V: Value + Default>(
    wire: WireType,
    buf: &mut &[u8],
) -> Result<(K, V), DecodeError> {
    check(wire, WireType::LengthDelimited)?;
    let mut entry = len_delimited(buf)?;
    let (mut k, mut v) = (K::default(), V::default());
    while !entry.is_empty() {
        match key(&mut entry)? {
            (1, wire) => k = get(wire, &mut entry)?,
            (2, wire) => v = get(wire, &mut entry)?,
            (_, wire) => skip(wire, &mut entry)?,
        }
    }
    Ok((k, v))
}

/// Writes a field.
#[inline(never)]
pub fn put<V: Value>(tag: u32, value: &V, buf: &mut Vec<u8>) {
    put_key(tag, V::WIRE, buf);
    value.encode_value(buf);
}

/// The length [`put`] writes.
#[inline(never)]
pub fn put_len<V: Value>(tag: u32, value: &V) -> usize {
    key_len(tag) + value.value_len()
}

/// Writes an optional field when it is there.
#[inline(never)]
pub fn put_opt<V: Value>(tag: u32, value: Option<&V>, buf: &mut Vec<u8>) {
    if let Some(value) = value {
        put(tag, value, buf);
    }
}

/// The length [`put_opt`] writes.
#[inline(never)]
pub fn put_opt_len<V: Value>(tag: u32, value: Option<&V>) -> usize {
    value.map_or(0, |v| put_len(tag, v))
}

/// Writes a repeated field, one key per element.
#[inline(never)]
pub fn put_each<V: Value>(tag: u32, values: &[V], buf: &mut Vec<u8>) {
    for value in values {
        put(tag, value, buf);
    }
}

/// The length [`put_each`] writes.
#[inline(never)]
pub fn put_each_len<V: Value>(tag: u32, values: &[V]) -> usize {
    values.iter().map(|v| put_len(tag, v)).sum()
}

/// Writes a map field, one entry message per key.
pub fn put_map<'a, K, V>(tag: u32, entries: impl Iterator<Item = (&'a K, &'a V)>, buf: &mut Vec<u8>)
where
    K: Value + 'a,
    V: Value + 'a,
{
    for (k, v) in entries {
        put_key(tag, WireType::LengthDelimited, buf);
        let len = put_len(1, k) + put_len(2, v);
        encode_varint(len as u64, buf);
        put(1, k, buf);
        put(2, v, buf);
    }
}

/// The length [`put_map`] writes.
pub fn put_map_len<'a, K, V>(tag: u32, entries: impl Iterator<Item = (&'a K, &'a V)>) -> usize
where
    K: Value + 'a,
    V: Value + 'a,
{
    entries
        .map(|(k, v)| {
            let len = put_len(1, k) + put_len(2, v);
            key_len(tag) + encoded_len_varint(len as u64) + len
        })
        .sum()
}

/// Writes a message that Go embeds in its parent (inline in JSON, a nested message in
/// protobuf): `fields` writes its fields, `len` is their length.
pub fn put_group(tag: u32, len: usize, buf: &mut Vec<u8>, fields: impl FnOnce(&mut Vec<u8>)) {
    put_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
    fields(buf);
}

/// The length [`put_group`] writes for fields of length `len`.
pub fn put_group_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// Reads the bytes of an embedded message (see [`put_group`]).
pub fn get_group<'a>(wire: WireType, buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    check(wire, WireType::LengthDelimited)?;
    len_delimited(buf)
}

/// Writes a string field.
pub fn put_str(tag: u32, value: &str, buf: &mut Vec<u8>) {
    put_key(tag, WireType::LengthDelimited, buf);
    put_bytes(value.as_bytes(), buf);
}

/// The length [`put_str`] writes.
pub fn put_str_len(tag: u32, value: &str) -> usize {
    key_len(tag) + bytes_len(value.len())
}

fn put_bytes(bytes: &[u8], buf: &mut Vec<u8>) {
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

fn bytes_len(len: usize) -> usize {
    encoded_len_varint(len as u64) + len
}

fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError::new(format!("a string is not UTF-8: {e}")))
}

impl Value for bool {
    const WIRE: WireType = WireType::Varint;
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(decode_varint(buf)? != 0)
    }
    fn encode_value(&self, buf: &mut Vec<u8>) {
        encode_varint(u64::from(*self), buf);
    }
    fn value_len(&self) -> usize {
        1
    }
    fn is_zero(&self) -> bool {
        !*self
    }
}

macro_rules! varint {
    ($t:ty) => {
        impl Value for $t {
            const WIRE: WireType = WireType::Varint;
            fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
                // Two's complement, as protobuf writes negative int32 and int64.
                Ok(decode_varint(buf)? as i64 as $t)
            }
            fn encode_value(&self, buf: &mut Vec<u8>) {
                encode_varint(i64::from(*self) as u64, buf);
            }
            fn value_len(&self) -> usize {
                encoded_len_varint(i64::from(*self) as u64)
            }
            fn is_zero(&self) -> bool {
                *self == 0
            }
        }
    };
}

varint!(i32);
varint!(i64);

impl Value for f64 {
    const WIRE: WireType = WireType::SixtyFourBit;
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        let bytes: [u8; 8] = buf
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| DecodeError::new("a double is cut short"))?;
        *buf = &buf[8..];
        Ok(f64::from_le_bytes(bytes))
    }
    fn encode_value(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.to_le_bytes());
    }
    fn value_len(&self) -> usize {
        8
    }
    fn is_zero(&self) -> bool {
        *self == 0.0
    }
}

macro_rules! string {
    ($t:ty) => {
        impl Value for $t {
            const WIRE: WireType = WireType::LengthDelimited;
            fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(utf8(len_delimited(buf)?)?.into())
            }
            fn encode_value(&self, buf: &mut Vec<u8>) {
                put_bytes(self.as_bytes(), buf);
            }
            fn value_len(&self) -> usize {
                bytes_len(self.len())
            }
            fn is_zero(&self) -> bool {
                self.is_empty()
            }
        }
    };
}

string!(Str);
string!(String);

impl Value for ByteString {
    const WIRE: WireType = WireType::LengthDelimited;
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(ByteString(len_delimited(buf)?.to_vec()))
    }
    fn encode_value(&self, buf: &mut Vec<u8>) {
        put_bytes(&self.0, buf);
    }
    fn value_len(&self) -> usize {
        bytes_len(self.0.len())
    }
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl<M: Message> Value for M {
    const WIRE: WireType = WireType::LengthDelimited;
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        M::decode(len_delimited(buf)?).map_err(|e| e.within(M::NAME))
    }
    fn encode_value(&self, buf: &mut Vec<u8>) {
        encode_varint(self.fields_len() as u64, buf);
        self.encode_fields(buf);
    }
    fn value_len(&self) -> usize {
        bytes_len(self.fields_len())
    }
    fn is_zero(&self) -> bool {
        Message::is_zero(self)
    }
}

/// A list that is one value, as a map's value: a message with the items in field 1
/// (`ExtraValue`, `map<string, ExtraValue>` in the `.proto` files).
impl<V: Value> Value for Vec<V> {
    const WIRE: WireType = WireType::LengthDelimited;
    fn decode_value(buf: &mut &[u8]) -> Result<Self, DecodeError> {
        let mut message = len_delimited(buf)?;
        let mut items = Vec::new();
        while !message.is_empty() {
            match key(&mut message)? {
                (1, wire) => push(wire, &mut message, &mut items)?,
                (_, wire) => skip(wire, &mut message)?,
            }
        }
        Ok(items)
    }
    fn encode_value(&self, buf: &mut Vec<u8>) {
        encode_varint(put_each_len(1, self) as u64, buf);
        put_each(1, self, buf);
    }
    fn value_len(&self) -> usize {
        bytes_len(put_each_len(1, self))
    }
}

/// `resource.Quantity`: `message Quantity { optional string string = 1; }`.
impl Message for Quantity {
    const NAME: &'static str = "Quantity";
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        put(1, &self.0, buf);
    }
    fn fields_len(&self) -> usize {
        put_len(1, &self.0)
    }
    fn decode(mut buf: &[u8]) -> Result<Self, DecodeError> {
        let mut q = Quantity::default();
        while !buf.is_empty() {
            match key(&mut buf)? {
                (1, wire) => q.0 = get(wire, &mut buf)?,
                (_, wire) => skip(wire, &mut buf)?,
            }
        }
        Ok(q)
    }
}

/// `intstr.IntOrString`: `type` (0 for an integer, 1 for a string) in field 1, the integer in
/// field 2, the string in field 3; Go writes all three.
impl Message for IntOrString {
    const NAME: &'static str = "IntOrString";
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        match self {
            IntOrString::Int(i) => {
                put(1, &0i64, buf);
                put(2, i, buf);
                put_str(3, "", buf);
            }
            IntOrString::String(s) => {
                put(1, &1i64, buf);
                put(2, &0i32, buf);
                put_str(3, s, buf);
            }
        }
    }
    fn fields_len(&self) -> usize {
        match self {
            IntOrString::Int(i) => put_len(1, &0i64) + put_len(2, i) + put_str_len(3, ""),
            IntOrString::String(s) => put_len(1, &1i64) + put_len(2, &0i32) + put_str_len(3, s),
        }
    }
    fn decode(mut buf: &[u8]) -> Result<Self, DecodeError> {
        let (mut kind, mut int, mut string) = (0i64, 0i32, String::new());
        while !buf.is_empty() {
            match key(&mut buf)? {
                (1, wire) => kind = get(wire, &mut buf)?,
                (2, wire) => int = get(wire, &mut buf)?,
                (3, wire) => string = get(wire, &mut buf)?,
                (_, wire) => skip(wire, &mut buf)?,
            }
        }
        match kind {
            0 => Ok(IntOrString::Int(int)),
            1 => Ok(IntOrString::String(string)),
            other => Err(DecodeError::new(format!(
                "IntOrString of unknown type {other}"
            ))),
        }
    }
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), as seconds since the Unix epoch.
const GO_ZERO_SECONDS: i64 = -62_135_596_800;

/// Reads a `Timestamp` message (seconds in field 1, nanoseconds in field 2); an empty one is
/// Go's zero time.
fn decode_timestamp(mut buf: &[u8]) -> Result<jiff::Timestamp, DecodeError> {
    if buf.is_empty() {
        return jiff::Timestamp::new(GO_ZERO_SECONDS, 0)
            .map_err(|e| DecodeError::new(e.to_string()));
    }
    let (mut seconds, mut nanos) = (0i64, 0i32);
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => seconds = get(wire, &mut buf)?,
            (2, wire) => nanos = get(wire, &mut buf)?,
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    jiff::Timestamp::new(seconds, nanos)
        .map_err(|e| DecodeError::new(format!("a time out of range: {e}")))
}

macro_rules! timestamp_message {
    ($t:ident, $nanos:expr) => {
        impl Message for $t {
            const NAME: &'static str = stringify!($t);
            fn encode_fields(&self, buf: &mut Vec<u8>) {
                put(1, &self.0.as_second(), buf);
                let nanos: i32 = $nanos(self.0.subsec_nanosecond());
                if nanos != 0 {
                    put(2, &nanos, buf);
                }
            }
            fn fields_len(&self) -> usize {
                let nanos: i32 = $nanos(self.0.subsec_nanosecond());
                put_len(1, &self.0.as_second()) + if nanos != 0 { put_len(2, &nanos) } else { 0 }
            }
            fn is_zero(&self) -> bool {
                self.is_go_zero()
            }
            fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
                let t = decode_timestamp(buf)?;
                let nanos: i32 = $nanos(t.subsec_nanosecond());
                let t = jiff::Timestamp::new(t.as_second(), nanos)
                    .map_err(|e| DecodeError::new(e.to_string()))?;
                Ok($t(t))
            }
        }

        impl $t {
            /// Whether this is Go's zero time (written as an empty message, and as `null` in JSON).
            pub fn is_go_zero(&self) -> bool {
                self.0.as_second() == GO_ZERO_SECONDS
            }
        }
    };
}

// `metav1.Time` keeps whole seconds on the wire; `metav1.MicroTime` microseconds.
timestamp_message!(Time, |_: i32| 0);
timestamp_message!(MicroTime, |n: i32| n - n % 1000);

/// `FieldsV1` and `RawExtension`: the JSON text as bytes in field 1.
impl Message for RawJson {
    const NAME: &'static str = "RawExtension";
    fn encode_fields(&self, buf: &mut Vec<u8>) {
        put_str(1, self.get(), buf);
    }
    fn fields_len(&self) -> usize {
        put_str_len(1, self.get())
    }
    fn decode(mut buf: &[u8]) -> Result<Self, DecodeError> {
        let mut raw: &[u8] = b"null";
        while !buf.is_empty() {
            match key(&mut buf)? {
                (1, wire) => {
                    check(wire, WireType::LengthDelimited)?;
                    raw = len_delimited(&mut buf)?;
                }
                (_, wire) => skip(wire, &mut buf)?,
            }
        }
        // Kept as Go keeps it; checked to be JSON when written as JSON.
        Ok(RawJson::unchecked(utf8(raw)?))
    }
}

/// An enveloped object: the `runtime.Unknown` after the magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The object's `apiVersion`.
    pub api_version: &'a str,
    /// The object's `kind`.
    pub kind: &'a str,
    /// The object's own message.
    pub raw: &'a [u8],
    /// `contentEncoding` (empty: none).
    pub content_encoding: &'a str,
    /// `contentType` (empty: protobuf).
    pub content_type: &'a str,
}

/// Whether `bytes` are an enveloped protobuf object (they start with `k8s\0`).
pub fn is_protobuf(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Reads the envelope of an object.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope<'_>, DecodeError> {
    let mut buf = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        DecodeError::new("the bytes do not start with Kubernetes' protobuf magic k8s\\0")
    })?;
    let mut envelope = Envelope {
        api_version: "",
        kind: "",
        raw: &[],
        content_encoding: "",
        content_type: "",
    };
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => {
                let mut meta = get_group(wire, &mut buf)?;
                while !meta.is_empty() {
                    match key(&mut meta)? {
                        (1, wire) => envelope.api_version = get_str(wire, &mut meta)?,
                        (2, wire) => envelope.kind = get_str(wire, &mut meta)?,
                        (_, wire) => skip(wire, &mut meta)?,
                    }
                }
            }
            (2, wire) => envelope.raw = get_group(wire, &mut buf)?,
            (3, wire) => envelope.content_encoding = get_str(wire, &mut buf)?,
            (4, wire) => envelope.content_type = get_str(wire, &mut buf)?,
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    if !envelope.content_encoding.is_empty() {
        return Err(DecodeError::new(format!(
            "content encoding {:?} is not supported",
            envelope.content_encoding
        )));
    }
    Ok(envelope)
}

fn get_str<'a>(wire: WireType, buf: &mut &'a [u8]) -> Result<&'a str, DecodeError> {
    utf8(get_group(wire, buf)?)
}

/// Writes `message` as an enveloped object of `api_version` and `kind`.
pub fn encode_envelope<M: Message>(api_version: &str, kind: &str, message: &M) -> Vec<u8> {
    let type_meta = put_str_len(1, api_version) + put_str_len(2, kind);
    let raw = message.fields_len();
    let total = put_group_len(1, type_meta)
        + put_group_len(2, raw)
        + put_str_len(3, "")
        + put_str_len(4, "");
    let mut buf = Vec::with_capacity(MAGIC.len() + total);
    buf.extend_from_slice(MAGIC);
    put_group(1, type_meta, &mut buf, |buf| {
        put_str(1, api_version, buf);
        put_str(2, kind, buf);
    });
    put_group(2, raw, &mut buf, |buf| message.encode_fields(buf));
    put_str(3, "", &mut buf);
    put_str(4, "", &mut buf);
    buf
}

/// Reads an object's own message (the envelope's `raw`) into `K`.
pub type Decoder<K> = fn(&[u8]) -> Result<K, DecodeError>;

/// How a type is read and written in protobuf: what a typed client uses when
/// [`Resource::protobuf`](crate::resource::Resource::protobuf) gives it one.
pub struct Codec<K> {
    /// Reads the object's own message (the envelope's `raw`).
    pub decode: Decoder<K>,
    /// Writes the object as an enveloped object, with its `apiVersion` and `kind`.
    pub encode: fn(&K) -> Vec<u8>,
}

impl<K> Clone for Codec<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Codec<K> {}

impl<K> fmt::Debug for Codec<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Codec")
    }
}

impl<K> Codec<K> {
    /// Reads an enveloped object (`k8s\0`, then the `runtime.Unknown` holding its message).
    pub fn decode_object(&self, bytes: &[u8]) -> Result<K, DecodeError> {
        (self.decode)(decode_envelope(bytes)?.raw)
    }
}

impl<K: Message + TypeInfo> Codec<K> {
    /// The codec of a generated type.
    pub fn of() -> Self {
        Codec {
            decode: K::decode,
            encode: |k| encode_envelope(K::API_VERSION, K::KIND, k),
        }
    }
}

/// Reads an enveloped object of type `M`.
pub fn decode_object<M: Message>(bytes: &[u8]) -> Result<M, DecodeError> {
    let envelope = decode_envelope(bytes)?;
    M::decode(envelope.raw).map_err(|e| e.within(M::NAME))
}

/// Reads an enveloped list: its metadata (field 1) and its items (field 2), each decoded
/// with `item`.
pub fn decode_list<K>(bytes: &[u8], item: Decoder<K>) -> Result<ObjectList<K>, DecodeError> {
    let envelope = decode_envelope(bytes)?;
    let mut buf = envelope.raw;
    let mut metadata = ListMeta::default();
    let mut items = Vec::new();
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => metadata = decode_list_meta(get_group(wire, &mut buf)?)?,
            (2, wire) => items.push(item(get_group(wire, &mut buf)?)?),
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    Ok(ObjectList { metadata, items })
}

/// A varint at the start of `buf`: its value and length; `None` while it is cut short.
fn peek_varint(buf: &[u8]) -> Result<Option<(u64, usize)>, DecodeError> {
    match buf.iter().take(10).position(|b| b & 0x80 == 0) {
        Some(end) => {
            let mut varint = &buf[..=end];
            Ok(Some((decode_varint(&mut varint)?, end + 1)))
        }
        None if buf.len() >= 10 => Err(DecodeError::new("a varint runs over 10 bytes")),
        None => Ok(None),
    }
}

/// The key and size of the field at the start of `buf`, once enough of it has arrived to
/// tell: its number, wire type, the length of its key (and length prefix), and of its value.
struct FieldHeader {
    tag: u32,
    wire: WireType,
    header: usize,
    value: usize,
}

fn peek_field(buf: &[u8]) -> Result<Option<FieldHeader>, DecodeError> {
    let Some((_, key_len)) = peek_varint(buf)? else {
        return Ok(None);
    };
    let (tag, wire) = key(&mut &buf[..key_len])?;
    let rest = &buf[key_len..];
    let (header, value) = match wire {
        WireType::Varint => match peek_varint(rest)? {
            Some((_, len)) => (key_len, len),
            None => return Ok(None),
        },
        WireType::SixtyFourBit => (key_len, 8),
        WireType::ThirtyTwoBit => (key_len, 4),
        WireType::LengthDelimited => match peek_varint(rest)? {
            Some((len, len_len)) => {
                let len = usize::try_from(len)
                    .map_err(|_| DecodeError::new(format!("a length of {len} bytes")))?;
                (key_len + len_len, len)
            }
            None => return Ok(None),
        },
        WireType::StartGroup | WireType::EndGroup => {
            return Err(DecodeError::new(
                "groups are not part of Kubernetes' protobuf",
            ));
        }
    };
    Ok(Some(FieldHeader {
        tag,
        wire,
        header,
        value,
    }))
}

/// Where a [`ListDecoder`] is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListPart {
    /// Before the 4 bytes of magic.
    Magic,
    /// Among the envelope's fields.
    Envelope,
    /// Inside the envelope's `raw` field, the list, with this many of its bytes to come.
    List { left: usize },
}

/// Reads an enveloped list, as [`decode_list`] does, while its bytes arrive: each item is
/// decoded as soon as it is whole and its bytes are let go, so the body is never held whole
/// and decoding overlaps the transfer.
pub struct ListDecoder<K> {
    buffer: BytesMut,
    item: Decoder<K>,
    part: ListPart,
    list: ObjectList<K>,
}

impl<K> fmt::Debug for ListDecoder<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListDecoder")
            .field("buffered", &self.buffer.len())
            .field("part", &self.part)
            .field("items", &self.list.items.len())
            .finish()
    }
}

impl<K> ListDecoder<K> {
    /// A decoder reading each item with `item`.
    pub fn new(item: Decoder<K>) -> Self {
        ListDecoder {
            buffer: BytesMut::new(),
            item,
            part: ListPart::Magic,
            list: ObjectList {
                metadata: ListMeta::default(),
                items: Vec::new(),
            },
        }
    }

    /// Takes the next bytes of the body and decodes every item they complete.
    pub fn push(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        self.buffer.extend_from_slice(data);
        self.decode_ready()
    }

    /// Decodes what the buffer holds whole.
    fn decode_ready(&mut self) -> Result<(), DecodeError> {
        loop {
            match self.part {
                ListPart::Magic => {
                    let Some(magic) = self.buffer.get(..MAGIC.len()) else {
                        return Ok(());
                    };
                    if magic != MAGIC {
                        return Err(DecodeError::new(
                            "the bytes do not start with Kubernetes' protobuf magic k8s\\0",
                        ));
                    }
                    self.buffer.advance(MAGIC.len());
                    self.part = ListPart::Envelope;
                }
                ListPart::Envelope => {
                    let Some(field) = peek_field(&self.buffer)? else {
                        return Ok(());
                    };
                    if (field.tag, field.wire) == (2, WireType::LengthDelimited) {
                        // The list itself: read as it comes.
                        self.buffer.advance(field.header);
                        self.part = ListPart::List { left: field.value };
                        continue;
                    }
                    let size = field.header + field.value;
                    if self.buffer.len() < size {
                        return Ok(());
                    }
                    let whole = self.buffer.split_to(size);
                    if field.tag == 3 {
                        check(field.wire, WireType::LengthDelimited)?;
                        let encoding = utf8(&whole[field.header..])?;
                        if !encoding.is_empty() {
                            return Err(DecodeError::new(format!(
                                "content encoding {encoding:?} is not supported"
                            )));
                        }
                    }
                }
                ListPart::List { left: 0 } => self.part = ListPart::Envelope,
                ListPart::List { left } => {
                    let within = &self.buffer[..self.buffer.len().min(left)];
                    let Some(field) = peek_field(within)? else {
                        if self.buffer.len() >= left {
                            return Err(DecodeError::new("a field runs past the end of the list"));
                        }
                        return Ok(());
                    };
                    let size = field.header + field.value;
                    if size > left {
                        return Err(DecodeError::new(format!(
                            "a field of {size} bytes runs past the {left} bytes left of the list"
                        )));
                    }
                    if self.buffer.len() < size {
                        return Ok(());
                    }
                    let whole = self.buffer.split_to(size);
                    let value = &whole[field.header..];
                    match field.tag {
                        1 => {
                            check(field.wire, WireType::LengthDelimited)?;
                            self.list.metadata = decode_list_meta(value)?;
                        }
                        2 => {
                            check(field.wire, WireType::LengthDelimited)?;
                            self.list.items.push((self.item)(value)?);
                        }
                        _ => {}
                    }
                    self.part = ListPart::List { left: left - size };
                }
            }
        }
    }

    /// How many items have been decoded so far.
    pub fn items(&self) -> usize {
        self.list.items.len()
    }

    /// At the end of the body: the list, or an error if the body stopped short of it.
    pub fn finish(self) -> Result<ObjectList<K>, DecodeError> {
        match self.part {
            ListPart::Envelope if self.buffer.is_empty() => Ok(self.list),
            ListPart::Magic => Err(DecodeError::new(
                "the bytes do not start with Kubernetes' protobuf magic k8s\\0",
            )),
            ListPart::List { left } => Err(DecodeError::new(format!(
                "the body ends {} bytes short of the list's end",
                left - self.buffer.len().min(left)
            ))),
            ListPart::Envelope => Err(DecodeError::new(format!(
                "the body ends inside a field of the envelope ({} bytes left)",
                self.buffer.len()
            ))),
        }
    }
}

/// `metav1.ListMeta`: resourceVersion 2, continue 3, remainingItemCount 4.
fn decode_list_meta(mut buf: &[u8]) -> Result<ListMeta, DecodeError> {
    let mut meta = ListMeta::default();
    while !buf.is_empty() {
        match key(&mut buf)? {
            (2, wire) => meta.resource_version = get_nonzero(wire, &mut buf)?,
            (3, wire) => meta.continue_token = get_nonzero(wire, &mut buf)?,
            (4, wire) => meta.remaining_item_count = Some(get(wire, &mut buf)?),
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    Ok(meta)
}

/// Reads an enveloped `metav1.Status` (the body of an error answer, or a watch's `ERROR`).
pub fn decode_status(bytes: &[u8]) -> Result<Status, DecodeError> {
    let envelope = decode_envelope(bytes)?;
    if envelope.kind != "Status" {
        return Err(DecodeError::new(format!(
            "a {} where a Status was expected",
            envelope.kind
        )));
    }
    let mut buf = envelope.raw;
    let mut status = Status::default();
    while !buf.is_empty() {
        match key(&mut buf)? {
            (2, wire) => status.status = get(wire, &mut buf)?,
            (3, wire) => status.message = get(wire, &mut buf)?,
            (4, wire) => status.reason = get(wire, &mut buf)?,
            (5, wire) => status.details = Some(decode_details(get_group(wire, &mut buf)?)?),
            (6, wire) => {
                let code: i32 = get(wire, &mut buf)?;
                status.code = u16::try_from(code).unwrap_or(0);
            }
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    Ok(status)
}

/// `metav1.StatusDetails`: name 1, group 2, kind 3, causes 4, retryAfterSeconds 5, uid 6.
fn decode_details(mut buf: &[u8]) -> Result<StatusDetails, DecodeError> {
    let mut details = StatusDetails::default();
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => details.name = get(wire, &mut buf)?,
            (2, wire) => details.group = get(wire, &mut buf)?,
            (3, wire) => details.kind = get(wire, &mut buf)?,
            (4, wire) => {
                let mut cause_buf = get_group(wire, &mut buf)?;
                let mut cause = StatusCause::default();
                while !cause_buf.is_empty() {
                    match key(&mut cause_buf)? {
                        (1, wire) => cause.reason = get(wire, &mut cause_buf)?,
                        (2, wire) => cause.message = get(wire, &mut cause_buf)?,
                        (3, wire) => cause.field = get(wire, &mut cause_buf)?,
                        (_, wire) => skip(wire, &mut cause_buf)?,
                    }
                }
                details.causes.push(cause);
            }
            (5, wire) => {
                let seconds: i32 = get(wire, &mut buf)?;
                details.retry_after_seconds = u32::try_from(seconds).ok();
            }
            (6, wire) => details.uid = get(wire, &mut buf)?,
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    Ok(details)
}

/// Reads one watch frame of a watch on `path`: a bare `metav1.WatchEvent` (type in field 1,
/// the object in field 2 as a `RawExtension` holding an enveloped object), the object decoded
/// with `object`.
pub fn decode_event<K>(
    frame: &[u8],
    path: &str,
    object: Decoder<K>,
) -> Result<WatchEvent<K>, DecodeError> {
    let mut buf = frame;
    let (mut kind, mut raw): (&str, &[u8]) = ("", &[]);
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => kind = get_str(wire, &mut buf)?,
            (2, wire) => {
                let mut extension = get_group(wire, &mut buf)?;
                while !extension.is_empty() {
                    match key(&mut extension)? {
                        (1, wire) => raw = get_group(wire, &mut extension)?,
                        (_, wire) => skip(wire, &mut extension)?,
                    }
                }
            }
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    let typed = |raw: &[u8]| -> Result<K, DecodeError> { object(decode_envelope(raw)?.raw) };
    Ok(match kind {
        "ADDED" => WatchEvent::Added(typed(raw)?),
        "MODIFIED" => WatchEvent::Modified(typed(raw)?),
        "DELETED" => WatchEvent::Deleted(typed(raw)?),
        "BOOKMARK" => WatchEvent::Bookmark(decode_bookmark(decode_envelope(raw)?.raw)?),
        "ERROR" => WatchEvent::Error(Box::new(ApiError {
            verb: "WATCH".into(),
            path: path.to_string(),
            status: decode_status(raw)?,
        })),
        other => {
            return Err(DecodeError::new(format!(
                "a watch event of unknown type {other:?}"
            )));
        }
    })
}

/// A bookmark's object: only its metadata (field 1 of every object) is read:
/// `resourceVersion` (6) and `annotations` (12).
fn decode_bookmark(mut buf: &[u8]) -> Result<Bookmark, DecodeError> {
    let mut bookmark = Bookmark::default();
    while !buf.is_empty() {
        match key(&mut buf)? {
            (1, wire) => {
                let mut meta = get_group(wire, &mut buf)?;
                while !meta.is_empty() {
                    match key(&mut meta)? {
                        (6, wire) => bookmark.resource_version = get(wire, &mut meta)?,
                        (12, wire) => {
                            let (k, v) = entry::<String, String>(wire, &mut meta)?;
                            bookmark.annotations.insert(k, v);
                        }
                        (_, wire) => skip(wire, &mut meta)?,
                    }
                }
            }
            (_, wire) => skip(wire, &mut buf)?,
        }
    }
    Ok(bookmark)
}

/// Splits a protobuf watch stream into frames: a 4-byte big-endian length, then that many
/// bytes. Bytes arrive in chunks of any size; a frame longer than the limit is an error.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder refusing frames over `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buffer: BytesMut::new(),
            max_frame,
        }
    }

    /// Adds bytes received.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole frame, if one has arrived (without copying it).
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let Some(header) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len > self.max_frame {
            return Err(DecodeError::new(format!(
                "a watch frame of {len} bytes is over the limit of {} bytes",
                self.max_frame
            )));
        }
        if self.buffer.len() < 4 + len {
            return Ok(None);
        }
        self.buffer.advance(4);
        Ok(Some(self.buffer.split_to(len).freeze()))
    }

    /// At the end of the stream: an error if part of a frame is left.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.buffer.len() {
            0 => Ok(()),
            left => Err(DecodeError::new(format!(
                "the watch stream ended inside a frame ({left} bytes left)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_strings_round_trip() {
        let mut buf = Vec::new();
        put(1, &Str::from("name"), &mut buf);
        put(2, &-5i32, &mut buf);
        put(3, &i64::MAX, &mut buf);
        put(4, &true, &mut buf);
        put(5, &2.5f64, &mut buf);
        let mut b = buf.as_slice();
        assert_eq!(key(&mut b).expect("ok"), (1, WireType::LengthDelimited));
        assert_eq!(
            get::<Str>(WireType::LengthDelimited, &mut b).expect("ok"),
            "name"
        );
        let (_, w) = key(&mut b).expect("ok");
        assert_eq!(get::<i32>(w, &mut b).expect("ok"), -5);
        let (_, w) = key(&mut b).expect("ok");
        assert_eq!(get::<i64>(w, &mut b).expect("ok"), i64::MAX);
        let (_, w) = key(&mut b).expect("ok");
        assert!(get::<bool>(w, &mut b).expect("ok"));
        let (_, w) = key(&mut b).expect("ok");
        assert_eq!(get::<f64>(w, &mut b).expect("ok"), 2.5);
        assert!(b.is_empty());
    }

    #[test]
    fn lengths_are_what_is_written() {
        let values = [Str::from(""), Str::from("x".repeat(200))];
        for v in &values {
            let mut buf = Vec::new();
            put(7, v, &mut buf);
            assert_eq!(buf.len(), put_len(7, v));
        }
        let mut buf = Vec::new();
        let q = IntOrString::String("50%".into());
        put(3, &q, &mut buf);
        assert_eq!(buf.len(), put_len(3, &q));
    }

    #[test]
    fn a_truncated_or_wrong_value_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        put(1, &Str::from("hello"), &mut buf);
        for cut in 0..buf.len() {
            let mut b = &buf[..cut];
            let result = key(&mut b).and_then(|(_, w)| get::<Str>(w, &mut b));
            assert!(result.is_err(), "cut at {cut}");
        }
        let mut b = buf.as_slice();
        let (_, w) = key(&mut b).expect("ok");
        let e = get::<i64>(w, &mut b).expect_err("an error");
        assert!(e.to_string().contains("wire type"), "{e}");
        let e = decode_envelope(b"{\"kind\":\"Pod\"}").expect_err("an error");
        assert!(e.to_string().contains("magic"), "{e}");
    }

    #[test]
    fn int_or_string_time_and_quantity() {
        for v in [IntOrString::Int(8080), IntOrString::String("http".into())] {
            assert_eq!(IntOrString::decode(&v.encode_to_vec()).expect("ok"), v);
        }
        let q = Quantity("100m".into());
        assert_eq!(Quantity::decode(&q.encode_to_vec()).expect("ok"), q);
        let t: Time = serde_json::from_str("\"2026-11-29T10:00:00Z\"").expect("ok");
        assert_eq!(Time::decode(&t.encode_to_vec()).expect("ok"), t);
        let zero = Time::decode(&[]).expect("ok");
        assert!(zero.is_go_zero());
        let m: MicroTime = serde_json::from_str("\"2026-11-29T10:00:00.123456Z\"").expect("ok");
        assert_eq!(MicroTime::decode(&m.encode_to_vec()).expect("ok"), m);
    }

    #[test]
    fn envelopes_round_trip() {
        let q = Quantity("1Gi".into());
        let bytes = encode_envelope("v1", "Quantity", &q);
        assert!(is_protobuf(&bytes));
        let envelope = decode_envelope(&bytes).expect("ok");
        assert_eq!((envelope.api_version, envelope.kind), ("v1", "Quantity"));
        assert_eq!(decode_object::<Quantity>(&bytes).expect("ok"), q);
    }

    #[test]
    fn watch_frames_split_across_chunks() {
        let mut stream = Vec::new();
        for payload in [&b"abc"[..], &b""[..], &[7u8; 300][..]] {
            stream.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            stream.extend_from_slice(payload);
        }
        let mut decoder = FrameDecoder::new(1000);
        let mut frames = Vec::new();
        for chunk in stream.chunks(5) {
            decoder.push(chunk);
            while let Some(frame) = decoder.next_frame().expect("ok") {
                frames.push(frame);
            }
        }
        decoder.finish().expect("ok");
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2].len(), 300);
        let mut small = FrameDecoder::new(10);
        small.push(&stream[..20]);
        small.next_frame().expect("ok");
        small.next_frame().expect("ok");
        assert!(small.next_frame().is_err());
        let mut cut = FrameDecoder::new(1000);
        cut.push(&stream[..6]);
        cut.next_frame().expect("ok");
        assert!(cut.finish().is_err());
    }

    /// A list's own message, already written: list metadata, items and an unknown field.
    #[derive(Default)]
    struct WrittenList(Vec<u8>);

    impl Message for WrittenList {
        const NAME: &'static str = "WrittenList";
        fn encode_fields(&self, buf: &mut Vec<u8>) {
            buf.extend_from_slice(&self.0);
        }
        fn fields_len(&self) -> usize {
            self.0.len()
        }
        fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
            Ok(WrittenList(buf.to_vec()))
        }
    }

    fn quantity_list(n: usize) -> Vec<u8> {
        let mut list = Vec::new();
        let meta = put_str_len(2, "42") + put_str_len(3, "next");
        put_group(1, meta, &mut list, |buf| {
            put_str(2, "42", buf);
            put_str(3, "next", buf);
        });
        for i in 0..n {
            put(2, &Quantity(format!("{i}Mi").into()), &mut list);
        }
        put(9, &7i64, &mut list);
        encode_envelope("v1", "QuantityList", &WrittenList(list))
    }

    #[test]
    fn a_list_read_as_it_arrives_equals_the_list_read_whole() {
        let bytes = quantity_list(300);
        let whole = decode_list(&bytes, Quantity::decode).expect("whole");
        assert_eq!(whole.items.len(), 300);
        assert_eq!(whole.metadata.resource_version.as_deref(), Some("42"));
        for chunk in [1, 2, 3, 7, 64, 1000, bytes.len()] {
            let mut decoder = ListDecoder::new(Quantity::decode);
            for part in bytes.chunks(chunk) {
                decoder.push(part).expect("push");
            }
            let streamed = decoder.finish().expect("finish");
            assert_eq!(streamed.items, whole.items, "chunks of {chunk}");
            assert_eq!(streamed.metadata, whole.metadata, "chunks of {chunk}");
        }
        // Items are decoded before the body ends.
        let mut decoder = ListDecoder::new(Quantity::decode);
        decoder.push(&bytes[..bytes.len() / 2]).expect("half");
        assert!(decoder.items() > 100, "{decoder:?}");
        // An empty list, and an envelope without a list.
        let empty = quantity_list(0);
        let mut decoder = ListDecoder::new(Quantity::decode);
        decoder.push(&empty).expect("empty");
        assert!(decoder.finish().expect("empty list").items.is_empty());
        let mut decoder = ListDecoder::<Quantity>::new(Quantity::decode);
        decoder.push(MAGIC).expect("magic only");
        assert!(decoder.finish().expect("no list").items.is_empty());
    }

    #[test]
    fn a_list_cut_short_or_damaged_is_an_error_not_a_panic() {
        let bytes = quantity_list(20);
        for cut in 0..bytes.len() {
            let mut decoder = ListDecoder::new(Quantity::decode);
            let streamed = decoder.push(&bytes[..cut]).and_then(|()| decoder.finish());
            // The same answer as reading the cut bytes whole (which is an error, unless the cut
            // falls between the envelope's last fields).
            let whole = decode_list(&bytes[..cut], Quantity::decode);
            assert_eq!(streamed.is_ok(), whole.is_ok(), "cut at {cut}");
            let mut damaged = bytes.clone();
            damaged[cut] ^= 0x5a;
            let mut decoder = ListDecoder::new(Quantity::decode);
            let streamed = decoder.push(&damaged).and_then(|()| decoder.finish());
            if let (Ok(streamed), Ok(whole)) = (streamed, decode_list(&damaged, Quantity::decode)) {
                assert_eq!(streamed.items, whole.items, "damaged at {cut}");
            }
        }
        let mut decoder = ListDecoder::<Quantity>::new(Quantity::decode);
        assert!(decoder.push(b"{\"kind\"").is_err(), "JSON is not protobuf");
    }

    #[cfg(feature = "api-core")]
    #[test]
    fn a_pod_round_trips_and_damaged_bytes_are_errors_not_panics() {
        use crate::api::core::v1::Pod;
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"},
                "creationTimestamp": "2026-11-29T10:00:00Z",
                "managedFields": [{"manager": "m", "operation": "Apply", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {}}, "time": "2026-11-29T10:00:00Z"}]},
            "spec": {"containers": [{"name": "app", "image": "i", "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "100m"}},
                "readinessProbe": {"httpGet": {"port": "http", "path": "/"}}}],
                "volumes": [{"name": "v", "configMap": {"name": "c"}}],
                "securityContext": {"supplementalGroups": [1, -2]}},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}]}
        }))
        .expect("a pod");
        let codec = Codec::<Pod>::of();
        let bytes = (codec.encode)(&pod);
        let again = decode_object::<Pod>(&bytes).expect("decodes");
        assert_eq!(again, pod);
        // Every cut and every flipped byte: an error or some pod, never a panic.
        for cut in 0..bytes.len() {
            let _ = decode_object::<Pod>(&bytes[..cut]);
            let mut damaged = bytes.clone();
            damaged[cut] ^= 0x5a;
            let _ = decode_object::<Pod>(&damaged);
        }
    }
}
