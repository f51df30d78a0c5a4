//! Writing kubeconfigs back: atomically (a temporary file in the same directory, then a
//! rename), keeping every field of the file — also those this model does not know — and
//! choosing the file as kubectl does (client-go's `ModifyConfig` with kubectl's
//! `PathOptions`).
//!
//! Changes are made under kubectl's lock (`<file>.lock`, see [`Kubeconfig::update_file`]),
//! taken before the files are read and released after they are written, so that two writers
//! — processes or threads, kubectl or kubeclient — never lose each other's change. As in
//! client-go, a lock held by another process makes the change fail at once, naming the lock
//! file. [`write_current_context`] locks every file of the loading chain, as `ModifyConfig`
//! does; [`Kubeconfig::update_file`] the one file it changes. [`Kubeconfig::write_file`] and
//! [`write_atomic`] only write: they take no lock.
//!
//! Which file gets a new `current-context` (client-go's `writeCurrentContext`): the explicit
//! file if there is one; otherwise, of the files in the chain, the only one, else the first
//! that exists, else the last one. Clearing it edits the first file that sets it.
//!
//! All of this is blocking file I/O: async code runs it with `tokio::task::spawn_blocking`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::error::KubeconfigError;
use super::loader::LoadingRules;
use super::lock::KubeconfigLock;
use super::model::Kubeconfig;

impl Kubeconfig {
    /// Writes this kubeconfig to `path` as YAML, atomically; a new file is private (0600),
    /// an existing one keeps its permissions. A symlink is followed: its target is replaced.
    ///
    /// This takes no lock: to change a file that others may change too, use
    /// [`Kubeconfig::update_file`].
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), KubeconfigError> {
        let text = self.to_yaml()?;
        write_atomic(path.as_ref(), text.as_bytes())
    }

    /// Changes the kubeconfig file `path` under kubectl's lock: creates `<path>.lock`
    /// exclusively, reads the file as written (relative paths kept, unknown fields kept, a
    /// missing file read as empty), lets `change` edit it, writes it back atomically if
    /// `change` changed anything, and removes the lock — also when something fails.
    ///
    /// If the lock file already exists (another kubectl or kubeclient process is changing
    /// the file, or one died while doing so), nothing is read or written and the error is
    /// [`KubeconfigError::Locked`], naming the lock file; kubectl does the same. Writers in
    /// this process wait for each other instead. Do not call it again from within `change`:
    /// that would wait forever.
    ///
    /// Blocking: from async code, call it inside `tokio::task::spawn_blocking`.
    ///
    /// ```no_run
    /// use kubeclient::config::{Kubeconfig, KubeconfigError};
    ///
    /// # fn main() -> Result<(), KubeconfigError> {
    /// Kubeconfig::update_file("/home/me/.kube/config", |config| {
    ///     config.current_context = "staging".to_string();
    ///     Ok::<_, KubeconfigError>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn update_file<T, E>(
        path: impl AsRef<Path>,
        change: impl FnOnce(&mut Kubeconfig) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<KubeconfigError>,
    {
        let path = path.as_ref();
        let _lock = KubeconfigLock::acquire([path])?;
        let before = read_for_update(path)?;
        let mut after = before.clone();
        let out = change(&mut after)?;
        if after != before {
            after.write_file(path)?;
        }
        Ok(out)
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
/// This takes no lock (see [`Kubeconfig::update_file`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KubeconfigError> {
    let wrap = |source| KubeconfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(wrap)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".to_string());
    let existing = std::fs::metadata(&target).ok();
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.tmp-{}-{attempt}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(wrap(e)),
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(meta) = &existing {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(wrap(e));
    }
    Ok(())
}

/// Reads one file for modification: as written (no path resolution), every field kept; a
/// missing file is an empty config.
fn read_for_update(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    match Kubeconfig::read_file(path) {
        Err(KubeconfigError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(Kubeconfig::default())
        }
        other => other,
    }
}

/// The file kubectl writes a new `current-context` to: the explicit file if any; else, of
/// the files in the chain, the only one, else the first that exists, else the last.
pub fn current_context_file(rules: &LoadingRules) -> Option<PathBuf> {
    if let Some(p) = &rules.explicit_path {
        return Some(p.clone());
    }
    if rules.precedence.len() > 1
        && let Some(existing) = rules.precedence.iter().find(|p| p.exists())
    {
        return Some(existing.clone());
    }
    rules.precedence.last().cloned()
}

