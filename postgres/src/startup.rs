//! The startup handler: the first messages of a connection, before any query is read.
//!
//! In order: the protocol version; the database, which must be [`crate::DATABASE`] (else
//! `FATAL 3D000`, as PostgreSQL answers an unknown database); the TLS rule (when the server has
//! TLS, a password is only accepted over it: `FATAL 28000` otherwise, so a token never crosses
//! the network in clear); then, when the server checks tokens, a cleartext password request whose
//! answer [`Login`] checks (`FATAL 28P01` on failure, the token never logged). Success sends the
//! server parameters (`server_version`, `client_encoding`, `DateStyle`, `TimeZone`, ...) and the
//! key a client cancels queries with.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{
    DefaultServerParameterProvider, LoginInfo, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::{ClientInfo, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::errors::fatal;
use crate::execute::Cancels;
use crate::login::{Login, LoginError, Session};

/// The startup handler of one server (shared by its connections).
pub(crate) struct Startup {
    pub(crate) login: Arc<dyn Login>,
    pub(crate) tls_required: bool,
    pub(crate) cancels: Arc<Cancels>,
    parameters: DefaultServerParameterProvider,
    keys: RandomPidSecretKeyGenerator,
}

impl Startup {
    pub(crate) fn new(login: Arc<dyn Login>, tls_required: bool, cancels: Arc<Cancels>) -> Self {
        let mut parameters = DefaultServerParameterProvider::default();
        parameters.server_version = crate::SERVER_VERSION.to_owned();
        parameters.is_superuser = false;
        parameters.default_transaction_read_only = true;
        Self { login, tls_required, cancels, parameters, keys: RandomPidSecretKeyGenerator::default() }
    }

    /// Lets the client in as `session`: cancel key, server parameters, `ReadyForQuery`.
    async fn admit<C>(&self, client: &mut C, session: Session) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        tracing::debug!(user = %session.name, peer = %client.socket_addr(), "postgres connection authenticated");
        client.session_extensions().insert(session);
        let (pid, key) = self.keys.generate(client);
        client.set_pid_and_secret_key(pid, key.clone());
        let cancel = self.cancels.register(pid, &key);
        client.session_extensions().insert(cancel);
        finish_authentication(client, &self.parameters).await
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                check_database(client.metadata())?;
                if !self.login.required() {
                    return self.admit(client, self.login.anonymous()).await;
                }
                if self.tls_required && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this server accepts passwords only over TLS: connect with sslmode=require (or verify-full \
                         with the server's CA)",
                    ));
                }
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                client.send(PgWireBackendMessage::Authentication(Authentication::CleartextPassword)).await?;
                Ok(())
            }
            PgWireFrontendMessage::PasswordMessageFamily(password) => {
                let password = password.into_password()?;
                let info = LoginInfo::from_client_info(client);
                let user = info.user().unwrap_or_default().to_owned();
                match self.login.login(&user, &password.password, client.socket_addr()) {
                    Ok(session) => self.admit(client, session).await,
                    Err(LoginError::BadPassword(why)) => Err(fatal(
                        "28P01",
                        format!(
                            "password authentication failed for user \"{user}\": {why}; the password is an Isobar token"
                        ),
                    )),
                    Err(LoginError::RateLimited(why)) => Err(fatal("28000", why)),
                }
            }
            _ => Ok(()),
        }
    }
}

/// `FATAL 3D000` unless the client asked for [`crate::DATABASE`] (or named none).
fn check_database(metadata: &HashMap<String, String>) -> PgWireResult<()> {
    match metadata.get("database").map(String::as_str) {
        None | Some(crate::DATABASE) => Ok(()),
        Some(other) => Err(fatal(
            "3D000",
            format!("database \"{other}\" does not exist; the one database is \"{}\" (dbname={0})", crate::DATABASE),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_isobar_database_is_accepted() {
        let with = |db: &str| HashMap::from([("database".to_owned(), db.to_owned())]);
        assert!(check_database(&with("isobar")).is_ok());
        assert!(check_database(&HashMap::new()).is_ok());
        let PgWireError::UserError(info) = check_database(&with("postgres")).unwrap_err() else { panic!() };
        assert_eq!(info.code, "3D000");
        assert!(info.message.contains("\"postgres\" does not exist"), "{}", info.message);
    }
}
