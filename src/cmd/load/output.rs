//! Where `napkin load`'s results go, made safe for real use: output paths are checked before
//! the run starts (a typo in `--out` must not cost a 30-minute run), and the human-readable
//! output tolerates a reader that went away (`napkin load ... | head -3`): the run, its files
//! and its exit code do not depend on anyone reading stdout or stderr.
//!
//! An output given as `-` (or `/dev/stdout`) goes to standard output, e.g. `--out -` for
//! collecting run results from container logs. At most one output may take standard output,
//! and when one does, everything meant for people goes to standard error instead, so standard
//! output carries that output and nothing else.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::bail;

/// Where an output flag points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`, `/dev/stdout`, `/dev/fd/1` or `/proc/self/fd/1`.
    Stdout,
    File(PathBuf),
}

impl Destination {
    pub fn of(path: &Path) -> Destination {
        match path.to_str() {
            Some("-" | "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => Destination::Stdout,
            _ => Destination::File(path.to_path_buf()),
        }
    }

    /// The path to open: standard output is written through `/dev/stdout`.
    pub fn path(&self) -> &Path {
        match self {
            Destination::Stdout => Path::new("/dev/stdout"),
            Destination::File(p) => p,
        }
    }
}

/// The outputs of a run, checked before it starts.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// `--out`: the run result.
    pub run: Option<Destination>,
    /// `--hlog`: the interval log.
    pub hlog: Option<Destination>,
}

impl Outputs {
    /// Checks every output (bad input, exit 2): files must be creatable, and at most one
    /// output may take standard output.
    pub fn check(run: Option<&Path>, hlog: Option<&Path>) -> anyhow::Result<Outputs> {
        let outputs = Outputs {
            run: run.map(Destination::of),
            hlog: hlog.map(Destination::of),
        };
        let flags = [("--out", &outputs.run), ("--hlog", &outputs.hlog)];
        let mut to_stdout = Vec::new();
        for (flag, dest) in flags {
            match dest {
                Some(Destination::File(path)) => check_writable(flag, path)?,
                Some(Destination::Stdout) => to_stdout.push(flag),
                None => {}
            }
        }
        if to_stdout.len() > 1 {
            bail!(
                "{} both write to standard output, which can carry only one of them; send the \
                 other to a file, e.g. --hlog run.hlog",
                to_stdout.join(" and ")
            );
        }
        Ok(outputs)
    }

    /// Whether an output takes standard output (then people's text goes to stderr).
    pub fn takes_stdout(&self) -> bool {
        [&self.run, &self.hlog]
            .iter()
            .any(|d| matches!(d, Some(Destination::Stdout)))
    }
}

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
