//! `isobar table create|list|describe|alter|drop` (`alter`'s flags live in [`super::alter`]).

use clap::{Args, Subcommand};
use isobar_proto::v1 as pb;
use isobar_storage::ColumnType;
use isobar_storage::{ColumnSpec, FamilySpec, TableSpec};

use super::CliError;
use super::args::OutputFormat;
use super::output::{Cell, listing, print_all};
use crate::client::Client;
use crate::config::DurationValue;

/// `isobar table ...`.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum TableCommand {
    /// Create a table with its column families and columns.
    #[command(after_help = "\
Examples:
  isobar table create trucks --family gps:lat=f64,lon=f64,moving=bool --family diag:code=i64,msg=string
  isobar table create weather --family env:temp_c=f64,rh=f64 --dynamic-columns --ttl 365d")]
    Create(CreateArgs),
    /// List every table.
    #[command(after_help = "Example:\n  isobar table list --format json")]
    List,
    /// Show a table's families, columns, types and retention.
    #[command(after_help = "Example:\n  isobar table describe trucks")]
    Describe {
        /// Table name.
        table: String,
    },
    /// Change a live table: add families or columns, set or remove retention, allow dynamic
    /// columns, set compaction settings. All changes apply together or not at all.
    #[command(after_help = "\
DURATION is a whole number with a unit: ns, us, ms, s, m, h or d (e.g. 90m, 12h, 30d).

Examples:
  isobar table alter weather --add-family wind:speed=f64,gust=f64
  isobar table alter weather --add-column env.pressure:f64 --add-column env.station:string
  isobar table alter weather --ttl env=90d --ttl 365d
  isobar table alter weather --no-ttl env --no-table-ttl
  isobar table alter weather --dynamic-columns true
  isobar table alter weather --compaction-window all=6h --closed-after env=2h
  isobar table alter weather --compaction-window env=default")]
    Alter(super::alter::AlterArgs),
    /// Drop a table and all its data.
    #[command(after_help = "Example:\n  isobar table drop trucks --if-exists")]
    Drop {
        /// Table name.
        table: String,
        /// Succeed when the table does not exist.
        #[arg(long)]
        if_exists: bool,
    },
}

/// Arguments of `isobar table create`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct CreateArgs {
    /// Table name: letters, digits and _, not starting with a digit, at most 128 bytes.
    pub table: String,
    /// A family and its columns as FAMILY:COLUMN=TYPE,...; TYPE is f64, i64, bool or string.
    /// Repeat for more families; FAMILY alone creates an empty family.
    #[arg(long = "family", short = 'f', required = true, value_name = "FAMILY:COL=TYPE,...", value_parser = parse_family)]
    pub families: Vec<FamilySpec>,
    /// Let writes create new columns (typed by their first write).
    #[arg(long)]
    pub dynamic_columns: bool,
    /// Retention of the whole table, e.g. 30d.
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<DurationValue>,
    /// Succeed when the table exists already.
    #[arg(long)]
    pub if_not_exists: bool,
}

impl CreateArgs {
    /// The engine spec these arguments describe.
    pub fn spec(&self) -> TableSpec {
        let mut spec = TableSpec::new(&self.table).dynamic_columns(self.dynamic_columns);
        spec.families = self.families.clone();
        if let Some(DurationValue(ttl)) = self.ttl {
            spec = spec.ttl(ttl);
        }
        spec
    }

    /// The wire request.
    pub fn request(&self) -> pb::CreateTableRequest {
        pb::CreateTableRequest {
            table: Some(isobar_wire::table::table_spec_to_proto(self.spec())),
            if_not_exists: self.if_not_exists,
        }
    }
}

/// Parses `FAMILY:COL=TYPE,COL=TYPE` (or `FAMILY` alone).
pub fn parse_family(s: &str) -> Result<FamilySpec, String> {
    let (name, columns) = s.split_once(':').unwrap_or((s, ""));
    if name.is_empty() {
        return Err(format!("\"{s}\" has no family name; write FAMILY:COL=TYPE,..."));
    }
    let mut family = FamilySpec { name: name.to_owned(), columns: Vec::new(), ttl_ns: None };
    for column in columns.split(',').filter(|c| !c.is_empty()) {
        let (col, ty) = column
            .split_once('=')
            .ok_or_else(|| format!("column \"{column}\" has no type; write {column}=f64 (or i64, bool, string)"))?;
        let ty = ColumnType::parse(ty)
            .ok_or_else(|| format!("column \"{col}\": unknown type \"{ty}\"; use f64, i64, bool or string"))?;
        family.columns.push(ColumnSpec { name: col.to_owned(), ty });
    }
    Ok(family)
}

