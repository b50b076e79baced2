//! `[connections]`: how many connections each listener keeps open, and how long a connection may
//! sit idle or take over its headers and body. One section for the three listeners (gRPC, line
//! protocol, metrics), because the threat is the same on each: a client that opens connections
//! and never finishes, or never closes, until the process runs out of file descriptors.
//!
//! ```toml
//! [connections]
//! max_per_listener = 4096          # open connections per listener; past it: accepted and closed at once
//! max_per_peer = 256               # open connections per client IP address and listener
//! header_read_timeout = "10s"      # HTTP listeners: whole request head within this
//! body_read_timeout = "1m"         # HTTP listeners: whole request body within this
//! idle_timeout = "5m"              # no request (HTTP: no byte; gRPC: no open stream) this long: closed
//! grpc_keepalive_interval = "1m"   # gRPC: HTTP/2 PING to a connection silent this long
//! grpc_keepalive_timeout = "20s"   # gRPC: no PING answer within this: closed
//! grpc_max_concurrent_streams = 256 # gRPC: open calls per connection
//! tcp_keepalive = "1m"             # TCP keep-alive probes after this much silence (all listeners)
//! ```
//!
//! The defaults are far above what a normal deployment opens (a few agents and dashboards) and
//! far below a process's file-descriptor limit.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, DurationValue};

/// `[connections]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionsConfig {
    /// Open connections per listener (default 4096); further ones are closed on accept.
    pub max_per_listener: usize,
    /// Open connections per client IP address on one listener (default 256).
    pub max_per_peer: usize,
    /// HTTP listeners: longest wait for a complete request head (default 10 s).
    pub header_read_timeout: DurationValue,
    /// HTTP listeners: longest wait for a complete request body (default 60 s).
    pub body_read_timeout: DurationValue,
    /// A connection with no request in progress is closed after this long (default 300 s). On
    /// HTTP a request in progress is any byte moving; on gRPC an open stream (call).
    pub idle_timeout: DurationValue,
    /// gRPC: interval of HTTP/2 keep-alive PINGs on a silent connection (default 60 s).
    pub grpc_keepalive_interval: DurationValue,
    /// gRPC: how long a PING may go unanswered before the connection is closed (default 20 s).
    pub grpc_keepalive_timeout: DurationValue,
    /// gRPC: most concurrent streams (calls) on one connection (default 256).
    pub grpc_max_concurrent_streams: u32,
    /// TCP keep-alive idle time on every accepted socket (default 60 s).
    pub tcp_keepalive: DurationValue,
}

impl Default for ConnectionsConfig {
    fn default() -> Self {
        let secs = |s| DurationValue(Duration::from_secs(s));
        Self {
            max_per_listener: 4096,
            max_per_peer: 256,
            header_read_timeout: secs(10),
            body_read_timeout: secs(60),
            idle_timeout: secs(300),
            grpc_keepalive_interval: secs(60),
            grpc_keepalive_timeout: secs(20),
            grpc_max_concurrent_streams: 256,
            tcp_keepalive: secs(60),
        }
    }
}

/// Checks `[connections]`: every count and duration must be positive.
pub(super) fn validate(c: &ConnectionsConfig) -> Result<(), ConfigError> {
    let invalid = |key, value: String| Err(ConfigError::Invalid { key, value, reason: "must be positive" });
    if c.max_per_listener == 0 {
        return invalid("connections.max_per_listener", "0".into());
    }
    if c.max_per_peer == 0 {
        return invalid("connections.max_per_peer", "0".into());
    }
    if c.grpc_max_concurrent_streams == 0 {
        return invalid("connections.grpc_max_concurrent_streams", "0".into());
    }
    for (key, value) in [
        ("connections.header_read_timeout", c.header_read_timeout),
        ("connections.body_read_timeout", c.body_read_timeout),
        ("connections.idle_timeout", c.idle_timeout),
        ("connections.grpc_keepalive_interval", c.grpc_keepalive_interval),
        ("connections.grpc_keepalive_timeout", c.grpc_keepalive_timeout),
        ("connections.tcp_keepalive", c.tcp_keepalive),
    ] {
        if value.0.is_zero() {
            return invalid(key, value.to_string());
        }
    }
    Ok(())
}
