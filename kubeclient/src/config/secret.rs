//! [`Secret`]: a kubeconfig value that must never be printed — a bearer token, a password, a
//! client key, an auth-provider setting, an exec plugin's environment value.
//!
//! `Debug` prints `Secret([REDACTED])`; there is no `Display`. Serde is transparent, because a
//! kubeconfig must be written back exactly (and `kubeclient config view --raw` shows secrets on
//! purpose). The `secrecy` crate's `SecretBox` deliberately refuses `Serialize`, `Default` and
//! `PartialEq` on strings, which a file model needs, so this is the kubeconfig model's own
//! wrapper; it implements [`secrecy::ExposeSecret`] and converts into [`secrecy::SecretString`]
//! for the rest of the crate. Its memory is zeroed on drop.
//!
//! URLs can carry credentials too (`http://user:password@proxy:3128`), and `url::Url`'s own
//! `Debug` and `Display` print them: everything that shows a server, proxy or issuer URL in
//! a `Debug`, `Display`, error or log line goes through [`redact_url`] or [`redact_url_str`],
//! which replace the user name and the password with [`URL_CREDENTIALS_PLACEHOLDER`] (Go's
//! `url.URL.Redacted` masks the password only; a lone user name is often a token, so both are
//! masked here).

use std::fmt;

use secrecy::zeroize::Zeroize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The placeholder `Debug` prints instead of a secret.
pub const REDACTED_PLACEHOLDER: &str = "[REDACTED]";

/// What [`redact_url`] and [`redact_url_str`] print instead of a URL's user name and password
/// (Go's `url.URL.Redacted` placeholder).
pub(crate) const URL_CREDENTIALS_PLACEHOLDER: &str = "xxxxx";

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

/// A secret value from a kubeconfig: `Debug` prints `Secret([REDACTED])`, there is no
/// `Display`, serde is transparent (kubeconfigs are written back as they were), and the
/// memory is zeroed on drop. It implements [`secrecy::ExposeSecret`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret itself: use it, never log it.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl Secret<String> {
    /// Whether the secret is the empty string (Go's "unset").
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value as a [`secrecy::SecretString`], for the transport and `rest::Config`.
    pub fn to_secret_string(&self) -> secrecy::SecretString {
        secrecy::SecretString::from(self.0.clone())
    }
}

impl Secret<Vec<u8>> {
    /// Whether the secret holds no bytes (Go's "unset").
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Zeroize> secrecy::ExposeSecret<T> for Secret<T> {
    fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED_PLACEHOLDER})")
    }
}

impl<T: Zeroize + Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: Zeroize + Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::from("hunter2");
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains(REDACTED_PLACEHOLDER));
        assert_eq!(s.expose_secret(), "hunter2");
    }

    #[test]
    fn serde_is_transparent() -> Result<(), serde_json::Error> {
        let s: Secret<String> = serde_json::from_str("\"tok\"")?;
        assert_eq!(serde_json::to_string(&s)?, "\"tok\"");
        Ok(())
    }

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
    fn converts_to_secrecy() {
        use secrecy::ExposeSecret;
        let s = Secret::from("abc").to_secret_string();
        assert_eq!(s.expose_secret(), "abc");
    }
}
