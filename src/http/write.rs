//! The write endpoints: `POST /write` (InfluxDB 1.x) and `POST /api/v2/write` (2.x).
//!
//! ```text
//! query (precision, token) ─► authenticate (headers only) ─► body (≤ max_body_bytes)
//!     ─► admission (compressed bytes) ─► blocking pool {
//!     gunzip (≤ max_body_bytes, every inflated chunk charged to admission)
//!     ─► map_lines (parse, map) ─► authorize(tables) ─► check_catalog
//!     ─► apply (create tables, one Db::write) } ─► 204
//! ```
//!
//! The order is the security model: a request without a valid token is answered 401 from its
//! headers, before a byte of its body is read, inflated or parsed; a token without `write` on a
//! table is answered 403 before the catalog is consulted, so refusals never disclose families,
//! columns or types. The inflated size of a gzip body counts against the in-flight budget
//! (`server.max_inflight_write_bytes`) as it is produced, so authenticated floods are bounded too.
//!
//! `db`, `rp` (v1) and `org`, `bucket` (v2) are accepted and ignored: the server has one database
//! and the measurement names the table. Parsing, decompression and the engine write run on
//! tokio's blocking pool; a refused request writes nothing.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use isobar_ingest::admission::{Admission, Admitted};
use isobar_ingest::line_protocol::{Precision, apply, check_catalog, map_lines};
use isobar_wire::status::ApiError;

use super::LineProtocolState;
use super::auth::credential;
use super::query::Query;
use super::reply::Failure;
use crate::net::http1::Peer;

/// `POST /write?db=&precision=n|u|ms|s&u=&p=` (`p` only with `line_protocol.allow_token_in_url`).
pub async fn write_v1(
    State(state): State<Arc<LineProtocolState>>,
    peer: Option<Extension<Peer>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = Query::parse(uri.query());
    let in_url = query.get("p").filter(|p| !p.is_empty());
    if in_url.is_some() && !state.allow_token_in_url {
        return respond(peer, Err(Failure::token_in_url()));
    }
    let token = credential(&headers, in_url);
    let ip = peer.as_ref().map(|Extension(Peer(addr))| addr.ip());
    respond(peer, write(state, ip, &query, token, headers, body).await)
}

/// `POST /api/v2/write?org=&bucket=&precision=ns|us|ms|s`.
pub async fn write_v2(
    State(state): State<Arc<LineProtocolState>>,
    peer: Option<Extension<Peer>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = Query::parse(uri.query());
    let token = credential(&headers, None);
    let ip = peer.as_ref().map(|Extension(Peer(addr))| addr.ip());
    respond(peer, write(state, ip, &query, token, headers, body).await)
}

/// The answer; refusals of the caller (400 for a token in the URL, 401, 403) are logged with
/// the peer address (never a secret: the messages name tokens, tables and keys only).
fn respond(peer: Option<Extension<Peer>>, result: Result<(), Failure>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(failure) => {
            let refused = matches!(failure.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
                || failure.code == Failure::TOKEN_IN_URL;
            if refused {
                let peer = peer.map_or_else(|| "unknown".to_owned(), |Extension(Peer(addr))| addr.to_string());
                tracing::warn!(%peer, status = failure.status.as_u16(), error = %failure.message, "line-protocol write refused");
            }
            failure.into_response()
        }
    }
}

async fn write(
    state: Arc<LineProtocolState>,
    peer: Option<std::net::IpAddr>,
    query: &Query,
    token: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(), Failure> {
    let now_ns =
        SystemTime::now().duration_since(UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_nanos()).ok()).unwrap_or(0);
    let precision = match query.get("precision") {
        None | Some("") => Precision::Nanoseconds,
        Some(p) => Precision::parse(p).ok_or_else(|| {
            Failure::invalid(format!("precision \"{p}\" is not one of ns, us, ms, s (v1 also: n, u)"))
        })?,
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
        None | Some("" | "identity") => false,
        Some(e) if e.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            return Err(Failure::invalid(format!("Content-Encoding \"{other}\" is not supported (use gzip)")));
        }
    };
    state.authorizer.authenticate_from(peer, token.as_deref())?;
    let max = state.max_body_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(Failure::too_large(max));
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            Failure::too_large(max)
        } else if let Some(late) = timed_out(&e) {
            Failure::body_timed_out(late.0)
        } else {
            Failure::invalid(format!("cannot read the request body: {e}"))
        }
    })?;
    let admitted = state.admission.try_admit(bytes.len())?;
    let task = tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        let mut inflated_admitted = Vec::new();
        let owned;
        let body: &[u8] = if gzip {
            owned = gunzip(&bytes, max, &state.admission, &mut inflated_admitted)?;
            &owned
        } else {
            &bytes
        };
        let mapped = map_lines(&state.db, body, precision, now_ns, &state.options)?;
        let tables: Vec<&str> = mapped.tables.iter().map(|t| t.name.as_str()).collect();
        state.authorizer.authorize_from(peer, token.as_deref(), &tables)?;
        check_catalog(&state.db, &mapped, &state.options)?;
        apply(&state.db, mapped, &state.options)?;
        Ok::<(), Failure>(())
    });
    task.await.map_err(|e| Failure::internal(format!("write task failed: {e}")))?
}

/// The body timeout somewhere in the causes of `error`, if that is why the body failed.
fn timed_out<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a crate::net::body::BodyTimedOut> {
    let mut cause = Some(error);
    // Bounded: error chains are short; a cycle cannot hold us.
    for _ in 0..8 {
        let current = cause?;
        if let Some(late) = current.downcast_ref::<crate::net::body::BodyTimedOut>() {
            return Some(late);
        }
        cause = current.source();
    }
    None
}

/// Bytes of gzip bodies inflated since the process started.
static BYTES_INFLATED: AtomicU64 = AtomicU64::new(0);

/// Bytes this process has inflated from gzip line-protocol bodies: how tests and operators see
/// that a refused request cost no decompression.
pub fn bytes_inflated() -> u64 {
    BYTES_INFLATED.load(Ordering::Relaxed)
}

/// The piece of inflated output charged to admission at a time.
const INFLATE_CHUNK: usize = 64 * 1024;

/// Decompresses a gzip body of at most `max` bytes once decompressed, taking every chunk of
/// output from `admission` as it is produced (the permits are pushed to `held`, to be kept until
/// the request ends). A body whose inflated size does not fit the budget is refused (429, naming
/// `server.max_inflight_write_bytes`) before more is inflated.
fn gunzip(compressed: &[u8], max: u64, admission: &Admission, held: &mut Vec<Admitted>) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(compressed).take(max.saturating_add(1));
    let mut chunk = vec![0u8; INFLATE_CHUNK];
    loop {
        let n = decoder
            .read(&mut chunk)
            .map_err(|e| Failure::invalid(format!("the gzip body cannot be decompressed: {e}")))?;
        if n == 0 {
            break;
        }
        BYTES_INFLATED.fetch_add(n as u64, Ordering::Relaxed);
        if (out.len() + n) as u64 > max {
            return Err(Failure::too_large(max));
        }
        let admitted = admission.try_admit(n).map_err(|e| match e {
            ApiError::Busy { limit, retry_after, .. } => {
                Failure::inflated_over_budget((out.len() + n) as u64, limit, retry_after)
            }
            other => Failure::from(other),
        })?;
        held.push(admitted);
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
}
