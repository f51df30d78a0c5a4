//! [`Error`]: one error type for the whole crate, so that `?` works in code that loads a
//! configuration, makes requests and runs informers alike. Every module keeps its own precise
//! error enum; each converts into this one, and the variant says which module it came from.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kubeclient::Error> {
//! let inferred = kubeclient::config::infer(None)?; // config's error
//! let rest = kubeclient::rest::RestClient::new(&inferred.config)?; // rest's error
//! let factory = kubeclient::cache::SharedInformerFactory::new(rest);
//! factory.start()?; // cache's error
//! # Ok(()) }
//! ```

use crate::rest::ApiError;

/// Any error of kubeclient.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A kubeconfig could not be loaded, merged or resolved.
    #[error(transparent)]
    Kubeconfig(#[from] crate::config::KubeconfigError),
    /// A configuration could not become a client configuration.
    #[error(transparent)]
    Config(#[from] crate::config::RestConfigError),
    /// A request failed.
    #[error(transparent)]
    Rest(#[from] crate::rest::Error),
    /// Discovery failed.
    #[error(transparent)]
    Discovery(#[from] crate::discovery::Error),
    /// An informer, reflector or cache operation failed.
    #[error(transparent)]
    Cache(#[from] crate::cache::Error),
    /// Leader election failed.
    #[error(transparent)]
    LeaderElection(#[from] crate::leaderelection::Error),
    /// The event recorder could not be set up or stopped.
    #[error(transparent)]
    Record(#[from] crate::record::Error),
    /// A label selector could not be parsed.
    #[error(transparent)]
    LabelSelector(#[from] kubeclient_core::labels::ParseError),
}

/// A malformed group version (from the wire layer) is a discovery error.
impl From<kubeclient_core::discovery::InvalidGroupVersion> for Error {
    fn from(e: kubeclient_core::discovery::InvalidGroupVersion) -> Self {
        Error::Discovery(e.into())
    }
}

/// Incomplete discovery (from the wire layer) is a discovery error.
impl From<kubeclient_core::discovery::GroupDiscoveryFailed> for Error {
    fn from(e: kubeclient_core::discovery::GroupDiscoveryFailed) -> Self {
        Error::Discovery(e.into())
    }
}

impl Error {
    /// The API server's refusal behind this error, if that is what it is (directly or through
    /// an informer).
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Rest(e) | Error::Cache(crate::cache::Error::Rest(e)) => e.api(),
            _ => None,
        }
    }

    /// 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.api().is_some_and(ApiError::is_not_found)
    }

    /// 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.api().is_some_and(ApiError::is_conflict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_selector(s: &str) -> Result<kubeclient_core::labels::Selector, Error> {
        Ok(kubeclient_core::labels::Selector::parse(s)?)
    }

    #[test]
    fn module_errors_convert_and_keep_their_message() {
        let err = parse_selector("a in (x").expect_err("unbalanced");
        assert!(matches!(err, Error::LabelSelector(_)));
        assert!(err.to_string().contains("a in (x"), "{err}");
        let cache: Error = crate::cache::Error::AlreadyStarted.into();
        assert_eq!(cache.to_string(), "the informer has already started");
        assert!(cache.api().is_none() && !cache.is_not_found());
        let gv = || -> Result<(), Error> {
            crate::discovery::GroupVersion::parse("a/b/c")?;
            Ok(())
        };
        let err = gv().expect_err("three parts");
        assert!(matches!(err, Error::Discovery(_)), "{err:?}");
        assert!(err.to_string().contains("\"a/b/c\""), "{err}");
    }
}
