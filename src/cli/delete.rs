//! `isobar delete`: range deletes over the `Delete` call, with a confirmation step.
//!
//! A delete cannot be undone, so the command asks before it deletes more than a bounded slice:
//! when the selector is `--all` or either end of the time range is open, a person at a terminal
//! confirms (by typing the table name for `--all`, by `y` otherwise); without a terminal on
//! standard input the command refuses unless `--yes` is given, so a script never hangs on a
//! prompt it cannot answer. Both ends of the range are always sent explicitly (an open end as
//! `i64::MIN` / `i64::MAX`): the server treats a missing end as an error, not as "all time".

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use isobar_proto::v1 as pb;
use isobar_storage::SeriesSelector;

use super::CliError;
use super::args::RangeArgs;
use crate::client::Client;
use crate::snapshots::utc_text;

/// Arguments of `isobar delete`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct DeleteArgs {
    /// Table name.
    pub table: String,
    /// Which series.
    #[command(flatten)]
    pub selector: DeleteSelector,
    /// Which times (`[--from, --to)`); an open end deletes to the beginning or end of time.
    #[command(flatten)]
    pub range: RangeArgs,
    /// Delete only in this column family (default: every family of the table).
    #[arg(long)]
    pub family: Option<String>,
    /// Do not ask for confirmation (needed when standard input is not a terminal and the range
    /// is open or the selector is --all).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Which series to delete: exactly one of `--series` (repeatable), `--prefix`, `--all`.
#[derive(Args, Clone, Debug, PartialEq)]
#[group(required = true, multiple = false)]
pub struct DeleteSelector {
    /// Exactly this series key; repeat (or separate with commas) for several. Each series is
    /// deleted by its own request, in the order given.
    #[arg(long, value_name = "KEY", value_delimiter = ',', num_args = 1.., value_parser = series_key)]
    pub series: Vec<String>,
    /// Every series whose key starts with PREFIX (not empty: use --all for every series).
    #[arg(long, value_parser = prefix)]
    pub prefix: Option<String>,
    /// Every series of the table.
    #[arg(long)]
    pub all: bool,
}

/// A series key to delete: not empty (no series has an empty key).
fn series_key(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("a series key is not empty; to delete every series use --all".into());
    }
    Ok(s.to_owned())
}

/// A prefix to delete by: an empty one would select every series without the confirmation
/// `--all` asks for, so it is refused.
fn prefix(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("an empty prefix selects every series; use --all (which asks for confirmation)".into());
    }
    Ok(s.to_owned())
}

impl DeleteSelector {
    /// The engine selectors these flags choose, one per request.
    pub fn selectors(&self) -> Vec<SeriesSelector> {
        if let Some(prefix) = &self.prefix {
            vec![SeriesSelector::Prefix(prefix.clone())]
        } else if self.all {
            vec![SeriesSelector::All]
        } else {
            self.series.iter().map(|s| SeriesSelector::Exact(s.clone())).collect()
        }
    }

    /// What the flags select, for people: `series a, b`, `prefix "p"`, `every series`.
    pub fn describe(&self) -> String {
        if let Some(prefix) = &self.prefix {
            format!("every series with prefix \"{prefix}\"")
        } else if self.all {
            "every series".into()
        } else {
            format!("series {}", self.series.join(", "))
        }
    }
}

impl DeleteArgs {
    /// The time range sent: both ends always set, an open end as `i64::MIN` / `i64::MAX`.
    pub fn time_range(&self) -> Result<pb::TimeRange, CliError> {
        let (from, to) = self.range.bounds()?;
        Ok(pb::TimeRange { from_ns: Some(from.unwrap_or(i64::MIN)), to_ns: Some(to.unwrap_or(i64::MAX)) })
    }

    /// The wire requests, one per selector.
    pub fn requests(&self) -> Result<Vec<pb::DeleteRequest>, CliError> {
        let range = self.time_range()?;
        Ok(self
            .selector
            .selectors()
            .into_iter()
            .map(|s| pb::DeleteRequest {
                table: self.table.clone(),
                selector: Some(isobar_wire::selector::selector_to_proto(s)),
                range: Some(range),
                family: self.family.clone(),
            })
            .collect())
    }

    /// True when the command must be confirmed: `--all`, or an open end of the range.
    pub fn needs_confirmation(&self) -> bool {
        self.selector.all || self.range.from.is_none() || self.range.to.is_none()
    }

    /// The deletion in words: table, family, selector and range.
    pub fn describe(&self) -> Result<String, CliError> {
        let family = self.family.as_ref().map_or_else(String::new, |f| format!(" (family {f} only)"));
        let range = range_text(self.range.bounds()?);
        Ok(format!("table {}{family}: {}, {range}", self.table, self.selector.describe()))
    }
}

/// `from X to Y` with open ends named as such.
fn range_text((from, to): (Option<i64>, Option<i64>)) -> String {
    let end =
        |t: Option<i64>, open: &str| t.map_or_else(|| open.to_owned(), |ns| format!("{} ({ns} ns)", utc_text(ns)));
    format!("from {} to {}", end(from, "the beginning of time"), end(to, "the end of time"))
}

