//! The one error type of the reports crate: every variant names the file (or thing) that is
//! wrong and, where it helps, how to fix it. The binary maps all of them to exit code 2.
//!
//! Each message is complete in its `Display`; no variant also returns its cause as `source()`,
//! because the binary prints the whole chain (`{err:#}`) and the cause would appear twice.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::histogram::HistogramError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("{}", describe_io(path, *op, err))]
    Io {
        path: PathBuf,
        op: IoOp,
        err: std::io::Error,
    },
    /// An output file whose directory does not exist.
    #[error(
        "cannot write {}: directory {} does not exist; create it (mkdir -p {}) or fix the path",
        path.display(),
        dir.display(),
        dir.display()
    )]
    NoDirectory { path: PathBuf, dir: PathBuf },
    /// A run file that is not JSON at all (e.g. a scenario YAML passed by mistake).
    #[error(
        "{}: not JSON, so not a napkin run file ({err}); run files come from `napkin load --out` or `napkin merge`",
        path.display()
    )]
    NotJson {
        path: PathBuf,
        err: serde_json::Error,
    },
    /// A run file that is JSON but lacks fields of a run result (or is truncated).
    #[error(
        "{}: not a valid napkin run result ({err}); pass a file written by `napkin load --out` or `napkin merge`",
        path.display()
    )]
    Json {
        path: PathBuf,
        err: serde_json::Error,
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
    #[error("{context}: {err}")]
    Histogram {
        context: String,
        err: HistogramError,
    },
    /// Anything else that is wrong with the input, fully described.
    #[error("{0}")]
    Invalid(String),
}

/// What was being done to the file when an I/O error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoOp {
    Read,
    Write,
}

fn describe_io(path: &Path, op: IoOp, err: &std::io::Error) -> String {
    let path = path.display();
    match op {
        IoOp::Read => {
            let hint = match err.kind() {
                ErrorKind::NotFound => "; check the path",
                ErrorKind::PermissionDenied => "; check the file's permissions",
                _ => "",
            };
            format!("{path}: cannot read the file: {err}{hint}")
        }
        IoOp::Write => {
            let hint = match err.kind() {
                ErrorKind::PermissionDenied => "; check the directory's permissions",
                _ => "",
            };
            format!("cannot write {path}: {err}{hint}")
        }
    }
}

impl ReportError {
    /// An error reading `path`.
    pub fn read(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            op: IoOp::Read,
            err,
        }
    }

    /// An error writing `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            op: IoOp::Write,
            err,
        }
    }

    /// A histogram error with what it belongs to, e.g. `run.json: actions.post_tweet.histogram`.
    pub fn histogram(context: impl Into<String>, err: HistogramError) -> Self {
        ReportError::Histogram {
            context: context.into(),
            err,
        }
    }
}
