//! The durable store on SQLite (rusqlite, bundled): schema, the format check on open, loading
//! the in-memory indexes at start, seeding a new store in one transaction, point reads of
//! tweets, and applying one group of writes in one transaction.
//!
//! WAL journal with `synchronous=FULL`: a commit returns once its WAL frames are fsynced, and
//! recovery after a crash keeps exactly the committed transactions (torn frames at the tail
//! fail their checksums and are dropped). Chosen by measurement: bench/store-pick.sh.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::ServerError;

/// `PRAGMA application_id` of a napkin store ("napk").
const APPLICATION_ID: i64 = 0x6E61_706B;
/// `PRAGMA user_version`: the store format this napkin reads and writes.
pub(crate) const FORMAT: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE follows (follower INTEGER NOT NULL, followee INTEGER NOT NULL,
                      PRIMARY KEY (follower, followee)) WITHOUT ROWID;
CREATE TABLE tweets (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL,
                     created_ms INTEGER NOT NULL, text TEXT NOT NULL);
CREATE TABLE likes (tweet_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                    PRIMARY KEY (tweet_id, user_id)) WITHOUT ROWID;
";

/// One write, as the writer thread applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Write {
    User {
        id: u32,
        name: String,
    },
    Follow {
        follower: u32,
        followee: u32,
    },
    Unfollow {
        follower: u32,
        followee: u32,
    },
    Tweet {
        id: u32,
        author: u32,
        created_ms: u64,
        text: String,
    },
    Like {
        tweet: u32,
        user: u32,
    },
}

impl Write {
    /// The object kind, for the bytes-written metric.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Write::User { .. } => "user",
            Write::Follow { .. } | Write::Unfollow { .. } => "follow",
            Write::Tweet { .. } => "tweet",
            Write::Like { .. } => "like",
        }
    }

    /// Bytes of the row's fields (ids as 8-byte integers): the logical size of the write.
    pub(crate) fn logical_bytes(&self) -> u64 {
        match self {
            Write::User { name, .. } => 8 + name.len() as u64,
            Write::Follow { .. } | Write::Unfollow { .. } | Write::Like { .. } => 16,
            Write::Tweet { text, .. } => 24 + text.len() as u64,
        }
    }
}

fn store_err(path: &Path, what: &str, e: rusqlite::Error) -> ServerError {
    ServerError::Store(format!("{}: {what}: {e}", path.display()))
}

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> ServerError {
    ServerError::DataDir(format!(
        "{} is corrupt ({detail}); it is not served. Restore it from a backup or give another --data-dir",
        path.display()
    ))
}

/// Pragmas of every connection: WAL, full sync, a wait instead of SQLITE_BUSY.
fn tune(conn: &Connection, path: &Path) -> Result<(), ServerError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| store_err(path, "set busy timeout", e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .and_then(|()| conn.pragma_update(None, "synchronous", "FULL"))
        .map_err(|e| store_err(path, "set WAL mode", e))
}

/// Opens the store file for writing: refuses foreign, newer or corrupt files without writing
/// to them; returns whether the store is new (no committed schema yet).
pub(crate) fn open_writer(path: &Path) -> Result<(Connection, bool), ServerError> {
    let conn = Connection::open(path).map_err(|e| corrupt(path, e))?;
    let read = |pragma: &str| -> Result<i64, ServerError> {
        conn.pragma_query_value(None, pragma, |r| r.get(0))
            .map_err(|e| corrupt(path, format!("not a readable SQLite database: {e}")))
    };
    let (app, version) = (read("application_id")?, read("user_version")?);
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| corrupt(path, e))?;
    let is_new = app == 0 && version == 0 && tables == 0;
    if !is_new && app != APPLICATION_ID {
        return Err(ServerError::DataDir(format!(
            "{} is not a napkin store (application id {app:#x}); nothing was changed. Give an \
             empty --data-dir or one written by `napkin serve --data-dir`",
            path.display()
        )));
    }
    if !is_new && version != FORMAT {
        return Err(ServerError::DataDir(format!(
            "{} was written by an incompatible napkin (store format {version}; this napkin \
             reads format {FORMAT}); nothing was changed. Use the napkin that wrote it, or give \
             another --data-dir",
            path.display()
        )));
    }
    tune(&conn, path)?;
    if !is_new {
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| corrupt(path, e))?;
        if check != "ok" {
            return Err(corrupt(path, check));
        }
    }
    Ok((conn, is_new))
}

/// A read-only connection for point reads beside the writer (WAL readers never block it).
pub(crate) fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Seeded or restored contents, handed to the loader in one pass per table.
pub(crate) trait Sink {
    fn user(&mut self, id: u32, name: &str) -> Result<(), String>;
    fn follow(&mut self, follower: u32, followee: u32) -> Result<(), String>;
    fn tweet(&mut self, id: u32, author: u32) -> Result<(), String>;
    fn likes(&mut self, tweet: u32, count: u32) -> Result<(), String>;
}

fn id(v: i64) -> Result<u32, String> {
    u32::try_from(v)
        .ok()
        .filter(|&x| x > 0)
        .ok_or(format!("bad id {v}"))
}

