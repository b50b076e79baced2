//! `isobar table alter`: changes to a live table over the `AlterTable` call.
//!
//! Every flag becomes one `AlterTableAction`, all sent in one request, which the server applies
//! together or not at all. Shapes the CLI can check alone (a column type, a duration) are checked
//! here; everything that needs the catalog (an unknown family, a column that exists already, a
//! TTL that is not positive) is the server's to refuse, and its message is printed unchanged.

use clap::Args;
use isobar_proto::v1 as pb;
use isobar_storage::{ColumnSpec, ColumnType, FamilySpec};
use isobar_wire::table::column_type_to_proto;

use super::CliError;
use super::table::parse_family;
use crate::config::DurationValue;

/// Arguments of `isobar table alter`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct AlterArgs {
    /// Table name.
    pub table: String,
    /// Add a column family: FAMILY, or FAMILY:COL=TYPE,... with its first columns. Repeatable.
    #[arg(long = "add-family", value_name = "FAMILY[:COL=TYPE,...]", value_parser = parse_family)]
    pub add_families: Vec<FamilySpec>,
    /// Add a column to an existing family: FAMILY.COLUMN:TYPE (TYPE is f64, i64, bool or string).
    /// Repeatable.
    #[arg(long = "add-column", value_name = "FAMILY.COLUMN:TYPE", value_parser = parse_column)]
    pub add_columns: Vec<(String, ColumnSpec)>,
    /// Set a retention: FAMILY=DURATION for one family, or DURATION alone for the whole table
    /// (e.g. 30d, 12h, 90m). Repeatable.
    #[arg(long = "ttl", value_name = "[FAMILY=]DURATION", value_parser = parse_ttl)]
    pub ttls: Vec<(Option<String>, i64)>,
    /// Remove a family's own retention (it then follows the table's). Repeatable.
    #[arg(long = "no-ttl", value_name = "FAMILY")]
    pub no_ttls: Vec<String>,
    /// Remove the table's retention (keep data forever, unless a family has its own).
    #[arg(long)]
    pub no_table_ttl: bool,
    /// Allow (true) or forbid (false) writes to create new columns.
    #[arg(long, value_name = "BOOL")]
    pub dynamic_columns: Option<bool>,
    /// Compaction window width of one family, FAMILY=DURATION, or of every family,
    /// all=DURATION; DURATION `default` returns to the server's storage.compaction.window.
    #[arg(long = "compaction-window", value_name = "FAMILY|all=DURATION", value_parser = parse_compaction)]
    pub compaction_windows: Vec<(Option<String>, Option<i64>)>,
    /// How long after its newest row a window is closed (then compacted into as few files as
    /// possible), FAMILY=DURATION or all=DURATION; `default` returns to the server's
    /// storage.compaction.closed_after.
    #[arg(long = "closed-after", value_name = "FAMILY|all=DURATION", value_parser = parse_compaction)]
    pub closed_after: Vec<(Option<String>, Option<i64>)>,
}

