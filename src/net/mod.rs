//! Connection hygiene shared by the three listeners (gRPC, line protocol, metrics): caps on open
//! connections per listener and per client IP, idle timeouts, and the HTTP/1 header and body
//! timeouts. Settings come from `[connections]` ([`crate::config::ConnectionsConfig`]).
//!
//! ```text
//! accept ─► limit::Listener::admit(peer IP) ── refused ─► close at once, count, log (rate-limited)
//!              │ Permit (released when the connection closes)
//!              ▼
//!          tracked::Tracked<IO>  (ends the read side after idle_timeout without activity)
//!              ├─ gRPC: activity = an open stream (streams::StreamLayer marks calls)
//!              └─ HTTP: activity = bytes moving; plus hyper's header timeout and body::TimedBody
//! ```
//!
//! Refusals are visible as `isobar_connections_refused_total{listener,reason}` and open
//! connections as `isobar_connections_open{listener}` (rendered by [`crate::metrics`]).

pub mod accept;
pub mod body;
pub mod http1;
pub mod limit;
pub mod streams;
pub mod tracked;

#[cfg(test)]
mod tests;

pub use limit::{ConnLimits, Listener, ListenerStats};
pub use tracked::{Activity, Tracked};
