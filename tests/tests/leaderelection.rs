//! Leader election on a real Lease: two candidates and one leader; take-over after a leader
//! crashes (only once its lease has expired by the other's clock); immediate hand-over on
//! release; leases written with a skewed clock; a leader that loses its lease stops leading.
//!
//! Timings are short (lease 3 s, renew deadline 2 s, retry period 500 ms) so the file runs in
//! seconds; each test has its own namespace.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kubeclient::client::Client;
use kubeclient::leaderelection::{
    CancellationToken, ElectionStatus, LeaderCallbacks, LeaderElectionConfig, LeaderElector, Lease,
    LeaseLock, LeaseSpec,
};
use kubeclient::rest::{CreateOptions, RestClient, UpdateOptions};
use test_support::{cluster, namespace};

const LEASE: Duration = Duration::from_secs(3);
const RENEW: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(500);
/// Room for request latency and scheduling on a busy machine.
const SLACK: Duration = Duration::from_millis(1500);

fn rest() -> RestClient {
    RestClient::new(&cluster().rest_config()).expect("client")
}

fn leases(ns: &str) -> Client<Lease> {
    Client::namespaced(rest(), ns)
}

#[derive(Debug, Clone, PartialEq)]
enum What {
    /// `on_started_leading` ran.
    Started,
    /// The leading token was cancelled (seen by the leading task).
    Ended,
    /// `on_stopped_leading` ran.
    Stopped,
    /// `on_new_leader` ran with this identity.
    NewLeader(String),
}

#[derive(Debug, Clone)]
struct Entry {
    who: String,
    what: What,
    at: Instant,
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Entry>>>);

impl Log {
    fn push(&self, who: &str, what: What) {
        let entry = Entry {
            who: who.to_string(),
            what,
            at: Instant::now(),
        };
        self.0.lock().expect("log lock").push(entry);
    }

    fn entries(&self) -> Vec<Entry> {
        self.0.lock().expect("log lock").clone()
    }

    fn first(&self, who: &str, what: &What) -> Option<Instant> {
        self.entries()
            .into_iter()
            .find(|e| e.who == who && e.what == *what)
            .map(|e| e.at)
    }

