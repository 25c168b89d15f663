//! Targets of `napkin ab` started by a command (`--a-cmd`, `--b-cmd`): the command runs under
//! `sh -c` in its own process group with its output in a log file, napkin waits until the
//! target answers HTTP, and stops the whole group (SIGTERM, then SIGKILL after 5 s) when the
//! A/B ends or fails, so CI can A/B two builds of one service.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::exit::RunFailed;

/// `{port}` in a command or URL: replaced by a free loopback port napkin picks.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// A free loopback port (bound and released; the command binds it moments later).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// A started target; dropping it stops its process group.
#[derive(Debug)]
pub struct ServerProcess {
    label: String,
    child: Child,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `command` (`sh -c`, env `PORT` = `port` when given), its stdout and stderr going
    /// to `log`.
    pub fn start(
        label: &str,
        command: &str,
        port: Option<u16>,
        log: &Path,
    ) -> anyhow::Result<Self> {
        let out = std::fs::File::create(log)
            .with_context(|| format!("creating the log {} of {label}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(command)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        if let Some(port) = port {
            cmd.env("PORT", port.to_string());
        }
        let child = cmd
            .spawn()
            .map_err(|e| RunFailed(format!("cannot start {label} `{command}`: {e}")))?;
        Ok(ServerProcess {
            label: label.to_string(),
            child,
            log: log.to_path_buf(),
        })
    }

    /// Waits until `url` answers HTTP (any status), up to `budget`. Fails (exit 3) when the
    /// command exits first or the budget runs out, with the end of its log.
    pub fn wait_ready(&mut self, url: &str, budget: Duration) -> anyhow::Result<()> {
        let target = loadgen::Target::parse(url)?;
        let deadline = Instant::now() + budget;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(self.failure(&format!("exited ({status}) before answering at {url}")));
            }
            if answers(&target.host, target.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.failure(&format!(
                    "did not answer at {url} within {} s (--ready-timeout)",
                    budget.as_secs_f64()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn failure(&self, what: &str) -> anyhow::Error {
        let tail = std::fs::read_to_string(&self.log)
            .map(|t| {
                let lines: Vec<&str> = t.lines().collect();
                lines[lines.len().saturating_sub(10)..].join("\n")
            })
            .unwrap_or_default();
        RunFailed(format!(
            "{} {what}; its log is {}{}",
            self.label,
            self.log.display(),
            if tail.is_empty() {
                " (empty)".to_string()
            } else {
                format!(", ending:\n{tail}")
            }
        ))
        .into()
    }

    /// Stops the process group: SIGTERM, then SIGKILL if any of it is still there after 5 s;
    /// returns once the group is gone (the shell may exit before the server it started).
    pub fn stop(&mut self) {
        use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};
        let Some(pid) = i32::try_from(self.child.id()).ok().and_then(Pid::from_raw) else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        };
        let alive = |child: &mut Child| {
            let _ = child.try_wait(); // reap the leader, so that it does not count as alive
            test_kill_process_group(pid).is_ok()
        };
        if !alive(&mut self.child) {
            return;
        }
        let _ = kill_process_group(pid, Signal::TERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !alive(&mut self.child) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = kill_process_group(pid, Signal::KILL);
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether an HTTP server answers at host:port: a `GET /` gets any response line back.
fn answers(host: &str, port: u16) -> bool {
    let Ok(mut addrs) = (host, port).to_socket_addrs() else {
        return false;
    };
    let Some(addr) = addrs.next() else {
        return false;
    };
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!("GET / HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}
