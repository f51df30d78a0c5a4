//! Watch framing: the API server streams a watch as newline-delimited JSON events
//! (`{"type":"ADDED","object":{...}}`), split across chunks wherever the network pleases.
//! [`FrameDecoder`] reassembles whole lines whatever the chunk boundaries, and refuses a line
//! longer than its limit instead of buffering without bound; [`decode_event`] turns a line
//! into a typed [`WatchEvent`] (an `ERROR` event carries a Status, e.g. 410 Expired).
//!
//! A `BOOKMARK` event's object carries only `metadata.resourceVersion` (and annotations such as
//! [`INITIAL_EVENTS_END_ANNOTATION`]), whatever the kind: it is decoded as a [`Bookmark`], never
//! as the watched type, so a type with required fields still reads bookmarks.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::status::{ApiError, Status};

/// The default limit on one event's size: generous for the largest objects (etcd's default
/// request limit is 1.5 MiB; a watch event wraps one object).
pub const DEFAULT_MAX_FRAME: usize = 16 << 20;

/// Why a watch stream could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// One event is larger than the configured limit.
    #[error("a watch event exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The stream ended in the middle of an event.
    #[error("the watch stream ended inside an event ({0} bytes unread)")]
    Truncated(usize),
    /// An event is not valid JSON of the expected shape. The message gives the position and
    /// the kind of problem, never the event's content.
    #[error("a watch event could not be decoded: {0}")]
    Decode(String),
    /// An event of a type Kubernetes does not define.
    #[error("a watch event has the unknown type {0:?}")]
    UnknownType(String),
    /// Nothing arrived on the stream (no event, no bookmark, no byte) for this long: the
    /// connection is presumed dead.
    #[error("nothing received for {0:?}; the watch is presumed dead")]
    Idle(Duration),
}

/// The annotation the API server sets on the bookmark that ends the initial events of a watch
/// started with `sendInitialEvents=true` (a streaming list, "WatchList").
pub const INITIAL_EVENTS_END_ANNOTATION: &str = "k8s.io/initial-events-end";

/// A `BOOKMARK` event: a progress marker carrying a resourceVersion to resume from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bookmark {
    /// `metadata.resourceVersion`: every change up to here has been sent.
    pub resource_version: String,
    /// `metadata.annotations`, e.g. [`INITIAL_EVENTS_END_ANNOTATION`].
    pub annotations: BTreeMap<String, String>,
}

impl Bookmark {
    /// Whether this bookmark ends the initial events of a streaming list.
    pub fn is_initial_events_end(&self) -> bool {
        self.annotations
            .get(INITIAL_EVENTS_END_ANNOTATION)
            .is_some_and(|v| v == "true")
    }
}

#[derive(Deserialize)]
struct BookmarkObject {
    #[serde(default)]
    metadata: BookmarkMeta,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookmarkMeta {
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// Reassembles newline-delimited frames from arbitrary chunks.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    /// How far into `buf` we already know there is no newline.
    scanned: usize,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder refusing frames longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            scanned: 0,
            max_frame,
        }
    }

    /// Appends a chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame (without its newline; blank lines are skipped), `None` until one is
    /// complete, or an error once the incomplete frame is longer than the limit.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, WatchError> {
        loop {
            let Some(offset) = memchr::memchr(b'\n', &self.buf[self.scanned..]) else {
                self.scanned = self.buf.len();
                if self.buf.len() > self.max_frame {
                    return Err(WatchError::FrameTooLarge {
                        limit: self.max_frame,
                    });
                }
                return Ok(None);
            };
            let end = self.scanned + offset;
            self.scanned = 0;
            if end > self.max_frame {
                return Err(WatchError::FrameTooLarge {
                    limit: self.max_frame,
                });
            }
            let mut line = self.buf.split_to(end + 1);
            line.truncate(end);
            if line.ends_with(b"\r") {
                line.truncate(end - 1);
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(line.freeze()));
        }
    }

    /// Called at the end of the stream: the last frame may lack its newline (a complete JSON
    /// document is accepted); anything else left over is a truncated event.
    pub fn finish(&mut self) -> Result<Option<Bytes>, WatchError> {
        let rest = self.buf.split().freeze();
        self.scanned = 0;
        if rest.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&rest).is_ok() {
            return Ok(Some(rest));
        }
        Err(WatchError::Truncated(rest.remaining()))
    }
}

/// One watch event.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent<K> {
    /// An object was created (or, at the start of a watch, already existed).
    Added(K),
    /// An object changed.
    Modified(K),
    /// An object was deleted; its last state.
    Deleted(K),
    /// A progress marker (only the metadata of the object is read).
    Bookmark(Bookmark),
    /// The server ended the watch with an error, e.g. 410 Expired for a too-old
    /// resourceVersion.
    Error(Box<ApiError>),
}

fn decode_error(e: &serde_json::Error) -> WatchError {
    WatchError::Decode(format!(
        "{:?} error at line {} column {}",
        e.classify(),
        e.line(),
        e.column()
    ))
}

