//! kubeclient: a Kubernetes client for Rust that does what Go's client-go does.
//!
//! The crate is being built issue by issue; its layout follows client-go so a Go user finds
//! `config` (clientcmd and in-cluster config), `rest` (transport, request builder, throttling,
//! retries), the typed clientset, `discovery` and `cache` (informers) where they expect them.
//!
//! Every behaviour is tested against a real kube-apiserver that the repository builds and runs
//! on loopback (`controlplane/cluster up`).

pub mod cache;
pub mod client;
#[cfg(feature = "k8s-openapi")]
pub mod clientset;
pub mod config;
pub mod discovery;
pub mod dynamic;
pub mod labels;
pub mod leaderelection;
pub mod record;
pub mod rest;
pub mod retry;
pub mod workqueue;

/// The version of this crate, as sent in the default user agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
