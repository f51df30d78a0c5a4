//! The REST layer, as client-go's `rest` and `transport`: the client configuration, TLS, and
//! the transport that authenticates requests (the request builder, throttling and retries
//! come next).

mod config;
mod proxy_connector;
mod tls;
pub(crate) mod transport;

pub use config::{
    Auth, ClientKey, Config, DEFAULT_BURST, DEFAULT_QPS, Impersonation, Pem, TlsConfig,
};
pub use tls::{TlsError, client_config};
pub use transport::{Transport, TransportError, default_user_agent};
