//! The seed program: the kubeconfig (`--kubeconfig PATH`, else `KUBECONFIG`, else
//! `~/.kube/config`), or, in a pod where no kubeconfig is found, the pod's service account
//! (client-go's order, see `kubeclient::config::infer`); build the Clientset, list the
//! Deployments of `default` and print `1 -> name`, `2 -> name`, ...
//!
//! `cargo run -p kubeclient --example list_deployments -- --kubeconfig target/controlplane/admin.kubeconfig`

use std::path::PathBuf;
use std::process::ExitCode;

use kubeclient::clientset::Clientset;
use kubeclient::config::infer;
use kubeclient::rest::ListOptions;

async fn run(kubeconfig: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let inferred = infer(kubeconfig.as_deref())?;
    let clientset = Clientset::new(&inferred.config)?;
    let deployments = clientset
        .apps_v1()
        .deployments("default")
        .list(&ListOptions::default())
        .await?;
    for (i, deployment) in deployments.items.iter().enumerate() {
        let name = deployment.metadata.name.as_deref().unwrap_or("<unnamed>");
        println!("{} -> {name}", i + 1);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut kubeconfig = None;
    while let Some(arg) = args.next() {
        match (arg.as_str(), arg.strip_prefix("--kubeconfig=")) {
            (_, Some(path)) => kubeconfig = Some(PathBuf::from(path)),
            ("--kubeconfig", None) => kubeconfig = args.next().map(PathBuf::from),
            _ => {
                eprintln!("usage: list_deployments [--kubeconfig PATH]");
                return ExitCode::from(2);
            }
        }
    }
    match run(kubeconfig).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
