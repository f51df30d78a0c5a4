//! [`RestClient`] and its chainable [`Request`], as client-go's `rest.RESTClient`:
//!
//! ```no_run
//! # async fn demo(config: kubeclient::rest::Config) -> Result<(), kubeclient::rest::Error> {
//! use kubeclient::rest::RestClient;
//! let client = RestClient::new(&config)?;
//! let pods: serde_json::Value = client
//!     .get()
//!     .group_version("v1")
//!     .namespace("default")
//!     .resource("pods")
//!     .param("limit", "10")
//!     .into_json()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The request loop follows client-go's `Request.request`:
//! - every attempt first passes the client-side rate limiter (shared by all clients built
//!   from one [`Config`]);
//! - a 429 or 5xx answer carrying `Retry-After` is retried after the wait it asks for, up to
//!   [`DEFAULT_MAX_RETRIES`] times: a number of seconds (client-go reads only this form; a
//!   negative number means at once, as in client-go), or an HTTP date (RFC 9110's IMF-fixdate,
//!   e.g. `Wed, 21 Oct 2015 07:28:00 GMT`; the obsolete RFC 850 and asctime forms are not read),
//!   waited for from now and at once when it has passed; either wait is cut to
//!   [`MAX_RETRY_AFTER`];
//! - a GET whose connection was reset or closed early is retried after one to two seconds
//!   (client-go's artificial `Retry-After: 1`, with jitter); other verbs are never retried on transport errors, since the
//!   server may have acted on them;
//! - the final error says how many attempts were made;
//! - a timeout ([`Request::timeout`], else `Config::timeout`) covers the whole exchange: retries,
//!   the answer's head and a body read whole; a stream is guarded by [`Request::idle_timeout`];
//! - every request handed to the loop is recorded once by the `Config::metrics` hook, however
//!   it ends (see [`RequestOutcome`](super::RequestOutcome)), and each attempt and body is
//!   reported through `tracing` (see [`ROUND_TRIP_TARGET`](super::ROUND_TRIP_TARGET)).

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use bytes::Bytes;
use futures_util::Stream;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue,
};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use super::config::{Config, WireFormat};
use super::log::{BODY_TARGET, ROUND_TRIP_TARGET, redacted_body};
use super::metrics::{RequestMetric, RequestMetrics, RequestOutcome};
use super::retry_rules::{is_connection_lost, retry_after};
use super::throttle::{RateLimiter, throttle};
use super::transport::{Transport, TransportError};
use super::warnings::{LogWarningsOnce, WarningHandler, parse_warning_header};
use crate::redact::url_for_logs;
use kubeclient_core::list::ObjectList;
use kubeclient_core::protobuf::{self, DecodeError};
use kubeclient_core::request::{PathSpec, query_pairs};
use kubeclient_core::status::ApiError;
use kubeclient_core::watch::{
    DEFAULT_MAX_FRAME, FrameDecoder, WatchError, WatchEvent, decode_event,
};

/// Retries of a request answered with `Retry-After` (client-go's default).
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// The longest `Retry-After` wait honoured; longer values are cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// What can go wrong with a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status (after `attempts` tries: more than one when
    /// `Retry-After` answers were retried and the last one still failed).
    #[error("{error}{}", attempts_suffix(*.attempts))]
    Api {
        /// What the server said.
        error: Box<ApiError>,
        /// Attempts made.
        attempts: u32,
    },
    /// The request was built with invalid parts; nothing was sent.
    #[error("{verb} request: {reason}")]
    InvalidRequest {
        /// The verb.
        verb: Method,
        /// What is wrong.
        reason: String,
    },
    /// The request could not be sent or its answer not received.
    #[error("{verb} {path}: after {attempts} attempt(s): {source}")]
    Transport {
        /// The verb.
        verb: Method,
        /// The path.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        source: Box<TransportError>,
    },
    /// The answer's body could not be read.
    #[error("{verb} {path}: reading the answer: {reason}")]
    Body {
        /// The verb.
        verb: Method,
        /// The path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The answer is not the JSON expected. The reason gives the position, never the content.
    #[error("{verb} {path}: decoding the answer: {reason}")]
    Decode {
        /// The verb.
        verb: Method,
        /// The path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The answer's body is larger than the limit (`Config::max_response_bytes`, counted after
    /// decompression); reading stopped there.
    #[error("{verb} {path}: the answer exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The verb.
        verb: Method,
        /// The path.
        path: String,
        /// The limit.
        limit: usize,
    },
    /// A request body could not be encoded.
    #[error("encoding the request body: {0}")]
    Encode(String),
    /// A watch stream broke.
    #[error("watch {path}: {source}")]
    Watch {
        /// The path watched.
        path: String,
        /// What went wrong.
        source: WatchError,
    },
}

impl Error {
    /// The server's refusal, if that is what this is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api { error, .. } => Some(error),
            Error::Watch { .. }
            | Error::InvalidRequest { .. }
            | Error::Transport { .. }
            | Error::Body { .. }
            | Error::Decode { .. }
            | Error::TooLarge { .. }
            | Error::Encode(_) => None,
        }
    }

    /// 404 NotFound; see [`ApiError::is_not_found`].
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    /// 409 AlreadyExists; see [`ApiError::is_already_exists`].
    pub fn is_already_exists(&self) -> bool {
        self.api().is_some_and(ApiError::is_already_exists)
    }

    /// 409 Conflict; see [`ApiError::is_conflict`].
    pub fn is_conflict(&self) -> bool {
        self.api().is_some_and(ApiError::is_conflict)
    }

    /// 410 Gone or Expired; see [`ApiError::is_gone`].
    pub fn is_gone(&self) -> bool {
        self.api().is_some_and(ApiError::is_gone)
    }
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

