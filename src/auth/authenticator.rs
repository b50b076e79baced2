//! [`Authenticator`]: the check of a presented secret against the live index of config-file
//! and catalog tokens. Clones share the index, the rate limiter and the audit log, so the gRPC
//! layer, the line-protocol and OTLP endpoints and the metrics endpoint all see a catalog
//! change from the next request on.

use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::RwLock;

use super::audit::{AuditEntry, AuditLog, now_ms};
use super::catalog::Catalog;
use super::live::{FileToken, Identity, Index};
use super::ratelimit::RateLimiter;
use super::{AuthError, Grants, Principal, TokenHash, hash_secret};
use crate::config::AuthConfig;

/// Checks presented secrets; see the module doc.
#[derive(Clone, Debug)]
pub struct Authenticator {
    enabled: bool,
    file: Arc<Vec<FileToken>>,
    index: Arc<RwLock<Arc<Index>>>,
    limiter: Arc<RateLimiter>,
    audit: Arc<AuditLog>,
}

impl Authenticator {
    /// The authenticator `[auth]` describes (validated by `Config::validate`), with an empty
    /// catalog until [`Authenticator::install`] gives it one.
    pub fn from_config(config: &AuthConfig) -> Self {
        let file = config
            .tokens
            .iter()
            .map(|t| FileToken { name: t.name.clone(), hash: t.sha256, grants: t.grants.clone() })
            .collect();
        let mut auth = Self::new(config.enabled, file);
        auth.limiter = Arc::new(RateLimiter::new(config.max_failed_auth_per_minute));
        auth
    }

    fn new(enabled: bool, file: Vec<FileToken>) -> Self {
        let index = Index::build(&file, &Catalog::default(), 0, None);
        Self {
            enabled,
            file: Arc::new(file),
            index: Arc::new(RwLock::new(Arc::new(index))),
            limiter: Arc::new(RateLimiter::new(crate::config::AuthConfig::default().max_failed_auth_per_minute)),
            audit: Arc::default(),
        }
    }

    /// An authenticator that lets everyone in as [`Principal::anonymous`].
    pub fn disabled() -> Self {
        Self::new(false, Vec::new())
    }

    /// An enabled authenticator over `(name, hash, grants)` file tokens.
    pub fn with_tokens(tokens: impl IntoIterator<Item = (String, TokenHash, Grants)>) -> Self {
        let file = tokens.into_iter().map(|(name, hash, grants)| FileToken { name, hash, grants }).collect();
        Self::new(true, file)
    }

    /// Whether secrets are checked at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The config-file tokens.
    pub fn file_tokens(&self) -> &[FileToken] {
        &self.file
    }

    /// The audit log shared by every front end.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// The index in force.
    pub fn index(&self) -> Arc<Index> {
        self.index.read().clone()
    }

    /// The catalog generation in force (cheap: compared by streams to notice a change).
    pub fn generation(&self) -> u64 {
        self.index.read().generation
    }

    /// Makes `catalog` (of `generation`) the one every later request is checked against.
    pub fn install(&self, catalog: &Catalog, generation: u64) {
        let mut slot = self.index.write();
        let next = Index::build(&self.file, catalog, generation, Some(&slot));
        *slot = Arc::new(next);
    }

    /// The identity whose token is `secret`: known, enabled and not expired. Records the use.
    pub fn identify(&self, secret: &str) -> Result<Arc<Identity>, AuthError> {
        if secret.trim().is_empty() {
            return Err(AuthError::Missing);
        }
        let identity = self.resolve(&hash_secret(secret))?;
        identity.last_used_ms.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
        Ok(identity)
    }

    /// The identity of `hash` as the catalog in force has it (for re-checking a running stream).
    pub fn resolve(&self, hash: &TokenHash) -> Result<Arc<Identity>, AuthError> {
        let identity = self.index.read().lookup(hash).cloned().ok_or(AuthError::Unknown)?;
        check_usable(&identity, now_ms())?;
        Ok(identity)
    }

    /// The principal whose token is `secret`.
    pub fn authenticate(&self, secret: &str) -> Result<Principal, AuthError> {
        if !self.enabled {
            return Ok(Principal::anonymous());
        }
        self.identify(secret).map(|i| i.principal.clone())
    }

    /// The principal for an optional secret: with authentication disabled anyone is
    /// anonymous; enabled, no secret is [`AuthError::Missing`].
    pub fn authenticate_optional(&self, secret: Option<&str>) -> Result<Principal, AuthError> {
        match (self.enabled, secret) {
            (false, _) => Ok(Principal::anonymous()),
            (true, None) => Err(AuthError::Missing),
            (true, Some(secret)) => self.authenticate(secret),
        }
    }

    /// [`Authenticator::identify`] for a request from `peer`: refused without a look at the
    /// secret while the address is over the failure limit; a failure is counted and audited.
    /// `Ok(None)` with authentication off.
    pub fn identify_from(
        &self,
        peer: Option<IpAddr>,
        secret: Option<&str>,
        action: &str,
    ) -> Result<Option<Arc<Identity>>, AuthError> {
        if !self.enabled {
            return Ok(None);
        }
        if let Some(ip) = peer
            && let Err(retry_after_secs) = self.limiter.check(ip)
        {
            return Err(AuthError::RateLimited { retry_after_secs });
        }
        let result = secret.ok_or(AuthError::Missing).and_then(|s| self.identify(s));
        if let Err(error) = &result {
            if let Some(ip) = peer {
                self.limiter.failed(ip);
            }
            self.refused("unauthenticated", action, "", &format!("unauthenticated: {error}"), peer);
        }
        result.map(Some)
    }

    /// Records a refused request in the audit log.
    pub fn refused(&self, who: &str, action: &str, target: &str, outcome: &str, peer: Option<IpAddr>) {
        self.audit.record(AuditEntry {
            at_ms: now_ms(),
            who: who.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
            peer: peer.map(|p| p.to_string()).unwrap_or_default(),
        });
    }
}

/// `Ok` unless the identity's user is disabled or its token expired at `now_ms`.
pub fn check_usable(identity: &Identity, now_ms: i64) -> Result<(), AuthError> {
    if !identity.enabled {
        return Err(AuthError::Disabled);
    }
    if identity.expires_ms.is_some_and(|at| now_ms >= at) {
        return Err(AuthError::Expired);
    }
    Ok(())
}
