//! Query strings into statements. A simple `Query` may hold several statements; a `Parse`
//! exactly one. `datafusion-pg-catalog`'s parser reads PostgreSQL's syntax and rewrites the
//! catalog idioms clients send (`'weather'::regclass`, `OPERATOR(pg_catalog.~)`, ...) into SQL
//! the planner takes; session commands are recognised first ([`Command`]).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::Statement as Ast;
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use pgwire::error::PgWireResult;

use crate::errors::{SYNTAX_ERROR, user_error};
use crate::session::Command;

/// One statement of a query string.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    /// A session command, answered by the front end.
    pub(crate) command: Option<Command>,
    /// The SQL to plan: the statement itself, or a `DECLARE`'s query.
    pub(crate) query: Option<Ast>,
}

/// Splits and parses `sql`.
pub(crate) fn parse(parser: &PostgresCompatibilityParser, sql: &str) -> PgWireResult<Vec<Parsed>> {
    let statements = match parser.parse(sql) {
        Ok(statements) => statements,
        // sqlparser does not know every session command PostgreSQL clients send
        // (`SET SESSION CHARACTERISTICS ...`); a lone one is still answered.
        Err(error) => {
            return match Command::parse(sql) {
                Some(command) if !matches!(command, Command::Declare { .. }) => {
                    Ok(vec![Parsed { command: Some(command), query: None }])
                }
                _ => Err(user_error(SYNTAX_ERROR, format!("syntax error: {error}"))),
            };
        }
    };
    statements.into_iter().map(|ast| parsed(parser, ast)).collect()
}

fn parsed(parser: &PostgresCompatibilityParser, ast: Ast) -> PgWireResult<Parsed> {
    if let Some(copy) = crate::copy::copy_out(&ast) {
        let (query, format) = copy?;
        let mut inner = parser.parse(&query).map_err(|e| user_error(SYNTAX_ERROR, format!("syntax error in COPY: {e}")))?;
        return Ok(Parsed { command: Some(Command::CopyOut { format }), query: inner.pop() });
    }
    let sql = ast.to_string();
    match Command::parse(&sql) {
        Some(Command::Declare { name, query }) => {
            let mut inner = parser
                .parse(&query)
                .map_err(|e| user_error(SYNTAX_ERROR, format!("syntax error in the query of cursor \"{name}\": {e}")))?;
            if inner.len() != 1 {
                return Err(user_error(SYNTAX_ERROR, format!("cursor \"{name}\" must be declared for one query")));
            }
            Ok(Parsed { command: Some(Command::Declare { name, query }), query: inner.pop() })
        }
        Some(command) => Ok(Parsed { command: Some(command), query: None }),
        None => Ok(Parsed { command: None, query: Some(ast) }),
    }
}

/// A prepared statement of the extended protocol: the statement, and what `Describe` answers.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    pub(crate) parsed: Parsed,
    /// The types of `$1`, `$2`, ... (`Null` where the statement fixes none).
    pub(crate) params: Vec<DataType>,
    /// The columns of the rows it returns; `None` when it returns none.
    pub(crate) schema: Option<SchemaRef>,
}

/// The one-column schema of `SHOW name`.
pub(crate) fn show_schema(name: &str) -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]))
}

/// The schema of `SHOW ALL`.
pub(crate) fn show_all_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("setting", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_splits_into_commands_and_sql() {
        let parser = PostgresCompatibilityParser::new();
        let parsed = parse(&parser, "SET application_name = 'x'; SELECT 1; COMMIT").unwrap();
        assert_eq!(parsed.len(), 3);
        assert!(parsed[0].command.is_some() && parsed[0].query.is_none());
        assert!(parsed[1].command.is_none() && parsed[1].query.is_some());
        assert_eq!(parsed[2].command, Some(Command::Commit));
        let declared = parse(&parser, "DECLARE c CURSOR FOR SELECT series FROM weather WHERE ts > $1").unwrap();
        assert!(matches!(declared[0].command, Some(Command::Declare { .. })));
        assert!(declared[0].query.as_ref().unwrap().to_string().starts_with("SELECT series"));
        match parse(&parser, "SELEC 1") {
            Err(pgwire::error::PgWireError::UserError(info)) => assert_eq!(info.code, SYNTAX_ERROR),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }
}
