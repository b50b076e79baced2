//! Naming a TLS mismatch instead of passing on the transport's riddle.
//!
//! A plain-text client (`http://`) talking to a TLS port gets `UNKNOWN: h2 protocol error` or
//! `CANCELLED` from hyper; a TLS client talking to a plain-text port gets a rustls complaint about
//! a corrupt record. Neither says what to change. When a call fails with such a transport error,
//! [`explain`] opens one more short connection to the same address, sends the HTTP/2 client
//! preface and looks at the first bytes of the answer ([`classify`]):
//!
//! - a TLS record header (`0x15` alert or `0x16` handshake, then major version `0x03`): the
//!   server speaks TLS, which a rustls server answers to anything that is not a ClientHello;
//! - an HTTP/2 frame header (type SETTINGS or GOAWAY, which a plain-text HTTP/2 server sends
//!   first) or `HTTP/1.`: the server speaks plain text.
//!
//! Only a scheme that disagrees with the answer changes the error (into
//! [`super::ClientError::TlsMismatch`]); anything else (refused, timed out, unknown bytes) keeps
//! the original error. The probe sends nothing secret (no token, no request) and is bounded by
//! [`PROBE_TIMEOUT`].

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ClientError;

/// Longest the probe waits to connect, and again for the answer's first bytes.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The HTTP/2 client connection preface (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the first bytes a server sent say it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaks {
    /// TLS records.
    Tls,
    /// Plain-text HTTP/2 or HTTP/1.
    PlainText,
    /// Nothing recognisable (or nothing at all).
    Unknown,
}

/// Classifies the first bytes a server answered to the HTTP/2 preface.
pub fn classify(first: &[u8]) -> Speaks {
    match first {
        [0x15 | 0x16, 0x03, ..] => Speaks::Tls,
        // A frame header: 24-bit length, then the type: 0x4 SETTINGS, 0x7 GOAWAY.
        [_, _, _, 0x04 | 0x07, ..] => Speaks::PlainText,
        _ if first.starts_with(b"HTTP/1.") => Speaks::PlainText,
        _ => Speaks::Unknown,
    }
}

/// `host:port` of an `http://` or `https://` URL (default ports 80 and 443); `None` when the URL
/// has no host.
pub fn authority(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let host = uri.host()?;
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    // `host()` keeps the brackets of an IPv6 literal, so the pair is a valid socket address.
    Some(format!("{host}:{port}"))
}

/// Connects to `authority`, sends the HTTP/2 preface and classifies the answer.
pub async fn probe(authority: &str) -> Speaks {
    let exchange = async {
        let mut stream = tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(authority)).await.ok()?.ok()?;
        stream.write_all(H2_PREFACE).await.ok()?;
        let mut buf = [0u8; 16];
        let mut filled = 0;
        // Up to 8 bytes are enough for either kind of header; a short read just reads again.
        while filled < 8 {
            let n = stream.read(buf.get_mut(filled..)?).await.ok()?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.get(..filled).map(classify)
    };
    tokio::time::timeout(PROBE_TIMEOUT * 2, exchange).await.ok().flatten().unwrap_or(Speaks::Unknown)
}

/// Whether `error` is the kind a protocol mismatch produces (worth a probe).
fn is_transport_failure(error: &ClientError) -> bool {
    match error {
        ClientError::Connect { .. } => true,
        ClientError::Status(status) => matches!(
            status.code(),
            tonic::Code::Unknown | tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Internal
        ),
        _ => false,
    }
}

/// `error`, or a [`ClientError::TlsMismatch`] when a probe of `url`'s server shows that it speaks
/// TLS and the URL is `http://`, or plain text and the URL is `https://`.
pub async fn explain(url: &str, error: ClientError) -> ClientError {
    if !is_transport_failure(&error) {
        return error;
    }
    let Some(authority) = authority(url) else {
        return error;
    };
    let client_tls = url.starts_with("https://");
    match (client_tls, probe(&authority).await) {
        (false, Speaks::Tls) | (true, Speaks::PlainText) => {
            ClientError::TlsMismatch { addr: authority, server_tls: !client_tls }
        }
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_records_and_plain_text_frames_are_told_apart() {
        // rustls' decode_error alert, and a ServerHello record header.
        assert_eq!(classify(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]), Speaks::Tls);
        assert_eq!(classify(&[0x16, 0x03, 0x03, 0x00, 0x7a]), Speaks::Tls);
        // An empty-ish SETTINGS frame and a GOAWAY frame from a plain-text HTTP/2 server.
        assert_eq!(classify(&[0x00, 0x00, 0x12, 0x04, 0x00, 0x00, 0x00, 0x00]), Speaks::PlainText);
        assert_eq!(classify(&[0x00, 0x00, 0x08, 0x07, 0x00, 0x00, 0x00, 0x00]), Speaks::PlainText);
        assert_eq!(classify(b"HTTP/1.1 400 Bad Request\r\n"), Speaks::PlainText);
        assert_eq!(classify(&[]), Speaks::Unknown);
        assert_eq!(classify(&[0x15]), Speaks::Unknown);
        assert_eq!(classify(b"SSH-2.0-OpenSSH"), Speaks::Unknown);
    }

    #[test]
    fn the_authority_of_a_url_has_its_default_port() {
        assert_eq!(authority("http://127.0.0.1:50051").as_deref(), Some("127.0.0.1:50051"));
        assert_eq!(authority("https://db.example").as_deref(), Some("db.example:443"));
        assert_eq!(authority("http://[::1]:9").as_deref(), Some("[::1]:9"));
        assert_eq!(authority("not a url"), None);
    }
}
