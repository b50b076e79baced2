//! The owner part of a producer id. Front ends that authenticate callers scope each producer id
//! to its caller as `o<16 lowercase hex digits>:<id>` (the hex being a digest of the identity), so
//! the engine can bound the producers of one identity (`max_producers_per_owner`) without knowing
//! identities: one caller cannot fill the table shared by every caller and evict the others'
//! marks. Ids of any other form (a server without authentication) have no owner and are bounded
//! only by `max_producers`.

/// Length of the owner prefix `o` + 16 hex digits + `:`.
const PREFIX_LEN: usize = 18;

/// The owner prefix of `id` (`o<16 hex>:`), if it has one.
pub(crate) fn owner_of(id: &str) -> Option<&str> {
    let prefix = id.get(..PREFIX_LEN)?;
    let bytes = prefix.as_bytes();
    let hex = bytes.get(1..PREFIX_LEN - 1)?;
    let ok = bytes.first() == Some(&b'o')
        && bytes.last() == Some(&b':')
        && hex.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    ok.then_some(prefix)
}

#[cfg(test)]
mod tests {
    use super::owner_of;

    #[test]
    fn only_the_scoped_form_has_an_owner() {
        assert_eq!(owner_of("o0123456789abcdef:gw-a"), Some("o0123456789abcdef:"));
        assert_eq!(owner_of("o0123456789abcdef:"), Some("o0123456789abcdef:"));
        assert_eq!(owner_of("gw-a"), None);
        assert_eq!(owner_of("o0123456789ABCDEF:gw"), None, "upper case is not the scoped form");
        assert_eq!(owner_of("o0123456789abcde:gw-a"), None, "15 digits");
        assert_eq!(owner_of("x0123456789abcdef:gw-a"), None);
    }
}
