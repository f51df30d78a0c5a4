//! Which proxy a request goes through, with Go's net/http rules, which are what client-go
//! users get (`golang.org/x/net/http/httpproxy`):
//!
//! - a cluster's `proxy-url` in the kubeconfig, when set, is used for every request to it;
//! - otherwise `HTTPS_PROXY` (for https URLs) or `HTTP_PROXY` (for http URLs), each falling
//!   back to its lowercase spelling when unset or empty; `HTTP_PROXY` is ignored when
//!   `REQUEST_METHOD` is set (a CGI environment);
//! - a proxy value without a scheme means `http://`; http, https, socks5 and socks5h proxies
//!   are supported;
//! - `localhost` and loopback addresses are never proxied;
//! - `NO_PROXY` (or `no_proxy`) is a comma-separated list of exceptions: `*` (everything),
//!   an IP or CIDR (`10.0.0.0/8`, `fd00::/8`), an IP with a port (`1.2.3.4:443`,
//!   `[::1]:443`), or a domain with an optional port: `example.com` matches it and its
//!   subdomains, `.example.com` and `*.example.com` only subdomains.
//!
//! Proxy URLs may carry credentials (`http://user:pass@proxy:3128`); they authenticate to the
//! proxy and are masked (`xxxxx`) wherever a proxy URL is shown.
//!
//! One deliberate difference: Go silently ignores a proxy variable it cannot parse and
//! connects directly; here that is an error naming the variable, so a typo does not quietly
//! bypass a required proxy.

use std::net::IpAddr;

use url::Url;

use crate::redact::redact_url;

/// Proxy settings from the environment (or any lookup function, for tests). `Debug` masks
/// the proxies' user names and passwords.
#[derive(Clone, Default)]
pub struct ProxyEnv {
    http: Option<Url>,
    https: Option<Url>,
    no_proxy: NoProxy,
    cgi: bool,
}

impl std::fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyEnv")
            .field("http", &self.http.as_ref().map(redact_url))
            .field("https", &self.https.as_ref().map(redact_url))
            .field("no_proxy", &self.no_proxy)
            .field("cgi", &self.cgi)
            .finish()
    }
}

/// A bad proxy setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy URL could not be parsed.
    #[error("invalid proxy URL in {source_name}: {reason}")]
    InvalidUrl {
        /// Where the URL came from: an environment variable or a kubeconfig field.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The proxy URL's scheme is not one kubeclient can speak.
    #[error(
        "unsupported proxy scheme {scheme:?} in {source_name}: use http, https, socks5 or socks5h"
    )]
    UnsupportedScheme {
        /// Where the URL came from.
        source_name: String,
        /// The scheme.
        scheme: String,
    },
}

/// Parses a proxy URL as Go does: a value without a scheme (or host) is tried again with
/// `http://` in front (only when it has no `://` of its own: `http://[bad` stays an error).
/// Credentials in the URL (`http://user:pass@proxy`) are kept for the proxy's own
/// authentication; errors never show them, and neither does the `Debug` of anything that
/// holds the URL ([`ProxyEnv`], `rest::Config`).
pub fn parse_proxy_url(value: &str, source_name: &str) -> Result<Url, ProxyError> {
    let parsed = match Url::parse(value) {
        Ok(url) if url.has_host() => url,
        Err(e) if value.contains("://") => {
            return Err(ProxyError::InvalidUrl {
                source_name: source_name.to_string(),
                reason: e.to_string(),
            });
        }
        _ => Url::parse(&format!("http://{value}")).map_err(|e| ProxyError::InvalidUrl {
            source_name: source_name.to_string(),
            reason: e.to_string(),
        })?,
    };
    match parsed.scheme() {
        "http" | "https" | "socks5" | "socks5h" => Ok(parsed),
        other => Err(ProxyError::UnsupportedScheme {
            source_name: source_name.to_string(),
            scheme: other.to_string(),
        }),
    }
}

