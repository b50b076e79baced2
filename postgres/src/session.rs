//! Session commands, answered by the front end without the SQL layer: `SET`, `RESET`, `SHOW`,
//! the transaction verbs (no-ops: Isobar SQL is read-only and every statement reads its own
//! snapshot, which is what a read-only `READ COMMITTED` transaction gives), `DISCARD` and
//! `DEALLOCATE`. Cursors (`DECLARE`, `FETCH`, `CLOSE`) are in [`crate::execute`].
//!
//! Settings live in the connection's metadata, next to the startup parameters, where the row
//! encoder reads `DateStyle`, `TimeZone` and `extra_float_digits`.

use std::collections::HashMap;

/// A statement the front end answers itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `SET name = value` / `SET name TO value` / `SET TIME ZONE value`.
    Set { name: String, value: String },
    /// `RESET name` / `RESET ALL`.
    Reset { name: String },
    /// `SHOW name` / `SHOW ALL`.
    Show { name: String },
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// `DISCARD ...`, `DEALLOCATE ...`, `UNLISTEN *`, `SAVEPOINT`, `RELEASE`, `ROLLBACK TO`:
    /// accepted, nothing to do (`tag` is echoed).
    Accept { tag: String },
    /// `DECLARE name [NO SCROLL] [BINARY] CURSOR [WITH|WITHOUT HOLD] FOR query`.
    Declare { name: String, query: String },
    /// `FETCH [FORWARD] [n|ALL|NEXT] [FROM|IN] name`.
    Fetch { name: String, count: Option<usize> },
    /// `CLOSE name` / `CLOSE ALL`.
    Close { name: Option<String> },
    /// `COPY (query) TO STDOUT ...` ([`crate::copy`]).
    CopyOut { format: crate::copy::CopyFormat },
}

impl Command {
    /// The command `sql` (one statement, as text) is, or `None` for SQL.
    pub(crate) fn parse(sql: &str) -> Option<Command> {
        let words = words(sql);
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        let first = upper.first()?.as_str();
        let rest = |n: usize| words.get(n..).map(|w| w.join(" ")).unwrap_or_default();
        match first {
            "BEGIN" | "START" => Some(Command::Begin),
            "COMMIT" | "END" => Some(Command::Commit),
            // `ROLLBACK TO [SAVEPOINT] name` keeps the transaction open.
            "ROLLBACK" if upper.get(1).map(String::as_str) == Some("TO") => {
                Some(Command::Accept { tag: "ROLLBACK".into() })
            }
            "ROLLBACK" | "ABORT" => Some(Command::Rollback),
            "DISCARD" | "DEALLOCATE" | "UNLISTEN" | "SAVEPOINT" | "RELEASE" => {
                Some(Command::Accept { tag: first.to_owned() })
            }
            "SHOW" => Some(Command::Show { name: setting_name(&rest(1)) }),
            "RESET" => Some(Command::Reset { name: setting_name(&rest(1)) }),
            "SET" => parse_set(&words, &upper),
            "DECLARE" => parse_declare(sql, &words, &upper),
            "FETCH" => parse_fetch(&words, &upper),
            "CLOSE" => {
                let name = rest(1);
                Some(Command::Close { name: (!name.eq_ignore_ascii_case("ALL")).then(|| unquote(&name)) })
            }
            _ => None,
        }
    }
}

fn words(sql: &str) -> Vec<String> {
    sql.trim().trim_end_matches(';').split_whitespace().map(str::to_owned).collect()
}

fn setting_name(text: &str) -> String {
    let t = unquote(text.trim()).to_ascii_lowercase();
    match t.split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
        "time zone" => "timezone".to_owned(),
        "transaction isolation level" => "transaction_isolation".to_owned(),
        "session authorization" => "session_authorization".to_owned(),
        _ => t,
    }
}

fn unquote(text: &str) -> String {
    let t = text.trim();
    for q in ['\'', '"'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_owned();
        }
    }
    t.to_owned()
}

