//! The write endpoints: `POST /write` (InfluxDB 1.x) and `POST /api/v2/write` (2.x).
//!
//! ```text
//! query (precision, token) ─► body (≤ max_body_bytes) ─► admission ─► blocking pool {
//!     gunzip (≤ max_body_bytes) ─► prepare (parse, map, catalog check) ─► authorize(tables)
//!     ─► apply (create tables, one Db::write) } ─► 204
//! ```
//!
//! `db`, `rp` (v1) and `org`, `bucket` (v2) are accepted and ignored: the server has one database
//! and the measurement names the table. Parsing, decompression and the engine write run on
//! tokio's blocking pool; a refused request writes nothing.

use std::io::Read;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use isobar_ingest::line_protocol::{Precision, apply, prepare};

use super::LineProtocolState;
use super::auth::credential;
use super::query::Query;
use super::reply::Failure;

/// `POST /write?db=&precision=n|u|ms|s&u=&p=`.
pub async fn write_v1(
    State(state): State<Arc<LineProtocolState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = Query::parse(uri.query());
    let token = credential(&headers, query.get("p"));
    respond(write(state, &query, token, headers, body).await)
}

/// `POST /api/v2/write?org=&bucket=&precision=ns|us|ms|s`.
pub async fn write_v2(
    State(state): State<Arc<LineProtocolState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = Query::parse(uri.query());
    let token = credential(&headers, None);
    respond(write(state, &query, token, headers, body).await)
}

fn respond(result: Result<(), Failure>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn write(
    state: Arc<LineProtocolState>,
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
    let max = state.max_body_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(Failure::too_large(max));
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            Failure::too_large(max)
        } else {
            Failure::invalid(format!("cannot read the request body: {e}"))
        }
    })?;
    let admitted = state.admission.try_admit(bytes.len())?;
    let task = tokio::task::spawn_blocking(move || {
        let _admitted = admitted;
        let owned;
        let body: &[u8] = if gzip {
            owned = gunzip(&bytes, max)?;
            &owned
        } else {
            &bytes
        };
        let mapped = prepare(&state.db, body, precision, now_ns, &state.options)?;
        let tables: Vec<&str> = mapped.tables.iter().map(|t| t.name.as_str()).collect();
        state.authorizer.authorize(token.as_deref(), &tables)?;
        apply(&state.db, mapped, &state.options)?;
        Ok::<(), Failure>(())
    });
    task.await.map_err(|e| Failure::internal(format!("write task failed: {e}")))?
}

/// Decompresses a gzip body of at most `max` bytes once decompressed.
fn gunzip(compressed: &[u8], max: u64) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(usize::try_from(max).unwrap_or(0)));
    let mut decoder = flate2::read::MultiGzDecoder::new(compressed).take(max.saturating_add(1));
    decoder
        .read_to_end(&mut out)
        .map_err(|e| Failure::invalid(format!("the gzip body cannot be decompressed: {e}")))?;
    if out.len() as u64 > max {
        return Err(Failure::too_large(max));
    }
    Ok(out)
}
