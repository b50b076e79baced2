//! The config file's grant names, kept with the meaning they had before the access catalog.
//!
//! `[[auth.tokens]]` grants were `read`, `write` and `admin`. `read` is `view`; `write` allowed
//! writing rows and range deletes (never altering or dropping a table), which is now `add` +
//! `delete` (dropping needs `change` as well); `admin` is `admin`. The new names are accepted
//! in the file too.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Grants, Permission};

/// The permissions one config-file name stands for.
pub fn expand(name: &str) -> Result<Vec<Permission>, super::UnknownPermission> {
    match name {
        "write" => Ok(vec![Permission::Add, Permission::Delete]),
        other => Permission::parse(other).map(|p| vec![p]),
    }
}

/// Deserializes `grants = { table = ["read", "write", ...] }` with [`expand`], each table's
/// permissions sorted and without duplicates.
pub fn deserialize_config_grants<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Grants, D::Error> {
    let raw = BTreeMap::<String, Vec<String>>::deserialize(deserializer)?;
    let mut grants = Grants::new();
    for (table, names) in raw {
        let mut perms = Vec::new();
        for name in &names {
            perms.extend(expand(name).map_err(serde::de::Error::custom)?);
        }
        perms.sort();
        perms.dedup();
        grants.insert(table, perms);
    }
    Ok(grants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_keeps_its_old_meaning_and_new_names_are_accepted() {
        assert_eq!(expand("write"), Ok(vec![Permission::Add, Permission::Delete]));
        assert_eq!(expand("read"), Ok(vec![Permission::View]));
        assert_eq!(expand("change"), Ok(vec![Permission::Change]));
        let err = expand("reed").expect_err("unknown");
        assert!(err.to_string().contains("\"reed\"") && err.to_string().contains("view, add"), "{err}");
    }
}
