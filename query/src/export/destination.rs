//! The destination directory of an export: [`check_destination`] before anything is read,
//! [`prepare_destination`] once the export is accepted, and the cleaning of a failed export.
//!
//! A destination must be empty (or missing: it is created). With `overwrite`, it may instead
//! hold what an export writes, which is then removed, and nothing else:
//!
//! ```text
//! dest/part-N.parquet                      (and .part-N.parquet.tmp, left by a crash)
//! dest/date=YYYY-MM-DD/part-N.parquet      (month=YYYY-MM, year=YYYY)
//! dest/<family>/part-N.parquet             (--naming family)
//! dest/<family>/date=YYYY-MM-DD/part-N.parquet
//! ```
//!
//! Any other entry (a file of another name, a deeper directory, a symbolic link anywhere) makes
//! the destination foreign: the export is refused and nothing is removed. Symbolic links are
//! never followed, only noticed.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// True for `part-N.parquet` and `.part-N.parquet.tmp`.
fn is_part_file(name: &str) -> bool {
    let n = name
        .strip_prefix("part-")
        .and_then(|n| n.strip_suffix(".parquet"))
        .or_else(|| name.strip_prefix(".part-").and_then(|n| n.strip_suffix(".parquet.tmp")));
    n.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// True for `date=YYYY-MM-DD`, `month=YYYY-MM`, `year=YYYY` (a year may be negative).
fn is_partition_dir(name: &str) -> bool {
    let Some((key, value)) = name.split_once('=') else { return false };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let year = |s: &str| digits(s.strip_prefix('-').unwrap_or(s));
    let fields: Vec<&str> = value.strip_prefix('-').unwrap_or(value).split('-').collect();
    let shape = match key {
        "year" => fields.len() == 1,
        "month" => fields.len() == 2,
        "date" => fields.len() == 3,
        _ => return false,
    };
    shape
        && year(fields.first().copied().unwrap_or_default())
        && fields.iter().skip(1).all(|f| f.len() == 2 && digits(f))
}

/// True for a family name (`[A-Za-z_][A-Za-z0-9_]*`, what `--naming family` makes directories of).
fn is_family_dir(name: &str) -> bool {
    isobar_storage::validate_name(isobar_storage::NameKind::Family, name).is_ok()
}

fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, Metadata)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(Error::io("read directory", dir))? {
        let path = entry.map_err(Error::io("read directory", dir))?.path();
        let meta = std::fs::symlink_metadata(&path).map_err(Error::io("stat", &path))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((name, path, meta));
    }
    Ok(out)
}

