//! Line protocol on stdin, a local TCP port (one reader thread per connection, at most
//! `max_connections` of them) or a local UDP port (one datagram = some lines). Lines are parsed by
//! [`crate::lp`]; a bad line is logged, counted and skipped. These sources have no position to
//! resume from and no answer to give: what was read but not yet queued when the agent dies is
//! lost, as with any socket. `http://` listens for the acknowledged form instead
//! ([`super::http_lines`]: `204` only once the lines are in the on-disk queue).
//!
//! Whoever reaches the port writes with the agent's token, so the listener binds loopback unless
//! `allow_remote` is set ([`super::listen`]), a line longer than `max_line_bytes` is dropped
//! without being buffered ([`super::line_reader`]), and a TCP connection idle for
//! `idle_timeout_ms` is closed.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::line_reader::{Line, LineReader};
use super::{Chunk, Ctx, listen};
use crate::config::{ListenLimits, SourceConfig, TsUnit};
use crate::lp;

/// Rows per chunk at most.
const CHUNK_ROWS: usize = 2000;

/// How lines become rows, and the limits of one listener.
#[derive(Debug, Clone)]
pub struct LineOptions {
    /// Family of every field.
    pub family: String,
    /// Timestamp precision.
    pub precision: TsUnit,
    /// Limits.
    pub limits: ListenLimits,
}

/// Runs the source until the agent stops (or stdin ends).
pub fn run(config: &SourceConfig, ctx: &Ctx) -> std::io::Result<()> {
    let SourceConfig::LineProtocol { listen, family, precision, limits, .. } = config else { return Ok(()) };
    let opts = LineOptions { family: family.clone(), precision: *precision, limits: limits.clone() };
    if listen == "stdin" {
        return read_stream(LineReader::new(std::io::stdin(), limits.max_line_bytes), &opts, ctx);
    }
    listen::check(listen, limits).map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidInput, m))?;
    if let Some(addr) = listen.strip_prefix("tcp://") {
        return serve_tcp(TcpListener::bind(addr)?, &opts, ctx);
    }
    if let Some(addr) = listen.strip_prefix("udp://") {
        return serve_udp(UdpSocket::bind(addr)?, &opts, ctx);
    }
    if let Some(addr) = listen.strip_prefix("http://") {
        return super::http_lines::serve_http(TcpListener::bind(addr)?, &opts, ctx);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("listen {listen:?}: expected stdin, tcp://HOST:PORT, udp://HOST:PORT or http://HOST:PORT"),
    ))
}

/// Accepts connections on `listener` until the agent stops; past `max_connections` open ones a
/// new connection is closed at once and counted in `connections_refused`.
pub fn serve_tcp(listener: TcpListener, opts: &LineOptions, ctx: &Ctx) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    listen::warn_if_remote(&ctx.name, local);
    tracing::info!(source = %ctx.name, addr = %local, "line protocol on TCP");
    let open = Arc::new(AtomicUsize::new(0));
    while !ctx.stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                if open.load(Ordering::Acquire) >= opts.limits.max_connections {
                    ctx.metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(source = %ctx.name, %peer, max_connections = opts.limits.max_connections,
                        "connection refused: too many open connections (max_connections)");
                    drop(stream);
                    continue;
                }
                open.fetch_add(1, Ordering::AcqRel);
                let guard = OpenGuard(open.clone());
                let (ctx, opts) = (ctx.clone(), opts.clone());
                std::thread::spawn(move || {
                    let _guard = guard;
                    if let Err(e) = serve_connection(stream, &opts, &ctx) {
                        tracing::warn!(source = %ctx.name, %peer, error = %e, "connection ended");
                    }
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Decrements the open-connection count when a connection's thread ends.
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn serve_connection(stream: TcpStream, opts: &LineOptions, ctx: &Ctx) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_millis(opts.limits.idle_timeout_ms)))?;
    read_stream(LineReader::new(stream, opts.limits.max_line_bytes), opts, ctx)
}

fn serve_udp(socket: UdpSocket, opts: &LineOptions, ctx: &Ctx) -> std::io::Result<()> {
    socket.set_read_timeout(Some(Duration::from_millis(200)))?;
    let local = socket.local_addr()?;
    listen::warn_if_remote(&ctx.name, local);
    tracing::info!(source = %ctx.name, addr = %local, "line protocol on UDP");
    let mut buf = vec![0; 65_536];
    while !ctx.stopping() {
        match socket.recv(&mut buf) {
            Ok(n) => {
                let mut rows = Vec::new();
                let mut lines = LineReader::new(buf.get(..n).unwrap_or_default(), opts.limits.max_line_bytes);
                while let Some(line) = lines.next_line()? {
                    rows.extend(take_line(line, opts, ctx));
                }
                if !ctx.send(Chunk { rows, ..Chunk::default() }) {
                    return Ok(());
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The row of one line; a dropped, non-UTF-8 or unparsable line is counted and logged.
fn take_line(line: Line, opts: &LineOptions, ctx: &Ctx) -> Option<isobar_proto::v1::Row> {
    let bytes = match line {
        Line::Text(bytes) => bytes,
        Line::TooLong { bytes } => {
            ctx.metrics.lines_too_long.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(source = %ctx.name, bytes, max_line_bytes = opts.limits.max_line_bytes,
                "dropped a line longer than max_line_bytes");
            return None;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        ctx.bad(&"line protocol: the line is not UTF-8");
        return None;
    };
    lp::parse_line(text, &opts.family, opts.precision).unwrap_or_else(|e| {
        ctx.bad(&e);
        None
    })
}

/// Reads lines until the end of `reader`, sending a chunk whenever no more input is buffered. A
/// read that times out (the connection was idle for `idle_timeout_ms`) ends the stream.
fn read_stream<R: std::io::Read>(mut reader: LineReader<R>, opts: &LineOptions, ctx: &Ctx) -> std::io::Result<()> {
    let mut rows = Vec::new();
    loop {
        let line = match reader.next_line() {
            Ok(line) => line,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                ctx.metrics.connections_idle_closed.fetch_add(1, Ordering::Relaxed);
                tracing::info!(source = %ctx.name, idle_timeout_ms = opts.limits.idle_timeout_ms,
                    "closed an idle connection");
                None
            }
            Err(e) => return Err(e),
        };
        let end = line.is_none();
        if let Some(line) = line {
            rows.extend(take_line(line, opts, ctx));
        }
        let drained = end || reader.buffer_is_empty();
        if (drained || rows.len() >= CHUNK_ROWS)
            && !rows.is_empty()
            && !ctx.send(Chunk { rows: std::mem::take(&mut rows), ..Chunk::default() })
        {
            return Ok(());
        }
        if end || ctx.stopping() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests;
