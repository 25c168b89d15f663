//! Reading run files (with the format-version check every command needs) and writing output
//! files atomically: a temp file beside the target, renamed into place only when complete, so a
//! failed command never leaves a partial file.

use std::io::Write;
use std::path::Path;

use crate::error::ReportError;
use crate::run::{RunResult, RUN_FORMAT};

/// Reads and checks a run file: JSON of a [`RunResult`] whose `format` is [`RUN_FORMAT`].
pub fn read_run(path: &Path) -> Result<RunResult, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    parse_run(path, &text)
}

/// [`read_run`] on text already read; `path` is only used in messages.
pub fn parse_run(path: &Path, text: &str) -> Result<RunResult, ReportError> {
    // Check the version first so that a future format gets a version message, not a field one.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|source| ReportError::Json {
            path: path.into(),
            source,
        })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(RUN_FORMAT) => {}
        other => {
            return Err(ReportError::Format {
                path: path.into(),
                found: other.unwrap_or("<missing>").to_string(),
                expected: RUN_FORMAT,
            })
        }
    }
    serde_json::from_value(value).map_err(|source| ReportError::Json {
        path: path.into(),
        source,
    })
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.flush())
        .map_err(|e| ReportError::io(path, e))?;
    tmp.persist(path)
        .map_err(|e| ReportError::io(path, e.error))?;
    Ok(())
}

/// A temp file in the directory of `path` (deleted on drop unless persisted), created with
/// the permissions of a normal new file.
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, ReportError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".napkin-").suffix(".tmp");
    // Outputs are ordinary files (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| ReportError::io(path, e))
}
