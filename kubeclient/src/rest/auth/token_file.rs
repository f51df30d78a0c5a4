//! A bearer token read from a file and re-read periodically, as client-go's
//! `transport.NewCachedFileTokenSource` does for `tokenFile` in a kubeconfig and for the
//! in-cluster service-account token (bound tokens are rotated by the kubelet).
//!
//! client-go's semantics, which this follows:
//! - the file is read on first use; a read token is treated as valid for one minute and
//!   re-read once less than ten seconds of that minute remain (so about every 50 s);
//! - surrounding whitespace is trimmed; an empty file is an error;
//! - if a re-read fails while the cached token is still within its minute, the cached token is
//!   used and the failure logged; after that the error is returned.
//!
//! The transport uses it as a [`TokenSource`], which reads the file on tokio's blocking
//! threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use super::{AuthError, TokenFuture, TokenSource};

/// How long a token read from a file is treated as valid.
const VALIDITY: Duration = Duration::from_secs(60);
/// How long before the end of [`VALIDITY`] the file is read again.
const LEEWAY: Duration = Duration::from_secs(10);

/// A token file with a cached token; cheap to share behind an `Arc`.
pub struct TokenFile {
    path: PathBuf,
    cached: Mutex<Option<Cached>>,
}

struct Cached {
    token: SecretString,
    read_at: Instant,
}

impl std::fmt::Debug for TokenFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TokenFile {
    /// A token source for `path`; nothing is read until the first [`TokenFile::token`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenFile {
            path: path.into(),
            cached: Mutex::new(None),
        }
    }

    /// The file the token is read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current token: the cached one while it is fresh, else the file's content now.
    pub fn token(&self) -> Result<SecretString, AuthError> {
        self.token_at(Instant::now())
    }

    /// Forgets the cached token, so the next [`TokenFile::token`] reads the file (used after
    /// the server answered 401).
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // The cache is a plain value: a panic elsewhere cannot leave it half-written.
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached token, if it is fresh at `now` (no file I/O).
    fn fresh_at(&self, now: Instant) -> Option<SecretString> {
        self.lock()
            .as_ref()
            .filter(|c| now.saturating_duration_since(c.read_at) + LEEWAY < VALIDITY)
            .map(|c| c.token.clone())
    }

    fn token_at(&self, now: Instant) -> Result<SecretString, AuthError> {
        let mut cached = self.lock();
        if let Some(c) = cached.as_ref()
            && now.saturating_duration_since(c.read_at) + LEEWAY < VALIDITY
        {
            return Ok(c.token.clone());
        }
        match read_token(&self.path) {
            Ok(token) => {
                *cached = Some(Cached {
                    token: token.clone(),
                    read_at: now,
                });
                Ok(token)
            }
            Err(e) => match cached.as_ref() {
                Some(c) if now.saturating_duration_since(c.read_at) < VALIDITY => {
                    tracing::warn!(error = %e, "re-reading the token file failed; using the cached token");
                    Ok(c.token.clone())
                }
                _ => Err(e),
            },
        }
    }
}

fn read_token(path: &Path) -> Result<SecretString, AuthError> {
    let bytes = std::fs::read(path).map_err(|source| AuthError::ReadTokenFile {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| AuthError::TokenFileNotUtf8 {
        path: path.to_path_buf(),
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(AuthError::EmptyTokenFile {
            path: path.to_path_buf(),
        });
    }
    Ok(SecretString::from(token))
}

/// The transport's use: a cached token is returned at once; when the file has to be read,
/// that happens on tokio's blocking threads (`tokio::task::spawn_blocking`), not on the
/// caller's. After a 401 the cache is dropped, so the retry reads the file again.
impl TokenSource for TokenFile {
    fn token(self: Arc<Self>) -> TokenFuture {
        Box::pin(async move {
            if let Some(token) = self.fresh_at(Instant::now()) {
                return Ok(token);
            }
            let path = self.path.clone();
            tokio::task::spawn_blocking(move || TokenFile::token(&self))
                .await
                .map_err(|e| AuthError::ReadTokenFile {
                    path,
                    source: std::io::Error::other(e.to_string()),
                })?
        })
    }

    fn unauthorized(&self) -> bool {
        self.invalidate();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn temp_file(name: &str, content: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kubeclient-token-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("token");
        std::fs::write(&path, content).expect("write token");
        path
    }

    #[test]
    fn reads_trimmed_token_and_caches_it_until_refresh_is_due() {
        let path = temp_file("cache", "  first\n");
        let source = TokenFile::new(&path);
        let t0 = Instant::now();
        assert_eq!(source.token_at(t0).expect("token").expose_secret(), "first");
        std::fs::write(&path, "second").expect("rotate");
        // Within the first 50 s the cached token is used ...
        let t49 = t0 + Duration::from_secs(49);
        assert_eq!(
            source.token_at(t49).expect("token").expose_secret(),
            "first"
        );
        // ... after that the file is read again and the rotated token picked up.
        let t51 = t0 + Duration::from_secs(51);
        assert_eq!(
            source.token_at(t51).expect("token").expose_secret(),
            "second"
        );
    }

    #[test]
    fn failed_reread_uses_the_cached_token_only_while_it_is_valid() {
        let path = temp_file("fail", "tok");
        let source = TokenFile::new(&path);
        let t0 = Instant::now();
        source.token_at(t0).expect("first read");
        std::fs::remove_file(&path).expect("remove");
        let t55 = t0 + Duration::from_secs(55);
        assert_eq!(source.token_at(t55).expect("cached").expose_secret(), "tok");
        let t61 = t0 + Duration::from_secs(61);
        let err = source.token_at(t61).expect_err("expired and unreadable");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn empty_or_missing_file_is_an_error_naming_the_file() {
        let path = temp_file("empty", " \n");
        let err = TokenFile::new(&path).token().expect_err("empty");
        assert!(matches!(err, AuthError::EmptyTokenFile { .. }), "{err:?}");
        assert!(err.to_string().contains(&path.display().to_string()));
        let missing = path.with_file_name("missing");
        let err = TokenFile::new(&missing).token().expect_err("missing");
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn invalidate_forces_a_reread() {
        let path = temp_file("invalidate", "one");
        let source = TokenFile::new(&path);
        assert_eq!(source.token().expect("token").expose_secret(), "one");
        std::fs::write(&path, "two").expect("rotate");
        source.invalidate();
        assert_eq!(source.token().expect("token").expose_secret(), "two");
    }

    #[tokio::test]
    async fn as_a_token_source_it_reads_off_the_runtime_and_uses_the_cache() {
        let path = temp_file("async", "one\n");
        let source = Arc::new(TokenFile::new(&path));
        let header = Arc::clone(&source).token().await.expect("bearer");
        assert_eq!(header.expose_secret(), "one");
        std::fs::write(&path, "two").expect("rotate");
        // Cached: the file is not read again yet.
        let header = Arc::clone(&source).token().await.expect("bearer");
        assert_eq!(header.expose_secret(), "one");
        assert!(source.unauthorized(), "a fresh token may differ");
        let header = Arc::clone(&source).token().await.expect("bearer");
        assert_eq!(header.expose_secret(), "two");
        std::fs::remove_file(&path).expect("remove");
        source.invalidate();
        let err = Arc::clone(&source).token().await.expect_err("missing");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let path = temp_file("debug", "s3cr3t-token");
        let source = TokenFile::new(&path);
        source.token().expect("token");
        let token = source.token().expect("token");
        let shown = format!("{source:?} {token:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