impl ProxyEnv {
    /// Reads `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` (and their lowercase forms) and
    /// `REQUEST_METHOD` from the process environment.
    pub fn from_env() -> Result<Self, ProxyError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`ProxyEnv::from_env`], with `lookup` reading the variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ProxyError> {
        let any = |upper: &'static str, lower: &'static str| {
            [upper, lower]
                .into_iter()
                .find_map(|n| lookup(n).filter(|v| !v.is_empty()).map(|v| (n, v)))
        };
        let url = |found: Option<(&str, String)>| {
            found.map(|(name, v)| parse_proxy_url(&v, name)).transpose()
        };
        Ok(ProxyEnv {
            http: url(any("HTTP_PROXY", "http_proxy"))?,
            https: url(any("HTTPS_PROXY", "https_proxy"))?,
            no_proxy: NoProxy::parse(
                &any("NO_PROXY", "no_proxy")
                    .map(|(_, v)| v)
                    .unwrap_or_default(),
            ),
            cgi: lookup("REQUEST_METHOD").is_some_and(|v| !v.is_empty()),
        })
    }

    /// The proxy for a request to `target`, or `None` to connect directly.
    pub fn proxy_for(&self, target: &Url) -> Option<&Url> {
        let proxy = match target.scheme() {
            "https" => self.https.as_ref(),
            "http" if !self.cgi => self.http.as_ref(),
            _ => None,
        }?;
        self.no_proxy.use_proxy(target).then_some(proxy)
    }
}

/// The parsed `NO_PROXY` list.
#[derive(Debug, Clone, Default)]
struct NoProxy {
    all: bool,
    ips: Vec<(IpMatch, Option<u16>)>,
    domains: Vec<DomainMatch>,
}

#[derive(Debug, Clone)]
enum IpMatch {
    Exact(IpAddr),
    Net(ipnet::IpNet),
}

#[derive(Debug, Clone)]
struct DomainMatch {
    /// Always starts with a dot.
    suffix: String,
    /// Whether the bare domain (the suffix without its dot) matches too.
    bare: bool,
    port: Option<u16>,
}

