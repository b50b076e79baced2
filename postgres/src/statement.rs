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

/// Rewrites `LIKE pattern ESCAPE 'c'` with another escape than a backslash (SQLAlchemy sends
/// `ESCAPE '/'`) into the backslash form DataFusion takes: backslashes in the pattern are
/// doubled, then `c` becomes a backslash. (A doubled `cc`, meaning a literal `c`, becomes a
/// literal backslash: the one case this does not keep.)
fn backslash_escapes(ast: &mut Ast) {
    use std::ops::ControlFlow;

    use datafusion::sql::sqlparser::ast::{Expr, Value, visit_expressions_mut};
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser as SqlParser;

    let _ = visit_expressions_mut(ast, |expr| {
        let (Expr::Like { pattern, escape_char, .. } | Expr::ILike { pattern, escape_char, .. }) = expr else {
            return ControlFlow::<()>::Continue(());
        };
        let Some(Value::SingleQuotedString(c)) = escape_char.as_ref().map(|v| &v.value) else {
            return ControlFlow::Continue(());
        };
        if c == "\\" || c.chars().count() != 1 || c == "'" {
            return ControlFlow::Continue(());
        }
        let text = format!("replace(replace(({pattern}), '\\', '\\\\'), '{c}', '\\')");
        if let Ok(rewritten) =
            SqlParser::new(&PostgreSqlDialect {}).try_with_sql(&text).and_then(|mut p| p.parse_expr())
        {
            **pattern = rewritten;
            *escape_char = None;
        }
        ControlFlow::Continue(())
    });
}

fn parsed(parser: &PostgresCompatibilityParser, mut ast: Ast) -> PgWireResult<Parsed> {
    backslash_escapes(&mut ast);
    aggregate_catalog_subqueries(&mut ast);
    if let Some(copy) = crate::copy::copy_out(&ast) {
        let (query, format) = copy?;
        let mut inner =
            parser.parse(&query).map_err(|e| user_error(SYNTAX_ERROR, format!("syntax error in COPY: {e}")))?;
        return Ok(Parsed { command: Some(Command::CopyOut { format }), query: inner.pop() });
    }
    let sql = ast.to_string();
    match Command::parse(&sql) {
        Some(Command::Declare { name, query }) => {
            let mut inner = parser.parse(&query).map_err(|e| {
                user_error(SYNTAX_ERROR, format!("syntax error in the query of cursor \"{name}\": {e}"))
            })?;
            if inner.len() != 1 {
                return Err(user_error(SYNTAX_ERROR, format!("cursor \"{name}\" must be declared for one query")));
            }
            Ok(Parsed { command: Some(Command::Declare { name, query }), query: inner.pop() })
        }
        Some(command) => Ok(Parsed { command: Some(command), query: None }),
        None => Ok(Parsed { command: None, query: Some(ast) }),
    }
}

