//! The gate between tests that share the cluster and tests that disturb it.
//!
//! Shared holders never wait for each other, and a new shared holder is let in even while an
//! exclusive one waits (a test may make a second namespace while holding its first; a
//! writer-preferring lock such as tokio's `RwLock` would deadlock there). An exclusive holder
//! waits until no shared holder is left and keeps new ones out until it is dropped.

use std::sync::{Mutex, MutexGuard, OnceLock};

use tokio::sync::Notify;

#[derive(Default)]
struct State {
    shared: usize,
    exclusive: bool,
}

#[derive(Default)]
struct Gate {
    state: Mutex<State>,
    changed: Notify,
}

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(Gate::default)
}

impl Gate {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test must not wedge the others: the state stays consistent either way.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn wait_until(&self, mut try_enter: impl FnMut(&mut State) -> bool) {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if try_enter(&mut self.state()) {
                return;
            }
            notified.await;
        }
    }
}

/// Held while a test uses the cluster alongside others.
pub struct Shared(());

/// Held while a test has the cluster to itself.
pub struct Exclusive(());

pub async fn shared() -> Shared {
    gate()
        .wait_until(|s| {
            let ok = !s.exclusive;
            if ok {
                s.shared += 1;
            }
            ok
        })
        .await;
    Shared(())
}

pub async fn exclusive() -> Exclusive {
    gate()
        .wait_until(|s| {
            let ok = !s.exclusive && s.shared == 0;
            if ok {
                s.exclusive = true;
            }
            ok
        })
        .await;
    Exclusive(())
}

impl Drop for Shared {
    fn drop(&mut self) {
        gate().state().shared -= 1;
        gate().changed.notify_waiters();
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        gate().state().exclusive = false;
        gate().changed.notify_waiters();
    }
}
