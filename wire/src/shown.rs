//! User-supplied names and keys as error messages show them.

/// Longest excerpt of a user-supplied name or key kept in an error, in characters.
pub const MAX_SHOWN: usize = 128;

/// `s` escaped for display and cut at [`MAX_SHOWN`] characters (with "..." when cut).
pub fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_SHOWN).flat_map(char::escape_debug).collect();
    if s.chars().nth(MAX_SHOWN).is_some() {
        out.push_str("...");
    }
    out
}
