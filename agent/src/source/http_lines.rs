//! Line protocol over HTTP, acknowledged: `listen = "http://127.0.0.1:8186"` serves the write
//! endpoints of InfluxDB 1.x (`POST /write`) and 2.x (`POST /api/v2/write`) and `GET|HEAD /ping`,
//! so Telegraf's `influxdb` / `influxdb_v2` outputs and the InfluxDB client libraries can send to
//! the agent unchanged.
//!
//! Unlike a raw TCP stream, a request has an answer: `204 No Content` is sent only after every
//! reading of the request is in the agent's on-disk queue (the batcher fires the chunk's
//! [`Ack`] after the append and sync), so a sender that saw 204 may forget its lines: a SIGKILL of
//! the agent right after loses none of them. A request is all-or-nothing: one bad line refuses
//! the whole request with `400` and a JSON body naming the line (InfluxDB's error shape,
//! `{"code": "invalid", "message": ...}`), and nothing of it is queued. The limits of the
//! listener hold: `max_connections` open connections, `max_body_bytes` per request (`413`, also
//! after gzip decoding), `max_line_bytes` per line, `idle_timeout_ms` to send a request's head.
//!
//! Query parameters: `precision` (`ns`/`n`, `us`/`u`, `ms`, `s`) overrides the source's
//! precision for the request; `db`, `bucket`, `org` and `rp` are accepted and ignored (the table
//! is the line's measurement).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use isobar_proto::v1::Row;
use tokio::sync::Semaphore;

use super::lines::LineOptions;
use super::{Ack, Chunk, Ctx, listen};
use crate::config::TsUnit;
use crate::lp;

/// Longest a request waits for its readings to be queued before it is answered `503` (the
/// queue is full under policy `block`, or the disk is slow); the readings may still be queued,
/// and a retry upserts the same rows.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the accept loop looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

type Answer = Response<Full<Bytes>>;

/// Serves `listener` until the agent stops.
pub fn serve_http(listener: std::net::TcpListener, opts: &LineOptions, ctx: &Ctx) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    listen::warn_if_remote(&ctx.name, local);
    tracing::info!(source = %ctx.name, addr = %local, "line protocol over HTTP (POST /write, /api/v2/write)");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let open = Arc::new(Semaphore::new(opts.limits.max_connections));
        while !ctx.stopping() {
            let (stream, peer) = match tokio::time::timeout(POLL, listener.accept()).await {
                Err(_) => continue,
                Ok(Err(e)) => {
                    tracing::warn!(source = %ctx.name, error = %e, "accept failed");
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                Ok(Ok(accepted)) => accepted,
            };
            let Ok(permit) = open.clone().try_acquire_owned() else {
                ctx.metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(source = %ctx.name, %peer, max_connections = opts.limits.max_connections,
                    "connection refused: too many open connections (max_connections)");
                continue;
            };
            let (ctx, opts) = (ctx.clone(), opts.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let idle = Duration::from_millis(opts.limits.idle_timeout_ms);
                let service = service_fn(|req| {
                    let (ctx, opts) = (ctx.clone(), opts.clone());
                    async move { Ok::<_, std::convert::Infallible>(answer(req, &opts, &ctx).await) }
                });
                let served = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(idle)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
                if let Err(e) = served {
                    tracing::debug!(source = %ctx.name, %peer, error = %e, "HTTP connection ended");
                }
            });
        }
        Ok(())
    })
}

/// The answer to one request.
async fn answer(req: Request<Incoming>, opts: &LineOptions, ctx: &Ctx) -> Answer {
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/ping") => return empty(StatusCode::NO_CONTENT),
        (&Method::POST, "/write" | "/api/v2/write") => {}
        (_, "/write" | "/api/v2/write" | "/ping") => {
            return error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", "use POST to write, GET to ping");
        }
        (_, path) => {
            let message = format!("no endpoint {path}: write with POST /write or POST /api/v2/write");
            return error(StatusCode::NOT_FOUND, "not found", &message);
        }
    }
    if ctx.stopping() {
        let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the agent is stopping; retry");
        r.headers_mut().insert(RETRY_AFTER, hyper::header::HeaderValue::from_static("1"));
        return r;
    }
    let precision = match precision_of(req.uri().query().unwrap_or_default()) {
        Ok(p) => p.unwrap_or(opts.precision),
        Err(message) => return error(StatusCode::BAD_REQUEST, "invalid", &message),
    };
    let gzip = match req.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?")) {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            let message = format!("Content-Encoding {other:?} is not supported: send identity or gzip");
            return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid", &message);
        }
    };
    let max = opts.limits.max_body_bytes;
    let body = match Limited::new(req.into_body(), max).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return too_large(max),
        Err(e) => return error(StatusCode::BAD_REQUEST, "invalid", &format!("reading the request body: {e}")),
    };
    let body = if gzip {
        match gunzip(&body, max) {
            Ok(Some(plain)) => Bytes::from(plain),
            Ok(None) => return too_large(max),
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid", &format!("the gzip body is not valid: {e}")),
        }
    } else {
        body
    };
    let rows = match parse_body(&body, &opts.family, precision, opts.limits.max_line_bytes) {
        Ok(rows) => rows,
        Err(message) => {
            ctx.metrics.bad_readings.fetch_add(1, Ordering::Relaxed);
            return error(
                StatusCode::BAD_REQUEST,
                "invalid",
                &format!("{message}; nothing of this request was written"),
            );
        }
    };
    if rows.is_empty() {
        return empty(StatusCode::NO_CONTENT);
    }
    match queue(rows, ctx).await {
        Queued::Yes => empty(StatusCode::NO_CONTENT),
        Queued::Failed => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            "the readings could not be queued (see the agent's log); nothing was acknowledged, retry",
        ),
        Queued::Late => {
            let message = "the queue did not take the readings in time (it is full or the disk is slow); they \
                           may still be stored: retry, which overwrites the same rows";
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
            r.headers_mut().insert(RETRY_AFTER, hyper::header::HeaderValue::from_static("5"));
            r
        }
    }
}

