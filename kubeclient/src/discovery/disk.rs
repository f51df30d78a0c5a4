//! The discovery disk cache, laid out, aged and invalidated as kubectl's (client-go's
//! `discovery/cached/disk` with cli-runtime's `ConfigFlags`):
//!
//! - the root is `$KUBECACHEDIR`, else `~/.kube/cache`; discovery lives in
//!   `<root>/discovery/<host>`, where `<host>` is the server URL without its `https://` or
//!   `http://` and with every character other than ASCII letters, digits, `_`, `/`, `.`, `(`
//!   and `)` replaced by `_` (`https://127.0.0.1:6443` → `127.0.0.1_6443`); unlike kubectl, a
//!   user name and password in the server URL are left out of it;
//! - `servergroups.json` holds the groups (`APIGroupList`) and
//!   `<group>/<version>/serverresources.json` each group version's resources
//!   (`APIResourceList`), in the legacy JSON format, so kubectl reads our files and we read
//!   its;
//! - a file is used while its modification time is less than the TTL (kubectl: 6 hours) old;
//!   files are written to a temporary name and renamed into place, mode `0660`;
//! - after [`DiskCache::invalidate`] only files this process wrote since are used;
//! - a file that cannot be read or decoded is ignored and rewritten: the cache never fails a
//!   discovery.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use url::Url;

use kubeclient_core::discovery::GroupVersion;

/// How long cached discovery is used: 6 hours, as kubectl.
pub const DEFAULT_TTL: Duration = Duration::from_secs(6 * 60 * 60);

/// The cache root kubectl uses: `$KUBECACHEDIR` if set and not empty, else `~/.kube/cache`
/// (relative to the working directory when no home directory is known, as Go).
pub fn default_cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("KUBECACHEDIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    crate::config::home_dir()
        .unwrap_or_default()
        .join(".kube")
        .join("cache")
}

/// The discovery cache directory for `host` below `parent` (kubectl's
/// `computeDiscoverCacheDir`): the first `https://` and `http://` removed, then every
/// character that is not an ASCII letter, digit, `_`, `/`, `.`, `(` or `)` replaced by `_`.
pub fn cache_dir_for_host(parent: &Path, host: &str) -> PathBuf {
    let schemeless = host.replacen("https://", "", 1).replacen("http://", "", 1);
    let safe: String = schemeless
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // The URL is parsed, so its path has no `.` or `..` segments left; dropping empty and
    // dot segments here keeps even a hand-written host inside `parent`.
    let mut dir = parent.to_path_buf();
    for segment in safe.split('/') {
        if !segment.is_empty() && segment != "." && segment != ".." {
            dir.push(segment);
        }
    }
    dir
}

/// The server URL as kubectl would see it in a kubeconfig: without the trailing `/` a parsed
/// URL gains. (A parsed URL also lower-cases the host and drops a default port, which a raw
/// kubeconfig string keeps, so such hosts map to a different directory than kubectl's.) A user
/// name and password in the URL are left out, unlike kubectl: the directory's name shows in
/// logs and `Debug`, and must not hold a password.
pub(crate) fn host_string(host: &Url) -> String {
    let mut host = host.clone();
    // Only URLs that cannot carry credentials refuse these, and they have none to remove.
    let _ = host.set_username("");
    let _ = host.set_password(None);
    let text = host.as_str();
    text.strip_suffix('/').unwrap_or(text).to_string()
}

/// Whether a file modified at `modified` is still fresh at `now`: kubectl uses it until
/// `modified + ttl` has passed. A modification time in the future counts as fresh.
pub(crate) fn is_fresh(modified: SystemTime, now: SystemTime, ttl: Duration) -> bool {
    match modified.checked_add(ttl) {
        Some(expiry) => now <= expiry,
        None => true,
    }
}

