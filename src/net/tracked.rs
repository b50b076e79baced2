//! [`Tracked`]: a connection's I/O with its [`Permit`] and an idle timeout.
//!
//! What counts as activity depends on the protocol. On HTTP/1 any byte read or written is: a
//! keep-alive connection with no request for `idle_timeout` is idle. On gRPC (HTTP/2) the server's
//! own keep-alive PINGs and their answers move bytes on a connection nobody uses, so bytes do not
//! count; an open stream (call) does, marked by [`super::streams::StreamLayer`] through the
//! connection's [`Activity`]. When the timeout passes, the read side reports end of stream, and
//! hyper closes the connection as if the client had.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::limit::Permit;

/// When a connection was last active, and how many of its streams are open.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    /// Milliseconds after `epoch` of the last activity.
    last_ms: AtomicU64,
    streams: AtomicUsize,
}

impl Activity {
    /// A connection active now, with no stream.
    pub fn new() -> Self {
        Self { epoch: Instant::now(), last_ms: AtomicU64::new(0), streams: AtomicUsize::new(0) }
    }

    /// Records activity now.
    pub fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// How long since the last activity.
    fn idle_for(&self) -> Duration {
        self.epoch.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }

    /// Marks a stream open until the guard is dropped.
    pub fn stream(self: &Arc<Self>) -> StreamGuard {
        self.streams.fetch_add(1, Ordering::Relaxed);
        self.touch();
        StreamGuard(self.clone())
    }

    fn has_streams(&self) -> bool {
        self.streams.load(Ordering::Relaxed) > 0
    }
}

impl Default for Activity {
    fn default() -> Self {
        Self::new()
    }
}

/// An open stream of a connection; its end counts as activity.
#[derive(Debug)]
pub struct StreamGuard(Arc<Activity>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.touch();
        self.0.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What counts as activity on a [`Tracked`] connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleRule {
    /// Any byte read or written (HTTP/1).
    Bytes,
    /// Only open streams, marked through [`Activity::stream`] (gRPC over HTTP/2).
    Streams,
}

/// A connection's I/O, its place under the caps and its idle timeout.
#[derive(Debug)]
pub struct Tracked<IO> {
    io: IO,
    activity: Arc<Activity>,
    rule: IdleRule,
    idle_timeout: Duration,
    timer: Pin<Box<Sleep>>,
    idle_closed: bool,
    _permit: Permit,
    _registered: Option<super::streams::Registration>,
}

impl<IO> Tracked<IO> {
    /// Wraps `io`, admitted with `permit`.
    pub fn new(io: IO, permit: Permit, rule: IdleRule, idle_timeout: Duration) -> Self {
        Self {
            io,
            activity: Arc::new(Activity::new()),
            rule,
            idle_timeout,
            timer: Box::pin(tokio::time::sleep(idle_timeout)),
            idle_closed: false,
            _permit: permit,
            _registered: None,
        }
    }

    /// Makes the connection's [`Activity`] findable by its peer address (gRPC streams).
    pub fn register(mut self, registry: &super::streams::Registry, peer: SocketAddr) -> Self {
        self._registered = Some(registry.register(peer, self.activity.clone()));
        self
    }

    /// The wrapped I/O.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// Whether the idle timeout has passed (and the timer is re-armed otherwise).
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        // Bounded: each round re-arms the timer to a later deadline, so the next poll is pending.
        for _ in 0..3 {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let idle = self.activity.idle_for();
            let remaining = if self.activity.has_streams() {
                self.idle_timeout
            } else if idle >= self.idle_timeout {
                return true;
            } else {
                self.idle_timeout - idle
            };
            self.timer.as_mut().reset(Instant::now() + remaining);
        }
        false
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.idle_closed {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if self.rule == IdleRule::Bytes && buf.filled().len() > before {
                    self.activity.touch();
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if self.idle_expired(cx) {
                    // End of stream: the server closes the connection as if the client had.
                    self.idle_closed = true;
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, data);
        if self.rule == IdleRule::Bytes && matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if self.rule == IdleRule::Bytes && matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl<IO: tonic::transport::server::Connected> tonic::transport::server::Connected for Tracked<IO> {
    type ConnectInfo = IO::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}
