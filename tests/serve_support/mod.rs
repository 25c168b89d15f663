//! Support for tests of `napkin serve` as a process: start the real binary on 127.0.0.1:0,
//! wait for its `listening on` line, talk to it with a small blocking HTTP/1.1 client over
//! loopback, stop it with SIGTERM or kill it with SIGKILL.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `napkin serve` process; killed when dropped (a failing test leaves no server).
pub struct Served {
    pub addr: SocketAddr,
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `napkin serve ARGS` and waits (up to 60 s) until it listens.
pub fn serve(args: &[&str]) -> Served {
    try_serve(args).unwrap_or_else(|(code, err)| panic!("serve exited {code:?}: {err}"))
}

/// Like [`serve`], but returns the exit code and stderr if the server exits instead.
pub fn try_serve(args: &[&str]) -> Result<Served, (Option<i32>, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_napkin"))
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--log-level", "warn"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start napkin serve");
    let stdout = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("listening on http://") {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(addr) => Ok(Served {
            addr,
            child,
            stderr: Some(stderr),
        }),
        Err(_) => {
            let _ = child.kill();
            let status = child.wait().unwrap();
            Err((status.code(), stderr.join().unwrap()))
        }
    }
}

impl Served {
    /// SIGKILL: no drain, no flush, no destructors.
    pub fn kill9(self) {
        drop(self);
    }

    /// SIGTERM, then waits for a clean exit; returns stderr.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited with {status}");
        self.stderr
            .take()
            .map(|h| h.join().unwrap())
            .unwrap_or_default()
    }

    pub fn client(&self) -> Http {
        Http::connect(self.addr).expect("connect to the server")
    }
}

/// Runs `napkin ARGS` to completion; returns (exit code, stderr).
pub fn run_napkin(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_napkin"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A keep-alive HTTP/1.1 connection with blocking reads (10 s timeout).
pub struct Http {
    stream: BufReader<TcpStream>,
}

impl Http {
    pub fn connect(addr: SocketAddr) -> std::io::Result<Http> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Http {
            stream: BufReader::new(stream),
        })
    }

    /// Sends one request and reads its answer: (status, body).
    pub fn send(&mut self, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    pub fn get(&mut self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.send("GET", path, "").expect("GET answered");
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Whether this process may mount file systems (root in CI): a small tmpfs is a real full disk.
pub fn mount_tmpfs(dir: &Path, size: &str, options: &str) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    let opts = format!("size={size}{options}");
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn umount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}
