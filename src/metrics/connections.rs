//! The connection families: open connections and refusals per listener (`[connections]`,
//! [`crate::net`]). A refusal counter that grows means a cap is hit: either an attack or a
//! deployment that needs a larger `connections.max_per_listener` / `max_per_peer`.

use super::text::{Kind, TextWriter};
use crate::net::ListenerStats;

/// Writes `isobar_connections_open` and `isobar_connections_refused_total`.
pub(super) fn render(w: &mut TextWriter, listeners: &[ListenerStats]) {
    w.family(
        "isobar_connections_open",
        Kind::Gauge,
        "Connections open now, by listener (grpc, line_protocol, metrics).",
    );
    for l in listeners {
        w.sample(&[("listener", l.name)], l.open as u64);
    }
    let help = "Connections closed on accept because a cap was reached, by listener and reason \
                (listener: connections.max_per_listener; peer: connections.max_per_peer).";
    w.family("isobar_connections_refused_total", Kind::Counter, help);
    for l in listeners {
        w.sample(&[("listener", l.name), ("reason", "listener")], l.refused_listener);
        w.sample(&[("listener", l.name), ("reason", "peer")], l.refused_peer);
    }
}
