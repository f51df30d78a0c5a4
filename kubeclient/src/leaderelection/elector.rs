//! [`LeaderElector`]: the acquire and renew loops of client-go's `LeaderElector`, its
//! callbacks ([`LeaderCallbacks`]) and a read-only view of its state ([`ElectionStatus`]).
//!
//! # The skew-safe expiry rule (client-go's)
//!
//! A candidate never trusts the times written in the Lease (`renewTime`, `acquireTime`): they
//! come from another machine's clock. It keeps the record it last read and the instant, on its
//! own monotonic clock, at which it saw that record change ([`Observation`]). Another holder's
//! lease counts as expired only when `observed_at + leaseDurationSeconds <= now`, both instants
//! local; `leaseDurationSeconds` is the one the holder wrote. A holder that renews changes the
//! record (its `renewTime` moves), which restarts the wait whatever its clock says. So any
//! constant clock offset between candidates cannot make two leaders; only clocks that run at
//! different *rates* can, and `lease_duration / renew_deadline` is the ratio of rates tolerated.
//!
//! The leader writes its own wall clock into `renewTime` (as a `MicroTime`) for people to read.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Error;
use super::config::{JITTER_FACTOR, LeaderElectionConfig};
use super::lease::LeaderElectionRecord;

/// The lease duration client-go writes when it releases a lease.
const RELEASED_LEASE_DURATION_SECONDS: i32 = 1;

type StartedLeading =
    Box<dyn FnOnce(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> + Send>;

type StoppedLeading = Box<dyn FnOnce() + Send>;
type NewLeader = Box<dyn FnMut(&str) + Send>;

/// What to do when leadership starts and stops, and when a new leader is seen (client-go's
/// `LeaderCallbacks`).
pub struct LeaderCallbacks {
    started: Option<StartedLeading>,
    stopped: Option<StoppedLeading>,
    new_leader: Option<NewLeader>,
}

impl std::fmt::Debug for LeaderCallbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderCallbacks")
            .field("on_started_leading", &self.started.is_some())
            .field("on_stopped_leading", &self.stopped.is_some())
            .field("on_new_leader", &self.new_leader.is_some())
            .finish()
    }
}

impl LeaderCallbacks {
    /// Callbacks whose `on_started_leading` is the work to do while leading. It is spawned as
    /// a task of its own once the lease is acquired, and given a token that is cancelled when
    /// leadership is lost, when the run is cancelled, or when the run's future is dropped.
    pub fn new<F, Fut>(on_started_leading: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        LeaderCallbacks {
            started: Some(Box::new(move |token| Box::pin(on_started_leading(token)))),
            stopped: None,
            new_leader: None,
        }
    }

    /// Called when [`LeaderElector::run`] returns, whether or not this candidate led (as in
    /// client-go, it is not a sign that leadership was held).
    #[must_use]
    pub fn on_stopped_leading(mut self, f: impl FnOnce() + Send + 'static) -> Self {
        self.stopped = Some(Box::new(f));
        self
    }

    /// Called with the holder's identity each time the observed holder changes, including the
    /// first holder seen and this candidate itself. It runs inside the election loop: keep it
    /// quick (log, send on a channel).
    #[must_use]
    pub fn on_new_leader(mut self, f: impl FnMut(&str) + Send + 'static) -> Self {
        self.new_leader = Some(Box::new(f));
        self
    }
}

/// What this candidate last read of the lease, and when it saw it change (local clock).
#[derive(Debug, Clone)]
struct Observation {
    record: LeaderElectionRecord,
    at: Instant,
}

impl Observation {
    /// Whether the observed lease is still valid at `now`: less than its holder's lease
    /// duration has passed, by the local clock, since it was seen to change.
    fn valid_at(&self, now: Instant) -> bool {
        let seconds = u64::try_from(self.record.lease_duration_seconds).unwrap_or(0);
        self.at + Duration::from_secs(seconds) > now
    }
}

