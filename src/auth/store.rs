//! [`AccessStore`]: the access catalog of one database, changed by administrators while the
//! server runs.
//!
//! A change is applied to a copy of the catalog with every rule checked ([`catalog::change`]),
//! serialised whole and stored with `Db::set_access_catalog` (one `fsync`ed manifest record:
//! after a crash the old or the new catalog is in force, never a mix), and only then installed
//! into the [`Authenticator`] every front end shares, so the next request anywhere sees it.
//! Changes are serialised by one mutex; they block on disk I/O, so async callers run them on
//! the blocking pool.

use isobar_storage::Db;
use isobar_storage::manifest::AccessCatalog;
use parking_lot::Mutex;

use super::audit::{AuditEntry, now_ms};
use super::catalog::{self, AccessError, Catalog, Change, Context, DecodeError};
use super::{ALL_TABLES, Authenticator, Permission};

/// Why a change could not be made or the catalog not read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The change breaks a rule; nothing changed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The stored catalog could not be read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The engine could not store it; nothing changed.
    #[error("storing the access catalog: {0}")]
    Storage(#[from] isobar_storage::Error),
}

/// See the module doc.
#[derive(Debug)]
pub struct AccessStore {
    db: Db,
    auth: Authenticator,
    state: Mutex<(Catalog, u64)>,
}

impl AccessStore {
    /// Reads the catalog stored in `db` (none: empty) and installs it into `auth`.
    pub fn open(db: Db, auth: Authenticator) -> Result<Self, StoreError> {
        let (catalog, generation) = match db.access_catalog() {
            None => (Catalog::default(), 0),
            Some(blob) => (catalog::decode(blob.format, blob.generation, &blob.data)?, blob.generation),
        };
        auth.install(&catalog, generation);
        Ok(Self { db, auth, state: Mutex::new((catalog, generation)) })
    }

    /// The authenticator the catalog is installed into.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }

    /// A copy of the catalog in force and its generation, with live last-used times.
    pub fn snapshot(&self) -> (Catalog, u64) {
        let (mut catalog, generation) = self.state.lock().clone();
        self.merge_last_used(&mut catalog);
        (catalog, generation)
    }

    /// Applies `change` for `who` (audited either way); returns the new generation.
    pub fn change(&self, who: &str, peer: &str, change: &Change) -> Result<u64, StoreError> {
        self.change_all(who, peer, std::slice::from_ref(change))
    }

    /// Applies `changes` as one: all of them in one stored generation, or none.
    pub fn change_all(&self, who: &str, peer: &str, changes: &[Change]) -> Result<u64, StoreError> {
        let result = self.apply(changes);
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("refused: {e}"),
        };
        for change in changes {
            self.auth.audit().record(AuditEntry {
                at_ms: now_ms(),
                who: who.to_owned(),
                action: change.action().to_owned(),
                target: change.target(),
                outcome: outcome.clone(),
                peer: peer.to_owned(),
            });
        }
        result
    }

    fn apply(&self, changes: &[Change]) -> Result<u64, StoreError> {
        let mut state = self.state.lock();
        let mut next = state.0.clone();
        let file = self.auth.file_tokens();
        let ctx = Context {
            now_ms: now_ms(),
            file_names: file.iter().map(|t| t.name.clone()).collect(),
            file_admin: file.iter().any(|t| t.grants.get(ALL_TABLES).is_some_and(|p| p.contains(&Permission::Admin))),
        };
        for change in changes {
            catalog::apply(&mut next, change, &ctx)?;
        }
        self.merge_last_used(&mut next);
        let generation = state.1.saturating_add(1);
        self.db.set_access_catalog(AccessCatalog::new(catalog::FORMAT, generation, catalog::encode(&next)))?;
        self.auth.install(&next, generation);
        *state = (next, generation);
        Ok(generation)
    }

    /// Copies the live last-used times into `catalog`'s token records.
    fn merge_last_used(&self, catalog: &mut Catalog) {
        for (user, token, at) in self.auth.index().last_used() {
            if let Some(record) = catalog.users.get_mut(&user).and_then(|u| u.tokens.get_mut(&token)) {
                record.last_used_ms = Some(record.last_used_ms.unwrap_or(0).max(at));
            }
        }
    }
}