#[derive(Debug, Default)]
struct State {
    /// Files written by this process since the last invalidation.
    ours: HashSet<PathBuf>,
    /// Set by `invalidate`: ignore every file not in `ours`.
    invalidated: bool,
    /// Whether every file used was written by this process.
    fresh: bool,
}

/// A discovery disk cache for one server; see the module docs for its layout and rules.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    ttl: Duration,
    state: Mutex<State>,
}

impl Clone for DiskCache {
    fn clone(&self) -> Self {
        DiskCache::at(self.dir.clone()).ttl(self.ttl)
    }
}

impl DiskCache {
    /// A cache kept exactly in `dir` (already specific to one server).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        DiskCache {
            dir: dir.into(),
            ttl: DEFAULT_TTL,
            state: Mutex::new(State {
                fresh: true,
                ..State::default()
            }),
        }
    }

    /// The cache for `host` under the cache root `root` (what kubectl's `--cache-dir` names):
    /// `<root>/discovery/<sanitised host>`.
    pub fn in_root(root: &Path, host: &Url) -> Self {
        DiskCache::at(cache_dir_for_host(
            &root.join("discovery"),
            &host_string(host),
        ))
    }

    /// kubectl's cache for `host`: under [`default_cache_root`].
    pub fn kubectl_default(host: &Url) -> Self {
        DiskCache::in_root(&default_cache_root(), host)
    }

    /// How long files are used (default [`DEFAULT_TTL`]).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The directory the files live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The groups file.
    pub fn groups_file(&self) -> PathBuf {
        self.dir.join("servergroups.json")
    }

    /// The resources file of one group version.
    pub fn resources_file(&self, group_version: &GroupVersion) -> PathBuf {
        let mut path = self.dir.clone();
        for segment in group_version.to_string().split('/') {
            // Server-provided names: never let one climb out of the cache directory.
            if segment.is_empty() || segment == "." || segment == ".." {
                path.push("_");
            } else {
                path.push(segment);
            }
        }
        path.join("serverresources.json")
    }

    /// Ignore every file not written by this process from now on (client-go's
    /// `Invalidate`).
    pub fn invalidate(&self) {
        let mut state = self.lock();
        state.ours.clear();
        state.invalidated = true;
        state.fresh = true;
    }

    /// Whether every file used since the last invalidation was written by this process, so
    /// that a miss cannot be cured by asking the server again (client-go's `Fresh`).
    pub fn fresh(&self) -> bool {
        self.lock().fresh
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The contents of `path` if it may be used: not invalidated, readable, and younger than
    /// the TTL.
    pub(crate) fn read(&self, path: &Path) -> Option<Vec<u8>> {
        let ours = {
            let state = self.lock();
            let ours = state.ours.contains(path);
            if state.invalidated && !ours {
                return None;
            }
            ours
        };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        if !is_fresh(modified, SystemTime::now(), self.ttl) {
            tracing::debug!(file = %path.display(), "discovery cache file expired");
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        let mut state = self.lock();
        state.fresh = state.fresh && ours;
        Some(bytes)
    }

    /// Writes `bytes` to `path` atomically; failures are logged, never returned.
    pub(crate) fn write(&self, path: &Path, bytes: &[u8]) {
        if let Err(e) = self.try_write(path, bytes) {
            tracing::debug!(file = %path.display(), error = %e, "could not write the discovery cache");
        }
    }

    fn try_write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let parent = path.parent().unwrap_or(&self.dir);
        create_dir(parent)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = parent.join(format!(
            "{name}.{}.{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = write_private(&temp, bytes).and_then(|()| std::fs::rename(&temp, path));
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        } else {
            self.lock().ours.insert(path.to_path_buf());
        }
        result
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o660)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_directories_are_sanitised_like_kubectl() {
        let parent = Path::new("/c/discovery");
        let cases = [
            ("https://127.0.0.1:6443", "/c/discovery/127.0.0.1_6443"),
            ("http://localhost:8080", "/c/discovery/localhost_8080"),
            (
                "https://k8s.example.com/clusters/c-1",
                "/c/discovery/k8s.example.com/clusters/c_1",
            ),
            ("https://[::1]:6443", "/c/discovery/___1__6443"),
            (
                "https://a-b.example:443/x?y=z",
                "/c/discovery/a_b.example_443/x_y_z",
            ),
            ("https://(paren)é", "/c/discovery/(paren)_"),
            // Never out of the parent, even from a hand-written host.
            ("https://../../etc", "/c/discovery/etc"),
        ];
        for (host, want) in cases {
            assert_eq!(cache_dir_for_host(parent, host), Path::new(want), "{host}");
        }
        let url = Url::parse("https://127.0.0.1:6443").expect("url");
        assert_eq!(host_string(&url), "https://127.0.0.1:6443");
        // Credentials in the server URL never reach the directory's name.
        let url = Url::parse("https://me:pw-SECRET@127.0.0.1:6443/").expect("url");
        assert_eq!(host_string(&url), "https://127.0.0.1:6443");
        let cache = DiskCache::in_root(Path::new("/c"), &url);
        assert!(!format!("{cache:?}").contains("SECRET"));
        let cache = DiskCache::in_root(Path::new("/r"), &url);
        assert_eq!(cache.dir(), Path::new("/r/discovery/127.0.0.1_6443"));
        assert_eq!(
            cache.resources_file(&GroupVersion::new("apps", "v1")),
            Path::new("/r/discovery/127.0.0.1_6443/apps/v1/serverresources.json")
        );
        assert_eq!(
            cache.resources_file(&GroupVersion::new("", "v1")),
            Path::new("/r/discovery/127.0.0.1_6443/v1/serverresources.json")
        );
        assert_eq!(
            cache.resources_file(&GroupVersion::new("..", "..")),
            Path::new("/r/discovery/127.0.0.1_6443/_/_/serverresources.json")
        );
    }

    #[test]
    fn files_are_fresh_until_the_ttl_has_passed() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ttl = DEFAULT_TTL;
        assert_eq!(ttl, Duration::from_secs(21_600));
        assert!(is_fresh(t0, t0, ttl));
        assert!(is_fresh(t0, t0 + ttl, ttl));
        assert!(!is_fresh(t0, t0 + ttl + Duration::from_millis(1), ttl));
        assert!(is_fresh(t0 + Duration::from_secs(60), t0, ttl));
        assert!(!is_fresh(t0, t0 + Duration::from_secs(1), Duration::ZERO));
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kubeclient-disk-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn reads_honour_invalidation_and_the_ttl() {
        let dir = temp_dir("rules");
        let cache = DiskCache::at(&dir);
        let file = cache.groups_file();
        assert_eq!(cache.read(&file), None);
        cache.write(&file, b"{}");
        assert_eq!(cache.read(&file).as_deref(), Some(&b"{}"[..]));
        assert!(cache.fresh(), "only our own file was used");

        // Another process (a fresh cache over the same directory) may use it too, but then
        // it is not fresh.
        let other = DiskCache::at(&dir);
        assert!(other.read(&file).is_some());
        assert!(!other.fresh());
        // Once invalidated, it ignores files it did not write since.
        other.invalidate();
        assert_eq!(other.read(&file), None);
        other.write(&file, b"{\"new\":1}");
        assert_eq!(other.read(&file).as_deref(), Some(&b"{\"new\":1}"[..]));

        // Expired files are not used.
        let short = DiskCache::at(&dir).ttl(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(short.read(&file), None);

        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("servergroups.json")]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unwritable_cache_is_not_an_error() {
        let dir = temp_dir("blocked");
        std::fs::create_dir_all(&dir).expect("dir");
        // A file where the cache directory should be.
        let blocker = dir.join("cache");
        std::fs::write(&blocker, b"x").expect("blocker");
        let cache = DiskCache::at(&blocker);
        cache.write(&cache.groups_file(), b"{}");
        assert_eq!(cache.read(&cache.groups_file()), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