/// Records `record` as observed at `now` if it differs from what was observed before; an
/// unchanged record keeps its first observation time (that is what lets a lease expire).
fn observe(observed: &mut Option<Observation>, record: &LeaderElectionRecord, now: Instant) {
    if observed.as_ref().is_none_or(|o| o.record != *record) {
        *observed = Some(Observation {
            record: record.clone(),
            at: now,
        });
    }
}

/// Given the lease just read (`current`, observed as `observed`), the record this candidate
/// writes to acquire or renew it at `now` (local) / `wall` (wall clock), or `None` when another
/// holder's lease is still valid.
fn next_record(
    current: &LeaderElectionRecord,
    observed: &Observation,
    now: Instant,
    identity: &str,
    lease_duration_seconds: i32,
    wall: jiff::Timestamp,
) -> Option<LeaderElectionRecord> {
    let mine = current.holder_identity == identity;
    if !current.holder_identity.is_empty() && !mine && observed.valid_at(now) {
        return None;
    }
    let mut next = LeaderElectionRecord {
        holder_identity: identity.to_string(),
        lease_duration_seconds,
        acquire_time: Some(wall),
        renew_time: Some(wall),
        lease_transitions: current.lease_transitions,
    };
    if mine {
        next.acquire_time = current.acquire_time;
    } else {
        next.lease_transitions = current.lease_transitions.saturating_add(1);
    }
    Some(next)
}

/// `period` stretched by a random part of up to `JITTER_FACTOR × period` (apimachinery's
/// `wait.Jitter`): the wait between tries to acquire.
fn jittered(period: Duration) -> Duration {
    crate::retry::add_jitter(period, JITTER_FACTOR)
}

#[derive(Debug, Clone, Default)]
struct State {
    leader: Option<String>,
    leading: bool,
}

/// A read-only view of an elector's state, usable while [`LeaderElector::run`] runs.
#[derive(Debug, Clone)]
pub struct ElectionStatus {
    state: watch::Receiver<State>,
}

impl ElectionStatus {
    /// Whether this candidate is leading: it acquired the lease and its renew loop has not
    /// ended.
    pub fn is_leader(&self) -> bool {
        self.state.borrow().leading
    }

    /// The holder last observed in the lease (client-go's `GetLeader`); `None` before any was
    /// observed, or when the lease has no holder.
    pub fn leader(&self) -> Option<String> {
        self.state.borrow().leader.clone()
    }
}

/// A candidate in a leader election on one Lease (client-go's `LeaderElector`).
///
/// ```no_run
/// # async fn demo(rest: kubeclient::rest::RestClient) -> Result<(), kubeclient::leaderelection::Error> {
/// use kubeclient::client::Client;
/// use kubeclient::leaderelection::{
///     CancellationToken, LeaderCallbacks, LeaderElectionConfig, LeaderElector, LeaseLock,
/// };
///
/// let lock = LeaseLock::new(Client::namespaced(rest, "default"), "my-controller", "pod-a");
/// let elector = LeaderElector::new(LeaderElectionConfig::new(lock).release_on_cancel(true))?;
/// let cancel = CancellationToken::new();
/// let callbacks = LeaderCallbacks::new(|leading: CancellationToken| async move {
///     // Do the work; stop when `leading` is cancelled.
///     leading.cancelled().await;
/// })
/// .on_new_leader(|who| println!("leader: {who}"));
/// elector.run(cancel, callbacks).await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LeaderElector {
    config: LeaderElectionConfig,
    observed: Option<Observation>,
    reported_leader: String,
    state: watch::Sender<State>,
}

impl LeaderElector {
    /// An elector for `config`, refused when the config is invalid (see
    /// [`LeaderElectionConfig`]).
    pub fn new(config: LeaderElectionConfig) -> Result<Self, Error> {
        config.validate()?;
        Ok(LeaderElector {
            config,
            observed: None,
            reported_leader: String::new(),
            state: watch::Sender::new(State::default()),
        })
    }

    /// A view of this elector's state that stays valid while it runs.
    pub fn status(&self) -> ElectionStatus {
        ElectionStatus {
            state: self.state.subscribe(),
        }
    }

