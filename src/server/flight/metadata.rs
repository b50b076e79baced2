//! The metadata commands: `CommandGetSqlInfo` (what the server is and supports), answered
//! from a table built once at start.

use arrow_array::RecordBatch;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::{CommandGetSqlInfo, SqlInfo, SqlSupportedTransaction};
use tonic::Status;

/// The server's `SqlInfo` answers: identity, the SQL dialect's basics, bulk ingest without
/// transactions.
pub fn sql_info() -> Result<SqlInfoData, Status> {
    let mut info = SqlInfoDataBuilder::new();
    info.append(SqlInfo::FlightSqlServerName, "Isobar");
    info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    info.append(SqlInfo::FlightSqlServerArrowVersion, "59");
    // Ingest writes, so the server as a whole is not read-only (SQL statements are).
    info.append(SqlInfo::FlightSqlServerReadOnly, false);
    info.append(SqlInfo::FlightSqlServerSql, true);
    info.append(SqlInfo::FlightSqlServerSubstrait, false);
    info.append(SqlInfo::FlightSqlServerTransaction, SqlSupportedTransaction::None as i32);
    info.append(SqlInfo::FlightSqlServerCancel, false);
    info.append(SqlInfo::FlightSqlServerBulkIngestion, true);
    info.append(SqlInfo::FlightSqlServerIngestTransactionsSupported, false);
    info.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    info.append(SqlInfo::SqlDdlCatalog, false);
    info.append(SqlInfo::SqlDdlSchema, false);
    info.append(SqlInfo::SqlDdlTable, false);
    info.append(SqlInfo::SqlTransactionsSupported, false);
    info.build().map_err(|e| Status::internal(format!("building SqlInfo: {e}")))
}

/// The rows of `info` that `command` asks for (all when it names none).
pub fn sql_info_batch(command: CommandGetSqlInfo, info: &SqlInfoData) -> Result<RecordBatch, Status> {
    command.into_builder(info).build().map_err(|e| Status::internal(format!("SqlInfo answer: {e}")))
}
