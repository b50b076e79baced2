//! `isobar table create|list|describe|drop`.

use clap::{Args, Subcommand};
use isobar_proto::v1 as pb;
use isobar_storage::ColumnType;
use isobar_storage::schema::{ColumnSpec, FamilySpec, TableSpec};

use super::CliError;
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
            table: Some(isobar_ingest::table::table_spec_to_proto(self.spec())),
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
pub fn run(command: &TableCommand) -> Result<(), CliError> {
    let name = match command {
        TableCommand::Create(_) => "table create",
        TableCommand::List => "table list",
        TableCommand::Describe { .. } => "table describe",
        TableCommand::Drop { .. } => "table drop",
    };
    Err(CliError::NotWired { command: name, waiting_for: "the Admin service" })
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
    fn bad_family_specs_say_why() {
        assert!(parse_family(":a=f64").unwrap_err().contains("no family name"));
        assert!(parse_family("g:lat").unwrap_err().contains("lat=f64"));
        assert!(parse_family("g:lat=float32").unwrap_err().contains("unknown type \"float32\""));
    }
}
