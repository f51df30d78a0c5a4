//! [`LoadingRules`]: which kubeconfig files to read and how to merge them, as client-go's
//! `ClientConfigLoadingRules`.
//!
//! - An explicit file (kubectl's `--kubeconfig`) is read alone, and must exist.
//! - Otherwise each file of `KUBECONFIG` (split with the platform's path-list separator;
//!   empty entries and repeats ignored) is read in order; missing files are skipped.
//! - Otherwise `~/.kube/config`, which may be missing (an empty config).
//!
//! Merging (`Load` in client-go's `loader.go`): the first file that defines a named cluster,
//! user, context or extension wins, and its entry is taken whole; the first non-empty
//! `current-context` wins; `preferences.colors` is set if any file sets it.
//!
//! Relative paths in a file (`certificate-authority`, `client-certificate`, `client-key`,
//! `tokenFile`, and exec's `command` when it contains a path separator) are resolved against
//! that file's directory (`ResolveLocalPaths`), unless [`LoadingRules::resolve_paths`] is off
//! (kubectl's `config` commands show the paths as written). Every entry records the file it
//! came from in its `origin`.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::error::KubeconfigError;
use super::model::Kubeconfig;

/// The environment variable listing kubeconfig files.
pub const KUBECONFIG_ENV: &str = "KUBECONFIG";

/// Which kubeconfig files to load (client-go's `ClientConfigLoadingRules`); the rules are
/// described at [`LoadingRules::load`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadingRules {
    /// A file that must exist and is read alone (kubectl's `--kubeconfig`).
    pub explicit_path: Option<PathBuf>,
    /// The files to merge, highest priority first (from `KUBECONFIG`, or `~/.kube/config`).
    pub precedence: Vec<PathBuf>,
    /// Resolve relative paths inside each file against its directory (default `true`).
    pub resolve_paths: bool,
}

impl Default for LoadingRules {
    /// No files at all; [`LoadingRules::from_env`] is the usual start.
    fn default() -> Self {
        LoadingRules {
            explicit_path: None,
            precedence: Vec::new(),
            resolve_paths: true,
        }
    }
}

/// The user's home directory, as client-go's `homedir.HomeDir` finds it on Unix (`HOME`).
pub fn home_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(home));
    }
    if cfg!(windows)
        && let Some(profile) = std::env::var_os("USERPROFILE").filter(|h| !h.is_empty())
    {
        return Some(PathBuf::from(profile));
    }
    None
}

impl LoadingRules {
    /// The rules kubectl uses: `KUBECONFIG` if set and non-empty, else `~/.kube/config`.
    pub fn from_env() -> Self {
        Self::from_env_values(std::env::var_os(KUBECONFIG_ENV), home_dir())
    }

    /// [`LoadingRules::from_env`] with the environment given, for tests and embedding.
    pub fn from_env_values(kubeconfig: Option<OsString>, home: Option<PathBuf>) -> Self {
        let mut precedence: Vec<PathBuf> = Vec::new();
        match kubeconfig.filter(|v| !v.is_empty()) {
            Some(list) => {
                for path in std::env::split_paths(&list) {
                    if !path.as_os_str().is_empty() && !precedence.contains(&path) {
                        precedence.push(path);
                    }
                }
            }
            None => {
                if let Some(home) = home {
                    precedence.push(home.join(".kube").join("config"));
                }
            }
        }
        LoadingRules {
            explicit_path: None,
            precedence,
            resolve_paths: true,
        }
    }

