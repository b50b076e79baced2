//! Argument groups shared by several subcommands: series selector, time range, columns, output
//! format; and their conversion to wire messages.

use clap::{Args, ValueEnum};
use isobar_proto::v1 as pb;
use isobar_storage::SeriesSelector;

use super::CliError;
use super::time::{TimeArg, Zone, parse_time_arg, parse_zone_arg};

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

/// A time range `[--from, --to)`; a missing end is open. `--tz` is the zone of local times in
/// it, of printed times, and of `agg`'s day, month and year buckets.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct RangeArgs {
    /// Inclusive start: ns since the epoch, RFC 3339, a date, a local date-time with --tz, `now`
    /// or `now-1h`.
    #[arg(long, value_parser = parse_time_arg, allow_hyphen_values = true)]
    pub from: Option<TimeArg>,
    /// Exclusive end, in the same forms as --from.
    #[arg(long, value_parser = parse_time_arg, allow_hyphen_values = true)]
    pub to: Option<TimeArg>,
    /// Time zone (IANA name such as Europe/Berlin, or an offset such as -05:00) of dates and
    /// local times in --from/--to and of printed times (default UTC).
    #[arg(long, value_name = "ZONE", value_parser = parse_zone_arg)]
    pub tz: Option<Zone>,
}

impl RangeArgs {
    /// The range in nanoseconds (unset ends stay unset), local forms read in `--tz`.
    pub fn bounds(&self) -> Result<(Option<i64>, Option<i64>), CliError> {
        let zone = self.tz.as_ref().map(|z| &z.tz);
        let from = self.from.map(|t| t.resolve(zone)).transpose()?;
        let to = self.to.map(|t| t.resolve(zone)).transpose()?;
        Ok((from, to))
    }

    /// The wire range (unset ends stay unset).
    pub fn to_proto(&self) -> Result<pb::TimeRange, CliError> {
        let (from_ns, to_ns) = self.bounds()?;
        Ok(pb::TimeRange { from_ns, to_ns })
    }
}

/// Column projection.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ColumnsArgs {
    /// Columns as family.column or family.* (comma-separated or repeated); default all.
    #[arg(long = "columns", short = 'c', value_delimiter = ',', value_name = "FAMILY.COLUMN")]
    pub columns: Vec<String>,
}
