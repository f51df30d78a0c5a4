//! Retrying a read-modify-write when another writer got there first, as client-go's
//! `util/retry`: [`retry_on_conflict`] runs the closure again while it fails with a 409
//! Conflict, [`on_error`] while any predicate you give says the error is worth another try.
//!
//! ```no_run
//! # async fn demo(rest: kubeclient::rest::RestClient) -> Result<(), kubeclient::rest::Error> {
//! # #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! # struct ConfigMap { metadata: kubeclient::client::ObjectMeta }
//! # impl kubeclient::client::Resource for ConfigMap {
//! #     const GROUP: &'static str = ""; const VERSION: &'static str = "v1";
//! #     const KIND: &'static str = "ConfigMap"; const PLURAL: &'static str = "configmaps";
//! #     type Scope = kubeclient::client::Namespaced;
//! #     kubeclient::object_meta_accessors!();
//! # }
//! use kubeclient::client::Client;
//! use kubeclient::rest::UpdateOptions;
//! use kubeclient::retry::{DEFAULT_RETRY, retry_on_conflict};
//!
//! let config_maps: Client<ConfigMap> = Client::namespaced(rest, "default");
//! retry_on_conflict(DEFAULT_RETRY, async || {
//!     // Read the current version on every attempt, change it, write it back.
//!     let mut cm = config_maps.get("settings", &Default::default()).await?;
//!     cm.metadata.labels.insert("touched".into(), "yes".into());
//!     config_maps.update(&cm, &UpdateOptions::default()).await
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! The waits follow apimachinery's `wait.ExponentialBackoff` with a [`Backoff`] (`wait.Backoff`):
//! the closure runs at most `steps` times; before attempt `n + 1` the caller waits
//! `duration * factor^(n - 1)`, plus a random extra of up to `jitter` times that wait
//! (`wait.Jitter`). The waits are computed by backon's [`backon::ExponentialBuilder`] (see
//! [`Backoff::delays`] for the exact mapping) and slept with `tokio::time`, so tests can run
//! them on a paused clock.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::rest::Error;

/// How often and how long to wait between attempts: apimachinery's `wait.Backoff` without its
/// `Cap` (neither of client-go's retry defaults sets one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub duration: Duration,
    /// Each wait is the previous one times this; `0.0` keeps it constant, as `1.0` does
    /// (client-go skips the multiplication when the factor is zero).
    pub factor: f64,
    /// Each wait is lengthened by a random amount in `[0, jitter × wait)`; `0.0` for none.
    pub jitter: f64,
    /// The most attempts (the closure runs at most this many times; at least once here,
    /// where client-go would not call it at all for 0).
    pub steps: u32,
}

/// client-go's `retry.DefaultRetry`, for conflicts between writers of the same object: 5
/// attempts, 10 ms apart (plus up to 10% jitter).
pub const DEFAULT_RETRY: Backoff = Backoff {
    duration: Duration::from_millis(10),
    factor: 1.0,
    jitter: 0.1,
    steps: 5,
};

/// client-go's `retry.DefaultBackoff`, for an object that controllers are also changing: 4
/// attempts, waiting 10 ms, 50 ms and 250 ms (each plus up to 10% jitter).
pub const DEFAULT_BACKOFF: Backoff = Backoff {
    duration: Duration::from_millis(10),
    factor: 5.0,
    jitter: 0.1,
    steps: 4,
};

impl Backoff {
    /// The waits between attempts, in order: `steps - 1` of them.
    ///
    /// They come from backon's [`ExponentialBuilder`] with
    /// - `with_min_delay(duration)`: backon's first delay is client-go's `Duration`;
    /// - `with_factor(factor)` (`1.0` when `factor` is `0.0`): each delay is the previous
    ///   times the factor, as `Backoff.Step` multiplies `Duration`;
    /// - `without_max_delay()`: `wait.Backoff` has no cap unless `Cap` is set;
    /// - `with_max_times(steps - 1)`: backon counts retries, client-go's `Steps` counts
    ///   attempts (the condition runs `Steps` times with a sleep between two runs);
    /// - backon's own jitter left off, since it adds up to 100% of the delay; client-go's
    ///   `wait.Jitter(d, jitter)` (`d + rand[0,1) × jitter × d`) is applied to each delay
    ///   instead, with `fastrand`.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + Sync + Unpin + use<> {
        let factor = if self.factor == 0.0 { 1.0 } else { self.factor };
        let retries = self.steps.saturating_sub(1) as usize;
        let jitter = self.jitter;
        ExponentialBuilder::new()
            .with_min_delay(self.duration)
            .with_factor(factor as f32)
            .without_max_delay()
            .with_max_times(retries)
            .build()
            .map(move |delay| add_jitter(delay, jitter))
    }
}

/// `delay` plus a random part of up to `jitter × delay` (apimachinery's `wait.Jitter`).
pub(crate) fn add_jitter(delay: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 || !jitter.is_finite() {
        return delay;
    }
    let extra = delay.as_secs_f64() * jitter * fastrand::f64();
    delay.saturating_add(Duration::try_from_secs_f64(extra).unwrap_or(Duration::ZERO))
}

