//! The Clientset, as client-go's `kubernetes.Clientset`: one entry point with an accessor per
//! API group version and per resource, `clientset.apps_v1().deployments("default")`, each
//! returning the generic [`Client`] of the generated type (`kubeclient::api`), which speaks
//! protobuf unless [`rest::Config::wire_format`] says JSON. The accessors are generated
//! (`generated.rs`, by `cargo run -p codegen --bin api-types` from the API's OpenAPI
//! documents); each group version is there when its API package's cargo feature is on
//! (`api-apps` for `apps_v1`; `api-all`, the default, for all). Custom resources, and
//! k8s-openapi's types with the feature `k8s-openapi`, are reached through
//! [`Clientset::namespaced`], [`Clientset::cluster`] and [`Clientset::all`].

mod generated;

#[allow(unused_imports)] // nothing to export when no API package is on
pub use generated::*;

use crate::client::{Client, ClusterScoped, Namespaced, Resource};
use crate::rest::{self, RestClient};

/// Typed clients for every built-in API, sharing one connection pool and one rate limiter.
#[derive(Debug, Clone)]
pub struct Clientset {
    rest: RestClient,
}

impl Clientset {
    /// A clientset for `config`.
    pub fn new(config: &rest::Config) -> Result<Self, rest::Error> {
        Ok(Clientset {
            rest: RestClient::new(config)?,
        })
    }

    /// A clientset over an existing REST client.
    pub fn from_rest(rest: RestClient) -> Self {
        Clientset { rest }
    }

    /// The REST client underneath, for requests of your own (client-go's `RESTClient()`).
    pub fn rest(&self) -> &RestClient {
        &self.rest
    }

    /// A namespaced resource of any type (a custom resource, say) in `namespace`.
    pub fn namespaced<K: Resource<Scope = Namespaced>>(&self, namespace: &str) -> Client<K> {
        Client::namespaced(self.rest.clone(), namespace)
    }

    /// A cluster-scoped resource of any type.
    pub fn cluster<K: Resource<Scope = ClusterScoped>>(&self) -> Client<K> {
        Client::cluster(self.rest.clone())
    }

    /// Any resource across all namespaces (lists and watches).
    pub fn all<K: Resource>(&self) -> Client<K> {
        Client::all(self.rest.clone())
    }
}
