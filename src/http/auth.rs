//! Who may write: the credential of a request and the one call that authorizes it.
//!
//! InfluxDB clients send their token as `Authorization: Token X` (v2 clients, Telegraf),
//! `Authorization: Bearer X`, or as the v1 query parameter `p=X` (with a user name in `u=`,
//! which is ignored; accepted only with `line_protocol.allow_token_in_url`). [`credential`] extracts it; a [`WriteAuthorizer`] decides, once the tables
//! a request writes are known and before anything changes. The default, [`AllowAll`], admits
//! every request; the server's token authentication plugs in as another implementation.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::auth::{Authenticator, Permission};
use crate::config::Config;

/// Why a request may not write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credential, or one that identifies nobody (HTTP 401).
    #[error("unauthorized: {0}")]
    Unauthenticated(String),
    /// A known principal without write permission on a table (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(String),
}

/// Decides whether `credential` may write `tables`.
pub trait WriteAuthorizer: Send + Sync + 'static {
    /// `Ok` when `credential` identifies someone who may write at all. Called from the request
    /// headers alone, before the body is read, inflated or parsed; the default admits everyone
    /// (and leaves every decision to [`WriteAuthorizer::authorize`]).
    fn authenticate(&self, _credential: Option<&str>) -> Result<(), Denied> {
        Ok(())
    }

    /// `Ok` when the holder of `credential` (if any) may write every table of `tables`.
    fn authorize(&self, credential: Option<&str>, tables: &[&str]) -> Result<(), Denied>;

    /// [`WriteAuthorizer::authenticate`] for a request from `peer` (rate limits and audit
    /// entries are per address); the default ignores the address.
    fn authenticate_from(&self, _peer: Option<IpAddr>, credential: Option<&str>) -> Result<(), Denied> {
        self.authenticate(credential)
    }

    /// [`WriteAuthorizer::authorize`] for a request from `peer`; the default ignores it.
    fn authorize_from(&self, _peer: Option<IpAddr>, credential: Option<&str>, tables: &[&str]) -> Result<(), Denied> {
        self.authorize(credential, tables)
    }
}

/// Admits every request (the default while the server has no authentication configured).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl WriteAuthorizer for AllowAll {
    fn authorize(&self, _credential: Option<&str>, _tables: &[&str]) -> Result<(), Denied> {
        Ok(())
    }
}

impl<F> WriteAuthorizer for F
where
    F: Fn(Option<&str>, &[&str]) -> Result<(), Denied> + Send + Sync + 'static,
{
    fn authorize(&self, credential: Option<&str>, tables: &[&str]) -> Result<(), Denied> {
        self(credential, tables)
    }
}

/// The server's live tokens (`[auth]` and the access catalog, [`crate::auth`]) applied to
/// line-protocol writes: the credential must be a known, enabled, unexpired token holding `add`
/// on every table of the request. Failed authentications count toward the per-address limit;
/// refusals are audited.
/// Refusals are logged by the handler ([`super::write`]) with the peer address and this
/// message (token name, table, permission; never the secret).
#[derive(Debug)]
pub struct TokenWrites(pub Authenticator);

impl WriteAuthorizer for TokenWrites {
    fn authenticate(&self, credential: Option<&str>) -> Result<(), Denied> {
        self.0
            .authenticate_optional(credential)
            .map(|_| ())
            .map_err(|error| Denied::Unauthenticated(format!("{error}; send Authorization: Token <secret>")))
    }

    fn authorize(&self, credential: Option<&str>, tables: &[&str]) -> Result<(), Denied> {
        self.authorize_from(None, credential, tables)
    }

    fn authenticate_from(&self, peer: Option<IpAddr>, credential: Option<&str>) -> Result<(), Denied> {
        self.0
            .identify_from(peer, credential, LINE_PROTOCOL)
            .map(|_| ())
            .map_err(|error| Denied::Unauthenticated(format!("{error}; send Authorization: Token <secret>")))
    }

    fn authorize_from(&self, peer: Option<IpAddr>, credential: Option<&str>, tables: &[&str]) -> Result<(), Denied> {
        let principal = self
            .0
            .authenticate_optional(credential)
            .map_err(|error| Denied::Unauthenticated(format!("{error}; send Authorization: Token <secret>")))?;
        for table in tables {
            if let Err(error) = principal.require(table, Permission::Add) {
                self.0.refused(&principal.name, LINE_PROTOCOL, table, &format!("denied: {error}"), peer);
                return Err(Denied::Forbidden(error.to_string()));
            }
        }
        Ok(())
    }
}

/// The action line-protocol refusals are audited under.
const LINE_PROTOCOL: &str = "line protocol /write";

/// The authorizer `[auth]` describes: its tokens when enabled, else [`AllowAll`].
pub fn authorizer_for(config: &Config) -> Arc<dyn WriteAuthorizer> {
    match config.auth.enabled {
        true => Arc::new(TokenWrites(Authenticator::from_config(&config.auth))),
        false => Arc::new(AllowAll),
    }
}

/// The token of a request: `Authorization: Token X` or `Bearer X`, else the v1 `p` parameter.
pub fn credential(headers: &HeaderMap, password: Option<&str>) -> Option<String> {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = header {
        for scheme in ["Token ", "Bearer ", "token ", "bearer "] {
            if let Some(token) = value.strip_prefix(scheme) {
                return Some(token.trim().to_owned());
            }
        }
    }
    password.filter(|p| !p.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn tokens_come_from_either_header_scheme_or_the_v1_password() {
        let mut headers = HeaderMap::new();
        assert_eq!(credential(&headers, None), None);
        assert_eq!(credential(&headers, Some("pw")), Some("pw".into()));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Token abc"));
        assert_eq!(credential(&headers, Some("pw")), Some("abc".into()));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer xyz "));
        assert_eq!(credential(&headers, None), Some("xyz".into()));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic dTpw"));
        assert_eq!(credential(&headers, None), None);
    }

    #[test]
    fn a_closure_is_an_authorizer() {
        let only_weather = |_: Option<&str>, tables: &[&str]| {
            if tables.iter().all(|t| *t == "weather") { Ok(()) } else { Err(Denied::Forbidden("no".into())) }
        };
        assert!(only_weather.authorize(None, &["weather"]).is_ok());
        assert_eq!(only_weather.authorize(None, &["cpu"]), Err(Denied::Forbidden("no".into())));
        assert!(AllowAll.authorize(None, &["cpu"]).is_ok());
    }
}