impl AlterArgs {
    /// The wire actions, in the order: families, columns, TTLs, dynamic columns, compaction.
    pub fn actions(&self) -> Vec<pb::AlterTableAction> {
        use pb::alter_table_action::Action;
        let mut actions: Vec<Action> = Vec::new();
        for family in &self.add_families {
            actions.push(Action::AddFamily(isobar_wire::table::family_spec_to_proto(family.clone())));
        }
        // One AddColumns per family, in the order the families first appear.
        let mut families: Vec<&str> = Vec::new();
        for (family, _) in &self.add_columns {
            if !families.contains(&family.as_str()) {
                families.push(family);
            }
        }
        for family in families {
            let columns = self
                .add_columns
                .iter()
                .filter(|(f, _)| f == family)
                .map(|(_, c)| pb::ColumnSpec { name: c.name.clone(), r#type: column_type_to_proto(c.ty).into() })
                .collect();
            actions.push(Action::AddColumns(pb::AddColumns { family: family.to_owned(), columns }));
        }
        for (family, ttl_ns) in &self.ttls {
            actions.push(Action::SetTtl(pb::SetTtl { family: family.clone(), ttl_ns: Some(*ttl_ns) }));
        }
        for family in &self.no_ttls {
            actions.push(Action::SetTtl(pb::SetTtl { family: Some(family.clone()), ttl_ns: None }));
        }
        if self.no_table_ttl {
            actions.push(Action::SetTtl(pb::SetTtl { family: None, ttl_ns: None }));
        }
        if let Some(on) = self.dynamic_columns {
            actions.push(Action::SetDynamicColumns(on));
        }
        for (family, window_ns) in &self.compaction_windows {
            actions.push(Action::SetCompactionWindow(pb::SetCompactionWindow {
                family: family.clone(),
                window_ns: *window_ns,
            }));
        }
        for (family, closed_after_ns) in &self.closed_after {
            actions.push(Action::SetClosedAfter(pb::SetClosedAfter {
                family: family.clone(),
                closed_after_ns: *closed_after_ns,
            }));
        }
        actions.into_iter().map(|a| pb::AlterTableAction { action: Some(a) }).collect()
    }

    /// The wire request, or an error when no flag asks for a change.
    pub fn request(&self) -> Result<pb::AlterTableRequest, CliError> {
        let actions = self.actions();
        if actions.is_empty() {
            return Err(CliError::Argument {
                arg: "table alter",
                reason: "nothing to change: give at least one of --add-family, --add-column, --ttl, --no-ttl, \
                         --no-table-ttl, --dynamic-columns, --compaction-window, --closed-after",
            });
        }
        Ok(pb::AlterTableRequest { table: self.table.clone(), actions })
    }
}

/// Parses `FAMILY.COLUMN:TYPE`.
pub fn parse_column(s: &str) -> Result<(String, ColumnSpec), String> {
    let shape = || format!("\"{s}\" is not FAMILY.COLUMN:TYPE (e.g. env.wind:f64)");
    let (path, ty) = s.split_once(':').ok_or_else(shape)?;
    let (family, column) = path.split_once('.').ok_or_else(shape)?;
    if family.is_empty() || column.is_empty() {
        return Err(shape());
    }
    let ty = ColumnType::parse(ty)
        .ok_or_else(|| format!("column \"{family}.{column}\": unknown type \"{ty}\"; use f64, i64, bool or string"))?;
    Ok((family.to_owned(), ColumnSpec { name: column.to_owned(), ty }))
}

/// A duration in nanoseconds, with the config's duration syntax.
fn duration_ns(s: &str) -> Result<i64, String> {
    let DurationValue(d) = s.parse().map_err(|e| format!("\"{s}\": {e}"))?;
    i64::try_from(d.as_nanos()).map_err(|_| format!("\"{s}\" is too long (at most about 292 years)"))
}

/// Parses `FAMILY=DURATION`, or `DURATION` alone for the table.
fn parse_ttl(s: &str) -> Result<(Option<String>, i64), String> {
    match s.split_once('=') {
        Some((family, d)) if !family.is_empty() => Ok((Some(family.to_owned()), duration_ns(d)?)),
        Some(_) => Err(format!("\"{s}\" has no family before =; write FAMILY=DURATION, or DURATION for the table")),
        None => Ok((None, duration_ns(s)?)),
    }
}

/// Parses `FAMILY=DURATION` or `all=DURATION`; DURATION may be `default`.
fn parse_compaction(s: &str) -> Result<(Option<String>, Option<i64>), String> {
    let (target, d) = s
        .split_once('=')
        .filter(|(t, _)| !t.is_empty())
        .ok_or_else(|| format!("\"{s}\" is not FAMILY=DURATION or all=DURATION (e.g. all=6h, gps=default)"))?;
    let family = (target != "all").then(|| target.to_owned());
    let ns = if d.trim() == "default" { None } else { Some(duration_ns(d)?) };
    Ok((family, ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000_000;

    #[test]
    fn columns_ttls_and_compaction_settings_parse() {
        assert_eq!(
            parse_column("env.wind:f64"),
            Ok(("env".into(), ColumnSpec { name: "wind".into(), ty: ColumnType::F64 }))
        );
        assert!(parse_column("env.wind:float32").unwrap_err().contains("unknown type \"float32\""));
        assert!(parse_column("wind:f64").unwrap_err().contains("FAMILY.COLUMN:TYPE"));
        assert_eq!(parse_ttl("env=2h"), Ok((Some("env".into()), 2 * HOUR)));
        assert_eq!(parse_ttl("30d"), Ok((None, 30 * 24 * HOUR)));
        assert!(parse_ttl("env=soon").unwrap_err().contains("a duration such as"));
        assert_eq!(parse_compaction("all=6h"), Ok((None, Some(6 * HOUR))));
        assert_eq!(parse_compaction("gps=default"), Ok((Some("gps".into()), None)));
        assert!(parse_compaction("6h").is_err());
    }

    #[test]
    fn every_flag_becomes_one_action_and_columns_group_by_family() {
        let args = AlterArgs {
            table: "t".into(),
            add_families: vec![FamilySpec::new("new", &[])],
            add_columns: vec![
                parse_column("a.x:f64").expect("ok"),
                parse_column("b.y:i64").expect("ok"),
                parse_column("a.z:bool").expect("ok"),
            ],
            ttls: vec![(Some("a".into()), HOUR)],
            no_ttls: vec!["b".into()],
            no_table_ttl: true,
            dynamic_columns: Some(true),
            compaction_windows: vec![(None, Some(HOUR))],
            closed_after: vec![(Some("a".into()), Some(0))],
        };
        let actions = args.request().expect("request").actions;
        assert_eq!(actions.len(), 9);
        use pb::alter_table_action::Action;
        let Some(Action::AddColumns(a)) = &actions[1].action else { panic!("{:?}", actions[1]) };
        assert_eq!((a.family.as_str(), a.columns.len()), ("a", 2));
        assert!(matches!(&actions[8].action, Some(Action::SetClosedAfter(c)) if c.closed_after_ns == Some(0)));
    }

    #[test]
    fn nothing_to_change_is_refused() {
        let args = AlterArgs {
            table: "t".into(),
            add_families: vec![],
            add_columns: vec![],
            ttls: vec![],
            no_ttls: vec![],
            no_table_ttl: false,
            dynamic_columns: None,
            compaction_windows: vec![],
            closed_after: vec![],
        };
        assert!(args.request().unwrap_err().to_string().contains("nothing to change"));
    }
}
