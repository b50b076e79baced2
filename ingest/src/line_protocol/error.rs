//! The errors of a line-protocol request, each naming the line it is about.

use isobar_storage::ColumnType;

/// A line that cannot be parsed or mapped; the whole request is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct LineError {
    /// 1-based line number in the (decompressed) body.
    pub line: usize,
    /// What is wrong.
    pub kind: LineErrorKind,
}

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LineErrorKind {
    /// The line starts with a separator.
    #[error("missing measurement (a line reads `measurement[,tag=value...] field=value[,...] [timestamp]`)")]
    MissingMeasurement,
    /// `,=value` in the tag set.
    #[error("a tag has an empty key")]
    EmptyTagKey,
    /// `,key` or `,key=` in the tag set.
    #[error("tag \"{key}\" has no value (expected key=value)")]
    TagWithoutValue {
        /// The tag key as written.
        key: String,
    },
    /// Nothing after the measurement and tags.
    #[error("missing field set (at least one field=value after a space)")]
    MissingFields,
    /// `=value` in the field set.
    #[error("a field has an empty key")]
    EmptyFieldKey,
    /// A field key without `=`.
    #[error("field \"{key}\" has no value (expected key=value)")]
    FieldWithoutValue {
        /// The field key as written.
        key: String,
    },
    /// A field value that is no float, integer (`i`), unsigned (`u`), boolean or string.
    #[error(
        "field \"{key}\": cannot parse \"{value}\" (expected a float such as 1.5, an integer such as 3i, an unsigned \
         such as 3u, a boolean t/f/true/false or a \"quoted string\")"
    )]
    BadFieldValue {
        /// The field key.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A string field without its closing quote.
    #[error("field \"{key}\": string value has no closing quote")]
    UnterminatedString {
        /// The field key.
        key: String,
    },
    /// A timestamp that is no integer.
    #[error("timestamp \"{text}\" is not an integer")]
    BadTimestamp {
        /// The timestamp as written.
        text: String,
    },
    /// Text after the timestamp (or after a quoted string).
    #[error("unexpected text \"{text}\" (expected the end of the line)")]
    TrailingText {
        /// The extra text.
        text: String,
    },
    /// A timestamp outside what the database accepts, after scaling to nanoseconds.
    #[error("timestamp {ts} {precision} is outside the accepted range {min}..={max} ns")]
    TimestampOutOfRange {
        /// The timestamp as written.
        ts: i64,
        /// The request's precision.
        precision: &'static str,
        /// Smallest accepted value in ns.
        min: i64,
        /// Largest accepted value in ns.
        max: i64,
    },
    /// A measurement or field key that is not a valid table or column name.
    #[error("{what} \"{name}\" is not a valid {kind} name: names match [A-Za-z_][A-Za-z0-9_]{{0,127}}")]
    BadName {
        /// `measurement` or `field`.
        what: &'static str,
        /// `table` or `column`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// The same tag key twice.
    #[error("tag \"{key}\" appears twice")]
    DuplicateTag {
        /// The tag key.
        key: String,
    },
    /// A series key (the sorted tag set) longer than the database accepts.
    #[error("series key (sorted tags) is {len} bytes, longer than the limit of {max}")]
    SeriesKeyTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A string field longer than the database accepts.
    #[error("field \"{key}\": string of {len} bytes is longer than the limit of {max}")]
    StringTooLong {
        /// The field key.
        key: String,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An unsigned value that does not fit the `i64` column it is stored in.
    #[error("field \"{key}\": unsigned value {value} does not fit a 64-bit signed integer column")]
    UnsignedTooLarge {
        /// The field key.
        key: String,
        /// The value.
        value: u64,
    },
    /// A field whose type differs from that of the same column elsewhere.
    #[error("field \"{column}\" of measurement \"{table}\" is {got} here but {expected} {origin}")]
    TypeConflict {
        /// Table (measurement).
        table: String,
        /// Column (field key).
        column: String,
        /// The type this line sends.
        got: ColumnType,
        /// The type fixed earlier.
        expected: ColumnType,
        /// Where that type comes from: `on line N` or `in the table's schema`.
        origin: String,
    },
    /// A measurement whose table does not exist while `create_tables` is off.
    #[error(
        "table \"{table}\" does not exist (the server does not create tables: line_protocol.create_tables = false)"
    )]
    UnknownTable {
        /// The table.
        table: String,
    },
    /// A field that names no column of a table that does not allow new columns.
    #[error("table \"{table}\" has no column {family}.{column} and does not allow new columns")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The family.
        family: String,
        /// The column.
        column: String,
    },
    /// The body is not UTF-8.
    #[error("the body is not valid UTF-8")]
    NotUtf8,
}
