//! A client that sends its requests and then half-closes (shutdown(SHUT_WR), as `nc -q` and
//! many scripts do) still gets an answer to every request it sent: issue 13, defect 5.
//! Raw std sockets against the real server, so nothing in between buffers or retries.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use common::{small, start};
use server::Strategy;

/// Rounds per case: the lost answer depended on whether the FIN arrived in the same read as the
/// requests, so one round alone could pass by luck; before the fix most rounds lost answers.
const ROUNDS: usize = 40;

/// Sends each request in its own write, half-closes, and reads until the server closes.
fn send_then_half_close(addr: std::net::SocketAddr, requests: &[&str]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    for r in requests {
        s.write_all(r.as_bytes()).unwrap();
    }
    s.shutdown(Shutdown::Write).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)
        .expect("the server closes within 10 s");
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_before_a_half_close_are_all_answered() {
    let srv = start(small(Strategy::Push)).await;
    let addr = srv.addr;
    let rounds = tokio::task::spawn_blocking(move || {
        let get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        let nope = "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        (0..ROUNDS)
            .map(|_| {
                let three = send_then_half_close(addr, &[get, get, get]);
                let one = send_then_half_close(addr, &[nope]);
                (three, one)
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for (round, (three, one)) in rounds.iter().enumerate() {
        assert_eq!(
            three.matches("HTTP/1.1 200 OK").count(),
            3,
            "round {round}: three pipelined requests, three answers: {three:?}"
        );
        assert!(one.starts_with("HTTP/1.1 404"), "round {round}: {one:?}");
        assert!(one.contains("no route for /nope"), "round {round}: {one:?}");
    }
    // Answered and half-closed connections are closed by the server, not kept open.
    for waited in 0.. {
        if srv.app.metrics().open_connections() == 0 {
            break;
        }
        assert!(waited < 500, "connections still open after 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    srv.stop().await;
}
