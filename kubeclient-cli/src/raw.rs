//! `kubeclient raw get|post|put|patch|delete PATH [-f FILE]`: one request to a path of the
//! server, the answer's body printed as it is (kubectl's `get --raw`, `create --raw`,
//! `replace --raw`, `delete --raw`). A body comes from a file or `-` for stdin; a patch is
//! sent as a merge patch unless `--content-type` says otherwise.

use clap::{Args, ValueEnum};

use crate::flags::GlobalFlags;
use crate::manifest::read_source;
use crate::session::{CliError, Session, out};

/// The verb of a raw request.
#[derive(Clone, Copy, ValueEnum)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

/// Arguments of `kubeclient raw`.
#[derive(Args)]
pub struct RawArgs {
    /// The verb.
    #[arg(value_enum)]
    verb: Verb,
    /// The path (e.g. `/api/v1/namespaces/default/configmaps`).
    path: String,
    /// The request body: a file, or `-` for stdin.
    #[arg(short = 'f', long, value_name = "FILE")]
    filename: Option<String>,
    /// The body's content type (default: JSON, a merge patch for `patch`).
    #[arg(long)]
    content_type: Option<String>,
}

/// Runs `raw`.
pub async fn run(flags: &GlobalFlags, args: &RawArgs) -> Result<(), CliError> {
    let session = Session::new(flags)?;
    let rest = &session.rest;
    let request = match args.verb {
        Verb::Get => rest.get(),
        Verb::Post => rest.post(),
        Verb::Put => rest.put(),
        Verb::Patch => rest.patch(),
        Verb::Delete => rest.delete(),
    }
    .abs_path(&args.path);
    let request = match &args.filename {
        Some(file) => {
            let default = match args.verb {
                Verb::Patch => "application/merge-patch+json",
                _ => "application/json",
            };
            request
                .content_type(args.content_type.as_deref().unwrap_or(default))
                .body(read_source(file)?)
        }
        None => request,
    };
    let body = request.raw().await?;
    out(&String::from_utf8_lossy(&body));
    Ok(())
}
