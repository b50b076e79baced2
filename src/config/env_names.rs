//! Which `ISOBAR_*` variables mean something, and the closest one to a misspelling.
//!
//! The names of config keys are not listed by hand: they are the keys of the default
//! configuration as TOML (`[section] key` → `ISOBAR_SECTION_KEY`, `[storage.compaction] window` →
//! `ISOBAR_STORAGE_COMPACTION_WINDOW`), plus the keys that are unset by default, each confirmed
//! by the one `match` in `env.rs` that applies them, so a key added there and to the config
//! struct is known here without a third list. Variables that are not config keys but belong to
//! the command-line client, the test harness or this check itself are allowed by
//! [`NOT_KEYS`] and [`NOT_KEY_PREFIXES`].

use super::Config;

/// `ISOBAR_*` variables that are no config key but are used: the config file of `serve`, the
/// client's address and token (the server ignores them and never logs the token), the switch of
/// this check, and the Python of the interoperability tests.
pub const NOT_KEYS: &[&str] =
    &["ISOBAR_CONFIG", "ISOBAR_ADDR", "ISOBAR_TOKEN", "ISOBAR_TOKEN_FILE", "ISOBAR_UNKNOWN_ENV", "ISOBAR_TEST_PYTHON"];

/// Prefixes of variables the test harness sets for its own processes.
pub const NOT_KEY_PREFIXES: &[&str] = &["ISOBAR_TEST_", "ISOBAR_FUZZ_"];

/// Config keys that are unset by default, so absent from the default TOML.
const UNSET_BY_DEFAULT: &[&str] = &[
    "ISOBAR_SERVER_EXPORT_DIR",
    "ISOBAR_SERVER_SNAPSHOT_DIR",
    "ISOBAR_TLS_CERT",
    "ISOBAR_TLS_KEY",
    "ISOBAR_TLS_CLIENT_CA",
];

/// True for an allowed variable that is not a config key.
pub fn is_allowed_non_key(var: &str) -> bool {
    NOT_KEYS.contains(&var) || NOT_KEY_PREFIXES.iter().any(|p| var.starts_with(p))
}

/// Every `ISOBAR_*` name of a config key.
pub fn key_names() -> Vec<String> {
    let mut names = Vec::new();
    if let Ok(toml::Value::Table(root)) = toml::Value::try_from(Config::default()) {
        walk("ISOBAR", &root, &mut names);
    }
    names.extend(UNSET_BY_DEFAULT.iter().map(|s| (*s).to_owned()));
    // Only what the environment mapping really applies (a probe on a scratch config).
    names.retain(|name| Config::default().names_key(name));
    names.sort();
    names.dedup();
    names
}

fn walk(prefix: &str, table: &toml::map::Map<String, toml::Value>, out: &mut Vec<String>) {
    for (key, value) in table {
        let name = format!("{prefix}_{}", key.to_ascii_uppercase());
        match value {
            toml::Value::Table(inner) if !matches!(key.as_str(), "sync") => walk(&name, inner, out),
            toml::Value::Array(_) => {}
            _ => out.push(name),
        }
    }
}

/// The key name closest to `var` when it is close enough to be a misspelling of it.
pub fn suggestion(var: &str) -> Option<String> {
    let names = key_names();
    let (best, distance) = names.iter().map(|n| (n, edit_distance(var, n))).min_by_key(|(_, d)| *d)?;
    (distance <= 3.max(var.len() / 8)).then(|| best.clone())
}

/// Levenshtein distance over bytes (names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = Vec::with_capacity(b.len() + 1);
        row.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev.get(j).copied().unwrap_or(usize::MAX).saturating_add(usize::from(ca != cb));
            let delete = prev.get(j + 1).copied().unwrap_or(usize::MAX).saturating_add(1);
            let insert = row.last().copied().unwrap_or(usize::MAX).saturating_add(1);
            row.push(substitute.min(delete).min(insert));
        }
        prev = row;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_come_from_the_config_and_the_mapping() {
        let names = key_names();
        for want in [
            "ISOBAR_SERVER_LISTEN",
            "ISOBAR_STORAGE_PRODUCER_STATE_TTL",
            "ISOBAR_STORAGE_COMPACTION_WINDOW",
            "ISOBAR_LINE_PROTOCOL_ENABLED",
            "ISOBAR_CONNECTIONS_IDLE_TIMEOUT",
            "ISOBAR_SERVER_EXPORT_DIR",
            "ISOBAR_STORAGE_SYNC",
            "ISOBAR_SERVER_SHUTDOWN_FLUSH_TIMEOUT",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| n.starts_with("ISOBAR_AUTH_TOKENS")), "arrays are no env keys");
    }

    #[test]
    fn misspellings_get_the_closest_key() {
        assert_eq!(suggestion("ISOBAR_SERVER_LISTNE").as_deref(), Some("ISOBAR_SERVER_LISTEN"));
        assert_eq!(suggestion("ISOBAR_STORAGE_MEMTABLE_BUDGE").as_deref(), Some("ISOBAR_STORAGE_MEMTABLE_BUDGET"));
        assert_eq!(suggestion("ISOBAR_COMPLETELY_DIFFERENT_THING"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
