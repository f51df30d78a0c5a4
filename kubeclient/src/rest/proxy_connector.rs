//! The connector under TLS: connects directly, or through the proxy that
//! [`crate::config::proxy`] picks for the target — an HTTP proxy with `CONNECT`, or a SOCKS5
//! proxy (`socks5` resolves the target's name locally, `socks5h` lets the proxy resolve it).
//! Credentials in the proxy URL authenticate to the proxy. The protocols themselves are
//! hyper-util's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine;
use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::{SocksV5, Tunnel};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;
use url::Url;

use crate::config::proxy::ProxyEnv;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Connects to a target directly or through its proxy.
#[derive(Clone, Debug)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    /// A proxy for every target (a cluster's `proxy-url`).
    fixed: Option<Url>,
    /// Otherwise the environment decides per target.
    env: Arc<ProxyEnv>,
}

impl ProxyConnector {
    pub(crate) fn new(http: HttpConnector, fixed: Option<Url>, env: ProxyEnv) -> Self {
        ProxyConnector {
            http,
            fixed,
            env: Arc::new(env),
        }
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
    type Response = TokioIo<TcpStream>;
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
        Box::pin(async move {
            let Some(proxy) = proxy else {
                return http.call(dst).await.map_err(Into::into);
            };
            let (proxy_uri, auth) = split_proxy(&proxy)?;
            match proxy.scheme() {
                "http" => {
                    let mut tunnel = Tunnel::new(proxy_uri, http);
                    if let Some((user, pass)) = auth {
                        let basic = base64::engine::general_purpose::STANDARD
                            .encode(format!("{user}:{pass}"));
                        tunnel = tunnel
                            .with_auth(http::HeaderValue::from_str(&format!("Basic {basic}"))?);
                    }
                    tunnel.call(dst).await.map_err(Into::into)
                }
                scheme @ ("socks5" | "socks5h") => {
                    let mut socks = SocksV5::new(proxy_uri, http).local_dns(scheme == "socks5");
                    if let Some((user, pass)) = auth {
                        socks = socks.with_auth(user, pass);
                    }
                    socks.call(dst).await.map_err(Into::into)
                }
                other => Err(format!(
                    "{other} proxies are not supported yet; use an http or socks5 proxy"
                )
                .into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
