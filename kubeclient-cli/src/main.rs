//! The `kubeclient` command line.

mod apply;
mod config_cmd;
mod flags;
mod get;
mod info;
mod logging;
mod manifest;
mod raw;
mod session;
mod table;
mod warnings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use flags::GlobalFlags;
use session::{CliError, block_on};

/// kubeclient: a kubectl-like command line over the kubeclient library.
#[derive(Parser)]
#[command(name = "kubeclient", version = kubeclient::VERSION)]
struct Cli {
    #[command(flatten)]
    global: GlobalFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the client and server versions.
    Version(info::VersionArgs),
    /// Show and modify kubeconfig files, as `kubectl config`.
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
    /// Display one or many resources, as `kubectl get`.
    Get(get::GetArgs),
    /// Server-side apply of the objects of a manifest, as `kubectl apply --server-side`.
    Apply(apply::ApplyArgs),
    /// Delete resources by type and names, or those of a manifest.
    Delete(apply::DeleteArgs),
    /// Print the resources the server offers.
    ApiResources(info::ApiResourcesArgs),
    /// Print the group versions the server offers.
    ApiVersions,
    /// Send one request to a path of the server and print the answer.
    Raw(raw::RawArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = &cli.global;
    logging::init(global.verbosity);
    let result = match cli.command {
        Command::Version(args) => block_on(info::version(global, &args)),
        Command::Config { command } => config_cmd::run(global, command).map_err(CliError::Message),
        Command::Get(args) => block_on(get::run(global, args)),
        Command::Apply(args) => block_on(apply::apply(global, &args)),
        Command::Delete(args) => block_on(apply::delete(global, &args)),
        Command::ApiResources(args) => block_on(info::api_resources(global, &args)),
        Command::ApiVersions => block_on(info::api_versions(global)),
        Command::Raw(args) => block_on(raw::run(global, &args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // kubectl's convention: errors on stderr, exit code 1.
        Err(CliError::Reported) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
