//! `kubeclient apply -f` (server-side apply, as `kubectl apply --server-side`) and
//! `kubeclient delete`, through discovery and the dynamic client.
//!
//! Both carry on after a failing object and report every failure at the end with exit code 1,
//! as kubectl does. An apply conflict is printed with the server's message, which names the
//! conflicting field manager and fields, and a hint about `--force-conflicts`.

use clap::Args;
use kubeclient::discovery::{RestMapping, Scope};
use kubeclient::dynamic::DynamicClient;
use kubeclient::rest::{ApplyOptions, DeleteOptions, PropagationPolicy};
use serde_json::Value;

use crate::flags::GlobalFlags;
use crate::manifest;
use crate::session::{CliError, Session, kind_ref, msg, name_of, out};

/// Arguments of `kubeclient apply`.
#[derive(Args)]
pub struct ApplyArgs {
    /// The manifest: a file, or `-` for stdin (YAML documents or JSON; `kind: List` too).
    #[arg(short = 'f', long, value_name = "FILE", required = true)]
    filename: Vec<String>,
    /// The field manager named in the objects' managedFields.
    #[arg(long, default_value = "kubeclient")]
    field_manager: String,
    /// Take over fields other managers own instead of failing with a conflict.
    #[arg(long)]
    force_conflicts: bool,
    /// Accepted for kubectl compatibility: apply is always server-side here.
    #[arg(long, default_value_t = true)]
    server_side: bool,
}

/// The namespace an object goes to: its own, else `-n`, else the context's. An object whose
/// namespace differs from an explicit `-n` is an error, as in kubectl.
fn namespace_for(
    obj: &Value,
    mapping: &RestMapping,
    flags: &GlobalFlags,
    session: &Session,
) -> Result<Option<String>, CliError> {
    if mapping.scope != Scope::Namespaced {
        return Ok(None);
    }
    let own = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if own.is_empty() {
        return Ok(Some(session.namespace.clone()));
    }
    if !flags.namespace.is_empty() && flags.namespace != own {
        return Err(msg(format!(
            "the namespace from the provided object {own:?} does not match the namespace {:?}; \
             pass --namespace={own} to apply it",
            flags.namespace
        )));
    }
    Ok(Some(own.to_string()))
}

fn apply_failure(e: kubeclient::rest::Error) -> CliError {
    match e.api() {
        Some(api) if api.is_conflict() && api.status.message.starts_with("Apply failed") => {
            msg(format!(
                "{}\nThe fields above are owned by other field managers. To take them over, \
                 apply again with --force-conflicts; to leave them to their managers, remove \
                 them from the manifest (or set them to the current values to share them).",
                api.status.message
            ))
        }
        _ => e.into(),
    }
}

/// Runs `apply`.
pub async fn apply(flags: &GlobalFlags, args: &ApplyArgs) -> Result<(), CliError> {
    let _ = args.server_side;
    let session = Session::new(flags)?;
    let mut objects = Vec::new();
    for file in &args.filename {
        objects.extend(manifest::read_objects(file)?);
    }
    if objects.is_empty() {
        return Err(msg("no objects passed to apply"));
    }
    let dynamic = DynamicClient::new(session.rest.clone());
    let mut failures = Vec::new();
    for obj in objects {
        let result = async {
            let mapping = session.mapping_for(&obj).await?;
            let ns = namespace_for(&obj, &mapping, flags, &session)?;
            let name = name_of(&obj);
            if name.is_empty() {
                return Err(msg(format!(
                    "a {} in the manifest has no metadata.name",
                    mapping.kind.kind
                )));
            }
            let client = dynamic.for_mapping(&mapping, ns.as_deref());
            let mut options = ApplyOptions::new(&args.field_manager);
            options.force = args.force_conflicts;
            client
                .apply(name, &obj, &options)
                .await
                .map_err(apply_failure)?;
            out(&format!(
                "{}/{} serverside-applied\n",
                kind_ref(&mapping),
                name
            ));
            Ok(())
        }
        .await;
        if let Err(e) = result {
            failures.push(e);
        }
    }
    report(failures)
}

/// Prints every failure; exit code 1 if there was one.
fn report(failures: Vec<CliError>) -> Result<(), CliError> {
    if failures.is_empty() {
        return Ok(());
    }
    for e in &failures {
        eprintln!("{e}");
    }
    Err(CliError::Reported)
}

/// Arguments of `kubeclient delete`.
#[derive(Args)]
pub struct DeleteArgs {
    /// The resource type then names, or `type/name` arguments.
    args: Vec<String>,
    /// Delete the objects of this manifest (`-` for stdin).
    #[arg(short = 'f', long, value_name = "FILE")]
    filename: Vec<String>,
    /// Ignore objects that are not found.
    #[arg(long)]
    ignore_not_found: bool,
}

/// Runs `delete`.
pub async fn delete(flags: &GlobalFlags, args: &DeleteArgs) -> Result<(), CliError> {
    let session = Session::new(flags)?;
    // (mapping, namespace, name) of each object to delete.
    let mut targets: Vec<(RestMapping, Option<String>, String)> = Vec::new();
    for file in &args.filename {
        for obj in manifest::read_objects(file)? {
            let mapping = session.mapping_for(&obj).await?;
            let ns = namespace_for(&obj, &mapping, flags, &session)?;
            targets.push((mapping, ns, name_of(&obj).to_string()));
        }
    }
    let ns_of = |mapping: &RestMapping| {
        (mapping.scope == Scope::Namespaced).then(|| session.namespace.clone())
    };
    if args.args.iter().any(|a| a.contains('/')) {
        for arg in &args.args {
            let Some((kind, name)) = arg.split_once('/') else {
                return Err(msg(format!(
                    "arguments in resource/name form may not be mixed with a separate resource \
                     type, got {arg:?}"
                )));
            };
            let mapping = session.resolve(kind).await?;
            targets.push((mapping.clone(), ns_of(&mapping), name.to_string()));
        }
    } else if let Some((kinds, names)) = args.args.split_first() {
        if names.is_empty() {
            return Err(msg(format!(
                "resource(s) were provided, but no name was specified for {kinds:?}"
            )));
        }
        for kind in kinds.split(',') {
            let mapping = session.resolve(kind).await?;
            for name in names {
                targets.push((mapping.clone(), ns_of(&mapping), name.clone()));
            }
        }
    }
    if targets.is_empty() {
        return Err(msg(
            "you must provide one or more resources by argument or filename",
        ));
    }
    let dynamic = DynamicClient::new(session.rest.clone());
    let options = DeleteOptions {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteOptions::default()
    };
    let mut failures = Vec::new();
    for (mapping, ns, name) in targets {
        let client = dynamic.for_mapping(&mapping, ns.as_deref());
        match client.delete(&name, &options).await {
            Ok(()) => {
                let what = format!("{} {name:?} deleted", kind_ref(&mapping));
                match ns {
                    Some(ns) => out(&format!("{what} from {ns} namespace\n")),
                    None => out(&format!("{what}\n")),
                }
            }
            Err(e) if e.is_not_found() && args.ignore_not_found => {}
            Err(e) => failures.push(e.into()),
        }
    }
    report(failures)
}
