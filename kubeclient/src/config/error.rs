//! [`KubeconfigError`]: everything that can go wrong reading, merging, resolving and writing
//! kubeconfigs. Every message names the file and the entry or field at fault, and none ever
//! contains a secret value.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong with a kubeconfig.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeconfigError {
    /// The file named explicitly (`--kubeconfig`) does not exist.
    #[error("kubeconfig {} (given explicitly) does not exist", .path.display())]
    ExplicitFileMissing {
        /// The file.
        path: PathBuf,
    },
    /// A kubeconfig file could not be read.
    #[error("reading kubeconfig {}: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A kubeconfig is not well-formed YAML or JSON.
    #[error("parsing kubeconfig {}{}: {message}", .path.display(), Position(*.line, *.column))]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line (1-based) of the error, when known.
        line: Option<u64>,
        /// The column (1-based) of the error, when known.
        column: Option<u64>,
        /// What the parser said.
        message: String,
    },
    /// A field of a kubeconfig has the wrong type or an invalid value.
    #[error("kubeconfig {}: {field}: {message}", .path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// Where: e.g. `users[1] ("alice").user.as-groups`.
        field: String,
        /// What is wrong with it (never the value itself).
        message: String,
    },
    /// The file declares an `apiVersion`/`kind` other than `v1`/`Config`.
    #[error(
        "kubeconfig {}: unsupported apiVersion {api_version:?} / kind {kind:?} (expected v1 / Config)",
        .path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The `apiVersion` found.
        api_version: String,
        /// The `kind` found.
        kind: String,
    },
    /// Two entries of one list in one file have the same name.
    #[error("kubeconfig {}: duplicate name {name:?} in {list}", .path.display())]
    DuplicateName {
        /// The file.
        path: PathBuf,
        /// The list: `clusters`, `users`, `contexts` or `extensions`.
        list: &'static str,
        /// The repeated name.
        name: String,
    },
    /// The chosen context does not exist.
    #[error("context {name:?} does not exist; {}", Available(.available))]
    ContextNotFound {
        /// The context asked for.
        name: String,
        /// The contexts that exist, sorted.
        available: Vec<String>,
    },
    /// A cluster named by the context (or by `--cluster`) does not exist.
    #[error("cluster {name:?}{} does not exist", Referrer(.context.as_deref(), .origin.as_deref()))]
    ClusterNotFound {
        /// The missing cluster.
        name: String,
        /// The context that names it (`None` when named by an override).
        context: Option<String>,
        /// The file of that context.
        origin: Option<PathBuf>,
    },
    /// A user named by the context (or by `--user`) does not exist.
    #[error("user {name:?}{} does not exist", Referrer(.context.as_deref(), .origin.as_deref()))]
    UserNotFound {
        /// The missing user.
        name: String,
        /// The context that names it (`None` when named by an override).
        context: Option<String>,
        /// The file of that context.
        origin: Option<PathBuf>,
    },
    /// Nothing says where the API server is.
    #[error(
        "invalid configuration: no configuration has been provided (no current context, and no --server)"
    )]
    EmptyConfig,
    /// The chosen cluster has no `server`.
    #[error("invalid configuration: no server found for cluster {cluster:?}{}", In(.origin.as_deref()))]
    NoServer {
        /// The cluster.
        cluster: String,
        /// Its file.
        origin: Option<PathBuf>,
    },
    /// `current-context` is needed (to minify, to show it) but not set.
    #[error("current-context is not set")]
    NoCurrentContext,
    /// Minifying needs a current context (kubectl's message).
    #[error("current-context must exist in order to minify")]
    MinifyWithoutCurrentContext,
    /// A file a kubeconfig entry refers to could not be read.
    #[error("reading {field} {} of {entry}{}: {source}", .path.display(), In(.origin.as_deref()))]
    ReadReferencedFile {
        /// The file referred to.
        path: PathBuf,
        /// The field: `certificate-authority`, `client-certificate` or `client-key`.
        field: &'static str,
        /// The entry, e.g. `cluster "prod"`.
        entry: String,
        /// The kubeconfig the entry came from.
        origin: Option<PathBuf>,
        /// Why.
        source: std::io::Error,
    },
    /// A kubeconfig could not be written.
    #[error("writing kubeconfig {}: {source}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another writer holds kubectl's lock on a kubeconfig file (its `.lock` file exists), so
    /// the file was left unchanged. As kubectl, kubeclient does not wait for it.
    #[error(
        "kubeconfig {} is locked: {} exists (another kubectl or kubeclient is changing it; if none is, remove the stale lock file)",
        .path.display(),
        .lock.display()
    )]
    Locked {
        /// The kubeconfig file.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// kubectl's lock on a kubeconfig file could not be created.
    #[error("locking kubeconfig {}: creating {}: {source}", .path.display(), .lock.display())]
    Lock {
        /// The kubeconfig file.
        path: PathBuf,
        /// Its lock file.
        lock: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A kubeconfig could not be serialized.
    #[error("serializing kubeconfig as {format}: {message}")]
    Serialize {
        /// `yaml` or `json`.
        format: &'static str,
        /// What the serializer said.
        message: String,
    },
    /// No file to write to: no `--kubeconfig`, no `KUBECONFIG` and no home directory.
    #[error("no kubeconfig file to write to (no --kubeconfig, KUBECONFIG or home directory)")]
    NoFileToWrite,
}

struct Position(Option<u64>, Option<u64>);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (Some(l), Some(c)) => write!(f, " at line {l} column {c}"),
            (Some(l), None) => write!(f, " at line {l}"),
            _ => Ok(()),
        }
    }
}

struct Available<'a>(&'a [String]);

impl fmt::Display for Available<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("no contexts are defined")
        } else {
            write!(f, "available contexts: {}", self.0.join(", "))
        }
    }
}

struct Referrer<'a>(Option<&'a str>, Option<&'a Path>);

impl fmt::Display for Referrer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ctx) => write!(f, " (named by context {ctx:?}{})", In(self.1)),
            None => f.write_str(" (named by an override)"),
        }
    }
}

struct In<'a>(Option<&'a Path>);

impl fmt::Display for In<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " in {}", p.display()),
            None => Ok(()),
        }
    }
}
