//! The kubeconfig file model: client-go's `clientcmd/api/v1` types with the exact field names
//! of the file format.
//!
//! Go semantics are kept on purpose: an empty string, `false` or an empty list means "unset"
//! (that is what client-go's merge rules and kubectl's output rely on), `null` anywhere reads
//! as unset, and fields without `omitempty` in client-go (`server`, `current-context`, the
//! three lists, exec's `args`/`env`/`provideClusterInfo`, …) are always written. Every struct
//! carries [`UnknownFields`], so a file read and written back loses nothing, even fields a newer
//! kubectl added. Secrets sit in [`Secret`] and never show in `Debug`, nor do credentials in a
//! cluster's `server` or `proxy-url`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::serde_util as su;
use crate::redact::redact_url_str;
use crate::secret::Secret;

/// Fields this model does not know, kept as they were read so that writing the file back
/// loses nothing. `Debug` shows only their names: an unknown field may hold a secret.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnknownFields(pub BTreeMap<String, serde_json::Value>);

impl UnknownFields {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds the fields of `src` that are missing here (`src` wins on conflicts when
    /// `overwrite`).
    fn merge_from(&mut self, src: &UnknownFields, overwrite: bool) {
        for (k, v) in &src.0 {
            if overwrite || !self.0.contains_key(k) {
                self.0.insert(k.clone(), v.clone());
            }
        }
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A whole kubeconfig file (client-go's `v1.Config`), or the merge of several.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Kubeconfig {
    /// `kind`: `Config` or empty.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub kind: String,
    /// `apiVersion`: `v1` or empty.
    #[serde(
        rename = "apiVersion",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub api_version: String,
    /// `preferences`.
    #[serde(
        skip_serializing_if = "Preferences::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub preferences: Preferences,
    /// `clusters`: how to reach each API server.
    #[serde(
        serialize_with = "su::null_if_empty",
        deserialize_with = "su::nullable"
    )]
    pub clusters: Vec<NamedCluster>,
    /// `users`: credentials (client-go's auth infos).
    #[serde(
        serialize_with = "su::null_if_empty",
        deserialize_with = "su::nullable"
    )]
    pub users: Vec<NamedAuthInfo>,
    /// `contexts`: cluster + user + namespace triples.
    #[serde(
        serialize_with = "su::null_if_empty",
        deserialize_with = "su::nullable"
    )]
    pub contexts: Vec<NamedContext>,
    /// `current-context`: the context used when none is chosen explicitly.
    #[serde(rename = "current-context", deserialize_with = "su::string")]
    pub current_context: String,
    /// `extensions`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// `preferences`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// `colors`.
    #[serde(skip_serializing_if = "su::is_false", deserialize_with = "su::boolean")]
    pub colors: bool,
    /// `extensions`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

impl Preferences {
    /// Whether nothing is set (kubectl then omits `preferences`).
    pub fn is_empty(&self) -> bool {
        !self.colors && self.extensions.is_empty() && self.unknown_fields.is_empty()
    }
}

/// A named extension: arbitrary data tools attach to a kubeconfig.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NamedExtension {
    /// `name`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `extension`: any value, kept as read.
    pub extension: serde_json::Value,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// An entry of `clusters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NamedCluster {
    /// `name`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `cluster`.
    #[serde(deserialize_with = "su::nullable")]
    pub cluster: Cluster,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
    /// The file this entry was read from (client-go's `LocationOfOrigin`); not serialized.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// How to reach one API server (client-go's `Cluster`). `Debug` masks a user name and
/// password in `server` or `proxy-url`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cluster {
    /// `server`: `https://host:port`, possibly with a path prefix.
    #[serde(deserialize_with = "su::string")]
    pub server: String,
    /// `tls-server-name`: the name to verify the server certificate against.
    #[serde(
        rename = "tls-server-name",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub tls_server_name: String,
    /// `insecure-skip-tls-verify`.
    #[serde(
        rename = "insecure-skip-tls-verify",
        skip_serializing_if = "su::is_false",
        deserialize_with = "su::boolean"
    )]
    pub insecure_skip_tls_verify: bool,
    /// `certificate-authority`: a PEM file.
    #[serde(
        rename = "certificate-authority",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub certificate_authority: String,
    /// `certificate-authority-data`: PEM bytes (base64 in the file).
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "su::ser_bytes",
        deserialize_with = "su::bytes"
    )]
    pub certificate_authority_data: Vec<u8>,
    /// `proxy-url`.
    #[serde(
        rename = "proxy-url",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub proxy_url: String,
    /// `disable-compression`.
    #[serde(
        rename = "disable-compression",
        skip_serializing_if = "su::is_false",
        deserialize_with = "su::boolean"
    )]
    pub disable_compression: bool,
    /// `extensions`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field named, so that a new one is a compile error here until it is shown.
        let Cluster {
            server,
            tls_server_name,
            insecure_skip_tls_verify,
            certificate_authority,
            certificate_authority_data,
            proxy_url,
            disable_compression,
            extensions,
            unknown_fields,
        } = self;
        f.debug_struct("Cluster")
            .field("server", &redact_url_str(server))
            .field("tls_server_name", tls_server_name)
            .field("insecure_skip_tls_verify", insecure_skip_tls_verify)
            .field("certificate_authority", certificate_authority)
            .field("certificate_authority_data", certificate_authority_data)
            .field("proxy_url", &redact_url_str(proxy_url))
            .field("disable_compression", disable_compression)
            .field("extensions", extensions)
            .field("unknown_fields", unknown_fields)
            .finish()
    }
}

