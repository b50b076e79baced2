//! Where a configuration value came from, for the errors of [`super::Config::validate`]: an
//! out-of-range value names its environment variable, or the file and line that set it, or says
//! it is the default (so an operator knows what to edit, as PostgreSQL's
//! `pg_settings.sourcefile`/`sourceline` tell).
//!
//! The environment wins over the file (it is applied after it), so a key set by both is named by
//! its variable.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where the value of one key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An `ISOBAR_*` variable.
    Env(String),
    /// A line of the config file (1-based).
    File(PathBuf, usize),
    /// Neither: the default, or a value derived from another key.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::File(path, line) => write!(f, "{}:{line}", path.display()),
            Origin::Default => f.write_str("the default"),
        }
    }
}

/// The variable that sets `key` (`storage.zstd_level` -> `ISOBAR_STORAGE_ZSTD_LEVEL`).
pub fn env_var(key: &str) -> String {
    format!("ISOBAR_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Where `key` (`section.key`, sections may nest: `storage.compaction.window`) was set: by a
/// variable among `vars`, else on a line of the file `path` with `text`, else by default.
pub fn find(key: &str, vars: &[(String, String)], file: Option<(&Path, &str)>) -> Origin {
    let var = env_var(key);
    if vars.iter().any(|(name, _)| *name == var) {
        return Origin::Env(var);
    }
    if let Some((path, text)) = file
        && let Some(line) = line_of(key, text)
    {
        return Origin::File(path.to_owned(), line);
    }
    Origin::Default
}

/// The 1-based line of `text` that sets `key`: a `name = ...` line under the `[section]` (or
/// `[[section]]`) header of its section. Dotted keys and inline tables are not followed (the
/// shipped config does not use them); such a key is reported as the default.
fn line_of(key: &str, text: &str) -> Option<usize> {
    let (section, name) = key.rsplit_once('.')?;
    let mut current = "";
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header.trim_start_matches('[').split(']').next().unwrap_or("").trim();
            continue;
        }
        if current == section
            && let Some((lhs, _)) = line.split_once('=')
            && lhs.trim() == name
        {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[server]\nlisten = \"x\"\n\n[storage]\n# zstd_level = 3\nzstd_level = 30\n\n[storage.compaction]\nwindow = \"0s\"\n";

    #[test]
    fn a_key_set_in_the_file_names_its_line() {
        let path = Path::new("/etc/isobar.toml");
        assert_eq!(find("storage.zstd_level", &[], Some((path, FILE))), Origin::File(path.into(), 6));
        assert_eq!(find("storage.compaction.window", &[], Some((path, FILE))), Origin::File(path.into(), 9));
        assert_eq!(find("storage.memtable_size", &[], Some((path, FILE))), Origin::Default);
        assert_eq!(Origin::File(path.into(), 6).to_string(), "/etc/isobar.toml:6");
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let vars = [("ISOBAR_STORAGE_ZSTD_LEVEL".to_owned(), "30".to_owned())];
        let origin = find("storage.zstd_level", &vars, Some((Path::new("f.toml"), FILE)));
        assert_eq!(origin.to_string(), "environment variable ISOBAR_STORAGE_ZSTD_LEVEL");
    }
}
