//! Exec credential plugins (client.authentication.k8s.io `v1` and `v1beta1`), as client-go's
//! `plugin/pkg/client/auth/exec`:
//!
//! - the command runs with the kubeconfig's `args` and `env` added to this process's
//!   environment, and `KUBERNETES_EXEC_INFO` holding an `ExecCredential` whose `spec` says
//!   whether the plugin may interact and, with `provideClusterInfo`, describes the cluster;
//! - `interactiveMode` (required in v1; `IfAvailable` by default in v1beta1): `Never` gives the
//!   plugin no stdin, `IfAvailable` gives it ours when ours is a terminal, `Always` requires a
//!   terminal. The plugin's stderr goes to ours, as in client-go;
//! - the plugin prints an `ExecCredential` of the same apiVersion with a `token`, a client
//!   certificate and key (`clientCertificateData`/`clientKeyData`, PEM), or both, and an
//!   optional `expirationTimestamp`;
//! - the credential is cached until that timestamp; after a 401 answered to the current
//!   credential, the next use runs the plugin again;
//! - a missing command gives an error with the `installHint`; a non-zero exit, or output that is
//!   not a valid `ExecCredential`, gives an error that never quotes the output (it may hold
//!   secrets).

use std::io::IsTerminal;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::AuthError;

const API_V1: &str = "client.authentication.k8s.io/v1";
const API_V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
/// The removed version, refused in configuration but named if a plugin prints it.
const API_V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";

/// An exec credential plugin: what to run and how (a kubeconfig user's `exec` block, turned
/// into this by [`config`](crate::config)), with the cluster description it gets when the
/// kubeconfig sets `provideClusterInfo`.
///
/// `Debug` shows the command and apiVersion only: environment values are secret, and the
/// cluster description may hold a proxy URL with credentials.
#[derive(Clone, Default)]
pub struct ExecPlugin {
    /// The command: a name looked up in `PATH`, or a path.
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables added to this process's for the command; the values are secret.
    pub env: Vec<(String, SecretString)>,
    /// The `ExecCredential` apiVersion exchanged (`client.authentication.k8s.io/v1` or
    /// `v1beta1`).
    pub api_version: String,
    /// Shown when the command is missing.
    pub install_hint: String,
    /// `Never`, `IfAvailable` or `Always` (empty means `IfAvailable` in v1beta1).
    pub interactive_mode: String,
    /// `spec.cluster` of `KUBERNETES_EXEC_INFO` (server, CA, `config` from the cluster's
    /// `client.authentication.k8s.io/exec` extension, ...), when the plugin is to get it.
    pub cluster: Option<serde_json::Value>,
}

impl std::fmt::Debug for ExecPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecPlugin")
            .field("command", &self.command)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interactive {
    Never,
    IfAvailable,
    Always,
}

/// A client certificate and key printed by an exec plugin.
#[derive(Clone)]
pub struct ClientCertificate {
    /// The certificate chain (PEM).
    pub cert_pem: Vec<u8>,
    /// The private key (PEM).
    pub key_pem: Arc<SecretBox<Vec<u8>>>,
}

/// A credential printed by an exec plugin.
pub struct ExecCredential {
    /// A bearer token.
    pub token: Option<SecretString>,
    /// A client certificate and key.
    pub client_certificate: Option<ClientCertificate>,
    /// When the credential stops being valid; `None` means it does not expire.
    pub expires: Option<jiff::Timestamp>,
}

impl std::fmt::Debug for ExecCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecCredential")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field(
                "client_certificate",
                &self.client_certificate.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires", &self.expires)
            .finish()
    }
}

/// Runs an exec plugin when a credential is needed and caches what it prints.
pub struct ExecAuthenticator {
    config: ExecPlugin,
    interactive: Interactive,
    cached: tokio::sync::Mutex<Option<Arc<ExecCredential>>>,
}

