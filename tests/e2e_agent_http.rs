//! The agent's acknowledged line-protocol listener (`listen = "http://..."`, InfluxDB's write
//! API) with real processes: a sender POSTs numbered lines while the agent is SIGKILLed and
//! restarted; every line of every request answered `204` is stored exactly once. A request with
//! one bad line is refused with `400` naming the line, and none of its lines is stored; a gzip
//! body over `max_body_bytes` once decoded gets `413`; `/ping` answers `204`.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::agent::{BIN, free_addr, start_agent, start_server};

/// Lines per request.
const PER_REQUEST: u64 = 25;
/// Requests the sender makes at most.
const REQUESTS: u64 = 400;
/// Time of line 0, in ns.
const BASE: i64 = 1_700_000_000_000_000_000;

/// The status code and body of `POST <path>` with `body` to `addr`; `None` when the agent does
/// not answer (down, or killed mid-request).
fn post(addr: &str, path: &str, body: &[u8]) -> Option<(u16, String)> {
    send("POST", addr, path, "", body)
}

/// `method path` to `addr` with `headers` (each ending in `\r\n`) added to the request's head.
fn send(method: &str, addr: &str, path: &str, headers: &str, body: &[u8]) -> Option<(u16, String)> {
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).ok()?;
    conn.write_all(body).ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// The lines of request `r`: `env,site=a n=<i> <BASE + i>` for its `PER_REQUEST` numbers `i`.
fn request_lines(r: u64) -> String {
    (r * PER_REQUEST..(r + 1) * PER_REQUEST).map(|i| format!("env,site=a n={i} {}\n", BASE + i as i64)).collect()
}

#[test]
fn lines_answered_204_survive_a_sigkill_of_the_agent() {
    let dir = tempfile::tempdir().expect("tmp");
    let server_addr = free_addr();
    let _server = start_server(&dir.path().join("data"), &server_addr);
    let url = format!("http://{server_addr}");
    let created =
        Command::new(BIN).args(["--addr", &url, "table", "create", "env", "--family", "fields:n=f64"]).output();
    assert!(created.expect("runs").status.success());
    let (lp_addr, config) = (free_addr(), dir.path().join("agent.toml"));
    let text = format!(
        "[server]\nurl = \"{url}\"\n[queue]\ndir = \"{}\"\n[[source]]\ntype = \"line_protocol\"\n\
         listen = \"http://{lp_addr}\"\nmax_body_bytes = 65536\n",
        dir.path().join("queue").display()
    );
    std::fs::write(&config, text).expect("config");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut agent = start_agent(&config);
    while send("GET", &lp_addr, "/ping", "", b"").map(|a| a.0) != Some(204) {
        assert!(Instant::now() < deadline, "the agent did not listen on {lp_addr}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Refusals first, on a quiet agent: nothing of a refused request is stored.
    let bad = format!("{}env,site=bad n= {BASE}\n", "env,site=bad n=1 1\n".repeat(3));
    let (status, body) = post(&lp_addr, "/write", bad.as_bytes()).expect("answered");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("line 4") && body.contains("nothing of this request was written"), "{body}");
    // 70,000 bytes of comment lines, gzipped to a few hundred: over the limit once decoded.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all("# comment\n".repeat(7_000).as_bytes()).expect("gzip");
    let packed = gz.finish().expect("gzip");
    let (status, body) =
        send("POST", &lp_addr, "/api/v2/write?precision=ns", "Content-Encoding: gzip\r\n", &packed).expect("answered");
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("max_body_bytes = 65536"), "{body}");
    let (status, body) = post(&lp_addr, "/query", b"").expect("answered");
    assert_eq!(status, 404, "{body}");

    // The sender: requests in order; a request answered 204 is acknowledged, any other outcome
    // (the agent down, killed mid-request) is not.
    let acked = Arc::new(Mutex::new(Vec::<u64>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acked, done, addr) = (acked.clone(), done.clone(), lp_addr.clone());
        std::thread::spawn(move || {
            for r in 0..REQUESTS {
                if Instant::now() >= deadline {
                    break;
                }
                if let Some((204, _)) = post(&addr, "/write?precision=ns", request_lines(r).as_bytes()) {
                    acked.lock().expect("lock").push(r);
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            done.store(true, Ordering::Relaxed);
        })
    };
    // SIGKILL mid-stream, twice, and restart.
    for at in [40, 160] {
        while acked.lock().expect("lock").len() < at && !done.load(Ordering::Relaxed) {
            assert!(Instant::now() < deadline, "the sender stalled at {} requests", acked.lock().expect("lock").len());
            std::thread::sleep(Duration::from_millis(5));
        }
        agent.kill();
        std::thread::sleep(Duration::from_millis(300));
        agent = start_agent(&config);
    }
    sender.join().expect("sender");
    let acked: Vec<u64> = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 200, "only {} of {REQUESTS} requests were acknowledged", acked.len());
    assert!(acked.len() < REQUESTS as usize, "no request fell into a kill: the test did not test the kill");

    let want: BTreeSet<u64> = acked.iter().flat_map(|r| r * PER_REQUEST..(r + 1) * PER_REQUEST).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let stored = || -> Vec<(String, i64, Option<f64>)> {
        runtime.block_on(async {
            let mut client = isobar::client::Client::connect(&url).await.expect("connects");
            common::rows_f64(&common::scan_all(&mut client, "env", &["fields.n"]).await, "fields.n")
        })
    };
    let mut got = stored();
    let missing = |got: &[(String, i64, Option<f64>)]| {
        let have: BTreeSet<u64> = got.iter().map(|r| (r.1 - BASE) as u64).collect();
        want.difference(&have).count()
    };
    while missing(&got) > 0 {
        assert!(Instant::now() < deadline, "{} acknowledged lines are not stored", missing(&got));
        std::thread::sleep(Duration::from_millis(200));
        got = stored();
    }
    drop(agent);
    // Exactly once: one row per number, with its own value; nothing of the refused requests.
    for (series, ts, value) in &got {
        assert_eq!(series, "site=a", "a line of a refused request was stored: {series} {ts}");
        let i = (ts - BASE) as u64;
        assert_eq!(*value, Some(i as f64), "line {i}");
    }
    let distinct: BTreeSet<i64> = got.iter().map(|r| r.1).collect();
    assert_eq!(distinct.len(), got.len(), "a line stored twice");
}
