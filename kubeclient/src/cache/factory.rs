//! [`SharedInformerFactory`]: one informer per resource for everyone in the process, as
//! client-go's `informers.NewSharedInformerFactoryWithOptions`. Asking twice for the same
//! type (or the same group/version/resource through the dynamic or metadata variants) gives
//! the same informer, so two controllers watching Pods share one watch and one cache.
//!
//! ```no_run
//! # async fn demo(rest: kubeclient::rest::RestClient) -> Result<(), kubeclient::cache::Error> {
//! use kubeclient::cache::SharedInformerFactory;
//! use kubeclient::labels::Selector;
//! use kubeclient::api::core::v1::ConfigMap;
//!
//! let factory = SharedInformerFactory::builder(rest).namespace("default").build();
//! let lister = factory.informer::<ConfigMap>().lister();
//! factory.start()?;
//! factory.wait_for_cache_sync().await;
//! for cm in lister.namespaced("default").list(&Selector::everything()) {
//!     println!("{:?}", cm.metadata.name);
//! }
//! # Ok(()) }
//! ```

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Error;
use super::informer::{SharedIndexInformer, Transform};
use super::lister::Lister;
use super::reflector::ReflectorOptions;
use crate::client::{Client, Object, Resource, Scope, Target};
use crate::discovery::GroupVersionResource;
use crate::dynamic::{DynamicClient, DynamicObject, MetadataClient, PartialObjectMetadata};
use crate::rest::{ListOptions, RestClient};

type Tweak = Arc<dyn Fn(&mut ListOptions) + Send + Sync>;
/// A `Transform<K>` (see the informer), type-erased and keyed by `K`'s `TypeId`.
type AnyTransform = Box<dyn Any + Send + Sync>;

/// What the factory needs of an informer whatever its type.
trait Managed: Send + Sync {
    fn start(&self) -> Result<(), Error>;
    fn shutdown(&self);
    fn has_synced(&self) -> bool;
    fn is_started(&self) -> bool;
    fn wait_synced(&self) -> futures_util::future::BoxFuture<'static, bool>;
    fn wait_stopped(&self) -> futures_util::future::BoxFuture<'static, ()>;
    fn as_any(&self) -> &dyn Any;
}

impl<K: Object> Managed for SharedIndexInformer<K> {
    fn start(&self) -> Result<(), Error> {
        SharedIndexInformer::start(self)
    }

    fn shutdown(&self) {
        SharedIndexInformer::shutdown(self);
    }

    fn has_synced(&self) -> bool {
        SharedIndexInformer::has_synced(self)
    }

    fn is_started(&self) -> bool {
        SharedIndexInformer::is_started(self)
    }

    fn wait_synced(&self) -> futures_util::future::BoxFuture<'static, bool> {
        let informer = self.clone();
        Box::pin(async move { informer.wait_for_cache_sync().await })
    }

    fn wait_stopped(&self) -> futures_util::future::BoxFuture<'static, ()> {
        let informer = self.clone();
        Box::pin(async move { informer.shutdown_and_wait().await })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Which informer: the object type and what it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct InformerKey {
    object: TypeId,
    resource: String,
}

/// Builds a [`SharedInformerFactory`].
#[must_use]
pub struct SharedInformerFactoryBuilder {
    rest: RestClient,
    namespace: Option<String>,
    tweak: Option<Tweak>,
    default_resync: Duration,
    use_watch_list: bool,
    transforms: HashMap<TypeId, AnyTransform>,
}

impl SharedInformerFactoryBuilder {
    /// A transform for every informer of objects of type `K` (typed `K`, or all dynamic or
    /// all metadata informers), run on each object before it is stored: e.g. to drop
    /// `managedFields`.
    pub fn transform<K: Object>(mut self, f: impl Fn(K) -> K + Send + Sync + 'static) -> Self {
        let transform: Transform<K> = Arc::new(f);
        self.transforms
            .insert(TypeId::of::<K>(), Box::new(transform));
        self
    }