    /// Runs the election until `cancel` is cancelled or leadership is lost, as client-go's
    /// `Run`: tries to acquire the lease every retry period (plus a random part of up to 1.2× the period); once it
    /// holds it, spawns `on_started_leading` and renews every retry period. When no renewal
    /// succeeds within the renew deadline, or `cancel` fires, it stops leading: the leading
    /// token is cancelled and, with `release_on_cancel`, the elector waits for the leading task
    /// to end, then releases the lease. `on_stopped_leading` is called last.
    pub async fn run(mut self, cancel: CancellationToken, mut callbacks: LeaderCallbacks) {
        let stopped = callbacks.stopped.take();
        if self.acquire(&cancel, &mut callbacks).await {
            tracing::info!(lease = %self.config.lock.describe(), identity = self.config.lock.identity(), "acquired the lease");
            let leading = cancel.child_token();
            // Cancels the leading token on every way out, the future being dropped included.
            let guard = leading.clone().drop_guard();
            self.state.send_modify(|s| s.leading = true);
            let task = callbacks
                .started
                .take()
                .map(|started| tokio::spawn(started(leading)));
            self.renew(&cancel, &mut callbacks).await;
            self.state.send_modify(|s| s.leading = false);
            drop(guard);
            if self.config.release_on_cancel {
                if let Some(task) = task {
                    // The work guarded by the lease must be over before another can lead.
                    if task.await.is_err() {
                        tracing::warn!(lease = %self.config.lock.describe(), "the leading task panicked or was aborted");
                    }
                }
                self.release().await;
            }
        }
        if let Some(stopped) = stopped {
            stopped();
        }
    }

    /// Tries until the lease is acquired (`true`) or `cancel` fires (`false`).
    async fn acquire(
        &mut self,
        cancel: &CancellationToken,
        callbacks: &mut LeaderCallbacks,
    ) -> bool {
        loop {
            let acquired = tokio::select! {
                biased;
                () = cancel.cancelled() => return false,
                acquired = self.try_acquire_or_renew() => acquired,
            };
            self.report_transition(callbacks);
            if acquired {
                return true;
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(jittered(self.config.retry_period)) => {}
            }
        }
    }

