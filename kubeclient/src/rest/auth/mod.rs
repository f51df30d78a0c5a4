//! Credentials that change while a client runs, which the transport asks for before each
//! request (see [`Auth`](super::Auth)): token files (re-read periodically), exec credential
//! plugins ([`exec`]) and the OIDC auth provider ([`oidc`]). They are built from
//! configuration data ([`config`](crate::config) turns a kubeconfig user into one) and do the
//! I/O themselves: reading files, running plugins, asking the issuer. What they share is the
//! error type; none of them ever puts a secret into an error, `Debug` or a log line.

pub mod exec;
pub mod oidc;
mod token_file;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use secrecy::SecretString;

pub use exec::{ExecAuthenticator, ExecPlugin};
pub use oidc::{OidcAuthenticator, PersistTokens};
pub use token_file::TokenFile;

/// What [`TokenSource::token`] returns.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<SecretString, AuthError>> + Send>>;

/// A source of bearer tokens that the transport asks before every request
/// ([`Auth::TokenSource`](super::Auth::TokenSource); client-go's `transport.TokenSource` and
/// `ResettableTokenSource`). Token files and the OIDC provider are token sources; implement it
/// to bring credentials of your own (a cloud provider's, a vault's).
///
/// `Debug` must not show the token.
pub trait TokenSource: std::fmt::Debug + Send + Sync + 'static {
    /// The token for the next request, without the `Bearer ` prefix. This is called for every
    /// request, so cache what is expensive to get.
    fn token(self: Arc<Self>) -> TokenFuture;

    /// The server answered 401 to a request sent with the current token. Return `true` if the
    /// next [`TokenSource::token`] may give a different one (the request is then retried
    /// once), after dropping whatever is cached.
    fn unauthorized(&self) -> bool {
        false
    }
}

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
    /// A token source of the caller's own failed. The reason never holds a token.
    #[error("token source: {reason}")]
    Source {
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