    /// Only this namespace (namespaced resources; cluster-scoped ones are unaffected).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    /// Changes every informer's list and watch options, e.g. to set a label selector.
    pub fn tweak_list_options(
        mut self,
        tweak: impl Fn(&mut ListOptions) + Send + Sync + 'static,
    ) -> Self {
        self.tweak = Some(Arc::new(tweak));
        self
    }

    /// The resync period of handlers added without their own (default: none).
    pub fn default_resync(mut self, period: Duration) -> Self {
        self.default_resync = period;
        self
    }

    /// Whether informers start with a streaming list (default `true`, as client-go).
    pub fn use_watch_list(mut self, enabled: bool) -> Self {
        self.use_watch_list = enabled;
        self
    }

    /// The factory.
    pub fn build(self) -> SharedInformerFactory {
        SharedInformerFactory {
            inner: Arc::new(FactoryInner {
                rest: self.rest,
                namespace: self.namespace,
                tweak: self.tweak,
                default_resync: self.default_resync,
                use_watch_list: self.use_watch_list,
                transforms: self.transforms,
                informers: Mutex::new(Vec::new()),
            }),
        }
    }
}

struct FactoryInner {
    rest: RestClient,
    namespace: Option<String>,
    tweak: Option<Tweak>,
    default_resync: Duration,
    use_watch_list: bool,
    transforms: HashMap<TypeId, AnyTransform>,
    informers: Mutex<Vec<(InformerKey, Arc<dyn Managed>)>>,
}

/// Shared informers for every resource a process watches; cheap to clone.
#[derive(Clone)]
pub struct SharedInformerFactory {
    inner: Arc<FactoryInner>,
}