/// An entry of `users`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NamedAuthInfo {
    /// `name`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `user`.
    #[serde(rename = "user", deserialize_with = "su::nullable")]
    pub auth_info: AuthInfo,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
    /// The file this entry was read from (client-go's `LocationOfOrigin`); not serialized.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// Who the client is (client-go's `AuthInfo`, a kubeconfig `user`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthInfo {
    /// `client-certificate`: a PEM file.
    #[serde(
        rename = "client-certificate",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub client_certificate: String,
    /// `client-certificate-data`: PEM bytes.
    #[serde(
        rename = "client-certificate-data",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "su::ser_bytes",
        deserialize_with = "su::bytes"
    )]
    pub client_certificate_data: Vec<u8>,
    /// `client-key`: a PEM file.
    #[serde(
        rename = "client-key",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub client_key: String,
    /// `client-key-data`: PEM bytes of the private key.
    #[serde(
        rename = "client-key-data",
        skip_serializing_if = "Secret::<Vec<u8>>::is_empty",
        serialize_with = "su::ser_secret_bytes",
        deserialize_with = "su::secret_bytes"
    )]
    pub client_key_data: Secret<Vec<u8>>,
    /// `token`: a bearer token.
    #[serde(
        skip_serializing_if = "Secret::<String>::is_empty",
        deserialize_with = "su::secret_string"
    )]
    pub token: Secret<String>,
    /// `tokenFile`: a file holding the bearer token (re-read by the client).
    #[serde(
        rename = "tokenFile",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub token_file: String,
    /// `as`: the user to impersonate.
    #[serde(
        rename = "as",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub impersonate: String,
    /// `as-uid`: the UID to impersonate.
    #[serde(
        rename = "as-uid",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub impersonate_uid: String,
    /// `as-groups`: the groups to impersonate.
    #[serde(
        rename = "as-groups",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::string_list"
    )]
    pub impersonate_groups: Vec<String>,
    /// `as-user-extra`: extra fields of the impersonated user.
    #[serde(
        rename = "as-user-extra",
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "su::string_list_map"
    )]
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    /// `username` for basic authentication.
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub username: String,
    /// `password` for basic authentication.
    #[serde(
        skip_serializing_if = "Secret::<String>::is_empty",
        deserialize_with = "su::secret_string"
    )]
    pub password: Secret<String>,
    /// `auth-provider`: a legacy auth provider such as `oidc`.
    #[serde(
        rename = "auth-provider",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "su::nullable"
    )]
    pub auth_provider: Option<AuthProviderConfig>,
    /// `exec`: an external credential plugin.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "su::nullable"
    )]
    pub exec: Option<ExecConfig>,
    /// `extensions`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// `auth-provider`: a named provider and its settings. Every setting value is treated as a
