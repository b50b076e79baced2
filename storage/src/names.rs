//! Validation of user-chosen names (tables, families, columns).
//!
//! A name matches `[A-Za-z_][A-Za-z0-9_]{0,127}`. Names never reach a file path — files are named
//! by numeric ids — but the rule is strict anyway, so that a name is always safe to print, to use in
//! SQL and Prometheus labels, and to pass through any later tool.

use crate::error::InvalidInput;
pub(crate) use crate::error::NameKind;

/// Longest name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// Checks `name` against `[A-Za-z_][A-Za-z0-9_]{0,127}`.
pub fn validate_name(kind: NameKind, name: &str) -> Result<(), InvalidInput> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_NAME_LEN {
        Some("it is longer than 128 bytes")
    } else if name.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        Some("it starts with a digit")
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some("it contains a character other than A-Z, a-z, 0-9 and _")
    } else {
        None
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(InvalidInput::InvalidName { kind, name: printable(name), reason }),
    }
}

/// A version of a rejected name that is safe to show: control characters escaped, cut at 64 chars.
pub(crate) fn printable(name: &str) -> String {
    let mut out: String = name.chars().take(64).flat_map(char::escape_default).collect();
    if name.chars().count() > 64 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for name in ["a", "_", "readings", "Fuel_State_2", &"x".repeat(128)] {
            assert!(validate_name(NameKind::Column, name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_names_that_could_escape_or_confuse() {
        let long = "x".repeat(129);
        for name in ["", "1abc", "../etc", "a/b", "a\0b", "a b", "a-b", "é", long.as_str()] {
            let err = validate_name(NameKind::Table, name).unwrap_err();
            assert!(matches!(err, InvalidInput::InvalidName { kind: NameKind::Table, .. }), "{name}");
        }
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\0b"), "a\\u{0}b");
        assert!(printable(&"y".repeat(100)).ends_with("..."));
    }
}
