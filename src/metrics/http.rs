//! The metrics HTTP endpoint: HTTP/1.1 with hyper on its own port.
//!
//! Every request first passes [`Access::check`] (a token with `[auth]` on, unless
//! `metrics.allow_anonymous`): `401` with `WWW-Authenticate: Bearer` otherwise.
//!
//! | request | answer |
//! |---|---|
//! | `GET /metrics` | 200, the exposition ([`CONTENT_TYPE`]) |
//! | `GET /ready` | 200 `ready` while the database takes writes; 503 `not ready: read-only (REASON): DETAIL` while it refuses them for a background failure (see [`ready`]) |
//! | `GET /` | 200, a line of text pointing at `/metrics` |
//! | `GET` anything else | 404 |
//! | any other method | 405 with `Allow: GET` |
//!
//! The engine snapshot reads the current version and a few locks, so it is taken on the
//! blocking pool, never on a tokio worker. Connections go through [`crate::net::http1::serve`]
//! (the caps and timeouts of `[connections]`); the accept loop stops when the [`MetricsServer`]
//! handle is dropped.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use isobar_storage::Db;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::access::Access;
use super::render::render;
use super::requests::RequestMetrics;
use super::text::CONTENT_TYPE;

/// The running endpoint; dropping it stops accepting connections.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `metrics.listen` of `config` and serves the metrics of `db` and `requests` there,
    /// under the caps and timeouts of `[connections]` and the access rules of [`Access`].
    pub async fn start(
        config: &crate::config::Config,
        db: Db,
        requests: RequestMetrics,
        tokens: &crate::auth::Authenticator,
    ) -> std::io::Result<MetricsServer> {
        let connections = &config.connections;
        let listener = TcpListener::bind(config.metrics.listen).await?;
        let addr = listener.local_addr()?;
        let gate = crate::net::accept::Gate::new("metrics", connections);
        requests.watch_listener(gate.listener.clone());
        let timeouts = crate::net::http1::HttpTimeouts::from_config(connections);
        let service = Answer { db, requests: requests.clone(), access: Access::new(config, tokens) };
        let task = tokio::spawn(async move {
            let _ = crate::net::http1::serve(listener, gate, timeouts, None, service, std::future::pending()).await;
        });
        tracing::info!(listen = %addr, "serving Prometheus metrics at /metrics");
        Ok(MetricsServer { addr, task })
    }

    /// The bound address (with the port the OS chose for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// [`answer`] as a tower service (what [`crate::net::http1::serve`] takes).
#[derive(Clone)]
struct Answer {
    db: Db,
    requests: RequestMetrics,
    access: Access,
}

impl tower_service::Service<crate::net::http1::Request> for Answer {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: crate::net::http1::Request) -> Self::Future {
        Box::pin(answer(request, self.db.clone(), self.requests.clone(), self.access.clone()))
    }
}

/// The readiness answer, for probes that cannot speak gRPC: the same condition as the gRPC health
/// service's `NOT_SERVING` ([`Db::read_only`]). Cheap enough for a tokio worker: two small
/// mutexes and the memtable sizes, no I/O. Probes carry no token, so `/ready` needs none (as
/// Kubernetes' HTTP probes expect); a caller without a valid token gets the reason but not the
/// detail, which may name files of the server.
fn ready(db: &Db, authenticated: bool) -> (http::StatusCode, String) {
    match db.read_only() {
        None => (http::StatusCode::OK, "ready\n".into()),
        Some(state) if authenticated => (
            http::StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: read-only ({}): {}\n", state.reason.as_str(), state.detail),
        ),
        Some(state) => {
            (http::StatusCode::SERVICE_UNAVAILABLE, format!("not ready: read-only ({})\n", state.reason.as_str()))
        }
    }
}

async fn answer<B>(
    request: http::Request<B>,
    db: Db,
    requests: RequestMetrics,
    access: Access,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let reply = |status: http::StatusCode, content_type: &str, body: String| {
        let mut response = http::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(v) = http::HeaderValue::from_str(content_type) {
            response.headers_mut().insert(http::header::CONTENT_TYPE, v);
        }
        response
    };
    const PLAIN: &str = "text/plain; charset=utf-8";
    let authenticated = access.check(request.headers());
    if request.method() == http::Method::GET && request.uri().path() == "/ready" {
        let (status, body) = ready(&db, authenticated.is_ok());
        return Ok(reply(status, PLAIN, body));
    }
    if let Err(refused) = authenticated {
        tracing::warn!(error = %refused, "metrics scrape refused: not authenticated");
        let mut response = reply(http::StatusCode::UNAUTHORIZED, PLAIN, format!("{refused}\n"));
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer realm=\"isobar-metrics\""));
        return Ok(response);
    }
    if request.method() != http::Method::GET {
        let mut response = reply(http::StatusCode::METHOD_NOT_ALLOWED, PLAIN, "only GET is supported\n".into());
        response.headers_mut().insert(http::header::ALLOW, http::HeaderValue::from_static("GET"));
        return Ok(response);
    }
    Ok(match request.uri().path() {
        "/metrics" => {
            match tokio::task::spawn_blocking(move || render(&access.redact(db.metrics()), &requests)).await {
                Ok(text) => reply(http::StatusCode::OK, CONTENT_TYPE, text),
                Err(e) => {
                    reply(http::StatusCode::INTERNAL_SERVER_ERROR, PLAIN, format!("metrics snapshot failed: {e}\n"))
                }
            }
        }
        "/" => reply(
            http::StatusCode::OK,
            PLAIN,
            "Isobar metrics endpoint. Prometheus metrics are at /metrics (text format 0.0.4).\n".into(),
        ),
        other => reply(http::StatusCode::NOT_FOUND, PLAIN, format!("no page {other}; metrics are at /metrics\n")),
    })
}
