//! The Flight SQL client of `isobar sql`: runs a statement (`CommandStatementQuery` ->
//! `FlightInfo` -> `DoGet` of each endpoint) and prints the batches as they arrive.

use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::StreamExt;
use tonic::transport::Channel;

use crate::cli::CliError;
use crate::cli::args::OutputFormat;
use crate::cli::output::Printer;
use crate::client::ClientOptions;

/// A connection to the server's Flight SQL service.
#[derive(Debug)]
pub struct SqlClient {
    inner: FlightSqlServiceClient<Channel>,
}

/// A Flight client error as a command error: a server status keeps its code and message.
fn cli_error(error: FlightError) -> CliError {
    match error {
        FlightError::Tonic(status) => CliError::from(*status),
        FlightError::Arrow(e) => CliError::Output(e),
        other => CliError::Flight(other.to_string()),
    }
}

impl SqlClient {
    /// Connects to `addr` with the TLS settings and token of `options`.
    pub async fn connect(addr: &str, options: &ClientOptions) -> Result<Self, CliError> {
        let channel = options.channel(addr).await?;
        let mut inner = FlightSqlServiceClient::new(channel);
        if let Some(token) = &options.token {
            inner.set_token(token.clone());
        }
        Ok(Self { inner })
    }

    /// Runs `statement`, printing its answer to standard output in `format`; the row count.
    pub async fn run(&mut self, statement: &str, format: OutputFormat) -> Result<u64, CliError> {
        let info = self.inner.execute(statement.to_owned(), None).await.map_err(cli_error)?;
        let mut schema = info.clone().try_decode_schema().ok().map(std::sync::Arc::new);
        let mut printer = Printer::new(std::io::stdout().lock(), format);
        for endpoint in info.endpoint {
            let Some(ticket) = endpoint.ticket else {
                continue;
            };
            let mut stream = self.inner.do_get(ticket).await.map_err(cli_error)?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(cli_error)?;
                schema.get_or_insert_with(|| batch.schema());
                printer.batch(&batch)?;
            }
        }
        let schema = schema.unwrap_or_else(|| std::sync::Arc::new(arrow_schema::Schema::empty()));
        Ok(printer.finish(&schema)?)
    }
}