fn parse_set(words: &[String], upper: &[String]) -> Option<Command> {
    let mut i = 1;
    if matches!(upper.get(i).map(String::as_str), Some("SESSION" | "LOCAL")) {
        i += 1;
    }
    if upper.get(i).map(String::as_str) == Some("TRANSACTION")
        || upper.get(i).map(String::as_str) == Some("CHARACTERISTICS")
    {
        return Some(Command::Accept { tag: "SET".to_owned() });
    }
    if upper.get(i).map(String::as_str) == Some("TIME") && upper.get(i + 1).map(String::as_str) == Some("ZONE") {
        return Some(Command::Set { name: "timezone".into(), value: unquote(&words.get(i + 2..)?.join(" ")) });
    }
    let assignment = words.get(i..)?.join(" ");
    let (name, value) = match assignment.split_once('=') {
        Some((n, v)) => (n.trim().to_owned(), v.trim().to_owned()),
        None => {
            let to = upper.iter().skip(i).position(|w| w == "TO")? + i;
            (words.get(i..to)?.join(" "), words.get(to + 1..)?.join(" "))
        }
    };
    Some(Command::Set { name: setting_name(&name), value: unquote(&value) })
}

fn parse_declare(sql: &str, words: &[String], upper: &[String]) -> Option<Command> {
    let name = unquote(words.get(1)?);
    let for_at = upper.iter().position(|w| w == "FOR")?;
    // The query is the text after the first `FOR` word, as written.
    let mut offset = 0;
    for w in words.iter().take(for_at + 1) {
        offset = sql[offset..].find(w.as_str())? + offset + w.len();
    }
    Some(Command::Declare { name, query: sql[offset..].trim().trim_end_matches(';').to_owned() })
}

fn parse_fetch(words: &[String], upper: &[String]) -> Option<Command> {
    let mut i = 1;
    let mut count = Some(1);
    loop {
        match upper.get(i).map(String::as_str)? {
            "FORWARD" | "NEXT" => i += 1,
            "ALL" => {
                count = None;
                i += 1;
            }
            "FROM" | "IN" => {
                i += 1;
                break;
            }
            n if n.parse::<usize>().is_ok() => {
                count = n.parse().ok();
                i += 1;
            }
            _ => break,
        }
    }
    Some(Command::Fetch { name: unquote(words.get(i)?), count })
}

/// The settings `SHOW` knows, with their values at connection start.
pub(crate) fn defaults() -> Vec<(&'static str, String)> {
    vec![
        ("server_version", crate::SERVER_VERSION.to_owned()),
        ("server_version_num", "150000".to_owned()),
        ("server_encoding", "UTF8".to_owned()),
        ("client_encoding", "UTF8".to_owned()),
        ("datestyle", "ISO, MDY".to_owned()),
        ("intervalstyle", "postgres".to_owned()),
        ("timezone", "UTC".to_owned()),
        ("integer_datetimes", "on".to_owned()),
        ("standard_conforming_strings", "on".to_owned()),
        ("transaction_isolation", "read committed".to_owned()),
        ("transaction_read_only", "on".to_owned()),
        ("default_transaction_read_only", "on".to_owned()),
        ("search_path", "public".to_owned()),
        ("application_name", String::new()),
        ("statement_timeout", "0".to_owned()),
        ("max_identifier_length", "63".to_owned()),
        ("extra_float_digits", "1".to_owned()),
        ("lc_collate", "C".to_owned()),
        ("lc_ctype", "C".to_owned()),
        ("is_superuser", "off".to_owned()),
    ]
}

/// The value of setting `name` for a connection whose metadata is `metadata`, or `None` when
/// the name is unknown. Names are case-insensitive (`DateStyle` = `datestyle`).
pub(crate) fn show(metadata: &HashMap<String, String>, name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    if let Some((_, v)) = metadata.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)) {
        return Some(v.clone());
    }
    defaults().into_iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// Whether `SET name = value` may be accepted; an error message otherwise.
