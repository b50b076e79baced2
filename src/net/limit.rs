//! [`Listener`]: the open-connection count of one listener, in total and per client IP, and the
//! refusals past its caps.
//!
//! A connection over a cap is accepted by the OS anyway (the listen backlog does not know our
//! caps), so the accept loop takes it and closes it at once: the client sees a reset or an
//! immediate EOF instead of a hang, and the descriptor is returned before the next accept.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The caps of one listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnLimits {
    /// Open connections on the listener.
    pub per_listener: usize,
    /// Open connections from one IP address.
    pub per_peer: usize,
}

impl ConnLimits {
    /// The caps `[connections]` sets.
    pub fn from_config(config: &crate::config::ConnectionsConfig) -> Self {
        Self { per_listener: config.max_per_listener, per_peer: config.max_per_peer }
    }
}

/// Which cap refused a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `connections.max_per_listener`.
    Listener,
    /// `connections.max_per_peer`.
    Peer,
}

impl Refusal {
    /// The config key of the cap.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Listener => "connections.max_per_listener",
            Refusal::Peer => "connections.max_per_peer",
        }
    }
}

/// One listener's counts at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerStats {
    /// `grpc`, `line_protocol` or `metrics`.
    pub name: &'static str,
    /// Connections open now.
    pub open: usize,
    /// Connections refused by `max_per_listener` since start.
    pub refused_listener: u64,
    /// Connections refused by `max_per_peer` since start.
    pub refused_peer: u64,
}

/// Shortest gap between two refusal log lines of one listener.
const LOG_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Inner {
    name: &'static str,
    limits: ConnLimits,
    open: Mutex<Open>,
    refused_listener: AtomicU64,
    refused_peer: AtomicU64,
    log: Mutex<(Option<Instant>, u64)>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
}

/// The connection counts of one listener (cheap to clone; clones share the counts).
#[derive(Clone, Debug)]
pub struct Listener {
    inner: Arc<Inner>,
}

impl Listener {
    /// A listener called `name` (the metric label) with `limits`.
    pub fn new(name: &'static str, limits: ConnLimits) -> Self {
        Self {
            inner: Arc::new(Inner {
                name,
                limits,
                open: Mutex::new(Open::default()),
                refused_listener: AtomicU64::new(0),
                refused_peer: AtomicU64::new(0),
                log: Mutex::new((None, 0)),
            }),
        }
    }

    /// A permit for a new connection from `peer`, or which cap it would break. A refusal is
    /// counted and logged (at most one line per 10 s per listener, with the count left out).
    pub fn admit(&self, peer: IpAddr) -> Result<Permit, Refusal> {
        let refusal = {
            let mut open = self.inner.open.lock();
            let from_peer = open.per_peer.get(&peer).copied().unwrap_or(0);
            if open.total >= self.inner.limits.per_listener {
                Refusal::Listener
            } else if from_peer >= self.inner.limits.per_peer {
                Refusal::Peer
            } else {
                open.total += 1;
                open.per_peer.insert(peer, from_peer + 1);
                return Ok(Permit { inner: self.inner.clone(), peer });
            }
        };
        let counter = match refusal {
            Refusal::Listener => &self.inner.refused_listener,
            Refusal::Peer => &self.inner.refused_peer,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.log_refusal(peer, refusal);
        Err(refusal)
    }

    fn log_refusal(&self, peer: IpAddr, refusal: Refusal) {
        let mut log = self.inner.log.lock();
        let now = Instant::now();
        if log.0.is_some_and(|last| now.duration_since(last) < LOG_EVERY) {
            log.1 += 1;
            return;
        }
        let suppressed = std::mem::take(&mut log.1);
        log.0 = Some(now);
        drop(log);
        let key = refusal.key();
        let limit = match refusal {
            Refusal::Listener => self.inner.limits.per_listener,
            Refusal::Peer => self.inner.limits.per_peer,
        };
        tracing::warn!(
            listener = self.inner.name,
            %peer,
            limit,
            suppressed,
            "connection refused: {key} = {limit} connections are open; raise {key} if this is legitimate load"
        );
    }

    /// The counts now.
    pub fn stats(&self) -> ListenerStats {
        ListenerStats {
            name: self.inner.name,
            open: self.inner.open.lock().total,
            refused_listener: self.inner.refused_listener.load(Ordering::Relaxed),
            refused_peer: self.inner.refused_peer.load(Ordering::Relaxed),
        }
    }

    /// The name of the listener.
    pub fn name(&self) -> &'static str {
        self.inner.name
    }
}

/// One admitted connection; dropping it (when the connection closes) frees its place.
#[derive(Debug)]
pub struct Permit {
    inner: Arc<Inner>,
    peer: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.inner.open.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_peer.get_mut(&self.peer) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.per_peer.remove(&self.peer);
            }
        }
    }
}
