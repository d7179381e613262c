//! The error type of every fallible convkit API.
//!
//! Blocks document their shape contracts and check them with [`crate::check`]; everything a
//! user feeds from outside (files, weights, device names, model inputs at the model level)
//! comes back as an [`Error`] that names the problem, never as a panic.

use std::path::PathBuf;

/// Result alias used across convkit.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in convkit, with enough context to act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A tensor handed to a block or model has the wrong rank or size.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which input (e.g. `SmallCnn input`).
        what: String,
        /// The expected shape, `_` for any size (e.g. `[_, 3, >=8, >=8]`).
        expected: String,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// An argument or configuration value is out of its valid range.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The argument or setting.
        what: String,
        /// Why it is invalid and what is accepted.
        reason: String,
    },
    /// A device string could not be parsed or the device cannot be used.
    #[error("device `{spec}`: {reason}")]
    Device {
        /// What the user asked for.
        spec: String,
        /// Why it is unavailable (not compiled in, no adapter, bad syntax).
        reason: String,
    },
    /// Weights could not be loaded into a module.
    #[error("loading weights from {}: {report}", path.display())]
    Weights {
        /// The weight file.
        path: PathBuf,
        /// What did not match.
        report: Box<crate::weights::WeightReport>,
    },
    /// A file could not be read or has the wrong format.
    #[error("{}: {reason}", path.display())]
    File {
        /// The offending file.
        path: PathBuf,
        /// What was wrong, including the position in the file where one applies.
        reason: String,
    },
    /// An I/O error on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A planned allocation sized from user input exceeds the [`crate::MemoryBudget`].
    #[error(
        "{what} needs {}, more than the memory limit of {} (raise it with --memory-limit or ${})",
        crate::budget::Size(*needs),
        crate::budget::Size(*limit),
        crate::MemoryBudget::ENV
    )]
    Memory {
        /// What would be held (e.g. `16 images of 8000x8000`).
        what: String,
        /// The bytes it needs.
        needs: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A tap visitor replaced an activation with a tensor of another kind, rank or shape.
    #[error("tap `{site}`: replacement must keep {expected}, got {got}")]
    TapReplace {
        /// The tap site's path.
        site: String,
        /// What the original value was.
        expected: String,
        /// What the replacement was.
        got: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// The same error about `what`: an [`Error::Invalid`] names `what` as its subject (a
    /// parser's generic name replaced by the flag or variable the text came from); other
    /// errors are unchanged.
    pub fn about(self, what: impl Into<String>) -> Self {
        match self {
            Self::Invalid { reason, .. } => Self::invalid(what, reason),
            e => e,
        }
    }

    /// Shorthand for [`Error::File`].
    pub fn file(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::File {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