pub(crate) fn check_set(name: &str, value: &str) -> Result<(), String> {
    match name {
        "client_encoding" if !matches!(value.to_ascii_uppercase().as_str(), "UTF8" | "UTF-8" | "UNICODE") => {
            Err(format!("client_encoding \"{value}\" is not supported; Isobar sends UTF8 only"))
        }
        "default_transaction_read_only" | "transaction_read_only" if value.eq_ignore_ascii_case("off") => {
            Err("Isobar SQL is read-only; write through the Write API, line protocol or Flight SQL".to_owned())
        }
        _ => Ok(()),
    }
}

/// The key a setting is kept under in the metadata: the encoder reads `DateStyle` and
/// `TimeZone` spelled as PostgreSQL reports them.
pub(crate) fn metadata_key(name: &str) -> String {
    match name {
        "datestyle" => "DateStyle".to_owned(),
        "timezone" => "TimeZone".to_owned(),
        "intervalstyle" => "IntervalStyle".to_owned(),
        other => other.to_owned(),
    }
}

/// Settings a client is told about with `ParameterStatus` when they change.
pub(crate) fn is_reported(name: &str) -> bool {
    matches!(name, "application_name" | "client_encoding" | "datestyle" | "timezone" | "intervalstyle" | "search_path")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_commands_are_recognised() {
        let set = |n: &str, v: &str| Some(Command::Set { name: n.into(), value: v.into() });
        assert_eq!(Command::parse("SET application_name = 'psql'"), set("application_name", "psql"));
        assert_eq!(Command::parse("set DateStyle TO ISO"), set("datestyle", "ISO"));
        assert_eq!(Command::parse("SET SESSION TIME ZONE 'UTC'"), set("timezone", "UTC"));
        assert_eq!(Command::parse("SET extra_float_digits = 3;"), set("extra_float_digits", "3"));
        assert_eq!(Command::parse("SHOW server_version"), Some(Command::Show { name: "server_version".into() }));
        assert_eq!(Command::parse("show TIME ZONE"), Some(Command::Show { name: "timezone".into() }));
        assert_eq!(
            Command::parse("show transaction isolation level"),
            Some(Command::Show { name: "transaction_isolation".into() })
        );
        assert_eq!(Command::parse("BEGIN ISOLATION LEVEL READ COMMITTED"), Some(Command::Begin));
        assert_eq!(Command::parse("commit"), Some(Command::Commit));
        assert_eq!(Command::parse("ROLLBACK"), Some(Command::Rollback));
        assert_eq!(Command::parse("SAVEPOINT _pg3_1"), Some(Command::Accept { tag: "SAVEPOINT".into() }));
        assert_eq!(Command::parse("ROLLBACK TO SAVEPOINT _pg3_1"), Some(Command::Accept { tag: "ROLLBACK".into() }));
        assert_eq!(Command::parse("RELEASE _pg3_1"), Some(Command::Accept { tag: "RELEASE".into() }));
        assert_eq!(Command::parse("SELECT 1"), None);
        assert_eq!(
            Command::parse("DECLARE \"big\" CURSOR WITHOUT HOLD FOR SELECT series, ts FROM weather.env"),
            Some(Command::Declare { name: "big".into(), query: "SELECT series, ts FROM weather.env".into() })
        );
        assert_eq!(
            Command::parse("FETCH FORWARD 2000 FROM \"big\""),
            Some(Command::Fetch { name: "big".into(), count: Some(2000) })
        );
        assert_eq!(Command::parse("FETCH ALL IN c"), Some(Command::Fetch { name: "c".into(), count: None }));
        assert_eq!(Command::parse("CLOSE \"big\""), Some(Command::Close { name: Some("big".into()) }));
        assert_eq!(Command::parse("CLOSE ALL"), Some(Command::Close { name: None }));
    }

    #[test]
    fn show_reads_settings_then_defaults() {
        let metadata = HashMap::from([("application_name".to_owned(), "grafana".to_owned())]);
        assert_eq!(show(&metadata, "application_name").as_deref(), Some("grafana"));
        assert_eq!(show(&metadata, "DateStyle").as_deref(), Some("ISO, MDY"));
        assert_eq!(show(&metadata, "no_such_setting"), None);
        assert!(check_set("client_encoding", "LATIN1").is_err());
        assert!(check_set("client_encoding", "utf8").is_ok());
    }
}
