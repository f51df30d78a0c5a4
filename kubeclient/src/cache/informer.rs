//! [`SharedIndexInformer`]: one [`Reflector`] feeding one [`Store`] and any number of event
//! handlers, as client-go's `sharedIndexInformer` with its `sharedProcessor`.
//!
//! - Handlers ([`EventHandler`]) get `on_add` (with whether the object came with the initial
//!   state), `on_update(old, new)` and `on_delete`. A delete the informer could only infer
//!   from a relist (the object vanished while the watch was down) arrives as
//!   [`Deleted::StateUnknown`] with the last state seen, client-go's `DeletedFinalStateUnknown`.
//! - On a relist, every listed object is an update of the cached one (or an add if new), as
//!   client-go's `Replaced` deltas are.
//! - Each handler has its own unbounded buffer and its own task, so a slow handler delays
//!   only itself: neither the other handlers nor the reflector wait for it (client-go's
//!   `processorListener`). While a handler stalls, its buffer grows by one notification (a few
//!   pointers) per change, and keeps alive the objects those notifications point at — objects
//!   the cache itself may already have replaced.
//! - Handlers may be added before or after [`SharedIndexInformer::start`]; a late one first
//!   receives an add (flagged as initial) for every cached object. Each handler may ask for
//!   periodic resyncs: an `on_update(obj, obj)` for every cached object.
//! - A transform runs on every object as soon as it is decoded, before it is kept, stored or
//!   handed to handlers (e.g. to drop `managedFields`, over a quarter of a decoded Pod's heap with
//!   the generated types and more than half with k8s-openapi's), so it lowers the peak of an
//!   initial sync as well.
//! - Handlers run on the Tokio runtime: keep them short (typically: put a key on a work
//!   queue); a handler that blocks its thread holds up a runtime worker.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Error;
use super::lister::Lister;
use super::reflector::{Reflector, ReflectorOptions, ReflectorSink};
use super::store::{IndexError, IndexFn, Store, object_key};
use crate::client::{Client, Object};

/// A deleted object, as handlers receive it.
#[derive(Debug, Clone)]
pub enum Deleted<K> {
    /// The watch reported the delete; the object's last state.
    Final(Arc<K>),
    /// The object was found missing by a relist, so its deletion was missed; the last state the
    /// cache held, which may be stale (client-go's `DeletedFinalStateUnknown`).
    StateUnknown {
        /// The object's key.
        key: String,
        /// The last state seen.
        last: Arc<K>,
    },
}

impl<K> Deleted<K> {
    /// The object's last known state.
    pub fn object(&self) -> &Arc<K> {
        match self {
            Deleted::Final(obj) | Deleted::StateUnknown { last: obj, .. } => obj,
        }
    }

    /// Whether this is a tombstone for a delete the watch missed.
    pub fn is_state_unknown(&self) -> bool {
        matches!(self, Deleted::StateUnknown { .. })
    }
}

/// What an informer tells its handlers. Every method has an empty default.
pub trait EventHandler<K>: Send + Sync + 'static {
    /// An object appeared: in the initial state (`is_in_initial_list`), or later.
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        let _ = (obj, is_in_initial_list);
    }
    /// An object changed (or, on a resync or relist, is reported again: `old` may equal `new`).
    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        let _ = (old, new);
    }
    /// An object was deleted.
    fn on_delete(&self, obj: &Deleted<K>) {
        let _ = obj;
    }
}