impl std::fmt::Debug for ExecAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecAuthenticator")
            .field("command", &self.config.command)
            .field("api_version", &self.config.api_version)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    api_version: Option<String>,
    kind: Option<String>,
    status: Option<Status>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    expiration_timestamp: Option<String>,
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Runs `cmd`, retrying briefly while the executable is "busy" (ETXTBSY): the file was just
/// written and some process forked meanwhile still holds it open for writing. It happens
/// when a plugin is installed or replaced while a multi-threaded program runs others.
async fn run_retrying_busy(
    cmd: &mut tokio::process::Command,
) -> std::io::Result<std::process::Output> {
    const ETXTBSY: i32 = 26;
    let mut attempt = 0;
    loop {
        match cmd.output().await {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            other => return other,
        }
    }
}

fn invalid(command: &str, reason: impl Into<String>) -> AuthError {
    AuthError::Exec {
        command: command.to_string(),
        reason: reason.into(),
    }
}

impl ExecAuthenticator {
    /// Validates the plugin's settings (apiVersion, interactiveMode).
    pub fn new(config: ExecPlugin) -> Result<Self, AuthError> {
        let command = config.command.clone();
        if command.is_empty() {
            return Err(invalid(&command, "no command is set"));
        }
        let interactive = match (
            config.api_version.as_str(),
            config.interactive_mode.as_str(),
        ) {
            (API_V1 | API_V1BETA1, "Never") => Interactive::Never,
            (API_V1 | API_V1BETA1, "Always") => Interactive::Always,
            (API_V1 | API_V1BETA1, "IfAvailable") | (API_V1BETA1, "") => Interactive::IfAvailable,
            (API_V1, "") => {
                return Err(invalid(
                    &command,
                    format!("interactiveMode must be set for {API_V1}"),
                ));
            }
            (API_V1 | API_V1BETA1, other) => {
                return Err(invalid(
                    &command,
                    format!("invalid interactiveMode {other:?}: use Never, IfAvailable or Always"),
                ));
            }
            (other, _) => {
                return Err(invalid(
                    &command,
                    format!("unsupported apiVersion {other:?}: use {API_V1} or {API_V1BETA1}"),
                ));
            }
        };
        Ok(ExecAuthenticator {
            config,
            interactive,
            cached: tokio::sync::Mutex::new(None),
        })
    }

