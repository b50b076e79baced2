//! The layer every call goes through: a span per call, authentication, and the outcome log.
//!
//! ```text
//! HTTP/2 request ─► span "rpc" {rpc, peer, principal} ─► health/reflection? ─► inner router
//!                    │ authorization: Bearer <secret> ─► Authenticator ─► CallAuth in extensions
//!                    │ (header removed)                      │ fails: UNAUTHENTICATED, warn
//!                    ▼                                       ▼
//!                 handler: authorize(table) ─► PERMISSION_DENIED, warn
//! response body ends (or is dropped) ─► "call finished" {code, duration_ms}: one INFO line
//!                                        per call (table and rows in the span when known)
//! ```
//!
//! Every call has a request id: the client's `x-request-id` header when it sends a usable one
//! (1 to 128 visible ASCII characters), else 16 random hex digits. It is a field of the call's
//! span, so every line logged during the call carries it (flat in JSON logs), and it is echoed
//! in the `x-request-id` response header, so a client can quote it in a report.
//!
//! The secret never reaches a log line nor a handler: the header is taken out of the request
//! before the router sees it. Handlers find the caller as [`CallAuth`] in the request extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tracing::{Instrument, Span};

use super::rpc::{Rpc, is_open_path};
use crate::auth::live::Identity;
use crate::auth::{AuthError, Authenticator, Principal};

/// The authenticated caller of a call and the method called, put into the request extensions.
///
/// A call that runs long (a stream) is re-checked against the live catalog by
/// [`super::guard`] on every message: `generation` is the catalog generation `principal` was
/// resolved under, so a revocation, a disabled user or a changed grant takes effect on the
/// next message, and an expiry as soon as it passes.
#[derive(Clone, Debug)]
pub struct CallAuth {
    /// Who calls (as of `generation`).
    pub principal: Principal,
    /// What (absent for a path that names no Isobar method; the router answers UNIMPLEMENTED).
    pub rpc: Option<Rpc>,
    /// True when authentication is off and every caller is the one anonymous identity.
    pub anonymous: bool,
    /// The token's identity (`None` with authentication off).
    pub identity: Option<Arc<Identity>>,
    /// The catalog generation `principal` was resolved under.
    pub generation: u64,
    /// The live authenticator, for re-checks and the audit log.
    pub auth: Authenticator,
    /// The client's address, when the transport knows it.
    pub peer: Option<std::net::SocketAddr>,
}

/// The [`tower_layer::Layer`] that wraps the router in [`CallService`].
#[derive(Clone, Debug)]
pub struct CallLayer {
    auth: Arc<Authenticator>,
}

impl CallLayer {
    /// A layer checking tokens with `auth`.
    pub fn new(auth: Authenticator) -> Self {
        Self { auth: Arc::new(auth) }
    }
}

impl<S> tower_layer::Layer<S> for CallLayer {
    type Service = CallService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallService { inner, auth: self.auth.clone() }
    }
}

/// See the module doc.
#[derive(Clone, Debug)]
pub struct CallService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

/// The bearer secret of `headers`: `None` without an `authorization` header.
fn bearer(headers: &http::HeaderMap) -> Result<Option<String>, AuthError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed { reason: "the authorization header is not ASCII" })?;
    let (scheme, secret) =
        value.split_once(' ').ok_or(AuthError::Malformed { reason: "expected `authorization: Bearer <token>`" })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed { reason: "only the Bearer scheme is accepted" });
    }
    Ok(Some(secret.trim().to_owned()))
}

/// The client's address, when the transport knows it.
fn peer_addr<B>(request: &http::Request<B>) -> Option<std::net::SocketAddr> {
    let ext = request.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
        .or_else(|| ext.get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|i| i.get_ref().remote_addr()))
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> tower_service::Service<http::Request<B>> for CallService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<Logged<R>>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let path = request.uri().path().to_owned();
        let id = request_id(request.headers());
        if is_open_path(&path) {
            request.headers_mut().remove(http::header::AUTHORIZATION);
            return Box::pin(async move { Ok(echo(inner.call(request).await?.map(Logged::silent), &id)) });
        }
        let rpc = Rpc::from_path(&path);
        let name = rpc.map_or_else(|| path.clone(), |r| r.to_string());
        let peer = peer_addr(&request);
        let shown = peer.map_or_else(|| "unknown".to_owned(), |a| a.to_string());
        let span = tracing::info_span!(
            "rpc",
            rpc = %name,
            request_id = %id,
            peer = %shown,
            principal = tracing::field::Empty,
            table = tracing::field::Empty,
            rows = tracing::field::Empty,
        );
        let started = Instant::now();
        let secret = bearer(request.headers());
        request.headers_mut().remove(http::header::AUTHORIZATION);
        let generation = self.auth.generation();
        let identity = secret.and_then(|s| self.auth.identify_from(peer.map(|p| p.ip()), s.as_deref(), &name));
        match identity {
            Ok(identity) => {
                let principal = identity.as_ref().map_or_else(Principal::anonymous, |i| i.principal.clone());
                span.record("principal", principal.name.as_str());
                let auth = (*self.auth).clone();
                let anonymous = !self.auth.enabled();
                request.extensions_mut().insert(CallAuth {
                    principal,
                    rpc,
                    anonymous,
                    identity,
                    generation,
                    auth,
                    peer,
                });
                let call = inner.call(request).instrument(span.clone());
                Box::pin(async move { Ok(echo(Logged::wrap(call.await?, span, started), &id)) })
            }
            Err(error) => {
                span.in_scope(|| tracing::warn!(%error, "call refused: not authenticated"));
                let response = tonic::Status::unauthenticated(error.to_string()).into_http::<R>();
                Box::pin(async move { Ok(echo(Logged::wrap(response, span, started), &id)) })
            }
        }
    }
}

