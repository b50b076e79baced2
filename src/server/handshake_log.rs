//! Failed TLS handshakes on the gRPC port, logged so that an operator can act on them, and
//! rate-limited so that a scanner or a misconfigured fleet cannot flood the log.
//!
//! Each failure is classified ([`Failure`]): a client that spoke plain text to the TLS port (the
//! most common mistake: `http://` instead of `https://`), a TLS error (unknown CA, missing client
//! certificate, no common protocol version, ...) or a timeout. The log line carries the peer
//! address and that reason, never a byte the client sent and never key material. At most one
//! line per [`LOG_INTERVAL`]; the next line says how many failures were left out in between.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// At most one log line per this interval.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Why a handshake failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The client's first bytes were plain-text HTTP (`what` names the version), not TLS.
    PlainText(&'static str),
    /// The client's first bytes were neither TLS nor HTTP.
    NotTls,
    /// rustls refused the handshake; its error text (no secrets in it).
    Tls(String),
    /// The client did not finish within the handshake timeout.
    TimedOut(Duration),
}

impl Failure {
    /// Classifies a failed handshake from the client's first bytes and the acceptor's error.
    pub fn classify(opening: &[u8], error: &std::io::Error) -> Self {
        const METHODS: [&[u8]; 6] = [b"GET ", b"POST", b"PUT ", b"HEAD", b"OPTI", b"DELE"];
        if opening.starts_with(b"PRI ") {
            Failure::PlainText("HTTP/2")
        } else if METHODS.iter().any(|m| opening.starts_with(m)) {
            Failure::PlainText("HTTP/1")
        } else if opening.first().is_some_and(|b| *b != 0x16) {
            Failure::NotTls
        } else {
            Failure::Tls(error.to_string())
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::PlainText(what) => write!(
                f,
                "the client spoke plain-text {what}, not TLS: it should connect with https:// and the CA \
                 certificate (isobar --addr https://HOST:PORT --tls-ca FILE)"
            ),
            Failure::NotTls => f.write_str("the client's first bytes are not a TLS handshake"),
            Failure::Tls(error) => f.write_str(error),
            Failure::TimedOut(after) => write!(f, "no complete handshake within {after:?}"),
        }
    }
}

/// Decides which events get a log line: the first, then at most one per interval.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl RateLimit {
    /// One line per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// `Some(suppressed)` when the event at `now` gets a line (with the number of events left
    /// out since the last line), `None` when it is left out.
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock();
        match state.0 {
            Some(last) if now.saturating_duration_since(last) < self.interval => {
                state.1 += 1;
                None
            }
            _ => {
                state.0 = Some(now);
                Some(std::mem::take(&mut state.1))
            }
        }
    }
}

/// The log of failed handshakes of one listener.
#[derive(Debug)]
pub struct HandshakeLog {
    limit: RateLimit,
    port: &'static str,
}

impl Default for HandshakeLog {
    fn default() -> Self {
        Self::for_port("gRPC")
    }
}

impl HandshakeLog {
    /// The log of the listener named `port` in its lines (`gRPC`, `line-protocol`).
    pub fn for_port(port: &'static str) -> Self {
        Self { limit: RateLimit::new(LOG_INTERVAL), port }
    }

    /// Records a failed handshake from `peer`, logging it unless the rate limit says not now.
    pub fn failed(&self, peer: SocketAddr, failure: &Failure) {
        if let Some(suppressed) = self.limit.admit(Instant::now()) {
            tracing::warn!(
                %peer,
                reason = %failure,
                suppressed,
                port = self.port,
                "TLS handshake failed on the {} port ({suppressed} more failures not logged since the last line)",
                self.port
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_counts_what_it_left_out() {
        let limit = RateLimit::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limit.admit(t0), Some(0));
        for s in 1..=4 {
            assert_eq!(limit.admit(t0 + Duration::from_secs(s)), None);
        }
        assert_eq!(limit.admit(t0 + Duration::from_secs(10)), Some(4));
        assert_eq!(limit.admit(t0 + Duration::from_secs(11)), None);
        assert_eq!(limit.admit(t0 + Duration::from_secs(30)), Some(1));
    }

    #[test]
    fn failures_are_classified_by_the_first_bytes() {
        let error = std::io::Error::new(std::io::ErrorKind::InvalidData, "received corrupt message");
        assert_eq!(Failure::classify(b"PRI ", &error), Failure::PlainText("HTTP/2"));
        assert_eq!(Failure::classify(b"GET ", &error), Failure::PlainText("HTTP/1"));
        assert_eq!(Failure::classify(b"SSH-", &error), Failure::NotTls);
        let tls = Failure::classify(&[0x16, 0x03, 0x01, 0x00], &error);
        assert_eq!(tls, Failure::Tls("received corrupt message".into()));
        let text = Failure::PlainText("HTTP/2").to_string();
        assert!(text.contains("https://") && text.contains("--tls-ca"), "{text}");
    }
}
