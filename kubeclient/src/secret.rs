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
//! URLs can carry credentials too; they are masked by the crate's `redact` module.

use std::fmt;

use secrecy::zeroize::Zeroize;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use crate::redact::REDACTED_PLACEHOLDER;

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
    fn converts_to_secrecy() {
        use secrecy::ExposeSecret;
        let s = Secret::from("abc").to_secret_string();
        assert_eq!(s.expose_secret(), "abc");
    }
}
