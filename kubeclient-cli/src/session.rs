//! What every API command shares: the client configuration built from the global flags
//! (kubectl's loading rules and overrides) with server warnings printed on stderr, a REST
//! client, discovery with kubectl's disk cache, the default namespace, and the command-line
//! error type that prints the way kubectl prints its errors.

use std::io::Write;

use kubeclient::config::{ClientConfig, from_resolved};
use kubeclient::discovery::{self, DiscoveryClient, DiskCache, RestMapping};
use kubeclient::rest::{self, ApiError, RestClient};
use serde_json::Value;

use crate::flags::GlobalFlags;

/// A failed command, as kubectl reports it (always exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server refused: `Error from server (Reason): message`.
    #[error("{}", server_line(.0))]
    Server(Box<ApiError>),
    /// Anything else: `error: message`.
    #[error("error: {0}")]
    Message(String),
    /// Already reported on stderr (e.g. by a command that carries on after failures): only
    /// the exit code is left to give.
    #[error("")]
    Reported,
}

fn server_line(e: &ApiError) -> String {
    if e.status.reason.is_empty() {
        format!("Error from server: {}", e.status.message)
    } else {
        format!(
            "Error from server ({}): {}",
            e.status.reason, e.status.message
        )
    }
}

impl From<rest::Error> for CliError {
    fn from(e: rest::Error) -> Self {
        match e.api() {
            Some(api) => CliError::Server(Box::new(api.clone())),
            None => CliError::Message(e.to_string()),
        }
    }
}

impl From<discovery::Error> for CliError {
    fn from(e: discovery::Error) -> Self {
        match e {
            discovery::Error::Request(e) => e.into(),
            other => CliError::Message(other.to_string()),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Message(e.to_string())
    }
}

/// A message error.
pub fn msg(message: impl Into<String>) -> CliError {
    CliError::Message(message.into())
}

/// Runs `future` to completion on a single-threaded runtime.
pub fn block_on<F: std::future::Future<Output = Result<(), CliError>>>(
    future: F,
) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| msg(format!("starting the async runtime: {e}")))?;
    runtime.block_on(future)
}

/// A client configuration ready for API calls.
pub struct Session {
    /// The REST client for the chosen context.
    pub rest: RestClient,
    /// The namespace: `-n`, else the context's, else `default`.
    pub namespace: String,
    /// Discovery, with kubectl's disk cache under `~/.kube/cache/discovery`.
    pub discovery: DiscoveryClient,
}

impl Session {
    /// Loads the kubeconfig with the global flags as overrides.
    pub fn new(flags: &GlobalFlags) -> Result<Session, CliError> {
        let overrides = flags.overrides().map_err(CliError::Message)?;
        let resolved = ClientConfig::load(&flags.loading_rules(), overrides)
            .and_then(|c| c.resolve())
            .map_err(|e| msg(e.to_string()))?;
        let mut config = from_resolved(&resolved).map_err(|e| msg(e.to_string()))?;
        config.warning_handler = Some(crate::warnings::stderr_printer());
        let rest = RestClient::new(&config)?;
        let discovery = DiscoveryClient::new(&config)?
            .with_disk_cache(DiskCache::kubectl_default(&config.host));
        Ok(Session {
            rest,
            namespace: resolved.namespace,
            discovery,
        })
    }

    /// What the user typed (`deploy`, `deployments.apps`, a CRD's name…) as a mapping; a
    /// miss refreshes a cached discovery once, as kubectl does.
    pub async fn resolve(&self, input: &str) -> Result<RestMapping, CliError> {
        match self.discovery.resolve(input).await {
            Ok(mapping) => Ok(mapping),
            Err(e) if e.is_not_found() => {
                self.discovery.invalidate().await;
                self.discovery
                    .resolve(input)
                    .await
                    .map_err(|e| unknown_type(input, e))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The mapping for an object's `apiVersion` and `kind`.
    pub async fn mapping_for(&self, obj: &Value) -> Result<RestMapping, CliError> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        if api_version.is_empty() || kind.is_empty() {
            return Err(msg("object has no apiVersion or kind"));
        }
        let gv = discovery::GroupVersion::parse(api_version).map_err(discovery::Error::from)?;
        let gvk = gv.with_kind(kind);
        let mapper = self.discovery.rest_mapper().await?;
        match mapper.mapping_for_kind(&gvk) {
            Ok(m) => Ok(m),
            Err(_) => {
                self.discovery.invalidate().await;
                let mapper = self.discovery.rest_mapper().await?;
                mapper.mapping_for_kind(&gvk).map_err(|_| {
                    msg(format!(
                        "resource mapping not found for name: {:?} namespace: {:?} from \"\": \
                         no matches for kind {kind:?} in version {api_version:?}",
                        name_of(obj),
                        obj.pointer("/metadata/namespace")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    ))
                })
            }
        }
    }
}

fn unknown_type(input: &str, e: discovery::Error) -> CliError {
    if e.is_not_found() {
        // kubectl's wording, without the suggestions.
        msg(format!("the server doesn't have a resource type {input:?}"))
    } else {
        e.into()
    }
}

/// `metadata.name`, or empty.
pub fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// kubectl's name of a kind in messages and `-o name`: lower-case kind, then `.group` for
/// named groups (`configmap`, `deployment.apps`).
pub fn kind_ref(mapping: &RestMapping) -> String {
    let kind = mapping.kind.kind.to_lowercase();
    if mapping.kind.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", mapping.kind.group)
    }
}

/// Writes `text` to stdout, ignoring a closed pipe as kubectl does.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// JSON as kubectl prints it: four-space indentation, a final newline.
pub fn to_json(value: &Value) -> Result<String, CliError> {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    serde::Serialize::serialize(value, &mut ser).map_err(|e| msg(e.to_string()))?;
    buf.push(b'\n');
    String::from_utf8(buf).map_err(|e| msg(e.to_string()))
}

/// YAML of `value`.
pub fn to_yaml(value: &Value) -> Result<String, CliError> {
    serde_saphyr::to_string(value).map_err(|e| msg(format!("encoding YAML: {e}")))
}
