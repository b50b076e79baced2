//! The flags of `isobar write --file` that say how to read a file, and their checked form.
//! The same flags apply to every format (CSV, JSON Lines, Parquet), except `--delimiter` (CSV
//! only) and `--skip-lines` (not Parquet).

use std::path::PathBuf;

use clap::Args;
use isobar_storage::ColumnType;

use super::error::ImportError;
use super::source::FileFormat;
use super::timestamp::{TsParser, TsUnit, parse_zone};

/// How to read the file: which lines, columns, series key, timestamps and missing values.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ImportArgs {
    /// The file's format (default: from its name: .jsonl and .ndjson are jsonl, .parquet is
    /// parquet, anything else and standard input csv).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub file_format: Option<FileFormat>,
    /// Lines to skip before the header (e.g. a station line above it).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub skip_lines: usize,
    /// Import a header column as family.column[:type] (repeatable): 'Dry-bulb (C)=met.temp_c'.
    /// With any mapping, columns not mapped are ignored.
    #[arg(long, value_name = "SRC=FAMILY.COLUMN")]
    pub map: Vec<String>,
    /// A file of mappings, one SRC=FAMILY.COLUMN[:TYPE] per line (# starts a comment).
    #[arg(long, value_name = "FILE")]
    pub map_file: Option<PathBuf>,
    /// The series key: a constant (KSEA), or a template of columns ({station}, {station}-{id});
    /// default: the column `series`.
    #[arg(long, value_name = "KEY|TEMPLATE")]
    pub series: Option<String>,
    /// The timestamp column (default `ts`).
    #[arg(long, value_name = "COLUMN", conflicts_with = "date_column")]
    pub ts_column: Option<String>,
    /// A date column, joined with --time-column by one space before parsing.
    #[arg(long, value_name = "COLUMN", requires = "time_column")]
    pub date_column: Option<String>,
    /// The time-of-day column that goes with --date-column.
    #[arg(long, value_name = "COLUMN", requires = "date_column")]
    pub time_column: Option<String>,
    /// strftime-style format of the timestamp (e.g. '%m/%d/%Y %H:%M'; date and time columns are
    /// joined by a space).
    #[arg(long, value_name = "FORMAT")]
    pub ts_format: Option<String>,
    /// Zone of timestamps without an offset: an IANA name (Europe/Berlin, UTC) or an offset (-05:00).
    #[arg(long, value_name = "ZONE", value_parser = check_zone)]
    pub tz: Option<String>,
    /// Unit of integer timestamps; without it an integer implausible as nanoseconds is refused.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub ts_unit: Option<TsUnit>,
    /// Field values meaning "no value" (comma-separated or repeated), e.g. -9900,NA.
    #[arg(long, value_delimiter = ',', value_name = "TEXT", allow_hyphen_values = true)]
    pub null_values: Vec<String>,
    /// Make an empty field (or a --null-values marker) set the stored cell to null, overwriting
    /// a value an earlier import wrote; without it an empty field leaves the stored cell as it is.
    #[arg(long)]
    pub empty_as_null: bool,
    /// Skip up to N bad rows (each recorded in --reject-file) instead of stopping at the first.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub max_errors: u64,
    /// Write the line and reason of every skipped row here (CSV: line,reason).
    #[arg(long, value_name = "FILE")]
    pub reject_file: Option<PathBuf>,
    /// Start at this line of the file (the header is still read); to resume an import that
    /// stopped, with the line it names.
    #[arg(long, value_name = "LINE")]
    pub from_line: Option<u64>,
    /// Field separator (one ASCII character; `\t` for tab).
    #[arg(long, default_value = ",", value_name = "CHAR", value_parser = parse_delimiter)]
    pub delimiter: u8,
}

/// clap value parser of `--tz`: the zone must exist.
fn check_zone(s: &str) -> Result<String, String> {
    parse_zone(s).map(|_| s.to_owned())
}

/// One ASCII character, or `\t`.
fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s.as_bytes() {
        [b] if b.is_ascii() => Ok(*b),
        b"\\t" => Ok(b'\t'),
        _ => Err(format!("\"{s}\" is not one ASCII character (e.g. , ; | or \\t)")),
    }
}

/// Where a column goes: family, column and, when given, the type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Family name.
    pub family: String,
    /// Column name.
    pub column: String,
    /// The type, when the header or the mapping gives it.
    pub ty: Option<ColumnType>,
}

