//! Support for the `napkin load` and `napkin capacity` CLI tests: a minimal keep-alive
//! HTTP/1.1 server on 127.0.0.1:0 (std threads, one per connection) answering every request
//! with a fixed status, optionally one request at a time with a fixed service time (a server
//! of known capacity), recording what it received; scenario files written to a temp dir, and
//! `napkin load` run in-process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Every request received: when it was read whole, and `METHOD TARGET BODY`.
type Seen = Arc<Mutex<Vec<(SystemTime, String)>>>;

pub struct Http {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    pub seen: Seen,
}

impl Http {
    /// Serves `status` to every request until the test process ends.
    pub fn start(status: u16) -> Http {
        Http::with(status, Service::Instant)
    }

    /// A server of known capacity: one request at a time (the others wait), each taking
    /// `service` (slept, not spun: a busy CPU does not stretch it, and the thread sleep is
    /// precise to tens of microseconds): 1 / service requests per second at most.
    pub fn serial(service: Duration) -> Http {
        Http::with(200, Service::Serial(Arc::new(Mutex::new(())), service))
    }

    /// Answers every request `delay` after reading it, connections in parallel (an injected
    /// slowdown of a target that is not saturated).
    pub fn delayed(delay: Duration) -> Http {
        Http::with(200, Service::Delay(delay))
    }

    fn with(status: u16, service: Service) -> Http {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let seen: Seen = Arc::default();
        let (count, log) = (requests.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1_000) {
                let Ok(stream) = stream else { return };
                let (count, service, log) = (count.clone(), service.clone(), log.clone());
                std::thread::spawn(move || serve(stream, status, &count, &service, &log));
            }
        });
        Http {
            addr,
            requests,
            seen,
        }
    }

    /// The requests received so far as `METHOD TARGET BODY`, sorted (a multiset).
    pub fn received(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect();
        all.sort();
        all
    }

    /// Forgets the requests received so far.
    pub fn clear(&self) {
        self.seen.lock().unwrap().clear();
        self.requests.store(0, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// How long a request takes before its response.
#[derive(Clone)]
enum Service {
    Instant,
    /// One lock shared by every connection, and the service time held under it.
    Serial(Arc<Mutex<()>>, Duration),
    /// A sleep per request, connections in parallel.
    Delay(Duration),
}

fn serve(stream: TcpStream, status: u16, count: &AtomicU64, service: &Service, log: &Seen) {
    let _ = stream.set_nodelay(true);
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        let mut request_line = String::new();
        // Request line and headers, up to the empty line.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if request_line.is_empty() {
                // `GET /path HTTP/1.1` -> `GET /path`
                request_line = l.rsplit_once(' ').map_or(l, |(head, _)| head).to_string();
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        match service {
            Service::Instant => {}
            Service::Serial(lock, time) => {
                let _one_at_a_time = lock.lock().unwrap();
                std::thread::sleep(*time);
            }
            Service::Delay(delay) => std::thread::sleep(*delay),
        }
        let entry = format!("{request_line} {}", String::from_utf8_lossy(&body));
        log.lock().unwrap().push((SystemTime::now(), entry));
        count.fetch_add(1, Ordering::SeqCst);
        let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 10\r\n\r\n{{\"id\": 42}}");
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A scenario with two actions (`read` 3x as frequent as `write`) and the given `load:` lines
/// (indented by two spaces).
pub fn scenario(dir: &tempfile::TempDir, load: &str) -> PathBuf {
    let text = format!(
        "name: loadtest\n\
         actions:\n\
         \x20 - name: read\n\
         \x20   per_second: 30\n\
         \x20   request: {{method: GET, path: /items/1}}\n\
         \x20 - name: write\n\
         \x20   per_second: 10\n\
         \x20   request:\n\
         \x20     method: POST\n\
         \x20     path: /items\n\
         \x20     headers: {{content-type: application/json}}\n\
         \x20     body: '{{\"a\": 1}}'\n\
         \x20     expect: [200, 201]\n\
         \x20 - name: offline\n\
         \x20   per_second: 5\n\
         load:\n{load}"
    );
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `napkin load ARGS...` in-process through `napkin::run`; returns the exit code and the
/// output (or the error message).
pub fn napkin(args: &[&str]) -> (u8, String) {
    let mut argv = vec!["load"];
    argv.extend_from_slice(args);
    napkin_cmd(&argv)
}

/// Runs `napkin ARGS...` (any command) in-process; returns the exit code and the output (or
/// the error message).
pub fn napkin_cmd(args: &[&str]) -> (u8, String) {
    use clap::Parser;
    let mut argv = vec!["napkin"];
    argv.extend_from_slice(args);
    let cli = napkin::Cli::try_parse_from(argv).expect("valid command line");
    let mut out = Vec::new();
    match napkin::run(cli, &mut out) {
        Ok(code) => (code, String::from_utf8(out).unwrap()),
        Err(e) => (napkin::exit::code_of(&e), format!("{e:#}")),
    }
}

/// A JSON file (a run result) as a value.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Polls `cond` every 5 ms for up to `budget`; panics naming `what` if it never holds. Tests
/// wait on conditions, never on a sleep that hopes the condition came true.
pub fn wait_for(what: &str, budget: Duration, cond: impl Fn() -> bool) {
    let give_up = std::time::Instant::now() + budget;
    while !cond() {
        assert!(
            std::time::Instant::now() < give_up,
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}
