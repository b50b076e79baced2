//! Byte packs: a run of bytes whose length the reader already knows, stored as a fill byte, raw,
//! or as one zstd frame, whichever is smallest.
//!
//! ```text
//! pack of L bytes (L is known to the reader from the enclosing layout):
//! +------+---------------------------------------------------------------+
//! | mode | payload                                                       |
//! | u8   |                                                               |
//! +------+---------------------------------------------------------------+
//! mode 0  FILL  1 byte b: the pack is L copies of b (0 < L <= 65536)
//! mode 1  RAW   L bytes
//! mode 2  ZSTD  varint c, then c bytes: one zstd frame (no content size, no checksum) that
//!               decompresses to exactly L bytes (L <= 32768 * c, zstd's largest ratio)
//! ```
//!
//! Every pack gets its own frame, so zstd's Huffman and FSE tables fit that pack's own
//! distribution (a byte plane of small deltas compresses far better alone than interleaved).
//! Compression and decompression contexts are kept per thread: creating a zstd context costs more
//! than decoding a small page.

use std::cell::RefCell;

use zstd::bulk::{Compressor, Decompressor};
use zstd::zstd_safe::CParameter;

use super::EncodingError;
use crate::codec::{ByteReader, put_varint};

const FILL: u8 = 0;
const RAW: u8 = 1;
const ZSTD: u8 = 2;

/// Packs shorter than this are never given to zstd (its frame overhead exceeds any gain).
const MIN_ZSTD_LEN: usize = 24;

/// FILL packs are at most this long, so that two input bytes never ask for a large allocation.
const MAX_FILL_LEN: usize = 1 << 16;
/// The most output a zstd frame can produce per input byte (a 4-byte RLE block yields 128 KiB);
/// a ZSTD pack claiming more than this is rejected before anything is allocated.
const MAX_ZSTD_RATIO: usize = 1 << 15;

/// What a pack holds, which tunes zstd's match finder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Content {
    /// A plane of small numeric symbols: mostly independent values, for which short LZ matches
    /// are coincidences that cost more than Huffman-coded literals, so matches start at 7 bytes.
    Plane,
    /// Anything else (strings, bitmaps, patch lists): zstd's defaults for the level.
    Bytes,
}

thread_local! {
    static COMPRESSORS: RefCell<Vec<(i32, Content, Compressor<'static>)>> =
        const { RefCell::new(Vec::new()) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// A decoded pack: either one repeated byte or the bytes themselves.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pack<'a> {
    /// Every byte of the pack equals this one.
    Fill(u8),
    /// The pack's bytes (borrowed from the input or from a scratch buffer).
    Bytes(&'a [u8]),
}

/// Appends `data` as a pack (the reader must know `data.len()`).
pub(super) fn put_pack(out: &mut Vec<u8>, data: &[u8], zstd_level: i32) {
    put_pack_of(out, data, Content::Bytes, zstd_level);
}

/// Appends `data`, a plane of numeric symbols, as a pack.
pub(super) fn put_plane_pack(out: &mut Vec<u8>, data: &[u8], zstd_level: i32) {
    put_pack_of(out, data, Content::Plane, zstd_level);
}

fn put_pack_of(out: &mut Vec<u8>, data: &[u8], content: Content, zstd_level: i32) {
    if let Some((&first, rest)) = data.split_first()
        && data.len() <= MAX_FILL_LEN
        && rest.iter().all(|&b| b == first)
    {
        out.extend_from_slice(&[FILL, first]);
        return;
    }
    if data.len() >= MIN_ZSTD_LEN
        && let Some(frame) = compress(data, content, zstd_level)
        && frame.len() + 5 < data.len()
    {
        out.push(ZSTD);
        put_varint(out, frame.len() as u64);
        out.extend_from_slice(&frame);
        return;
    }
    out.push(RAW);
    out.extend_from_slice(data);
}

/// One zstd frame holding `data`, or `None` if zstd fails (the caller then stores it raw).
fn compress(data: &[u8], content: Content, level: i32) -> Option<Vec<u8>> {
    COMPRESSORS.with(|cell| {
        let mut all = cell.borrow_mut();
        let at = match all.iter().position(|(l, c, _)| *l == level && *c == content) {
            Some(at) => at,
            None => {
                let mut c = Compressor::new(level).ok()?;
                c.set_parameter(CParameter::ContentSizeFlag(false)).ok()?;
                c.set_parameter(CParameter::ChecksumFlag(false)).ok()?;
                if content == Content::Plane {
                    c.set_parameter(CParameter::MinMatch(7)).ok()?;
                }
                all.push((level, content, c));
                all.len() - 1
            }
        };
        all.get_mut(at)?.2.compress(data).ok()
    })
}

/// Where a pack's bytes ended up.
enum Source<'a> {
    Fill(u8),
    Input(&'a [u8]),
    Scratch,
}

fn read_source<'a>(
    r: &mut ByteReader<'a>,
    len: usize,
    what: &'static str,
    scratch: &mut Vec<u8>,
) -> Result<Source<'a>, EncodingError> {
    match r.u8(what)? {
        FILL if len > 0 && len <= MAX_FILL_LEN => Ok(Source::Fill(r.u8(what)?)),
        RAW => Ok(Source::Input(r.bytes(len, what)?)),
        ZSTD => {
            let c = r.len(r.remaining(), what)?;
            let frame = r.bytes(c, what)?;
            let max = c.saturating_mul(MAX_ZSTD_RATIO);
            if len > max {
                return Err(EncodingError::OutOfRange { what, got: len as u64, max: max as u64 });
            }
            decompress(frame, len, what, scratch)?;
            Ok(Source::Scratch)
        }
        tag => Err(EncodingError::UnknownTag { what: "pack mode", tag }),
    }
}

/// Reads a pack of `len` bytes; zstd payloads are decompressed into `scratch`.
pub(super) fn read_pack<'s, 'a: 's>(
    r: &mut ByteReader<'a>,
    len: usize,
    what: &'static str,
    scratch: &'s mut Vec<u8>,
) -> Result<Pack<'s>, EncodingError> {
    Ok(match read_source(r, len, what, scratch)? {
        Source::Fill(b) => Pack::Fill(b),
        Source::Input(b) => Pack::Bytes(b),
        Source::Scratch => Pack::Bytes(scratch.as_slice()),
    })
}

/// Reads a pack of `len` bytes into an owned vector.
pub(super) fn read_pack_vec(r: &mut ByteReader<'_>, len: usize, what: &'static str) -> Result<Vec<u8>, EncodingError> {
    let mut scratch = Vec::new();
    Ok(match read_source(r, len, what, &mut scratch)? {
        Source::Fill(b) => vec![b; len],
        Source::Input(b) => b.to_vec(),
        Source::Scratch => scratch,
    })
}

/// Decompresses one frame into `scratch`, which must then hold exactly `len` bytes.
fn decompress(frame: &[u8], len: usize, what: &'static str, scratch: &mut Vec<u8>) -> Result<(), EncodingError> {
    let err = |reason: String| EncodingError::Zstd { what, expected_len: len, reason };
    scratch.clear();
    scratch.reserve_exact(len);
    let got = DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Decompressor::new().map_err(|e| err(e.to_string()))?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress_to_buffer(frame, scratch).map_err(|e| err(e.to_string())),
            None => Err(err("no decompression context".into())),
        }
    })?;
    if got != len || scratch.len() != len {
        return Err(EncodingError::LengthMismatch { what, expected: len, got });
    }
    Ok(())
}
