//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `tools/leaderelection`
//! with its `resourcelock.LeaseLock`.
//!
//! Candidates share one Lease; each runs a [`LeaderElector`] with its own identity. The one
//! that acquires the lease renews it every retry period and runs the work given to
//! [`LeaderCallbacks::new`] until it stops leading; the others retry every retry period
//! (plus a random part of up to [`JITTER_FACTOR`] times that period) and take over once the holder's lease has expired.
//!
//! What matches client-go:
//! - timings and their checks: lease duration 15 s, renew deadline 10 s, retry period 2 s by
//!   default; lease duration > renew deadline > 1.2 × retry period > 0;
//! - expiry is judged by the local monotonic clock from when a candidate saw the lease record
//!   change, never from the times written in the Lease, so clock offsets between candidates
//!   cannot make two leaders (the rule is written out in the `elector` source);
//! - the leader renews by updating the Lease it last wrote; a failed direct write falls back to
//!   reading it first; every write carries the resourceVersion read, so of two racing
//!   candidates one gets 409 Conflict and loses;
//! - `leaseTransitions` goes up by one each time the lease changes hands; a renewal keeps
//!   `acquireTime`;
//! - the leader stops leading when no renewal succeeds within the renew deadline;
//! - release on cancel writes an empty holder, a one-second duration, `acquireTime` and
//!   `renewTime` set to now and the transitions kept, retrying on conflict for up to the renew
//!   deadline;
//! - `on_stopped_leading` runs whenever `run` returns, even if this candidate never led.
//!
//! Where it differs, on purpose:
//! - a lease duration with a fraction of a second is checked as the Lease stores it (whole
//!   seconds) against the renew deadline, so the leader never believes it leads after others
//!   may take over;
//! - `strategy`, `preferredHolder` and unknown spec fields are written back as read;
//! - release checks the holder in the Lease it has just read (client-go checks its last
//!   observation), so it never clears a lease another candidate took over meanwhile;
//! - with `release_on_cancel`, the elector waits for the leading task to end before releasing;
//! - `on_new_leader` is not called for an empty holder (a released lease);
//! - [`ElectionStatus::is_leader`] is true only while the renew loop runs.

mod config;
mod elector;
mod lease;

pub use config::{
    DEFAULT_LEASE_DURATION, DEFAULT_RENEW_DEADLINE, DEFAULT_RETRY_PERIOD, JITTER_FACTOR,
    LeaderElectionConfig,
};
pub use elector::{ElectionStatus, LeaderCallbacks, LeaderElector};
pub use lease::{Lease, LeaseLock, LeaseSpec};
/// The token that stops a [`LeaderElector::run`] and tells the leading task to stop
/// (re-exported from `tokio-util`).
pub use tokio_util::sync::CancellationToken;

/// What can go wrong in leader election.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration breaks one of client-go's rules.
    #[error("leader election {name:?}: invalid config: {reason}")]
    InvalidConfig {
        /// The election's name.
        name: String,
        /// The rule broken.
        reason: String,
    },
    /// A request on the Lease failed.
    #[error("lease {lease}: {source}")]
    Lease {
        /// `namespace/name` of the Lease.
        lease: String,
        /// The request's error.
        source: Box<crate::rest::Error>,
    },
    /// An update was tried before the Lease was read or created.
    #[error("lease {lease}: update before the lease was read or created")]
    NotRead {
        /// `namespace/name` of the Lease.
        lease: String,
    },
}

impl Error {
    fn request(&self) -> Option<&crate::rest::Error> {
        match self {
            Error::Lease { source, .. } => Some(source),
            Error::InvalidConfig { .. } | Error::NotRead { .. } => None,
        }
    }

    /// The Lease does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.request().is_some_and(crate::rest::Error::is_not_found)
    }

    /// Another writer changed the Lease since it was read (409 Conflict).
    pub fn is_conflict(&self) -> bool {
        self.request().is_some_and(crate::rest::Error::is_conflict)
    }
}
