//! The REST layer, as client-go's `rest`, `transport` and `util/flowcontrol`: the client
//! configuration, the transport, the request builder, throttling, retries and watch streams.

mod client;
mod config;
mod log;
mod metrics;
mod options;
mod proxy_connector;
pub(crate) mod request;
mod retry_rules;
mod status;
mod throttle;
mod tls;
pub(crate) mod transport;
mod warnings;
pub mod watch;

pub use client::{DEFAULT_MAX_RETRIES, Error, MAX_RETRY_AFTER, Request, Response, RestClient};
pub use config::{
    Auth, ClientKey, Config, DEFAULT_BURST, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_QPS, Impersonation,
    Pem, TlsConfig,
};
pub use log::{BODY_TARGET, ROUND_TRIP_TARGET};
pub use metrics::{RequestMetric, RequestMetrics, RequestOutcome};
pub use options::{
    ApplyOptions, CreateOptions, DeleteOptions, DryRun, FieldValidation, GetOptions, ListOptions,
    PatchOptions, Preconditions, PropagationPolicy, ResourceVersionMatch, UpdateOptions,
};
pub use status::{ApiError, Status, StatusCause, StatusDetails};
pub use throttle::{RateLimiter, TokenBucket};
pub use tls::{TlsError, client_config};
pub use transport::{Transport, TransportError, default_user_agent};
pub use warnings::{LogWarningsOnce, WarningHandler, parse_warning_header};