/// What became of a request's readings.
enum Queued {
    /// In the on-disk queue.
    Yes,
    /// The append failed, or the agent stopped before taking them.
    Failed,
    /// Not confirmed within [`ACK_TIMEOUT`].
    Late,
}

/// Hands `rows` to the batcher as one chunk and waits until they are queued.
async fn queue(rows: Vec<Row>, ctx: &Ctx) -> Queued {
    let ctx = ctx.clone();
    let waited = tokio::task::spawn_blocking(move || {
        let (tx, rx) = std::sync::mpsc::channel();
        // `send` blocks while the batcher's channel is full (back-pressure from the queue).
        if !ctx.send(Chunk { rows, ack: Some(Ack::new(tx, 0)), ..Chunk::default() }) {
            return Queued::Failed;
        }
        match rx.recv_timeout(ACK_TIMEOUT) {
            Ok(_) => Queued::Yes,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Queued::Failed,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Queued::Late,
        }
    })
    .await;
    waited.unwrap_or(Queued::Failed)
}

/// The `precision` query parameter, if given.
fn precision_of(query: &str) -> Result<Option<TsUnit>, String> {
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "precision" {
            continue;
        }
        return match value {
            "ns" | "n" => Ok(Some(TsUnit::Ns)),
            "us" | "u" => Ok(Some(TsUnit::Us)),
            "ms" => Ok(Some(TsUnit::Ms)),
            "s" => Ok(Some(TsUnit::S)),
            other => Err(format!("precision {other:?} is not one of ns, us, ms, s (or n, u)")),
        };
    }
    Ok(None)
}

/// Every row of `body`, or the first problem with the line it is on (1-based).
pub(crate) fn parse_body(body: &[u8], family: &str, precision: TsUnit, max_line: usize) -> Result<Vec<Row>, String> {
    let text = std::str::from_utf8(body).map_err(|e| {
        let line = 1 + body.iter().take(e.valid_up_to()).filter(|b| **b == b'\n').count();
        format!("line {line}: not UTF-8")
    })?;
    let mut rows = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > max_line {
            return Err(format!("line {}: {} bytes, over max_line_bytes = {max_line}", i + 1, line.len()));
        }
        match lp::parse_line(line, family, precision) {
            Ok(row) => rows.extend(row),
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        }
    }
    Ok(rows)
}

/// The gunzipped `body`, or `None` when it is longer than `max` bytes.
fn gunzip(body: &[u8], max: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut plain = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(body).take(limit).read_to_end(&mut plain)?;
    Ok((plain.len() <= max).then_some(plain))
}

fn empty(status: StatusCode) -> Answer {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn too_large(max: usize) -> Answer {
    let message = format!("the request body is over max_body_bytes = {max}: send fewer lines per request");
    error(StatusCode::PAYLOAD_TOO_LARGE, "request too large", &message)
}

/// An error answer in InfluxDB's shape: `{"code": ..., "message": ...}`.
fn error(status: StatusCode, code: &str, message: &str) -> Answer {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_parses_line_by_line_and_names_the_bad_line() {
        let body = b"env,site=a temp=1.5 1\r\n\n# a comment\nenv,site=b temp=2 2\n";
        let rows = parse_body(body, "fields", TsUnit::S, 1024).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].ts, 2_000_000_000, "precision s");
        let err = parse_body(b"env,site=a temp=1 1\nenv,site=a temp= 2\n", "fields", TsUnit::S, 1024).expect_err("bad");
        assert!(err.starts_with("line 2:"), "{err}");
        let err = parse_body(b"env,site=a temp=1 1\n", "fields", TsUnit::S, 5).expect_err("long");
        assert!(err.contains("max_line_bytes = 5"), "{err}");
        let err = parse_body(b"env t=1 1\n\xff\n", "fields", TsUnit::S, 1024).expect_err("utf8");
        assert_eq!(err, "line 2: not UTF-8");
    }

    #[test]
    fn precision_comes_from_the_query() {
        assert_eq!(precision_of("db=x&precision=ms").expect("ok"), Some(TsUnit::Ms));
        assert_eq!(precision_of("precision=n").expect("ok"), Some(TsUnit::Ns));
        assert_eq!(precision_of("bucket=b").expect("ok"), None);
        assert!(precision_of("precision=h").expect_err("bad").contains("\"h\""));
    }

    #[test]
    fn gzip_bodies_are_bounded_after_decoding() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&vec![b'a'; 10_000]).expect("write");
        let packed = enc.finish().expect("finish");
        assert_eq!(gunzip(&packed, 10_000).expect("ok").map(|p| p.len()), Some(10_000));
        assert_eq!(gunzip(&packed, 9_999).expect("ok"), None, "one byte over the limit");
        assert!(gunzip(b"not gzip", 100).is_err());
    }
}
