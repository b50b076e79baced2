//! [`RequestMetrics`]: gRPC calls counted per RPC and status code, with a latency histogram per
//! RPC. Shared (cheaply cloned) between the [`RequestLayer`](super::RequestLayer) that records
//! and the endpoint that renders.
//!
//! Recording a call costs a read lock on the RPC map (write-locked only the first time an RPC is
//! seen) and three relaxed atomic adds. The `rpc` label comes from the request path, which a
//! client chooses, so only paths of served methods become labels (an unknown path counts under
//! `rpc="other"`), and the map is capped at [`MAX_RPCS`] entries besides.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use isobar_storage::{HistogramSnapshot, LatencyHistogram};
use parking_lot::RwLock;

/// The methods of the services open to everyone that the server serves (health, reflection).
const OPEN_METHODS: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The `rpc` label of calls to paths the server does not serve.
pub const OTHER: &str = "other";

/// Most distinct `rpc` label values kept; more fall under `other`.
pub const MAX_RPCS: usize = 64;

/// The gRPC status codes by number (the `code` label values).
pub const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Code number of `UNKNOWN`, for statuses that are not a valid code.
pub const UNKNOWN: usize = 2;

/// Counters of one RPC.
#[derive(Debug, Default)]
pub struct RpcStats {
    codes: [AtomicU64; 17],
    latency: LatencyHistogram,
}

impl RpcStats {
    /// Records one finished call with gRPC status `code` (out-of-range codes count as UNKNOWN).
    pub fn record(&self, code: usize, took: Duration) {
        let slot = self.codes.get(code).or_else(|| self.codes.get(UNKNOWN));
        if let Some(slot) = slot {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        self.latency.observe(took);
    }
}

/// One RPC's counts at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcSnapshot {
    /// Calls per status code name (codes never seen are left out).
    pub codes: Vec<(&'static str, u64)>,
    /// Latency from the request's arrival to the end of the response.
    pub latency: HistogramSnapshot,
}

/// The registry of request metrics.
#[derive(Clone, Debug, Default)]
pub struct RequestMetrics {
    rpcs: Arc<RwLock<BTreeMap<String, Arc<RpcStats>>>>,
    listeners: Arc<RwLock<Vec<crate::net::Listener>>>,
}

impl RequestMetrics {
    /// The counters of the RPC at gRPC request `path` (`/package.Service/Method`). A path that
    /// is no method the server serves (an Isobar RPC, OTLP export, health or reflection) counts
    /// as `other`: the path is chosen by the client, and must not become a label value.
    pub fn rpc(&self, path: &str) -> Arc<RpcStats> {
        let known = crate::server::rpc::Rpc::from_path(path).is_some() || OPEN_METHODS.contains(&path);
        let name = match known {
            true => path.strip_prefix('/').unwrap_or(path),
            false => OTHER,
        };
        if let Some(stats) = self.rpcs.read().get(name) {
            return Arc::clone(stats);
        }
        let mut rpcs = self.rpcs.write();
        let key = if rpcs.len() >= MAX_RPCS && !rpcs.contains_key(name) { OTHER } else { name };
        Arc::clone(rpcs.entry(key.to_owned()).or_default())
    }

    /// Adds a listener whose connection counts the endpoint shows.
    pub fn watch_listener(&self, listener: crate::net::Listener) {
        self.listeners.write().push(listener);
    }

    /// The connection counts of every watched listener.
    pub fn listeners(&self) -> Vec<crate::net::ListenerStats> {
        self.listeners.read().iter().map(crate::net::Listener::stats).collect()
    }

    /// Every RPC seen so far, by name.
    pub fn snapshot(&self) -> Vec<(String, RpcSnapshot)> {
        let rpcs = self.rpcs.read();
        rpcs.iter()
            .map(|(name, stats)| {
                let codes = CODE_NAMES
                    .iter()
                    .zip(&stats.codes)
                    .map(|(n, c)| (*n, c.load(Ordering::Relaxed)))
                    .filter(|(_, c)| *c > 0)
                    .collect();
                (name.clone(), RpcSnapshot { codes, latency: stats.latency.snapshot() })
            })
            .collect()
    }
}
