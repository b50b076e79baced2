//! SQL errors as PostgreSQL errors: each [`SqlErrorKind`] has its SQLSTATE, and the message is
//! the SQL layer's own (it says what, where and what was expected).

use isobar_sql::{SqlError, SqlErrorKind};
use pgwire::error::{ErrorInfo, PgWireError};

/// SQLSTATE `42601`: a syntax error.
pub(crate) const SYNTAX_ERROR: &str = "42601";
/// SQLSTATE `0A000`: a feature this server does not support.
pub(crate) const FEATURE_NOT_SUPPORTED: &str = "0A000";
/// SQLSTATE `57014`: the query was cancelled or ran past its timeout.
pub(crate) const QUERY_CANCELED: &str = "57014";
/// SQLSTATE `22023`: a parameter value that does not fit.
pub(crate) const INVALID_PARAMETER_VALUE: &str = "22023";
/// SQLSTATE `42704`: an unknown configuration parameter (`SHOW nonsense`).
pub(crate) const UNDEFINED_OBJECT: &str = "42704";

/// The SQLSTATE of `error`.
pub(crate) fn sqlstate(error: &SqlError) -> &'static str {
    let message = error.message();
    if message.contains("Divide by zero") || message.contains("division by zero") {
        return "22012";
    }
    match error.kind() {
        SqlErrorKind::InvalidArgument if message.contains("read-only") => "25006",
        SqlErrorKind::InvalidArgument if is_syntax(message) => SYNTAX_ERROR,
        SqlErrorKind::InvalidArgument if message.contains("parameter") => INVALID_PARAMETER_VALUE,
        SqlErrorKind::InvalidArgument => "42804",
        SqlErrorKind::NotFound if message.contains("column") => "42703",
        SqlErrorKind::NotFound if message.contains("function") => "42883",
        SqlErrorKind::NotFound if message.contains("schema") && !message.contains("table") => "3F000",
        SqlErrorKind::NotFound => "42P01",
        SqlErrorKind::PermissionDenied => "42501",
        SqlErrorKind::ResourceExhausted if message.contains("memory") => "53200",
        SqlErrorKind::ResourceExhausted => "53300",
        SqlErrorKind::DeadlineExceeded | SqlErrorKind::Cancelled => QUERY_CANCELED,
        SqlErrorKind::Unavailable => "57P03",
        SqlErrorKind::Internal => "XX000",
    }
}

fn is_syntax(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("syntax") || lower.contains("sql parser error") || lower.contains("expected")
}

/// `error` as a PostgreSQL `ERROR`.
pub(crate) fn sql_error(error: &SqlError) -> PgWireError {
    user_error(sqlstate(error), error.message())
}

/// An `ERROR` with `code` and `message`.
pub(crate) fn user_error(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("ERROR".to_owned(), code.to_owned(), message.into())))
}

/// A `FATAL` with `code` and `message` (the connection ends after it).
pub(crate) fn fatal(code: &str, message: impl Into<String>) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".to_owned(), code.to_owned(), message.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_postgres_codes() {
        let e = |kind, m: &str| sqlstate(&SqlError::new(kind, m));
        assert_eq!(e(SqlErrorKind::PermissionDenied, "no read permission on table \"x\""), "42501");
        assert_eq!(e(SqlErrorKind::NotFound, "table \"nope\" does not exist"), "42P01");
        assert_eq!(e(SqlErrorKind::NotFound, "column \"nope\" does not exist in weather"), "42703");
        assert_eq!(e(SqlErrorKind::InvalidArgument, "SQL syntax error: Expected: an expression"), SYNTAX_ERROR);
        assert_eq!(e(SqlErrorKind::DeadlineExceeded, "ran past 60s"), QUERY_CANCELED);
        assert_eq!(e(SqlErrorKind::ResourceExhausted, "the query needs more memory"), "53200");
        assert_eq!(e(SqlErrorKind::ResourceExhausted, "16 SQL queries are already running"), "53300");
    }
}
