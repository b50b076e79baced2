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

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_schema::{ArrowError, SchemaRef};
use isobar_proto::v1::ArrowBatch;
use isobar_proto::v1::admin_client::AdminClient;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_proto::v1::query_client::QueryClient;
use tonic::Streaming;
use tonic::transport::{Channel, Endpoint};

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
    #[error("{}: {}", code_name(.0.code()), .0.message())]
    Status(#[from] tonic::Status),
    /// The Arrow answer could not be decoded.
    #[error("cannot decode the Arrow answer: {0}")]
    Arrow(#[from] ArrowError),
    /// The answer ended without a schema.
    #[error("the answer had no schema message")]
    NoSchema,
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
    pub ingest: IngestClient<Channel>,
    /// `isobar.v1.Query`.
    pub query: QueryClient<Channel>,
    /// `isobar.v1.Admin`.
    pub admin: AdminClient<Channel>,
}

impl Client {
    /// Connects to `addr` (e.g. `http://127.0.0.1:50051`).
    pub async fn connect(addr: &str) -> Result<Self, ClientError> {
        let endpoint = Endpoint::from_shared(addr.to_owned())
            .map_err(|source| ClientError::Address { addr: addr.to_owned(), source })?
            .tcp_nodelay(true);
        let channel =
            endpoint.connect().await.map_err(|source| ClientError::Connect { addr: addr.to_owned(), source })?;
        Ok(Self::from_channel(channel))
    }

    /// Clients over an existing channel.
    pub fn from_channel(channel: Channel) -> Self {
        let max = MAX_MESSAGE_BYTES;
        Self {
            ingest: IngestClient::new(channel.clone()).max_decoding_message_size(max).max_encoding_message_size(max),
            query: QueryClient::new(channel.clone()).max_decoding_message_size(max).max_encoding_message_size(max),
            admin: AdminClient::new(channel).max_decoding_message_size(max).max_encoding_message_size(max),
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
