//! The informer toolkit, as client-go's `tools/cache`: a [`Reflector`] lists and watches a
//! resource into a [`Store`] (an indexed cache), a [`SharedIndexInformer`] shares one reflector
//! and one cache among many event handlers, a [`SharedInformerFactory`] shares informers across
//! a process, and [`Lister`]s read the cache. [`wait_for`] waits for a condition on an object.
//!
//! One generic informer and one generic lister serve every type: typed resources (any
//! [`Resource`](crate::client::Resource)), unstructured objects
//! ([`DynamicObject`](crate::dynamic::DynamicObject)) and metadata-only objects
//! ([`PartialObjectMetadata`](crate::dynamic::PartialObjectMetadata)).
//!
//! ```no_run
//! # async fn demo(rest: kubeclient::rest::RestClient) -> Result<(), kubeclient::cache::Error> {
//! use kubeclient::cache::{HandlerFns, SharedInformerFactory};
//! use kubeclient::api::core::v1::Pod;
//!
//! let factory = SharedInformerFactory::new(rest);
//! let pods = factory.informer::<Pod>();
//! pods.add_event_handler(
//!     HandlerFns::new()
//!         .on_add(|pod: &std::sync::Arc<Pod>, _initial| println!("added {:?}", pod.metadata.name))
//!         .on_delete(|gone| println!("deleted {:?}", gone.object().metadata.name)),
//! );
//! factory.start()?;
//! factory.wait_for_cache_sync().await;
//! # Ok(()) }
//! ```

mod factory;
mod informer;
mod lister;
mod reflector;
mod store;
mod wait;

use std::time::Duration;

pub use factory::{SharedInformerFactory, SharedInformerFactoryBuilder};
pub use informer::{Deleted, EventHandler, HandlerFns, HandlerRegistration, SharedIndexInformer};
pub use lister::{Lister, NamespaceLister};
pub use reflector::{
    BACKOFF_INITIAL, BACKOFF_MAX, BACKOFF_RESET, MIN_WATCH_TIMEOUT, Reflector, ReflectorOptions,
    ReflectorSink, WATCH_IDLE_GRACE,
};
pub use store::{IndexError, IndexFn, NAMESPACE_INDEX, Store, object_key, split_key};
pub use wait::wait_for;

/// What can go wrong in the informer toolkit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A list or watch failed.
    #[error(transparent)]
    Rest(#[from] crate::rest::Error),
    /// A streaming list ended before its initial events were complete.
    #[error("the streaming list ended before the bookmark ending its initial events")]
    InitialEventsIncomplete,
    /// The informer runs already; the setting can only be changed before start.
    #[error("the informer has already started")]
    AlreadyStarted,
    /// Informers run on a Tokio runtime, and there is none here.
    #[error("an informer must be started from within a Tokio runtime")]
    NoRuntime,
    /// A wait ran out of time.
    #[error("the condition did not hold within {0:?}")]
    Timeout(Duration),
    /// An index lookup failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl Error {
    /// Whether this is the server's 410 Gone.
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::Rest(e) if e.is_gone())
    }
}
