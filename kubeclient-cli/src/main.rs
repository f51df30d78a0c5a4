//! The `kubeclient` command line.

use clap::{Parser, Subcommand};

/// kubeclient: a kubectl-like command line over the kubeclient library.
#[derive(Parser)]
#[command(name = "kubeclient", version = kubeclient::VERSION)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the client version.
    Version,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => println!("kubeclient {}", kubeclient::VERSION),
    }
}