/// A response read whole.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, decompressed.
    pub body: Bytes,
}

struct Inner {
    base: url::Url,
    transport: Transport,
    limiter: Option<Arc<dyn RateLimiter>>,
    warnings: Arc<dyn WarningHandler>,
    metrics: Option<Arc<dyn RequestMetrics>>,
    compression: bool,
    /// `Config::timeout`: the default deadline of a whole exchange.
    timeout: Option<Duration>,
    /// `Config::max_response_bytes`.
    max_response_bytes: usize,
    /// `Config::wire_format`.
    wire_format: WireFormat,
}

/// A client for one API server: cheap to clone, shares its connections and rate limiter.
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &crate::redact::redact_url(&self.inner.base))
            .field("limiter", &self.inner.limiter)
            .finish_non_exhaustive()
    }
}

impl RestClient {
    /// A client for `config`'s server.
    pub fn new(config: &Config) -> Result<Self, Error> {
        let transport = Transport::new(config).map_err(|source| Error::Transport {
            verb: Method::GET,
            path: config.host.path().to_string(),
            attempts: 0,
            source: Box::new(source),
        })?;
        Ok(RestClient {
            inner: Arc::new(Inner {
                base: config.host.clone(),
                transport,
                limiter: config.limiter(),
                warnings: config
                    .warning_handler
                    .clone()
                    .unwrap_or_else(|| Arc::new(LogWarningsOnce::default())),
                metrics: config.metrics.clone(),
                compression: !config.disable_compression,
                timeout: config.timeout,
                max_response_bytes: config.max_response_bytes,
                wire_format: config.wire_format,
            }),
        })
    }

    /// The wire format typed clients built on this client use.
    pub fn wire_format(&self) -> WireFormat {
        self.inner.wire_format
    }

    /// A request with `verb`.
    pub fn verb(&self, verb: Method) -> Request {
        Request {
            client: self.clone(),
            verb,
            path: PathSpec::default(),
            params: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: None,
            idle_timeout: None,
            max_retries: DEFAULT_MAX_RETRIES,
            error: None,
        }
    }

    /// A GET request.
    pub fn get(&self) -> Request {
        self.verb(Method::GET)
    }

    /// A POST request.
    pub fn post(&self) -> Request {
        self.verb(Method::POST)
    }

    /// A PUT request.
    pub fn put(&self) -> Request {
        self.verb(Method::PUT)
    }

    /// A PATCH request; set the patch type with [`Request::content_type`].
    pub fn patch(&self) -> Request {
        self.verb(Method::PATCH)
    }

    /// A DELETE request.
    pub fn delete(&self) -> Request {
        self.verb(Method::DELETE)
    }
}

/// A request being built; see [`RestClient`]. Nothing is sent until a terminal call
/// ([`Request::send`], [`Request::into_json`], [`Request::raw`], [`Request::watch`],
/// [`Request::stream`]).
#[must_use = "a request does nothing until it is sent"]
pub struct Request {
    client: RestClient,
    verb: Method,
    path: PathSpec,
    params: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
    timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    max_retries: u32,
    /// The first builder mistake, reported when the request is sent.
    error: Option<String>,
}

impl Request {
    /// The API group version: `v1` for the core group, `group/version` otherwise.
    pub fn group_version(mut self, group_version: &str) -> Self {
        self.path.group_version = Some(group_version.to_string());
        self
    }

    /// An absolute path (e.g. `/version`), replacing every other path part.
    pub fn abs_path(mut self, path: &str) -> Self {
        self.path.abs_path = Some(path.to_string());
        self
    }

