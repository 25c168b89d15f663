//! Reading run files (with the format-version check every command needs) and writing output
//! files atomically: a temp file beside the target, renamed into place only when complete, so a
//! failed command never leaves a partial file.

use std::io::Write;
use std::path::Path;

use crate::error::ReportError;
use crate::run::{RunResult, RUN_FORMAT};

/// Reads and checks a run file: JSON of a [`RunResult`] whose `format` is [`RUN_FORMAT`].
pub fn read_run(path: &Path) -> Result<RunResult, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::read(path, e))?;
    parse_run(path, &text)
}

/// [`read_run`] on text already read; `path` is only used in messages.
pub fn parse_run(path: &Path, text: &str) -> Result<RunResult, ReportError> {
    let value = versioned(path, text, RUN_FORMAT, "napkin run file", |found| {
        if found == crate::capacity::CAPACITY_FORMAT {
            return ReportError::Invalid(format!(
                "{}: a capacity result ({found}), not a run; `napkin report` renders it, while \
                 compare, check and merge take runs written by `napkin load --out`",
                path.display()
            ));
        }
        ReportError::Format {
            path: path.into(),
            found: found.to_string(),
            expected: RUN_FORMAT,
        }
    })?;
    serde_json::from_value(value).map_err(|err| ReportError::Json {
        path: path.into(),
        err,
    })
}

/// The JSON of a napkin file whose `format` must be `expected`: checked before the fields, so
/// that another format gets a format message, not a field one. `what` names the kind of file
/// (`napkin run file`) when the field is missing; `other` words a different format.
pub(crate) fn versioned(
    path: &Path,
    text: &str,
    expected: &str,
    what: &str,
    other: impl FnOnce(&str) -> ReportError,
) -> Result<serde_json::Value, ReportError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        if err.is_syntax() {
            ReportError::NotJson {
                path: path.into(),
                err,
            }
        } else {
            ReportError::Json {
                path: path.into(),
                err,
            }
        }
    })?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == expected => Ok(value),
        Some(found) => Err(other(found)),
        None => Err(ReportError::Invalid(format!(
            "{}: JSON but not a {what} (no \"format\": \"{expected}\" field); {}",
            path.display(),
            origin_of(what)
        ))),
    }
}

/// Where files of kind `what` come from, for messages.
fn origin_of(what: &str) -> &'static str {
    if what.contains("capacity") {
        "capacity results come from `napkin capacity --out`"
    } else {
        "run files come from `napkin load --out` or `napkin merge`"
    }
}

/// Writes `bytes` to `path` atomically (temp file in the same directory, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut out = OutputFile::create(path)?;
    out.write_all(bytes).map_err(|e| ReportError::io(path, e))?;
    out.commit()
}

/// An output file that appears whole or not at all: a temp file beside `path`, renamed over
/// it on [`OutputFile::commit`] (dropped uncommitted, it leaves nothing behind). A path that
/// already names something other than a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written in place instead: renaming over it would replace the device with a file.
#[derive(Debug)]
pub struct OutputFile {
    path: std::path::PathBuf,
    sink: Sink,
}

#[derive(Debug)]
enum Sink {
    Temp(tempfile::NamedTempFile),
    Special(std::fs::File),
}

impl OutputFile {
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        let special = std::fs::metadata(path).is_ok_and(|m| !m.is_file());
        let sink = if special {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| ReportError::io(path, e))?;
            Sink::Special(file)
        } else {
            Sink::Temp(temp_beside(path)?)
        };
        Ok(OutputFile {
            path: path.to_path_buf(),
            sink,
        })
    }

    /// Flushes the data to disk and moves the file into place.
    pub fn commit(self) -> Result<(), ReportError> {
        let path = self.path;
        match self.sink {
            Sink::Temp(tmp) => {
                tmp.as_file()
                    .sync_all()
                    .map_err(|e| ReportError::io(&path, e))?;
                tmp.persist(&path)
                    .map_err(|e| ReportError::io(&path, e.error))?;
            }
            Sink::Special(mut file) => file.flush().map_err(|e| ReportError::io(&path, e))?,
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Temp(tmp) => tmp.write(buf),
            Sink::Special(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Temp(tmp) => tmp.flush(),
            Sink::Special(file) => file.flush(),
        }
    }
}

/// A temp file in the directory of `path` (deleted on drop unless persisted), created with
/// the permissions of a normal new file. Errors name `path`, never the temp file.
pub(crate) fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, ReportError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(ReportError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
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
        .map_err(|e| ReportError::io(path, without_temp_path(e)))
}

/// tempfile's errors name the temp file (`... at path "/dir/.napkin-x.tmp"`) and return the
/// same cause again as their source; keep only the cause, which the target's name explains.
fn without_temp_path(e: std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::from(e.kind()),
    }
}