    /// Renews every retry period; returns when `cancel` fires or when no try succeeded within
    /// the renew deadline (each round tries at once, then every retry period).
    async fn renew(&mut self, cancel: &CancellationToken, callbacks: &mut LeaderCallbacks) {
        let retry = self.config.retry_period;
        loop {
            let deadline = Instant::now() + self.config.renew_deadline;
            let renewed = loop {
                let attempt = tokio::select! {
                    biased;
                    () = cancel.cancelled() => return,
                    attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()) => attempt,
                };
                match attempt {
                    Ok(true) => break true,
                    Err(_) => break false,
                    Ok(false) => {}
                }
                let next = Instant::now() + retry;
                if next >= deadline {
                    break false;
                }
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep_until(next) => {}
                }
            };
            self.report_transition(callbacks);
            if !renewed {
                tracing::info!(lease = %self.config.lock.describe(), identity = self.config.lock.identity(), "failed to renew the lease within the renew deadline; stopped leading");
                return;
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(retry) => {}
            }
        }
    }

    /// One try to acquire or renew the lease (client-go's `tryAcquireOrRenew`).
    async fn try_acquire_or_renew(&mut self) -> bool {
        let now = Instant::now();
        let wall = jiff::Timestamp::now();
        let identity = self.config.lock.identity().to_string();
        let seconds = self.config.lease_duration_seconds();

        // 1. The leader writes straight over the lease it last wrote, its resourceVersion
        //    guarding against anyone who wrote in between.
        if let Some(observed) = &self.observed
            && observed.record.holder_identity == identity
            && observed.valid_at(now)
        {
            let record = LeaderElectionRecord {
                holder_identity: identity.clone(),
                lease_duration_seconds: seconds,
                acquire_time: observed.record.acquire_time,
                renew_time: Some(wall),
                lease_transitions: observed.record.lease_transitions,
            };
            match self.config.lock.update(&record).await {
                Ok(()) => {
                    self.set_observed(record);
                    return true;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "renewing the lease directly failed; reading it")
                }
            }
        }

        // 2. Read the lease, or create it.
        let current = match self.config.lock.get().await {
            Ok(current) => current,
            Err(e) if e.is_not_found() => {
                let record = LeaderElectionRecord {
                    holder_identity: identity,
                    lease_duration_seconds: seconds,
                    acquire_time: Some(wall),
                    renew_time: Some(wall),
                    lease_transitions: 0,
                };
                return match self.config.lock.create(&record).await {
                    Ok(()) => {
                        self.set_observed(record);
                        true
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "creating the lease failed");
                        false
                    }
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the lease failed");
                return false;
            }
        };

        // 3. Note when the record changed; leave another holder's valid lease alone.
        observe(&mut self.observed, &current, Instant::now());
        let Some(observed) = &self.observed else {
            return false;
        };
        let Some(record) = next_record(&current, observed, now, &identity, seconds, wall) else {
            tracing::trace!(
                holder = current.holder_identity,
                "the lease is held and has not expired"
            );
            return false;
        };

        // 4. Write it; a 409 means another candidate wrote first.
        match self.config.lock.update(&record).await {
            Ok(()) => {
                self.set_observed(record);
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "updating the lease failed");
                false
            }
        }
    }

    /// Gives the lease up if this candidate still holds it: an empty holder, a one-second
    /// duration, both times set to now and the transitions kept (what client-go writes).
    /// Retries on conflict (a renewal cut short by the cancel may still have landed) until the
    /// renew deadline.
    async fn release(&mut self) -> bool {
        let deadline = self.config.renew_deadline;
        let attempt = async {
            loop {
                let current = match self.config.lock.get().await {
                    Ok(current) => current,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the lease to release it failed");
                        return false;
                    }
                };
                // Checked on the lease just read, so another holder's lease is never cleared.
                if current.holder_identity != self.config.lock.identity() {
                    return true;
                }
                let now = jiff::Timestamp::now();
                let released = LeaderElectionRecord {
                    holder_identity: String::new(),
                    lease_duration_seconds: RELEASED_LEASE_DURATION_SECONDS,
                    acquire_time: Some(now),
                    renew_time: Some(now),
                    lease_transitions: current.lease_transitions,
                };
                match self.config.lock.update(&released).await {
                    Ok(()) => {
                        self.set_observed(released);
                        return true;
                    }
                    Err(e) if e.is_conflict() => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "releasing the lease failed");
                        return false;
                    }
                }
            }
        };
        let released = tokio::time::timeout(deadline, attempt)
            .await
            .unwrap_or(false);
        if released {
            tracing::info!(lease = %self.config.lock.describe(), "released the lease");
        }
        released
    }

    fn set_observed(&mut self, record: LeaderElectionRecord) {
        let leader = Some(record.holder_identity.clone()).filter(|h| !h.is_empty());
        self.observed = Some(Observation {
            record,
            at: Instant::now(),
        });
        self.state.send_modify(|s| s.leader = leader);
    }

    /// Calls `on_new_leader` when the observed holder differs from the one last reported.
    fn report_transition(&mut self, callbacks: &mut LeaderCallbacks) {
        let Some(observed) = &self.observed else {
            return;
        };
        let holder = &observed.record.holder_identity;
        let leader = Some(holder.clone()).filter(|h| !h.is_empty());
        self.state.send_if_modified(|s| {
            let changed = s.leader != leader;
            s.leader.clone_from(&leader);
            changed
        });
        if *holder == self.reported_leader {
            return;
        }
        self.reported_leader.clone_from(holder);
        if holder.is_empty() {
            return;
        }
        if let Some(f) = callbacks.new_leader.as_mut() {
            f(holder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(holder: &str, seconds: i32) -> LeaderElectionRecord {
        LeaderElectionRecord {
            holder_identity: holder.to_string(),
            lease_duration_seconds: seconds,
            lease_transitions: 4,
            ..LeaderElectionRecord::default()
        }
    }

    fn wall(s: &str) -> jiff::Timestamp {
        s.parse().expect("a valid timestamp")
    }

    #[test]
    fn another_holder_expires_by_the_local_clock_only() {
        let t0 = Instant::now();
        let mut observed = None;
        // Written by a holder whose clock is an hour behind: its renewTime says nothing.
        let mut other = record("other", 3);
        other.renew_time = Some(wall("2000-01-01T00:00:00Z"));
        observe(&mut observed, &other, t0);
        let obs = observed.clone().expect("observed");
        let now_wall = wall("2026-11-29T08:00:00Z");
        assert!(next_record(&other, &obs, t0, "me", 15, now_wall).is_none());
        let almost = t0 + Duration::from_millis(2999);
        assert!(next_record(&other, &obs, almost, "me", 15, now_wall).is_none());
        // Re-reading the same record later does not restart the wait.
        observe(&mut observed, &other, almost);
        let obs = observed.clone().expect("observed");
        assert_eq!(obs.at, t0);
        let expired = t0 + Duration::from_secs(3);
        let taken = next_record(&other, &obs, expired, "me", 15, now_wall).expect("expired");
        assert_eq!(taken.holder_identity, "me");
        assert_eq!(taken.lease_duration_seconds, 15);
        assert_eq!(taken.lease_transitions, 5);
        assert_eq!(taken.acquire_time, Some(now_wall));
        assert_eq!(taken.renew_time, Some(now_wall));
    }

    #[test]
    fn a_renewal_restarts_the_wait() {
        let t0 = Instant::now();
        let mut observed = None;
        let mut other = record("other", 3);
        other.renew_time = Some(wall("2026-11-29T08:00:00Z"));
        observe(&mut observed, &other, t0);
        // Even a renewTime that goes backwards is a change.
        other.renew_time = Some(wall("2026-11-29T07:00:00Z"));
        let t2 = t0 + Duration::from_secs(2);
        observe(&mut observed, &other, t2);
        let obs = observed.expect("observed");
        assert_eq!(obs.at, t2);
        let at = t0 + Duration::from_secs(4);
        assert!(next_record(&other, &obs, at, "me", 15, wall("2026-01-01T00:00:00Z")).is_none());
    }

    #[test]
    fn the_holders_duration_decides_not_ours() {
        let t0 = Instant::now();
        let mut observed = None;
        let other = record("other", 60);
        observe(&mut observed, &other, t0);
        let obs = observed.expect("observed");
        // Our own configured duration (1 s) plays no part.
        let later = t0 + Duration::from_secs(30);
        assert!(next_record(&other, &obs, later, "me", 1, wall("2026-01-01T00:00:00Z")).is_none());
        // A missing or negative duration counts as zero: expired at once.
        let mut observed = None;
        observe(&mut observed, &record("other", -5), t0);
        assert!(!observed.expect("observed").valid_at(t0));
    }

    #[test]
    fn an_empty_holder_is_taken_at_once() {
        let t0 = Instant::now();
        let mut observed = None;
        let released = record("", 1);
        observe(&mut observed, &released, t0);
        let obs = observed.expect("observed");
        let next =
            next_record(&released, &obs, t0, "me", 15, wall("2026-01-01T00:00:00Z")).expect("free");
        assert_eq!(next.lease_transitions, 5);
    }

    #[test]
    fn renewing_keeps_acquire_time_and_transitions() {
        let t0 = Instant::now();
        let mut observed = None;
        let mut mine = record("me", 15);
        mine.acquire_time = Some(wall("2026-11-29T07:00:00Z"));
        observe(&mut observed, &mine, t0);
        let obs = observed.expect("observed");
        let now_wall = wall("2026-11-29T08:00:00Z");
        let next = next_record(&mine, &obs, t0, "me", 15, now_wall).expect("ours");
        assert_eq!(next.acquire_time, mine.acquire_time);
        assert_eq!(next.renew_time, Some(now_wall));
        assert_eq!(next.lease_transitions, 4);
    }

    #[test]
    fn jitter_stays_within_client_go_bounds() {
        let period = Duration::from_millis(500);
        for _ in 0..1000 {
            let wait = jittered(period);
            assert!(
                wait >= period && wait <= period.mul_f64(1.0 + JITTER_FACTOR),
                "{wait:?}"
            );
        }
    }
}
