//! kubectl's lock on kubeconfig files, as client-go's `lockFile`/`unlockFile`
//! (`tools/clientcmd/loader.go`), which `ModifyConfig` takes around every change:
//!
//! - the lock of a file is a file beside it with `.lock` appended to the name as given
//!   (`~/.kube/config.lock`; a symlink's lock is beside the link, not its target);
//! - it is taken by creating that file exclusively (`O_CREAT | O_EXCL`), after creating the
//!   directory if it is missing, and released by removing it;
//! - when the lock file already exists the change fails at once — client-go does not wait or
//!   retry — naming the lock file: another kubectl or kubeclient is changing the file, or one
//!   died while doing so and its lock has to be removed by hand;
//! - every file a change may read or write is locked, in sorted order (so that two writers
//!   never hold one file each and wait for the other), before the files are read, and the
//!   locks are held until the files are written, so no writer can lose another's change.
//!
//! One addition: writers in the same process first queue on a process-wide mutex, so two
//! threads (two clients refreshing OIDC tokens, say) wait for each other instead of one
//! failing on the other's lock file. The lock files still keep other processes out.
//!
//! Everything here is blocking file I/O: async code calls it from
//! `tokio::task::spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::error::KubeconfigError;

/// What is appended to a kubeconfig's file name to name its lock (client-go's `lockName`).
const LOCK_SUFFIX: &str = ".lock";

/// Serialises the kubeconfig writers of this process.
static WRITERS: Mutex<()> = Mutex::new(());

/// The lock file of `file`: `file` with `.lock` appended.
pub(crate) fn lock_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_os_string();
    name.push(LOCK_SUFFIX);
    PathBuf::from(name)
}

/// Held locks on kubeconfig files; dropping it removes the lock files it created.
pub(crate) struct KubeconfigLock {
    /// The lock files created, to be removed.
    held: Vec<PathBuf>,
    /// Declared last, so it is released after the lock files are removed.
    _in_process: MutexGuard<'static, ()>,
}

impl KubeconfigLock {
    /// Locks every file of `files` (sorted, repeats once), or none: if one is locked by
    /// another writer, the locks already taken are released and [`KubeconfigError::Locked`]
    /// names the lock file.
    pub(crate) fn acquire<P: AsRef<Path>>(
        files: impl IntoIterator<Item = P>,
    ) -> Result<Self, KubeconfigError> {
        let mut files: Vec<PathBuf> = files
            .into_iter()
            .map(|f| f.as_ref().to_path_buf())
            .filter(|f| !f.as_os_str().is_empty())
            .collect();
        files.sort();
        files.dedup();
        // A writer that panicked left no half-done state behind this mutex (it guards
        // nothing but the turn), so a poisoned one is used as it is.
        let guard = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lock = KubeconfigLock {
            held: Vec::with_capacity(files.len()),
            _in_process: guard,
        };
        for file in files {
            let lock_file = lock_path(&file);
            create_exclusively(&file, &lock_file)?;
            lock.held.push(lock_file);
        }
        Ok(lock)
    }
}

fn create_exclusively(file: &Path, lock_file: &Path) -> Result<(), KubeconfigError> {
    let fail = |source: std::io::Error| KubeconfigError::Lock {
        path: file.to_path_buf(),
        lock: lock_file.to_path_buf(),
        source,
    };
    if let Some(dir) = lock_file.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(lock_file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(KubeconfigError::Locked {
            path: file.to_path_buf(),
            lock: lock_file.to_path_buf(),
        }),
        Err(e) => Err(fail(e)),
    }
}

impl Drop for KubeconfigLock {
    fn drop(&mut self) {
        for lock_file in &self.held {
            if let Err(e) = std::fs::remove_file(lock_file)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(lock = %lock_file.display(), error = %e, "could not remove a kubeconfig lock file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("kubeclient-lock-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn the_lock_file_is_beside_the_file_and_removed_on_drop() {
        let dir = temp_dir("basic");
        let (a, b) = (dir.join("a"), dir.join("sub/b"));
        assert_eq!(lock_path(&a), dir.join("a.lock"));
        {
            let _lock = KubeconfigLock::acquire([&b, &a, &b]).expect("locked");
            assert!(dir.join("a.lock").exists());
            // The directory of a file that does not exist yet is created for its lock.
            assert!(dir.join("sub/b.lock").exists());
        }
        assert!(!dir.join("a.lock").exists());
        assert!(!dir.join("sub/b.lock").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_existing_lock_fails_at_once_and_releases_what_was_taken() {
        let dir = temp_dir("held");
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(lock_path(&b), "").expect("foreign lock");
        let err = KubeconfigLock::acquire([&a, &b])
            .err()
            .expect("b is locked by someone else");
        assert!(
            matches!(&err, KubeconfigError::Locked { lock, .. } if *lock == dir.join("b.lock")),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&*dir.join("b.lock").to_string_lossy())
        );
        // a's lock, taken first, was released; the foreign lock is left alone.
        assert!(!lock_path(&a).exists());
        assert!(lock_path(&b).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
