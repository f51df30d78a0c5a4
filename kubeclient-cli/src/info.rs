//! What the server offers: `kubeclient version`, `api-versions` and `api-resources`, printed
//! as kubectl prints them.

use clap::{Args, ValueEnum};
use kubeclient::discovery::Info;
use serde_json::{Value, json};

use crate::flags::GlobalFlags;
use crate::session::{CliError, Session, out, to_json, to_yaml};
use crate::table::TableWriter;

/// Output formats of `version`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionOutput {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Arguments of `kubeclient version`.
#[derive(Args)]
pub struct VersionArgs {
    /// Print the client version only (no server is contacted).
    #[arg(long)]
    client: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    output: Option<VersionOutput>,
}

fn client_info() -> Value {
    let mut parts = kubeclient::VERSION.split('.');
    json!({
        "major": parts.next().unwrap_or(""),
        "minor": parts.next().unwrap_or(""),
        "gitVersion": format!("v{}", kubeclient::VERSION),
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
    })
}

fn server_info(info: &Info) -> Value {
    let mut v = json!({
        "major": info.major,
        "minor": info.minor,
        "emulationMajor": info.emulation_major,
        "emulationMinor": info.emulation_minor,
        "minCompatibilityMajor": info.min_compatibility_major,
        "minCompatibilityMinor": info.min_compatibility_minor,
        "gitVersion": info.git_version,
        "gitCommit": info.git_commit,
        "gitTreeState": info.git_tree_state,
        "buildDate": info.build_date,
        "goVersion": info.go_version,
        "compiler": info.compiler,
        "platform": info.platform,
    });
    // Go's omitempty on the emulation fields.
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|_, value| value.as_str() != Some(""));
    }
    v
}

/// Runs `version`: the client's, then the server's through discovery. A server that cannot
/// be reached is an error after the client version is printed, as kubectl.
pub async fn version(flags: &GlobalFlags, args: &VersionArgs) -> Result<(), CliError> {
    let mut doc = json!({"clientVersion": client_info()});
    let mut failure = None;
    if !args.client {
        let fetched = match Session::new(flags) {
            Ok(session) => session
                .discovery
                .server_version()
                .await
                .map_err(CliError::from),
            Err(e) => Err(e),
        };
        match fetched {
            Ok(info) => doc["serverVersion"] = server_info(&info),
            Err(e) => failure = Some(e),
        }
    }
    match args.output {
        Some(VersionOutput::Json) => out(&to_json(&doc)?),
        Some(VersionOutput::Yaml) => out(&to_yaml(&doc)?),
        None => {
            out(&format!("Client Version: v{}\n", kubeclient::VERSION));
            if let Some(server) = doc
                .pointer("/serverVersion/gitVersion")
                .and_then(Value::as_str)
            {
                out(&format!("Server Version: {server}\n"));
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Runs `api-versions`: every group version, sorted.
pub async fn api_versions(flags: &GlobalFlags) -> Result<(), CliError> {
    let session = Session::new(flags)?;
    let discovery = session.discovery.discover().await?;
    let mut versions: Vec<String> = discovery
        .group_versions()
        .iter()
        .map(ToString::to_string)
        .collect();
    versions.sort();
    versions.dedup();
    let mut text = String::new();
    for v in versions {
        text.push_str(&v);
        text.push('\n');
    }
    out(&text);
    discovery
        .ensure_complete()
        .map_err(|e| CliError::from(kubeclient::discovery::Error::from(e)))
}

/// Output formats of `api-resources`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResourcesOutput {
    /// Add the VERBS and CATEGORIES columns.
    Wide,
    /// `resource[.group]` only.
    Name,
}

/// Arguments of `kubeclient api-resources`.
#[derive(Args)]
pub struct ApiResourcesArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    output: Option<ResourcesOutput>,
    /// Only namespaced (true) or cluster-scoped (false) resources.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    namespaced: Option<bool>,
    /// Only the resources of this API group (empty: the core group).
    #[arg(long, value_name = "GROUP")]
    api_group: Option<String>,
    /// Print no headers.
    #[arg(long)]
    no_headers: bool,
}

/// Runs `api-resources`: the preferred version of each resource, stably sorted by group.
pub async fn api_resources(flags: &GlobalFlags, args: &ApiResourcesArgs) -> Result<(), CliError> {
    let session = Session::new(flags)?;
    let discovery = session.discovery.discover().await?;
    let mut resources: Vec<_> = discovery
        .preferred_resources()
        .into_iter()
        .filter(|(_, r)| !r.name.contains('/'))
        .filter(|(_, r)| args.namespaced.is_none_or(|n| r.namespaced == n))
        .filter(|(gv, _)| args.api_group.as_ref().is_none_or(|g| &gv.group == g))
        .collect();
    resources.sort_by(|(a, _), (b, _)| a.group.cmp(&b.group));
    let mut writer = TableWriter::default();
    match args.output {
        Some(ResourcesOutput::Name) => {
            let mut text = String::new();
            for (gv, r) in &resources {
                text.push_str(&r.name);
                if !gv.group.is_empty() {
                    text.push('.');
                    text.push_str(&gv.group);
                }
                text.push('\n');
            }
            out(&text);
        }
        output => {
            let wide = output == Some(ResourcesOutput::Wide);
            if !args.no_headers {
                let mut header: Vec<String> =
                    ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
                        .map(String::from)
                        .to_vec();
                if wide {
                    header.extend(["VERBS".to_string(), "CATEGORIES".to_string()]);
                }
                writer.push(header);
            }
            for (gv, r) in &resources {
                let mut line = vec![
                    r.name.clone(),
                    r.short_names.join(","),
                    gv.to_string(),
                    r.namespaced.to_string(),
                    r.kind.clone(),
                ];
                if wide {
                    line.push(r.verbs.join(","));
                    line.push(r.categories.join(","));
                }
                writer.push(line);
            }
            out(&writer.flush());
        }
    }
    discovery
        .ensure_complete()
        .map_err(|e| CliError::from(kubeclient::discovery::Error::from(e)))
}
