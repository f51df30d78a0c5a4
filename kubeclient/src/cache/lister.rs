//! Listers: typed, read-only views of an informer's cache, as client-go's generated listers
//! (`PodLister`, `PodNamespaceLister`, ...) — one generic [`Lister`] serves every type.
//! Reads never reach the API server, and return the cached `Arc`s (no copies).

use std::sync::Arc;

use super::store::{NAMESPACE_INDEX, Store};
use crate::client::Object;
use kubeclient_core::labels::Selector;

/// Lists and gets objects from a cache.
pub struct Lister<K> {
    store: Store<K>,
}

impl<K> Clone for Lister<K> {
    fn clone(&self) -> Self {
        Lister {
            store: self.store.clone(),
        }
    }
}

impl<K> std::fmt::Debug for Lister<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lister")
            .field("store", &self.store)
            .finish()
    }
}

fn selected<K: Object>(objects: Vec<Arc<K>>, selector: &Selector) -> Vec<Arc<K>> {
    if selector.is_everything() {
        return objects;
    }
    objects
        .into_iter()
        .filter(|o| selector.matches(|key| o.object_label(key)))
        .collect()
}

impl<K: Object> Lister<K> {
    /// A lister over `store`.
    pub fn new(store: Store<K>) -> Self {
        Lister { store }
    }

    /// Every cached object (of every namespace) whose labels match `selector`.
    pub fn list(&self, selector: &Selector) -> Vec<Arc<K>> {
        selected(self.store.list(), selector)
    }

    /// A cluster-scoped object by name.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.store.get_by_key(name)
    }

    /// The objects of one namespace.
    pub fn namespaced(&self, namespace: &str) -> NamespaceLister<K> {
        NamespaceLister {
            store: self.store.clone(),
            namespace: namespace.to_string(),
        }
    }
}

/// Lists and gets the cached objects of one namespace.
pub struct NamespaceLister<K> {
    store: Store<K>,
    namespace: String,
}

impl<K> std::fmt::Debug for NamespaceLister<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamespaceLister")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl<K: Object> NamespaceLister<K> {
    /// The namespace's cached objects whose labels match `selector` (through the namespace
    /// index: the other namespaces are not scanned).
    pub fn list(&self, selector: &Selector) -> Vec<Arc<K>> {
        let objects = self
            .store
            .by_index(NAMESPACE_INDEX, &self.namespace)
            .unwrap_or_default();
        selected(objects, selector)
    }

    /// An object of the namespace by name.
    pub fn get(&self, name: &str) -> Option<Arc<K>> {
        self.store.get_by_key(&format!("{}/{name}", self.namespace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::DynamicObject;
    use serde_json::json;

    fn obj(ns: Option<&str>, name: &str, app: &str) -> Arc<DynamicObject> {
        Arc::new(DynamicObject(json!({
            "metadata": {"namespace": ns, "name": name, "labels": {"app": app}},
        })))
    }

    fn names(mut v: Vec<Arc<DynamicObject>>) -> Vec<String> {
        let mut out: Vec<String> = v
            .drain(..)
            .filter_map(|o| o.name().map(str::to_string))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn listers_select_by_labels_and_namespace() {
        let store = Store::new();
        store.upsert(obj(Some("a"), "web-1", "web"));
        store.upsert(obj(Some("a"), "db-1", "db"));
        store.upsert(obj(Some("b"), "web-2", "web"));
        let lister = Lister::new(store);
        let web = Selector::parse("app=web").expect("selector");
        assert_eq!(names(lister.list(&web)), ["web-1", "web-2"]);
        assert_eq!(names(lister.list(&Selector::everything())).len(), 3);
        let a = lister.namespaced("a");
        assert_eq!(names(a.list(&web)), ["web-1"]);
        assert_eq!(names(a.list(&Selector::everything())), ["db-1", "web-1"]);
        assert!(a.get("db-1").is_some());
        assert!(a.get("web-2").is_none());
        assert!(lister.namespaced("c").list(&web).is_empty());
    }

    #[test]
    fn cluster_scoped_objects_are_got_by_name() {
        let store = Store::new();
        store.upsert(obj(None, "node-1", "x"));
        let lister = Lister::new(store);
        assert!(lister.get("node-1").is_some());
        assert!(lister.get("node-2").is_none());
    }
}
