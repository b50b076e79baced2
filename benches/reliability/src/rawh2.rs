//! A minimal HTTP/2 client for one gRPC client-streaming call, written by hand so that a test
//! can do what no well-behaved client library does: stop in the middle of a message and drop
//! the connection.
//!
//! Frames (RFC 9113 §4.1), every integer big-endian:
//!
//! ```text
//! +-----------------------------------------------+
//! | length (24) | type (8) | flags (8)            |
//! +-+---------------------------------------------+
//! |R| stream id (31)                              |
//! +-+---------------------------------------------+
//! | payload (length bytes)                        |
//! +-----------------------------------------------+
//! ```
//!
//! The call: the connection preface, an empty SETTINGS, one HEADERS frame (END_HEADERS) on
//! stream 1 whose block is HPACK "literal without indexing, new name" fields (RFC 7541 §6.2.2:
//! byte 0x00, then name and value, each a 7-bit-prefix length and raw octets), then DATA frames
//! carrying gRPC messages:
//!
//! ```text
//! | compressed flag (1 byte, 0) | message length (u32 BE) | protobuf message |
//! ```
//!
//! The client stays within the initial flow-control window of 65,535 bytes, so it never needs
//! the server's WINDOW_UPDATEs; it reads frames only until the server's SETTINGS, which it
//! acknowledges.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;
/// The initial flow-control window every peer starts with.
pub const INITIAL_WINDOW: usize = 65_535;

/// One client-streaming gRPC call on its own connection.
#[derive(Debug)]
pub struct RawCall {
    socket: TcpStream,
    sent: usize,
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An HPACK integer with a 7-bit prefix (RFC 7541 §5.1), first byte's high bit clear.
fn hpack_int(mut n: usize, out: &mut Vec<u8>) {
    if n < 127 {
        out.push(n as u8);
        return;
    }
    out.push(127);
    n -= 127;
    while n >= 128 {
        out.push((n % 128) as u8 | 0x80);
        n /= 128;
    }
    out.push(n as u8);
}

fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0x00);
        hpack_int(name.len(), &mut out);
        out.extend_from_slice(name.as_bytes());
        hpack_int(value.len(), &mut out);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// A gRPC message: the 5-byte prefix and `message`.
pub fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + message.len());
    out.push(0);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out
}

impl RawCall {
    /// Connects to `addr` and starts the call `path` (e.g. `/isobar.v1.Ingest/WriteStream`).
    pub async fn open(addr: SocketAddr, path: &str) -> std::io::Result<Self> {
        let mut socket = TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        socket.write_all(PREFACE).await?;
        socket.write_all(&frame(SETTINGS, 0, 0, &[])).await?;
        // Acknowledge the server's SETTINGS (its first frame).
        loop {
            let mut head = [0u8; 9];
            socket.read_exact(&mut head).await?;
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0u8; len];
            socket.read_exact(&mut payload).await?;
            if head[3] == SETTINGS && head[4] & ACK == 0 {
                socket.write_all(&frame(SETTINGS, ACK, 0, &[])).await?;
                break;
            }
        }
        let authority = addr.to_string();
        let block = header_block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", &authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]);
        socket.write_all(&frame(HEADERS, END_HEADERS, 1, &block)).await?;
        socket.flush().await?;
        Ok(Self { socket, sent: 0 })
    }

    /// Sends `bytes` as one DATA frame on the call's stream.
    async fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.sent + bytes.len() > INITIAL_WINDOW {
            return Err(std::io::Error::other(format!(
                "{} more bytes would exceed the initial flow-control window ({} sent)",
                bytes.len(),
                self.sent
            )));
        }
        self.sent += bytes.len();
        self.socket.write_all(&frame(DATA, 0, 1, bytes)).await?;
        self.socket.flush().await
    }

    /// Sends one whole gRPC message.
    pub async fn send(&mut self, message: &[u8]) -> std::io::Result<()> {
        self.data(&grpc_frame(message)).await
    }

    /// Sends the prefix of a gRPC message announcing all of `message` but only its first `keep`
    /// bytes: the server has an incomplete message when the connection goes.
    pub async fn send_cut(&mut self, message: &[u8], keep: usize) -> std::io::Result<()> {
        let whole = grpc_frame(message);
        self.data(&whole[..(5 + keep).min(whole.len())]).await
    }

    /// Closes the connection abruptly (no END_STREAM, no RST_STREAM, no GOAWAY).
    pub async fn cut(mut self) {
        let _ = self.socket.shutdown().await;
    }
}
