//! [`Store`]: the thread-safe, indexed cache of objects behind an informer, as client-go's
//! `cache.Indexer` (`threadSafeMap` with `Indexers`).
//!
//! - Objects are keyed `namespace/name` (just `name` for cluster-scoped objects), client-go's
//!   `MetaNamespaceKeyFunc`.
//! - Objects are held as `Arc<K>`: a reader gets the same allocation the cache holds, never a
//!   deep copy. Treat them as read-only (they are; `Arc` gives no `&mut`).
//! - Indexes map an index value (e.g. a namespace, a node name) to the keys of the objects that
//!   have it. The [`NAMESPACE_INDEX`] is always there; more are added with
//!   [`Store::add_index`].
//! - [`Store::replace`] swaps the whole contents (a relist) in one step under the write lock:
//!   a reader sees the old contents or the new, never a mix. The new maps are built before the
//!   lock is taken, so readers are held up only for the swap.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::client::Object;

/// The name of the built-in index of objects by namespace (client-go's
/// `cache.NamespaceIndex`).
pub const NAMESPACE_INDEX: &str = "namespace";

/// Computes the values an object is indexed under (none, one or several).
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// What can go wrong with an index lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// No index of that name.
    #[error("there is no index named {0:?}")]
    NoSuchIndex(String),
    /// An index of that name exists already.
    #[error("an index named {0:?} exists already")]
    Exists(String),
}

/// The key of an object in a [`Store`]: `namespace/name`, or `name` when it has no namespace.
pub fn object_key<K: Object>(obj: &K) -> String {
    let name = obj.object_name().unwrap_or_default();
    match obj.object_namespace() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// Splits a key made by [`object_key`] into namespace (if any) and name.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, key),
    }
}

struct Inner<K> {
    items: HashMap<String, Arc<K>>,
    index_fns: HashMap<String, IndexFn<K>>,
    indices: HashMap<String, HashMap<String, HashSet<String>>>,
}

/// A thread-safe, indexed cache of objects; cheap to clone (clones share the contents).
pub struct Store<K> {
    inner: Arc<RwLock<Inner<K>>>,
}

impl<K> Clone for Store<K> {
    fn clone(&self) -> Self {
        Store {
            inner: self.inner.clone(),
        }
    }
}

