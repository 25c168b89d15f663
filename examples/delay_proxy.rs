//! A TCP proxy that holds each request from the client for a fixed delay before passing it to
//! the upstream server: an injected slowdown of a real target, for `bench/gate-noise.sh`.
//! A chunk that follows the previous one within 2 ms is part of the same request (a request
//! may arrive in several reads) and passes at once, so every request gains the delay once
//! (`napkin load` sends the next request on a connection only after the response). One thread
//! per direction per connection; `std::thread::sleep` keeps the delay to within about 0.1 ms.
//!
//! Usage: `delay_proxy LISTEN UPSTREAM DELAY_US` (e.g. `127.0.0.1:0 127.0.0.1:8080 10000`);
//! prints `listening on ADDR` and serves until killed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, upstream, delay_us] = args.as_slice() else {
        eprintln!("usage: delay_proxy LISTEN UPSTREAM DELAY_US");
        std::process::exit(2);
    };
    let delay = Duration::from_micros(delay_us.parse().unwrap_or_else(|_| {
        eprintln!("DELAY_US must be a whole number of microseconds, not {delay_us:?}");
        std::process::exit(2);
    }));
    let listener = TcpListener::bind(listen).unwrap_or_else(|e| {
        eprintln!("cannot listen on {listen}: {e}");
        std::process::exit(2);
    });
    println!("listening on {}", listener.local_addr().expect("bound"));
    for client in listener.incoming().flatten() {
        let Ok(server) = TcpStream::connect(upstream) else {
            continue;
        };
        let _ = (client.set_nodelay(true), server.set_nodelay(true));
        let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
            continue;
        };
        std::thread::spawn(move || pipe(client, server, delay));
        std::thread::spawn(move || pipe(server2, client2, Duration::ZERO));
    }
}

/// Copies `from` to `to`, holding the first chunk of each request for `delay`; closes `to`'s
/// write side at the end.
fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut last: Option<Instant> = None;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let same_request = last.is_some_and(|t| t.elapsed() <= Duration::from_millis(2));
        if !delay.is_zero() && !same_request {
            std::thread::sleep(delay);
        }
        last = Some(Instant::now());
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