    /// Reads only `path`, which must exist (kubectl's `--kubeconfig`).
    #[must_use]
    pub fn with_explicit_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.explicit_path = Some(path.into()).filter(|p: &PathBuf| !p.as_os_str().is_empty());
        self
    }

    /// Whether to resolve relative paths against each file's directory.
    #[must_use]
    pub fn with_resolve_paths(mut self, resolve: bool) -> Self {
        self.resolve_paths = resolve;
        self
    }

    /// The files that are read, in priority order.
    pub fn files(&self) -> Vec<PathBuf> {
        match &self.explicit_path {
            Some(p) => vec![p.clone()],
            None => self.precedence.clone(),
        }
    }

    /// Reads and merges the files.
    ///
    /// An explicit file is read alone and must exist. Otherwise the `precedence` files are
    /// read in order (missing ones skipped) and merged: the first file that defines a named
    /// cluster, user, context or extension wins and its entry is taken whole; the first
    /// non-empty `current-context` wins; `preferences.colors` is set if any file sets it.
    /// Relative paths are resolved against each file's directory when `resolve_paths` is
    /// on, and every entry records its file in `origin`. A file that cannot be read or
    /// parsed fails the whole load.
    pub fn load(&self) -> Result<Kubeconfig, KubeconfigError> {
        if let Some(explicit) = &self.explicit_path
            && let Err(e) = std::fs::metadata(explicit)
            && e.kind() == std::io::ErrorKind::NotFound
        {
            return Err(KubeconfigError::ExplicitFileMissing {
                path: explicit.clone(),
            });
        }
        let mut merged = Kubeconfig::default();
        for path in self.files() {
            let mut config = match Kubeconfig::read_file(&path) {
                Ok(c) => c,
                Err(KubeconfigError::Read { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    if self.explicit_path.is_some() {
                        return Err(KubeconfigError::ExplicitFileMissing { path });
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            if self.resolve_paths {
                resolve_local_paths(&mut config, &path);
            }
            merged.merge_lower_priority(&config);
        }
        Ok(merged)
    }
}

/// Resolves the relative file references of every entry of `config` against the directory
/// of `file` (client-go's `ResolveLocalPaths`; made absolute against the working directory
/// when `file` is relative).
pub fn resolve_local_paths(config: &mut Kubeconfig, file: &Path) {
    let dir = file.parent().unwrap_or_else(|| Path::new(""));
    let base = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    for c in &mut config.clusters {
        resolve(&mut c.cluster.certificate_authority, &base);
    }
    for u in &mut config.users {
        let a = &mut u.auth_info;
        resolve(&mut a.client_certificate, &base);
        resolve(&mut a.client_key, &base);
        resolve(&mut a.token_file, &base);
        if let Some(exec) = &mut a.exec {
            // A bare command name is looked up in PATH; only paths are resolved.
            if exec.command.contains(std::path::MAIN_SEPARATOR) {
                resolve(&mut exec.command, &base);
            }
        }
    }
}

fn resolve(reference: &mut String, base: &Path) {
    if reference.is_empty() || Path::new(reference.as_str()).is_absolute() {
        return;
    }
    *reference = clean_join(base, Path::new(reference.as_str()))
        .to_string_lossy()
        .into_owned();
}

/// `base` joined with `rel`, with `.` and `..` removed lexically, as Go's `filepath.Join`.
pub(crate) fn clean_join(base: &Path, rel: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in base.join(rel).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "kubeclient-loader-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {dir:?}: {e}"));
            TempDir(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn env_list(paths: &[&Path]) -> Option<OsString> {
        std::env::join_paths(paths).ok()
    }

    #[test]
    fn env_list_is_split_deduplicated_and_wins_over_home() {
        let list = env_list(&[Path::new("/a"), Path::new("/b"), Path::new("/a")]);
        let rules = LoadingRules::from_env_values(list, Some(PathBuf::from("/home/me")));
        assert_eq!(
            rules.precedence,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        let rules = LoadingRules::from_env_values(Some(OsString::new()), Some("/h".into()));
        assert_eq!(rules.precedence, vec![PathBuf::from("/h/.kube/config")]);
        let rules = LoadingRules::from_env_values(None, None);
        assert!(rules.precedence.is_empty());
    }

    #[test]
    fn merge_rules_first_file_wins_per_entry() -> Result<(), KubeconfigError> {
        let dir = TempDir::new("merge");
        let a = dir.write(
            "a.yaml",
            "clusters:\n- name: shared\n  cluster: {server: https://a}\ncontexts:\n- name: ctx\n  context: {cluster: shared, user: u}\nextensions:\n- name: e\n  extension: first\n",
        );
        let b = dir.write(
            "b.yaml",
            "current-context: ctx\npreferences: {colors: true}\nclusters:\n- name: shared\n  cluster: {server: https://b, proxy-url: http://p}\n- name: only-b\n  cluster: {server: https://ob}\nusers:\n- name: u\n  user: {token: t}\nextensions:\n- name: e\n  extension: second\n",
        );
        let c = dir.write("c.yaml", "current-context: later\n");
        let missing = dir.0.join("missing.yaml");
        let rules = LoadingRules::from_env_values(env_list(&[&a, &missing, &b, &c]), None);
        let merged = rules.load()?;
        // The first non-empty current-context wins, even from the second file.
        assert_eq!(merged.current_context, "ctx");
        assert!(merged.preferences.colors);
        let shared = merged
            .cluster("shared")
            .map(|c| c.cluster.clone())
            .unwrap_or_default();
        assert_eq!(shared.server, "https://a");
        // Entries are never combined: b's proxy-url is not added to a's cluster.
        assert_eq!(shared.proxy_url, "");
        assert_eq!(
            merged.cluster("shared").and_then(|c| c.origin.clone()),
            Some(a.clone())
        );
        assert_eq!(
            merged.cluster("only-b").and_then(|c| c.origin.clone()),
            Some(b.clone())
        );
        assert_eq!(merged.user("u").and_then(|c| c.origin.clone()), Some(b));
        assert_eq!(merged.extensions.len(), 1);
        assert_eq!(merged.extensions[0].extension, "first");
        Ok(())
    }

    #[test]
    fn explicit_path_is_alone_and_must_exist() {
        let dir = TempDir::new("explicit");
        let a = dir.write("a.yaml", "current-context: a\n");
        let b = dir.write("b.yaml", "current-context: b\n");
        let rules = LoadingRules::from_env_values(env_list(&[&b]), None).with_explicit_path(&a);
        assert_eq!(
            rules.load().map(|c| c.current_context).ok(),
            Some("a".into())
        );
        let missing = dir.0.join("nope.yaml");
        let err = LoadingRules::default().with_explicit_path(&missing).load();
        match err {
            Err(e @ KubeconfigError::ExplicitFileMissing { .. }) => {
                assert!(e.to_string().contains("nope.yaml"), "{e}");
            }
            other => panic!("expected ExplicitFileMissing, got {other:?}"),
        }
        // A missing home config is an empty config.
        let rules = LoadingRules::from_env_values(None, Some(dir.0.join("no-home")));
        assert_eq!(rules.load().ok(), Some(Kubeconfig::default()));
    }

    #[test]
    fn a_broken_file_fails_the_load_and_is_named() {
        let dir = TempDir::new("broken");
        let good = dir.write("good.yaml", "current-context: a\n");
        let bad = dir.write("bad.yaml", "clusters: [\n");
        let rules = LoadingRules::from_env_values(env_list(&[&good, &bad]), None);
        let err = rules
            .load()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bad.yaml"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_against_their_own_file() -> Result<(), KubeconfigError> {
        let dir = TempDir::new("paths");
        let f = dir.write(
            "sub/config",
            "clusters:\n- name: c\n  cluster: {server: s, certificate-authority: ../certs/ca.crt}\nusers:\n- name: u\n  user:\n    client-certificate: ./u.crt\n    client-key: /abs/u.key\n    tokenFile: tok\n    exec: {command: bin/plugin}\n- name: v\n  user:\n    exec: {command: plugin-in-path}\n",
        );
        let merged = LoadingRules::default().with_explicit_path(&f).load()?;
        let base = std::path::absolute(&dir.0).unwrap_or_else(|_| dir.0.clone());
        let ca = &merged.clusters[0].cluster.certificate_authority;
        assert_eq!(Path::new(ca), base.join("certs/ca.crt"));
        let u = &merged.users[0].auth_info;
        assert_eq!(Path::new(&u.client_certificate), base.join("sub/u.crt"));
        assert_eq!(u.client_key, "/abs/u.key");
        assert_eq!(Path::new(&u.token_file), base.join("sub/tok"));
        let cmd = u
            .exec
            .as_ref()
            .map(|e| e.command.clone())
            .unwrap_or_default();
        assert_eq!(Path::new(&cmd), base.join("sub/bin/plugin"));
        let cmd = merged.users[1]
            .auth_info
            .exec
            .as_ref()
            .map(|e| e.command.clone());
        assert_eq!(cmd.as_deref(), Some("plugin-in-path"));
        // Not resolved when asked not to.
        let raw = LoadingRules::default()
            .with_explicit_path(&f)
            .with_resolve_paths(false)
            .load()?;
        assert_eq!(
            raw.clusters[0].cluster.certificate_authority,
            "../certs/ca.crt"
        );
        Ok(())
    }

    #[test]
    fn clean_join_is_lexical() {
        assert_eq!(
            clean_join(Path::new("/a/b"), Path::new("../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(
            clean_join(Path::new("/"), Path::new("../../x")),
            PathBuf::from("/x")
        );
    }
}
