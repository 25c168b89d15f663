//! The interval log is read back by the hdrhistogram crate's reader and by HdrHistogram's own
//! Java HistogramLogProcessor (Debian's libhdrhistogram-java). With env CI set, a missing java
//! fails the test instead of skipping it.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use reports::fixture::tail_histogram;
use reports::hlog::HlogWriter;

const JAR: &str = "/usr/share/java/hdrhistogram.jar";

fn write_log(path: &Path) -> Vec<(String, u64)> {
    let start = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
    let mut w = HlogWriter::create(path, start).unwrap();
    let mut written = Vec::new();
    for sec in 0..3u64 {
        for (tag, n, base) in [("post_tweet", 100 + sec, 800), ("view_timeline", 400, 300)] {
            let h = tail_histogram(n, base + sec * 100);
            w.write_interval(tag, sec as f64, 1.0, &h).unwrap();
            written.push((tag.to_string(), h.len()));
        }
    }
    assert!(!path.exists(), "nothing appears before finish");
    w.finish().unwrap();
    written
}

#[test]
fn header_is_java_log_format_1_3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    write_log(&path);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#[Histogram log format version 1.3]");
    assert!(
        lines[1].starts_with(
            "#[StartTime: 1700000000.250 (seconds since epoch), 2023-11-14T22:13:20.250Z]"
        ),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
    );
    assert!(
        lines[3].starts_with("Tag=post_tweet,0.000,1.000,"),
        "{}",
        lines[3]
    );
    assert!(lines[3].split(',').nth(4).unwrap().starts_with("HISTF"));
    assert_eq!(lines.len(), 3 + 6);
    // No temp file is left beside the log.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn rust_reader_decodes_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    let written = write_log(&path);
    let bytes = std::fs::read(&path).unwrap();
    let mut got = Vec::new();
    let mut start_time = None;
    for entry in IntervalLogIterator::new(&bytes) {
        match entry.unwrap() {
            LogEntry::StartTime(t) => start_time = Some(t),
            LogEntry::Interval(i) => {
                let raw = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                let h: hdrhistogram::Histogram<u64> = Deserializer::new()
                    .deserialize(&mut raw.as_slice())
                    .unwrap();
                assert_eq!(i.max(), h.max() as f64);
                got.push((i.tag().unwrap().as_str().to_string(), h.len()));
            }
            LogEntry::BaseTime(_) => panic!("no BaseTime expected"),
        }
    }
    assert_eq!(start_time, Some(Duration::from_millis(1_700_000_000_250)));
    assert_eq!(got, written);
}

#[test]
fn dropped_writer_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    let mut w = HlogWriter::create(&path, SystemTime::now()).unwrap();
    w.write_interval("a b,c", 0.0, 1.0, &tail_histogram(10, 100))
        .unwrap();
    drop(w);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn tags_are_sanitized() {
    assert_eq!(reports::hlog::sanitize_tag("a b,c\nd"), "a_b_c_d");
}

fn java_available() -> bool {
    let ok = Command::new("java").arg("-version").output().is_ok() && Path::new(JAR).exists();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("java and {JAR} are required when CI is set (apt-get install default-jre-headless libhdrhistogram-java)");
    }
    ok
}

