//! Measures the candidate embedded stores on the server's own write and restart patterns:
//! durable single-row commits (`--fsync always`), 64-row group commits (`--fsync batch`),
//! bytes written per tweet, restart (reopen + full scan) time, and what a full disk does to a
//! commit and to the commits after space is freed. Usage: store-pick DIR [ROWS] [FULL_DIR].

use std::path::{Path, PathBuf};
use std::time::Instant;

const TEXT: &str = "Shipping a new feature today. Capacity planning first, load test second, coffee third. Latency is a distribution, not!";

fn row(id: u64) -> (u64, Vec<u8>) {
    let mut v = Vec::with_capacity(160);
    v.extend_from_slice(&((id % 10_000) as u32 + 1).to_le_bytes());
    v.extend_from_slice(&(1_700_000_000_000 + id).to_le_bytes());
    v.extend_from_slice(TEXT.as_bytes());
    (id, v)
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// One candidate: open a directory, commit rows durably, count rows.
trait Engine {
    fn commit(&mut self, rows: &[(u64, Vec<u8>)]) -> Res<()>;
    fn count(&mut self) -> Res<u64>;
}

struct Fjall(fjall::Keyspace, fjall::PartitionHandle);
impl Fjall {
    fn open(dir: &Path) -> Res<Fjall> {
        let ks = fjall::Config::new(dir).open()?;
        let p = ks.open_partition("tweets", fjall::PartitionCreateOptions::default())?;
        Ok(Fjall(ks, p))
    }
}
impl Engine for Fjall {
    fn commit(&mut self, rows: &[(u64, Vec<u8>)]) -> Res<()> {
        let mut b = self.0.batch();
        for (k, v) in rows {
            b.insert(&self.1, k.to_be_bytes(), v.as_slice());
        }
        b.commit()?;
        self.0.persist(fjall::PersistMode::SyncAll)?;
        Ok(())
    }
    fn count(&mut self) -> Res<u64> {
        let mut n = 0;
        for kv in self.1.iter() {
            let (_, v) = kv?;
            n += u64::from(v.len() > 0);
        }
        Ok(n)
    }
}

const T: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("tweets");
struct Redb(redb::Database);
impl Redb {
    fn open(dir: &Path) -> Res<Redb> {
        Ok(Redb(redb::Database::create(dir.join("db.redb"))?))
    }
}
impl Engine for Redb {
    fn commit(&mut self, rows: &[(u64, Vec<u8>)]) -> Res<()> {
        let tx = self.0.begin_write()?;
        {
            let mut t = tx.open_table(T)?;
            for (k, v) in rows {
                t.insert(*k, v.as_slice())?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn count(&mut self) -> Res<u64> {
        use redb::{ReadableTable, ReadableTableMetadata};
        let tx = self.0.begin_read()?;
        let t = tx.open_table(T)?;
        let mut n = 0;
        for kv in t.iter()? {
            let (_, v) = kv?;
            n += u64::from(!v.value().is_empty());
        }
        assert_eq!(n, t.len()?);
        Ok(n)
    }
}

struct Sqlite(rusqlite::Connection);
impl Sqlite {
    fn open(dir: &Path) -> Res<Sqlite> {
        let c = rusqlite::Connection::open(dir.join("db.sqlite"))?;
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "FULL")?;
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS tweets (id INTEGER PRIMARY KEY, v BLOB NOT NULL)",
        )?;
        Ok(Sqlite(c))
    }
}
impl Engine for Sqlite {
    fn commit(&mut self, rows: &[(u64, Vec<u8>)]) -> Res<()> {
        let tx = self.0.transaction()?;
        {
            let mut st =
                tx.prepare_cached("INSERT OR REPLACE INTO tweets (id, v) VALUES (?1, ?2)")?;
            for (k, v) in rows {
                st.execute(rusqlite::params![*k as i64, v])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
    fn count(&mut self) -> Res<u64> {
        let mut st = self.0.prepare("SELECT id, v FROM tweets")?;
        let mut rows = st.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let v: Vec<u8> = r.get(1)?;
            n += u64::from(!v.is_empty());
        }
        Ok(n)
    }
}

fn open(name: &str, dir: &Path) -> Res<Box<dyn Engine>> {
    std::fs::create_dir_all(dir)?;
    Ok(match name {
        "fjall" => Box::new(Fjall::open(dir)?),
        "redb" => Box::new(Redb::open(dir)?),
        _ => Box::new(Sqlite::open(dir)?),
    })
}

/// (bytes written to storage, bytes passed to write calls) by this process so far.
fn io() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.trim().parse().ok())
            .unwrap_or(0)
    };
    (get("write_bytes:"), get("wchar:"))
}

fn du(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => du(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn measure(name: &str, base: &Path, rows: u64) -> Res<()> {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let mut e = open(name, &dir)?;
    let mut id = 0u64;
    let mut next = |n: u64| -> Vec<(u64, Vec<u8>)> {
        (0..n)
            .map(|_| {
                id += 1;
                row(id)
            })
            .collect()
    };
    // --fsync always: one durable commit per tweet.
    let (n_always, started) = (500u64, Instant::now());
    for _ in 0..n_always {
        e.commit(&next(1))?;
    }
    let always = n_always as f64 / started.elapsed().as_secs_f64();
    // --fsync batch: 64 tweets per durable commit (64 concurrent clients).
    let (n_batch, started) = (300u64, Instant::now());
    for _ in 0..n_batch {
        e.commit(&next(64))?;
    }
    let batch = (n_batch * 64) as f64 / started.elapsed().as_secs_f64();
    // Bulk: the rest in 64-row commits, bytes written per tweet.
    let done = n_always + n_batch * 64;
    let (w0, c0) = io();
    let started = Instant::now();
    let mut left = rows.saturating_sub(done);
    while left > 0 {
        let n = left.min(64);
        e.commit(&next(n))?;
        left -= n;
    }
    let bulk_s = started.elapsed().as_secs_f64();
    let (w1, c1) = io();
    let per = (rows - done).max(1) as f64;
    drop(e);
    let size = du(&dir);
    let started = Instant::now();
    let mut e = open(name, &dir)?;
    let count = e.count()?;
    let reopen = started.elapsed().as_secs_f64();
    assert_eq!(count, rows, "{name} lost rows");
    println!(
        "{name:7} {always:>9.0} {batch:>10.0} {:>10.0} {:>10.0} {:>10.0} {:>9.1} {reopen:>9.2} {:>8.0}",
        (rows - done) as f64 / bulk_s,
        (w1 - w0) as f64 / per,
        (c1 - c0) as f64 / per,
        size as f64 / rows as f64,
        size as f64 / 1048576.0,
    );
    Ok(())
}

/// Fills a small file system: the first failing commit, then frees the ballast and commits
/// again on the same handle, then reopens and checks every acknowledged row is there.
fn full_disk(name: &str, full: &Path) -> String {
    let dir = full.join(name);
    let ballast = full.join(format!("{name}.ballast"));
    let _ = std::fs::write(&ballast, vec![1u8; 2 << 20]);
    let mut e = match open(name, &dir) {
        Ok(e) => e,
        Err(err) => return format!("open failed: {err}"),
    };
    let (mut acked, mut id) = (0u64, 0u64);
    let failure = loop {
        let rows: Vec<_> = (0..64)
            .map(|_| {
                id += 1;
                row(id)
            })
            .collect();
        match e.commit(&rows) {
            Ok(()) => acked += 64,
            Err(err) => break err.to_string(),
        }
        if id > 10_000_000 {
            break "never failed".into();
        }
    };
    let _ = std::fs::remove_file(&ballast);
    let rows: Vec<_> = (0..64)
        .map(|_| {
            id += 1;
            row(id)
        })
        .collect();
    let after = match e.commit(&rows) {
        Ok(()) => {
            acked += 64;
            "recovers".to_string()
        }
        Err(err) => format!("still fails ({err})"),
    };
    drop(e);
    let check = match open(name, &dir).and_then(|mut e| e.count()) {
        Ok(n) if n >= acked => format!("reopen ok, {n} rows >= {acked} acked"),
        Ok(n) => format!("LOST ROWS: {n} < {acked} acked"),
        Err(err) => format!("reopen failed: {err}"),
    };
    let _ = std::fs::remove_dir_all(&dir);
    format!("{name:7} full at {acked} rows: {failure}; after freeing space: {after}; {check}")
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let base = PathBuf::from(args.get(1).map_or("/tmp/store-pick", String::as_str));
    let rows: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let engines = ["fjall", "redb", "sqlite"];
    println!(
        "engine  always/s  batch64/s     bulk/s  wbytes/tw  wchar/tw  disk B/tw reopen_s  disk_MiB"
    );
    for name in engines {
        measure(name, &base, rows)?;
    }
    if let Some(full) = args.get(3) {
        for name in engines {
            println!("{}", full_disk(name, Path::new(full)));
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    Ok(())
}
