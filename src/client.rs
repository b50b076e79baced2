//! A thin Rust client over the generated stubs: one connection, the three Isobar services, and
//! decoding of the Arrow IPC answers of reads. Used by the CLI, the end-to-end tests and the
//! load generator.
//!
//! ```no_run
//! # async fn demo() -> Result<(), isobar::client::ClientError> {
//! use isobar_proto::v1::ListTablesRequest;
//!
//! let mut client = isobar::client::Client::connect("http://127.0.0.1:50051").await?;
//! let tables = client.admin.list_tables(ListTablesRequest {}).await?.into_inner().tables;
//! println!("{} tables", tables.len());
//! # Ok(()) }
//! ```
//!
//! With authentication and TLS, [`Client::connect_with`] takes [`ClientOptions`]: the bearer
//! token (sent as `authorization: Bearer <token>` on every call) and the CA, certificate and key
//! files for `https://` addresses. [`ClientOptions::from_sources`] reads the token the way the
//! CLI does: `--token-file`, else `$ISOBAR_TOKEN` — never from the command line itself.
//!
//! [`mismatch`] turns the transport's riddle for a wrong scheme (`http://` against a TLS port,
//! `https://` against a plain one) into [`ClientError::TlsMismatch`], which names the fix;
//! [`pinned`] is the channel `isobar health --config` uses, trusting exactly the server's own
//! certificate.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_schema::{ArrowError, SchemaRef};
use isobar_proto::v1::ArrowBatch;
use isobar_proto::v1::admin_client::AdminClient;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_proto::v1::query_client::QueryClient;
use std::path::{Path, PathBuf};

use tonic::Streaming;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub mod mismatch;
pub mod pinned;

/// The environment variable holding the client's bearer token.
pub const TOKEN_ENV: &str = "ISOBAR_TOKEN";

/// Largest message the client sends or accepts (the server's default limit).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address is not a valid URL.
    #[error("invalid server address {addr:?}: {source}")]
    Address {
        /// The address given.
        addr: String,
        /// The parser's error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server could not be reached.
    #[error("cannot connect to {addr} (is `isobar serve` running there?): {source}")]
    Connect {
        /// The address.
        addr: String,
        /// The transport error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server answered with an error.
    #[error("{}: {}{}", code_name(.0.code()), .0.message(), hint(.0.code()))]
    Status(tonic::Status),
    /// The Arrow answer could not be decoded.
    #[error("cannot decode the Arrow answer: {0}")]
    Arrow(#[from] ArrowError),
    /// The answer ended without a schema.
    #[error("the answer had no schema message")]
    NoSchema,
    /// A token or TLS file could not be read.
    #[error("cannot read {what} {path}: {source}")]
    File {
        /// What the file is (`token file`, `TLS CA file`, ...).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The token cannot be sent as an HTTP header.
    #[error("the token from {source_name} is empty or has characters other than visible ASCII")]
    BadToken {
        /// Where it came from.
        source_name: String,
    },
    /// TLS options that do not fit together or the address.
    #[error("{0}")]
    Tls(&'static str),
    /// The address's scheme disagrees with what the server speaks (found by [`mismatch::explain`]).
    #[error("{}", mismatch_message(.addr, *.server_tls))]
    TlsMismatch {
        /// `host:port` of the server.
        addr: String,
        /// Whether the server speaks TLS (and the client did not), or the other way round.
        server_tls: bool,
    },
}

/// What to do about a scheme that disagrees with the server.
fn mismatch_message(addr: &str, server_tls: bool) -> String {
    if server_tls {
        format!(
            "the server at {addr} speaks TLS, but the client connected in plain text (http://): \
             use --addr https://{addr} and --tls-ca FILE (the CA certificate that signed the server's certificate)"
        )
    } else {
        format!(
            "the server at {addr} does not speak TLS, but the client asked for it (https://): \
             use --addr http://{addr}, or turn on [tls] (cert and key) on the server"
        )
    }
}

/// How to reach and authenticate to the server.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// The bearer token's secret.
    pub token: Option<String>,
    /// PEM CA certificate(s) that signed the server's certificate (needed for `https://`).
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, for servers that require one.
    pub tls_cert: Option<PathBuf>,
    /// PEM key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls_ca", &self.tls_ca)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .finish()
    }
}

/// Reads a whole file, naming it in the error.
fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::File { what, path: path.to_owned(), source })
}

