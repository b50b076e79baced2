//! [`Login`]: how the server checks who connects. The PostgreSQL front end knows no tokens or
//! users itself; the server hands it a `Login` over its own authenticator.

use std::net::SocketAddr;
use std::sync::Arc;

use isobar_sql::TableAccess;

/// What a successful login gives a connection: what it may read, and the name to show.
pub struct Session {
    /// The read check of every statement.
    pub access: Arc<dyn TableAccess>,
    /// The identity's name (for logs and `session_user`).
    pub name: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("name", &self.name).finish_non_exhaustive()
    }
}

/// Why a login failed; each maps to a PostgreSQL `FATAL` with SQLSTATE `28P01` or `28000`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoginError {
    /// The token is unknown, disabled or expired (the message says which, without the token).
    BadPassword(String),
    /// Too many failures from this address; retry later.
    RateLimited(String),
}

/// The server's check of a connecting client.
pub trait Login: Send + Sync + 'static {
    /// Whether a password is asked for at all; `false` lets every client in with
    /// [`Login::anonymous`] (a server without authentication).
    fn required(&self) -> bool;

    /// The session of `user` presenting `password` (an Isobar token) from `peer`.
    fn login(&self, user: &str, password: &str, peer: SocketAddr) -> Result<Session, LoginError>;

    /// The session of a client when no password is required.
    fn anonymous(&self) -> Session;
}
