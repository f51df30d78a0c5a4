//! What `kubectl config view` does to a kubeconfig before printing it: minify (keep only the
//! current context and what it names), flatten (inline referenced files as `*-data`), redact
//! (hide secrets as kubectl does), and the YAML / JSON text forms.
//!
//! kubectl's redaction (`RedactSecrets` + `ShortenConfig`): `token` and `password` become
//! `REDACTED`; `certificate-authority-data`, `client-certificate-data` and `client-key-data`
//! become `DATA+OMITTED`. Nothing else is hidden by kubectl (auth-provider settings and exec
//! environment values are printed as they are), and kubeclient matches it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::KubeconfigError;
use super::loader::clean_join;
use super::model::Kubeconfig;
use super::serde_util::decode_base64;
use crate::secret::Secret;

/// What kubectl prints instead of a token or password.
pub const REDACTED: &str = "REDACTED";
/// What kubectl prints instead of certificate and key data.
pub const DATA_OMITTED: &str = "DATA+OMITTED";

impl Kubeconfig {
    /// Keeps only the current context and the cluster and user it names (client-go's
    /// `MinifyConfig`). Fails when `current-context` is unset or names something missing.
    pub fn minify(&mut self) -> Result<(), KubeconfigError> {
        if self.current_context.is_empty() {
            return Err(KubeconfigError::MinifyWithoutCurrentContext);
        }
        let Some(context) = self.context(&self.current_context).cloned() else {
            let mut available = self.context_names();
            available.sort();
            return Err(KubeconfigError::ContextNotFound {
                name: self.current_context.clone(),
                available,
            });
        };
        let cluster_name = &context.context.cluster;
        if !cluster_name.is_empty() && self.cluster(cluster_name).is_none() {
            return Err(KubeconfigError::ClusterNotFound {
                name: cluster_name.clone(),
                context: Some(context.name.clone()),
                origin: context.origin.clone(),
            });
        }
        let user_name = &context.context.user;
        if !user_name.is_empty() && self.user(user_name).is_none() {
            return Err(KubeconfigError::UserNotFound {
                name: user_name.clone(),
                context: Some(context.name.clone()),
                origin: context.origin.clone(),
            });
        }
        self.clusters.retain(|c| &c.name == cluster_name);
        self.users.retain(|u| &u.name == user_name);
        self.contexts.retain(|c| c.name == context.name);
        Ok(())
    }

    /// Replaces `certificate-authority`, `client-certificate` and `client-key` file references
    /// by the files' contents in the `*-data` fields (client-go's `FlattenConfig`). Relative
    /// paths are taken against the directory of the file the entry came from, else the
    /// working directory.
    pub fn flatten(&mut self) -> Result<(), KubeconfigError> {
        for c in &mut self.clusters {
            let entry = format!("cluster {:?}", c.name);
            if let Some(data) = read_reference(
                &mut c.cluster.certificate_authority,
                "certificate-authority",
                &entry,
                c.origin.as_deref(),
            )? {
                c.cluster.certificate_authority_data = data;
            }
        }
        for u in &mut self.users {
            let entry = format!("user {:?}", u.name);
            let a = &mut u.auth_info;
            if let Some(data) = read_reference(
                &mut a.client_certificate,
                "client-certificate",
                &entry,
                u.origin.as_deref(),
            )? {
                a.client_certificate_data = data;
            }
            if let Some(data) =
                read_reference(&mut a.client_key, "client-key", &entry, u.origin.as_deref())?
            {
                a.client_key_data = Secret::new(data);
            }
        }
        Ok(())
    }

    /// Hides secrets exactly as `kubectl config view` does without `--raw`: `token` and
    /// `password` become [`REDACTED`]; certificate-authority, client certificate and client
    /// key data become [`DATA_OMITTED`]. Like kubectl, nothing else is hidden.
    pub fn redact(&mut self) {
        let omitted = decode_base64(DATA_OMITTED).unwrap_or_default();
        for c in &mut self.clusters {
            if !c.cluster.certificate_authority_data.is_empty() {
                c.cluster.certificate_authority_data.clone_from(&omitted);
            }
        }
        for u in &mut self.users {
            let a = &mut u.auth_info;
            if !a.client_certificate_data.is_empty() {
                a.client_certificate_data.clone_from(&omitted);
            }
            if !a.client_key_data.is_empty() {
                a.client_key_data = Secret::new(omitted.clone());
            }
            if !a.token.is_empty() {
                a.token = Secret::from(REDACTED);
            }
            if !a.password.is_empty() {
                a.password = Secret::from(REDACTED);
            }
        }
    }

    /// YAML with keys sorted, as kubectl writes kubeconfigs and prints `config view`.
    pub fn to_yaml(&self) -> Result<String, KubeconfigError> {
        let value = serde_json::to_value(self).map_err(|e| KubeconfigError::Serialize {
            format: "yaml",
            message: e.to_string(),
        })?;
        serde_saphyr::to_string(&value).map_err(|e| KubeconfigError::Serialize {
            format: "yaml",
            message: e.to_string(),
        })
    }

    /// JSON indented by four spaces, fields in client-go's order, as `kubectl -o json`.
    pub fn to_json(&self) -> Result<String, KubeconfigError> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        self.serialize(&mut serializer)
            .map_err(|e| KubeconfigError::Serialize {
                format: "json",
                message: e.to_string(),
            })?;
        String::from_utf8(out).map_err(|e| KubeconfigError::Serialize {
            format: "json",
            message: e.to_string(),
        })
    }
}