/// Runs `isobar table ...`.
pub async fn run(command: &TableCommand, client: &mut Client, format: OutputFormat) -> Result<(), CliError> {
    match command {
        TableCommand::Create(args) => {
            let response = client.admin.create_table(args.request()).await?.into_inner();
            let verb = if response.created { "created" } else { "exists already" };
            eprintln!("table {} {verb}", args.table);
            describe(response.table.as_ref(), format)
        }
        TableCommand::List => {
            let tables = client.admin.list_tables(pb::ListTablesRequest {}).await?.into_inner().tables;
            let rows: Vec<Vec<Cell>> = tables
                .iter()
                .map(|t| {
                    let columns: usize = t.families.iter().map(|f| f.columns.len()).sum();
                    let families: Vec<&str> = t.families.iter().map(|f| f.name.as_str()).collect();
                    vec![
                        Cell::Text(t.name.clone()),
                        Cell::Count(u64::from(t.id)),
                        Cell::Text(families.join(",")),
                        Cell::Count(columns as u64),
                        Cell::Text(t.dynamic_columns.to_string()),
                        Cell::Text(t.ttl_ns.map(ttl_text).unwrap_or_default()),
                    ]
                })
                .collect();
            let batch = listing(&["table", "id", "families", "columns", "dynamic_columns", "ttl"], &rows)?;
            Ok(print_all(format, &batch.schema(), &[batch])?)
        }
        TableCommand::Describe { table } => {
            let request = pb::DescribeTableRequest { table: table.clone() };
            let response = client.admin.describe_table(request).await?.into_inner();
            describe(response.table.as_ref(), format)
        }
        TableCommand::Alter(args) => {
            let request = args.request()?;
            let count = request.actions.len();
            let response = client.admin.alter_table(request).await?.into_inner();
            eprintln!("table {} altered ({count} change{})", args.table, if count == 1 { "" } else { "s" });
            describe(response.table.as_ref(), format)
        }
        TableCommand::Drop { table, if_exists } => {
            let request = pb::DropTableRequest { table: table.clone(), if_exists: *if_exists };
            let dropped = client.admin.drop_table(request).await?.into_inner().dropped;
            eprintln!("table {table} {}", if dropped { "dropped" } else { "did not exist" });
            Ok(())
        }
    }
}

/// A retention in the largest whole unit, e.g. `30d` or `90m`.
pub(super) fn ttl_text(ns: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (86_400_000_000_000, "d"),
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    UNITS.iter().find(|(n, _)| ns % n == 0).map_or_else(|| format!("{ns}ns"), |(n, u)| format!("{}{u}", ns / n))
}

/// A family's own compaction setting, or `default` (the server's `[storage.compaction]`).
fn own_setting(ns: Option<i64>) -> String {
    ns.map_or_else(|| "default".to_owned(), ttl_text)
}

/// Prints one column per line: family, column, type, ids, retention and compaction settings.
fn describe(table: Option<&pb::TableInfo>, format: OutputFormat) -> Result<(), CliError> {
    let Some(table) = table else { return Ok(()) };
    let mut rows = Vec::new();
    for f in &table.families {
        let ttl = f.ttl_ns.or(table.ttl_ns).map(ttl_text).unwrap_or_default();
        let (window, closed_after) = (own_setting(f.compaction_window_ns), own_setting(f.closed_after_ns));
        if f.columns.is_empty() {
            rows.push(vec![
                Cell::Text(f.name.clone()),
                Cell::Text(String::new()),
                Cell::Text(String::new()),
                Cell::Count(u64::from(f.id)),
                Cell::Text(ttl.clone()),
                Cell::Text(window.clone()),
                Cell::Text(closed_after.clone()),
            ]);
        }
        for c in &f.columns {
            let ty = pb::ColumnType::try_from(c.r#type).map_or("?", |t| match t {
                pb::ColumnType::F64 => "f64",
                pb::ColumnType::I64 => "i64",
                pb::ColumnType::Bool => "bool",
                pb::ColumnType::String => "string",
                pb::ColumnType::Unspecified => "?",
            });
            rows.push(vec![
                Cell::Text(f.name.clone()),
                Cell::Text(c.name.clone()),
                Cell::Text(ty.into()),
                Cell::Count(u64::from(f.id)),
                Cell::Text(ttl.clone()),
                Cell::Text(window.clone()),
                Cell::Text(closed_after.clone()),
            ]);
        }
    }
    if format == OutputFormat::Table {
        let dynamic = if table.dynamic_columns { ", dynamic columns" } else { "" };
        println!("table {} (id {}){dynamic}", table.name, table.id);
    }
    let batch = listing(&["family", "column", "type", "family_id", "ttl", "compaction_window", "closed_after"], &rows)?;
    Ok(print_all(format, &batch.schema(), &[batch])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_specs_parse() {
        let f = parse_family("gps:lat=f64,moving=bool").expect("valid");
        assert_eq!(f, FamilySpec::new("gps", &[("lat", ColumnType::F64), ("moving", ColumnType::Bool)]));
        assert_eq!(parse_family("empty").expect("valid"), FamilySpec::new("empty", &[]));
    }

    #[test]
    fn ttls_print_in_whole_units() {
        assert_eq!(ttl_text(86_400_000_000_000 * 30), "30d");
        assert_eq!(ttl_text(90 * 60_000_000_000), "90m");
        assert_eq!(ttl_text(1_500_000), "1500000ns");
    }

    #[test]
    fn bad_family_specs_say_why() {
        assert!(parse_family(":a=f64").unwrap_err().contains("no family name"));
        assert!(parse_family("g:lat").unwrap_err().contains("lat=f64"));
        assert!(parse_family("g:lat=float32").unwrap_err().contains("unknown type \"float32\""));
    }
}