/// Asks the person at the terminal; true when they confirmed.
fn confirm(args: &DeleteArgs, input: &mut impl BufRead) -> Result<bool, CliError> {
    let io = |source| CliError::Io { path: "<stdin>".into(), source };
    let mut stderr = std::io::stderr();
    let prompt = if args.selector.all {
        format!(
            "Delete {}?\nThis cannot be undone. Type the table name ({}) to confirm: ",
            args.describe()?,
            args.table
        )
    } else {
        format!("Delete {}?\nThis cannot be undone. [y/N] ", args.describe()?)
    };
    stderr.write_all(prompt.as_bytes()).and_then(|()| stderr.flush()).map_err(io)?;
    let mut answer = String::new();
    input.read_line(&mut answer).map_err(io)?;
    let answer = answer.trim();
    Ok(if args.selector.all { answer == args.table } else { matches!(answer, "y" | "Y" | "yes" | "YES" | "Yes") })
}

/// Runs `isobar delete`.
pub async fn run(args: &DeleteArgs, client: &mut Client) -> Result<(), CliError> {
    if args.needs_confirmation() && !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Err(CliError::NotConfirmed(format!(
                "{} would be deleted, and standard input is not a terminal to confirm it; \
                 pass --yes to delete without asking",
                args.describe()?
            )));
        }
        if !confirm(args, &mut stdin.lock())? {
            return Err(CliError::NotConfirmed("not confirmed; nothing was deleted".into()));
        }
    }
    let mut sequence = 0;
    let mut done: Vec<String> = Vec::new();
    for (request, what) in args.requests()?.into_iter().zip(args.selector.selectors()) {
        match client.admin.delete(request).await {
            Ok(response) => sequence = response.into_inner().sequence,
            Err(status) => {
                // Each series is its own tombstone: say which ones the failure did not undo.
                if !done.is_empty() {
                    eprintln!("already deleted before this error: series {}", done.join(", "));
                }
                return Err(status.into());
            }
        }
        if let SeriesSelector::Exact(key) = what {
            done.push(key);
        }
    }
    eprintln!("deleted {} (tombstone sequence {sequence})", args.describe()?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parse(args: &[&str]) -> DeleteArgs {
        let cli = super::super::Cli::try_parse_from([&["isobar", "delete"], args].concat()).expect("parses");
        match cli.command {
            super::super::Command::Delete(d) => d,
            other => panic!("not a delete: {other:?}"),
        }
    }

    #[test]
    fn open_ends_are_sent_as_the_extremes() {
        let d = parse(&["t", "--series", "a", "--from", "100"]);
        assert_eq!(d.time_range().unwrap(), pb::TimeRange { from_ns: Some(100), to_ns: Some(i64::MAX) });
        let d = parse(&["t", "--prefix", "p"]);
        assert_eq!(d.time_range().unwrap(), pb::TimeRange { from_ns: Some(i64::MIN), to_ns: Some(i64::MAX) });
        assert!(d.needs_confirmation());
    }

    #[test]
    fn several_series_become_one_request_each() {
        let d = parse(&["t", "--series", "a", "--series", "b,c", "--from", "0", "--to", "5", "--family", "f"]);
        let requests = d.requests().unwrap();
        assert_eq!(requests.len(), 3);
        assert!(requests.iter().all(|r| r.family.as_deref() == Some("f") && r.table == "t"));
        assert!(!d.needs_confirmation(), "a bounded range over named series needs no confirmation");
        assert!(parse(&["t", "--all", "--from", "0", "--to", "5"]).needs_confirmation(), "--all always asks");
    }

    #[test]
    fn exactly_one_selector_is_required() {
        let cli = |args: &[&str]| super::super::Cli::try_parse_from([&["isobar", "delete", "t"], args].concat());
        assert!(cli(&[]).is_err());
        assert!(cli(&["--all", "--prefix", "a"]).is_err());
    }

    #[test]
    fn an_empty_prefix_or_series_key_is_refused() {
        let cli = |args: &[&str]| super::super::Cli::try_parse_from([&["isobar", "delete", "t"], args].concat());
        let err = cli(&["--prefix", "", "--from", "0", "--to", "1"]).unwrap_err().to_string();
        assert!(err.contains("an empty prefix selects every series; use --all"), "{err}");
        let err = cli(&["--series", "", "--from", "0", "--to", "1"]).unwrap_err().to_string();
        assert!(err.contains("a series key is not empty"), "{err}");
    }

    #[test]
    fn confirmation_for_all_needs_the_table_name() {
        let d = parse(&["weather", "--all", "--yes"]);
        assert!(!confirm(&d, &mut "y\n".as_bytes()).expect("reads"));
        assert!(confirm(&d, &mut "weather\n".as_bytes()).expect("reads"));
        let d = parse(&["weather", "--series", "s"]);
        assert!(confirm(&d, &mut "y\n".as_bytes()).expect("reads"));
        assert!(!confirm(&d, &mut "\n".as_bytes()).expect("reads"));
    }

    #[test]
    fn the_description_names_table_selector_and_range() {
        let d = parse(&["weather", "--prefix", "st", "--to", "1970-01-02"]);
        assert_eq!(
            d.describe().unwrap(),
            "table weather: every series with prefix \"st\", from the beginning of time to \
             1970-01-02T00:00:00Z (86400000000000 ns)"
        );
    }
}