impl Target {
    /// `family.column` or `family.column:type`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (name, ty) = match text.rsplit_once(':') {
            Some((name, ty)) => (name, Some(ColumnType::parse(ty)?)),
            None => (text, None),
        };
        let (family, column) = name.split_once('.')?;
        let valid = |s: &str| !s.is_empty() && !s.contains(['.', ' ', ':']);
        (valid(family) && valid(column)).then(|| Self { family: family.to_owned(), column: column.to_owned(), ty })
    }
}

/// A piece of a `--series` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// The value of this column.
    Column(String),
}

/// Where the series key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeriesSpec {
    /// The column `series`.
    Default,
    /// The same key for every row.
    Constant(String),
    /// A template of columns and text.
    Template(Vec<Part>),
}

impl SeriesSpec {
    /// Parses `--series`: text with `{column}` parts is a template (`{{` and `}}` are braces).
    pub fn parse(text: &str) -> Result<Self, ImportError> {
        let bad = |reason: &'static str| ImportError::SeriesTemplate { template: text.to_owned(), reason };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    if name.is_empty() {
                        return Err(bad("{} names no column"));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Column(name));
                }
                '}' => return Err(bad("a } without its {")),
                c => literal.push(c),
            }
        }
        if parts.is_empty() {
            if literal.is_empty() {
                return Err(bad("the key is empty"));
            }
            return Ok(Self::Constant(literal));
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self::Template(parts))
    }
}

/// Where the timestamp comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TsSpec {
    /// One column.
    Column(String),
    /// A date column and a time column, joined by a space.
    DateTime {
        /// The date column.
        date: String,
        /// The time column.
        time: String,
    },
}

/// The checked import options.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The file's format, when given (else chosen from the file's name).
    pub format: Option<FileFormat>,
    /// Header lines to skip.
    pub skip_lines: usize,
    /// Source column -> target, in the order given.
    pub maps: Vec<(String, Target)>,
    /// The series key.
    pub series: SeriesSpec,
    /// The timestamp columns.
    pub ts: TsSpec,
    /// How timestamps are read.
    pub ts_parser: TsParser,
    /// Values that mean null.
    pub null_values: Vec<String>,
    /// An empty field writes an explicit null instead of leaving the cell as it is.
    pub empty_as_null: bool,
    /// Field separator.
    pub delimiter: u8,
    /// Rows on earlier lines are skipped.
    pub from_line: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            format: None,
            skip_lines: 0,
            maps: Vec::new(),
            series: SeriesSpec::Default,
            ts: TsSpec::Column("ts".into()),
            ts_parser: TsParser::new(None, None, None),
            null_values: Vec::new(),
            empty_as_null: false,
            delimiter: b',',
            from_line: 0,
        }
    }
}

impl ImportOptions {
    /// Checks the flags and reads `--map-file`.
    pub fn from_args(args: &ImportArgs) -> Result<Self, ImportError> {
        let mut lines: Vec<(String, String)> = args.map.iter().map(|m| ("--map".to_owned(), m.clone())).collect();
        if let Some(path) = &args.map_file {
            let text =
                std::fs::read_to_string(path).map_err(|source| ImportError::MapFile { path: path.clone(), source })?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if !line.is_empty() && !line.starts_with('#') {
                    lines.push((format!("{}:{}", path.display(), i + 1), line.to_owned()));
                }
            }
        }
        let mut maps = Vec::with_capacity(lines.len());
        for (origin, text) in lines {
            let bad = || ImportError::Map { origin: origin.clone(), text: text.clone() };
            let (source, target) = text.rsplit_once('=').ok_or_else(bad)?;
            let target = Target::parse(target.trim()).ok_or_else(bad)?;
            maps.push((source.trim().to_owned(), target));
        }
        let series = match &args.series {
            Some(text) => SeriesSpec::parse(text)?,
            None => SeriesSpec::Default,
        };
        let ts = match (&args.date_column, &args.time_column) {
            (Some(date), Some(time)) => TsSpec::DateTime { date: date.clone(), time: time.clone() },
            _ => TsSpec::Column(args.ts_column.clone().unwrap_or_else(|| "ts".into())),
        };
        let tz = match &args.tz {
            Some(name) => Some((name.clone(), parse_zone(name).map_err(ImportError::Zone)?)),
            None => None,
        };
        Ok(Self {
            format: args.file_format,
            skip_lines: args.skip_lines,
            maps,
            series,
            ts,
            ts_parser: TsParser::new(args.ts_format.clone(), tz, args.ts_unit),
            null_values: args.null_values.iter().map(|v| v.trim().to_owned()).collect(),
            empty_as_null: args.empty_as_null,
            delimiter: args.delimiter,
            from_line: args.from_line.unwrap_or(0),
        })
    }
}
