//! The live index every front end authenticates against: token hash → identity, built from the
//! config file's tokens and the access catalog, and replaced whole (an `Arc` swap) on every
//! catalog change, so the very next request anywhere sees the change.
//!
//! Lookup is by the SHA-256 of the presented secret; the hit is then confirmed with the
//! constant-time comparison. The map's timing can depend only on the digest, which reveals
//! nothing about the secret, and a lookup costs the same with 10 or 10,000 tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::catalog::Catalog;
use super::{Grants, Principal, TokenHash};

/// Who a token belongs to, with everything a request check needs.
#[derive(Debug)]
pub struct Identity {
    /// The digest of the token's secret.
    pub hash: TokenHash,
    /// Name and effective grants.
    pub principal: Principal,
    /// The catalog user (`None`: a config-file token, whose name is `principal.name`).
    pub user: Option<String>,
    /// The token's name (for a file token, its name in the file).
    pub token: String,
    /// The user's groups (empty for a file token).
    pub groups: Vec<String>,
    /// False for a disabled user.
    pub enabled: bool,
    /// After this (Unix ms) the token is refused.
    pub expires_ms: Option<i64>,
    /// Last successful authentication, Unix ms (0: never since the index was built).
    pub last_used_ms: AtomicI64,
}

/// One config-file token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileToken {
    /// Its name.
    pub name: String,
    /// Its digest.
    pub hash: TokenHash,
    /// Its grants.
    pub grants: Grants,
}

/// The index of one catalog generation.
#[derive(Debug, Default)]
pub struct Index {
    /// The catalog generation it was built from (0: none stored yet).
    pub generation: u64,
    tokens: HashMap<TokenHash, Arc<Identity>>,
}

impl Index {
    /// The index of `file` tokens and `catalog`; last-used times carry over from `previous`.
    pub fn build(file: &[FileToken], catalog: &Catalog, generation: u64, previous: Option<&Index>) -> Index {
        let mut tokens = HashMap::new();
        let carried = |hash: &TokenHash, stored: Option<i64>| {
            let live = previous.and_then(|p| p.tokens.get(hash)).map_or(0, |i| i.last_used_ms.load(Ordering::Relaxed));
            AtomicI64::new(live.max(stored.unwrap_or(0)))
        };
        for t in file {
            let identity = Identity {
                hash: t.hash,
                principal: Principal { name: t.name.clone(), grants: Arc::new(t.grants.clone()) },
                user: None,
                token: t.name.clone(),
                groups: Vec::new(),
                enabled: true,
                expires_ms: None,
                last_used_ms: carried(&t.hash, None),
            };
            tokens.insert(t.hash, Arc::new(identity));
        }
        for (name, user) in &catalog.users {
            let grants = Arc::new(catalog.effective_grants(name));
            let groups: Vec<String> = catalog.groups_of(name).into_iter().map(str::to_owned).collect();
            for (token, record) in &user.tokens {
                let identity = Identity {
                    hash: record.sha256,
                    principal: Principal { name: name.clone(), grants: grants.clone() },
                    user: Some(name.clone()),
                    token: token.clone(),
                    groups: groups.clone(),
                    enabled: user.enabled,
                    expires_ms: record.expires_ms,
                    last_used_ms: carried(&record.sha256, record.last_used_ms),
                };
                tokens.entry(record.sha256).or_insert_with(|| Arc::new(identity));
            }
        }
        Index { generation, tokens }
    }

    /// The identity whose digest is `hash` (confirmed in constant time).
    pub fn lookup(&self, hash: &TokenHash) -> Option<&Arc<Identity>> {
        self.tokens.get(hash).filter(|i| i.hash.ct_eq(hash))
    }

    /// `(user, token, last used ms)` of every catalog token used since the index was built.
    pub fn last_used(&self) -> Vec<(String, String, i64)> {
        self.tokens
            .values()
            .filter_map(|i| {
                let at = i.last_used_ms.load(Ordering::Relaxed);
                i.user.as_ref().filter(|_| at > 0).map(|u| (u.clone(), i.token.clone(), at))
            })
            .collect()
    }
}
