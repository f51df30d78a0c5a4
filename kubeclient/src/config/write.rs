//! Writing kubeconfigs back: atomically (a temporary file in the same directory, then a
//! rename), keeping every field of the file — also those this model does not know — and
//! choosing the file as kubectl does (client-go's `ModifyConfig` with kubectl's
//! `PathOptions`).
//!
//! Which file gets a new `current-context` (client-go's `writeCurrentContext`): the explicit
//! file if there is one; otherwise, of the files in the chain, the only one, else the first
//! that exists, else the last one. Clearing it edits the first file that sets it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::error::KubeconfigError;
use super::loader::LoadingRules;
use super::model::Kubeconfig;

impl Kubeconfig {
    /// Writes this kubeconfig to `path` as YAML, atomically; a new file is private (0600),
    /// an existing one keeps its permissions. A symlink is followed: its target is replaced.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), KubeconfigError> {
        let text = self.to_yaml()?;
        write_atomic(path.as_ref(), text.as_bytes())
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
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
pub fn write_current_context(
    rules: &LoadingRules,
    name: &str,
) -> Result<Option<PathBuf>, KubeconfigError> {
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
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
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
