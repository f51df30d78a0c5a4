//! A fault-injecting HTTP proxy between a client under test and the real API server.
//!
//! Clients talk plain HTTP/1.1 to the proxy (one request per connection); the proxy forwards
//! each request over TLS to the API server as the admin, unless a planned fault comes first:
//! an answer with a status code (and optionally `Retry-After`), a connection reset, or a stall.
//! Every request it receives is logged with its arrival time.
//!
//! Forwarded answers are streamed back chunk by chunk as they arrive (so watches work through
//! the proxy), and [`FaultProxy::cut_streams`] breaks every answer still streaming, as a
//! network failure would. [`FaultProxy::refuse_matching`] answers every request whose target
//! contains a string with an error status, for as long as the proxy runs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::cluster;

/// What the proxy does to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with `code`, a Status body and `Retry-After: <seconds>` when given.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The `Retry-After` value in seconds.
        retry_after: Option<u64>,
    },
    /// Answer with `code`, a Status body and `Retry-After` as an HTTP date (IMF-fixdate) this
    /// far ahead of now, rounded down to the second as the format has it.
    StatusRetryAt {
        /// The HTTP status code.
        code: u16,
        /// How far ahead the date is.
        ahead: Duration,
    },
    /// Answer with `code` and exactly this body (for malformed answers).
    Respond {
        /// The HTTP status code.
        code: u16,
        /// The body, sent as `application/json` whatever it holds.
        body: Vec<u8>,
    },
    /// Reset the connection after reading the request, without answering.
    Reset,
    /// Wait this long, then forward.
    Stall(Duration),
    /// Forward, send the answer's head, then wait this long before sending its body.
    StallBody(Duration),
}

/// One request the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The method.
    pub method: String,
    /// The path and query.
    pub target: String,
    /// When it arrived.
    pub at: Instant,
    /// What the proxy did: the fault, or `None` for forwarded.
    pub fault: Option<Fault>,
}

/// A running fault proxy; stops when dropped.
pub struct FaultProxy {
    port: u16,
    plan: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    refusals: Arc<Mutex<Vec<(String, u16)>>>,
    cut: tokio::sync::watch::Sender<u64>,
    paused: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// What every connection of the proxy shares.
#[derive(Clone)]
struct Shared {
    plan: Arc<Mutex<VecDeque<Fault>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    refusals: Arc<Mutex<Vec<(String, u16)>>>,
    cut: tokio::sync::watch::Receiver<u64>,
    paused: tokio::sync::watch::Receiver<bool>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy in front of the test cluster's API server.
    pub async fn start() -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fault proxy");
        let port = listener.local_addr().expect("address").port();
        let (cut, cut_rx) = tokio::sync::watch::channel(0u64);
        let (paused, paused_rx) = tokio::sync::watch::channel(false);
        let shared = Shared {
            plan: Arc::new(Mutex::new(VecDeque::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
            refusals: Arc::new(Mutex::new(Vec::new())),
            cut: cut_rx,
            paused: paused_rx,
        };
        let (plan, seen, refusals) = (
            shared.plan.clone(),
            shared.seen.clone(),
            shared.refusals.clone(),
        );
        let upstream = cluster().admin().clone();
        let task = tokio::spawn(async move {
            let client = upstream.client();
            while let Ok((conn, _)) = listener.accept().await {
                let (shared, client, upstream) = (shared.clone(), client.clone(), upstream.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve(conn, &shared, &client, &upstream).await {
                        eprintln!("fault proxy: {e}");
                    }
                });
            }
        });
        FaultProxy {
            port,
            plan,
            seen,
            refusals,
            cut,
            paused,
            task,
        }
    }

    /// Holds every request that arrives from now on (before it is logged or planned) until
    /// [`FaultProxy::resume`].
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Lets held and new requests through again.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// From now on, answers every request whose target (path and query) contains `needle`
    /// with `code` and a Status body, without forwarding it.
    pub fn refuse_matching(&self, needle: &str, code: u16) {
        if let Ok(mut r) = self.refusals.lock() {
            r.push((needle.to_string(), code));
        }
    }