impl<K> std::fmt::Debug for Store<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.read();
        f.debug_struct("Store")
            .field("objects", &inner.items.len())
            .field("indexes", &inner.index_fns.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<K: Object> Default for Store<K> {
    fn default() -> Self {
        Store::new()
    }
}

fn namespace_of<K: Object>(obj: &K) -> Vec<String> {
    obj.object_namespace()
        .filter(|ns| !ns.is_empty())
        .map(|ns| vec![ns.to_string()])
        .unwrap_or_default()
}

impl<K> Store<K> {
    // A panic while the lock was held cannot leave the maps half-updated in a way that
    // matters more than losing the cache, so a poisoned lock is used as it is.
    fn read(&self) -> RwLockReadGuard<'_, Inner<K>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<K>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K: Object> Store<K> {
    /// An empty store with the namespace index.
    pub fn new() -> Self {
        let func: IndexFn<K> = Arc::new(namespace_of::<K>);
        let index_fns = HashMap::from([(NAMESPACE_INDEX.to_string(), func)]);
        let indices = HashMap::from([(NAMESPACE_INDEX.to_string(), HashMap::new())]);
        Store {
            inner: Arc::new(RwLock::new(Inner {
                items: HashMap::new(),
                index_fns,
                indices,
            })),
        }
    }

    /// Adds an index named `name`; it is built at once for the objects already held.
    pub fn add_index(&self, name: &str, func: IndexFn<K>) -> Result<(), IndexError> {
        let mut inner = self.write();
        if inner.index_fns.contains_key(name) {
            return Err(IndexError::Exists(name.to_string()));
        }
        let mut by_value: HashMap<String, HashSet<String>> = HashMap::new();
        for (key, obj) in &inner.items {
            for value in func(obj) {
                by_value.entry(value).or_default().insert(key.clone());
            }
        }
        inner.index_fns.insert(name.to_string(), func);
        inner.indices.insert(name.to_string(), by_value);
        Ok(())
    }

    /// The object stored under `key`.
    pub fn get_by_key(&self, key: &str) -> Option<Arc<K>> {
        self.read().items.get(key).cloned()
    }

    /// The stored version of `obj` (same namespace and name).
    pub fn get(&self, obj: &K) -> Option<Arc<K>> {
        self.get_by_key(&object_key(obj))
    }

    /// Every object, in no particular order.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.read().items.values().cloned().collect()
    }

    /// Every key, in no particular order.
    pub fn list_keys(&self) -> Vec<String> {
        self.read().items.keys().cloned().collect()
    }

    /// How many objects are held.
    pub fn len(&self) -> usize {
        self.read().items.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.read().items.is_empty()
    }

    /// Adds or replaces an object; returns the one it replaced.
    pub fn upsert(&self, obj: Arc<K>) -> Option<Arc<K>> {
        let key = object_key(obj.as_ref());
        let mut inner = self.write();
        let old = inner.items.insert(key.clone(), obj.clone());
        inner.reindex(&key, old.as_deref(), Some(&obj));
        old
    }

    /// Removes the object under `key`; returns it.
    pub fn delete(&self, key: &str) -> Option<Arc<K>> {
        let mut inner = self.write();
        let old = inner.items.remove(key);
        if let Some(old) = &old {
            inner.reindex(key, Some(old), None);
        }
        old
    }

    /// Replaces the whole contents with `objects` at once (readers see the old contents or
    /// the new, never a mix); returns the old contents.
    pub fn replace(&self, objects: Vec<Arc<K>>) -> HashMap<String, Arc<K>> {
        let index_fns = self.read().index_fns.clone();
        let mut items = HashMap::with_capacity(objects.len());
        for obj in objects {
            items.insert(object_key(obj.as_ref()), obj);
        }
        let indices = build_indices(&index_fns, &items);
        let mut inner = self.write();
        if inner.index_fns.len() != index_fns.len() {
            // An index was added meanwhile: build again under the lock (rare).
            let indices = build_indices(&inner.index_fns, &items);
            inner.indices = indices;
        } else {
            inner.indices = indices;
        }
        std::mem::replace(&mut inner.items, items)
    }

    /// The objects whose index `index` has the value `value`.
    pub fn by_index(&self, index: &str, value: &str) -> Result<Vec<Arc<K>>, IndexError> {
        let inner = self.read();
        let by_value = inner
            .indices
            .get(index)
            .ok_or_else(|| IndexError::NoSuchIndex(index.to_string()))?;
        Ok(by_value
            .get(value)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| inner.items.get(k).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The keys of the objects whose index `index` has the value `value`.
    pub fn index_keys(&self, index: &str, value: &str) -> Result<Vec<String>, IndexError> {
        let inner = self.read();
        let by_value = inner
            .indices
            .get(index)
            .ok_or_else(|| IndexError::NoSuchIndex(index.to_string()))?;
        Ok(by_value
            .get(value)
            .map(|keys| keys.iter().cloned().collect())
            .unwrap_or_default())
    }

    /// Every value index `index` holds (client-go's `ListIndexFuncValues`); empty for an
    /// unknown index.
    pub fn list_index_func_values(&self, index: &str) -> Vec<String> {
        self.read()
            .indices
            .get(index)
            .map(|by_value| by_value.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The objects an index function would put next to `obj` (client-go's `Index`): every
    /// object sharing at least one of its index values.
    pub fn index(&self, index: &str, obj: &K) -> Result<Vec<Arc<K>>, IndexError> {
        let inner = self.read();
        let func = inner
            .index_fns
            .get(index)
            .ok_or_else(|| IndexError::NoSuchIndex(index.to_string()))?;
        let mut keys = HashSet::new();
        if let Some(by_value) = inner.indices.get(index) {
            for value in func(obj) {
                if let Some(k) = by_value.get(&value) {
                    keys.extend(k.iter().cloned());
                }
            }
        }
        Ok(keys
            .iter()
            .filter_map(|k| inner.items.get(k).cloned())
            .collect())
    }
}

fn build_indices<K>(
    index_fns: &HashMap<String, IndexFn<K>>,
    items: &HashMap<String, Arc<K>>,
) -> HashMap<String, HashMap<String, HashSet<String>>> {
    index_fns
        .iter()
        .map(|(name, func)| {
            let mut by_value: HashMap<String, HashSet<String>> = HashMap::new();
            for (key, obj) in items {
                for value in func(obj) {
                    by_value.entry(value).or_default().insert(key.clone());
                }
            }
            (name.clone(), by_value)
        })
        .collect()
}

impl<K> Inner<K> {
    /// Moves `key` from the index values of `old` to those of `new`.
    fn reindex(&mut self, key: &str, old: Option<&K>, new: Option<&K>) {
        for (name, func) in &self.index_fns {
            let Some(by_value) = self.indices.get_mut(name) else {
                continue;
            };
            let old_values = old.map(|o| func(o)).unwrap_or_default();
            let new_values = new.map(|n| func(n)).unwrap_or_default();
            for value in &old_values {
                if new_values.contains(value) {
                    continue;
                }
                if let Some(keys) = by_value.get_mut(value) {
                    keys.remove(key);
                    if keys.is_empty() {
                        by_value.remove(value);
                    }
                }
            }
            for value in new_values {
                if old_values.contains(&value) {
                    continue; // already indexed under this value
                }
                by_value.entry(value).or_default().insert(key.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::DynamicObject;
    use serde_json::json;

    fn obj(ns: &str, name: &str, node: &str) -> Arc<DynamicObject> {
        Arc::new(DynamicObject(json!({
            "metadata": {"namespace": ns, "name": name, "labels": {"node": node}},
        })))
    }

    fn names(mut objs: Vec<Arc<DynamicObject>>) -> Vec<String> {
        objs.sort_by_key(|o| object_key(o.as_ref()));
        objs.iter().map(|o| object_key(o.as_ref())).collect()
    }

    fn by_node() -> IndexFn<DynamicObject> {
        Arc::new(|o: &DynamicObject| {
            o.object_label("node")
                .map(|n| vec![n.to_string()])
                .unwrap_or_default()
        })
    }

    #[test]
    fn keys_are_namespace_slash_name_or_just_the_name() {
        assert_eq!(object_key(obj("ns", "a", "n").as_ref()), "ns/a");
        let cluster = DynamicObject(json!({"metadata": {"name": "node-1"}}));
        assert_eq!(object_key(&cluster), "node-1");
        assert_eq!(split_key("ns/a"), (Some("ns"), "a"));
        assert_eq!(split_key("node-1"), (None, "node-1"));
    }

    #[test]
    fn readers_share_the_stored_allocation() {
        let store = Store::new();
        let a = obj("ns", "a", "n1");
        store.upsert(a.clone());
        let read = store.get_by_key("ns/a").expect("stored");
        assert!(Arc::ptr_eq(&a, &read));
        assert!(Arc::ptr_eq(&a, &store.list()[0]));
    }

    #[test]
    fn indexes_follow_updates_deletes_and_replaces() {
        let store = Store::new();
        store.add_index("node", by_node()).expect("new index");
        assert_eq!(
            store.add_index("node", by_node()),
            Err(IndexError::Exists("node".into()))
        );
        store.upsert(obj("ns1", "a", "n1"));
        store.upsert(obj("ns1", "b", "n1"));
        store.upsert(obj("ns2", "c", "n2"));
        assert_eq!(
            names(store.by_index("node", "n1").expect("index")),
            ["ns1/a", "ns1/b"]
        );
        assert_eq!(
            names(store.by_index(NAMESPACE_INDEX, "ns2").expect("index")),
            ["ns2/c"]
        );
        // b moves to n2: it leaves n1's entry.
        let old = store.upsert(obj("ns1", "b", "n2")).expect("replaced");
        assert_eq!(old.object_label("node"), Some("n1"));
        assert_eq!(
            names(store.by_index("node", "n2").expect("index")),
            ["ns1/b", "ns2/c"]
        );
        assert_eq!(store.index_keys("node", "n1").expect("index"), ["ns1/a"]);
        store.delete("ns1/a");
        assert!(store.by_index("node", "n1").expect("index").is_empty());
        let mut values = store.list_index_func_values("node");
        values.sort();
        assert_eq!(values, ["n2"]);
        assert_eq!(
            names(store.index("node", &obj("x", "y", "n2")).expect("index")),
            ["ns1/b", "ns2/c"]
        );
        assert!(matches!(
            store.by_index("nope", "x"),
            Err(IndexError::NoSuchIndex(_))
        ));

        let old = store.replace(vec![obj("ns3", "d", "n3")]);
        assert_eq!(old.len(), 2);
        assert_eq!(store.list_keys(), ["ns3/d"]);
        assert!(store.by_index("node", "n2").expect("index").is_empty());
        assert_eq!(
            store.index_keys(NAMESPACE_INDEX, "ns3").expect("ns"),
            ["ns3/d"]
        );
    }

    #[test]
    fn an_index_added_later_covers_what_is_already_stored() {
        let store = Store::new();
        store.upsert(obj("ns", "a", "n1"));
        store.add_index("node", by_node()).expect("new index");
        assert_eq!(store.index_keys("node", "n1").expect("index"), ["ns/a"]);
    }

    #[test]
    fn readers_never_see_a_half_replaced_store() {
        let store: Store<DynamicObject> = Store::new();
        let generation = |g: usize| -> Vec<Arc<DynamicObject>> {
            (0..200)
                .map(|i| obj(&format!("g{g}"), &format!("o{i}"), "n"))
                .collect()
        };
        store.replace(generation(0));
        let reader = {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    let all = store.list();
                    assert_eq!(all.len(), 200);
                    let first = all[0].object_namespace().map(str::to_string);
                    assert!(all.iter().all(|o| o.object_namespace() == first.as_deref()));
                }
            })
        };
        for g in 1..200 {
            store.replace(generation(g));
        }
        reader
            .join()
            .expect("the reader saw only whole generations");
    }
}