    /// The current credential: the cached one until it expires, else a fresh one from the
    /// plugin. Concurrent callers share one run of the plugin.
    pub async fn credential(&self) -> Result<Arc<ExecCredential>, AuthError> {
        let mut cached = self.cached.lock().await;
        if let Some(cred) = cached.as_ref()
            && cred.expires.is_none_or(|exp| jiff::Timestamp::now() < exp)
        {
            return Ok(cred.clone());
        }
        let fresh = Arc::new(self.run().await?);
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// Called after the server answered 401 to a request made with `used`: if that is still
    /// the cached credential, it is dropped so the next [`ExecAuthenticator::credential`] runs
    /// the plugin again.
    pub async fn unauthorized(&self, used: &Arc<ExecCredential>) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| Arc::ptr_eq(c, used)) {
            *cached = None;
        }
    }

    async fn run(&self) -> Result<ExecCredential, AuthError> {
        let command = &self.config.command;
        let terminal = std::io::stdin().is_terminal();
        let interactive = match self.interactive {
            Interactive::Never => false,
            Interactive::IfAvailable => terminal,
            Interactive::Always if terminal => true,
            Interactive::Always => {
                return Err(invalid(
                    command,
                    "interactiveMode is Always but standard input is not a terminal",
                ));
            }
        };
        let mut spec = json!({"interactive": interactive});
        if let Some(cluster) = &self.config.cluster {
            spec["cluster"] = cluster.clone();
        }
        let info =
            json!({"apiVersion": self.config.api_version, "kind": "ExecCredential", "spec": spec});
        let mut cmd = tokio::process::Command::new(command);
        cmd.args(&self.config.args)
            .envs(
                self.config
                    .env
                    .iter()
                    .map(|(name, value)| (name, value.expose_secret())),
            )
            .env("KUBERNETES_EXEC_INFO", info.to_string())
            .stdin(if interactive {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            })
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        let output = run_retrying_busy(&mut cmd).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                let mut reason = format!(
                    "executable {command} not found\n\nIt looks like you are trying to use a \
                     credential plugin that is not installed."
                );
                if !self.config.install_hint.is_empty() {
                    reason.push_str("\n\n");
                    reason.push_str(&self.config.install_hint);
                }
                invalid(command, reason)
            } else {
                invalid(command, format!("cannot run it: {e}"))
            }
        })?;
        if !output.status.success() {
            return Err(invalid(command, format!("it failed ({})", output.status)));
        }
        // The output holds secrets: errors say where it is wrong, never what it says.
        let parsed: Output = serde_json::from_slice(&output.stdout).map_err(|e| {
            invalid(
                command,
                format!(
                    "its output is not an ExecCredential ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ),
            )
        })?;
        self.credential_from(parsed)
    }

    fn credential_from(&self, out: Output) -> Result<ExecCredential, AuthError> {
        let command = &self.config.command;
        let version = out.api_version.unwrap_or_default();
        if version != self.config.api_version {
            // Quoted only when it is an ExecCredential version: the output may hold secrets.
            let printed = match version.as_str() {
                API_V1 | API_V1BETA1 | API_V1ALPHA1 => format!("{version:?}"),
                "" => "no apiVersion".to_string(),
                _ => "an unknown apiVersion".to_string(),
            };
            return Err(invalid(
                command,
                format!(
                    "it is configured for apiVersion {} but printed {printed}",
                    self.config.api_version
                ),
            ));
        }
        if out.kind.as_deref() != Some("ExecCredential") {
            return Err(invalid(command, "its output is not of kind ExecCredential"));
        }
        let status = out
            .status
            .ok_or_else(|| invalid(command, "its output has no status"))?;
        let token = status
            .token
            .filter(|t| !t.is_empty())
            .map(SecretString::from);
        let cert = status.client_certificate_data.filter(|c| !c.is_empty());
        let key = status.client_key_data.filter(|k| !k.is_empty());
        let client_certificate = match (cert, key) {
            (Some(cert), Some(key)) => Some(ClientCertificate {
                cert_pem: cert.into_bytes(),
                key_pem: Arc::new(SecretBox::new(Box::new(key.into_bytes()))),
            }),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    command,
                    "it printed only one of clientCertificateData and clientKeyData",
                ));
            }
        };
        if token.is_none() && client_certificate.is_none() {
            return Err(invalid(
                command,
                "it printed neither a token nor a client certificate and key",
            ));
        }
        let expires = status
            .expiration_timestamp
            .filter(|t| !t.is_empty())
            .map(|t| {
                // Neither the value nor the parser's message (which quotes it) is shown.
                t.parse::<jiff::Timestamp>()
                    .map_err(|_| invalid(command, "its expirationTimestamp is not RFC 3339"))
            })
            .transpose()?;
        Ok(ExecCredential {
            token,
            client_certificate,
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use std::path::{Path, PathBuf};

    use super::*;

    /// A plugin script in a fresh temp dir; it appends a line to `runs` each time it runs.
    fn plugin(name: &str, body: &str) -> (PathBuf, PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("kubeclient-exec-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let runs = dir.join("runs");
        let _ = std::fs::remove_file(&runs);
        let script = dir.join("plugin.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho run >> '{}'\n{body}\n", runs.display()),
        )
        .expect("write plugin");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        (script, runs)
    }

    fn runs(path: &Path) -> usize {
        std::fs::read_to_string(path)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    fn config(command: &Path, api: &str) -> ExecPlugin {
        ExecPlugin {
            command: command.display().to_string(),
            api_version: api.to_string(),
            interactive_mode: "Never".to_string(),
            ..ExecPlugin::default()
        }
    }

    fn credential_json(api: &str, status: &str) -> String {
        format!(
            "cat <<'EOF'\n{{\"apiVersion\":\"{api}\",\"kind\":\"ExecCredential\",\"status\":{status}}}\nEOF"
        )
    }

    #[tokio::test]
    async fn token_is_cached_until_it_expires_and_dropped_after_a_401() {
        let (script, count) = plugin(
            "cache",
            &credential_json(
                API_V1,
                r#"{"token":"tok-1","expirationTimestamp":"2999-01-01T00:00:00Z"}"#,
            ),
        );
        let auth = ExecAuthenticator::new(config(&script, API_V1)).expect("valid");
        let first = auth.credential().await.expect("credential");
        assert_eq!(
            first
                .token
                .as_ref()
                .map(|t| t.expose_secret().to_string())
                .as_deref(),
            Some("tok-1")
        );
        auth.credential().await.expect("cached");
        assert_eq!(runs(&count), 1, "a valid credential is reused");
        auth.unauthorized(&first).await;
        auth.credential().await.expect("refreshed");
        assert_eq!(runs(&count), 2, "a 401 makes the next use run the plugin");

        let (script, count) = plugin(
            "expired",
            &credential_json(
                API_V1BETA1,
                r#"{"token":"t","expirationTimestamp":"2000-01-01T00:00:00+02:00"}"#,
            ),
        );
        let mut beta = config(&script, API_V1BETA1);
        beta.interactive_mode.clear(); // v1beta1 defaults to IfAvailable
        let auth = ExecAuthenticator::new(beta).expect("valid");
        auth.credential().await.expect("credential");
        auth.credential().await.expect("credential");
        assert_eq!(runs(&count), 2, "an expired credential is fetched again");
    }

    #[tokio::test]
    async fn exec_info_args_and_env_reach_the_plugin() {
        let (script, _) = plugin(
            "info",
            &format!(
                "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$(dirname \"$0\")/info\"\n\
                 [ \"$1\" = --flag ] && [ \"$EXTRA\" = value ] || exit 3\n{}",
                credential_json(API_V1, r#"{"token":"x"}"#)
            ),
        );
        let mut cfg = config(&script, API_V1);
        cfg.args = vec!["--flag".into()];
        cfg.env = vec![("EXTRA".into(), SecretString::from("value"))];
        cfg.cluster = Some(json!({
            "server": "https://10.0.0.1:6443",
            "certificate-authority-data": "Q0E=",
            "config": {"audience": "k8s"},
        }));
        let auth = ExecAuthenticator::new(cfg).expect("valid");
        auth.credential().await.expect("credential");
        let info: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(script.with_file_name("info")).expect("info written"),
        )
        .expect("info is JSON");
        assert_eq!(info["apiVersion"], API_V1);
        assert_eq!(info["kind"], "ExecCredential");
        assert_eq!(info["spec"]["interactive"], false);
        assert_eq!(info["spec"]["cluster"]["server"], "https://10.0.0.1:6443");
        assert_eq!(
            info["spec"]["cluster"]["certificate-authority-data"],
            "Q0E="
        );
        assert_eq!(info["spec"]["cluster"]["config"]["audience"], "k8s");
    }

    #[tokio::test]
    async fn client_certificates_are_returned() {
        let (script, _) = plugin(
            "cert",
            &credential_json(
                API_V1,
                r#"{"clientCertificateData":"CERT","clientKeyData":"KEY"}"#,
            ),
        );
        let auth = ExecAuthenticator::new(config(&script, API_V1)).expect("valid");
        let cred = auth.credential().await.expect("credential");
        let cert = cred.client_certificate.as_ref().expect("cert");
        assert_eq!(cert.cert_pem, b"CERT");
        assert_eq!(cert.key_pem.expose_secret(), b"KEY");
        assert!(cred.token.is_none());
    }

    #[tokio::test]
    async fn failures_are_clear_and_never_quote_the_output() {
        let cases = [
            (
                "garbage",
                "echo 'not json token=SECRET-abc'".to_string(),
                "not an ExecCredential",
            ),
            (
                "exit",
                "echo '{\"token\":\"SECRET-abc\"}'; exit 7".to_string(),
                "exit status: 7",
            ),
            (
                "version",
                credential_json(API_V1BETA1, r#"{"token":"SECRET-abc"}"#),
                "printed \"client.authentication.k8s.io/v1beta1\"",
            ),
            (
                "half",
                credential_json(API_V1, r#"{"clientCertificateData":"SECRET-abc"}"#),
                "only one of",
            ),
            ("empty", credential_json(API_V1, "{}"), "neither a token"),
            (
                "badtime",
                credential_json(
                    API_V1,
                    r#"{"token":"SECRET-abc","expirationTimestamp":"SECRET-soon"}"#,
                ),
                "not RFC 3339",
            ),
            (
                "badversion",
                "echo '{\"apiVersion\":\"SECRET-abc\",\"kind\":\"ExecCredential\"}'".to_string(),
                "but printed an unknown apiVersion",
            ),
            (
                "badtype",
                credential_json(API_V1, r#"{"token":12345}"#),
                "not an ExecCredential",
            ),
        ];
        for (name, body, expected) in cases {
            let (script, _) = plugin(name, &body);
            let auth = ExecAuthenticator::new(config(&script, API_V1)).expect("valid");
            let err = auth.credential().await.expect_err(name).to_string();
            assert!(err.contains(expected), "{name}: {err}");
            assert!(
                !err.contains("SECRET") && !err.contains("12345"),
                "{name} leaks output: {err}"
            );
        }
    }

    #[tokio::test]
    async fn missing_command_shows_the_install_hint() {
        let mut cfg = config(&PathBuf::from("kubeclient-no-such-plugin"), API_V1);
        cfg.install_hint = "install it with: brew install no-such-plugin".into();
        let auth = ExecAuthenticator::new(cfg).expect("valid");
        let err = auth.credential().await.expect_err("missing").to_string();
        assert!(err.contains("kubeclient-no-such-plugin not found"), "{err}");
        assert!(err.contains("brew install no-such-plugin"), "{err}");
    }

    #[test]
    fn configuration_is_validated_like_client_go() {
        let cmd = PathBuf::from("p");
        let mut v1 = config(&cmd, API_V1);
        v1.interactive_mode.clear();
        let err = ExecAuthenticator::new(v1).expect_err("v1 needs a mode");
        assert!(
            err.to_string().contains("interactiveMode must be set"),
            "{err}"
        );
        let old = config(&cmd, "client.authentication.k8s.io/v1alpha1");
        let err = ExecAuthenticator::new(old).expect_err("v1alpha1");
        assert!(err.to_string().contains("unsupported apiVersion"), "{err}");
        let mut bad = config(&cmd, API_V1);
        bad.interactive_mode = "Sometimes".into();
        assert!(ExecAuthenticator::new(bad).is_err());
    }

    #[tokio::test]
    async fn debug_hides_what_the_plugin_printed_and_its_settings() {
        let (script, _) = plugin(
            "debug",
            &credential_json(
                API_V1,
                r#"{"token":"exec-SECRET","clientCertificateData":"cert","clientKeyData":"key-SECRET"}"#,
            ),
        );
        let mut cfg = config(&script, API_V1);
        cfg.env = vec![("PLUGIN_PASSWORD".into(), SecretString::from("env-SECRET"))];
        cfg.cluster = Some(json!({
            "server": "https://10.0.0.1:6443",
            "proxy-url": "http://u:proxy-SECRET@proxy.test:3128",
        }));
        let auth = Arc::new(ExecAuthenticator::new(cfg).expect("valid"));
        let cred = auth.credential().await.expect("credential");
        let mut rest = crate::rest::Config::new(url::Url::parse("https://k").expect("url"));
        rest.auth = crate::rest::Auth::Exec(auth.clone());
        let shown = format!("{auth:?} {auth:#?} {cred:?} {rest:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("plugin.sh"), "{shown}");
    }

    #[test]
    fn debug_hides_credentials() {
        let cred = ExecCredential {
            token: Some(SecretString::from("tok-SECRET")),
            client_certificate: Some(ClientCertificate {
                cert_pem: b"c".to_vec(),
                key_pem: Arc::new(SecretBox::new(Box::new(b"key-SECRET".to_vec()))),
            }),
            expires: None,
        };
        let shown = format!("{cred:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
