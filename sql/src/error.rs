//! [`SqlError`] and [`SqlErrorKind`]: every way a SQL statement fails, as a kind a front end maps
//! to its own codes (gRPC status, SQLSTATE) and a message a person can act on.
//!
//! DataFusion's errors are classified here, in one place ([`SqlError::from_datafusion`]): a
//! syntax error keeps sqlparser's "at Line: l, Column: c"; an unknown relation or column is
//! `NotFound` naming it (as the native API answers an unknown table, family or column); engine
//! errors that travel through DataFusion as `External` are classified by the engine's own
//! variant.

use std::fmt;

use datafusion::error::DataFusionError;

/// What kind of failure a [`SqlError`] is; front ends map it to their protocol's codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlErrorKind {
    /// The statement is wrong: syntax, types, a write statement, a bad parameter.
    InvalidArgument,
    /// A catalog, schema, relation or column the statement names does not exist.
    NotFound,
    /// The caller may not read a table the statement names.
    PermissionDenied,
    /// A bound was reached: the memory limit or the concurrent-query cap.
    ResourceExhausted,
    /// The query ran past its timeout.
    DeadlineExceeded,
    /// The query was cancelled.
    Cancelled,
    /// The engine cannot answer now (closed, overloaded, read-only); retrying later may work.
    Unavailable,
    /// A bug or an unexpected engine failure.
    Internal,
}

/// A failed SQL statement: its [`SqlErrorKind`] and a message saying what, where and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    kind: SqlErrorKind,
    message: String,
}

impl SqlError {
    /// An error of `kind` with `message`.
    pub fn new(kind: SqlErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> SqlErrorKind {
        self.kind
    }

    /// The message for a person.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Classifies a DataFusion error (see the module docs).
    pub fn from_datafusion(err: DataFusionError) -> Self {
        classify(&err, &err.strip_backtrace())
    }

    /// A read-only refusal for a statement that would change something.
    pub(crate) fn read_only(what: &str) -> Self {
        Self::new(
            SqlErrorKind::InvalidArgument,
            format!(
                "{what} is not supported: Isobar SQL is read-only (SELECT, WITH, EXPLAIN, SHOW, DESCRIBE); write \
                 through the Write API, line protocol or Flight SQL bulk ingest, and change tables with the Admin API"
            ),
        )
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

impl From<DataFusionError> for SqlError {
    fn from(err: DataFusionError) -> Self {
        Self::from_datafusion(err)
    }
}

/// The kind of `err` (looking through contexts and wrappers); `text` is the whole message.
fn classify(err: &DataFusionError, text: &str) -> SqlError {
    use SqlErrorKind as K;
    let kind = match err {
        DataFusionError::SQL(parser, _) => {
            use datafusion::sql::sqlparser::parser::ParserError as P;
            let detail = match parser.as_ref() {
                P::ParserError(m) | P::TokenizerError(m) => m.clone(),
                P::RecursionLimitExceeded => "the statement is nested too deeply".to_owned(),
            };
            return SqlError::new(K::InvalidArgument, format!("syntax error: {detail}"));
        }
        // A diagnostic only decorates its error (spans for an editor): the error says it all.
        DataFusionError::Diagnostic(_, inner) => return classify(inner, &inner.strip_backtrace()),
        DataFusionError::Context(_, inner) => return SqlError::new(classify(inner, "").kind, strip(text)),
        DataFusionError::Shared(inner) => return SqlError::new(classify(inner, "").kind, strip(text)),
        DataFusionError::Collection(errs) => match errs.first() {
            Some(first) => return SqlError::new(classify(first, "").kind, strip(text)),
            None => K::Internal,
        },
        DataFusionError::SchemaError(e, _) => match e.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { .. } => K::NotFound,
            _ => K::InvalidArgument,
        },
        DataFusionError::Plan(msg) if msg.contains("not found") => K::NotFound,
        DataFusionError::Plan(_) | DataFusionError::NotImplemented(_) | DataFusionError::Configuration(_) => {
            K::InvalidArgument
        }
        DataFusionError::ResourcesExhausted(_) => K::ResourceExhausted,
        DataFusionError::External(e) => external_kind(e.as_ref()),
        DataFusionError::ArrowError(e, _) => match e.as_ref() {
            arrow_schema::ArrowError::ExternalError(inner) => external_kind(inner.as_ref()),
            arrow_schema::ArrowError::CastError(_)
            | arrow_schema::ArrowError::ParseError(_)
            | arrow_schema::ArrowError::DivideByZero
            | arrow_schema::ArrowError::ArithmeticOverflow(_)
            | arrow_schema::ArrowError::InvalidArgumentError(_) => K::InvalidArgument,
            _ => K::Internal,
        },
        DataFusionError::Execution(msg) if msg.contains("Cancelled") => K::Cancelled,
        DataFusionError::Execution(_) => K::InvalidArgument,
        _ => K::Internal,
    };
    SqlError::new(kind, strip(text))
}

/// The kind of an error that crossed DataFusion as `External`.
fn external_kind(e: &(dyn std::error::Error + Send + Sync + 'static)) -> SqlErrorKind {
    if let Some(sql) = e.downcast_ref::<SqlError>() {
        return sql.kind;
    }
    if let Some(df) = e.downcast_ref::<DataFusionError>() {
        return classify(df, "").kind;
    }
    if let Some(engine) = e.downcast_ref::<isobar_storage::Error>() {
        return engine_kind(engine);
    }
    if let Some(query) = e.downcast_ref::<isobar_query::Error>() {
        return match query {
            isobar_query::Error::Storage(engine) => engine_kind(engine),
            _ => SqlErrorKind::InvalidArgument,
        };
    }
    SqlErrorKind::Internal
}

/// The kind of an engine error, following the native API's status table.
pub(crate) fn engine_kind(e: &isobar_storage::Error) -> SqlErrorKind {
    use isobar_storage::{Error as E, InvalidInput as I};
    match e {
        E::Invalid(I::UnknownTable { .. } | I::UnknownFamily { .. } | I::UnknownColumn { .. }) => {
            SqlErrorKind::NotFound
        }
        E::Invalid(_) => SqlErrorKind::InvalidArgument,
        E::Overloaded { .. } | E::Closed | E::DiskFull { .. } | E::Locked { .. } | E::FlushFailing { .. } => {
            SqlErrorKind::Unavailable
        }
        _ => SqlErrorKind::Internal,
    }
}

/// DataFusion's prefixes ("Error during planning: ") say nothing to a SQL user; the rest stays.
fn strip(text: &str) -> String {
    let mut s = text;
    for prefix in ["Error during planning: ", "External error: ", "Execution error: ", "SQL error: "] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    s.to_string()
}
