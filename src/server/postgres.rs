//! The PostgreSQL front end in the server: [`TokenLogin`] (a token as the password, checked by
//! the server's [`Authenticator`] like every other front end's, with its rate limit and audit
//! log) and the accept loop, under `[connections]`'s caps like every listener. The protocol
//! itself is `isobar-postgres`.

use std::net::SocketAddr;
use std::sync::Arc;

use isobar_postgres::{Login, LoginError, PgOptions, PgServer};
use isobar_sql::{SqlEngine, TableAccess};
use tokio::net::TcpListener;

use crate::auth::{AuthError, Authenticator, Permission, Principal, TokenHash};
use crate::config::Config;
use crate::net::accept::Gate;

/// Checks a PostgreSQL client's password as an Isobar token.
struct TokenLogin {
    auth: Authenticator,
}

impl Login for TokenLogin {
    fn required(&self) -> bool {
        self.auth.enabled()
    }

    fn login(&self, _user: &str, password: &str, peer: SocketAddr) -> Result<isobar_postgres::Session, LoginError> {
        match self.auth.identify_from(Some(peer.ip()), Some(password), "postgres.login") {
            Ok(Some(identity)) => Ok(isobar_postgres::Session {
                name: identity.principal.name.clone(),
                access: Arc::new(TokenAccess { auth: self.auth.clone(), hash: identity.hash }),
            }),
            Ok(None) => Ok(self.anonymous()),
            Err(AuthError::RateLimited { retry_after_secs }) => Err(LoginError::RateLimited(format!(
                "too many failed authentications from this address: retry in {retry_after_secs} s"
            ))),
            Err(error) => Err(LoginError::BadPassword(error.to_string())),
        }
    }

    fn anonymous(&self) -> isobar_postgres::Session {
        isobar_postgres::Session { name: "anonymous".into(), access: Arc::new(Fixed(Principal::anonymous())) }
    }
}

/// What a token may read, as the catalog in force says at each statement: a revoked token, a
/// disabled user or a withdrawn grant takes effect on the connection's next statement.
struct TokenAccess {
    auth: Authenticator,
    hash: TokenHash,
}

impl TableAccess for TokenAccess {
    fn can_read(&self, table: &str) -> bool {
        self.auth.resolve(&self.hash).is_ok_and(|identity| identity.principal.allows(table, Permission::View))
    }
}

/// A principal's access, fixed (authentication off).
struct Fixed(Principal);

impl TableAccess for Fixed {
    fn can_read(&self, table: &str) -> bool {
        self.0.allows(table, Permission::View)
    }
}

/// Serves PostgreSQL clients on `listener` until `stopped` fires.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    engine: &SqlEngine,
    auth: Authenticator,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let tls = tls.map(|grpc| {
        let mut config = tokio_rustls::rustls::ServerConfig::clone(&grpc);
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Arc::new(config)
    });
    let options = PgOptions { tls_required: tls.is_some() };
    let server = match PgServer::new(engine, Arc::new(TokenLogin { auth }), tls, options) {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(%error, "the PostgreSQL front end cannot start");
            return;
        }
    };
    let gate = Gate::new("postgres", &config.connections);
    tracing::debug!(addr = ?listener.local_addr().ok(), "serving the PostgreSQL protocol (database \"isobar\")");
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => return,
            accepted = gate.accept(&listener) => accepted,
        };
        let Some(permit) = gate.admit(&stream, peer) else { continue };
        let server = server.clone();
        let mut stop = stopped.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::select! {
                result = server.serve(stream) => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "postgres connection ended with an error");
                    }
                }
                // Shutdown ends open connections (their running queries are cancelled).
                _ = stop.changed() => {}
            }
        });
    }
}
