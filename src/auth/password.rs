//! Passwords: stored only as Argon2id hashes in the PHC string form
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), with the crate's default cost and a
//! 16-byte salt from the OS. Verification takes the parameters from the stored string, so
//! a later change of the default cost keeps older hashes valid.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Why a password could not be set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_PASSWORD_LEN`] characters.
    #[error("a password needs at least {MIN_PASSWORD_LEN} characters, got {got}")]
    TooShort {
        /// Its length.
        got: usize,
    },
    /// The OS gave no randomness for the salt, or hashing failed.
    #[error("cannot hash the password: {0}")]
    Hashing(String),
}

/// The Argon2id hash (PHC string) of `password` (a file's final newline removed).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let password = password.trim_end_matches(['\n', '\r']);
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort { got: len });
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether `password` matches the stored `hash` (false for a hash that does not parse).
pub fn verify_password(hash: &str, password: &str) -> bool {
    let password = password.trim_end_matches(['\n', '\r']);
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Whether `hash` is an Argon2id PHC string (what a decoded catalog must hold).
pub fn is_argon2id(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| parsed.algorithm.as_str() == "argon2id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_stored_as_argon2id_and_verifies() {
        let hash = hash_password("correct horse\n").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(is_argon2id(&hash));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct hors"));
        assert!(!verify_password("not a hash", "correct horse"));
        assert_ne!(hash, hash_password("correct horse").expect("hash"), "salted");
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort { got: 5 }));
    }
}