/// The request id header, read and echoed.
pub const REQUEST_ID: &str = "x-request-id";

/// The client's request id when usable (1 to 128 visible ASCII characters), else a new one.
fn request_id(headers: &http::HeaderMap) -> String {
    let given = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::trim);
    match given {
        Some(id) if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) => id.to_owned(),
        _ => {
            let mut bytes = [0u8; 8];
            if getrandom::fill(&mut bytes).is_err() {
                // No randomness: time and a counter are unique enough within one server.
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
                bytes = ((t as u64) ^ n.rotate_left(32)).to_be_bytes();
            }
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    }
}

/// `response` with the request id in its headers.
fn echo<R>(mut response: http::Response<R>, id: &str) -> http::Response<R> {
    if let Ok(value) = http::HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A response body that logs the call's outcome once it ends or is dropped.
#[derive(Debug)]
pub struct Logged<R> {
    inner: R,
    log: Option<(Span, Instant)>,
    code: Option<String>,
}

impl<R> Logged<R> {
    /// Wraps the body of `response`, noting a status already in its headers (trailers-only).
    fn wrap(response: http::Response<R>, span: Span, started: Instant) -> http::Response<Self> {
        let (parts, inner) = response.into_parts();
        let mut body = Self { inner, log: Some((span, started)), code: None };
        body.note(&parts.headers);
        http::Response::from_parts(parts, body)
    }

    fn silent(inner: R) -> Self {
        Self { inner, log: None, code: None }
    }

    /// Remembers the `grpc-status` of trailers (or of trailers-only headers).
    fn note(&mut self, headers: &http::HeaderMap) {
        if let Some(code) = headers.get("grpc-status").and_then(|v| v.to_str().ok()) {
            self.code = Some(code.to_owned());
        }
    }
}

impl<R: Body + Unpin> Body for Logged<R> {
    type Data = R::Data;
    type Error = R::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<R::Data>, R::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(trailers) = frame.trailers_ref()
        {
            self.note(trailers);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<R> Drop for Logged<R> {
    fn drop(&mut self) {
        let Some((span, started)) = self.log.take() else {
            return;
        };
        let duration_ms = started.elapsed().as_secs_f64() * 1e3;
        let code = self.code.as_deref().and_then(|c| c.parse::<i32>().ok()).map(tonic::Code::from_i32);
        let _entered = span.enter();
        match code {
            Some(tonic::Code::Ok) => tracing::info!(code = "OK", duration_ms, "call finished"),
            Some(code) => tracing::info!(code = ?code, duration_ms, "call finished"),
            None => tracing::info!(code = "none (cancelled or connection lost)", duration_ms, "call finished"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        map.insert(http::header::AUTHORIZATION, http::HeaderValue::from_str(value).expect("header"));
        map
    }

    #[test]
    fn bearer_tokens_are_read_and_other_schemes_refused_without_echoing_them() {
        assert_eq!(bearer(&http::HeaderMap::new()), Ok(None));
        assert_eq!(bearer(&headers("Bearer s3cret")), Ok(Some("s3cret".to_owned())));
        assert_eq!(bearer(&headers("bearer  s3cret ")), Ok(Some("s3cret".to_owned())));
        for bad in ["Basic czNjcmV0", "s3cret"] {
            let err = bearer(&headers(bad)).unwrap_err();
            assert!(matches!(err, AuthError::Malformed { .. }), "{bad}: {err}");
            assert!(!err.to_string().contains("s3cret") && !err.to_string().contains("czNjcmV0"), "{err}");
        }
    }
}