impl ClientOptions {
    /// The token from `token_file` if given, else from `env_token` (the value of
    /// `$ISOBAR_TOKEN`), else none; surrounding whitespace removed.
    pub fn from_sources(token_file: Option<&Path>, env_token: Option<String>) -> Result<Self, ClientError> {
        let token = match token_file {
            Some(path) => {
                let bytes = read_file("token file", path)?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| ClientError::BadToken { source_name: path.display().to_string() })?;
                Some(text.trim().to_owned())
            }
            None => env_token.map(|t| t.trim().to_owned()),
        };
        Ok(Self { token, ..Self::default() })
    }

    /// The interceptor adding the token to every call.
    fn credentials(&self) -> Result<Credentials, ClientError> {
        let Some(token) = &self.token else {
            return Ok(Credentials { header: None });
        };
        let bad = || ClientError::BadToken { source_name: "the token file or $ISOBAR_TOKEN".into() };
        if token.is_empty() {
            return Err(bad());
        }
        let mut header: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| bad())?;
        header.set_sensitive(true);
        Ok(Credentials { header: Some(header) })
    }

    /// Connects a channel to `addr` (`http://` or `https://`) with these TLS settings (no token:
    /// stubs add it with [`Credentials`]; the health service needs none).
    pub async fn channel(&self, addr: &str) -> Result<Channel, ClientError> {
        let mut endpoint = Endpoint::from_shared(addr.to_owned())
            .map_err(|source| ClientError::Address { addr: addr.to_owned(), source })?
            .tcp_nodelay(true);
        if let Some(tls) = self.tls(addr)? {
            endpoint =
                endpoint.tls_config(tls).map_err(|source| ClientError::Address { addr: addr.to_owned(), source })?;
        }
        match endpoint.connect().await {
            Ok(channel) => Ok(channel),
            Err(source) => Err(mismatch::explain(addr, ClientError::Connect { addr: addr.to_owned(), source }).await),
        }
    }

    /// The rustls client settings, when the address or the options ask for TLS.
    fn tls(&self, addr: &str) -> Result<Option<ClientTlsConfig>, ClientError> {
        let https = addr.starts_with("https://");
        if !https {
            if self.tls_ca.is_some() || self.tls_cert.is_some() {
                return Err(ClientError::Tls("TLS options need an https:// server address"));
            }
            return Ok(None);
        }
        let ca = self.tls_ca.as_deref().ok_or(ClientError::Tls(
            "an https:// address needs --tls-ca FILE (the CA certificate that signed the server's certificate)",
        ))?;
        let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_file("TLS CA file", ca)?));
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                tls = tls.identity(Identity::from_pem(
                    read_file("TLS certificate file", cert)?,
                    read_file("TLS key file", key)?,
                ));
            }
            (None, None) => {}
            _ => return Err(ClientError::Tls("--tls-cert and --tls-key go together")),
        }
        Ok(Some(tls))
    }
}

/// Adds `authorization: Bearer <token>` to every call (the value is marked sensitive, so it is
/// never indexed by HPACK nor shown by `Debug`).
#[derive(Clone)]
pub struct Credentials {
    header: Option<MetadataValue<Ascii>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.header.is_some() { "Credentials(bearer <redacted>)" } else { "Credentials(none)" })
    }
}

impl Interceptor for Credentials {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(header) = &self.header {
            request.metadata_mut().insert("authorization", header.clone());
        }
        Ok(request)
    }
}

