//! Waiting for a condition on one object, as client-go's `tools/watch.UntilWithSync`: the
//! object is watched through a [`SharedIndexInformer`] of its own (a field selector on its
//! name), so the wait survives dropped connections and API server restarts — the reflector
//! resumes the watch, or relists if it must — and sees the current state first, not only
//! the changes after the call.

use std::sync::Arc;
use std::time::Duration;

use super::Error;
use super::informer::{HandlerFns, SharedIndexInformer};
use super::reflector::ReflectorOptions;
use crate::client::{Client, Object};
use crate::rest::ListOptions;

/// Waits until `condition` holds for the object `name` that `client` reaches (`None` while it
/// does not exist), for at most `timeout`. Returns the object's state that satisfied the
/// condition (`None`: it held while the object did not exist, e.g. waiting for a deletion).
pub async fn wait_for<K: Object>(
    client: Client<K>,
    name: &str,
    timeout: Duration,
    condition: impl Fn(Option<&K>) -> bool,
) -> Result<Option<Arc<K>>, Error> {
    let options = ReflectorOptions {
        list_options: ListOptions {
            field_selector: Some(format!("metadata.name={name}")),
            ..ListOptions::default()
        },
        ..ReflectorOptions::default()
    };
    let informer = SharedIndexInformer::new(client, options, Duration::ZERO);
    let changed = Arc::new(tokio::sync::Notify::new());
    let notify = |n: &Arc<tokio::sync::Notify>| {
        let n = n.clone();
        move || n.notify_one()
    };
    let (on_add, on_update, on_delete) = (notify(&changed), notify(&changed), notify(&changed));
    informer.add_event_handler(
        HandlerFns::new()
            .on_add(move |_, _| on_add())
            .on_update(move |_, _| on_update())
            .on_delete(move |_| on_delete()),
    );
    informer.start()?;
    let result = tokio::time::timeout(timeout, async {
        informer.wait_for_cache_sync().await;
        loop {
            // The informer's filter is by name; the cache holds at most this object.
            let current = informer.store().list().into_iter().next();
            if condition(current.as_deref()) {
                return current;
            }
            changed.notified().await;
        }
    })
    .await;
    informer.shutdown();
    result.map_err(|_| Error::Timeout(timeout))
}
