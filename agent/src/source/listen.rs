//! Where the line-protocol listener may bind. Whoever reaches its port writes with the agent's
//! token, so an address that is not loopback is refused unless the source sets
//! `allow_remote = true`; the start of such a listener is then logged as a warning.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::config::ListenLimits;

/// Checks a source's `listen` value and limits; the message names the key to change.
pub fn check(listen: &str, limits: &ListenLimits) -> Result<(), String> {
    if limits.max_connections == 0
        || limits.max_line_bytes == 0
        || limits.idle_timeout_ms == 0
        || limits.max_body_bytes == 0
    {
        return Err("max_connections, max_line_bytes, max_body_bytes and idle_timeout_ms must be at least 1".into());
    }
    let Some(addr) = listen
        .strip_prefix("tcp://")
        .or_else(|| listen.strip_prefix("udp://"))
        .or_else(|| listen.strip_prefix("http://"))
    else {
        return Ok(());
    };
    let addrs = resolve(addr)?;
    if !limits.allow_remote
        && let Some(open) = addrs.iter().find(|a| !a.ip().is_loopback())
    {
        return Err(format!(
            "listen {listen:?} accepts connections from other hosts ({open}), and whoever reaches \
             the port writes with the agent's token: listen on 127.0.0.1 / [::1], or set \
             allow_remote = true to ask for it explicitly"
        ));
    }
    Ok(())
}

/// Logs a warning when `addr` (already checked) is not loopback.
pub fn warn_if_remote(source: &str, addr: SocketAddr) {
    if !addr.ip().is_loopback() {
        tracing::warn!(
            source,
            %addr,
            "line protocol listener is reachable from other hosts (allow_remote = true): anyone who \
             reaches it writes with the agent's token"
        );
    }
}

fn resolve(addr: &str) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<_> =
        addr.to_socket_addrs().map_err(|e| format!("listen address {addr:?} is not HOST:PORT ({e})"))?.collect();
    if addrs.is_empty() {
        return Err(format!("listen address {addr:?} resolves to no address"));
    }
    Ok(addrs)
}