/// Reads the file `reference` names, if any, and clears the reference.
fn read_reference(
    reference: &mut String,
    field: &'static str,
    entry: &str,
    origin: Option<&Path>,
) -> Result<Option<Vec<u8>>, KubeconfigError> {
    if reference.is_empty() {
        return Ok(None);
    }
    let path = absolute_reference(reference, origin);
    let data = std::fs::read(&path).map_err(|source| KubeconfigError::ReadReferencedFile {
        path: path.clone(),
        field,
        entry: entry.to_string(),
        origin: origin.map(Path::to_path_buf),
        source,
    })?;
    reference.clear();
    Ok(Some(data))
}

fn absolute_reference(reference: &str, origin: Option<&Path>) -> PathBuf {
    let path = Path::new(reference);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let dir = origin
        .and_then(Path::parent)
        .unwrap_or_else(|| Path::new(""));
    let base = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    clean_join(&base, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Kubeconfig {
        let yaml = "current-context: a\n\
            clusters:\n- name: c1\n  cluster: {server: s1, certificate-authority-data: Q0E=}\n- name: c2\n  cluster: {server: s2}\n\
            users:\n- name: u1\n  user: {token: tok-123, password: pw-456, client-key-data: S0VZ, client-certificate-data: Q0VSVA==, auth-provider: {name: oidc, config: {id-token: idt-789}}}\n- name: u2\n  user: {}\n\
            contexts:\n- name: a\n  context: {cluster: c1, user: u1}\n- name: b\n  context: {cluster: c2, user: u2}\n";
        Kubeconfig::from_slice(yaml.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn minify_keeps_only_the_current_context() -> Result<(), KubeconfigError> {
        let mut k = sample();
        k.minify()?;
        assert_eq!(k.context_names(), vec!["a".to_string()]);
        assert_eq!(k.clusters.len(), 1);
        assert_eq!(k.users[0].name, "u1");

        let mut k = sample();
        k.current_context.clear();
        assert!(matches!(
            k.minify(),
            Err(KubeconfigError::MinifyWithoutCurrentContext)
        ));
        let mut k = sample();
        k.current_context = "zzz".into();
        let shown = k.minify().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains("zzz") && shown.contains("a, b"), "{shown}");
        let mut k = sample();
        k.clusters.remove(0);
        assert!(matches!(
            k.minify(),
            Err(KubeconfigError::ClusterNotFound { .. })
        ));
        Ok(())
    }

    #[test]
    fn redact_matches_kubectl() -> Result<(), Box<dyn std::error::Error>> {
        let mut k = sample();
        k.redact();
        let v: serde_json::Value = serde_json::from_str(&k.to_json()?)?;
        let user = &v["users"][0]["user"];
        assert_eq!(user["token"], REDACTED);
        assert_eq!(user["password"], REDACTED);
        assert_eq!(user["client-key-data"], DATA_OMITTED);
        assert_eq!(user["client-certificate-data"], DATA_OMITTED);
        assert_eq!(
            v["clusters"][0]["cluster"]["certificate-authority-data"],
            DATA_OMITTED
        );
        // kubectl leaves auth-provider settings alone.
        assert_eq!(user["auth-provider"]["config"]["id-token"], "idt-789");
        let text = k.to_yaml()?;
        assert!(
            !text.contains("tok-123") && !text.contains("pw-456"),
            "{text}"
        );
        Ok(())
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut k = sample();
        // Credentials in a proxy URL or a server URL, parseable or not, and with no scheme.
        k.clusters[0].cluster.proxy_url = "http://proxy-user:proxy-pw-555@proxy.test:3128".into();
        k.clusters[0].cluster.server = "https://srv-user:srv-pw-666@s1.test".into();
        k.clusters[1].cluster.proxy_url = "p-user:proxy-pw-777@proxy.test:3128".into();
        k.clusters[1].cluster.server = "https://s-user:srv-pw-888@s2.test:notaport".into();
        let resolved = crate::config::ClientConfig::new(k.clone(), Default::default())
            .resolve()
            .expect("resolves");
        let printed = format!("{k:?} {k:#?} {resolved:?}");
        for secret in [
            "tok-123",
            "pw-456",
            "idt-789",
            "proxy-pw-555",
            "srv-pw-666",
            "proxy-pw-777",
            "srv-pw-888",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked");
        }
        // client-key-data is bytes: neither the text nor the byte list may show.
        assert!(
            !printed.contains("KEY") && !printed.contains("75, 69, 89"),
            "{printed}"
        );
        // What is not secret still shows.
        assert!(printed.contains("proxy.test:3128") && printed.contains("s1.test"));
    }

    #[test]
    fn flatten_inlines_files_relative_to_their_origin() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("kubeclient-flatten-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pki"))?;
        std::fs::write(dir.join("pki/ca.crt"), "CA-PEM")?;
        let mut k = sample();
        k.clusters[1].cluster.certificate_authority = "pki/ca.crt".into();
        k.clusters[1].origin = Some(dir.join("config"));
        k.users[1].auth_info.client_key = "pki/missing.key".into();
        k.users[1].origin = Some(dir.join("config"));
        let err = k
            .clone()
            .flatten()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("client-key") && err.contains("user \"u2\""),
            "{err}"
        );
        assert!(
            err.contains(&dir.join("config").display().to_string()),
            "{err}"
        );
        k.users[1].auth_info.client_key.clear();
        k.flatten()?;
        assert_eq!(k.clusters[1].cluster.certificate_authority_data, b"CA-PEM");
        assert!(k.clusters[1].cluster.certificate_authority.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn json_keeps_go_field_order_and_nulls() -> Result<(), KubeconfigError> {
        let json = Kubeconfig::default().to_json()?;
        assert!(json.contains("\"clusters\": null"), "{json}");
        assert!(json.contains("\"current-context\": \"\""), "{json}");
        assert!(json.find("clusters") < json.find("users"));
        Ok(())
    }
}
