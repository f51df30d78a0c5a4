//! `kubeclient config …`: kubectl's `config view`, `current-context`, `get-contexts` and
//! `use-context`, with kubectl's output and semantics.
//!
//! Like kubectl, these commands read the kubeconfig files as written (relative paths are not
//! resolved, a missing `--kubeconfig` file reads as empty) and ignore the override flags,
//! except that `config view --minify` honours `--context`.

use clap::{Subcommand, ValueEnum};
use kubeclient::config::{Kubeconfig, KubeconfigError, write_current_context};

use crate::flags::GlobalFlags;

/// The `config` subcommands.
#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Display merged kubeconfig settings or a specified kubeconfig file.
    View {
        /// Remove all information not used by the current context from the output.
        #[arg(long)]
        minify: bool,
        /// Flatten the resulting kubeconfig file into self-contained output.
        #[arg(long)]
        flatten: bool,
        /// Display raw byte data and sensitive data.
        #[arg(long)]
        raw: bool,
        /// Output format.
        #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
        output: ViewFormat,
    },
    /// Display the current-context.
    CurrentContext,
    /// Describe one or many contexts.
    GetContexts {
        /// Only these contexts.
        names: Vec<String>,
        /// Output format: `name` prints only names.
        #[arg(short = 'o', long = "output", value_enum)]
        output: Option<ContextsFormat>,
        /// Do not print headers.
        #[arg(long)]
        no_headers: bool,
    },
    /// Set the current-context in a kubeconfig file.
    UseContext {
        /// The context to use.
        name: String,
    },
}

/// `config view -o`.
#[derive(Clone, Copy, ValueEnum)]
pub enum ViewFormat {
    /// YAML, keys sorted.
    Yaml,
    /// JSON, indented.
    Json,
}

/// `config get-contexts -o`.
#[derive(Clone, Copy, ValueEnum)]
pub enum ContextsFormat {
    /// Context names only.
    Name,
}

/// Runs one `config` subcommand; the error is the message for `error: …`.
pub fn run(global: &GlobalFlags, command: ConfigCommand) -> Result<(), String> {
    match command {
        ConfigCommand::View {
            minify,
            flatten,
            raw,
            output,
        } => view(global, minify, flatten, raw, output),
        ConfigCommand::CurrentContext => {
            let config = starting_config(global)?;
            if config.current_context.is_empty() {
                return Err("current-context is not set".to_string());
            }
            println!("{}", config.current_context);
            Ok(())
        }
        ConfigCommand::GetContexts {
            names,
            output,
            no_headers,
        } => get_contexts(global, &names, output.is_some(), no_headers),
        ConfigCommand::UseContext { name } => {
            let config = starting_config(global)?;
            if name.is_empty() {
                return Err("empty context names are not allowed".to_string());
            }
            if config.context(&name).is_none() {
                return Err(format!("no context exists with the name: {name:?}"));
            }
            write_current_context(&global.loading_rules(), &name).map_err(|e| e.to_string())?;
            println!("Switched to context {name:?}.");
            Ok(())
        }
    }
}

/// kubectl's `PathOptions.GetStartingConfig`: the merged files as written.
fn starting_config(global: &GlobalFlags) -> Result<Kubeconfig, String> {
    match global.loading_rules().with_resolve_paths(false).load() {
        Ok(c) => Ok(c),
        Err(KubeconfigError::ExplicitFileMissing { .. }) => Ok(Kubeconfig::default()),
        Err(e) => Err(e.to_string()),
    }
}

fn view(
    global: &GlobalFlags,
    minify: bool,
    flatten: bool,
    raw: bool,
    output: ViewFormat,
) -> Result<(), String> {
    let mut config = starting_config(global)?.without_unknown_fields();
    if minify {
        if !global.context.is_empty() {
            config.current_context.clone_from(&global.context);
        }
        config.minify().map_err(|e| e.to_string())?;
    }
    if flatten {
        config.flatten().map_err(|e| e.to_string())?;
    } else if !raw {
        config.redact();
    }
    // kubectl prints the internal form converted back to v1: always this kind and version,
    // every list sorted by name.
    config.kind = "Config".to_string();
    config.api_version = "v1".to_string();
    config.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    config.users.sort_by(|a, b| a.name.cmp(&b.name));
    config.contexts.sort_by(|a, b| a.name.cmp(&b.name));
    config.extensions.sort_by(|a, b| a.name.cmp(&b.name));
    config
        .preferences
        .extensions
        .sort_by(|a, b| a.name.cmp(&b.name));
    let text = match output {
        ViewFormat::Yaml => config.to_yaml(),
        ViewFormat::Json => config.to_json().map(|mut s| {
            s.push('\n');
            s
        }),
    }
    .map_err(|e| e.to_string())?;
    print!("{text}");
    Ok(())
}

fn get_contexts(
    global: &GlobalFlags,
    names: &[String],
    name_only: bool,
    no_headers: bool,
) -> Result<(), String> {
    let config = starting_config(global)?;
    let mut errors = Vec::new();
    let mut to_print: Vec<&str> = Vec::new();
    if names.is_empty() {
        to_print = config.contexts.iter().map(|c| c.name.as_str()).collect();
    } else {
        for name in names {
            if config.context(name).is_some() {
                to_print.push(name);
            } else {
                errors.push(format!("context {name} not found"));
            }
        }
    }
    to_print.sort_unstable();
    let mut rows: Vec<Vec<String>> = Vec::new();
    if name_only {
        for name in to_print {
            println!("{name}");
        }
    } else {
        if !no_headers {
            rows.push(
                ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                    .map(String::from)
                    .to_vec(),
            );
        }
        for name in to_print {
            let Some(entry) = config.context(name) else {
                continue;
            };
            let current = if config.current_context == name {
                "*"
            } else {
                " "
            };
            rows.push(vec![
                current.to_string(),
                name.to_string(),
                entry.context.cluster.clone(),
                entry.context.user.clone(),
                entry.context.namespace.clone(),
            ]);
        }
        print!("{}", tabulate(&rows));
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// Aligns cells as kubectl's tab writer does (minimum width 6, padding 3); the last cell of
/// a row is not padded.
fn tabulate(rows: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
            widths[i] = widths[i].max((cell.chars().count() + PADDING).max(MIN_WIDTH));
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabulate_matches_kubectl_layout() {
        let rows = vec![
            vec!["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"],
            vec!["*", "ctx-a", "c1", "u1", "ns-a"],
            vec!["", "ctx-b", "c2", "u2", ""],
        ]
        .into_iter()
        .map(|r| r.into_iter().map(String::from).collect())
        .collect::<Vec<Vec<String>>>();
        assert_eq!(
            tabulate(&rows),
            "CURRENT   NAME    CLUSTER   AUTHINFO   NAMESPACE\n\
             *         ctx-a   c1        u1         ns-a\n          \
             ctx-b   c2        u2         \n"
        );
    }
}