/// The members of an event.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Member {
    Type,
    Object,
    #[serde(other)]
    Other,
}

/// An event's object, decoded as its type says.
enum Decoded<K> {
    Object(K),
    Bookmark(BookmarkObject),
    Status(Status),
    /// The object came before the type (the server writes the type first), or the type is
    /// unknown: kept raw until the type is known.
    Raw(Box<serde_json::value::RawValue>),
}

/// Decodes an object into what the event type `kind` says it is: the one place that maps a
/// type to its object, used in the single pass and for an object that came before its type.
struct ObjectSeed<'k, K> {
    kind: Option<&'k str>,
    object: std::marker::PhantomData<K>,
}

impl<'de, K: DeserializeOwned> serde::de::DeserializeSeed<'de> for ObjectSeed<'_, K> {
    type Value = Decoded<K>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Decoded<K>, D::Error> {
        Ok(match self.kind {
            Some("ADDED" | "MODIFIED" | "DELETED") => Decoded::Object(K::deserialize(d)?),
            Some("BOOKMARK") => Decoded::Bookmark(BookmarkObject::deserialize(d)?),
            Some("ERROR") => Decoded::Status(Status::deserialize(d)?),
            _ => Decoded::Raw(Deserialize::deserialize(d)?),
        })
    }
}

/// Reads an event in one pass: once `type` is read, `object` is decoded straight into the
/// type it names, without first collecting it as raw JSON.
struct EventVisitor<K>(std::marker::PhantomData<K>);