/// secret (`id-token`, `refresh-token` and `client-secret` live here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthProviderConfig {
    /// `name`, e.g. `oidc`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `config`.
    #[serde(
        serialize_with = "su::null_if_empty_map",
        deserialize_with = "su::secret_string_map"
    )]
    pub config: BTreeMap<String, Secret<String>>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// `exec`: an external command that prints credentials (client-go's `ExecConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecConfig {
    /// `command`: a name looked up in `PATH`, or a path (resolved against the kubeconfig's
    /// directory when relative).
    #[serde(deserialize_with = "su::string")]
    pub command: String,
    /// `args`.
    #[serde(
        serialize_with = "su::null_if_empty",
        deserialize_with = "su::string_list"
    )]
    pub args: Vec<String>,
    /// `env`: extra environment variables for the command.
    #[serde(
        serialize_with = "su::null_if_empty",
        deserialize_with = "su::nullable"
    )]
    pub env: Vec<ExecEnvVar>,
    /// `apiVersion` of the `ExecCredential` exchanged with the command.
    #[serde(
        rename = "apiVersion",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub api_version: String,
    /// `installHint`: shown when the command is missing.
    #[serde(
        rename = "installHint",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub install_hint: String,
    /// `provideClusterInfo`: pass the cluster to the command in `KUBERNETES_EXEC_INFO`.
    #[serde(rename = "provideClusterInfo", deserialize_with = "su::boolean")]
    pub provide_cluster_info: bool,
    /// `interactiveMode`: `Never`, `IfAvailable` or `Always`.
    #[serde(
        rename = "interactiveMode",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub interactive_mode: String,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// An entry of exec's `env`; the value is secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecEnvVar {
    /// `name`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `value`.
    #[serde(deserialize_with = "su::secret_string")]
    pub value: Secret<String>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// An entry of `contexts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NamedContext {
    /// `name`.
    #[serde(deserialize_with = "su::string")]
    pub name: String,
    /// `context`.
    #[serde(deserialize_with = "su::nullable")]
    pub context: Context,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
    /// The file this entry was read from (client-go's `LocationOfOrigin`); not serialized.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// A cluster, a user and a default namespace (client-go's `Context`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Context {
    /// `cluster`: the name of an entry of `clusters`.
    #[serde(deserialize_with = "su::string")]
    pub cluster: String,
    /// `user`: the name of an entry of `users`.
    #[serde(rename = "user", deserialize_with = "su::string")]
    pub user: String,
    /// `namespace`: the default namespace (`default` when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "su::string"
    )]
    pub namespace: String,
    /// `extensions`.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "su::nullable"
    )]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

// ---- client-go's merge: a non-zero field of `src` overwrites; maps merge key by key with
// `src` winning; pointers (auth-provider, exec) are replaced whole. Extensions are maps keyed
// by name in client-go's internal types, so they merge by name.

fn set_str(dst: &mut String, src: &str) {
    if !src.is_empty() {
        *dst = src.to_string();
    }
}

fn set_bool(dst: &mut bool, src: bool) {
    if src {
        *dst = true;
    }
}

fn set_bytes(dst: &mut Vec<u8>, src: &[u8]) {
    if !src.is_empty() {
        *dst = src.to_vec();
    }
}

/// Merges named extensions by name: `src` wins when `overwrite`, otherwise `dst` keeps its own.
pub(crate) fn merge_extensions(
    dst: &mut Vec<NamedExtension>,
    src: &[NamedExtension],
    overwrite: bool,
) {
    for ext in src {
        match dst.iter_mut().find(|e| e.name == ext.name) {
            Some(existing) if overwrite => *existing = ext.clone(),
            Some(_) => {}
            None => dst.push(ext.clone()),
        }
    }
}

impl Cluster {
    /// client-go's `merge(dst, src)`: every non-zero field of `src` overwrites this one.
    pub fn merge_from(&mut self, src: &Cluster) {
        set_str(&mut self.server, &src.server);
        set_str(&mut self.tls_server_name, &src.tls_server_name);
        set_bool(
            &mut self.insecure_skip_tls_verify,
            src.insecure_skip_tls_verify,
        );
        set_str(&mut self.certificate_authority, &src.certificate_authority);
        set_bytes(
            &mut self.certificate_authority_data,
            &src.certificate_authority_data,
        );
        set_str(&mut self.proxy_url, &src.proxy_url);
        set_bool(&mut self.disable_compression, src.disable_compression);
        merge_extensions(&mut self.extensions, &src.extensions, true);
        self.unknown_fields.merge_from(&src.unknown_fields, true);
    }
}

impl AuthInfo {
    /// client-go's `merge(dst, src)`: every non-zero field of `src` overwrites this one.
    pub fn merge_from(&mut self, src: &AuthInfo) {
        set_str(&mut self.client_certificate, &src.client_certificate);
        set_bytes(
            &mut self.client_certificate_data,
            &src.client_certificate_data,
        );
        set_str(&mut self.client_key, &src.client_key);
        if !src.client_key_data.is_empty() {
            self.client_key_data = src.client_key_data.clone();
        }
        if !src.token.is_empty() {
            self.token = src.token.clone();
        }
        set_str(&mut self.token_file, &src.token_file);
        set_str(&mut self.impersonate, &src.impersonate);
        set_str(&mut self.impersonate_uid, &src.impersonate_uid);
        if !src.impersonate_groups.is_empty() {
            self.impersonate_groups = src.impersonate_groups.clone();
        }
        for (k, v) in &src.impersonate_user_extra {
            self.impersonate_user_extra.insert(k.clone(), v.clone());
        }
        set_str(&mut self.username, &src.username);
        if !src.password.is_empty() {
            self.password = src.password.clone();
        }
        if src.auth_provider.is_some() {
            self.auth_provider = src.auth_provider.clone();
        }
        if src.exec.is_some() {
            self.exec = src.exec.clone();
        }
        merge_extensions(&mut self.extensions, &src.extensions, true);
        self.unknown_fields.merge_from(&src.unknown_fields, true);
    }
}

