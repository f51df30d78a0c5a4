//! `probe [--kubeconfig FILE] [--service-account-dir DIR] PATH`: loads configuration the way
//! the seed program does (`kubeclient::config::infer`: the kubeconfig, else in-cluster), sends
//! `GET PATH` (or, for `whoami`, a SelfSubjectReview) and prints `<source> <status> <body>`.
//!
//! Tests run it as a separate process so that each run has an environment of its own
//! (`KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_HOST`, `HTTPS_PROXY`, `NO_PROXY`, ...).

use std::path::PathBuf;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use kubeclient::config::incluster::ServiceAccountFiles;
use kubeclient::config::infer_with;
use kubeclient::rest::Transport;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut kubeconfig, mut sa_dir, mut path) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kubeconfig" => kubeconfig = args.next().map(PathBuf::from),
            "--service-account-dir" => sa_dir = args.next().map(PathBuf::from),
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: probe [--kubeconfig FILE] [--service-account-dir DIR] PATH|whoami");
        return ExitCode::from(2);
    };
    let files = sa_dir.map(ServiceAccountFiles::in_dir).unwrap_or_default();
    let inferred = match infer_with(kubeconfig.as_deref(), &files) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let transport = match Transport::new(&inferred.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let (method, path, body) = if path == "whoami" {
        let review = r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#;
        (
            http::Method::POST,
            "/apis/authentication.k8s.io/v1/selfsubjectreviews".to_string(),
            review,
        )
    } else {
        (http::Method::GET, path, "")
    };
    let url = match inferred.config.host.join(&path) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let request = http::Request::builder()
        .method(method)
        .uri(url.as_str())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)));
    let result = match request {
        Ok(request) => transport.send(request).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let source = match inferred.source {
                kubeclient::config::Source::InCluster => "in-cluster".to_string(),
                kubeclient::config::Source::Kubeconfig { context } => format!("context={context}"),
                _ => "other".to_string(),
            };
            println!(
                "{source} namespace={} {status} {}",
                inferred.namespace,
                String::from_utf8_lossy(&body)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
