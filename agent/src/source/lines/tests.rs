//! The TCP listener's limits, exercised over real loopback sockets: an over-long line, the
//! connection cap and the idle timeout, each asserted through the agent's counters.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Duration;

use super::{LineOptions, serve_tcp};
use crate::config::{ListenLimits, TsUnit};
use crate::metrics::Metrics;
use crate::queue::{Queue, QueueOptions};
use crate::source::{Chunk, Ctx};

struct Harness {
    addr: std::net::SocketAddr,
    chunks: Receiver<Chunk>,
    ctx: Ctx,
    _dir: tempfile::TempDir,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.ctx.stop.store(true, Ordering::Relaxed);
    }
}

fn start(limits: ListenLimits) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = Arc::new(Queue::open(dir.path(), QueueOptions::default()).expect("queue"));
    let (sink, chunks) = sync_channel(64);
    let ctx = Ctx {
        name: "lp-test".into(),
        sink,
        stop: Arc::new(AtomicBool::new(false)),
        queue,
        metrics: Arc::new(Metrics::default()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let opts = LineOptions { family: "fields".into(), precision: TsUnit::Ns, limits };
    let thread_ctx = ctx.clone();
    std::thread::spawn(move || serve_tcp(listener, &opts, &thread_ctx));
    Harness { addr, chunks, ctx, _dir: dir }
}

fn rows_of(h: &Harness) -> usize {
    h.chunks.recv_timeout(Duration::from_secs(20)).expect("a chunk arrives").rows.len()
}

/// Whether the server closed `stream` (EOF or reset) within 20 s.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted),
    }
}

#[test]
fn several_mib_without_newline_are_dropped_counted_and_the_connection_goes_on() {
    let h = start(ListenLimits { max_line_bytes: 64 << 10, ..ListenLimits::default() });
    let mut stream = TcpStream::connect(h.addr).expect("connect");
    let block = vec![b'a'; 1 << 20];
    for _ in 0..6 {
        stream.write_all(&block).expect("send a MiB");
    }
    stream.write_all(b"\nm,site=a v=1 1\n").expect("send the end and a good line");
    assert_eq!(rows_of(&h), 1, "the good line after the dropped one arrives");
    assert_eq!(h.ctx.metrics.lines_too_long.load(Ordering::Relaxed), 1);
    assert_eq!(h.ctx.metrics.bad_readings.load(Ordering::Relaxed), 0);
}

#[test]
fn connections_past_the_cap_are_closed_and_counted() {
    let h = start(ListenLimits { max_connections: 2, ..ListenLimits::default() });
    let mut held = Vec::new();
    for i in 0..2 {
        let mut stream = TcpStream::connect(h.addr).expect("connect");
        stream.write_all(format!("m v={i} 1\n").as_bytes()).expect("send");
        assert_eq!(rows_of(&h), 1, "connection {i} is served");
        held.push(stream);
    }
    let mut third = TcpStream::connect(h.addr).expect("the kernel accepts");
    assert!(closed_by_server(&mut third), "the third connection is closed");
    assert_eq!(h.ctx.metrics.connections_refused.load(Ordering::Relaxed), 1);

    drop(held.pop());
    // The freed place is taken again once the closed connection's thread has ended.
    let served = (0..200).any(|_| {
        let mut next = TcpStream::connect(h.addr).expect("connect");
        next.write_all(b"m v=9 1\n").expect("send");
        let got = h.chunks.recv_timeout(Duration::from_millis(100)).is_ok();
        if !got {
            std::thread::sleep(Duration::from_millis(50));
        }
        got
    });
    assert!(served, "a new connection is served after one closes");
}

#[test]
fn an_idle_connection_is_closed_after_the_timeout() {
    let h = start(ListenLimits { idle_timeout_ms: 200, ..ListenLimits::default() });
    let mut stream = TcpStream::connect(h.addr).expect("connect");
    stream.write_all(b"m v=1 1\n").expect("send");
    assert_eq!(rows_of(&h), 1);
    assert!(closed_by_server(&mut stream), "the idle connection is closed");
    assert_eq!(h.ctx.metrics.connections_idle_closed.load(Ordering::Relaxed), 1);
}
