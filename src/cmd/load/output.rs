//! Where `napkin load`'s results go, made safe for real use: output paths are checked before
//! the run starts (a typo in `--out` must not cost a 30-minute run), and the human-readable
//! output tolerates a reader that went away (`napkin load ... | head -3`): the run, its files
//! and its exit code do not depend on anyone reading stdout or stderr.

use std::io::{ErrorKind, Write};
use std::path::Path;

use anyhow::bail;

/// Fails (bad input, exit 2) unless `path` can be created: its directory exists and is a
/// directory, and `path` itself is not a directory. `flag` names the option in the message.
pub fn check_writable(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!(
            "cannot write {}: it is a directory; give {flag} a file name, e.g. {}",
            path.display(),
            path.join("run.json").display()
        );
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!(
            "cannot write {}: {} is not a directory; fix the {flag} path",
            path.display(),
            dir.display()
        ),
        Err(_) => bail!(
            "cannot write {}: directory {} does not exist; create it (mkdir -p {}) or fix the \
             {flag} path",
            path.display(),
            dir.display(),
            dir.display()
        ),
    }
}

/// A writer that treats a closed reader (`EPIPE`) as "nobody is listening": the write
/// succeeds and everything after it is dropped. Other errors are passed on.
pub struct Tolerant<'a> {
    inner: &'a mut dyn Write,
    closed: bool,
}

impl<'a> Tolerant<'a> {
    pub fn new(inner: &'a mut dyn Write) -> Tolerant<'a> {
        Tolerant {
            inner,
            closed: false,
        }
    }

    fn absorb<T>(&mut self, r: std::io::Result<T>, ok: T) -> std::io::Result<T> {
        match r {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(ok)
            }
            other => other,
        }
    }
}

impl Write for Tolerant<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.absorb(r, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.absorb(r, ())
    }
}

/// A note on stderr (never a panic when stderr is closed, unlike `eprintln!`).
pub fn note(text: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
