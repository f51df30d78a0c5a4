//! A hook for request metrics (client-go's `tools/metrics`): one [`RequestMetric`] per request,
//! after its last attempt, for users to feed into Prometheus or anything else.
//!
//! Every request that was handed to the request loop is recorded exactly once, however it
//! ended: answered, timed out (while throttled, connecting, waiting for the answer or reading
//! its body), refused at connect, or broken on the wire. [`RequestMetric::outcome`] says which;
//! client-go records all of these too, with the code `<error>` where no answer came. A request
//! that could not even be built (an invalid path or header) is not recorded.

use std::fmt;
use std::time::Duration;

/// What one request cost.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RequestMetric {
    /// The HTTP method.
    pub verb: String,
    /// The path with names replaced by placeholders, e.g.
    /// `/api/v1/namespaces/{namespace}/pods/{name}`: bounded cardinality for labels.
    pub path_template: String,
    /// The final status code; `None` when no response came (see [`RequestMetric::outcome`]).
    pub status: Option<u16>,
    /// How the request ended: whether an answer came, and if not, why.
    pub outcome: RequestOutcome,
    /// Attempts made (1 without retries).
    pub attempts: u32,
    /// From the first attempt to the final response's headers, waits included.
    pub latency: Duration,
    /// Time spent waiting for the client-side rate limiter, over all attempts.
    pub throttle_wait: Duration,
    /// The request body's size.
    pub request_bytes: usize,
    /// The response body's size, when it was read whole (not for watches and streams).
    pub response_bytes: Option<usize>,
}

/// How a request ended, for [`RequestMetric::outcome`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestOutcome {
    /// The server answered and its answer was read (for watches and streams: the answer's
    /// head); [`RequestMetric::status`] holds its code, whatever it is.
    Answered,
    /// The deadline passed first: the request's timeout (or `Config::timeout`) ran out while
    /// it waited for the rate limiter, a connection, the answer, or the answer's body
    /// ([`RequestMetric::status`] is set in the last case).
    Timeout,
    /// No connection to the server could be made (refused, unreachable, name resolution,
    /// TLS handshake, proxy): the request never reached the server.
    ConnectFailed,
    /// The request was not sent because its credentials could not be obtained (exec plugin,
    /// token file, OIDC refresh).
    CredentialsFailed,
    /// The connection failed after the request may have been sent (reset, closed early, a
    /// broken or undecodable body, a protocol error).
    TransportError,
}

/// Receives [`RequestMetric`]s.
pub trait RequestMetrics: Send + Sync + fmt::Debug {
    /// Called once per request.
    fn observe(&self, metric: &RequestMetric);
}