/// Sets `current-context` as `kubectl config use-context` does, writing only the file
/// kubectl would write and leaving the rest of that file as it was. Returns the file
/// written, or `None` when the merged configuration already had that context.
///
/// As client-go's `ModifyConfig`, every file of the chain (`rules.files()`) is locked
/// (`<file>.lock`) before anything is read and until the file is written; if one is locked
/// already, the error is [`KubeconfigError::Locked`] and nothing is written. Blocking file
/// I/O.
pub fn write_current_context(
    rules: &LoadingRules,
    name: &str,
) -> Result<Option<PathBuf>, KubeconfigError> {
    let _lock = KubeconfigLock::acquire(rules.files())?;
    let raw_rules = rules.clone().with_resolve_paths(false);
    let starting = match raw_rules.load() {
        Err(KubeconfigError::ExplicitFileMissing { .. }) => Kubeconfig::default(),
        other => other?,
    };
    if starting.current_context == name {
        return Ok(None);
    }
    let target = if name.is_empty() && rules.explicit_path.is_none() {
        // Clearing: the first file in the chain that sets it.
        let mut found = None;
        for file in rules.files() {
            if file.exists() && !read_for_update(&file)?.current_context.is_empty() {
                found = Some(file);
                break;
            }
        }
        found.ok_or(KubeconfigError::NoFileToWrite)?
    } else {
        current_context_file(rules).ok_or(KubeconfigError::NoFileToWrite)?
    };
    let mut config = read_for_update(&target)?;
    config.current_context = name.to_string();
    config.write_file(&target)?;
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kubeclient-write-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    fn env(paths: &[&Path]) -> Option<std::ffi::OsString> {
        std::env::join_paths(paths).ok()
    }

    #[test]
    fn use_context_writes_the_first_existing_file_and_keeps_unknown_fields()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = temp_dir("use");
        let missing = dir.join("missing");
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(
            &a,
            "# comment\nfuture-top: 1\ncontexts:\n- name: x\n  context: {cluster: c, user: u, brand-new: yes}\n",
        )?;
        std::fs::write(
            &b,
            "current-context: y\ncontexts:\n- name: y\n  context: {}\n",
        )?;
        let rules = LoadingRules::from_env_values(env(&[&missing, &a, &b]), None);
        let written = write_current_context(&rules, "x")?;
        assert_eq!(written.as_deref(), Some(a.as_path()));
        let reread = Kubeconfig::read_file(&a)?;
        assert_eq!(reread.current_context, "x");
        assert_eq!(
            reread.unknown_fields.0.get("future-top"),
            Some(&serde_json::json!(1))
        );
        assert!(
            reread.contexts[0]
                .context
                .unknown_fields
                .0
                .contains_key("brand-new")
        );
        // b still says y, but a now wins the merge.
        assert_eq!(rules.load()?.current_context, "x");
        // Nothing to do the second time.
        assert_eq!(write_current_context(&rules, "x")?, None);
        // No temporary files left behind.
        let leftovers: Vec<_> = std::fs::read_dir(&dir)?
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.contains(".tmp-") || name.ends_with(".lock")
            })
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    const TWO_CONTEXTS: &str = "contexts:\n- name: x\n  context: {cluster: c, user: u}\n\
        - name: y\n  context: {cluster: c, user: u}\n\
        users:\n- name: u\n  user: {token: t0}\n";

    fn token_of(config: &Kubeconfig) -> String {
        config
            .user("u")
            .map(|u| u.auth_info.token.expose_secret().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn concurrent_writers_of_different_fields_both_land() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = temp_dir("concurrent");
        let file = dir.join("config");
        std::fs::write(&file, TWO_CONTEXTS)?;
        let rules = LoadingRules::default().with_explicit_path(&file);
        for round in 0..40 {
            let context = if round % 2 == 0 { "x" } else { "y" };
            let token = format!("t{}", round + 1);
            let start = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                let switch = s.spawn(|| {
                    start.wait();
                    write_current_context(&rules, context)
                });
                let refresh = s.spawn(|| {
                    start.wait();
                    Kubeconfig::update_file(&file, |c| {
                        let user = c.users.iter_mut().find(|u| u.name == "u");
                        if let Some(u) = user {
                            u.auth_info.token = token.as_str().into();
                        }
                        Ok::<_, KubeconfigError>(())
                    })
                });
                let switched = switch.join().expect("use-context thread");
                let refreshed = refresh.join().expect("token thread");
                assert!(
                    switched.is_ok() && refreshed.is_ok(),
                    "{switched:?} {refreshed:?}"
                );
            });
            let now = Kubeconfig::read_file(&file)?;
            assert_eq!(
                (now.current_context.as_str(), token_of(&now)),
                (context, token.clone()),
                "round {round}: a write was lost"
            );
        }
        assert!(!dir.join("config.lock").exists());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn a_held_lock_fails_the_change_and_names_the_lock_file()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = temp_dir("held");
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, TWO_CONTEXTS)?;
        std::fs::write(&b, "current-context: y\n")?;
        let lock = dir.join("a.lock");
        std::fs::write(&lock, "")?;

        let err = write_current_context(&LoadingRules::default().with_explicit_path(&a), "x")
            .expect_err("locked");
        assert!(matches!(err, KubeconfigError::Locked { .. }), "{err:?}");
        assert!(err.to_string().contains(&*lock.to_string_lossy()), "{err}");
        let mut called = false;
        let err = Kubeconfig::update_file(&a, |_| {
            called = true;
            Ok::<_, KubeconfigError>(())
        })
        .expect_err("locked");
        assert!(err.to_string().contains(&*lock.to_string_lossy()), "{err}");
        assert!(!called, "the file was read under someone else's lock");

        // The whole chain is locked, as kubectl does: a's lock blocks a change that writes b.
        let chain = LoadingRules::from_env_values(env(&[&b, &a]), None);
        let err = write_current_context(&chain, "x").expect_err("a is locked");
        assert!(err.to_string().contains("a.lock"), "{err}");

        // Unchanged, and the other writer's lock is still there.
        assert_eq!(std::fs::read_to_string(&a)?, TWO_CONTEXTS);
        assert_eq!(std::fs::read_to_string(&b)?, "current-context: y\n");
        assert!(lock.exists());
        assert!(!dir.join("b.lock").exists());

        std::fs::remove_file(&lock)?;
        assert_eq!(write_current_context(&chain, "x")?, Some(b.clone()));
        assert!(!lock.exists() && !dir.join("b.lock").exists());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn update_file_writes_only_changes() -> Result<(), Box<dyn std::error::Error>> {
        let dir = temp_dir("update");
        let file = dir.join("config");
        let text = "# kept as written when nothing changes\ncurrent-context: x\n";
        std::fs::write(&file, text)?;
        let current = Kubeconfig::update_file(&file, |c| {
            Ok::<_, KubeconfigError>(c.current_context.clone())
        })?;
        assert_eq!(current, "x");
        assert_eq!(std::fs::read_to_string(&file)?, text);
        // A missing file reads as empty and is created.
        let new = dir.join("new/config");
        Kubeconfig::update_file(&new, |c| {
            c.current_context = "n".into();
            Ok::<_, KubeconfigError>(())
        })?;
        assert_eq!(Kubeconfig::read_file(&new)?.current_context, "n");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn target_file_choice() {
        let rules = LoadingRules::from_env_values(
            env(&[Path::new("/nonexistent/1"), Path::new("/nonexistent/2")]),
            None,
        );
        assert_eq!(
            current_context_file(&rules),
            Some(PathBuf::from("/nonexistent/2"))
        );
        let rules = rules.with_explicit_path("/e");
        assert_eq!(current_context_file(&rules), Some(PathBuf::from("/e")));
        let rules = LoadingRules::from_env_values(None, Some("/h".into()));
        assert_eq!(
            current_context_file(&rules),
            Some(PathBuf::from("/h/.kube/config"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_private() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("perm");
        let f = dir.join("sub/config");
        Kubeconfig::default().write_file(&f)?;
        let mode = std::fs::metadata(&f)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