    fn count(&self, who: &str, what: &What) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.who == who && e.what == *what)
            .count()
    }

    /// The intervals during which `who` led: from `Started` to `Ended` (or now).
    fn leading(&self, who: &str) -> Vec<(Instant, Instant)> {
        let mut spans = Vec::new();
        let mut start = None;
        for e in self.entries().into_iter().filter(|e| e.who == who) {
            match e.what {
                What::Started => start = Some(e.at),
                What::Ended => {
                    if let Some(s) = start.take() {
                        spans.push((s, e.at));
                    }
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            spans.push((s, Instant::now()));
        }
        spans
    }
}

struct Candidate {
    identity: String,
    status: ElectionStatus,
    cancel: CancellationToken,
    run: tokio::task::JoinHandle<()>,
}

#[derive(Clone, Copy)]
struct Timings {
    lease: Duration,
    renew: Duration,
    retry: Duration,
    release: bool,
}

const SHORT: Timings = Timings {
    lease: LEASE,
    renew: RENEW,
    retry: RETRY,
    release: false,
};

fn start(ns: &str, lease: &str, identity: &str, timings: Timings, log: &Log) -> Candidate {
    let lock = LeaseLock::new(leases(ns), lease, identity);
    let config = LeaderElectionConfig::new(lock)
        .lease_duration(timings.lease)
        .renew_deadline(timings.renew)
        .retry_period(timings.retry)
        .release_on_cancel(timings.release);
    let elector = LeaderElector::new(config).expect("a valid config");
    let status = elector.status();
    let cancel = CancellationToken::new();
    let (started, ended, stopped, seen) = (log.clone(), log.clone(), log.clone(), log.clone());
    let who = identity.to_string();
    let (w1, w2, w3) = (who.clone(), who.clone(), who.clone());
    let callbacks = LeaderCallbacks::new(move |leading: CancellationToken| async move {
        started.push(&w1, What::Started);
        leading.cancelled().await;
        ended.push(&w1, What::Ended);
    })
    .on_stopped_leading(move || stopped.push(&w2, What::Stopped))
    .on_new_leader(move |holder| seen.push(&w3, What::NewLeader(holder.to_string())));
    let run = tokio::spawn(elector.run(cancel.clone(), callbacks));
    Candidate {
        identity: who,
        status,
        cancel,
        run,
    }
}

/// Polls `done` every 20 ms until it holds; panics after `timeout`. Returns when it held.
async fn until(what: &str, timeout: Duration, done: impl Fn() -> bool) -> Instant {
    let begin = Instant::now();
    loop {
        if done() {
            return Instant::now();
        }
        assert!(
            begin.elapsed() < timeout,
            "timed out after {timeout:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn lease_spec(ns: &str, name: &str) -> LeaseSpec {
    leases(ns)
        .get(name, &Default::default())
        .await
        .expect("read the lease")
        .spec
}

fn assert_no_overlap(log: &Log, a: &str, b: &str) {
    for (a_start, a_end) in log.leading(a) {
        for (b_start, b_end) in log.leading(b) {
            assert!(
                a_end <= b_start || b_end <= a_start,
                "{a} led {a_start:?}..{a_end:?} while {b} led {b_start:?}..{b_end:?}"
            );
        }
    }
}

#[tokio::test]
async fn two_candidates_one_leads_and_the_other_follows() {
    let ns = namespace().await;
    let log = Log::default();
    let a = start(ns.name(), "lock", "a", SHORT, &log);
    let b = start(ns.name(), "lock", "b", SHORT, &log);

    until("one candidate leads", LEASE + SLACK, || {
        a.status.is_leader() || b.status.is_leader()
    })
    .await;
    // Several renew periods later, still exactly one leader, and both agree on who.
    tokio::time::sleep(RETRY * 4).await;
    let (leader, follower) = if a.status.is_leader() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert!(!follower.status.is_leader(), "both lead");
    until("the follower sees the leader", LEASE + SLACK, || {
        follower.status.leader().as_deref() == Some(leader.identity.as_str())
    })
    .await;
    assert_eq!(
        leader.status.leader().as_deref(),
        Some(leader.identity.as_str())
    );
    assert_eq!(log.count(&leader.identity, &What::Started), 1);
    assert_eq!(log.count(&follower.identity, &What::Started), 0);
    assert!(
        log.first(
            &follower.identity,
            &What::NewLeader(leader.identity.clone())
        )
        .is_some(),
        "on_new_leader was not called on the follower: {:?}",
        log.entries()
    );

    // The leader renews: renewTime moves, the holder and duration are what it wrote.
    let first = lease_spec(ns.name(), "lock").await;
    assert_eq!(
        first.holder_identity.as_deref(),
        Some(leader.identity.as_str())
    );
    assert_eq!(first.lease_duration_seconds, Some(3));
    assert_eq!(first.lease_transitions, Some(0));
    tokio::time::sleep(RETRY * 3).await;
    let second = lease_spec(ns.name(), "lock").await;
    assert!(
        second.renew_time > first.renew_time,
        "not renewed: {first:?} then {second:?}"
    );
    assert_eq!(second.acquire_time, first.acquire_time);

    let leader_id = leader.identity.clone();
    for c in [&a, &b] {
        c.cancel.cancel();
    }
    for c in [a, b] {
        tokio::time::timeout(SLACK, c.run)
            .await
            .expect("run returns once cancelled")
            .expect("run did not panic");
    }
    assert_eq!(log.count("a", &What::Stopped), 1);
    assert_eq!(log.count("b", &What::Stopped), 1);
    assert!(log.first(&leader_id, &What::Ended).is_some());
    assert_no_overlap(&log, "a", "b");
}

#[tokio::test]
async fn after_a_crash_the_other_leads_once_the_lease_expires() {
    let ns = namespace().await;
    let log = Log::default();
    let a = start(ns.name(), "lock", "a", SHORT, &log);
    until("a leads", LEASE + SLACK, || a.status.is_leader()).await;
    let b = start(ns.name(), "lock", "b", SHORT, &log);
    until("b sees a as leader", LEASE + SLACK, || {
        b.status.leader().as_deref() == Some("a")
    })
    .await;
    tokio::time::sleep(RETRY * 3).await;
    assert!(!b.status.is_leader());
    let before = lease_spec(ns.name(), "lock").await;

    // A crash: the run stops without releasing (its leading token is cancelled by the drop).
    a.run.abort();
    let killed = Instant::now();
    assert!(a.run.await.expect_err("aborted").is_cancelled());

    let led = until(
        "b leads",
        LEASE + RETRY.mul_f64(2.2) + SLACK + SLACK,
        || b.status.is_leader(),
    )
    .await;
    let started = log.first("b", &What::Started).expect("b started leading");
    assert!(started <= led);
    let waited = started - killed;
    // a renewed about a retry period (plus a request's time) before the crash at most; b waits
    // a full lease duration, by its own clock, from when it saw that renewal. Taking over at
    // once would show as about one jittered retry period (at most 1.1 s).
    assert!(
        waited >= LEASE - RETRY * 2,
        "b took over after {waited:?}, before a's lease could have expired"
    );
    assert!(
        waited <= LEASE + RETRY.mul_f64(2.2) + SLACK,
        "b took over only after {waited:?}"
    );
    assert_no_overlap(&log, "a", "b");

    let after = lease_spec(ns.name(), "lock").await;
    assert_eq!(after.holder_identity.as_deref(), Some("b"));
    assert_eq!(
        after.lease_transitions,
        before.lease_transitions.map(|t| t + 1)
    );
    assert!(after.acquire_time > before.acquire_time);
    b.cancel.cancel();
    b.run.await.expect("b's run");
}

#[tokio::test]
async fn with_release_the_hand_over_is_immediate() {
    let ns = namespace().await;
    let log = Log::default();
    // A long lease: without the release, b would wait 10 s.
    let timings = Timings {
        lease: Duration::from_secs(10),
        release: true,
        ..SHORT
    };
    let a = start(ns.name(), "lock", "a", timings, &log);
    until("a leads", timings.lease + SLACK, || a.status.is_leader()).await;
    let b = start(ns.name(), "lock", "b", timings, &log);
    until("b sees a as leader", timings.lease + SLACK, || {
        b.status.leader().as_deref() == Some("a")
    })
    .await;
    let before = lease_spec(ns.name(), "lock").await;
    assert_eq!(before.lease_duration_seconds, Some(10));

    a.cancel.cancel();
    let cancelled = Instant::now();
    tokio::time::timeout(RENEW + SLACK, a.run)
        .await
        .expect("a's run returns after releasing")
        .expect("a's run did not panic");
    assert!(!a.status.is_leader());
    let led = until("b leads", Duration::from_secs(5), || b.status.is_leader()).await;
    let waited = led - cancelled;
    assert!(
        waited <= RETRY.mul_f64(2.2) + SLACK,
        "b took over after {waited:?}, not within about a retry period"
    );
    assert_no_overlap(&log, "a", "b");
    // a's leading task ended before a released, hence before b started.
    let a_ended = log
        .first("a", &What::Ended)
        .expect("a's leading task ended");
    let b_started = log.first("b", &What::Started).expect("b started");
    assert!(a_ended <= b_started);
    assert_eq!(log.count("a", &What::Stopped), 1);

    let after = lease_spec(ns.name(), "lock").await;
    assert_eq!(after.holder_identity.as_deref(), Some("b"));
    assert_eq!(
        after.lease_transitions,
        before.lease_transitions.map(|t| t + 1)
    );
    assert_eq!(after.lease_duration_seconds, Some(10));
    b.cancel.cancel();
    b.run.await.expect("b's run");
}

#[tokio::test]
async fn a_released_lease_has_no_holder_and_a_one_second_duration() {
    let ns = namespace().await;
    let log = Log::default();
    let timings = Timings {
        release: true,
        ..SHORT
    };
    let a = start(ns.name(), "lock", "a", timings, &log);
    until("a leads", LEASE + SLACK, || a.status.is_leader()).await;
    let held = lease_spec(ns.name(), "lock").await;
    a.cancel.cancel();
    a.run.await.expect("a's run");
    assert_eq!(a.status.leader(), None);

    let released = lease_spec(ns.name(), "lock").await;
    assert_eq!(released.holder_identity.as_deref(), Some(""));
    assert_eq!(released.lease_duration_seconds, Some(1));
    assert_eq!(released.lease_transitions, held.lease_transitions);
    assert!(released.renew_time > held.renew_time);
    assert_eq!(released.acquire_time, released.renew_time);

    // On the wire the times are MicroTimes: six fractional digits, UTC.
    let raw: serde_json::Value = rest()
        .get()
        .abs_path(&format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases/lock",
            ns.name()
        ))
        .into_json()
        .await
        .expect("raw lease");
    let renew = raw["spec"]["renewTime"].as_str().expect("renewTime");
    assert_eq!(renew.len(), "2026-11-29T08:00:00.123456Z".len(), "{renew}");
    assert!(renew.ends_with('Z'), "{renew}");
}

/// Writes a lease held by `holder` whose times, `time`, come from a skewed clock; returns it.
async fn skewed_lease(ns: &str, name: &str, holder: &str, time: &str) -> Lease {
    let lease: Lease = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"kept": "yes"}},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": 3,
            "acquireTime": time,
            "renewTime": time,
            "leaseTransitions": 7,
        },
    }))
    .expect("a lease");
    leases(ns)
        .create(&lease, &CreateOptions::default())
        .await
        .expect("create the skewed lease")
}