    /// The namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.path.namespace = Some(namespace.to_string());
        self
    }

    /// The namespace, if the resource is namespaced (client-go's `NamespaceIfScoped`).
    pub fn namespace_if_scoped(self, namespace: &str, scoped: bool) -> Self {
        if scoped {
            self.namespace(namespace)
        } else {
            self
        }
    }

    /// The resource (plural, lower case), e.g. `pods`.
    pub fn resource(mut self, resource: &str) -> Self {
        self.path.resource = Some(resource.to_string());
        self
    }

    /// The object's name.
    pub fn name(mut self, name: &str) -> Self {
        self.path.name = Some(name.to_string());
        self
    }

    /// The subresource, e.g. `status`.
    pub fn subresource(mut self, subresource: &str) -> Self {
        self.path.subresource = Some(subresource.to_string());
        self
    }

    /// Further path segments after the subresource.
    pub fn suffix(mut self, segments: &[&str]) -> Self {
        self.path
            .suffix
            .extend(segments.iter().map(|s| s.to_string()));
        self
    }

    /// A query parameter (repeatable).
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.params.push((key.to_string(), value.to_string()));
        self
    }

    /// Query parameters from a serializable options struct (its fields as `key=value`;
    /// `None` fields are left out).
    pub fn params<T: Serialize>(mut self, options: &T) -> Self {
        match query_pairs(options) {
            Ok(pairs) => self.params.extend(pairs),
            Err(reason) => self.fail(reason),
        }
        self
    }

    fn fail(&mut self, reason: String) {
        self.error.get_or_insert(reason);
    }

    /// A header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            _ => self.fail(format!("invalid header {name:?}")),
        }
        self
    }

    /// The `Content-Type` (e.g. `application/merge-patch+json` for a merge patch).
    pub fn content_type(self, content_type: &str) -> Self {
        self.header(CONTENT_TYPE.as_str(), content_type)
    }

    /// A raw body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// A JSON body (and `Content-Type: application/json` unless set).
    pub fn json<T: Serialize>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(bytes) => self.body = bytes.into(),
            Err(e) => self.fail(format!("the body cannot be encoded as JSON: {e}")),
        }
        if !self.headers.contains_key(CONTENT_TYPE) {
            self.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        self
    }

    /// A deadline for the whole exchange: retries, the answer's head and, for
    /// [`Request::send`], [`Request::raw`] and [`Request::into_json`], its whole body (also
    /// sent to the server as `timeout`). Without it, `Config::timeout` applies. For
    /// [`Request::watch`] and [`Request::stream`] it covers the answer's head only: a stream
    /// lasts as long as the server keeps it open, guarded by [`Request::idle_timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// For [`Request::watch`] and [`Request::stream`]: end the stream with an error when
    /// nothing at all arrives for this long (a dead connection that never closes).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }

    /// How many times a `Retry-After` answer (or a reset GET) is retried; 0 disables retries.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    fn path_for_errors(&self) -> String {
        self.path
            .url(&self.client.inner.base, &[])
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| self.path.template())
    }

    /// Sends the request and returns the response head; the body is left to the caller.
    async fn execute(
        mut self,
        streaming: bool,
    ) -> Result<(http::Response<Incoming>, Context), Error> {
        if let Some(reason) = self.error.take() {
            return Err(Error::InvalidRequest {
                verb: self.verb,
                reason,
            });
        }
        if let Some(timeout) = self.timeout {
            self.params
                .push(("timeout".into(), format!("{}s", timeout.as_secs().max(1))));
        }
        let url = self
            .path
            .url(&self.client.inner.base, &self.params)
            .map_err(|e| Error::InvalidRequest {
                verb: self.verb.clone(),
                reason: e.to_string(),
            })?;
        let inner = self.client.inner.clone();
        let timeout = self.timeout.or(inner.timeout);
        let mut ctx = Context {
            verb: self.verb.clone(),
            path: url.path().to_string(),
            // Only built when a request or body event will be recorded.
            shown_url: if tracing::enabled!(target: ROUND_TRIP_TARGET, tracing::Level::DEBUG)
                || tracing::enabled!(target: BODY_TARGET, tracing::Level::TRACE)
            {
                url_for_logs(&url)
            } else {
                String::new()
            },
            template: self.path.template(),
            started: Instant::now(),
            deadline: timeout.map(|t| (tokio::time::Instant::now() + t, t)),
            max_body: inner.max_response_bytes,
            attempts: 0,
            throttle_wait: Duration::ZERO,
            request_bytes: self.body.len(),
            metrics: inner.metrics.clone(),
        };
        if !self.headers.contains_key(ACCEPT) {
            self.headers
                .insert(ACCEPT, HeaderValue::from_static("application/json"));
        }
        if inner.compression && !streaming && !self.headers.contains_key(ACCEPT_ENCODING) {
            self.headers
                .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let span = tracing::debug_span!("kubeclient.request", verb = %ctx.verb, path = %ctx.template, status = tracing::field::Empty, attempts = tracing::field::Empty);
        let what = format!("{} {}", ctx.verb, ctx.path);
        if !self.body.is_empty() {
            span.in_scope(|| ctx.log_body("request body", &self.body));
        }
        // client-go retries a reset GET after an artificial `Retry-After: 1`; here the wait is
        // one second plus a random part of up to another second (backon's jitter), so that many
        // clients cut off at once do not come back in step.
        let deadline = ctx.deadline;
        let mut reset_backoff = backon::ConstantBuilder::new()
            .with_delay(Duration::from_secs(1))
            .with_jitter()
            .without_max_times()
            .build();
        let run = async {
            loop {
                ctx.attempts += 1;
                ctx.throttle_wait += throttle(inner.limiter.as_ref(), &what).await;
                let mut request = http::Request::builder()
                    .method(self.verb.clone())
                    .uri(url.as_str())
                    .body(Full::new(self.body.clone()))
                    .map_err(|e| Error::InvalidRequest {
                        verb: self.verb.clone(),
                        reason: e.to_string(),
                    })?;
                *request.headers_mut() = self.headers.clone();
                let retries_left = ctx.attempts <= self.max_retries;
                let sent = Instant::now();
                let result = inner.transport.send(request).await;
                ctx.log_round_trip(&result, sent.elapsed());
                match result {
                    Err(e)
                        if self.verb == Method::GET && retries_left && is_connection_lost(&e) =>
                    {
                        let wait = reset_backoff.next().unwrap_or(Duration::from_secs(1));
                        tracing::debug!(error = %e, attempt = ctx.attempts, wait = ?wait, "connection lost; retrying the GET");
                        tokio::time::sleep(wait).await;
                    }
                    Err(source) => {
                        ctx.observe(None, None, transport_outcome(&source));
                        return Err(Error::Transport {
                            verb: ctx.verb.clone(),
                            path: ctx.path.clone(),
                            attempts: ctx.attempts,
                            source: Box::new(source),
                        });
                    }
                    Ok(response) => {
                        for value in response.headers().get_all("warning") {
                            for message in parse_warning_header(value.to_str().unwrap_or_default())
                            {
                                inner.warnings.handle_warning(&message);
                            }
                        }
                        let status = response.status();
                        let retry_after = (status == StatusCode::TOO_MANY_REQUESTS
                            || status.is_server_error())
                        .then(|| retry_after(response.headers(), jiff::Timestamp::now()))
                        .flatten();
                        match retry_after {
                            Some(wait) if retries_left => {
                                tracing::debug!(status = status.as_u16(), wait = ?wait, attempt = ctx.attempts, "retrying after Retry-After");
                                // Drain the body so the connection can be reused.
                                let _ = response.into_body().collect().await;
                                tokio::time::sleep(wait).await;
                            }
                            _ => return Ok(response),
                        }
                    }
                }
            }
        };
        let run = run.instrument(span.clone());
        let response = match deadline {
            Some((deadline, _)) => match tokio::time::timeout_at(deadline, run).await {
                Ok(result) => result?,
                Err(_) => {
                    let error = ctx.timed_out();
                    span.in_scope(|| {
                        tracing::debug!(target: ROUND_TRIP_TARGET, verb = %ctx.verb, url = %ctx.shown_url, error = %error, milliseconds = millis(ctx.started.elapsed()), "no response");
                    });
                    ctx.observe(None, None, RequestOutcome::Timeout);
                    return Err(error);
                }
            },
            None => run.await?,
        };
        span.record("status", response.status().as_u16());
        span.record("attempts", ctx.attempts);
        Ok((response, ctx))
    }

    /// Sends the request and reads the whole answer, whatever its status.
    pub async fn send(self) -> Result<Response, Error> {
        Ok(self.send_counting().await?.0)
    }

    /// [`Request::send`], also returning the request's bookkeeping (attempts, path).
    async fn send_counting(self) -> Result<(Response, Context), Error> {
        let (response, ctx) = self.execute(false).await?;
        let response = ctx.read_response(response).await?;
        Ok((response, ctx))
    }

    /// Sends the request; the body of a 2xx answer, or the server's error.
    pub async fn raw(self) -> Result<Bytes, Error> {
        Ok(self.raw_with_path().await?.0)
    }

    /// [`Request::raw`], also returning the request's path (for later errors).
    async fn raw_with_path(self) -> Result<(Bytes, String), Error> {
        let (response, ctx) = self.send_counting().await?;
        let body = ctx.success_body(response)?;
        Ok((body, ctx.path))
    }

    /// Sends the request and decodes a 2xx answer as JSON into `T`.
    pub async fn into_json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let verb = self.verb.clone();
        let (body, path) = self.raw_with_path().await?;
        decode_json(&body, verb, path)
    }

    /// Sends the request and decodes a 2xx answer: with `protobuf` when the server answered
    /// in protobuf (the bytes start with `k8s\0`), else as JSON into `T`. Ask for protobuf
    /// with the `Accept` header ([`protobuf::ACCEPT`](kubeclient_core::protobuf::ACCEPT)).
    pub async fn into_decoded<T: DeserializeOwned>(
        self,
        protobuf: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, Error> {
        let verb = self.verb.clone();
        let (body, path) = self.raw_with_path().await?;
        decode_answer(&body, verb, path, protobuf)
    }

    /// Sends a list request and reads a 2xx answer: a protobuf answer item by item as its
    /// body arrives, each item read with `item` as soon as it is whole (the body is never held
    /// whole, and decoding overlaps the transfer); a JSON answer whole. Ask for protobuf with
    /// the `Accept` header ([`protobuf::ACCEPT`](kubeclient_core::protobuf::ACCEPT)). With
    /// response bodies logged (`-v=8`), the body is read whole, to be logged.
    pub async fn into_list_decoded<K: DeserializeOwned>(
        self,
        item: protobuf::Decoder<K>,
    ) -> Result<ObjectList<K>, Error> {
        let verb = self.verb.clone();
        let (response, ctx) = self.execute(false).await?;
        let streams = response.status().is_success()
            && is_protobuf_answer(response.headers())
            && !tracing::enabled!(target: BODY_TARGET, tracing::Level::TRACE);
        if !streams {
            let response = ctx.read_response(response).await?;
            let body = ctx.success_body(response)?;
            return decode_answer(&body, verb, ctx.path, |body| {
                protobuf::decode_list(body, item)
            });
        }
        let (parts, body) = response.into_parts();
        let status = Some(parts.status.as_u16());
        match ctx.read_list(&parts.headers, body, item).await {
            Ok((list, len)) => {
                ctx.observe(status, Some(len), RequestOutcome::Answered);
                list.map_err(|e| Error::Decode {
                    verb,
                    path: ctx.path,
                    reason: format!("protobuf: {e}"),
                })
            }
            Err(error) => {
                ctx.observe(status, None, body_outcome(&error));
                Err(error)
            }
        }
    }

    /// Sends the request with `watch=1` and returns the typed events as they arrive, read
    /// with `protobuf` (the object's own message) when the server streams protobuf frames,
    /// else as JSON. Otherwise as [`Request::watch`].
    pub async fn watch_decoded<T: DeserializeOwned>(
        self,
        protobuf: protobuf::Decoder<T>,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>, Error>>, Error> {
        self.watch_frames(DEFAULT_MAX_FRAME, Some(protobuf)).await
    }

    /// Sends the request with `watch=1` and returns the typed events as they arrive. The
    /// stream ends when the server closes the watch; an `ERROR` event ends it too, as
    /// [`WatchEvent::Error`]. Frames larger than [`DEFAULT_MAX_FRAME`] are an error.
    pub async fn watch<T: DeserializeOwned>(
        self,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>, Error>>, Error> {
        self.watch_with_limit(DEFAULT_MAX_FRAME).await
    }

    /// [`Request::watch`] with a limit on one event's size.
    pub async fn watch_with_limit<T: DeserializeOwned>(
        self,
        max_frame: usize,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>, Error>>, Error> {
        self.watch_frames(max_frame, None).await
    }

    async fn watch_frames<T: DeserializeOwned>(
        self,
        max_frame: usize,
        protobuf: Option<protobuf::Decoder<T>>,
    ) -> Result<impl Stream<Item = Result<WatchEvent<T>, Error>>, Error> {
        let path = self.path_for_errors();
        let idle = self.idle_timeout;
        let (body, headers) = self.param("watch", "1").open_stream_with_headers().await?;
        let streams_protobuf = is_protobuf_answer(&headers);
        let decoder = match protobuf {
            Some(object) if streams_protobuf => {
                Frames::Protobuf(protobuf::FrameDecoder::new(max_frame), object)
            }
            _ => Frames::Json(FrameDecoder::new(max_frame)),
        };
        let state = (body, decoder, false, path);
        Ok(futures_util::stream::unfold(
            state,
            move |(mut body, mut decoder, mut done, path)| async move {
                loop {
                    if done {
                        return None;
                    }
                    if let Some(item) = decoder.next_event(&path).transpose() {
                        let item = item.map_err(|source| Error::Watch {
                            path: path.clone(),
                            source,
                        });
                        done = item.is_err() || matches!(item, Ok(WatchEvent::Error(_)));
                        return Some((item, (body, decoder, done, path)));
                    }
                    match next_chunk(&mut body, idle, &path).await {
                        Some(Ok(data)) => decoder.push(&data),
                        Some(Err(err)) => return Some((Err(err), (body, decoder, true, path))),
                        None => {
                            done = true;
                            let last = match decoder.finish(&path) {
                                Ok(Some(event)) => Ok(event),
                                Ok(None) => return None,
                                Err(e) => Err(e),
                            };
                            let item = last.map_err(|source| Error::Watch {
                                path: path.clone(),
                                source,
                            });
                            return Some((item, (body, decoder, done, path)));
                        }
                    }
                }
            },
        ))
    }

    /// Sends the request and returns the body of a 2xx answer as a stream of chunks (for
    /// logs); a non-2xx answer is the server's error.
    pub async fn stream(self) -> Result<impl Stream<Item = Result<Bytes, Error>>, Error> {
        let path = self.path_for_errors();
        let idle = self.idle_timeout;
        let body = self.open_stream().await?;
        Ok(futures_util::stream::unfold(Some(body), move |body| {
            let path = path.clone();
            async move {
                let mut body = body?;
                match next_chunk(&mut body, idle, &path).await? {
                    Ok(data) => Some((Ok(data), Some(body))),
                    Err(err) => Some((Err(err), None)),
                }
            }
        }))
    }

    /// Sends the request for a streamed answer: the body if 2xx, else the server's error.
    async fn open_stream(self) -> Result<Incoming, Error> {
        Ok(self.open_stream_with_headers().await?.0)
    }

    /// [`Request::open_stream`], also returning the answer's headers.
    async fn open_stream_with_headers(self) -> Result<(Incoming, HeaderMap), Error> {
        let (response, ctx) = self.execute(true).await?;
        let (parts, body) = response.into_parts();
        if parts.status.is_success() {
            ctx.observe(Some(parts.status.as_u16()), None, RequestOutcome::Answered);
            return Ok((body, parts.headers));
        }
        let body = ctx.read_body(parts.status, &parts.headers, body).await?;
        ctx.observe(
            Some(parts.status.as_u16()),
            Some(body.len()),
            RequestOutcome::Answered,
        );
        Err(Error::Api {
            error: Box::new(api_error(
                ctx.verb.as_str(),
                &ctx.path,
                parts.status.as_u16(),
                &body,
            )),
            attempts: ctx.attempts,
        })
    }
}

/// A watch stream's framing: JSON lines, or length-prefixed protobuf frames with the
/// decoder of the object's message.
enum Frames<T> {
    Json(FrameDecoder),
    Protobuf(protobuf::FrameDecoder, protobuf::Decoder<T>),
}

impl<T: DeserializeOwned> Frames<T> {
    fn push(&mut self, data: &[u8]) {
        match self {
            Frames::Json(decoder) => decoder.push(data),
            Frames::Protobuf(decoder, _) => decoder.push(data),
        }
    }

    /// The next whole event, if one has arrived.
    fn next_event(&mut self, path: &str) -> Result<Option<WatchEvent<T>>, WatchError> {
        match self {
            Frames::Json(decoder) => match decoder.next_frame()? {
                Some(frame) => decode_event(&frame, path).map(Some),
                None => Ok(None),
            },
            Frames::Protobuf(decoder, object) => {
                match decoder.next_frame().map_err(proto_watch_error)? {
                    Some(frame) => protobuf::decode_event(&frame, path, *object)
                        .map(Some)
                        .map_err(proto_watch_error),
                    None => Ok(None),
                }
            }
        }
    }

    /// At the end of the stream: the last event, or an error if one was cut short.
    fn finish(&mut self, path: &str) -> Result<Option<WatchEvent<T>>, WatchError> {
        match self {
            Frames::Json(decoder) => match decoder.finish()? {
                Some(frame) => decode_event(&frame, path).map(Some),
                None => Ok(None),
            },
            Frames::Protobuf(decoder, _) => {
                decoder.finish().map(|()| None).map_err(proto_watch_error)
            }
        }
    }
}

fn proto_watch_error(e: DecodeError) -> WatchError {
    WatchError::Decode(format!("protobuf: {e}"))
}

/// A 2xx answer decoded: with `protobuf` when it is protobuf (starts with `k8s\0`), else as
/// JSON.
fn decode_answer<T: DeserializeOwned>(
    body: &[u8],
    verb: Method,
    path: String,
    protobuf: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
) -> Result<T, Error> {
    if protobuf::is_protobuf(body) {
        return protobuf(body).map_err(|e| Error::Decode {
            verb,
            path,
            reason: format!("protobuf: {e}"),
        });
    }
    decode_json(body, verb, path)
}

/// Whether an answer's `Content-Type` is Kubernetes' protobuf.
fn is_protobuf_answer(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(protobuf::CONTENT_TYPE))
}

/// Whether an answer's body is gzip-compressed.
fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"))
}

/// How a request whose body could not be read ended, for the metrics hook.
fn body_outcome(error: &Error) -> RequestOutcome {
    match error {
        Error::Transport { source, .. } => transport_outcome(source),
        _ => RequestOutcome::TransportError,
    }
}

/// `body` as JSON into `T`, or a decode error naming the request.
fn decode_json<T: DeserializeOwned>(body: &[u8], verb: Method, path: String) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        verb,
        path,
        reason: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// The error for a non-2xx answer: its `Status`, in protobuf or JSON, else one made of the
/// code and the start of the body.
fn api_error(verb: &str, path: &str, code: u16, body: &[u8]) -> ApiError {
    if protobuf::is_protobuf(body)
        && let Ok(status) = protobuf::decode_status(body)
    {
        return ApiError::from_status(verb, path, code, status);
    }
    ApiError::from_response(verb, path, code, body)
}

/// The per-request bookkeeping shared by the terminal calls.
struct Context {
    verb: Method,
    path: String,
    /// The whole URL, as it may be logged.
    shown_url: String,
    template: String,
    started: Instant,
    /// When the whole exchange must be over, and the timeout it came from.
    deadline: Option<(tokio::time::Instant, Duration)>,
    /// The largest body read whole, after decompression.
    max_body: usize,
    attempts: u32,
    throttle_wait: Duration,
    request_bytes: usize,
    metrics: Option<Arc<dyn RequestMetrics>>,
}

impl Context {
    fn observe(&self, status: Option<u16>, response_bytes: Option<usize>, outcome: RequestOutcome) {
        if let Some(metrics) = &self.metrics {
            metrics.observe(&RequestMetric {
                verb: self.verb.to_string(),
                path_template: self.template.clone(),
                status,
                outcome,
                attempts: self.attempts,
                latency: self.started.elapsed(),
                throttle_wait: self.throttle_wait,
                request_bytes: self.request_bytes,
                response_bytes,
            });
        }
    }

    /// The error for an exchange that passed its deadline.
    fn timed_out(&self) -> Error {
        let timeout = self.deadline.map(|(_, t)| t).unwrap_or_default();
        Error::Transport {
            verb: self.verb.clone(),
            path: self.path.clone(),
            attempts: self.attempts,
            source: Box::new(TransportError::Timeout {
                method: self.verb.clone(),
                url: self.path.clone(),
                timeout,
            }),
        }
    }

    /// One attempt's end, for [`ROUND_TRIP_TARGET`].
    fn log_round_trip(
        &self,
        result: &Result<http::Response<Incoming>, TransportError>,
        took: Duration,
    ) {
        let milliseconds = millis(took);
        match result {
            Ok(response) => {
                tracing::debug!(target: ROUND_TRIP_TARGET, verb = %self.verb, url = %self.shown_url, status = response.status().as_u16(), milliseconds, "response");
            }
            Err(error) => {
                tracing::debug!(target: ROUND_TRIP_TARGET, verb = %self.verb, url = %self.shown_url, error = %error, milliseconds, "no response");
            }
        }
    }

    /// A body sent or received, for [`BODY_TARGET`], with its secrets taken out; nothing is
    /// prepared unless a subscriber wants it.
    fn log_body(&self, message: &str, body: &[u8]) {
        if tracing::enabled!(target: BODY_TARGET, tracing::Level::TRACE) {
            let body = redacted_body(&self.path, body);
            tracing::trace!(target: BODY_TARGET, verb = %self.verb, url = %self.shown_url, body = %body, "{message}");
        }
    }

    /// Reads a whole body, within the exchange's deadline. A failure is recorded by the
    /// metrics hook (with the answer's `status`), since the request ends with it.
    async fn read_body(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: Incoming,
    ) -> Result<Bytes, Error> {
        let result = self.read_whole_body(headers, body).await;
        match &result {
            Ok(body) => self.log_body("response body", body),
            Err(error) => self.observe(Some(status.as_u16()), None, body_outcome(error)),
        }
        result
    }

    /// Reads a whole answer (see [`Context::read_body`]) and records it with the metrics hook.
    async fn read_response(&self, response: http::Response<Incoming>) -> Result<Response, Error> {
        let (parts, body) = response.into_parts();
        let body = self.read_body(parts.status, &parts.headers, body).await?;
        self.observe(
            Some(parts.status.as_u16()),
            Some(body.len()),
            RequestOutcome::Answered,
        );
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// The body of a 2xx answer, else the server's error.
    fn success_body(&self, response: Response) -> Result<Bytes, Error> {
        if response.status.is_success() {
            return Ok(response.body);
        }
        Err(Error::Api {
            error: Box::new(api_error(
                self.verb.as_str(),
                &self.path,
                response.status.as_u16(),
                &response.body,
            )),
            attempts: self.attempts,
        })
    }

    /// Reads a protobuf list answer as it arrives, within the exchange's deadline and the
    /// body limit (after decompression): the list (or why its bytes are not one) and the
    /// body's length.
    async fn read_list<K>(
        &self,
        headers: &HeaderMap,
        mut body: Incoming,
        item: protobuf::Decoder<K>,
    ) -> Result<(Result<ObjectList<K>, DecodeError>, usize), Error> {
        let mut reader = ListReader::new(item, is_gzip(headers), self.max_body);
        let read = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| ListReadError::Body(e.to_string()))?;
                if let Ok(data) = frame.into_data() {
                    reader.push(&data)?;
                }
            }
            reader.finish()
        };
        let read = match self.deadline {
            Some((deadline, _)) => tokio::time::timeout_at(deadline, read)
                .await
                .map_err(|_| self.timed_out())?,
            None => read.await,
        };
        match read {
            Ok((list, len)) => Ok((Ok(list), len)),
            Err(ListReadError::Decode(e, len)) => Ok((Err(e), len)),
            Err(ListReadError::TooLarge) => Err(Error::TooLarge {
                verb: self.verb.clone(),
                path: self.path.clone(),
                limit: self.max_body,
            }),
            Err(ListReadError::Body(reason)) => Err(Error::Body {
                verb: self.verb.clone(),
                path: self.path.clone(),
                reason,
            }),
        }
    }

    async fn read_whole_body(&self, headers: &HeaderMap, body: Incoming) -> Result<Bytes, Error> {
        let body_error = |reason: String| Error::Body {
            verb: self.verb.clone(),
            path: self.path.clone(),
            reason,
        };
        let too_large = || Error::TooLarge {
            verb: self.verb.clone(),
            path: self.path.clone(),
            limit: self.max_body,
        };
        let limited = http_body_util::Limited::new(body, self.max_body);
        let collected = match self.deadline {
            Some((deadline, _)) => tokio::time::timeout_at(deadline, limited.collect())
                .await
                .map_err(|_| self.timed_out())?,
            None => limited.collect().await,
        };
        let bytes = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(e) => return Err(body_error(e.to_string())),
        };
        if !is_gzip(headers) {
            return Ok(bytes);
        }
        // The limit applies to what the body decompresses to: read one byte past it to tell.
        let mut decoded = Vec::new();
        let allowed = u64::try_from(self.max_body)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        flate2::read::GzDecoder::new(&bytes[..])
            .take(allowed)
            .read_to_end(&mut decoded)
            .map_err(|e| body_error(format!("gzip: {e}")))?;
        if decoded.len() > self.max_body {
            return Err(too_large());
        }
        Ok(decoded.into())
    }
}

