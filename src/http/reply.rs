//! HTTP answers in InfluxDB's shape: `204` on success, JSON `{"code": ..., "message": ...}` on
//! failure, with the status codes InfluxDB clients and Telegraf act on.
//!
//! | failure | status | `code` |
//! |---|---|---|
//! | bad line, type conflict, bad parameter, engine refusal of the input | 400 | `invalid` |
//! | no or unknown credential | 401 | `unauthorized` |
//! | no write permission | 403 | `forbidden` |
//! | body over `line_protocol.max_body_bytes` (before or after gzip) | 413 | `request too large` |
//! | more series or cells than `storage.max_series_per_request` / `max_cells_per_request` | 413 | `request too large` |
//! | engine behind, too many bytes in flight | 503 + `Retry-After` | `unavailable` |
//! | anything else (disk, bug) | 500 | `internal error` |

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use isobar_ingest::line_protocol::LineWriteError;
use isobar_storage::{Error, InvalidInput};
use isobar_wire::status::ApiError;

use super::auth::Denied;

/// A refused request.
#[derive(Debug)]
pub struct Failure {
    /// HTTP status.
    pub status: StatusCode,
    /// InfluxDB's error code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// Retry hint of a 503.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A 400 `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "invalid", message: message.into(), retry_after: None }
    }

    /// A 413.
    pub fn too_large(limit: u64) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "request too large",
            message: format!(
                "the body is larger than line_protocol.max_body_bytes = {limit} bytes (after decompression)"
            ),
            retry_after: None,
        }
    }

    /// A 429: the inflated body does not fit the in-flight budget right now.
    pub fn inflated_over_budget(inflated: u64, limit: u64, retry_after: Duration) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too many requests",
            message: format!(
                "the gzip body inflated to {inflated} bytes so far, more than is free of \
                 server.max_inflight_write_bytes = {limit} bytes of writes in flight; retry later"
            ),
            retry_after: Some(retry_after),
        }
    }

    /// The `code` of [`Failure::token_in_url`].
    pub const TOKEN_IN_URL: &'static str = "token in url";

    /// A 400: the v1 token came in the URL while `line_protocol.allow_token_in_url` is off.
    pub fn token_in_url() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: Self::TOKEN_IN_URL,
            message: "the token was sent in the URL (p=), where proxies and access logs record it; send it as \
                      Authorization: Token <secret> instead, or set line_protocol.allow_token_in_url = true \
                      (ISOBAR_LINE_PROTOCOL_ALLOW_TOKEN_IN_URL=true) for v1 clients that cannot"
                .into(),
            retry_after: None,
        }
    }

    /// A 408: the body did not arrive within `connections.body_read_timeout`.
    pub fn body_timed_out(timeout: Duration) -> Self {
        Self {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "request timeout",
            message: format!(
                "the request body did not arrive within connections.body_read_timeout = {timeout:?}; \
                 send it faster or in smaller requests"
            ),
            retry_after: None,
        }
    }

    /// A 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal error",
            message: message.into(),
            retry_after: None,
        }
    }

    fn unavailable(message: String, retry_after: Duration) -> Self {
        Self { status: StatusCode::SERVICE_UNAVAILABLE, code: "unavailable", message, retry_after: Some(retry_after) }
    }
}

impl From<Denied> for Failure {
    fn from(denied: Denied) -> Self {
        let (status, code) = match denied {
            Denied::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Denied::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        };
        Self { status, code, message: denied.to_string(), retry_after: None }
    }
}

impl From<LineWriteError> for Failure {
    fn from(error: LineWriteError) -> Self {
        match error {
            LineWriteError::Line(e) => Failure::invalid(e.to_string()),
            LineWriteError::Engine(e) => Failure::from(e),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(e @ (InvalidInput::TooManySeries { .. } | InvalidInput::TooManyCells { .. })) => Self {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "request too large",
                message: e.to_string(),
                retry_after: None,
            },
            Error::Invalid(e) => Failure::invalid(e.to_string()),
            Error::Overloaded { ref retry_after, .. } => Failure::unavailable(error.to_string(), *retry_after),
            other => Failure::internal(other.to_string()),
        }
    }
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Busy { retry_after, .. } => Failure::unavailable(error.to_string(), retry_after),
            ApiError::Storage(e) => Failure::from(e),
            other => Failure::internal(other.to_string()),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        if let Some(wait) = self.retry_after {
            // Whole seconds, at least one (the header has no finer unit).
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        response
    }
}
