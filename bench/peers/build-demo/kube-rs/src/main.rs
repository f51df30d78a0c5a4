//! kube-rs's version of the seed program: load the kubeconfig (`--kubeconfig PATH`, else
//! `KUBECONFIG`, else `~/.kube/config`), list the Deployments of a namespace (`--namespace`,
//! default `default`) and print `1 -> name`, `2 -> name`, ...

use std::process::ExitCode;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

async fn run(
    kubeconfig: Option<String>,
    namespace: String,
) -> Result<(), Box<dyn std::error::Error>> {
    let config = match kubeconfig {
        Some(path) => {
            Config::from_custom_kubeconfig(
                Kubeconfig::read_from(path)?,
                &KubeConfigOptions::default(),
            )
            .await?
        }
        None => Config::infer().await?,
    };
    let client = Client::try_from(config)?;
    let deployments: Api<Deployment> = Api::namespaced(client, &namespace);
    for (i, d) in deployments
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .enumerate()
    {
        println!(
            "{} -> {}",
            i + 1,
            d.metadata.name.as_deref().unwrap_or("<unnamed>")
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let (mut kubeconfig, mut namespace) = (None, "default".to_string());
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--kubeconfig", Some(v)) => kubeconfig = Some(v),
            ("--namespace", Some(v)) => namespace = v,
            _ => {
                eprintln!("usage: list-deployments [--kubeconfig PATH] [--namespace NS]");
                return ExitCode::from(2);
            }
        }
    }
    match run(kubeconfig, namespace).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
