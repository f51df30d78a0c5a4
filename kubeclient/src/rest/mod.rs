//! The REST layer, as client-go's `rest`, `transport` and `util/flowcontrol`: the client
//! configuration, the transport, the request builder, throttling, retries and watch streams.

pub mod auth;
mod client;
mod config;
mod log;
mod metrics;
pub mod proxy;
mod proxy_connector;
mod retry_rules;
mod throttle;
mod tls;
pub(crate) mod transport;
mod warnings;

pub use client::{DEFAULT_MAX_RETRIES, Error, MAX_RETRY_AFTER, Request, Response, RestClient};
pub use config::{
    Auth, ClientKey, Config, DEFAULT_BURST, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_QPS, Impersonation,
    Pem, TlsConfig, WireFormat,
};
pub use kubeclient_core::options::{
    ApplyOptions, CreateOptions, DeleteOptions, DryRun, FieldValidation, GetOptions, ListOptions,
    PatchOptions, Preconditions, PropagationPolicy, ResourceVersionMatch, UpdateOptions,
};
pub use kubeclient_core::status::{ApiError, Status, StatusCause, StatusDetails};
pub use kubeclient_core::watch;
pub use log::{BODY_TARGET, ROUND_TRIP_TARGET};
pub use metrics::{RequestMetric, RequestMetrics, RequestOutcome};
pub use throttle::{RateLimiter, TokenBucket};
pub use tls::{TlsError, client_config};
pub use transport::{Transport, TransportError, default_user_agent};
pub use warnings::{LogWarningsOnce, WarningHandler, parse_warning_header};
