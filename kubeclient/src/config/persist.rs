//! The write-back of refreshed OIDC tokens into the kubeconfig file a user came from (the
//! [`PersistTokens`] that [`from_resolved`](super::from_resolved) gives the `oidc`
//! auth provider): the user's `auth-provider` config gets the new `id-token` and
//! `refresh-token`, atomically, changing nothing else in the file, under kubectl's lock
//! (`<file>.lock`, see [`Kubeconfig::update_file`]); a lock held by another process fails the
//! refresh, as client-go's persister does.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::{Kubeconfig, KubeconfigError};
use crate::rest::auth::PersistTokens;
use crate::secret::Secret;

/// Saves refreshed OIDC tokens into the auth-provider config of a user in a kubeconfig file.
#[derive(Debug, Clone)]
pub struct KubeconfigPersister {
    /// The kubeconfig file.
    pub path: PathBuf,
    /// The user's name in it.
    pub user: String,
}

impl KubeconfigPersister {
    /// Saves into the auth-provider of `user` in the kubeconfig file `path`.
    pub fn new(path: impl Into<PathBuf>, user: impl Into<String>) -> Self {
        KubeconfigPersister {
            path: path.into(),
            user: user.into(),
        }
    }
}

impl PersistTokens for KubeconfigPersister {
    fn persist(
        &self,
        id_token: Option<&SecretString>,
        refresh_token: Option<&SecretString>,
    ) -> Result<(), String> {
        persist_tokens(&self.path, &self.user, id_token, refresh_token)
    }

    fn describe(&self) -> String {
        format!("{} (user {:?})", self.path.display(), self.user)
    }
}

/// Sets `id-token` and `refresh-token` (those given) in the auth-provider config of `user`
/// in the kubeconfig file `path`, changing nothing else, under kubectl's lock.
fn persist_tokens(
    path: &std::path::Path,
    user: &str,
    id_token: Option<&SecretString>,
    refresh_token: Option<&SecretString>,
) -> Result<(), String> {
    let fail = |e: String| format!("{}: {e}", path.display());
    Kubeconfig::update_file(path, |file| {
        let entry = file
            .users
            .iter_mut()
            .find(|u| u.name == user)
            .ok_or_else(|| PersistError::Gone(format!("user {user:?} is no longer in the file")))?;
        let provider = entry.auth_info.auth_provider.as_mut().ok_or_else(|| {
            PersistError::Gone(format!("user {user:?} no longer has an auth-provider"))
        })?;
        for (key, value) in [("id-token", id_token), ("refresh-token", refresh_token)] {
            if let Some(v) = value {
                provider
                    .config
                    .insert(key.to_string(), Secret::new(v.expose_secret().to_string()));
            }
        }
        Ok(())
    })
    .map_err(|e| match e {
        PersistError::Gone(reason) => fail(reason),
        PersistError::File(e) => fail(e.to_string()),
    })
}

/// Why tokens could not be written back: the file (read, lock, write) or its content.
enum PersistError {
    File(KubeconfigError),
    Gone(String),
}

impl From<KubeconfigError> for PersistError {
    fn from(e: KubeconfigError) -> Self {
        PersistError::File(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OIDC_KUBECONFIG: &str = "contexts:\n- name: x\n  context: {cluster: c, user: me}\n\
        - name: y\n  context: {cluster: c, user: me}\n\
        users:\n- name: me\n  user:\n    auth-provider:\n      name: oidc\n      config:\n\
        \x20       client-id: kubectl\n        id-token: old\n        refresh-token: r0\n";

    fn saved_tokens(file: &std::path::Path) -> (String, String, String) {
        let saved = Kubeconfig::read_file(file).expect("reread");
        let config = saved.users[0]
            .auth_info
            .auth_provider
            .as_ref()
            .map(|p| p.config.clone())
            .unwrap_or_default();
        let get = |k: &str| {
            config
                .get(k)
                .map(|v| v.expose_secret().to_string())
                .unwrap_or_default()
        };
        (saved.current_context, get("id-token"), get("refresh-token"))
    }

    #[test]
    fn write_back_and_use_context_at_once_both_land() {
        let dir = std::env::temp_dir().join(format!("kubeclient-oidc-race-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("config");
        std::fs::write(&file, OIDC_KUBECONFIG).expect("write kubeconfig");
        let rules = crate::config::LoadingRules::default().with_explicit_path(&file);
        for round in 0..20 {
            let context = if round % 2 == 0 { "x" } else { "y" };
            let (id, refresh) = (
                SecretString::from(format!("id-{round}")),
                SecretString::from(format!("r-{round}")),
            );
            let start = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                let switch = s.spawn(|| {
                    start.wait();
                    crate::config::write_current_context(&rules, context).map(|_| ())
                });
                let persist = s.spawn(|| {
                    start.wait();
                    persist_tokens(&file, "me", Some(&id), Some(&refresh))
                });
                switch.join().expect("switch").expect("use-context");
                persist.join().expect("persist").expect("write-back");
            });
            assert_eq!(
                saved_tokens(&file),
                (context.into(), format!("id-{round}"), format!("r-{round}")),
                "round {round}: a write was lost"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_back_under_a_held_lock_fails_naming_it() {
        let dir = std::env::temp_dir().join(format!("kubeclient-oidc-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("config");
        std::fs::write(&file, OIDC_KUBECONFIG).expect("write kubeconfig");
        let lock = dir.join("config.lock");
        std::fs::write(&lock, "").expect("foreign lock");
        let err = persist_tokens(&file, "me", Some(&SecretString::from("new-SECRET")), None)
            .expect_err("locked")
            .to_string();
        assert!(err.contains(&*lock.to_string_lossy()), "{err}");
        assert!(!err.contains("SECRET"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&file).expect("read"),
            OIDC_KUBECONFIG
        );
        assert!(lock.exists(), "someone else's lock was removed");
        std::fs::remove_file(&lock).expect("unlock");
        persist_tokens(&file, "me", Some(&SecretString::from("new")), None).expect("saved");
        assert_eq!(
            saved_tokens(&file),
            (String::new(), "new".into(), "r0".into())
        );
        let err = persist_tokens(&file, "someone-else", None, None)
            .expect_err("no such user")
            .to_string();
        assert!(
            err.contains("\"someone-else\" is no longer in the file"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