impl std::fmt::Debug for SharedInformerFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let informers = self
            .inner
            .informers
            .lock()
            .map(|i| {
                i.iter()
                    .map(|(k, _)| k.resource.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        f.debug_struct("SharedInformerFactory")
            .field("namespace", &self.inner.namespace)
            .field("informers", &informers)
            .finish_non_exhaustive()
    }
}

impl SharedInformerFactory {
    /// A factory with default options.
    pub fn new(rest: RestClient) -> Self {
        Self::builder(rest).build()
    }

    /// A factory with options.
    pub fn builder(rest: RestClient) -> SharedInformerFactoryBuilder {
        SharedInformerFactoryBuilder {
            rest,
            namespace: None,
            tweak: None,
            default_resync: Duration::ZERO,
            use_watch_list: true,
            transforms: HashMap::new(),
        }
    }

    fn options(&self) -> ReflectorOptions {
        let mut options = ReflectorOptions::default();
        if let Some(tweak) = &self.inner.tweak {
            tweak(&mut options.list_options);
        }
        options.use_watch_list = self.inner.use_watch_list;
        options
    }

    /// The informer for `key`, made by `make` the first time; started at once if the factory
    /// already runs.
    fn get_or_make<K: Object>(
        &self,
        key: InformerKey,
        make: impl FnOnce() -> Client<K>,
    ) -> SharedIndexInformer<K> {
        let mut informers = self
            .inner
            .informers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, existing)) = informers.iter().find(|(k, _)| *k == key)
            && let Some(informer) = existing.as_any().downcast_ref::<SharedIndexInformer<K>>()
        {
            return informer.clone();
        }
        let informer = SharedIndexInformer::new(make(), self.options(), self.inner.default_resync);
        if let Some(transform) = self
            .inner
            .transforms
            .get(&TypeId::of::<K>())
            .and_then(|t| t.downcast_ref::<Transform<K>>())
        {
            informer.set_shared_transform(transform.clone());
        }
        informers.push((key, Arc::new(informer.clone())));
        informer
    }

    /// The shared informer for the typed resource `K` (created on first use). Informers
    /// created after [`SharedInformerFactory::start`] need another `start` call, as in
    /// client-go.
    pub fn informer<K: Resource>(&self) -> SharedIndexInformer<K> {
        let namespace = self
            .inner
            .namespace
            .as_deref()
            .filter(|_| K::Scope::NAMESPACED);
        let target = Target::of::<K>(namespace);
        let key = InformerKey {
            object: TypeId::of::<K>(),
            resource: format!("{}.{}", K::PLURAL, K::api_version()),
        };
        self.get_or_make(key, || Client::for_target(self.inner.rest.clone(), target))
    }

    /// The lister of the typed resource `K`, over its shared informer.
    pub fn lister<K: Resource>(&self) -> Lister<K> {
        self.informer::<K>().lister()
    }

    /// The shared informer of unstructured objects for `gvr` (client-go's
    /// `dynamicinformer`); `namespaced` says whether the resource lives in namespaces.
    pub fn dynamic_informer(
        &self,
        gvr: &GroupVersionResource,
        namespaced: bool,
    ) -> SharedIndexInformer<DynamicObject> {
        let dynamic = DynamicClient::new(self.inner.rest.clone());
        self.gvr_informer(gvr, namespaced, |ns| match ns {
            Some(ns) => dynamic.namespaced(gvr, ns),
            None => dynamic.cluster(gvr, namespaced),
        })
    }

    /// The shared informer of metadata-only objects for `gvr` (client-go's
    /// `metadatainformer`).
    pub fn metadata_informer(
        &self,
        gvr: &GroupVersionResource,
        namespaced: bool,
    ) -> SharedIndexInformer<PartialObjectMetadata> {
        let metadata = MetadataClient::new(self.inner.rest.clone());
        self.gvr_informer(gvr, namespaced, |ns| match ns {
            Some(ns) => metadata.namespaced(gvr, ns),
            None => metadata.cluster(gvr, namespaced),
        })
    }

    /// The informer of `K` objects for `gvr`; `client` makes its client for the factory's
    /// namespace (`None`: cluster-wide, or every namespace).
    fn gvr_informer<K: Object>(
        &self,
        gvr: &GroupVersionResource,
        namespaced: bool,
        client: impl FnOnce(Option<&str>) -> Client<K>,
    ) -> SharedIndexInformer<K> {
        let key = InformerKey {
            object: TypeId::of::<K>(),
            resource: gvr.to_string(),
        };
        let namespace = self.inner.namespace.as_deref().filter(|_| namespaced);
        self.get_or_make(key, || client(namespace))
    }

    fn all(&self) -> Vec<(InformerKey, Arc<dyn Managed>)> {
        self.inner
            .informers
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    /// Starts every informer made so far that is not running yet (on the current Tokio
    /// runtime).
    pub fn start(&self) -> Result<(), Error> {
        for (_, informer) in self.all() {
            informer.start()?;
        }
        Ok(())
    }

    /// Waits until every started informer has synced; the resources that have and have not.
    /// An informer made after the last [`SharedInformerFactory::start`] is not waited for: it
    /// is reported as not synced.
    pub async fn wait_for_cache_sync(&self) -> HashMap<String, bool> {
        let mut out = HashMap::new();
        for (key, informer) in self.all() {
            let synced = informer.is_started() && informer.wait_synced().await;
            out.insert(key.resource, synced);
        }
        out
    }

    /// Whether every informer has synced.
    pub fn has_synced(&self) -> bool {
        self.all().iter().all(|(_, i)| i.has_synced())
    }

    /// Stops every informer and waits until their tasks have ended.
    pub async fn shutdown(&self) {
        let all = self.all();
        for (_, informer) in &all {
            informer.shutdown();
        }
        for (_, informer) in all {
            informer.wait_stopped().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::GroupVersionResource;

    #[tokio::test]
    async fn informers_made_after_start_are_reported_not_waited_for() {
        let config = crate::rest::Config::new(url::Url::parse("https://127.0.0.1:1").expect("url"));
        let factory = SharedInformerFactory::new(RestClient::new(&config).expect("client"));
        factory.start().expect("nothing to start yet");
        let gvr = GroupVersionResource {
            group: String::new(),
            version: "v1".into(),
            resource: "configmaps".into(),
        };
        let informer = factory.dynamic_informer(&gvr, true);
        let same = factory.dynamic_informer(&gvr, true);
        assert!(!informer.is_started() && !same.is_started());
        let synced = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            factory.wait_for_cache_sync(),
        )
        .await
        .expect("an informer that was never started is not waited for");
        assert_eq!(synced.get("configmaps.v1."), Some(&false), "{synced:?}");
    }
}