/// Why a list answer read as it arrives is not a list.
#[derive(Debug)]
enum ListReadError {
    /// The body broke off, or is not the gzip it says it is.
    Body(String),
    /// The body decompresses to more than the limit.
    TooLarge,
    /// The bytes are not a list (and how many had been read).
    Decode(DecodeError, usize),
}

/// The bytes of a protobuf list answer, decompressed when gzip, handed to a
/// [`protobuf::ListDecoder`] as they arrive, up to a limit.
struct ListReader<K> {
    decoder: protobuf::ListDecoder<K>,
    gunzip: Option<flate2::write::GzDecoder<Vec<u8>>>,
    len: usize,
    limit: usize,
}

impl<K> ListReader<K> {
    fn new(item: protobuf::Decoder<K>, gzip: bool, limit: usize) -> Self {
        ListReader {
            decoder: protobuf::ListDecoder::new(item),
            gunzip: gzip.then(|| flate2::write::GzDecoder::new(Vec::new())),
            len: 0,
            limit,
        }
    }

    /// The next bytes of the body as received.
    fn push(&mut self, data: &[u8]) -> Result<(), ListReadError> {
        use std::io::Write as _;
        match &mut self.gunzip {
            None => self.feed(data),
            Some(gz) => {
                gz.write_all(data)
                    .map_err(|e| ListReadError::Body(format!("gzip: {e}")))?;
                let out = std::mem::take(gz.get_mut());
                self.feed(&out)
            }
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), ListReadError> {
        self.len += data.len();
        if self.len > self.limit {
            return Err(ListReadError::TooLarge);
        }
        self.decoder
            .push(data)
            .map_err(|e| ListReadError::Decode(e, self.len))
    }

    /// At the end of the body: the list and the body's length (decompressed).
    fn finish(mut self) -> Result<(ObjectList<K>, usize), ListReadError> {
        if let Some(gz) = self.gunzip.take() {
            let out = gz
                .finish()
                .map_err(|e| ListReadError::Body(format!("gzip: {e}")))?;
            self.feed(&out)?;
        }
        let len = self.len;
        self.decoder
            .finish()
            .map(|list| (list, len))
            .map_err(|e| ListReadError::Decode(e, len))
    }
}

/// The next data chunk of a streamed body (`None` at its end); an error when the body breaks
/// or, with an idle limit, when nothing arrives for that long.
async fn next_chunk(
    body: &mut Incoming,
    idle: Option<Duration>,
    path: &str,
) -> Option<Result<Bytes, Error>> {
    loop {
        let frame = match idle {
            Some(limit) => match tokio::time::timeout(limit, body.frame()).await {
                Ok(frame) => frame,
                Err(_) => {
                    return Some(Err(Error::Watch {
                        path: path.to_string(),
                        source: WatchError::Idle(limit),
                    }));
                }
            },
            None => body.frame().await,
        };
        match frame? {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    return Some(Ok(data));
                }
            }
            Err(e) => {
                return Some(Err(Error::Body {
                    verb: Method::GET,
                    path: path.to_string(),
                    reason: e.to_string(),
                }));
            }
        }
    }
}

