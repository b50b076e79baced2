//! Argument groups shared by several subcommands: series selector, time range, columns, output
//! format; and their conversion to wire messages.

use clap::{Args, ValueEnum};
use isobar_proto::v1 as pb;
use isobar_storage::SeriesSelector;

use super::time::parse_time;

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per row (JSON Lines).
    Json,
}

/// Which series: exactly one of `--series`, `--prefix`, `--key-range`, `--all`.
#[derive(Args, Clone, Debug, PartialEq)]
#[group(required = true, multiple = false)]
pub struct SelectorArgs {
    /// Exactly this series key.
    #[arg(long, value_name = "KEY")]
    pub series: Option<String>,
    /// Every series whose key starts with PREFIX.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Series keys in [START, END); either side may be empty (open).
    #[arg(long, value_name = "START..END", value_parser = parse_key_range)]
    pub key_range: Option<(Option<String>, Option<String>)>,
    /// Every series of the table.
    #[arg(long)]
    pub all: bool,
}

impl SelectorArgs {
    /// The engine selector these flags choose.
    pub fn selector(&self) -> SeriesSelector {
        if let Some(key) = &self.series {
            SeriesSelector::Exact(key.clone())
        } else if let Some(prefix) = &self.prefix {
            SeriesSelector::Prefix(prefix.clone())
        } else if let Some((start, end)) = &self.key_range {
            SeriesSelector::Range { start: start.clone(), end: end.clone() }
        } else {
            SeriesSelector::All
        }
    }

    /// The wire selector these flags choose.
    pub fn to_proto(&self) -> pb::SeriesSelector {
        isobar_wire::selector::selector_to_proto(self.selector())
    }
}

/// `START..END` with either side possibly empty.
fn parse_key_range(s: &str) -> Result<(Option<String>, Option<String>), String> {
    let (start, end) = s.split_once("..").ok_or_else(|| format!("\"{s}\" is not START..END (e.g. a..m, a.., ..m)"))?;
    let side = |x: &str| (!x.is_empty()).then(|| x.to_owned());
    Ok((side(start), side(end)))
}

/// A time range `[--from, --to)`; a missing end is open.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct RangeArgs {
    /// Inclusive start: ns since the epoch, RFC 3339, a date, `now` or `now-1h`.
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub from: Option<i64>,
    /// Exclusive end, in the same forms as --from.
    #[arg(long, value_parser = parse_time, allow_hyphen_values = true)]
    pub to: Option<i64>,
}

impl RangeArgs {
    /// The wire range (unset ends stay unset).
    pub fn to_proto(&self) -> pb::TimeRange {
        pb::TimeRange { from_ns: self.from, to_ns: self.to }
    }
}

/// Column projection.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ColumnsArgs {
    /// Columns as family.column or family.* (comma-separated or repeated); default all.
    #[arg(long = "columns", short = 'c', value_delimiter = ',', value_name = "FAMILY.COLUMN")]
    pub columns: Vec<String>,
}
