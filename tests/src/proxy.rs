//! Small forward proxies for tests: an HTTP `CONNECT` proxy (plain, or over TLS with a
//! certificate the test cluster's CA signed) and a SOCKS5 proxy, all on loopback. Whatever host a client asks for, they connect to that port on 127.0.0.1, so a
//! client given an unresolvable server name (`kubernetes.default.svc`) can only reach the API
//! server through them; they record what each client asked for.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy; stops when dropped.
pub struct TestProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestProxy {
    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What clients asked for, one entry per connection: `host:port`, followed by
    /// ` auth=<credentials>` when the client sent any.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Starts an HTTP proxy that accepts `CONNECT host:port`.
    pub async fn http_connect() -> TestProxy {
        Self::start(Kind::Connect).await
    }

    /// Starts an HTTP proxy over TLS (`https://127.0.0.1:<port>`), serving
    /// [`loopback_tls_acceptor`]'s certificate.
    pub async fn https_connect() -> TestProxy {
        Self::start(Kind::TlsConnect(loopback_tls_acceptor())).await
    }

    /// Starts a SOCKS5 proxy (no authentication, or user/password).
    pub async fn socks5() -> TestProxy {
        Self::start(Kind::Socks5).await
    }

    async fn start(kind: Kind) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (seen, kind) = (seen.clone(), kind.clone());
                tokio::spawn(async move {
                    let result = match kind {
                        Kind::Connect => connect(client, &seen).await,
                        Kind::TlsConnect(acceptor) => match acceptor.accept(client).await {
                            Ok(tls) => connect(tls, &seen).await,
                            Err(e) => Err(e.into()),
                        },
                        Kind::Socks5 => socks5(client, &seen).await,
                    };
                    if let Err(e) = result {
                        eprintln!("test proxy: {e}");
                    }
                });
            }
        });
        TestProxy {
            port,
            requests,
            task,
        }
    }
}

/// A TLS acceptor for test servers on loopback, serving the certificate `controlplane/cluster
/// up` made for them (`pki/proxy.crt`, for `127.0.0.1` and `localhost`, signed by the
/// cluster's CA, so clients trust it through the admin kubeconfig's CA).
pub fn loopback_tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let pki = crate::cluster().dir().join("pki");
    let read = |name: &str| {
        std::fs::read(pki.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", pki.join(name).display()))
    };
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&read("proxy.crt"))
        .collect::<std::result::Result<Vec<_>, _>>()
        .expect("proxy certificate");
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(&read("proxy.key")).expect("proxy key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[derive(Clone)]
enum Kind {
    Connect,
    TlsConnect(tokio_rustls::TlsAcceptor),
    Socks5,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn record(seen: &Mutex<Vec<String>>, target: &str, auth: Option<&str>) {
    let entry = match auth {
        Some(a) => format!("{target} auth={a}"),
        None => target.to_string(),
    };
    if let Ok(mut s) = seen.lock() {
        s.push(entry);
    }
}

/// Connects to `port` on loopback, whatever host was asked for.
async fn upstream(target: &str) -> Result<TcpStream> {
    let port = target.rsplit_once(':').ok_or("target without port")?.1;
    Ok(TcpStream::connect(format!("127.0.0.1:{port}")).await?)
}

async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    client: S,
    seen: &Mutex<Vec<String>>,
) -> Result<()> {
    let mut reader = BufReader::new(client);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("not a CONNECT request: {line:?}").into());
    };
    let target = target.to_string();
    let mut auth = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("proxy-authorization")
        {
            auth = Some(value.trim().to_string());
        }
    }
    record(seen, &target, auth.as_deref());
    let mut server = upstream(&target).await?;
    let mut client = reader.into_inner();
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}

async fn socks5(mut client: TcpStream, seen: &Mutex<Vec<String>>) -> Result<()> {
    // Greeting: version, methods. Prefer user/password (2) when offered, else none (0).
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    client.read_exact(&mut methods).await?;
    let mut auth = None;
    if methods.contains(&2) {
        client.write_all(&[5, 2]).await?;
        let mut ver_len = [0u8; 2];
        client.read_exact(&mut ver_len).await?;
        let mut user = vec![0u8; ver_len[1] as usize];
        client.read_exact(&mut user).await?;
        let mut plen = [0u8; 1];
        client.read_exact(&mut plen).await?;
        let mut pass = vec![0u8; plen[0] as usize];
        client.read_exact(&mut pass).await?;
        auth = Some(format!(
            "{}:{}",
            String::from_utf8_lossy(&user),
            String::from_utf8_lossy(&pass)
        ));
        client.write_all(&[1, 0]).await?;
    } else {
        client.write_all(&[5, 0]).await?;
    }
    // Request: version, CONNECT, reserved, address type, address, port.
    let mut req = [0u8; 4];
    client.read_exact(&mut req).await?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip).await?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        other => return Err(format!("unknown SOCKS address type {other}").into()),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    record(seen, &target, auth.as_deref());
    let mut server = upstream(&target).await?;
    client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
