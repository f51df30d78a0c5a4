//! kubectl's global flags: which kubeconfig, and overrides of what it says.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use kubeclient::config::{ConfigOverrides, LoadingRules, Secret};

/// Flags accepted before or after any subcommand, with kubectl's names.
#[derive(Args, Default)]
pub struct GlobalFlags {
    /// Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, default_value = "")]
    pub context: String,
    /// The name of the kubeconfig cluster to use.
    #[arg(long, global = true, default_value = "")]
    pub cluster: String,
    /// The name of the kubeconfig user to use.
    #[arg(long, global = true, default_value = "")]
    pub user: String,
    /// The namespace scope for this request.
    #[arg(short = 'n', long, global = true, default_value = "")]
    pub namespace: String,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true, default_value = "")]
    pub server: String,
    /// Bearer token for authentication to the API server.
    #[arg(long, global = true, default_value = "")]
    pub token: String,
    /// Server name to use for server certificate validation.
    #[arg(long, global = true, default_value = "")]
    pub tls_server_name: String,
    /// Do not check the server's certificate (makes HTTPS insecure).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Path to a certificate file for the certificate authority.
    #[arg(long, global = true, default_value = "")]
    pub certificate_authority: String,
    /// Path to a client certificate file for TLS.
    #[arg(long, global = true, default_value = "")]
    pub client_certificate: String,
    /// Path to a client key file for TLS.
    #[arg(long, global = true, default_value = "")]
    pub client_key: String,
    /// Username for basic authentication to the API server.
    #[arg(long, global = true, default_value = "")]
    pub username: String,
    /// Password for basic authentication to the API server.
    #[arg(long, global = true, default_value = "")]
    pub password: String,
    /// Username to impersonate for the operation.
    #[arg(long = "as", global = true, default_value = "")]
    pub impersonate: String,
    /// UID to impersonate for the operation.
    #[arg(long = "as-uid", global = true, default_value = "")]
    pub impersonate_uid: String,
    /// Group to impersonate for the operation (repeatable).
    #[arg(long = "as-group", global = true)]
    pub impersonate_groups: Vec<String>,
    /// User extra to impersonate, as key=value (repeatable).
    #[arg(long = "as-user-extra", global = true)]
    pub impersonate_user_extra: Vec<String>,
    /// Proxy URL for every request to the API server.
    #[arg(long, global = true, default_value = "")]
    pub proxy_url: String,
    /// Do not ask the server for compressed responses.
    #[arg(long, global = true)]
    pub disable_compression: bool,
    /// Log verbosity, as kubectl's: 6 shows each request, 8 adds bodies (secrets redacted).
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        default_value_t = 0,
        value_name = "LEVEL"
    )]
    pub verbosity: u8,
}

impl GlobalFlags {
    /// The loading rules: `--kubeconfig`, else the environment.
    pub fn loading_rules(&self) -> LoadingRules {
        let rules = LoadingRules::from_env();
        match &self.kubeconfig {
            Some(path) => rules.with_explicit_path(path),
            None => rules,
        }
    }

    /// The overrides these flags make.
    pub fn overrides(&self) -> Result<ConfigOverrides, String> {
        let mut o = ConfigOverrides::default()
            .with_context(&self.context)
            .with_cluster(&self.cluster)
            .with_user(&self.user)
            .with_namespace(&self.namespace)
            .with_server(&self.server);
        o.cluster_info
            .tls_server_name
            .clone_from(&self.tls_server_name);
        o.cluster_info.insecure_skip_tls_verify = self.insecure_skip_tls_verify;
        o.cluster_info
            .certificate_authority
            .clone_from(&self.certificate_authority);
        o.cluster_info.proxy_url.clone_from(&self.proxy_url);
        o.cluster_info.disable_compression = self.disable_compression;
        let a = &mut o.auth_info;
        a.token = Secret::from(self.token.as_str());
        a.client_certificate.clone_from(&self.client_certificate);
        a.client_key.clone_from(&self.client_key);
        a.username.clone_from(&self.username);
        a.password = Secret::from(self.password.as_str());
        a.impersonate.clone_from(&self.impersonate);
        a.impersonate_uid.clone_from(&self.impersonate_uid);
        a.impersonate_groups.clone_from(&self.impersonate_groups);
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in &self.impersonate_user_extra {
            let Some((k, v)) = pair.split_once('=') else {
                return Err(format!("--as-user-extra {pair:?} is not key=value"));
            };
            extra.entry(k.to_string()).or_default().push(v.to_string());
        }
        a.impersonate_user_extra = extra;
        Ok(o)
    }
}
