//! The `--data-dir` directory: checked before anything is written (a file, an unwritable
//! place, someone else's files, a store in use) and locked for the life of the server, so two
//! servers never write one store. The lock is an advisory `flock` on `DIR/LOCK`, released by
//! the kernel when the process dies, so a `kill -9` never leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::ServerError;

/// The store's database file inside the directory.
pub(crate) const DB_FILE: &str = "napkin.sqlite";
const LOCK_FILE: &str = "LOCK";
/// Every name a napkin store directory may hold (SQLite adds -wal, -shm and -journal files;
/// `lost+found` is there when the directory is the root of an ext file system).
const OURS: [&str; 6] = [
    LOCK_FILE,
    DB_FILE,
    "napkin.sqlite-wal",
    "napkin.sqlite-shm",
    "napkin.sqlite-journal",
    "lost+found",
];

/// A checked, locked data directory. Dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct DataDir {
    path: PathBuf,
    _lock: File,
}

fn bad(path: &Path, what: impl std::fmt::Display) -> ServerError {
    ServerError::DataDir(format!("--data-dir {}: {what}", path.display()))
}

impl DataDir {
    /// Creates the directory if missing, refuses files and foreign contents, takes the lock.
    pub(crate) fn open(path: &Path) -> Result<DataDir, ServerError> {
        if path.exists() && !path.is_dir() {
            return Err(bad(
                path,
                "is not a directory; give a new or empty directory",
            ));
        }
        std::fs::create_dir_all(path).map_err(|e| {
            bad(
                path,
                format!("cannot be created ({e}); give a writable place"),
            )
        })?;
        let entries =
            std::fs::read_dir(path).map_err(|e| bad(path, format!("cannot be read ({e})")))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !OURS.iter().any(|o| name == *o) {
                return Err(bad(
                    path,
                    format!(
                        "holds {:?}, which is not part of a napkin store; nothing was changed. \
                         Give an empty or new directory, or one written by `napkin serve --data-dir`",
                        name
                    ),
                ));
            }
        }
        let lock_path = path.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| {
                bad(
                    path,
                    format!("is not writable ({e}); give a writable directory"),
                )
            })?;
        let flags = rustix::fs::FlockOperation::NonBlockingLockExclusive;
        if let Err(e) = rustix::fs::flock(&lock, flags) {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            };
            return Err(bad(
                path,
                format!(
                    "is locked by another running napkin serve{who}: {} is held ({e}); stop \
                     that server or give another --data-dir",
                    lock_path.display()
                ),
            ));
        }
        let pid = std::process::id();
        let written = lock
            .set_len(0)
            .and_then(|()| lock.rewind())
            .and_then(|()| writeln!(lock, "{pid}"))
            .and_then(|()| lock.sync_all());
        written.map_err(|e| {
            bad(
                path,
                format!("is not writable ({e}); give a writable directory"),
            )
        })?;
        Ok(DataDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The database file.
    pub(crate) fn db_path(&self) -> PathBuf {
        self.path.join(DB_FILE)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
