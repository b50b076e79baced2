//! gRPC plumbing shared by the harnesses: connections, the three clients, decoding of Arrow
//! answers into record batches, and a few readers of typed columns.

use std::io::Cursor;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use isobar_proto::v1::ArrowBatch;
use isobar_proto::v1::admin_client::AdminClient;
use isobar_proto::v1::ingest_client::IngestClient;
use isobar_proto::v1::query_client::QueryClient;
use tonic::Streaming;
use tonic::transport::{Channel, Endpoint};

/// Why a call of a harness failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The connection could not be made.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The server URL.
        url: String,
        /// The transport error.
        #[source]
        source: tonic::transport::Error,
    },
    /// The server answered with an error.
    #[error("{0}")]
    Status(#[from] tonic::Status),
    /// The Arrow answer could not be decoded.
    #[error("cannot decode the Arrow answer: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A column the harness needs is missing or has another type.
    #[error("answer column {0:?} missing or of an unexpected type")]
    Column(String),
}

/// Largest message sent or accepted.
pub const MAX_MESSAGE: usize = 64 << 20;

/// One HTTP/2 connection to `url` (connect timeout 10 s).
pub async fn connect(url: &str) -> Result<Channel, WireError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|source| WireError::Connect { url: url.to_owned(), source })?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10));
    endpoint.connect().await.map_err(|source| WireError::Connect { url: url.to_owned(), source })
}

/// The three clients over one connection.
#[derive(Clone, Debug)]
pub struct Clients {
    /// `isobar.v1.Ingest`.
    pub ingest: IngestClient<Channel>,
    /// `isobar.v1.Query`.
    pub query: QueryClient<Channel>,
    /// `isobar.v1.Admin`.
    pub admin: AdminClient<Channel>,
}

impl Clients {
    /// Clients over `channel`.
    pub fn new(channel: Channel) -> Self {
        Self {
            ingest: IngestClient::new(channel.clone())
                .max_encoding_message_size(MAX_MESSAGE)
                .max_decoding_message_size(MAX_MESSAGE),
            query: QueryClient::new(channel.clone())
                .max_encoding_message_size(MAX_MESSAGE)
                .max_decoding_message_size(MAX_MESSAGE),
            admin: AdminClient::new(channel).max_decoding_message_size(MAX_MESSAGE),
        }
    }

    /// Connects to `url`.
    pub async fn connect(url: &str) -> Result<Self, WireError> {
        Ok(Self::new(connect(url).await?))
    }
}

/// Reads a whole Arrow answer: the concatenated `ipc` bytes form one Arrow IPC stream.
pub async fn collect(mut stream: Streaming<ArrowBatch>) -> Result<Vec<RecordBatch>, WireError> {
    let mut bytes = Vec::new();
    while let Some(message) = stream.message().await? {
        bytes.extend_from_slice(&message.ipc);
    }
    let reader = arrow_ipc::reader::StreamReader::try_new(Cursor::new(bytes), None)?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

/// The `series` column of a batch.
pub fn series(batch: &RecordBatch) -> Result<Vec<String>, WireError> {
    let a = batch.column_by_name("series").ok_or_else(|| WireError::Column("series".into()))?;
    let a = a.as_string_opt::<i32>().ok_or_else(|| WireError::Column("series".into()))?;
    Ok((0..a.len()).map(|i| a.value(i).to_owned()).collect())
}

/// A timestamp column (`ts`, `bucket`, `<column>.ts`), null as `None`.
pub fn timestamps(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, WireError> {
    let a = batch.column_by_name(name).ok_or_else(|| WireError::Column(name.into()))?;
    let a = a.as_primitive_opt::<TimestampNanosecondType>().ok_or_else(|| WireError::Column(name.into()))?;
    Ok((0..a.len()).map(|i| a.is_valid(i).then(|| a.value(i))).collect())
}

/// A value of any column type the harnesses write, compared exactly.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// f64 (the harnesses only write values that sum exactly).
    F64(f64),
    /// i64.
    I64(i64),
    /// string.
    Str(String),
}

/// Column `name` as values (null as `None`).
pub fn values(batch: &RecordBatch, name: &str) -> Result<Vec<Option<Value>>, WireError> {
    let a = batch.column_by_name(name).ok_or_else(|| WireError::Column(name.into()))?;
    let valid = |i: usize| a.is_valid(i);
    if let Some(f) = a.as_primitive_opt::<Float64Type>() {
        return Ok((0..a.len()).map(|i| valid(i).then(|| Value::F64(f.value(i)))).collect());
    }
    if let Some(n) = a.as_primitive_opt::<Int64Type>() {
        return Ok((0..a.len()).map(|i| valid(i).then(|| Value::I64(n.value(i)))).collect());
    }
    if let Some(s) = a.as_string_opt::<i32>() {
        return Ok((0..a.len()).map(|i| valid(i).then(|| Value::Str(s.value(i).to_owned()))).collect());
    }
    Err(WireError::Column(name.into()))
}

/// The message index a `WriteStream` status names (`message <i>: ...`), if any.
pub fn failed_message_index(status: &tonic::Status) -> Option<usize> {
    let rest = status.message().strip_prefix("message ")?;
    rest.split(':').next()?.trim().parse().ok()
}

/// True for the codes Isobar uses for back-pressure.
pub fn is_backpressure(code: tonic::Code) -> bool {
    matches!(code, tonic::Code::ResourceExhausted | tonic::Code::Unavailable)
}

/// Percentiles of a sample of durations.
#[derive(Clone, Copy, Debug, Default)]
pub struct Percentiles {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Largest.
    pub max: Duration,
}

impl Percentiles {
    /// Percentiles of `samples` (sorted in place).
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| {
            let i = ((samples.len() as f64 * q).ceil() as usize).saturating_sub(1);
            samples.get(i.min(samples.len().saturating_sub(1))).copied().unwrap_or_default()
        };
        Self { count: samples.len(), p50: at(0.50), p95: at(0.95), p99: at(0.99), max: at(1.0) }
    }
}

impl std::fmt::Display for Percentiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "n={} p50={:.1}ms p95={:.1}ms p99={:.1}ms max={:.1}ms",
            self.count,
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max)
        )
    }
}