#[test]
fn java_histogram_log_processor_reads_the_log() {
    if !java_available() {
        eprintln!("skipping: java or {JAR} not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    let written = write_log(&path);
    for tag in ["post_tweet", "view_timeline"] {
        let base = dir.path().join(format!("out_{tag}"));
        let out = Command::new("java")
            .args(["-cp", JAR, "org.HdrHistogram.HistogramLogProcessor", "-i"])
            .arg(&path)
            .args(["-tag", tag, "-csv", "-outputValueUnitRatio", "1", "-o"])
            .arg(&base)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        // `base`: one CSV row per interval: Timestamp,Int_Count,Int_50%,...
        let csv = std::fs::read_to_string(&base).unwrap();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .filter(|l| !l.starts_with('"') && !l.starts_with('#') && !l.is_empty())
            .map(|l| l.split(',').collect())
            .collect();
        let counts: Vec<u64> = rows.iter().map(|r| r[1].trim().parse().unwrap()).collect();
        let expected: Vec<u64> = written
            .iter()
            .filter(|(t, _)| t == tag)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(counts, expected, "{csv}");
        let stamps: Vec<f64> = rows.iter().map(|r| r[0].trim().parse().unwrap()).collect();
        assert_eq!(stamps, vec![1.0, 2.0, 3.0], "{csv}");
        // Int_50% of the first interval equals the histogram's own median.
        let p50: f64 = rows[0][2].trim().parse().unwrap();
        let h = tail_histogram(expected[0], if tag == "post_tweet" { 800 } else { 300 });
        let own = h.value_at_quantile(0.5) as f64;
        assert!(
            (p50 - own).abs() <= own * 0.001 + 1.0,
            "{tag}: java {p50} vs {own}\n{csv}"
        );
        // `base.hgrm`: Java's percentile distribution of all intervals of the tag. napkin's
        // hgrm of the same histogram (unscaled) has the same rows: the reference check of
        // `napkin report --format hgrm`.
        let hgrm = std::fs::read_to_string(dir.path().join(format!("out_{tag}.hgrm"))).unwrap();
        let mut sum = reports::histogram::new_histogram();
        for sec in 0..3u64 {
            let (n, base) = if tag == "post_tweet" {
                (100 + sec, 800)
            } else {
                (400, 300)
            };
            sum.add(tail_histogram(n, base + sec * 100)).unwrap();
        }
        let java_rows: Vec<(f64, f64, u64)> = hgrm
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect();
        let ours = reports::format::percentile_distribution(&sum, 1.0);
        let our_rows: Vec<(f64, f64, u64)> = ours
            .lines()
            .skip(2)
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            java_rows.len(),
            our_rows.len(),
            "java:\n{hgrm}\nours:\n{ours}"
        );
        assert!(java_rows.len() > 40);
        for (j, o) in java_rows.iter().zip(&our_rows) {
            assert_eq!(
                (j.0, j.2),
                (o.0, o.2),
                "value and count: java {j:?} ours {o:?}"
            );
            assert!(
                (j.1 - o.1).abs() < 1e-6,
                "percentile: java {j:?} ours {o:?}"
            );
        }
        assert_eq!(our_rows.last().unwrap().2, expected.iter().sum::<u64>());
    }
}

#[test]
fn start_time_number_and_date_agree() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hlog");
    // 0.0926 s past the second: both parts must say .093.
    let start = UNIX_EPOCH + Duration::from_micros(1_700_000_000_092_600);
    HlogWriter::create(&path, start).unwrap().finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(
            "#[StartTime: 1700000000.093 (seconds since epoch), 2023-11-14T22:13:20.093Z]"
        ),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn outputs_are_not_private_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.txt");
    reports::io::write_atomic(&path, b"x").unwrap();
    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, b"x").unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // The same mode as any new file (0666 less the umask), not tempfile's 0600.
    assert_eq!(mode(&path), mode(&plain));
}

/// `--out /dev/null` or a FIFO must be written in place: renaming a temp file over it would
/// replace the device (this once turned a machine's /dev/null into a regular file).
#[cfg(unix)]
#[test]
fn special_files_are_written_in_place_not_replaced() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut file = std::fs::File::open(reader_path).unwrap();
        file.read_to_string(&mut text).unwrap();
        let _ = tx.send(text);
    });
    reports::io::write_atomic(&fifo, b"through the pipe").unwrap();
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(got, "through the pipe");

    let hlog = dir.path().join("pipe2");
    assert!(std::process::Command::new("mkfifo")
        .arg(&hlog)
        .status()
        .unwrap()
        .success());
    let reader_path = hlog.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut file = std::fs::File::open(reader_path).unwrap();
        file.read_to_string(&mut text).unwrap();
        let _ = tx.send(text);
    });
    HlogWriter::create(&hlog, UNIX_EPOCH)
        .unwrap()
        .finish()
        .unwrap();
    assert!(std::fs::symlink_metadata(&hlog)
        .unwrap()
        .file_type()
        .is_fifo());
    let got = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        got.starts_with("#[Histogram log format version 1.3]"),
        "{got}"
    );
}