/// Streams every table into `sink`, in key order (users, follows by follower, tweets by id,
/// like counts by tweet). A row that breaks an invariant is reported as corruption.
pub(crate) fn load(conn: &Connection, path: &Path, sink: &mut dyn Sink) -> Result<(), ServerError> {
    let fail = |e: String| corrupt(path, e);
    let sql_fail = |e: rusqlite::Error| store_err(path, "read the store", e);
    let mut st = conn
        .prepare("SELECT id, name FROM users ORDER BY id")
        .map_err(sql_fail)?;
    let mut rows = st.query([]).map_err(sql_fail)?;
    while let Some(r) = rows.next().map_err(sql_fail)? {
        let name: String = r.get(1).map_err(sql_fail)?;
        sink.user(id(r.get(0).map_err(sql_fail)?).map_err(fail)?, &name)
            .map_err(fail)?;
    }
    let mut st = conn
        .prepare("SELECT follower, followee FROM follows ORDER BY follower, followee")
        .map_err(sql_fail)?;
    let mut rows = st.query([]).map_err(sql_fail)?;
    while let Some(r) = rows.next().map_err(sql_fail)? {
        let (a, b) = (
            id(r.get(0).map_err(sql_fail)?),
            id(r.get(1).map_err(sql_fail)?),
        );
        sink.follow(a.map_err(fail)?, b.map_err(fail)?)
            .map_err(fail)?;
    }
    let mut st = conn
        .prepare("SELECT id, user_id FROM tweets ORDER BY id")
        .map_err(sql_fail)?;
    let mut rows = st.query([]).map_err(sql_fail)?;
    while let Some(r) = rows.next().map_err(sql_fail)? {
        let (t, u) = (
            id(r.get(0).map_err(sql_fail)?),
            id(r.get(1).map_err(sql_fail)?),
        );
        sink.tweet(t.map_err(fail)?, u.map_err(fail)?)
            .map_err(fail)?;
    }
    let mut st = conn
        .prepare("SELECT tweet_id, count(*) FROM likes GROUP BY tweet_id ORDER BY tweet_id")
        .map_err(sql_fail)?;
    let mut rows = st.query([]).map_err(sql_fail)?;
    while let Some(r) = rows.next().map_err(sql_fail)? {
        let t = id(r.get(0).map_err(sql_fail)?).map_err(fail)?;
        let n: i64 = r.get(1).map_err(sql_fail)?;
        sink.likes(t, u32::try_from(n).unwrap_or(u32::MAX))
            .map_err(fail)?;
    }
    Ok(())
}

/// Creates the schema and writes `rows` into a new store in one transaction: a seed is
/// either complete or absent (a crash while seeding leaves a new, empty store).
pub(crate) fn seed(
    conn: &mut Connection,
    path: &Path,
    rows: impl Iterator<Item = Write>,
) -> Result<(), ServerError> {
    let tx = conn
        .transaction()
        .map_err(|e| store_err(path, "begin the seed", e))?;
    tx.execute_batch(SCHEMA)
        .map_err(|e| store_err(path, "create the schema", e))?;
    for w in rows {
        apply(&tx, &w).map_err(|e| store_err(path, "write the seed", e))?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .and_then(|()| tx.pragma_update(None, "user_version", FORMAT))
        .map_err(|e| store_err(path, "mark the store", e))?;
    tx.commit()
        .map_err(|e| store_err(path, "commit the seed", e))
}

/// Applies one write inside a transaction; returns whether it changed the store (a repeated
/// follow or like changes nothing).
pub(crate) fn apply(tx: &Connection, w: &Write) -> rusqlite::Result<bool> {
    let changed = match w {
        Write::User { id, name } => tx
            .prepare_cached("INSERT INTO users (id, name) VALUES (?1, ?2)")?
            .execute(params![id, name])?,
        Write::Follow { follower, followee } => tx
            .prepare_cached("INSERT OR IGNORE INTO follows (follower, followee) VALUES (?1, ?2)")?
            .execute(params![follower, followee])?,
        Write::Unfollow { follower, followee } => tx
            .prepare_cached("DELETE FROM follows WHERE follower = ?1 AND followee = ?2")?
            .execute(params![follower, followee])?,
        Write::Tweet {
            id,
            author,
            created_ms,
            text,
        } => tx
            .prepare_cached(
                "INSERT INTO tweets (id, user_id, created_ms, text) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, author, created_ms, text])?,
        Write::Like { tweet, user } => tx
            .prepare_cached("INSERT OR IGNORE INTO likes (tweet_id, user_id) VALUES (?1, ?2)")?
            .execute(params![tweet, user])?,
    };
    Ok(changed > 0)
}

/// Commits `writes` in one transaction; `changed[i]` says whether write i changed the store.
pub(crate) fn commit(conn: &mut Connection, writes: &[Write]) -> rusqlite::Result<Vec<bool>> {
    let tx = conn.transaction()?;
    let mut changed = Vec::with_capacity(writes.len());
    for w in writes {
        changed.push(apply(&tx, w)?);
    }
    tx.commit()?;
    Ok(changed)
}

/// A stored tweet's fields: (author, created_ms, text).
pub(crate) fn read_tweet(
    conn: &Connection,
    tid: u32,
) -> rusqlite::Result<Option<(u32, u64, String)>> {
    conn.prepare_cached("SELECT user_id, created_ms, text FROM tweets WHERE id = ?1")?
        .query_row([tid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}
