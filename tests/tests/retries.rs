//! client-go's request loop, driven through faults injected between kubeclient and the real
//! API server: Retry-After retries (count and waits, in seconds or as an HTTP date), GETs
//! retried after a connection reset and writes not, every attempt passing the rate limiter,
//! one metric record for a request however it ends (timed out, refused at connect), and the
//! achieved rate of the token bucket under load.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use kubeclient::rest::{
    self, RateLimiter, RequestMetric, RequestMetrics, RequestOutcome, RestClient,
};
use serde_json::{Value, json};
use test_support::faults::{Fault, FaultProxy};
use test_support::{cluster, namespace};

/// A client that goes through `proxy` (plain HTTP; the proxy authenticates upstream).
fn via(proxy: &FaultProxy) -> rest::Config {
    rest::Config::new(url::Url::parse(&proxy.url()).expect("proxy url"))
}

fn gaps(proxy: &FaultProxy) -> Vec<Duration> {
    let seen = proxy.seen();
    seen.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn retry_after_answers_are_retried_after_the_wait() {
    let proxy = FaultProxy::start().await;
    proxy.plan([
        Fault::Status {
            code: 429,
            retry_after: Some(1),
        },
        Fault::Status {
            code: 503,
            retry_after: Some(2),
        },
    ]);
    let client = RestClient::new(&via(&proxy)).expect("client");
    let version: Value = client
        .get()
        .abs_path("/version")
        .into_json()
        .await
        .expect("third attempt succeeds");
    assert!(version["gitVersion"].is_string());
    assert_eq!(proxy.seen().len(), 3);
    let waits = gaps(&proxy);
    assert!(
        waits[0] >= Duration::from_millis(950) && waits[0] < Duration::from_millis(1900),
        "{waits:?}"
    );
    assert!(
        waits[1] >= Duration::from_millis(1950) && waits[1] < Duration::from_millis(2900),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_retry_after_date_is_waited_for_from_now() {
    let proxy = FaultProxy::start().await;
    // Three seconds ahead, rounded down to the second: a wait of more than two seconds.
    proxy.plan([Fault::StatusRetryAt {
        code: 503,
        ahead: Duration::from_secs(3),
    }]);
    let client = RestClient::new(&via(&proxy)).expect("client");
    let version: Value = client
        .get()
        .abs_path("/version")
        .into_json()
        .await
        .expect("the retry after the date succeeds");
    assert!(version["gitVersion"].is_string());
    assert_eq!(proxy.seen().len(), 2);
    let waits = gaps(&proxy);
    assert!(
        waits[0] >= Duration::from_millis(1950) && waits[0] < Duration::from_millis(3500),
        "{waits:?}"
    );

    // A date already past means at once.
    proxy.plan([Fault::StatusRetryAt {
        code: 429,
        ahead: Duration::ZERO,
    }]);
    client
        .get()
        .abs_path("/version")
        .raw()
        .await
        .expect("retried at once");
    let waits = gaps(&proxy);
    assert_eq!(waits.len(), 3);
    assert!(waits[2] < Duration::from_millis(900), "{waits:?}");
}

#[tokio::test]
async fn retries_stop_at_the_limit_and_the_error_is_the_last_answer() {
    let proxy = FaultProxy::start().await;
    proxy.plan(std::iter::repeat_n(
        Fault::Status {
            code: 503,
            retry_after: Some(0),
        },
        5,
    ));
    let client = RestClient::new(&via(&proxy)).expect("client");
    let err = client
        .get()
        .abs_path("/version")
        .max_retries(2)
        .raw()
        .await
        .expect_err("still 503");
    assert!(
        err.api().is_some_and(|a| a.is_service_unavailable()),
        "{err}"
    );
    assert_eq!(proxy.seen().len(), 3, "1 attempt + 2 retries");

    // Without Retry-After a 5xx is not retried.
    let proxy = FaultProxy::start().await;
    proxy.plan([Fault::Status {
        code: 500,
        retry_after: None,
    }]);
    let client = RestClient::new(&via(&proxy)).expect("client");
    let err = client
        .get()
        .abs_path("/version")
        .raw()
        .await
        .expect_err("500");
    assert!(err.api().is_some_and(|a| a.is_internal_error()), "{err}");
    assert_eq!(proxy.seen().len(), 1);
}

#[tokio::test]
async fn a_reset_get_is_retried_and_a_reset_post_is_not() {
    let ns = namespace().await;
    let proxy = FaultProxy::start().await;
    let client = RestClient::new(&via(&proxy)).expect("client");
    proxy.plan([Fault::Reset]);
    let list: Value = client
        .get()
        .group_version("v1")
        .namespace(ns.name())
        .resource("configmaps")
        .into_json()
        .await
        .expect("GET retried after the reset");
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(proxy.seen().len(), 2);
    assert!(
        gaps(&proxy)[0] >= Duration::from_millis(950),
        "client-go waits 1 s"
    );

    proxy.plan([Fault::Reset]);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "once"}});
    let err = client
        .post()
        .group_version("v1")
        .namespace(ns.name())
        .resource("configmaps")
        .json(&cm)
        .raw()
        .await
        .expect_err("POST is not retried");
    assert!(
        matches!(err, rest::Error::Transport { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(proxy.seen().len(), 3, "no second POST");
}

#[derive(Debug, Default)]
struct Counting(AtomicU32);

impl RateLimiter for Counting {
    fn acquire(&self) -> BoxFuture<'_, ()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async {})
    }
}

#[tokio::test]
async fn every_attempt_passes_the_rate_limiter() {
    let proxy = FaultProxy::start().await;
    proxy.plan([
        Fault::Status {
            code: 429,
            retry_after: Some(0),
        },
        Fault::Status {
            code: 429,
            retry_after: Some(0),
        },
    ]);
    let limiter = Arc::new(Counting::default());
    let mut config = via(&proxy);
    config.rate_limiter = Some(limiter.clone());
    let client = RestClient::new(&config).expect("client");
    client
        .get()
        .abs_path("/version")
        .raw()
        .await
        .expect("third attempt");
    assert_eq!(limiter.0.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_stalled_request_times_out() {
    let proxy = FaultProxy::start().await;
    proxy.plan([Fault::Stall(Duration::from_secs(5))]);
    let client = RestClient::new(&via(&proxy)).expect("client");
    let started = Instant::now();
    let err = client
        .get()
        .abs_path("/version")
        .timeout(Duration::from_millis(500))
        .raw()
        .await
        .expect_err("timed out");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[derive(Debug, Default)]
struct Record(Mutex<Vec<RequestMetric>>);

impl RequestMetrics for Record {
    fn observe(&self, metric: &RequestMetric) {
        if let Ok(mut m) = self.0.lock() {
            m.push(metric.clone());
        }
    }
}

impl Record {
    /// The records so far, emptied.
    fn take(&self) -> Vec<RequestMetric> {
        self.0
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

/// A client of `config` whose metrics go to the returned record.
fn recorded(mut config: rest::Config) -> (RestClient, Arc<Record>) {
    let record = Arc::new(Record::default());
    config.metrics = Some(record.clone());
    (RestClient::new(&config).expect("client"), record)
}

#[tokio::test]
async fn requests_that_get_no_answer_are_recorded_once_with_the_reason() {
    let proxy = FaultProxy::start().await;
    let (client, record) = recorded(via(&proxy));

    // No answer before the deadline.
    proxy.plan([Fault::Stall(Duration::from_secs(5))]);
    let err = client
        .get()
        .abs_path("/version")
        .timeout(Duration::from_millis(500))
        .raw()
        .await
        .expect_err("timed out");
    assert!(err.to_string().contains("timed out"), "{err}");
    let records = record.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, RequestOutcome::Timeout);
    assert_eq!((records[0].status, records[0].attempts), (None, 1));
    assert_eq!(records[0].path_template, "/version");

    // The answer's head in time, its body not.
    proxy.plan([Fault::StallBody(Duration::from_secs(5))]);
    client
        .get()
        .abs_path("/version")
        .timeout(Duration::from_millis(500))
        .raw()
        .await
        .expect_err("timed out reading the body");
    let records = record.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, RequestOutcome::Timeout);
    assert_eq!(records[0].status, Some(200));
    assert_eq!(records[0].response_bytes, None);

    // A POST whose connection is reset: sent, no answer, not retried.
    proxy.plan([Fault::Reset]);
    client
        .post()
        .abs_path("/api/v1/namespaces/default/configmaps")
        .json(&serde_json::json!({}))
        .raw()
        .await
        .expect_err("reset");
    let records = record.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, RequestOutcome::TransportError);
    assert_eq!(records[0].status, None);

    // An answer is recorded as answered.
    client
        .get()
        .abs_path("/version")
        .raw()
        .await
        .expect("version");
    let records = record.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, RequestOutcome::Answered);
    assert_eq!(records[0].status, Some(200));
}

#[tokio::test]
async fn a_refused_connection_is_recorded_once() {
    // A port nobody listens on: bound, then released.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let mut config =
        rest::Config::new(url::Url::parse(&format!("http://127.0.0.1:{port}")).expect("url"));
    config.qps = -1.0;
    let (client, record) = recorded(config);
    let err = client
        .get()
        .abs_path("/version")
        .raw()
        .await
        .expect_err("refused");
    assert!(
        matches!(err, rest::Error::Transport { attempts: 1, .. }),
        "{err}"
    );
    let records = record.take();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, RequestOutcome::ConnectFailed);
    assert_eq!((records[0].status, records[0].attempts), (None, 1));
}

#[tokio::test]
async fn token_bucket_holds_the_configured_rate_under_load() {
    let _exclusive = test_support::exclusive().await; // a quiet server for a fair measurement
    let mut config = cluster().rest_config();
    config.qps = 50.0;
    config.burst = 10;
    let client = RestClient::new(&config).expect("client");
    let started = Instant::now();
    let calls = (0..1000).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.get().abs_path("/version").raw().await.map(|_| ()) })
    });
    for result in futures_util::future::join_all(calls).await {
        result.expect("task").expect("call");
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The first 10 go at once (the burst); the other 990 at 50 per second.
    let achieved = 990.0 / elapsed;
    eprintln!(
        "token bucket: 1000 calls in {elapsed:.2} s; achieved {achieved:.2} requests/s after the burst (configured 50)"
    );
    assert!(
        (47.5..=52.5).contains(&achieved),
        "achieved {achieved:.2}/s, configured 50/s"
    );
}
