//! A minimal HTTP/1.1 client over one keep-alive connection: POST a body, read the status and
//! the response body (`Content-Length` framing, which is what the server sends), optionally with
//! `Authorization: Bearer <secret>`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One connection.
pub struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
    /// The `Authorization` header line (with its CRLF), or empty.
    authorization: String,
}

impl Connection {
    /// Connects to `addr`; every request carries `token` as a bearer token when given.
    pub async fn open(addr: SocketAddr, token: Option<&str>) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        Ok(Self { stream: BufReader::new(stream), host: addr.to_string(), authorization })
    }

    /// POSTs `body` to `path`; the status and the response body.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> Result<(u16, String), String> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
            self.host,
            self.authorization,
            body.len()
        );
        let io = |e: std::io::Error| format!("HTTP I/O: {e}");
        let stream = self.stream.get_mut();
        stream.write_all(head.as_bytes()).await.map_err(io)?;
        stream.write_all(body).await.map_err(io)?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await.map_err(io)?;
        let status: u16 =
            line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or(format!("bad status line {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await.map_err(io)? == 0 {
                return Err("connection closed in the headers".into());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut text = vec![0; length];
        self.stream.read_exact(&mut text).await.map_err(io)?;
        Ok((status, String::from_utf8_lossy(&text).into_owned()))
    }
}

/// Waits until `GET /ping` answers 204.
pub async fn wait_until_up(addr: SocketAddr, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(mut stream) = TcpStream::connect(addr).await {
            let ping = format!("GET /ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut answer = String::new();
            if stream.write_all(ping.as_bytes()).await.is_ok()
                && stream.read_to_string(&mut answer).await.is_ok()
                && answer.starts_with("HTTP/1.1 204")
            {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("the server's line-protocol endpoint {addr} did not come up within {within:?}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
