//! kubeclient: a Kubernetes client for Rust that does what Go's client-go does.
//!
//! Its layout follows client-go, so a Go user finds things where they expect them:
//! - [`config`]: kubeconfig loading and merging (clientcmd), in-cluster configuration;
//! - [`rest`]: the transport, the chainable request builder, throttling, retries, watches;
//! - [`api`]: the built-in API types, generated, with JSON and protobuf codecs (one cargo
//!   feature per API package, `api-all` by default), and the [`primitives`] they are made of
//!   (`Quantity`, `IntOrString`, `Time`, the compact `Str` and `Map`); with the feature
//!   `k8s-openapi`, `from_openapi` and `to_openapi` convert to and from k8s-openapi's types;
//! - [`client`] and [`clientset`]: one generic typed client and accessors for every built-in
//!   API; [`dynamic`]: unstructured and metadata-only clients;
//! - [`discovery`]: API discovery, caches and a RESTMapper;
//! - [`cache`]: reflectors, indexed stores, shared informers, their factory and listers
//!   (`tools/cache`); [`labels`]: label selectors;
//! - [`workqueue`], [`leaderelection`], [`record`] (Events) and [`retry`]: the rest of the
//!   controller toolkit.
//!
//! Each module has its own error type; the errors the modules' main entry points return
//! (loading a configuration, requests, discovery, informers, leader election, events, label
//! selectors) convert into the crate's [`Error`].
//!
//! Every behaviour is tested against a real kube-apiserver that the repository builds and runs
//! on loopback (`controlplane/cluster up`).

pub mod cache;
pub mod client;
pub mod clientset;
pub mod config;
pub mod discovery;
pub mod dynamic;
mod error;
pub use kubeclient_core::labels;
pub mod leaderelection;
pub mod record;
mod redact;
pub mod rest;
pub mod retry;
mod secret;
pub mod workqueue;

pub use error::Error;
pub use kubeclient_core::object_meta_accessors;
#[cfg(feature = "k8s-openapi")]
pub use kubeclient_core::{ConversionError, from_openapi, to_openapi};
pub use kubeclient_core::{api, primitives};

/// The version of this crate, as sent in the default user agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
