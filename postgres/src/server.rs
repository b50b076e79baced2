//! [`PgServer`]: the PostgreSQL front end of one server, and one connection's life.

use std::sync::Arc;

use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use isobar_sql::SqlEngine;
use tokio::net::TcpStream;

use crate::catalog::PgDialect;
use crate::execute::Cancels;
use crate::handlers::{CancelRequests, Handlers, Parser, Queries};
use crate::login::Login;
use crate::startup::Startup;

/// How the front end treats its clients.
#[derive(Clone, Debug, Default)]
pub struct PgOptions {
    /// Passwords only over TLS (the server has a certificate): a client that does not ask for
    /// TLS is refused before any password is sent.
    pub tls_required: bool,
}

/// The PostgreSQL front end: cheap to clone, one per server.
#[derive(Clone)]
pub struct PgServer {
    handlers: Arc<Handlers>,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for PgServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgServer").field("tls", &self.tls.is_some()).finish_non_exhaustive()
    }
}

impl PgServer {
    /// The front end over `engine` (given PostgreSQL's catalog here), checking clients with
    /// `login`, offering TLS with `tls` when given.
    pub fn new(
        engine: &SqlEngine,
        login: Arc<dyn Login>,
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
        options: PgOptions,
    ) -> Result<Self, String> {
        let engine = engine.with_dialect(Arc::new(PgDialect::new()?));
        let cancels = Arc::new(Cancels::default());
        let parser = Arc::new(Parser { engine: engine.clone(), sql: PostgresCompatibilityParser::new() });
        let tls_required = options.tls_required && tls.is_some();
        let handlers = Handlers {
            query: Arc::new(Queries { engine, parser }),
            startup: Arc::new(Startup::new(login, tls_required, cancels.clone())),
            cancel: Arc::new(CancelRequests(cancels)),
        };
        Ok(Self { handlers: Arc::new(handlers), tls: tls.map(tokio_rustls::TlsAcceptor::from) })
    }

    /// Serves one accepted connection until the client leaves (or the startup times out).
    pub async fn serve(&self, socket: TcpStream) -> std::io::Result<()> {
        pgwire::tokio::process_socket(socket, self.tls.clone(), self.handlers.clone()).await
    }
}
