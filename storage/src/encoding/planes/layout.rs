//! Plane geometry shared by the writer and the reader: symbol widths and plane lengths.

/// Bits per symbol of a plane holding `bits`-bit values (1..=8).
pub(super) fn symbol_bits(bits: u32) -> u32 {
    match bits {
        0..=2 => bits.max(1),
        3 | 4 => 4,
        _ => 8,
    }
}

/// Bytes of a plane of `n` symbols of `s` bits.
pub(super) fn plane_len(n: usize, s: u32) -> usize {
    (n / (8 / s as usize)) + usize::from(!n.is_multiple_of(8 / s as usize))
}
