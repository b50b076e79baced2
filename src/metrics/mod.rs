//! Prometheus metrics: engine counters ([`isobar_storage::Db::metrics`]) and gRPC request
//! counters ([`RequestLayer`]), rendered as text format 0.0.4 on their own HTTP port
//! ([`MetricsServer`], config section `[metrics]`). `docs/metrics.md` lists every metric.
//!
//! ```text
//! gRPC call ─► RequestLayer ─► RequestMetrics (atomics per rpc × code, latency histogram)
//! engine    ─► relaxed atomics in isobar-storage ─► Db::metrics() snapshot
//!                                 GET /metrics ─► render(snapshot, requests) ─► text
//! ```
//!
//! Why a hand-written text writer rather than the `prometheus-client` crate: every value already
//! lives in an atomic or a snapshot the engine keeps for itself (`Db::stats`), so a client
//! library's registry would only be a second copy fed by custom collectors on each scrape; the
//! format is a few lines of escaping and ordering rules ([`text`]), tested for well-formedness
//! against a checker, and it keeps the dependency tree as it is (hyper and tower are already
//! in it through tonic).

pub mod access;
mod connections;
mod http;
mod layer;
pub mod process;
mod render;
mod requests;
pub mod text;

#[cfg(test)]
mod tests;

pub use http::MetricsServer;
pub use layer::{MetricsBody, RequestLayer, RequestService, ResponseFuture};
pub use render::render;
pub use requests::{CODE_NAMES, MAX_RPCS, RequestMetrics, RpcSnapshot, RpcStats};
