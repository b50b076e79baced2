//! Planes: a sequence of `n` unsigned 64-bit words (already delta- or zigzag-transformed, so mostly
//! small) stored one pack per bit field, plus patches for the few wide words.
//!
//! ```text
//! words of n values (n is known to the reader):
//! +-----+---------------+-----+-----------+-----+-----------+--------+-------------------------+
//! | b   | low plane     | q   | plane 0   | ... | plane p-1 | x      | patches (if x > 0)      |
//! | u8  | (only if b>0) | u8  |           |     |           | varint | varint m, pack m bytes  |
//! +-----+---------------+-----+-----------+-----+-----------+--------+-------------------------+
//! b          low bits split off, 0..=7; the low plane holds `word & (2^b - 1)` of every word,
//!            packed at s(b) bits per symbol; everything after it describes `high = word >> b`
//! q          bits of `high` held by the planes: 0, 1, 2, 4, or a multiple of 8 up to 64
//! planes     q in 1..=4: one plane of q-bit symbols (packed); q >= 8: q / 8 planes of bytes,
//!            plane k holding byte k (little-endian order) of every `high`
//! x          number of patched words, 0..=n (0 when b + q >= 64)
//! patches    x pairs (varint gap, varint v): the word at position p gets `v << (b + q)` ORed
//!            in, where p = gap for the first pair and previous p + 1 + gap after it; positions
//!            are strictly increasing and below n, v is non-zero and fits in 64 - b - q bits;
//!            m <= 20 x
//!
//! a plane of s-bit symbols (s = 1, 2, 4 or 8) is one pack of L = ceil(n * s / 8) bytes; symbol
//! i is bits (i / L) * s .. + s of byte i mod L (so each bit slot holds a contiguous run of rows
//! and unpacks in one vectorizable loop)     s(b) = 1, 2, 4, 4, 8, 8, 8 for b = 1..7
//! ```
//!
//! Every plane is its own pack, so zstd's Huffman stage sees one field's distribution. The writer
//! picks `q` by size: it compresses each candidate's planes and compares them, plus the patch list
//! for the words that do not fit, with the other candidates. A page holding several series has a
//! handful of large deltas at series boundaries; they become patches instead of forcing wide
//! planes. Packing 2, 4 or 8 small symbols per byte lets Huffman spend a fraction of a bit per
//! symbol on very skewed fields (a slowly changing value's deltas are mostly zero), which a byte
//! per symbol cannot.
//!
//! Splitting off `b` low bits matters when typical words need a little more than a byte: their low
//! bits are nearly uniform (stored at `b` bits), and the high part becomes one peaked byte that
//! Huffman codes close to its entropy. The writer tries no split and, when the words'
//! 98th-percentile width t is at least 7 bits, splits of t - 6, t - 5 and t - 4 bits (at most 7),
//! and keeps the smallest result.

mod layout;
mod read;
mod write;

pub(super) use read::read_words;
pub(super) use write::put_words;
