//! The connector under TLS: connects directly, or through the proxy that
//! [`super::proxy`] picks for the target — an HTTP proxy with `CONNECT` (over TLS for
//! an `https://` proxy, which is verified with the same roots and client certificate as the
//! API server, as Go's transport does), or a SOCKS5 proxy (`socks5` resolves the target's name
//! locally, `socks5h` lets the proxy resolve it). Credentials in the proxy URL authenticate to
//! the proxy. The protocols themselves are hyper-util's and hyper-rustls's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use http::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use tower_service::Service;
use url::Url;

use super::proxy::ProxyEnv;
use crate::redact::redact_url;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to a target directly or through its proxy. `Debug` masks proxy credentials.
#[derive(Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    /// TLS to an `https://` proxy.
    proxy_tls: HttpsConnector<HttpConnector>,
    /// A proxy for every target (a cluster's `proxy-url`).
    fixed: Option<Url>,
    /// Otherwise the environment decides per target.
    env: Arc<ProxyEnv>,
}

impl std::fmt::Debug for ProxyConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConnector")
            .field("fixed", &self.fixed.as_ref().map(redact_url))
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl ProxyConnector {
    /// `tls` is the API server's TLS configuration; an `https://` proxy is reached with it
    /// (speaking HTTP/1.1, which `CONNECT` needs).
    pub(crate) fn new(
        http: HttpConnector,
        tls: rustls::ClientConfig,
        fixed: Option<Url>,
        env: ProxyEnv,
    ) -> Self {
        let proxy_tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(http.clone());
        ProxyConnector {
            http,
            proxy_tls,
            fixed,
            env: Arc::new(env),
        }
    }
}

/// Any of the streams a connection can run over: TCP, or a tunnel through a proxy (which may
/// itself be TLS to the proxy).
pub(crate) struct ProxyStream(Pin<Box<dyn Io>>);

trait Io: hyper::rt::Read + hyper::rt::Write + Send {}
impl<T: hyper::rt::Read + hyper::rt::Write + Send> Io for T {}

impl ProxyStream {
    fn new(io: impl hyper::rt::Read + hyper::rt::Write + Send + 'static) -> Self {
        ProxyStream(Box::pin(io))
    }
}

impl hyper::rt::Read for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

fn decoded(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

/// The proxy's address as a URI without credentials, and the credentials.
fn split_proxy(proxy: &Url) -> Result<(Uri, Option<(String, String)>), BoxError> {
    let host = proxy.host_str().ok_or("proxy URL has no host")?;
    let port = proxy.port_or_known_default().unwrap_or(1080);
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let uri: Uri = format!("http://{host}:{port}").parse()?;
    let auth = (!proxy.username().is_empty()).then(|| {
        (
            decoded(proxy.username()),
            decoded(proxy.password().unwrap_or_default()),
        )
    });
    Ok((uri, auth))
}

impl Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let proxy = match &self.fixed {
            Some(p) => Some(p.clone()),
            None => Url::parse(&dst.to_string())
                .ok()
                .and_then(|target| self.env.proxy_for(&target).cloned()),
        };
        let mut http = self.http.clone();
        let proxy_tls = self.proxy_tls.clone();
        Box::pin(async move {
            let Some(proxy) = proxy else {
                return Ok(ProxyStream::new(http.call(dst).await?));
            };
            let (proxy_uri, auth) = split_proxy(&proxy)?;
            let basic = match &auth {
                Some((user, pass)) => {
                    let pair =
                        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                    Some(http::HeaderValue::from_str(&format!("Basic {pair}"))?)
                }
                None => None,
            };
            match proxy.scheme() {
                "http" => {
                    let mut tunnel = Tunnel::new(proxy_uri, http);
                    if let Some(basic) = basic {
                        tunnel = tunnel.with_auth(basic);
                    }
                    Ok(ProxyStream::new(tunnel.call(dst).await?))
                }
                "https" => {
                    let proxy_uri: Uri = proxy_uri
                        .to_string()
                        .replacen("http://", "https://", 1)
                        .parse()?;
                    let mut tunnel = Tunnel::new(proxy_uri, proxy_tls);
                    if let Some(basic) = basic {
                        tunnel = tunnel.with_auth(basic);
                    }
                    Ok(ProxyStream::new(tunnel.call(dst).await?))
                }
                scheme @ ("socks5" | "socks5h") => {
                    let mut socks = SocksV5::new(proxy_uri, http).local_dns(scheme == "socks5");
                    if let Some((user, pass)) = auth {
                        socks = socks.with_auth(user, pass);
                    }
                    Ok(ProxyStream::new(socks.call(dst).await?))
                }
                other => Err(format!("unsupported proxy scheme {other:?}").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_proxy_credentials() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let env = ProxyEnv::from_lookup(|n| {
            (n == "HTTPS_PROXY").then(|| "http://e-user:env-SECRET@env.test:1".to_string())
        })
        .expect("env");
        let fixed = Url::parse("socks5://f-user:fixed-SECRET@fixed.test:1080").expect("url");
        let connector = ProxyConnector::new(HttpConnector::new(), tls, Some(fixed), env);
        let shown = format!("{connector:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("fixed.test:1080"), "{shown}");
    }

    #[test]
    fn proxy_credentials_are_split_off_and_decoded() {
        let url = Url::parse("http://us%40er:p%3Ass@proxy.example:3128").expect("url");
        let (uri, auth) = split_proxy(&url).expect("split");
        assert_eq!(uri.to_string(), "http://proxy.example:3128/");
        assert_eq!(auth, Some(("us@er".to_string(), "p:ss".to_string())));
        let (uri, auth) =
            split_proxy(&Url::parse("socks5://[fd00::1]:1080").expect("url")).expect("split");
        assert_eq!(uri.host(), Some("[fd00::1]"));
        assert_eq!(auth, None);
    }
}
