//! Token secrets and their stored form, the SHA-256 digest written as 64 hex digits.
//!
//! ```text
//! secret (any UTF-8, e.g. "isobar_" + 64 hex digits from `isobar auth hash-token --generate`)
//!    │ SHA-256 over the secret's UTF-8 bytes (surrounding whitespace removed)
//!    ▼
//! digest: 32 bytes ─► config: sha256 = "<64 lowercase or uppercase hex digits>"
//! ```
//!
//! Digests are compared in constant time ([`TokenHash::ct_eq`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The SHA-256 digest of a token secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash([u8; 32]);

/// A `sha256` value that is not 64 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "expected 64 hex digits (the SHA-256 of the token secret, as printed by `isobar auth hash-token`), \
     got {problem}"
)]
pub struct TokenHashError {
    /// What was found instead.
    pub problem: String,
}

impl TokenHash {
    /// Compares two digests without an early exit, so the time taken does not depend on where
    /// they differ.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        let diff = self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

/// The digest of `secret` (surrounding whitespace, such as a file's final newline, removed).
pub fn hash_secret(secret: &str) -> TokenHash {
    TokenHash(Sha256::digest(secret.trim().as_bytes()).into())
}

/// A new random secret: `isobar_` followed by 64 hex digits (256 bits from the OS).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("isobar_{}", hex(&bytes)))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FromStr for TokenHash {
    type Err = TokenHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(TokenHashError { problem: format!("{} characters", s.chars().count()) });
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            match (pair.first().copied().and_then(digit), pair.get(1).copied().and_then(digit), out.get_mut(i)) {
                (Some(hi), Some(lo), Some(slot)) => *slot = (hi * 16 + lo) as u8,
                _ => {
                    return Err(TokenHashError {
                        problem: format!("a character that is not a hex digit near position {}", i * 2 + 1),
                    });
                }
            }
        }
        Ok(TokenHash(out))
    }
}

impl TryFrom<String> for TokenHash {
    type Error = TokenHashError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TokenHash> for String {
    fn from(h: TokenHash) -> String {
        h.to_string()
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({self})")
    }
}
