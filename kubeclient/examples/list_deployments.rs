//! The seed program: the kubeconfig (`--kubeconfig PATH`, else `KUBECONFIG`, else
//! `~/.kube/config`), or, in a pod where no kubeconfig is found, the pod's service account
//! (client-go's order, see `kubeclient::config::infer`); list the Deployments of `default`
//! and print `1 -> name`, `2 -> name`, ...
//!
//! `cargo run -p kubeclient --features k8s-openapi --example list_deployments -- --kubeconfig target/controlplane/admin.kubeconfig`

use std::path::PathBuf;
use std::process::ExitCode;

use kubeclient::config::infer;
use kubeclient::rest::RestClient;

async fn run(kubeconfig: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let inferred = infer(kubeconfig.as_deref())?;
    let client = RestClient::new(&inferred.config)?;
    let deployments: serde_json::Value = client
        .get()
        .group_version("apps/v1")
        .namespace("default")
        .resource("deployments")
        .into_json()
        .await?;
    let items = deployments["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, deployment) in items.iter().enumerate() {
        let name = deployment["metadata"]["name"]
            .as_str()
            .unwrap_or("<unnamed>");
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