#[tokio::test]
async fn skewed_times_in_the_lease_do_not_shorten_or_stretch_the_wait() {
    let ns = namespace().await;
    let log = Log::default();
    // One holder's clock is far behind ours (its lease looks long expired), the other's far
    // ahead (its lease looks valid for decades). Neither renews.
    let past = skewed_lease(ns.name(), "behind", "ghost", "2000-01-01T00:00:00.000000Z").await;
    let future = skewed_lease(ns.name(), "ahead", "ghost", "2100-01-01T00:00:00.000000Z").await;
    let begin = Instant::now();
    let behind = start(ns.name(), "behind", "me", SHORT, &log);
    let ahead = start(ns.name(), "ahead", "me-too", SHORT, &log);

    until("the candidates see the ghost holder", SLACK, || {
        behind.status.leader().as_deref() == Some("ghost")
            && ahead.status.leader().as_deref() == Some("ghost")
    })
    .await;
    let deadline = LEASE + RETRY.mul_f64(2.2) + SLACK + SLACK;
    let behind_led = until("the stale lease is taken", deadline, || {
        behind.status.is_leader()
    })
    .await;
    let ahead_led = until("the future lease is taken", deadline, || {
        ahead.status.is_leader()
    })
    .await;
    for (what, led) in [("behind", behind_led), ("ahead", ahead_led)] {
        let waited = led - begin;
        // Each first saw the lease after `begin`, and waits the lease's 3 s from there.
        assert!(
            waited >= LEASE,
            "the {what} lease was taken after {waited:?}, before 3 s by the local clock"
        );
    }

    for (name, who) in [("behind", "me"), ("ahead", "me-too")] {
        let lease = leases(ns.name())
            .get(name, &Default::default())
            .await
            .expect("read the lease");
        assert_eq!(lease.spec.holder_identity.as_deref(), Some(who));
        assert_eq!(lease.spec.lease_transitions, Some(8));
        assert_eq!(
            lease.metadata.labels.get("kept").map(String::as_str),
            Some("yes")
        );
        // Written by our clock: between the two skewed ones.
        let acquired = lease.spec.acquire_time;
        assert!(
            acquired > past.spec.acquire_time && acquired < future.spec.acquire_time,
            "acquireTime {acquired:?} is not our clock's"
        );
        assert!(lease.spec.renew_time >= acquired);
    }
    for c in [behind, ahead] {
        c.cancel.cancel();
        c.run.await.expect("run");
    }
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_stops_within_the_renew_deadline() {
    let ns = namespace().await;
    let log = Log::default();
    let a = start(ns.name(), "lock", "a", SHORT, &log);
    until("a leads", LEASE + SLACK, || a.status.is_leader()).await;

    // Someone else writes the lease over a's (retrying if a renewal lands in between).
    let client = leases(ns.name());
    loop {
        let mut lease = client
            .get("lock", &Default::default())
            .await
            .expect("read the lease");
        lease.spec.holder_identity = Some("thief".to_string());
        lease.spec.lease_duration_seconds = Some(60);
        match client.update(&lease, &UpdateOptions::default()).await {
            Ok(_) => break,
            Err(e) if e.is_conflict() => continue,
            Err(e) => panic!("stealing the lease: {e}"),
        }
    }
    let stolen = Instant::now();
    tokio::time::timeout(RENEW + RETRY + SLACK, a.run)
        .await
        .expect("a's run returns once it cannot renew")
        .expect("a's run did not panic");
    let lost = log
        .first("a", &What::Ended)
        .expect("a's leading token cancelled");
    assert!(
        lost - stolen <= RENEW + RETRY + SLACK,
        "a led on for {:?}",
        lost - stolen
    );
    assert!(!a.status.is_leader());
    assert_eq!(log.count("a", &What::Stopped), 1);
    assert!(log.first("a", &What::NewLeader("thief".into())).is_some());
    let spec = lease_spec(ns.name(), "lock").await;
    assert_eq!(spec.holder_identity.as_deref(), Some("thief"));
}
