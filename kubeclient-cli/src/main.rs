//! The `kubeclient` command line.

mod config_cmd;
mod flags;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use flags::GlobalFlags;

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
    /// Print the client version.
    Version,
    /// Show and modify kubeconfig files, as `kubectl config`.
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => {
            println!("kubeclient {}", kubeclient::VERSION);
            Ok(())
        }
        Command::Config { command } => config_cmd::run(&cli.global, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // kubectl's convention: one line on stderr, exit code 1.
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