impl Context {
    /// client-go's `merge(dst, src)`: every non-zero field of `src` overwrites this one.
    pub fn merge_from(&mut self, src: &Context) {
        set_str(&mut self.cluster, &src.cluster);
        set_str(&mut self.user, &src.user);
        set_str(&mut self.namespace, &src.namespace);
        merge_extensions(&mut self.extensions, &src.extensions, true);
        self.unknown_fields.merge_from(&src.unknown_fields, true);
    }
}

impl Kubeconfig {
    /// The cluster entry named `name`.
    pub fn cluster(&self, name: &str) -> Option<&NamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The user entry named `name`.
    pub fn user(&self, name: &str) -> Option<&NamedAuthInfo> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The context entry named `name`.
    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The names of all contexts, in file order.
    pub fn context_names(&self) -> Vec<String> {
        self.contexts.iter().map(|c| c.name.clone()).collect()
    }

    /// Merges a lower-priority file into this one with client-go's rules
    /// (`ClientConfigLoadingRules.Load`): an entry (cluster, user, context, extension,
    /// unknown field) whose name is already here is ignored, whole — it is never combined with
    /// the one here; a scalar (`current-context`, `kind`, `apiVersion`, `preferences.colors`)
    /// is taken only if still unset here.
    pub fn merge_lower_priority(&mut self, lower: &Kubeconfig) {
        if self.kind.is_empty() {
            self.kind.clone_from(&lower.kind);
        }
        if self.api_version.is_empty() {
            self.api_version.clone_from(&lower.api_version);
        }
        if self.current_context.is_empty() {
            self.current_context.clone_from(&lower.current_context);
        }
        self.preferences.colors |= lower.preferences.colors;
        merge_extensions(
            &mut self.preferences.extensions,
            &lower.preferences.extensions,
            false,
        );
        self.preferences
            .unknown_fields
            .merge_from(&lower.preferences.unknown_fields, false);
        for c in &lower.clusters {
            if self.cluster(&c.name).is_none() {
                self.clusters.push(c.clone());
            }
        }
        for u in &lower.users {
            if self.user(&u.name).is_none() {
                self.users.push(u.clone());
            }
        }
        for c in &lower.contexts {
            if self.context(&c.name).is_none() {
                self.contexts.push(c.clone());
            }
        }
        merge_extensions(&mut self.extensions, &lower.extensions, false);
        self.unknown_fields.merge_from(&lower.unknown_fields, false);
    }

    /// A copy without the fields this model does not know — what kubectl prints, since it
    /// drops them when it reads a file.
    pub fn without_unknown_fields(&self) -> Kubeconfig {
        let mut out = self.clone();
        out.unknown_fields = UnknownFields::default();
        out.preferences.unknown_fields = UnknownFields::default();
        strip_extensions(&mut out.preferences.extensions);
        strip_extensions(&mut out.extensions);
        for c in &mut out.clusters {
            c.unknown_fields = UnknownFields::default();
            c.cluster.unknown_fields = UnknownFields::default();
            strip_extensions(&mut c.cluster.extensions);
        }
        for u in &mut out.users {
            u.unknown_fields = UnknownFields::default();
            let a = &mut u.auth_info;
            a.unknown_fields = UnknownFields::default();
            strip_extensions(&mut a.extensions);
            if let Some(p) = &mut a.auth_provider {
                p.unknown_fields = UnknownFields::default();
            }
            if let Some(e) = &mut a.exec {
                e.unknown_fields = UnknownFields::default();
                for v in &mut e.env {
                    v.unknown_fields = UnknownFields::default();
                }
            }
        }
        for c in &mut out.contexts {
            c.unknown_fields = UnknownFields::default();
            c.context.unknown_fields = UnknownFields::default();
            strip_extensions(&mut c.context.extensions);
        }
        out
    }
}

fn strip_extensions(exts: &mut [NamedExtension]) {
    for e in exts {
        e.unknown_fields = UnknownFields::default();
    }
}
