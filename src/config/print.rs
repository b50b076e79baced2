//! `isobar serve --print-config`: the configuration in force as TOML, naming every key.
//!
//! TOML has no null, so a key without a value cannot be printed as `key = value`; leaving it out
//! would hide that the key exists (an operator reads this output to learn what can be set). A key
//! that is unset therefore prints as a comment line `# key = ...` at the end of its section:
//!
//! - `server.export_dir` and `server.snapshot_dir` show the directory in force, derived from
//!   `data_dir` (`# export_dir = "./isobar-data/export"  # unset: <data_dir>/export`);
//! - `tls.cert`, `tls.key` and `tls.client_ca` show `unset` and what that means;
//! - with no tokens, a commented `[[auth.tokens]]` entry names the keys of one.
//!
//! The comment lines keep the output a valid config file that loads back to the same
//! configuration (an unset key stays unset, so a derived directory still follows `data_dir`).

use serde::Serialize;

use super::Config;

/// The sections [`Config::print_toml`] prints in this order.
const PRINTED: [&str; 9] = ["server", "storage", "metrics", "log", "auth", "tls", "line_protocol", "otlp", "sql"];

/// One section of the printed file: its name, the value serialized, and comment lines for the
/// keys it leaves unset.
fn section<T: Serialize>(name: &str, value: &T, unset: &[String]) -> String {
    // A one-entry map keeps the struct's field order (a `toml::Table` would sort the keys).
    let wrapped = std::collections::BTreeMap::from([(name, value)]);
    let mut text = toml::to_string(&wrapped).unwrap_or_else(|e| format!("# cannot print [{name}]: {e}\n"));
    if !text.starts_with(&format!("[{name}]")) {
        // A section whose keys are all unset serializes to nothing; its header still belongs.
        text.insert_str(0, &format!("[{name}]\n"));
    }
    for line in unset {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// A TOML basic string holding `path` (quoted and escaped as TOML needs).
fn quoted(path: &std::path::Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

impl Config {
    /// The configuration in force as TOML, every key named (see the module doc for how unset
    /// keys print).
    pub(super) fn print_toml(&self) -> String {
        let mut server_unset = Vec::new();
        if self.server.export_dir.is_none() {
            let root = quoted(&self.server.export_root());
            server_unset.push(format!("# export_dir = {root}  # unset: <data_dir>/export"));
        }
        if self.server.snapshot_dir.is_none() {
            let root = quoted(&self.server.snapshot_root());
            server_unset.push(format!("# snapshot_dir = {root}  # unset: <data_dir>/snapshots"));
        }
        let mut auth_unset = Vec::new();
        if self.auth.tokens.is_empty() {
            auth_unset.push("# [[auth.tokens]]  # none: one entry per token (`isobar auth hash-token`)".to_owned());
            for key in ["name", "sha256", "grants"] {
                auth_unset.push(format!("# {key} = unset"));
            }
        }
        let tls = &self.tls;
        let mut tls_unset = Vec::new();
        for (key, value, meaning) in [
            ("cert", &tls.cert, "TLS is off until cert and key are set"),
            ("key", &tls.key, "TLS is off until cert and key are set"),
            ("client_ca", &tls.client_ca, "clients need no certificate"),
        ] {
            if value.is_none() {
                tls_unset.push(format!("# {key} = unset  # {meaning}"));
            }
        }
        let mut sections = vec![
            section("server", &self.server, &server_unset),
            section("storage", &self.storage, &[]),
            section("metrics", &self.metrics, &[]),
            section("log", &self.log, &[]),
            section("auth", &self.auth, &auth_unset),
            section("tls", &self.tls, &tls_unset),
            section("line_protocol", &self.line_protocol, &[]),
            section("otlp", &self.otlp, &[]),
            section("sql", &self.sql, &[]),
        ];
        // A section added to `Config` later is printed too, even before it is listed above.
        if let Ok(toml::Value::Table(all)) = toml::Value::try_from(self) {
            for (name, value) in all.iter().filter(|(name, _)| !PRINTED.contains(&name.as_str())) {
                sections.push(section(name, value, &[]));
            }
        }
        sections.join("\n")
    }
}
