//! Line protocol on stdin, a local TCP port (one reader thread per connection) or a local UDP
//! port (one datagram = some lines). Lines are parsed by [`crate::lp`]; a bad line is logged,
//! counted and skipped. These sources have no position to resume from: what was read but not
//! yet queued when the agent dies is lost, as with any socket.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use super::{Chunk, Ctx};
use crate::config::{SourceConfig, TsUnit};
use crate::lp;

/// Rows per chunk at most.
const CHUNK_ROWS: usize = 2000;

/// Runs the source until the agent stops (or stdin ends).
pub fn run(config: &SourceConfig, ctx: &Ctx) -> std::io::Result<()> {
    let SourceConfig::LineProtocol { listen, family, precision, .. } = config else { return Ok(()) };
    if listen == "stdin" {
        return read_stream(BufReader::new(std::io::stdin()), family, *precision, ctx);
    }
    if let Some(addr) = listen.strip_prefix("tcp://") {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        tracing::info!(source = %ctx.name, addr = %listener.local_addr()?, "line protocol on TCP");
        while !ctx.stopping() {
            match listener.accept() {
                Ok((stream, peer)) => {
                    stream.set_nonblocking(false)?;
                    let (ctx, family, precision) = (ctx.clone(), family.clone(), *precision);
                    std::thread::spawn(move || {
                        if let Err(e) = read_stream(BufReader::new(stream), &family, precision, &ctx) {
                            tracing::warn!(source = %ctx.name, %peer, error = %e, "connection ended");
                        }
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    if let Some(addr) = listen.strip_prefix("udp://") {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        tracing::info!(source = %ctx.name, addr = %socket.local_addr()?, "line protocol on UDP");
        let mut buf = vec![0; 65_536];
        while !ctx.stopping() {
            match socket.recv(&mut buf) {
                Ok(n) => {
                    let text = String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned();
                    let rows = text.lines().filter_map(|l| parse(l, family, *precision, ctx)).collect();
                    if !ctx.send(Chunk { rows, ..Chunk::default() }) {
                        return Ok(());
                    }
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
        return Ok(());
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("listen {listen:?}: expected stdin, tcp://HOST:PORT or udp://HOST:PORT"),
    ))
}

fn parse(line: &str, family: &str, precision: TsUnit, ctx: &Ctx) -> Option<isobar_proto::v1::Row> {
    lp::parse_line(line, family, precision).unwrap_or_else(|e| {
        ctx.bad(&e);
        None
    })
}

/// Reads lines until the end of `reader`, sending a chunk whenever no more input is buffered.
fn read_stream<R: std::io::Read>(
    mut reader: BufReader<R>,
    family: &str,
    precision: TsUnit,
    ctx: &Ctx,
) -> std::io::Result<()> {
    let mut rows = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n > 0 {
            rows.extend(parse(&line, family, precision, ctx));
        }
        let drained = n == 0 || reader.buffer().is_empty();
        if (drained || rows.len() >= CHUNK_ROWS)
            && !rows.is_empty()
            && !ctx.send(Chunk { rows: std::mem::take(&mut rows), ..Chunk::default() })
        {
            return Ok(());
        }
        if n == 0 || ctx.stopping() {
            return Ok(());
        }
    }
}
