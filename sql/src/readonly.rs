//! Read-only SQL: the statements Isobar answers, and a clear refusal for everything else.
//!
//! Accepted: queries (`SELECT`, `WITH`, `VALUES`), `EXPLAIN` of one, `SHOW TABLES`, `SHOW
//! COLUMNS`, `DESCRIBE`. Anything that would create, change or delete something (DDL, DML,
//! `COPY`, `SET`, transactions) answers `InvalidArgument` saying SQL is read-only and where to
//! write instead. The check runs on the parsed statement, before any table is looked up.

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Statement as Ast;

use crate::error::SqlError;

/// Ok when `stmt` only reads.
pub(crate) fn check(stmt: &Statement) -> Result<(), SqlError> {
    match stmt {
        Statement::Statement(s) => match s.as_ref() {
            Ast::Query(_) | Ast::ShowTables { .. } | Ast::ShowColumns { .. } | Ast::ExplainTable { .. } => Ok(()),
            Ast::Explain { statement, .. } => match statement.as_ref() {
                Ast::Query(_) => Ok(()),
                other => Err(SqlError::read_only(&verb(&other.to_string()))),
            },
            other => Err(SqlError::read_only(&verb(&other.to_string()))),
        },
        Statement::Explain(e) => check(&e.statement),
        Statement::CreateExternalTable(_) => Err(SqlError::read_only("CREATE EXTERNAL TABLE")),
        Statement::CopyTo(_) => Err(SqlError::read_only("COPY")),
        Statement::Reset(_) => Err(SqlError::read_only("RESET")),
    }
}

/// The statement's leading keywords (`INSERT`, `CREATE TABLE`, ...).
fn verb(text: &str) -> String {
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("this statement").to_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "DELETE" | "INSERT" | "TRUNCATE" => match words.next() {
            Some(second) if !second.starts_with('"') => format!("{first} {}", second.to_uppercase()),
            _ => first,
        },
        _ => first,
    }
}
