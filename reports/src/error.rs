//! The one error type of the reports crate: every variant names the file (or thing) that is
//! wrong and, where it helps, how to fix it. The binary maps all of them to exit code 2.

use std::path::PathBuf;

use crate::histogram::HistogramError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A run file that is not JSON, is truncated, or lacks fields of a run result.
    #[error(
        "{}: not a valid napkin run result ({source}); pass a file written by `napkin load --out` or `napkin merge`",
        path.display()
    )]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A run file of a format version this napkin does not read.
    #[error(
        "{}: unsupported run format {found:?}; this napkin reads {expected:?} (re-run `napkin load` with this version)",
        path.display()
    )]
    Format {
        path: PathBuf,
        found: String,
        expected: &'static str,
    },
    /// An embedded histogram that does not decode or encode.
    #[error("{context}: {source}")]
    Histogram {
        context: String,
        #[source]
        source: HistogramError,
    },
    /// Anything else that is wrong with the input, fully described.
    #[error("{0}")]
    Invalid(String),
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }

    /// A histogram error with what it belongs to, e.g. `run.json: actions.post_tweet.histogram`.
    pub fn histogram(context: impl Into<String>, source: HistogramError) -> Self {
        ReportError::Histogram {
            context: context.into(),
            source,
        }
    }
}
