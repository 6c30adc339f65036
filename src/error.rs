//! The crate-wide error type. Each stage of the pipeline has its own error enum; this one wraps
//! them so that library users can match on one type.

use std::path::PathBuf;

/// Everything that can go wrong in strass.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scheme file or scheme value is malformed or invalid.
    #[error(transparent)]
    Scheme(#[from] crate::scheme::SchemeError),
    /// A matrix product was called with bad shapes, strides, options or could not allocate.
    #[error(transparent)]
    Kernel(#[from] crate::kernel::KernelError),
    /// Training or a study failed to run (not: a run that ended without an exact scheme).
    #[cfg(feature = "cli")]
    #[error(transparent)]
    Train(#[from] crate::train::TrainError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A command-line option or configuration value is invalid.
    #[error("{0}")]
    Config(String),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