/// The transport of every stub: the channel plus the token.
pub type Transport = InterceptedService<Channel, Credentials>;

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        Self::Status(status)
    }
}

/// What a command-line user can do about a status (empty when nothing specific).
fn hint(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::Unauthenticated => " (the client sends the token from --token-file FILE or $ISOBAR_TOKEN)",
        _ => "",
    }
}

/// The status code as gRPC spells it.
fn code_name(code: tonic::Code) -> String {
    format!("{code:?}").chars().fold(String::new(), |mut out, c| {
        if c.is_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
        out
    })
}

/// Clients of the three Isobar services over one connection.
#[derive(Clone, Debug)]
pub struct Client {
    /// `isobar.v1.Ingest`.
    pub ingest: IngestClient<Transport>,
    /// `isobar.v1.Query`.
    pub query: QueryClient<Transport>,
    /// `isobar.v1.Admin`.
    pub admin: AdminClient<Transport>,
}

impl Client {
    /// Connects to `addr` (e.g. `http://127.0.0.1:50051`).
    pub async fn connect(addr: &str) -> Result<Self, ClientError> {
        Self::connect_with(addr, &ClientOptions::default()).await
    }

    /// Connects to `addr` (`http://` or `https://`) with a token and TLS settings.
    pub async fn connect_with(addr: &str, options: &ClientOptions) -> Result<Self, ClientError> {
        let credentials = options.credentials()?;
        let channel = options.channel(addr).await?;
        Ok(Self::with_credentials(channel, credentials))
    }

    /// Clients over an existing channel, without a token.
    pub fn from_channel(channel: Channel) -> Self {
        Self::with_credentials(channel, Credentials { header: None })
    }

    /// Clients over an existing channel sending `credentials`.
    fn with_credentials(channel: Channel, credentials: Credentials) -> Self {
        let max = MAX_MESSAGE_BYTES;
        let transport = InterceptedService::new(channel, credentials);
        Self {
            ingest: IngestClient::new(transport.clone()).max_decoding_message_size(max).max_encoding_message_size(max),
            query: QueryClient::new(transport.clone()).max_decoding_message_size(max).max_encoding_message_size(max),
            admin: AdminClient::new(transport).max_decoding_message_size(max).max_encoding_message_size(max),
        }
    }
}

/// Decodes a read answer message by message.
#[derive(Debug, Default)]
pub struct ArrowReader {
    decoder: StreamDecoder,
}

impl ArrowReader {
    /// A reader expecting the schema message first.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one message; returns the record batches it completed (usually zero or one).
    pub fn push(&mut self, message: ArrowBatch) -> Result<Vec<RecordBatch>, ClientError> {
        let mut buffer = Buffer::from_vec(message.ipc);
        let mut out = Vec::new();
        while !buffer.is_empty() {
            let before = buffer.len();
            match self.decoder.decode(&mut buffer)? {
                Some(batch) => out.push(batch),
                None if buffer.len() == before => break,
                None => {}
            }
        }
        Ok(out)
    }

    /// The schema, once the first message has been pushed.
    pub fn schema(&self) -> Option<SchemaRef> {
        self.decoder.schema()
    }

    /// Checks that the stream ended on a message boundary.
    pub fn finish(mut self) -> Result<SchemaRef, ClientError> {
        self.decoder.finish()?;
        self.decoder.schema().ok_or(ClientError::NoSchema)
    }
}

/// Reads a whole answer: its schema and every batch.
pub async fn collect(mut stream: Streaming<ArrowBatch>) -> Result<(SchemaRef, Vec<RecordBatch>), ClientError> {
    let mut reader = ArrowReader::new();
    let mut batches = Vec::new();
    while let Some(message) = stream.message().await? {
        batches.extend(reader.push(message)?);
    }
    Ok((reader.finish()?, batches))
}