impl<'de, K: DeserializeOwned> serde::de::Visitor<'de> for EventVisitor<K> {
    type Value = (Option<String>, Option<Decoded<K>>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a watch event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind: Option<String> = None;
        let mut object = None;
        while let Some(member) = map.next_key::<Member>()? {
            match member {
                Member::Type => kind = Some(map.next_value()?),
                Member::Object => {
                    object = Some(map.next_value_seed(ObjectSeed {
                        kind: kind.as_deref(),
                        object: std::marker::PhantomData,
                    })?)
                }
                Member::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok((kind, object))
    }
}

/// Decodes one frame. `path` names the watch in an `ERROR` event's [`ApiError`].
pub fn decode_event<K: DeserializeOwned>(
    frame: &[u8],
    path: &str,
) -> Result<WatchEvent<K>, WatchError> {
    use serde::Deserializer as _;
    use serde::de::DeserializeSeed as _;
    let mut de = serde_json::Deserializer::from_slice(frame);
    let (kind, object) = de
        .deserialize_map(EventVisitor::<K>(std::marker::PhantomData))
        .and_then(|decoded| de.end().map(|()| decoded))
        .map_err(|e| decode_error(&e))?;
    let kind = kind.ok_or_else(|| WatchError::Decode("the event has no type".into()))?;
    let object =
        object.ok_or_else(|| WatchError::Decode(format!("the {kind} event has no object")))?;
    // An object read before its type is decoded now, as the type says.
    let object = match object {
        Decoded::Raw(raw) => ObjectSeed {
            kind: Some(&kind),
            object: std::marker::PhantomData,
        }
        .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
        .map_err(|e| decode_error(&e))?,
        decoded => decoded,
    };
    Ok(match object {
        Decoded::Object(o) if kind == "ADDED" => WatchEvent::Added(o),
        Decoded::Object(o) if kind == "MODIFIED" => WatchEvent::Modified(o),
        Decoded::Object(o) => WatchEvent::Deleted(o),
        Decoded::Bookmark(object) => WatchEvent::Bookmark(Bookmark {
            resource_version: object.metadata.resource_version.unwrap_or_default(),
            annotations: object.metadata.annotations.unwrap_or_default(),
        }),
        Decoded::Status(status) => WatchEvent::Error(Box::new(ApiError {
            verb: "WATCH".into(),
            path: path.to_string(),
            status,
        })),
        // Still raw: a type that is none of the above.
        Decoded::Raw(_) => return Err(WatchError::UnknownType(kind)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_before_its_type_and_unknown_members_still_decode() {
        let frame =
            br#"{"object":{"metadata":{"name":"a"}},"extra":[1,{"x":2}],"type":"MODIFIED"}"#;
        let event = decode_event::<serde_json::Value>(frame, "/x").expect("decodes");
        assert!(matches!(event, WatchEvent::Modified(ref o) if o["metadata"]["name"] == "a"));
        let frame = br#"{"object":{"metadata":{"resourceVersion":"7"}},"type":"BOOKMARK"}"#;
        let event = decode_event::<serde_json::Value>(frame, "/x").expect("bookmark");
        assert!(matches!(event, WatchEvent::Bookmark(ref b) if b.resource_version == "7"));
        let err =
            decode_event::<serde_json::Value>(br#"{"object":{}}"#, "/x").expect_err("no type");
        assert!(err.to_string().contains("no type"), "{err}");
        let err =
            decode_event::<serde_json::Value>(br#"{"type":"ADDED"}"#, "/x").expect_err("no object");
        assert!(err.to_string().contains("no object"), "{err}");
        let err = decode_event::<serde_json::Value>(br#"{"type":"ADDED","object":{}} x"#, "/x")
            .expect_err("trailing");
        assert!(matches!(err, WatchError::Decode(_)), "{err}");
    }

    const EVENTS: &str = concat!(
        r#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}"#,
        "\n",
        r#"{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}"#,
        "\r\n\n",
        r#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"3"}}}"#,
        "\n",
        r#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#,
        "\n",
    );

    fn frames_with_chunk_size(input: &[u8], size: usize) -> Vec<Bytes> {
        let mut decoder = FrameDecoder::new(1024);
        let mut frames = Vec::new();
        for chunk in input.chunks(size) {
            decoder.push(chunk);
            while let Some(frame) = decoder.next_frame().expect("frame within limit") {
                frames.push(frame);
            }
        }
        frames.extend(decoder.finish().expect("clean end"));
        frames
    }

    #[test]
    fn frames_are_the_same_whatever_the_chunk_boundaries() {
        let whole = frames_with_chunk_size(EVENTS.as_bytes(), EVENTS.len());
        assert_eq!(whole.len(), 4);
        for size in 1..40 {
            assert_eq!(
                frames_with_chunk_size(EVENTS.as_bytes(), size),
                whole,
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn events_decode_into_types_and_errors_into_api_errors() {
        let frames = frames_with_chunk_size(EVENTS.as_bytes(), 7);
        let events: Vec<WatchEvent<serde_json::Value>> = frames
            .iter()
            .map(|f| decode_event(f, "/api/v1/pods").expect("event"))
            .collect();
        assert!(matches!(&events[0], WatchEvent::Added(o) if o["metadata"]["name"] == "a"));
        assert!(
            matches!(&events[1], WatchEvent::Modified(o) if o["metadata"]["resourceVersion"] == "2")
        );
        assert!(
            matches!(&events[2], WatchEvent::Bookmark(b) if b.resource_version == "3" && !b.is_initial_events_end())
        );
        match &events[3] {
            WatchEvent::Error(e) => {
                assert!(e.is_gone(), "{e}");
                assert_eq!(e.path, "/api/v1/pods");
            }
            other => panic!("expected an error event, got {other:?}"),
        }
    }

    #[test]
    fn bookmarks_decode_as_metadata_whatever_the_watched_type() {
        #[derive(Debug, Deserialize)]
        struct Strict {
            #[allow(dead_code)]
            spec: u32,
        }
        let frame = br#"{"type":"BOOKMARK","object":{"kind":"Backup","apiVersion":"x/v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        match decode_event::<Strict>(frame, "/x").expect("a bookmark needs no spec") {
            WatchEvent::Bookmark(b) => {
                assert_eq!(b.resource_version, "12");
                assert!(b.is_initial_events_end());
            }
            other => panic!("expected a bookmark, got {other:?}"),
        }
        let err = decode_event::<Strict>(br#"{"type":"ADDED","object":{"metadata":{}}}"#, "/x")
            .expect_err("an ADDED object must be whole");
        assert!(matches!(err, WatchError::Decode(_)));
    }

    #[test]
    fn oversized_frames_are_refused_without_a_newline_in_sight() {
        let mut decoder = FrameDecoder::new(16);
        decoder.push(b"{\"type\":\"ADDED\",");
        assert!(decoder.next_frame().expect("at the limit").is_none());
        decoder.push(b"\"object\":{}}");
        assert!(matches!(
            decoder.next_frame(),
            Err(WatchError::FrameTooLarge { limit: 16 })
        ));
        let mut decoder = FrameDecoder::new(4);
        decoder.push(b"12345\n");
        assert!(matches!(
            decoder.next_frame(),
            Err(WatchError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic_and_never_quoted() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(br#"{"type":"ADDED","object":{"metadata""#);
        assert!(decoder.next_frame().expect("incomplete").is_none());
        assert!(matches!(decoder.finish(), Err(WatchError::Truncated(_))));

        let secret = r#"{"type":"ADDED","object":{"data":{"token":"SECRET"}"#;
        let err =
            decode_event::<serde_json::Value>(secret.as_bytes(), "/x").expect_err("truncated JSON");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        let err =
            decode_event::<serde_json::Value>(b"\xff\xfe not utf8", "/x").expect_err("garbage");
        assert!(matches!(err, WatchError::Decode(_)));
        let err = decode_event::<serde_json::Value>(br#"{"type":"NEW","object":{}}"#, "/x")
            .expect_err("type");
        assert!(matches!(err, WatchError::UnknownType(t) if t == "NEW"));
        #[derive(Debug, Deserialize)]
        struct Typed {
            #[allow(dead_code)]
            count: u32,
        }
        let err = decode_event::<Typed>(br#"{"type":"ADDED","object":{"count":"SECRET"}}"#, "/x")
            .expect_err("type");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}
