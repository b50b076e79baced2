//! The error every decoder in this module returns.

use arrow_schema::DataType;

use crate::codec::DecodeError;
use crate::schema::ColumnType;

/// Bytes that are not a valid encoded column, or a column that cannot be encoded.
///
/// Offsets are relative to the start of the bytes given to the decoder (nested packs report the
/// offset within their own decompressed payload, named by `what`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    /// A checked read ran past the end of the bytes or met a malformed field.
    #[error("bad encoded column: {0}")]
    Read(#[from] DecodeError),
    /// A tag byte names no known encoding for this place.
    #[error("bad encoded column: unknown {what} tag {tag}")]
    UnknownTag {
        /// Which tag was read (column encoding, pack mode, ...).
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// The column encoding does not produce the type the caller asked for.
    #[error("bad encoded column: encoding tag {tag} does not hold a {expected} column")]
    TypeMismatch {
        /// The column encoding tag found.
        tag: u8,
        /// The type the caller expects.
        expected: ColumnType,
    },
    /// A field holds a value outside what the rest of the encoding allows.
    #[error("bad encoded column: {what} is {got}, at most {max} allowed")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// The value read.
        got: u64,
        /// The largest value allowed here.
        max: u64,
    },
    /// A length or count disagrees with what another field implies.
    #[error("bad encoded column: {what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// The field.
        what: &'static str,
        /// The length implied by the rest of the encoding (or the caller's row count).
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// The pieces of a page column could not be joined into one array before encoding.
    #[error("could not assemble a page column: {reason}")]
    Assemble {
        /// Arrow's message.
        reason: String,
    },
    /// A zstd frame failed to decompress (or, when encoding, to compress).
    #[error("bad encoded column: zstd failed on {what} ({expected_len} bytes expected): {reason}")]
    Zstd {
        /// The pack being (de)compressed.
        what: &'static str,
        /// Its decompressed length.
        expected_len: usize,
        /// zstd's own message.
        reason: String,
    },
    /// Patch or exception positions that are not strictly increasing or fall past the end.
    #[error("bad encoded column: {what} position {position} is not below {limit} or not increasing")]
    BadPosition {
        /// The list holding the position.
        what: &'static str,
        /// The position read.
        position: u64,
        /// The row count (or previous position + 1) it had to respect.
        limit: u64,
    },
    /// A string value is not UTF-8 or does not start on a character boundary.
    #[error("bad encoded column: string {index} is not valid UTF-8")]
    InvalidUtf8 {
        /// Index of the value (dictionary entry or row among the valid ones).
        index: usize,
    },
    /// Bytes left over after the encoding was fully read.
    #[error("bad encoded column: {count} trailing bytes at offset {offset}")]
    TrailingBytes {
        /// Offset of the first unread byte.
        offset: usize,
        /// Number of unread bytes.
        count: usize,
    },
    /// `encode_array` got an Arrow type it has no encoding for.
    #[error("cannot encode a column of Arrow type {0}")]
    UnsupportedType(DataType),
    /// A string column too large for Arrow's 32-bit offsets.
    #[error("string column of {bytes} bytes exceeds Arrow's 32-bit offsets")]
    StringsTooLarge {
        /// Total bytes of string data.
        bytes: usize,
    },
}