/// Wraps the one result of a scalar subquery over `pg_catalog` in `max(...)`. Drivers'
/// catalog queries (SQLAlchemy's column reflection) use correlated scalar subqueries that
/// PostgreSQL runs row by row and DataFusion only plans when aggregated; over the catalog they
/// return at most one row, where `max` of it is the row itself. Queries over Isobar's own
/// relations are left as written. A subquery over `pg_sequence` alone is NULL: Isobar has no
/// sequences, and SQLAlchemy's such subquery nests a `regclass` lookup DataFusion cannot run.
fn aggregate_catalog_subqueries(ast: &mut Ast) {
    use std::ops::ControlFlow;

    use datafusion::sql::sqlparser::ast::{Expr, GroupByExpr, SelectItem, SetExpr, TableFactor, visit_expressions_mut};
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser as SqlParser;

    let _ = visit_expressions_mut(ast, |expr| {
        if let Expr::Case { operand: None, conditions, .. } = expr {
            for when in conditions.iter_mut() {
                drop_repeated_condition(&when.condition, &mut when.result);
            }
            return ControlFlow::<()>::Continue(());
        }
        let Expr::Subquery(query) = expr else { return ControlFlow::<()>::Continue(()) };
        let SetExpr::Select(select) = query.body.as_mut() else { return ControlFlow::Continue(()) };
        if let [only] = select.from.as_slice()
            && only.joins.is_empty()
            && matches!(&only.relation, TableFactor::Table { name, .. } if name.to_string() == "pg_catalog.pg_sequence")
        {
            *expr = Expr::value(datafusion::sql::sqlparser::ast::Value::Null);
            return ControlFlow::Continue(());
        }
        let over_catalog = !select.from.is_empty()
            && select.from.iter().all(|t| {
                matches!(&t.relation, TableFactor::Table { name, .. } if name.to_string().starts_with("pg_catalog."))
            });
        let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
        if !over_catalog || grouped || select.projection.len() != 1 {
            return ControlFlow::Continue(());
        }
        let Some(item) = select.projection.first_mut() else { return ControlFlow::Continue(()) };
        let (SelectItem::UnnamedExpr(inner) | SelectItem::ExprWithAlias { expr: inner, .. }) = item else {
            return ControlFlow::Continue(());
        };
        let text = inner.to_string().to_ascii_lowercase();
        if ["max(", "min(", "count(", "sum(", "avg(", "array_agg(", "string_agg("].iter().any(|f| text.starts_with(f)) {
            return ControlFlow::Continue(());
        }
        if let Ok(wrapped) = SqlParser::new(&PostgreSqlDialect {})
            .try_with_sql(&format!("max({inner})"))
            .and_then(|mut p| p.parse_expr())
        {
            *inner = wrapped;
        }
        ControlFlow::Continue(())
    });
}

/// In `CASE WHEN c THEN (SELECT ... WHERE c AND rest)`, the subquery's `c` is true whenever
/// it runs: it becomes `WHERE rest`. (SQLAlchemy repeats the outer condition inside; DataFusion
/// cannot decorrelate a condition on outer columns alone.)
fn drop_repeated_condition(
    condition: &datafusion::sql::sqlparser::ast::Expr,
    result: &mut datafusion::sql::sqlparser::ast::Expr,
) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, SetExpr};

    let Expr::Subquery(query) = result else { return };
    let SetExpr::Select(select) = query.body.as_mut() else { return };
    let Some(selection) = select.selection.take() else { return };
    let wanted = condition.to_string();
    let mut conjuncts = Vec::new();
    let mut stack = vec![selection];
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
                stack.push(*right);
                stack.push(*left);
            }
            other => conjuncts.push(other),
        }
    }
    let kept: Vec<Expr> = conjuncts.into_iter().filter(|c| c.to_string() != wanted).collect();
    select.selection = kept.into_iter().reduce(|l, r| Expr::BinaryOp {
        left: Box::new(l),
        op: BinaryOperator::And,
        right: Box::new(r),
    });
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
        let like = parse(&parser, "SELECT 1 WHERE 'pg_x' NOT LIKE $1::VARCHAR || '%' ESCAPE '/'").unwrap();
        let text = like[0].query.as_ref().unwrap().to_string();
        assert!(text.contains("replace(replace(") && !text.contains("ESCAPE"), "{text}");
        let case = parse(
            &parser,
            "SELECT CASE WHEN a.atthasdef THEN (SELECT t.typname FROM pg_catalog.pg_type t \
             WHERE a.atthasdef AND t.oid = a.atttypid) ELSE NULL END FROM pg_catalog.pg_attribute a",
        )
        .unwrap();
        let text = case[0].query.as_ref().unwrap().to_string();
        assert!(text.contains("(SELECT max(t.typname) FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid)"), "{text}");
        let own = parse(&parser, "SELECT (SELECT temp FROM weather.env WHERE series = 'x') FROM weather").unwrap();
        assert!(!own[0].query.as_ref().unwrap().to_string().contains("max("));
        match parse(&parser, "SELEC 1") {
            Err(pgwire::error::PgWireError::UserError(info)) => assert_eq!(info.code, SYNTAX_ERROR),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }
}