type AddFn<K> = Box<dyn Fn(&Arc<K>, bool) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(&Arc<K>, &Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(&Deleted<K>) + Send + Sync>;

/// An [`EventHandler`] made of closures (client-go's `ResourceEventHandlerFuncs`).
#[must_use]
pub struct HandlerFns<K> {
    add: Option<AddFn<K>>,
    update: Option<UpdateFn<K>>,
    delete: Option<DeleteFn<K>>,
}

impl<K> Default for HandlerFns<K> {
    fn default() -> Self {
        HandlerFns {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> HandlerFns<K> {
    /// No callbacks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Called on adds.
    pub fn on_add(mut self, f: impl Fn(&Arc<K>, bool) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }

    /// Called on updates.
    pub fn on_update(mut self, f: impl Fn(&Arc<K>, &Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }

    /// Called on deletes.
    pub fn on_delete(mut self, f: impl Fn(&Deleted<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K: Send + Sync + 'static> EventHandler<K> for HandlerFns<K> {
    fn on_add(&self, obj: &Arc<K>, is_in_initial_list: bool) {
        if let Some(f) = &self.add {
            f(obj, is_in_initial_list);
        }
    }

    fn on_update(&self, old: &Arc<K>, new: &Arc<K>) {
        if let Some(f) = &self.update {
            f(old, new);
        }
    }

    fn on_delete(&self, obj: &Deleted<K>) {
        if let Some(f) = &self.delete {
            f(obj);
        }
    }
}

#[derive(Clone)]
enum Notification<K> {
    Add(Arc<K>, bool),
    Update(Arc<K>, Arc<K>),
    Delete(Deleted<K>),
}

/// What a listener's task is started with: its buffer's receiving end and its handler.
type PendingTask<K> = (
    mpsc::UnboundedReceiver<Notification<K>>,
    Arc<dyn EventHandler<K>>,
);

/// A handler's buffer, and its task once the informer runs.
struct Listener<K> {
    id: u64,
    tx: mpsc::UnboundedSender<Notification<K>>,
    /// Taken when the listener's task starts.
    pending: Option<PendingTask<K>>,
    resync: Duration,
    /// Initial-list notifications not yet handled.
    initial_pending: Arc<AtomicUsize>,
}

struct Dispatch<K> {
    listeners: Vec<Listener<K>>,
    synced: bool,
}

/// A function run on every object before it is stored.
pub(crate) type Transform<K> = Arc<dyn Fn(K) -> K + Send + Sync>;
type ErrorHandler = Arc<dyn Fn(&Error) + Send + Sync>;

struct Shared<K> {
    client: Client<K>,
    options: Mutex<ReflectorOptions>,
    store: Store<K>,
    dispatch: Mutex<Dispatch<K>>,
    synced_tx: tokio::sync::watch::Sender<bool>,
    transform: Mutex<Option<Transform<K>>>,
    error_handler: Mutex<Option<ErrorHandler>>,
    default_resync: Duration,
    cancel: CancellationToken,
    started: AtomicBool,
    runtime: Mutex<Option<tokio::runtime::Handle>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    next_id: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A handle on a registered handler (client-go's `ResourceEventHandlerRegistration`).
#[derive(Debug, Clone)]
pub struct HandlerRegistration {
    id: u64,
    initial_pending: Arc<AtomicUsize>,
    informer_synced: tokio::sync::watch::Receiver<bool>,
}

impl HandlerRegistration {
    /// Whether the informer has synced and this handler has handled every object of the
    /// initial state.
    pub fn has_synced(&self) -> bool {
        *self.informer_synced.borrow() && self.initial_pending.load(Ordering::Acquire) == 0
    }
}

/// An informer shared by everyone interested in one resource; cheap to clone.
pub struct SharedIndexInformer<K> {
    shared: Arc<Shared<K>>,
}

impl<K> Clone for SharedIndexInformer<K> {
    fn clone(&self) -> Self {
        SharedIndexInformer {
            shared: self.shared.clone(),
        }
    }
}

impl<K> std::fmt::Debug for SharedIndexInformer<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedIndexInformer")
            .field("client", &self.shared.client)
            .field("started", &self.shared.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<K: Object> SharedIndexInformer<K> {
    /// An informer over the objects `client` reaches; `default_resync` is the resync period
    /// of handlers added without one (zero: no resync).
    pub fn new(client: Client<K>, options: ReflectorOptions, default_resync: Duration) -> Self {
        let (synced_tx, _) = tokio::sync::watch::channel(false);
        SharedIndexInformer {
            shared: Arc::new(Shared {
                client,
                options: Mutex::new(options),
                store: Store::new(),
                dispatch: Mutex::new(Dispatch {
                    listeners: Vec::new(),
                    synced: false,
                }),
                synced_tx,
                transform: Mutex::new(None),
                error_handler: Mutex::new(None),
                default_resync,
                cancel: CancellationToken::new(),
                started: AtomicBool::new(false),
                runtime: Mutex::new(None),
                tasks: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// The cache (client-go's `GetIndexer`).
    pub fn store(&self) -> Store<K> {
        self.shared.store.clone()
    }

    /// A lister over the cache.
    pub fn lister(&self) -> Lister<K> {
        Lister::new(self.shared.store.clone())
    }

    /// Adds an index to the cache (at any time; it is built for what is held).
    pub fn add_index(&self, name: &str, func: IndexFn<K>) -> Result<(), IndexError> {
        self.shared.store.add_index(name, func)
    }

    /// Sets the transform applied to every object before it is stored; refused once started.
    pub fn set_transform(&self, f: impl Fn(K) -> K + Send + Sync + 'static) -> Result<(), Error> {
        self.before_start()?;
        *lock(&self.shared.transform) = Some(Arc::new(f));
        Ok(())
    }

    /// Sets a transform before start (the factory's per-type transform).
    pub(crate) fn set_shared_transform(&self, f: Transform<K>) {
        *lock(&self.shared.transform) = Some(f);
    }

    /// Sets what is done with list and watch errors (default: a `tracing` warning); refused
    /// once started.
    pub fn set_watch_error_handler(
        &self,
        f: impl Fn(&Error) + Send + Sync + 'static,
    ) -> Result<(), Error> {
        self.before_start()?;
        *lock(&self.shared.error_handler) = Some(Arc::new(f));
        Ok(())
    }

    /// Changes the reflector's options (selectors, streaming list); refused once started.
    pub fn set_reflector_options(&self, options: ReflectorOptions) -> Result<(), Error> {
        self.before_start()?;
        *lock(&self.shared.options) = options;
        Ok(())
    }

    fn before_start(&self) -> Result<(), Error> {
        if self.shared.started.load(Ordering::Acquire) {
            Err(Error::AlreadyStarted)
        } else {
            Ok(())
        }
    }

    /// Adds a handler with the informer's default resync period.
    pub fn add_event_handler(&self, handler: impl EventHandler<K>) -> HandlerRegistration {
        self.add_event_handler_with_resync(handler, self.shared.default_resync)
    }

    /// Adds a handler that is also sent every cached object as an update every `resync`
    /// (zero: never). A handler added after start first gets an add for every cached object.
    pub fn add_event_handler_with_resync(
        &self,
        handler: impl EventHandler<K>,
        resync: Duration,
    ) -> HandlerRegistration {
        let handler: Arc<dyn EventHandler<K>> = Arc::new(handler);
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        let initial_pending = Arc::new(AtomicUsize::new(0));
        let mut dispatch = lock(&self.shared.dispatch);
        if dispatch.synced {
            for obj in self.shared.store.list() {
                initial_pending.fetch_add(1, Ordering::AcqRel);
                let _ = tx.send(Notification::Add(obj, true));
            }
        }
        let mut listener = Listener {
            id,
            tx,
            pending: Some((rx, handler)),
            resync,
            initial_pending: initial_pending.clone(),
        };
        if let Some(runtime) = lock(&self.shared.runtime).clone() {
            self.spawn_listener(&runtime, &mut listener);
        }
        dispatch.listeners.push(listener);
        drop(dispatch);
        HandlerRegistration {
            id,
            initial_pending,
            informer_synced: self.shared.synced_tx.subscribe(),
        }
    }

    /// Removes a handler: nothing is sent to it after this call (what was already buffered
    /// for it is still delivered).
    pub fn remove_event_handler(&self, registration: &HandlerRegistration) {
        lock(&self.shared.dispatch)
            .listeners
            .retain(|l| l.id != registration.id);
    }

    fn spawn_listener(&self, runtime: &tokio::runtime::Handle, listener: &mut Listener<K>) {
        let Some((mut rx, handler)) = listener.pending.take() else {
            return;
        };
        let initial_pending = listener.initial_pending.clone();
        let cancel = self.shared.cancel.clone();
        let task = runtime.spawn(async move {
            loop {
                let next = tokio::select! {
                    _ = cancel.cancelled() => return,
                    next = rx.recv() => next,
                };
                let Some(notification) = next else { return };
                match &notification {
                    Notification::Add(obj, initial) => {
                        handler.on_add(obj, *initial);
                        if *initial {
                            initial_pending.fetch_sub(1, Ordering::AcqRel);
                        }
                    }
                    Notification::Update(old, new) => handler.on_update(old, new),
                    Notification::Delete(d) => handler.on_delete(d),
                }
            }
        });
        let mut tasks = lock(&self.shared.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
        if listener.resync > Duration::ZERO {
            tasks.push(self.spawn_resync(runtime, listener.id, listener.resync));
        }
    }

    /// Every `period`, an update (obj, obj) of every cached object for listener `id`.
    fn spawn_resync(
        &self,
        runtime: &tokio::runtime::Handle,
        id: u64,
        period: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let shared = Arc::downgrade(&self.shared);
        let cancel = self.shared.cancel.clone();
        runtime.spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let dispatch = lock(&shared.dispatch);
                if !dispatch.synced {
                    continue;
                }
                let Some(listener) = dispatch.listeners.iter().find(|l| l.id == id) else {
                    return;
                };
                for obj in shared.store.list() {
                    let _ = listener.tx.send(Notification::Update(obj.clone(), obj));
                }
            }
        })
    }

    /// Starts the reflector and the handlers' tasks on the current Tokio runtime (once; later
    /// calls do nothing). Fails outside a Tokio runtime.
    pub fn start(&self) -> Result<(), Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        if self.shared.started.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        *lock(&self.shared.runtime) = Some(runtime.clone());
        {
            let mut dispatch = lock(&self.shared.dispatch);
            for listener in dispatch.listeners.iter_mut() {
                self.spawn_listener(&runtime, listener);
            }
        }
        let reflector = Reflector::new(
            self.shared.client.clone(),
            lock(&self.shared.options).clone(),
        );
        let shared = self.shared.clone();
        let cancel = self.shared.cancel.clone();
        let task = runtime.spawn(async move {
            reflector.run(shared.as_ref(), cancel).await;
        });
        lock(&self.shared.tasks).push(task);
        Ok(())
    }

    /// Whether [`SharedIndexInformer::start`] was called.
    pub fn is_started(&self) -> bool {
        self.shared.started.load(Ordering::Acquire)
    }

    /// Whether the initial state has been stored.
    pub fn has_synced(&self) -> bool {
        *self.shared.synced_tx.borrow()
    }

    /// Waits until the initial state has been stored; false if the informer is shut down
    /// first.
    pub async fn wait_for_cache_sync(&self) -> bool {
        let mut synced = self.shared.synced_tx.subscribe();
        tokio::select! {
            result = synced.wait_for(|s| *s) => result.is_ok(),
            _ = self.shared.cancel.cancelled() => self.has_synced(),
        }
    }

    /// Stops the reflector and the handlers.
    pub fn shutdown(&self) {
        self.shared.cancel.cancel();
    }

    /// Stops, and waits until every task has ended.
    pub async fn shutdown_and_wait(&self) {
        self.shutdown();
        let tasks = std::mem::take(&mut *lock(&self.shared.tasks));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Whether [`SharedIndexInformer::shutdown`] was called.
    pub fn is_stopped(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }
}

impl<K: Object> Shared<K> {
    fn send_all(dispatch: &Dispatch<K>, notification: Notification<K>) {
        for listener in &dispatch.listeners {
            let _ = listener.tx.send(notification.clone());
        }
    }

    fn upsert(&self, obj: K) {
        let obj = Arc::new(obj);
        let dispatch = lock(&self.dispatch);
        let notification = match self.store.upsert(obj.clone()) {
            Some(old) => Notification::Update(old, obj),
            None => Notification::Add(obj, false),
        };
        Self::send_all(&dispatch, notification);
    }
}

impl<K: Object> ReflectorSink<K> for Shared<K> {
    fn replace(&self, objects: Vec<K>, _resource_version: &str) {
        let objects: Vec<Arc<K>> = objects.into_iter().map(Arc::new).collect();
        let mut dispatch = lock(&self.dispatch);
        let initial = !dispatch.synced;
        let mut old = self.store.replace(objects.clone());
        for obj in objects {
            let notification = match old.remove(&object_key(obj.as_ref())) {
                Some(previous) => Notification::Update(previous, obj),
                None => {
                    // Only initial adds are counted down by the listeners.
                    if initial {
                        for listener in &dispatch.listeners {
                            listener.initial_pending.fetch_add(1, Ordering::AcqRel);
                        }
                    }
                    Notification::Add(obj, initial)
                }
            };
            Self::send_all(&dispatch, notification);
        }
        for (key, last) in old {
            Self::send_all(
                &dispatch,
                Notification::Delete(Deleted::StateUnknown { key, last }),
            );
        }
        dispatch.synced = true;
        self.synced_tx.send_replace(true);
    }

    fn added(&self, obj: K) {
        self.upsert(obj);
    }

    fn modified(&self, obj: K) {
        self.upsert(obj);
    }

    fn deleted(&self, obj: K) {
        let obj = Arc::new(obj);
        let dispatch = lock(&self.dispatch);
        self.store.delete(&object_key(obj.as_ref()));
        Self::send_all(&dispatch, Notification::Delete(Deleted::Final(obj)));
    }

    fn transform(&self, obj: K) -> K {
        match lock(&self.transform).clone() {
            Some(f) => f(obj),
            None => obj,
        }
    }

    fn watch_error(&self, error: &Error) {
        match lock(&self.error_handler).clone() {
            Some(handler) => handler(error),
            None => tracing::warn!(client = ?self.client, %error, "informer: list/watch error"),
        }
    }
}
