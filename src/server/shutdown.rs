//! Shutdown that tells the truth to running calls: on SIGTERM the long calls (streams, exports)
//! end at once with `UNAVAILABLE: server shutting down`, the other calls get
//! `server.shutdown_timeout` to finish and are then ended the same way, so no client is left
//! with a bare "transport error" and nothing is still answering when "server stopped" is logged.
//!
//! ```text
//! SIGTERM ─► Shutdown::begin ─► long calls: trailers grpc-status 14 "server shutting down"
//!            (health NOT_SERVING, no new connections)
//!        ... server.shutdown_timeout ...
//!        ─► Shutdown::deadline ─► every call still running: the same status
//! ```
//!
//! [`ShutdownLayer`] wraps every call: a handler that has not answered yet is replaced by a
//! trailers-only `UNAVAILABLE` reply; a response body that is still streaming ends after its
//! current message with `UNAVAILABLE` trailers (a gRPC message is never cut). Dropping the
//! handler's future stops work that listens for it (a scan stops at its next batch).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use tokio::sync::watch;

use super::rpc::Rpc;

/// The message every cancelled call gets.
pub const MESSAGE: &str =
    "server shutting down: the call was cancelled; retry against another instance or after the restart";

/// Triggers of the two stages of a shutdown.
#[derive(Debug)]
pub struct Shutdown {
    long: watch::Sender<bool>,
    all: watch::Sender<bool>,
}

impl Shutdown {
    /// Stages not yet started, and the layer that follows them.
    pub fn new() -> (Self, ShutdownLayer) {
        let (long, long_rx) = watch::channel(false);
        let (all, all_rx) = watch::channel(false);
        (Self { long, all }, ShutdownLayer { long: long_rx, all: all_rx })
    }

    /// The shutdown begins: long calls are cancelled now.
    pub fn begin(&self) {
        let _ = self.long.send(true);
    }

    /// The drain time is over: every call still running is cancelled.
    pub fn deadline(&self) {
        let _ = self.long.send(true);
        let _ = self.all.send(true);
    }
}

/// True for the calls that may run for long and are cancelled as soon as the shutdown begins:
/// streams (reads, write streams, health `Watch`) and exports.
fn is_long(path: &str) -> bool {
    if path == "/grpc.health.v1.Health/Watch" {
        return true;
    }
    matches!(
        Rpc::from_path(path),
        Some(
            Rpc::Scan
                | Rpc::Aggregate
                | Rpc::Latest
                | Rpc::WriteStream
                | Rpc::ProducerStream
                | Rpc::Export
                | Rpc::ExportWithProgress
        )
    )
}

/// See the module doc.
#[derive(Clone, Debug)]
pub struct ShutdownLayer {
    long: watch::Receiver<bool>,
    all: watch::Receiver<bool>,
}

impl<S> tower_layer::Layer<S> for ShutdownLayer {
    type Service = ShutdownService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ShutdownService { inner, layer: self.clone() }
    }
}

/// See the module doc.
#[derive(Clone, Debug)]
pub struct ShutdownService<S> {
    inner: S,
    layer: ShutdownLayer,
}

type Cancelled = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Completes once `rx` says the stage has begun (at once if it has).
fn cancelled(mut rx: watch::Receiver<bool>) -> Cancelled {
    Box::pin(async move {
        if rx.wait_for(|on| *on).await.is_err() {
            // The trigger is gone without firing: the server is gone too; never complete.
            std::future::pending::<()>().await;
        }
    })
}

impl<S, B, R> tower_service::Service<http::Request<B>> for ShutdownService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<CancelOnShutdown<R>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let rx = if is_long(request.uri().path()) { self.layer.long.clone() } else { self.layer.all.clone() };
        let call = inner.call(request);
        Box::pin(async move {
            let mut stop = cancelled(rx);
            tokio::select! {
                response = call => {
                    let response = response?;
                    Ok(response.map(|body| CancelOnShutdown { inner: body, stop: Some(stop), done: false }))
                }
                () = &mut stop => {
                    let response = tonic::Status::unavailable(MESSAGE).into_http::<R>();
                    Ok(response.map(|body| CancelOnShutdown { inner: body, stop: None, done: false }))
                }
            }
        })
    }
}

/// A response body that ends with `UNAVAILABLE` trailers once the shutdown stage of its call
/// begins (between two messages).
pub struct CancelOnShutdown<R> {
    inner: R,
    stop: Option<Cancelled>,
    done: bool,
}

impl<R> std::fmt::Debug for CancelOnShutdown<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelOnShutdown").field("done", &self.done).finish_non_exhaustive()
    }
}

/// The trailers of a cancelled call.
fn unavailable_trailers() -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    map.insert("grpc-status", http::HeaderValue::from_static("14"));
    // Printable ASCII without `%`: valid as it is (gRPC percent-encodes only other bytes).
    map.insert("grpc-message", http::HeaderValue::from_static(MESSAGE));
    map
}

impl<R: Body + Unpin> Body for CancelOnShutdown<R> {
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<R::Data>, R::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(stop) = self.stop.as_mut()
            && stop.as_mut().poll(cx).is_ready()
        {
            self.done = true;
            self.stop = None;
            return Poll::Ready(Some(Ok(Frame::trailers(unavailable_trailers()))));
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.done = true,
            Poll::Ready(Some(Ok(frame))) if frame.is_trailers() => {
                // The call ended by itself; nothing to cancel any more.
                self.stop = None;
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.done { SizeHint::with_exact(0) } else { self.inner.size_hint() }
    }
}

impl<R: Default> Default for CancelOnShutdown<R> {
    fn default() -> Self {
        Self { inner: R::default(), stop: None, done: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_exports_are_long_unary_calls_are_not() {
        for long in ["/isobar.v1.Query/Scan", "/isobar.v1.Admin/Export", "/grpc.health.v1.Health/Watch"] {
            assert!(is_long(long), "{long}");
        }
        for short in ["/isobar.v1.Ingest/Write", "/isobar.v1.Admin/Flush", "/grpc.health.v1.Health/Check"] {
            assert!(!is_long(short), "{short}");
        }
    }

    #[test]
    fn the_trailers_say_unavailable_and_why() {
        let t = unavailable_trailers();
        assert_eq!(t.get("grpc-status").and_then(|v| v.to_str().ok()), Some("14"));
        let message = t.get("grpc-message").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(message.starts_with("server shutting down") && !message.contains('%'), "{message}");
    }
}