/// Runs `f` until it succeeds, fails with an error `retriable` refuses, or `backoff.steps`
/// attempts were made; returns the last result (client-go's `retry.OnError`, which also
/// hands back the last retriable error when the attempts run out).
///
/// `f` is an async closure or a closure returning a future. It may read what it captures but
/// not change it (count with a `Cell` or an atomic): that keeps the returned future `Send`,
/// so the retry can run in a spawned task.
pub async fn on_error<T, E, P, F, Fut>(backoff: Backoff, mut retriable: P, mut f: F) -> Result<T, E>
where
    P: FnMut(&E) -> bool,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delays = backoff.delays();
    let mut attempt = 1u32;
    loop {
        let err = match f().await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        if !retriable(&err) {
            return Err(err);
        }
        let Some(delay) = delays.next() else {
            return Err(err);
        };
        tracing::debug!(attempt, ?delay, "retriable error; trying again");
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

/// Runs `f` (which should read the object, change it and write it back) again while it fails
/// with a 409 Conflict ([`Error::is_conflict`]), as client-go's `retry.RetryOnConflict`. Any
/// other error, or the conflict of the last allowed attempt, is returned as is. `f` is
/// called as in [`on_error`].
pub async fn retry_on_conflict<T, F, Fut>(backoff: Backoff, f: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    on_error(backoff, Error::is_conflict, f).await
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::rest::{ApiError, Error};

    fn api_error(code: u16, reason: &str) -> Error {
        let body = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "test", "reason": reason, "code": code,
        });
        Error::Api {
            error: Box::new(ApiError::from_response(
                "PUT",
                "/api/v1/namespaces/ns/configmaps/cm",
                code,
                body.to_string().as_bytes(),
            )),
            attempts: 1,
        }
    }

    fn conflict() -> Error {
        api_error(409, "Conflict")
    }

    #[test]
    fn delays_follow_client_go_backoff() {
        let retry: Vec<Duration> = DEFAULT_RETRY.delays().collect();
        assert_eq!(retry.len(), 4, "5 steps are 5 attempts with 4 waits");
        for d in &retry {
            assert!(
                *d >= Duration::from_millis(10) && *d < Duration::from_millis(11),
                "{d:?}"
            );
        }
        let backoff: Vec<Duration> = DEFAULT_BACKOFF.delays().collect();
        assert_eq!(backoff.len(), 3);
        for (d, base) in backoff.iter().zip([10u64, 50, 250]) {
            // f32 arithmetic inside backon: allow a microsecond of rounding below the base.
            let low = Duration::from_millis(base) - Duration::from_micros(1);
            let high = Duration::from_millis(base) + Duration::from_millis(base) / 10;
            assert!(*d >= low && *d < high, "{d:?} not in [{low:?}, {high:?})");
        }
        let no_jitter = Backoff {
            duration: Duration::from_secs(1),
            factor: 0.0,
            jitter: 0.0,
            steps: 3,
        };
        assert_eq!(
            no_jitter.delays().collect::<Vec<_>>(),
            vec![Duration::from_secs(1); 2]
        );
        let one = Backoff {
            steps: 1,
            ..no_jitter
        };
        assert_eq!(one.delays().count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn conflicts_are_retried_until_success() {
        let start = tokio::time::Instant::now();
        let attempts = Cell::new(0);
        let got = retry_on_conflict(DEFAULT_RETRY, async || {
            attempts.set(attempts.get() + 1);
            if attempts.get() < 3 {
                Err(conflict())
            } else {
                Ok(attempts.get())
            }
        })
        .await
        .expect("third attempt succeeds");
        assert_eq!(got, 3);
        assert_eq!(attempts.get(), 3);
        let waited = start.elapsed();
        // Two waits of 10 ms plus at most 10% each.
        assert!(
            waited >= Duration::from_millis(20) && waited < Duration::from_millis(23),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_stop_at_once() {
        let attempts = Cell::new(0);
        let err = retry_on_conflict(DEFAULT_RETRY, async || -> Result<(), Error> {
            attempts.set(attempts.get() + 1);
            Err(api_error(404, "NotFound"))
        })
        .await
        .expect_err("not found is not retried");
        assert!(err.is_not_found(), "{err}");
        assert_eq!(attempts.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_conflict_is_returned_after_all_steps() {
        let start = tokio::time::Instant::now();
        let attempts = Cell::new(0);
        let err = retry_on_conflict(DEFAULT_BACKOFF, async || -> Result<(), Error> {
            attempts.set(attempts.get() + 1);
            Err(conflict())
        })
        .await
        .expect_err("always conflicting");
        assert!(err.is_conflict(), "{err}");
        assert_eq!(attempts.get(), 4);
        let waited = start.elapsed();
        // 10 + 50 + 250 ms, each plus at most 10%.
        assert!(
            waited >= Duration::from_millis(309) && waited < Duration::from_millis(342),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn on_error_uses_the_given_predicate() {
        let attempts = Cell::new(0);
        let err = on_error(
            Backoff {
                steps: 10,
                ..DEFAULT_RETRY
            },
            |e: &String| e.starts_with("again"),
            async || -> Result<(), String> {
                attempts.set(attempts.get() + 1);
                Err(if attempts.get() < 4 { "again" } else { "final" }.to_string())
            },
        )
        .await
        .expect_err("ends with an error the predicate refuses");
        assert_eq!(err, "final");
        assert_eq!(attempts.get(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_future_can_be_spawned() {
        let handle = tokio::spawn(retry_on_conflict(DEFAULT_RETRY, async || Ok::<_, Error>(7)));
        assert_eq!(handle.await.expect("join").expect("ok"), 7);
    }
}