/// The first entry under `dir` that no export wrote; `depth` 0 is the destination, 1 a family
/// or partition directory, 2 a partition directory inside a family directory.
fn foreign_entry(dir: &Path, depth: u8, in_partition: bool) -> Result<Option<PathBuf>> {
    for (name, path, meta) in entries(dir)? {
        let owned = if meta.file_type().is_symlink() {
            false
        } else if meta.is_file() {
            is_part_file(&name)
        } else if meta.is_dir() && !in_partition && is_partition_dir(&name) {
            match foreign_entry(&path, depth + 1, true)? {
                Some(foreign) => return Ok(Some(foreign)),
                None => true,
            }
        } else if meta.is_dir() && depth == 0 && is_family_dir(&name) {
            match foreign_entry(&path, depth + 1, false)? {
                Some(foreign) => return Ok(Some(foreign)),
                None => true,
            }
        } else {
            false
        };
        if !owned {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Checks that an export may write into `dest` without changing anything: `dest` is missing,
/// empty, or (with `overwrite`) holds only what an export writes.
pub fn check_destination(dest: &Path, overwrite: bool) -> Result<()> {
    let mut listing = match std::fs::read_dir(dest) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::Io { op: "read directory", path: dest.to_path_buf(), source: e }),
    };
    if listing.next().is_none() {
        return Ok(());
    }
    if !overwrite {
        return Err(Error::DestinationNotEmpty { path: dest.to_path_buf() });
    }
    match foreign_entry(dest, 0, false)? {
        Some(entry) => Err(Error::DestinationForeign { path: dest.to_path_buf(), entry }),
        None => Ok(()),
    }
}

/// Makes `dest` ready for an accepted export: checks it as [`check_destination`] does, then
/// creates it, or removes the previous export it holds.
pub fn prepare_destination(dest: &Path, overwrite: bool) -> Result<()> {
    check_destination(dest, overwrite)?;
    if dest.exists() {
        remove_contents(dest)
    } else {
        std::fs::create_dir_all(dest).map_err(Error::io("create directory", dest))
    }
}

/// Removes everything under `dir` (an export's destination, empty or holding only an export when
/// it started), keeping `dir` itself. Symbolic links are removed, never followed.
pub(crate) fn remove_contents(dir: &Path) -> Result<()> {
    for (_, path, meta) in entries(dir)? {
        let removed = if meta.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(Error::io("remove", &path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, b"x").expect("write");
    }

    #[test]
    fn names_an_export_writes() {
        for ok in ["part-0.parquet", "part-123.parquet", ".part-7.parquet.tmp"] {
            assert!(is_part_file(ok), "{ok}");
        }
        for bad in ["part-.parquet", "part-1.csv", "part-1a.parquet", "notes.txt", "_SUCCESS"] {
            assert!(!is_part_file(bad), "{bad}");
        }
        for ok in ["date=2024-05-01", "month=2024-05", "year=2024", "year=-001", "date=1969-12-31"] {
            assert!(is_partition_dir(ok), "{ok}");
        }
        for bad in ["date=2024-05", "month=2024", "year=20x4", "day=2024-05-01", "date=", "month=2024-5"] {
            assert!(!is_partition_dir(bad), "{bad}");
        }
    }

    #[test]
    fn an_empty_or_missing_destination_is_fine_and_a_full_one_needs_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("out");
        assert!(check_destination(&dest, false).is_ok());
        prepare_destination(&dest, false).expect("created");
        assert!(dest.is_dir());
        touch(&dest.join("date=2024-05-01/part-0.parquet"));
        let err = check_destination(&dest, false).expect_err("not empty");
        assert!(matches!(err, Error::DestinationNotEmpty { .. }), "{err}");
        prepare_destination(&dest, true).expect("a previous export is replaced");
        assert_eq!(std::fs::read_dir(&dest).expect("list").count(), 0);
    }

    #[test]
    fn overwrite_removes_every_layout_an_export_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dest = dir.path().join("out");
        for f in [
            "part-0.parquet",
            ".part-9.parquet.tmp",
            "month=2024-05/part-1.parquet",
            "year=2023/part-2.parquet",
            "obs/part-3.parquet",
            "obs/date=2024-05-01/part-4.parquet",
            "meta/date=2024-05-01/.part-5.parquet.tmp",
        ] {
            touch(&dest.join(f));
        }
        prepare_destination(&dest, true).expect("all of it is an export's");
        assert_eq!(std::fs::read_dir(&dest).expect("list").count(), 0);
    }

    #[test]
    fn a_foreign_entry_refuses_overwrite_and_nothing_is_removed() {
        let outside = tempfile::tempdir().expect("outside");
        touch(&outside.path().join("keep.parquet"));
        type Plant<'a> = Box<dyn Fn(&Path) + 'a>;
        let cases: Vec<(&str, Plant)> = vec![
            ("notes.txt", Box::new(|d: &Path| touch(&d.join("notes.txt")))),
            ("date=2024-05-01/readme.md", Box::new(|d: &Path| touch(&d.join("date=2024-05-01/readme.md")))),
            ("obs/deeper", Box::new(|d: &Path| touch(&d.join("obs/deeper/part-0.parquet")))),
            ("date=2024-05-01/obs", Box::new(|d: &Path| touch(&d.join("date=2024-05-01/obs/part-0.parquet")))),
            ("link", Box::new(|d: &Path| std::os::unix::fs::symlink(outside.path(), d.join("link")).expect("symlink"))),
            (
                "date=2024-05-02",
                Box::new(|d: &Path| {
                    std::os::unix::fs::symlink(outside.path(), d.join("date=2024-05-02")).expect("link")
                }),
            ),
        ];
        for (foreign, plant) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let dest = dir.path().join("out");
            touch(&dest.join("date=2024-05-01/part-0.parquet"));
            plant(&dest);
            let err = prepare_destination(&dest, true).expect_err("foreign");
            assert!(
                matches!(&err, Error::DestinationForeign { entry, .. } if entry.ends_with(foreign)),
                "{foreign}: {err}"
            );
            assert!(dest.join("date=2024-05-01/part-0.parquet").exists(), "{foreign}: nothing removed");
            assert!(outside.path().join("keep.parquet").exists(), "{foreign}: the link was not followed");
        }
    }
}
