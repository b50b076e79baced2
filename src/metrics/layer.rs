//! [`RequestLayer`]: a tower layer around the gRPC router that counts every call by RPC and
//! status code and times it.
//!
//! ```text
//! request ─► RequestService ─► inner (router) ─► response head
//!                                                  │ grpc-status in the head ("trailers-only":
//!                                                  │ how tonic answers errors) ─► record now
//!                                                  ▼
//!                                              MetricsBody ─► frames ... trailers(grpc-status) ─► record
//!                                                  └─ dropped before a status: CANCELLED
//!                                                  └─ ended without a status:  UNKNOWN
//! ```
//!
//! The call is recorded at the moment its status is produced, before it is sent, so a client
//! that has seen the end of a call will see it counted by the next scrape. The latency is from
//! the request's arrival at this layer to that moment (for server-streaming calls, the whole
//! stream). Added as the first `.layer(...)` of the server builder, it is the outermost layer
//! and also counts calls that inner layers (authentication) refuse.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::requests::{RequestMetrics, RpcStats, UNKNOWN};

/// Status code of a dropped call.
const CANCELLED: usize = 1;

/// The layer; see the module doc.
#[derive(Clone, Debug)]
pub struct RequestLayer {
    metrics: RequestMetrics,
}

impl RequestLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: RequestMetrics) -> Self {
        Self { metrics }
    }
}

impl<S> tower_layer::Layer<S> for RequestLayer {
    type Service = RequestService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestService { inner, metrics: self.metrics.clone() }
    }
}

/// The service [`RequestLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct RequestService<S> {
    inner: S,
    metrics: RequestMetrics,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for RequestService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<MetricsBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let call = Call { stats: self.metrics.rpc(request.uri().path()), start: Instant::now(), done: false };
        ResponseFuture { inner: self.inner.call(request), call: Some(call) }
    }
}

/// One call being timed; records itself as CANCELLED if dropped before a status was seen.
#[derive(Debug)]
struct Call {
    stats: Arc<RpcStats>,
    start: Instant,
    done: bool,
}

impl Call {
    fn finish(&mut self, code: usize) {
        if !self.done {
            self.done = true;
            self.stats.record(code, self.start.elapsed());
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        self.finish(CANCELLED);
    }
}

/// The status code in `headers` (`grpc-status`), if present; an unparsable one is UNKNOWN.
fn status_of(headers: &http::HeaderMap) -> Option<usize> {
    let value = headers.get("grpc-status")?;
    Some(value.to_str().ok().and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(UNKNOWN))
}

pin_project! {
    /// The response future of [`RequestService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        call: Option<Call>,
    }
}

impl<F, ResBody, E> std::future::Future for ResponseFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<MetricsBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        let mut call = this.call.take();
        match result {
            Ok(response) => {
                if let (Some(code), Some(c)) = (status_of(response.headers()), call.as_mut()) {
                    c.finish(code);
                }
                Poll::Ready(Ok(response.map(|inner| MetricsBody { inner, call })))
            }
            Err(e) => {
                if let Some(c) = call.as_mut() {
                    c.finish(UNKNOWN);
                }
                Poll::Ready(Err(e))
            }
        }
    }
}

pin_project! {
    /// A response body that records its call when the trailers carry the status.
    pub struct MetricsBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }
}

impl<B: Body> Body for MetricsBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let Some(call) = this.call.as_mut() {
            match &frame {
                Some(Ok(f)) => {
                    if let Some(code) = f.trailers_ref().and_then(status_of) {
                        call.finish(code);
                    }
                }
                Some(Err(_)) | None => call.finish(UNKNOWN),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
