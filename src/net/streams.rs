//! gRPC streams as connection activity: [`StreamLayer`] finds the connection of each call (by the
//! peer address tonic puts in the request) in a [`Registry`] and holds one of its streams open
//! until the response body ends, so [`super::Tracked`] closes only connections with no call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use parking_lot::Mutex;
use pin_project_lite::pin_project;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::tracked::{Activity, StreamGuard};

/// The open gRPC connections by peer address (unique among open TCP connections).
#[derive(Clone, Debug, Default)]
pub struct Registry {
    connections: Arc<Mutex<HashMap<SocketAddr, Weak<Activity>>>>,
}

impl Registry {
    /// Records `activity` as the connection from `peer` until the returned value is dropped.
    pub fn register(&self, peer: SocketAddr, activity: Arc<Activity>) -> Registration {
        self.connections.lock().insert(peer, Arc::downgrade(&activity));
        Registration { registry: self.clone(), peer }
    }

    fn find(&self, peer: SocketAddr) -> Option<Arc<Activity>> {
        self.connections.lock().get(&peer).and_then(Weak::upgrade)
    }
}

/// A connection's entry in the [`Registry`], removed on drop.
#[derive(Debug)]
pub struct Registration {
    registry: Registry,
    peer: SocketAddr,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.connections.lock().remove(&self.peer);
    }
}

/// The layer; see the module doc.
#[derive(Clone, Debug)]
pub struct StreamLayer {
    registry: Registry,
}

impl StreamLayer {
    /// A layer marking calls on the connections of `registry`.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

impl<S> tower_layer::Layer<S> for StreamLayer {
    type Service = StreamService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        StreamService { inner, registry: self.registry.clone() }
    }
}

/// The service [`StreamLayer`] wraps around the router.
#[derive(Clone, Debug)]
pub struct StreamService<S> {
    inner: S,
    registry: Registry,
}

/// The peer address tonic recorded for the request's connection.
fn peer_of<B>(request: &http::Request<B>) -> Option<SocketAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| extensions.get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|info| info.get_ref().remote_addr()))
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for StreamService<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<StreamBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let guard = peer_of(&request).and_then(|peer| self.registry.find(peer)).map(|a| a.stream());
        ResponseFuture { inner: self.inner.call(request), guard }
    }
}

pin_project! {
    /// The response future of [`StreamService`]; holds the stream open meanwhile.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        guard: Option<StreamGuard>,
    }
}

impl<F, ResBody, E> std::future::Future for ResponseFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<StreamBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx));
        let guard = this.guard.take();
        Poll::Ready(response.map(|r| r.map(|inner| StreamBody { inner, _guard: guard })))
    }
}

pin_project! {
    /// A response body that keeps its stream open until it is dropped.
    pub struct StreamBody<B> {
        #[pin]
        inner: B,
        _guard: Option<StreamGuard>,
    }
}

impl<B: Body> Body for StreamBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
