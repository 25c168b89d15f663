//! Support for the gate tests (`napkin compare` on real runs, `napkin ab`): a keep-alive
//! HTTP/1.1 server on 127.0.0.1:0 that answers every request after a fixed delay (the
//! injected slowdown), a one-action scenario for it, and the CLI run in-process.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A server answering `200 {}` to every request `delay` after reading it.
pub struct DelayServer {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
}

impl DelayServer {
    /// Serves until the test process ends (at most 1,000 connections, one thread each).
    pub fn start(delay: Duration) -> DelayServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let count = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1_000) {
                let Ok(stream) = stream else { return };
                let count = count.clone();
                std::thread::spawn(move || serve(stream, delay, &count));
            }
        });
        DelayServer { addr, requests }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve(stream: TcpStream, delay: Duration, count: &AtomicU64) {
    let _ = stream.set_nodelay(true);
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut length = 0usize;
        let mut line = String::new();
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
        count.fetch_add(1, Ordering::SeqCst);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if out
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .is_err()
        {
            return;
        }
    }
}

/// A scenario with one action (`get`, GET `path`) and the given `load:` lines (each indented
/// by two spaces), written to `dir/name`.
pub fn scenario(dir: &Path, name: &str, path: &str, load: &str) -> PathBuf {
    let text = format!(
        "name: gate\n\
         actions:\n\
         \x20 - name: get\n\
         \x20   per_second: 10\n\
         \x20   request: {{method: GET, path: {path}}}\n\
         load:\n{load}"
    );
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// Runs `napkin ARGS...` in-process; returns the exit code and stdout (or the error).
pub fn napkin(args: &[&str]) -> (u8, String) {
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

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
