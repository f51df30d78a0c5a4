//! Masking credentials in what is shown: secrets and URLs that carry a user name or password
//! (`http://user:password@proxy:3128`), whose `url::Url` `Debug` and `Display` print them.
//! Everything that shows a server, proxy or issuer URL in a `Debug`, `Display`, error or log
//! line goes through here. Data only: no I/O, imported by `config` and `rest` alike.
//!
//! [`redact_url`] and [`redact_url_str`] replace the user name and the password with
//! [`URL_CREDENTIALS_PLACEHOLDER`] (Go's `url.URL.Redacted` masks the password only; a lone
//! user name is often a token, so both are masked here); [`url_for_logs`] leaves them out.

/// The placeholder `Debug` (and a logged body) prints instead of a secret.
pub const REDACTED_PLACEHOLDER: &str = "[REDACTED]";

/// What [`redact_url`] and [`redact_url_str`] print instead of a URL's user name and password
/// (Go's `url.URL.Redacted` placeholder).
const URL_CREDENTIALS_PLACEHOLDER: &str = "xxxxx";

/// `url` as text, its user name and password (when present) replaced by
/// [`URL_CREDENTIALS_PLACEHOLDER`].
pub(crate) fn redact_url(url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    // Only URLs that cannot have credentials refuse these, and they have none.
    if !url.username().is_empty() {
        let _ = shown.set_username(URL_CREDENTIALS_PLACEHOLDER);
    }
    if url.password().is_some() {
        let _ = shown.set_password(Some(URL_CREDENTIALS_PLACEHOLDER));
    }
    shown.to_string()
}

/// A URL as written (a kubeconfig's `server` or `proxy-url`, an environment variable), with
/// any credentials masked. A value that parses as a URL with a host is masked as
/// [`redact_url`] does, but otherwise shown as written; one that does not (no scheme, a typo) is
/// masked from the start of its authority to its last `@`, so even a malformed value never
/// shows a password.
pub(crate) fn redact_url_str(value: &str) -> String {
    if let Ok(url) = url::Url::parse(value)
        && url.has_host()
    {
        return if url.username().is_empty() && url.password().is_none() {
            value.to_string()
        } else {
            redact_url(&url)
        };
    }
    let start = value.find("://").map_or(0, |i| i + 3);
    match value[start..].rfind('@') {
        Some(at) => format!(
            "{}{URL_CREDENTIALS_PLACEHOLDER}{}",
            &value[..start],
            &value[start + at..]
        ),
        None => value.to_string(),
    }
}

/// `url` as it may be logged: without a user name or password.
pub(crate) fn url_for_logs(url: &url::Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_masked_and_the_rest_kept() {
        let url = |s: &str| url::Url::parse(s).expect("url");
        assert_eq!(
            redact_url(&url("http://us%40er:p%3Ass@proxy.test:3128")),
            "http://xxxxx:xxxxx@proxy.test:3128/"
        );
        assert_eq!(
            redact_url(&url("socks5://token@[fd00::1]:1080")),
            "socks5://xxxxx@[fd00::1]:1080"
        );
        assert_eq!(
            redact_url(&url("https://:pw@k.test/p?q=1")),
            "https://:xxxxx@k.test/p?q=1"
        );
        assert_eq!(
            redact_url(&url("https://k.test:6443/prefix")),
            "https://k.test:6443/prefix"
        );

        // Strings: shown as written unless they hold credentials.
        assert_eq!(redact_url_str("https://k.test:6443"), "https://k.test:6443");
        assert_eq!(redact_url_str("k.test:6443"), "k.test:6443");
        assert_eq!(
            redact_url_str("http://u:pw@proxy.test:3128"),
            "http://xxxxx:xxxxx@proxy.test:3128/"
        );
        // Malformed or without a scheme: masked up to the last `@`.
        for (value, shown) in [
            ("u:pw@proxy.test:3128", "xxxxx@proxy.test:3128"),
            ("http://u:p@w@[bad", "http://xxxxx@[bad"),
            ("https://u:pa/ss@k:notaport", "https://xxxxx@k:notaport"),
        ] {
            assert_eq!(redact_url_str(value), shown, "{value}");
        }
    }

    #[test]
    fn urls_lose_their_credentials() {
        let url = url::Url::parse("https://me:hunter2@example.test:6443/api?x=1").expect("url");
        assert_eq!(url_for_logs(&url), "https://example.test:6443/api?x=1");
        let url = url::Url::parse("https://example.test/api").expect("url");
        assert_eq!(url_for_logs(&url), "https://example.test/api");
    }
}
