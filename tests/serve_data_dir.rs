//! Bad input to `napkin serve --data-dir` (issue 12), each through the real binary: exit 2
//! with a message and nothing in the directory changed; and a full disk (a small tmpfs, as
//! root) answered with a 503 JSON error while the server stays up and acknowledges nothing
//! it did not store.

mod serve_support;

use std::path::{Path, PathBuf};

use serve_support::{mount_tmpfs, run_napkin, serve, try_serve, umount};

/// Unmounts a tmpfs when the test ends, however it ends.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        umount(&self.0);
    }
}

fn refused(args: &[&str], hint: &str) -> String {
    let Err((code, stderr)) = try_serve(args) else {
        panic!("serve {args:?} started; expected exit 2 ({hint})");
    };
    assert_eq!(code, Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(hint), "{args:?}: {stderr:?} lacks {hint:?}");
    stderr
}

/// A small store made by a server that was then stopped cleanly.
fn made_store(dir: &Path) -> String {
    let data = dir.join("store").display().to_string();
    let server = serve(&[
        "--data-dir",
        &data,
        "--seed-users",
        "20",
        "--seed-tweets",
        "2",
    ]);
    let (status, _) = server
        .client()
        .send("POST", "/tweets", r#"{"user_id":1,"text":"kept"}"#)
        .unwrap();
    assert_eq!(status, 201);
    server.stop();
    data
}

fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "LOCK")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_file_a_foreign_dir_and_an_unwritable_dir_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    refused(
        &["--data-dir", file.to_str().unwrap()],
        "is not a directory",
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"x");

    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    refused(
        &["--data-dir", foreign.to_str().unwrap()],
        "not part of a napkin store",
    );
    let left: Vec<_> = std::fs::read_dir(&foreign)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left,
        ["notes.txt"],
        "nothing may be added to a foreign directory"
    );

    let ro = dir.path().join("read-only");
    let _guard = if mount_tmpfs(&ro, "1m", ",ro") {
        Some(Mounted(ro.clone()))
    } else {
        // Not root: permissions are enough.
        std::fs::create_dir_all(&ro).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o500)).unwrap();
        None
    };
    refused(&["--data-dir", ro.to_str().unwrap()], "is not writable");
    refused(
        &["--data-dir", ro.join("sub").to_str().unwrap()],
        "cannot be created",
    );
}

#[test]
fn an_incompatible_or_corrupt_store_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = made_store(dir.path());
    let db = Path::new(&data).join("napkin.sqlite");
    assert!(
        !Path::new(&data).join("napkin.sqlite-wal").exists(),
        "a clean stop checkpoints the WAL"
    );
    let good = std::fs::read(&db).unwrap();

    // Store format 99 (SQLite's user_version, bytes 60..64 of the header).
    let mut newer = good.clone();
    newer[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(&db, &newer).unwrap();
    let before = files(&data);
    refused(
        &["--data-dir", &data],
        "incompatible napkin (store format 99",
    );
    assert_eq!(files(&data), before, "the incompatible store was changed");

    // Garbage over the second page: detected, not served.
    let mut broken = good.clone();
    for b in &mut broken[4096..8192] {
        *b = 0xA5;
    }
    std::fs::write(&db, &broken).unwrap();
    let before = files(&data);
    refused(&["--data-dir", &data], "is corrupt");
    assert_eq!(files(&data), before, "the corrupt store was changed");

    // Put right, it serves again, with the tweet it acknowledged.
    std::fs::write(&db, &good).unwrap();
    let server = serve(&["--data-dir", &data]);
    let (status, tweet) = server.client().get("/tweets/41");
    assert_eq!((status, tweet["text"].as_str()), (200, Some("kept")));
    server.stop();
}

#[test]
fn a_locked_store_a_reseed_and_bad_cache_sizes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = made_store(dir.path());
    let server = serve(&["--data-dir", &data]);
    let stderr = refused(
        &["--data-dir", &data],
        "is locked by another running napkin serve",
    );
    assert!(
        stderr.contains("LOCK") && stderr.contains("pid"),
        "{stderr}"
    );
    server.stop();
    refused(
        &["--data-dir", &data, "--seed-users", "5"],
        "seeding is refused",
    );
    for (size, hint) in [("0", "0 bytes"), ("lots", "not a size"), ("5s", "duration")] {
        let (code, stderr) = run_napkin(&["serve", "--data-dir", &data, "--cache-size", size]);
        assert_eq!(code, 2, "--cache-size {size}: {stderr}");
        assert!(stderr.contains(hint), "--cache-size {size}: {stderr}");
    }
    let (code, stderr) = run_napkin(&["serve", "--cache-size", "1MiB"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--data-dir"), "{stderr}");
}

#[test]
fn a_full_disk_is_a_503_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("small-disk");
    if !mount_tmpfs(&disk, "1m", "") {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CI runs as root)");
        return;
    }
    let _guard = Mounted(disk.clone());
    // Ballast to free later, so writes can succeed again without a restart.
    std::fs::write(disk.join("ballast"), vec![0u8; 256 * 1024]).unwrap();
    let data = disk.join("store").display().to_string();
    let server = serve(&[
        "--data-dir",
        &data,
        "--seed-users",
        "10",
        "--seed-tweets",
        "1",
    ]);
    let mut http = server.client();
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    for i in 0..2_000 {
        let text = format!("{i:03} {}", "x".repeat(270));
        let body = serde_json::json!({"user_id": 1, "text": text}).to_string();
        let (status, reply) = http.send("POST", "/tweets", &body).unwrap();
        match status {
            201 => acked.push(text),
            503 => {
                let err: serde_json::Value = serde_json::from_str(&reply).unwrap();
                let msg = err["error"].as_str().unwrap();
                assert!(
                    msg.contains("nothing was stored") && msg.contains("full"),
                    "{msg}"
                );
                refused.push(text);
                if refused.len() == 3 {
                    break;
                }
            }
            other => panic!("POST answered {other}: {reply}"),
        }
    }
    assert!(
        !refused.is_empty(),
        "the disk never filled ({} tweets)",
        acked.len()
    );
    eprintln!(
        "disk full after {} tweets; {} refused",
        acked.len(),
        refused.len()
    );
    assert_eq!(http.get("/healthz").0, 200, "the server went down");
    assert_eq!(http.get("/users/1/tweets?limit=1").0, 200);
    // Space again: the next write commits on the same server.
    std::fs::remove_file(disk.join("ballast")).unwrap();
    let (status, reply) = http
        .send("POST", "/tweets", r#"{"user_id":1,"text":"after"}"#)
        .unwrap();
    assert_eq!(status, 201, "{reply}");
    acked.push("after".into());
    server.kill9();
    // Restarted, the store holds exactly what was acknowledged.
    let server = serve(&["--data-dir", &data]);
    let mut http = server.client();
    let (_, page) = http.get("/users/1/tweets?limit=200");
    let mut texts: Vec<String> = page["tweets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap().to_owned())
        .filter(|t| acked.contains(t) || refused.contains(t))
        .collect();
    texts.reverse();
    assert_eq!(
        texts, acked,
        "acknowledged tweets lost, or a refused one stored"
    );
    server.stop();
}
