//! Credentials that change while a client runs: token files (re-read periodically); exec
//! credential plugins and the OIDC auth provider live in [`exec`](super::exec) and
//! [`oidc`](super::oidc). What they share is the error type; none of them ever puts a secret
//! into an error, `Debug` or a log line.

mod token_file;

use std::path::PathBuf;

pub use token_file::TokenFile;

/// What can go wrong while obtaining credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token file could not be read.
    #[error("reading token file {path}: {source}")]
    ReadTokenFile {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The token file is empty (or only whitespace).
    #[error("token file {path} is empty")]
    EmptyTokenFile {
        /// The file.
        path: PathBuf,
    },
    /// An exec credential plugin could not be used. The reason never quotes the plugin's
    /// output or environment.
    #[error("exec plugin {command}: {reason}")]
    Exec {
        /// The plugin's command.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The OIDC auth provider could not supply a token. The reason never holds a token.
    #[error("oidc auth provider: {reason}")]
    Oidc {
        /// What went wrong.
        reason: String,
    },
    /// The token file is not UTF-8 text.
    #[error("token file {path} is not UTF-8 text")]
    TokenFileNotUtf8 {
        /// The file.
        path: PathBuf,
    },
}
