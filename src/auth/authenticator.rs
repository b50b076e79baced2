//! [`Authenticator`]: the configured tokens, and the check of a presented secret.

use super::{AuthError, Grants, Principal, TokenHash, hash_secret};
use crate::config::AuthConfig;

/// One configured token.
#[derive(Clone, Debug)]
struct Entry {
    hash: TokenHash,
    principal: Principal,
}

/// Checks presented secrets against the configured token hashes.
#[derive(Clone, Debug)]
pub struct Authenticator {
    enabled: bool,
    tokens: Vec<Entry>,
}

impl Authenticator {
    /// The authenticator `[auth]` describes (validated by `Config::validate`).
    pub fn from_config(config: &AuthConfig) -> Self {
        let tokens = config
            .tokens
            .iter()
            .map(|t| Entry { hash: t.sha256, principal: Principal { name: t.name.clone(), grants: t.grants.clone() } })
            .collect();
        Self { enabled: config.enabled, tokens }
    }

    /// An authenticator that lets everyone in as [`Principal::anonymous`].
    pub fn disabled() -> Self {
        Self { enabled: false, tokens: Vec::new() }
    }

    /// An enabled authenticator over `(name, hash, grants)` triples.
    pub fn with_tokens(tokens: impl IntoIterator<Item = (String, TokenHash, Grants)>) -> Self {
        let tokens = tokens
            .into_iter()
            .map(|(name, hash, grants)| Entry { hash, principal: Principal { name, grants } })
            .collect();
        Self { enabled: true, tokens }
    }

    /// Whether secrets are checked at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The principal whose token is `secret`. Every configured hash is compared (in constant
    /// time), whichever matches, so timing does not reveal which or how many tokens exist.
    pub fn authenticate(&self, secret: &str) -> Result<Principal, AuthError> {
        if !self.enabled {
            return Ok(Principal::anonymous());
        }
        if secret.trim().is_empty() {
            return Err(AuthError::Missing);
        }
        let presented = hash_secret(secret);
        let mut found = None;
        for entry in &self.tokens {
            if entry.hash.ct_eq(&presented) && found.is_none() {
                found = Some(&entry.principal);
            }
        }
        found.cloned().ok_or(AuthError::Unknown)
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
}
