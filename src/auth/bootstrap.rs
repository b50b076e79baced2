//! The first admin token of a server started without `[[auth.tokens]]`.
//!
//! A container started with its default command on an empty volume must come up safe: it
//! listens on `0.0.0.0`, so authentication must be on, yet nobody has configured a token. With
//! `auth.enabled` and `auth.bootstrap_token_file` set and no tokens, [`first_token`] generates
//! a secret (as `isobar auth hash-token --generate` does), writes it to that file with mode
//! 0600 (created exclusively, then synced), and installs a token named [`BOOTSTRAP_NAME`] with
//! `admin` on every table. A later start reads the same file, so the secret survives restarts
//! with the volume. The caller logs the file's path; the secret is never logged or printed.
//! Once an operator configures tokens of their own, the file is ignored (and may be deleted).
//!
//! Without a file ([`catalog_admin`]): a database whose access catalog has no users, served with
//! authentication on and no `[[auth.tokens]]`, gets a catalog user [`CATALOG_ADMIN`] with
//! `admin` on `*` and one token, `bootstrap`, created in one catalog change; the secret is
//! written to the log once, as a warning (the only secret Isobar ever logs, because there is
//! nowhere else to put it). Later starts find the user and do nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ALL_TABLES, Grants, Permission, generate_secret, hash_secret};
use crate::config::{AuthConfig, TokenConfig};

/// The name of the generated token in logs.
pub const BOOTSTRAP_NAME: &str = "bootstrap-admin";

/// The bootstrap token file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("auth.bootstrap_token_file {path}: {reason}")]
pub struct BootstrapError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// What [`first_token`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    /// Nothing: authentication off, tokens configured, or no file configured.
    Unused,
    /// A new secret was generated into this file.
    Created(PathBuf),
    /// The secret of an earlier start was read from this file.
    Reused(PathBuf),
}

/// Installs the bootstrap token into `auth` when it applies (see the module docs); relative
/// paths are taken inside `data_dir`, which must exist.
pub fn first_token(auth: &mut AuthConfig, data_dir: &Path) -> Result<Bootstrap, BootstrapError> {
    if !auth.enabled || !auth.tokens.is_empty() || auth.bootstrap_token_file.as_os_str().is_empty() {
        return Ok(Bootstrap::Unused);
    }
    let path = data_dir.join(&auth.bootstrap_token_file);
    let fail = |reason: String| BootstrapError { path: path.clone(), reason };
    let (secret, outcome) = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim().to_owned();
            if secret.is_empty() {
                return Err(fail("is empty: delete it to have a new token generated".into()));
            }
            warn_if_readable_by_others(&path);
            (secret, Bootstrap::Reused(path.clone()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = generate_secret().map_err(|e| fail(format!("no random secret from the OS: {e}")))?;
            write_private(&path, &secret).map_err(|e| fail(format!("cannot create it: {e}")))?;
            (secret, Bootstrap::Created(path.clone()))
        }
        Err(e) => return Err(fail(format!("cannot read it: {e}"))),
    };
    auth.tokens.push(TokenConfig {
        name: BOOTSTRAP_NAME.into(),
        sha256: hash_secret(&secret),
        grants: Grants::from([(ALL_TABLES.into(), vec![Permission::Admin])]),
    });
    Ok(outcome)
}

/// The user [`catalog_admin`] creates.
pub const CATALOG_ADMIN: &str = "admin";

/// Creates the first catalog admin when it applies (see the module docs); answers its token's
/// secret, which the caller logs once.
pub fn catalog_admin(
    store: &crate::auth::store::AccessStore,
    auth: &AuthConfig,
) -> Result<Option<String>, crate::auth::store::StoreError> {
    if !auth.enabled || !auth.tokens.is_empty() || !store.snapshot().0.users.is_empty() {
        return Ok(None);
    }
    let secret = generate_secret().map_err(|e| {
        crate::auth::store::StoreError::Access(crate::auth::catalog::AccessError::Invalid(format!(
            "no random secret from the OS for the first admin token: {e}"
        )))
    })?;
    use crate::auth::catalog::{Change, Subject};
    let changes = [
        Change::CreateUser { name: CATALOG_ADMIN.into(), password_hash: None, disabled: false },
        Change::Grant {
            subject: Subject::User(CATALOG_ADMIN.into()),
            table: ALL_TABLES.into(),
            permissions: vec![Permission::Admin],
        },
        Change::AddToken {
            user: CATALOG_ADMIN.into(),
            name: "bootstrap".into(),
            sha256: Some(hash_secret(&secret)),
            expires_ms: None,
        },
    ];
    store.change_all("bootstrap", "", &changes)?;
    Ok(Some(secret))
}

/// Creates `path` (which must not exist) readable by its owner only, with `secret` in it.
fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{secret}\n").as_bytes())?;
    file.sync_all()
}

/// Warns when the file's mode lets group or others read the secret.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the bootstrap token file has mode {mode:o}: others may read the admin secret; chmod 600 it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(file: &str) -> AuthConfig {
        AuthConfig { enabled: true, bootstrap_token_file: file.into(), ..AuthConfig::default() }
    }

    #[test]
    fn a_first_start_creates_a_private_token_and_a_restart_reuses_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut first = auth("admin.token");
        let path = dir.path().join("admin.token");
        assert_eq!(first_token(&mut first, dir.path()).expect("created"), Bootstrap::Created(path.clone()));
        let secret = std::fs::read_to_string(&path).expect("file");
        assert!(secret.trim().starts_with("isobar_"), "{secret}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(first.tokens.len(), 1);
        assert_eq!(first.tokens[0].sha256, hash_secret(secret.trim()));
        assert_eq!(first.tokens[0].grants[ALL_TABLES], vec![Permission::Admin]);

        let mut again = auth("admin.token");
        assert_eq!(first_token(&mut again, dir.path()).expect("reused"), Bootstrap::Reused(path.clone()));
        assert_eq!(again.tokens, first.tokens, "the same secret across restarts");
        assert_eq!(std::fs::read_to_string(&path).expect("file"), secret);
    }

    #[test]
    fn configured_tokens_or_auth_off_leave_everything_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut off = auth("admin.token");
        off.enabled = false;
        assert_eq!(first_token(&mut off, dir.path()).expect("ok"), Bootstrap::Unused);
        let mut unset = auth("");
        assert_eq!(first_token(&mut unset, dir.path()).expect("ok"), Bootstrap::Unused);
        assert!(!dir.path().join("admin.token").exists() && off.tokens.is_empty() && unset.tokens.is_empty());

        let empty = dir.path().join("empty.token");
        std::fs::write(&empty, "\n").expect("write");
        let err = first_token(&mut auth("empty.token"), dir.path()).expect_err("empty file");
        assert!(err.to_string().contains("empty.token") && err.to_string().contains("delete it"), "{err}");
    }
}