/// Splits `host:port` or `[v6]:port`; `None` when there is no port.
fn split_host_port(entry: &str) -> Option<(&str, u16)> {
    let (host, port) = entry.rsplit_once(':')?;
    let port = port.parse().ok()?;
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return Some((inner, port));
    }
    // An unbracketed IPv6 address has more colons: it has no port.
    (!host.contains(':')).then_some((host, port))
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let mut no_proxy = NoProxy::default();
        for entry in list.split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                return NoProxy {
                    all: true,
                    ..NoProxy::default()
                };
            }
            if let Ok(net) = entry.parse::<ipnet::IpNet>() {
                no_proxy.ips.push((IpMatch::Net(net), None));
                continue;
            }
            let (host, port) = match split_host_port(&entry) {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (entry.clone(), None),
            };
            if host.is_empty() {
                continue; // malformed, as Go ignores it
            }
            if let Ok(ip) = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                no_proxy.ips.push((IpMatch::Exact(ip), port));
                continue;
            }
            let host = host
                .strip_prefix('*')
                .filter(|h| h.starts_with('.'))
                .unwrap_or(&host);
            let (suffix, bare) = match host.strip_prefix('.') {
                Some(_) => (host.to_string(), false),
                None => (format!(".{host}"), true),
            };
            no_proxy.domains.push(DomainMatch { suffix, bare, port });
        }
        no_proxy
    }

    fn use_proxy(&self, target: &Url) -> bool {
        let Some(host) = target.host() else {
            return true;
        };
        let port = target.port_or_known_default();
        let ip = match host {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        let name = match host {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            _ => String::new(),
        };
        if name == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return false;
        }
        if self.all {
            return false;
        }
        let port_ok = |want: Option<u16>| want.is_none() || want == port;
        if let Some(ip) = ip {
            let hit = self.ips.iter().any(|(m, want)| match m {
                IpMatch::Exact(e) => *e == ip && port_ok(*want),
                IpMatch::Net(net) => net.contains(&ip),
            });
            return !hit;
        }
        let hit = self.domains.iter().any(|d| {
            (name.ends_with(&d.suffix) || (d.bare && name == d.suffix[1..])) && port_ok(d.port)
        });
        !hit
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::from_lookup(|n| map.get(n).cloned()).expect("valid proxy env")
    }

    fn via(env: &ProxyEnv, target: &str) -> Option<String> {
        let url = Url::parse(target).expect("target URL");
        env.proxy_for(&url).map(|u| u.to_string())
    }

    #[test]
    fn scheme_picks_the_variable_and_uppercase_wins() {
        let e = env(&[
            ("HTTPS_PROXY", "https://secure:3128"),
            ("https_proxy", "http://lower:1"),
            ("http_proxy", "plain:8080"),
        ]);
        assert_eq!(
            via(&e, "https://api.example.com").as_deref(),
            Some("https://secure:3128/")
        );
        // No scheme means http://.
        assert_eq!(
            via(&e, "http://api.example.com").as_deref(),
            Some("http://plain:8080/")
        );
        let lower_only = env(&[("HTTPS_PROXY", ""), ("https_proxy", "socks5://s:1080")]);
        assert_eq!(
            via(&lower_only, "https://a.b").as_deref(),
            Some("socks5://s:1080")
        );
    }

    #[test]
    fn loopback_and_localhost_are_never_proxied() {
        let e = env(&[("HTTPS_PROXY", "http://p:1")]);
        for target in [
            "https://localhost:6443",
            "https://127.0.0.1:6443",
            "https://[::1]:6443",
        ] {
            assert_eq!(via(&e, target), None, "{target}");
        }
        assert!(via(&e, "https://10.1.2.3").is_some());
    }

    #[test]
    fn no_proxy_matches_like_go() {
        let e = env(&[
            ("HTTPS_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                " Example.com, .sub.org,*.star.net, 10.0.0.0/8, 192.168.1.1:8443, [fd00::1]:443, api.io:6443 ",
            ),
        ]);
        let direct = [
            "https://example.com",
            "https://a.example.com",
            "https://x.sub.org",
            "https://y.star.net",
            "https://10.20.30.40",
            "https://192.168.1.1:8443",
            "https://[fd00::1]",
            "https://api.io:6443",
        ];
        let proxied = [
            "https://notexample.com",
            "https://sub.org",
            "https://star.net",
            "https://11.0.0.1",
            "https://192.168.1.1",
            "https://[fd00::2]",
            "https://api.io",
        ];
        for t in direct {
            assert_eq!(via(&e, t), None, "{t} should be direct");
        }
        for t in proxied {
            assert!(via(&e, t).is_some(), "{t} should be proxied");
        }
    }

    #[test]
    fn star_disables_proxying_and_cgi_ignores_http_proxy() {
        let e = env(&[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "foo,*")]);
        assert_eq!(via(&e, "https://anything.example"), None);
        let cgi = env(&[
            ("HTTP_PROXY", "p:1"),
            ("HTTPS_PROXY", "p:2"),
            ("REQUEST_METHOD", "GET"),
        ]);
        assert_eq!(via(&cgi, "http://a.example"), None);
        assert!(via(&cgi, "https://a.example").is_some());
    }

    #[test]
    fn debug_and_errors_never_show_proxy_credentials() {
        let e = env(&[
            ("HTTPS_PROXY", "http://env-user:env-SECRET@secure.test:3128"),
            ("http_proxy", "plain-user:plain-SECRET@plain.test:8080"),
        ]);
        let shown = format!("{e:?} {e:#?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("-user"),
            "{shown}"
        );
        assert!(
            shown.contains("secure.test:3128") && shown.contains("plain.test:8080"),
            "{shown}"
        );
        // The credentials are still there for the proxy itself.
        let url = Url::parse("https://api.example").expect("url");
        assert_eq!(
            e.proxy_for(&url).and_then(|u| u.password()),
            Some("env-SECRET")
        );
        for bad in [
            "http://u:bad-SECRET@[bad:1",
            "ftp://u:bad-SECRET@p:21",
            "u:bad-SECRET@p:notaport",
        ] {
            let err = ProxyEnv::from_lookup(|n| (n == "HTTPS_PROXY").then(|| bad.to_string()))
                .expect_err("bad proxy");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    #[test]
    fn bad_values_are_errors_naming_the_variable() {
        let err = ProxyEnv::from_lookup(|n| (n == "HTTPS_PROXY").then(|| "ftp://p:21".to_string()))
            .expect_err("ftp proxy");
        assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
        let err =
            parse_proxy_url("http://[bad", "proxy-url of cluster \"c\"").expect_err("bad url");
        assert!(err.to_string().contains("cluster \"c\""), "{err}");
    }
}
