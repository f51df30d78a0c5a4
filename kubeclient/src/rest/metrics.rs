//! A hook for request metrics (client-go's `tools/metrics`): one [`RequestMetric`] per request,
//! after its last attempt, for users to feed into Prometheus or anything else.

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
    /// The final status code; `None` when no response came.
    pub status: Option<u16>,
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

/// Receives [`RequestMetric`]s.
pub trait RequestMetrics: Send + Sync + fmt::Debug {
    /// Called once per request.
    fn observe(&self, metric: &RequestMetric);
}
