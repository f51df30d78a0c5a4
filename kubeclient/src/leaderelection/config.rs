//! [`LeaderElectionConfig`]: the lock and the three timings of an election, checked as
//! client-go's `NewLeaderElector` checks them.

use std::time::Duration;

use super::Error;
use super::lease::LeaseLock;

/// client-go's default lease duration for core components: how long candidates wait, after
/// last seeing the lease change, before they take it over.
pub const DEFAULT_LEASE_DURATION: Duration = Duration::from_secs(15);
/// client-go's default renew deadline: how long the leader keeps retrying a renewal before it
/// gives up leading.
pub const DEFAULT_RENEW_DEADLINE: Duration = Duration::from_secs(10);
/// client-go's default retry period: the wait between tries to acquire or renew.
pub const DEFAULT_RETRY_PERIOD: Duration = Duration::from_secs(2);
/// client-go's `JitterFactor`: a candidate waits between `retry_period` and
/// `(1 + JITTER_FACTOR) * retry_period` between tries to acquire.
pub const JITTER_FACTOR: f64 = 1.2;

/// What a [`LeaderElector`](super::LeaderElector) needs: the lock and the timings.
///
/// ```no_run
/// # fn demo(rest: kubeclient::rest::RestClient) {
/// use std::time::Duration;
/// use kubeclient::client::Client;
/// use kubeclient::leaderelection::{LeaderElectionConfig, LeaseLock};
///
/// let lock = LeaseLock::new(Client::namespaced(rest, "kube-system"), "my-controller", "pod-a");
/// let config = LeaderElectionConfig::new(lock)
///     .lease_duration(Duration::from_secs(15))
///     .release_on_cancel(true);
/// # }
/// ```
#[derive(Debug)]
#[must_use]
pub struct LeaderElectionConfig {
    pub(crate) lock: LeaseLock,
    pub(crate) lease_duration: Duration,
    pub(crate) renew_deadline: Duration,
    pub(crate) retry_period: Duration,
    pub(crate) release_on_cancel: bool,
    pub(crate) name: String,
}

impl LeaderElectionConfig {
    /// An election on `lock` with client-go's default timings (15 s, 10 s, 2 s), no release on
    /// cancel, named after the Lease.
    pub fn new(lock: LeaseLock) -> Self {
        let name = lock.name().to_string();
        LeaderElectionConfig {
            lock,
            lease_duration: DEFAULT_LEASE_DURATION,
            renew_deadline: DEFAULT_RENEW_DEADLINE,
            retry_period: DEFAULT_RETRY_PERIOD,
            release_on_cancel: false,
            name,
        }
    }

    /// How long candidates wait, by their own clocks, after they last saw the lease change,
    /// before taking it over. The Lease stores whole seconds: a fraction is dropped, as in
    /// client-go.
    pub fn lease_duration(mut self, lease_duration: Duration) -> Self {
        self.lease_duration = lease_duration;
        self
    }

    /// How long the leader keeps retrying a renewal before it stops leading.
    pub fn renew_deadline(mut self, renew_deadline: Duration) -> Self {
        self.renew_deadline = renew_deadline;
        self
    }

    /// The wait between tries to acquire (jittered) or renew.
    pub fn retry_period(mut self, retry_period: Duration) -> Self {
        self.retry_period = retry_period;
        self
    }

    /// Whether a leader whose run is cancelled gives up the lease at once (an empty holder and
    /// a one-second duration), so another candidate takes over within a retry period instead
    /// of a lease duration. The elector waits for the leading task to end before releasing.
    pub fn release_on_cancel(mut self, release: bool) -> Self {
        self.release_on_cancel = release;
        self
    }

    /// The election's name, for logs.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The lease duration as the Lease stores it: whole seconds, the fraction dropped.
    pub(crate) fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }

    /// client-go's checks: lease duration > renew deadline > `JITTER_FACTOR` × retry
    /// period, each above zero, and a lock with an identity. The lease duration is compared
    /// as the Lease stores it (whole seconds), so a lease of 1.5 s with a renew deadline of
    /// 1.2 s is refused: other candidates would take over after one second, while the leader
    /// still believed it led.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| {
            Err(Error::InvalidConfig {
                name: self.name.clone(),
                reason: reason.to_string(),
            })
        };
        let stored_lease = Duration::from_secs(self.lease_duration.as_secs());
        if stored_lease <= self.renew_deadline {
            return invalid(
                "lease duration (in whole seconds, as the Lease stores it) must be greater than renew deadline",
            );
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return invalid("renew deadline must be greater than retry period × 1.2");
        }
        if self.retry_period.is_zero() {
            return invalid("retry period must be greater than zero");
        }
        if self.lock.identity().is_empty() {
            return invalid("lock identity is empty");
        }
        if self.lock.name().is_empty() {
            return invalid("lease name is empty");
        }
        if !self.lock.has_namespace() {
            return invalid("the lease client has no namespace; use Client::namespaced");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::rest::{Config, RestClient};

    fn lock(identity: &str) -> LeaseLock {
        let rest = RestClient::new(&Config::new("https://127.0.0.1:1".parse().expect("a url")))
            .expect("rest client");
        LeaseLock::new(Client::namespaced(rest, "ns"), "lease", identity)
    }

    fn config(lease: u64, renew: u64, retry: u64) -> LeaderElectionConfig {
        LeaderElectionConfig::new(lock("me"))
            .lease_duration(Duration::from_millis(lease))
            .renew_deadline(Duration::from_millis(renew))
            .retry_period(Duration::from_millis(retry))
    }

    fn reason(config: &LeaderElectionConfig) -> String {
        match config.validate() {
            Err(Error::InvalidConfig { reason, .. }) => reason,
            other => panic!("expected an invalid config, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let config = LeaderElectionConfig::new(lock("me"));
        config.validate().expect("client-go's defaults are valid");
        assert_eq!(config.lease_duration_seconds(), 15);
        assert_eq!(config.name, "lease");
    }

    #[test]
    fn short_timings_are_valid() {
        config(3000, 2000, 500).validate().expect("valid");
    }

    #[test]
    fn lease_must_exceed_renew_deadline() {
        assert!(reason(&config(10_000, 10_000, 2000)).contains("lease duration"));
        // 1.5 s is stored as 1 s, which does not exceed 1.2 s.
        assert!(reason(&config(1500, 1200, 500)).contains("lease duration"));
        assert!(reason(&config(0, 0, 0)).contains("lease duration"));
    }

    #[test]
    fn renew_deadline_must_exceed_jittered_retry() {
        // 1.2 × 2 s = 2.4 s.
        assert!(reason(&config(15_000, 2400, 2000)).contains("retry period × 1.2"));
        config(15_000, 2401, 2000).validate().expect("just above");
    }

    #[test]
    fn retry_period_must_be_positive() {
        assert!(reason(&config(15_000, 10_000, 0)).contains("retry period must be greater"));
    }

    #[test]
    fn lock_needs_identity_and_namespace() {
        let no_identity = LeaderElectionConfig::new(lock(""));
        assert!(reason(&no_identity).contains("identity"));
        let rest = RestClient::new(&Config::new("https://127.0.0.1:1".parse().expect("a url")))
            .expect("rest client");
        let all = LeaseLock::new(Client::all(rest), "lease", "me");
        assert!(reason(&LeaderElectionConfig::new(all)).contains("namespace"));
    }
}
