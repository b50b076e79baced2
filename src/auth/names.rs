//! Names of users, groups and tokens: what is accepted, and why a name is refused.
//!
//! A name is 1 to 64 ASCII characters: letters, digits, `_`, `-` and `.`, starting with a
//! letter. That covers `alice`, `field-techs` and `ci.deploy`, stays readable in logs and
//! command lines, and keeps `*` and `anonymous` (reserved) from meaning two things.

use std::fmt;

/// The longest accepted name.
pub const MAX_NAME_LEN: usize = 64;

/// What a name names, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A user.
    User,
    /// A group.
    Group,
    /// A token of a user.
    Token,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::User => "user",
            NameKind::Group => "group",
            NameKind::Token => "token",
        })
    }
}

/// `Ok` when `name` is a valid name of `kind`, else why not (a sentence for the caller).
pub fn check_name(kind: NameKind, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("a {kind} name must not be empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("a {kind} name has at most {MAX_NAME_LEN} characters, got {}", name.len()));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("a {kind} name must start with a letter"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(format!("{bad:?} is not allowed in a {kind} name (letters, digits, '_', '-', '.')"));
    }
    if kind == NameKind::User && name == super::ANONYMOUS {
        return Err(format!("{:?} is reserved", super::ANONYMOUS));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_rule() {
        for ok in ["alice", "field-techs", "ci.deploy", "a", "B_2"] {
            assert_eq!(check_name(NameKind::Group, ok), Ok(()), "{ok}");
        }
        let long = "a".repeat(65);
        for (bad, says) in [
            ("", "must not be empty"),
            ("1abc", "start with a letter"),
            ("a b", "' ' is not allowed"),
            ("*", "start with a letter"),
            ("é", "start with a letter"),
            (long.as_str(), "at most 64"),
        ] {
            let err = check_name(NameKind::User, bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(check_name(NameKind::User, "anonymous").expect_err("reserved").contains("reserved"));
    }
}