/// How a request that failed in the transport ended, for [`RequestMetric::outcome`].
fn transport_outcome(error: &TransportError) -> RequestOutcome {
    match error {
        TransportError::Timeout { .. } => RequestOutcome::Timeout,
        TransportError::Auth(_) => RequestOutcome::CredentialsFailed,
        TransportError::Http { source, .. } if source.is_connect() => RequestOutcome::ConnectFailed,
        _ => RequestOutcome::TransportError,
    }
}

/// `duration` in whole milliseconds, as client-go's debug lines give it.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubeclient_core::primitives::Quantity;
    use kubeclient_core::protobuf::Message as _;

    /// A protobuf list of `n` quantities, as an answer's body.
    fn list(n: usize) -> Vec<u8> {
        let mut items = Vec::new();
        for i in 0..n {
            protobuf::put(2, &Quantity(format!("{i}Ki").into()), &mut items);
        }
        let mut body = protobuf::MAGIC.to_vec();
        protobuf::put_group(2, items.len(), &mut body, |b| b.extend_from_slice(&items));
        body
    }

    fn read(
        body: &[u8],
        chunk: usize,
        gzip: bool,
        limit: usize,
    ) -> Result<(Vec<Quantity>, usize), ListReadError> {
        let mut reader = ListReader::new(Quantity::decode, gzip, limit);
        for part in body.chunks(chunk) {
            reader.push(part)?;
        }
        reader.finish().map(|(list, len)| (list.items, len))
    }

    #[test]
    fn a_list_body_is_read_as_it_arrives_plain_or_gzip() {
        use std::io::Write as _;
        let body = list(500);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&body).expect("gzip");
        let compressed = gz.finish().expect("gzip");
        assert!(compressed.len() < body.len());
        for chunk in [1, 13, 4096, body.len()] {
            let (plain, len) = read(&body, chunk, false, usize::MAX).expect("plain");
            assert_eq!(plain.len(), 500);
            assert_eq!(plain[499], Quantity("499Ki".into()));
            assert_eq!(len, body.len());
            let (unzipped, len) = read(&compressed, chunk, true, usize::MAX).expect("gzip");
            assert_eq!(unzipped, plain, "gzip in chunks of {chunk}");
            assert_eq!(len, body.len(), "the length is counted decompressed");
        }
        // The limit counts decompressed bytes.
        assert!(matches!(
            read(&compressed, 4096, true, body.len() - 1),
            Err(ListReadError::TooLarge)
        ));
        // Damaged gzip, a cut body, and a body that is not protobuf.
        let mut damaged = compressed.clone();
        damaged[20] ^= 0xff;
        assert!(read(&damaged, 4096, true, usize::MAX).is_err());
        assert!(matches!(
            read(&body[..body.len() - 3], 4096, false, usize::MAX),
            Err(ListReadError::Decode(..))
        ));
        assert!(matches!(
            read(b"{\"items\": []}", 4096, false, usize::MAX),
            Err(ListReadError::Decode(..))
        ));
    }
}