    /// Breaks every answer still being streamed (watches): the connection is closed in the
    /// middle of the body.
    pub fn cut_streams(&self) {
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// kubeclient's configuration for reaching the API server through this proxy (plain
    /// HTTP, no credentials: the proxy adds them), without client-side throttling.
    pub fn client_config(&self) -> kubeclient::rest::Config {
        let mut config = kubeclient::rest::Config::new(
            url::Url::parse(&self.url()).unwrap_or_else(|e| panic!("proxy url: {e}")),
        );
        config.qps = -1.0;
        config
    }

    /// Appends faults to the plan; each request takes the next one, and once the plan is empty
    /// requests are forwarded.
    pub fn plan(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut plan) = self.plan.lock() {
            plan.extend(faults);
        }
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Reads one request: method, target, headers and body.
async fn read_request(
    conn: &mut TcpStream,
) -> Result<(String, String, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed before a request".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((method, target, headers, body))
}

async fn respond(
    conn: &mut TcpStream,
    code: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<()> {
    let mut head = format!(
        "HTTP/1.1 {code} Fault\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body).await?;
    conn.shutdown().await?;
    Ok(())
}

async fn serve(
    mut conn: TcpStream,
    shared: &Shared,
    client: &reqwest::Client,
    upstream: &crate::Access,
) -> Result<()> {
    let (method, target, headers, body) = read_request(&mut conn).await?;
    let _ = shared.paused.clone().wait_for(|paused| !paused).await;
    let refusal = shared.refusals.lock().ok().and_then(|r| {
        r.iter()
            .find(|(needle, _)| target.contains(needle.as_str()))
            .map(|(_, code)| Fault::Status {
                code: *code,
                retry_after: None,
            })
    });
    let fault = refusal.or_else(|| shared.plan.lock().ok().and_then(|mut p| p.pop_front()));
    if let Ok(mut s) = shared.seen.lock() {
        s.push(Seen {
            method: method.clone(),
            target: target.clone(),
            at: Instant::now(),
            fault: fault.clone(),
        });
    }
    match fault.clone() {
        Some(Fault::Status { code, retry_after }) => {
            let status = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": format!("injected by the fault proxy ({code})"), "code": code});
            let mut extra = vec![("content-type".to_string(), "application/json".to_string())];
            if let Some(seconds) = retry_after {
                extra.push(("retry-after".to_string(), seconds.to_string()));
            }
            return respond(&mut conn, code, &extra, status.to_string().as_bytes()).await;
        }
        Some(Fault::StatusRetryAt { code, ahead }) => {
            let at = jiff::Timestamp::now().checked_add(ahead)?;
            let date =
                jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&at)?;
            let extra = [
                ("content-type".to_string(), "application/json".to_string()),
                ("retry-after".to_string(), date),
            ];
            let status = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": format!("injected by the fault proxy ({code})"), "code": code});
            return respond(&mut conn, code, &extra, status.to_string().as_bytes()).await;
        }
        Some(Fault::Respond { code, body }) => {
            let extra = [("content-type".to_string(), "application/json".to_string())];
            return respond(&mut conn, code, &extra, &body).await;
        }
        Some(Fault::Reset) => {
            // Linger 0: closing sends a TCP RST instead of a FIN (and does not block).
            socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO))?;
            drop(conn);
            return Ok(());
        }
        Some(Fault::Stall(d)) => tokio::time::sleep(d).await,
        Some(Fault::StallBody(_)) | None => {}
    }
    let method = reqwest::Method::from_bytes(method.as_bytes())?;
    let mut request = client.request(method, upstream.url(&target)).body(body);
    for (k, v) in &headers {
        if matches!(k.as_str(), "content-type" | "accept" | "user-agent") {
            request = request.header(k, v);
        }
    }
    let mut cut = shared.cut.clone();
    cut.mark_unchanged();
    let response = request.send().await?;
    let code = response.status().as_u16();
    let mut head =
        format!("HTTP/1.1 {code} Proxied\r\ntransfer-encoding: chunked\r\nconnection: close\r\n");
    for (k, v) in response.headers() {
        if matches!(k.as_str(), "content-type" | "warning" | "retry-after") {
            head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or_default()));
        }
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).await?;
    conn.flush().await?;
    if let Some(Fault::StallBody(d)) = fault {
        tokio::time::sleep(d).await;
    }
    let mut body = response.bytes_stream();
    loop {
        let chunk = tokio::select! {
            _ = cut.changed() => {
                // A network failure in the middle of the body: no final chunk, a reset.
                socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            chunk = futures_util::StreamExt::next(&mut body) => chunk,
        };
        match chunk {
            Some(Ok(bytes)) if bytes.is_empty() => {}
            Some(Ok(bytes)) => {
                conn.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())
                    .await?;
                conn.write_all(&bytes).await?;
                conn.write_all(b"\r\n").await?;
                conn.flush().await?;
            }
            Some(Err(e)) => return Err(e.into()),
            None => break,
        }
    }
    conn.write_all(b"0\r\n\r\n").await?;
    conn.shutdown().await?;
    Ok(())
}
