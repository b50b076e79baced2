//! SSTable targets: a whole file of fuzz bytes ([`sst_file`]), and edits of a valid file that
//! can get past the block checksums ([`sst_mutated`]).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use arrow_array::Array;
use isobar_storage::sst::{BlockCache, BlockHandle, BlockRef, Error, Footer, SeriesEntry, SstReader};
use isobar_storage::{ColumnId, SeriesSelector, TimeRange};

use crate::{scratch, seeds};

/// Most series, and chunks per series, read from one input (bounds the work of a huge index).
const MAX_SERIES: usize = 64;
const MAX_CHUNKS: usize = 256;
/// Bytes of one edit in [`sst_mutated`]: offset (u16 LE), xor mask.
const EDIT_LEN: usize = 3;
/// Edit offsets with this bit set count from the end of the file.
const FROM_END: u16 = 0x8000;

/// Target: `data` is a whole `.sst` file. Opens it and, if it opens, lists every series, reads
/// each whole and chunk by chunk with every column, looks each up by key, and verifies the file.
pub fn sst_file(data: &[u8]) {
    let dir = scratch::dir();
    let path = dir.path().join("1.sst");
    scratch::write(&path, data);
    exercise(&path);
}

/// Target: `data` edits the valid SSTable of [`seeds::sstable`]. Byte 0 holds flags (bit 0:
/// recompute every block checksum and the footer checksum after editing, so that the decoders
/// behind the checksums see the damage); then come 3-byte edits `offset: u16 LE, xor: u8`
/// (offset modulo the file size; with bit 15 set, counted back from the end).
pub fn sst_mutated(data: &[u8]) {
    let base = base();
    let mut bytes = base.bytes.clone();
    let (flags, edits) = data.split_first().map_or((0, &[][..]), |(f, rest)| (*f, rest));
    for edit in edits.chunks_exact(EDIT_LEN) {
        let (raw, xor) = (u16::from_le_bytes([edit[0], edit[1]]), edit[2]);
        let len = bytes.len();
        let at = usize::from(raw & !FROM_END) % len;
        let at = if raw & FROM_END != 0 { len - 1 - at } else { at };
        bytes[at] ^= xor;
    }
    if flags & 1 == 1 {
        repair_checksums(&mut bytes, &base.blocks);
    }
    sst_file(&bytes);
}

/// Reads everything an engine would read from the file at `path`; returns quietly on errors.
fn exercise(path: &Path) {
    let cache = Arc::new(BlockCache::new(1 << 20));
    let Ok(reader) = SstReader::open(path, 1, cache) else { return };
    let ids: Vec<ColumnId> = reader.info().columns.iter().map(|c| c.id).collect();
    let entries: Vec<SeriesEntry> = reader.series(&SeriesSelector::All).take(MAX_SERIES).collect();
    for entry in &entries {
        let _ = reader.get(&entry.key);
        let prefix: String = entry.key.chars().take(3).collect();
        let _ = reader.series(&SeriesSelector::Prefix(prefix)).take(MAX_SERIES).count();
        for chunk in reader.chunks(entry).iter().take(MAX_CHUNKS) {
            for id in &ids {
                let _ = reader.chunk_stats(chunk, *id);
            }
            if let Ok(run) = reader.read_chunk(entry, chunk, &ids) {
                check_run(&run);
            }
        }
        if let Ok(Some(run)) = reader.read(entry, TimeRange::ALL, &ids) {
            check_run(&run);
        }
        if let Ok(Some(run)) = reader.read(entry, TimeRange::new(entry.min_ts, entry.max_ts), &ids[..ids.len() / 2]) {
            check_run(&run);
        }
    }
    let _ = reader.verify().is_ok();
}

/// What every reader of a [`Run`](isobar_storage::Run) indexes by: one seq and one slot per
/// column for every timestamp.
fn check_run(run: &isobar_storage::Run) {
    assert_eq!(run.seq.len(), run.ts.len(), "run of {:?}: seqs and timestamps differ in number", run.series);
    for (id, column) in &run.columns {
        assert_eq!(column.len(), run.ts.len(), "run of {:?}: column {id} has the wrong length", run.series);
    }
}

/// The valid file [`sst_mutated`] edits, with every block it frames.
struct Base {
    bytes: Vec<u8>,
    /// Footer-named blocks and every data block.
    blocks: Vec<BlockHandle>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let bytes = seeds::sstable();
        let blocks = block_map(&bytes);
        Base { bytes, blocks }
    })
}

/// Every block of the valid file `bytes`: index, filter and meta from the footer, and the data
/// blocks, found through the public API by flipping a byte and asking `verify` which block
/// (named by its offset) it damaged: a block ends where a flip stops naming its offset.
fn block_map(bytes: &[u8]) -> Vec<BlockHandle> {
    let footer_at = bytes.len() - 64;
    let Ok(footer) = Footer::decode(&bytes[footer_at..], Path::new("base.sst"), footer_at as u64) else {
        panic!("fuzz harness: the base SSTable has a bad footer");
    };
    let mut blocks = vec![footer.index, footer.filter, footer.meta];
    let data_end = footer.index.offset;
    let mut start = 0u64;
    while start < data_end {
        // Largest `end` such that flipping byte `end - 1` damages the block at `start`.
        let (mut lo, mut hi) = (start + 1, data_end);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if damaged_block(bytes, mid - 1) == Some(start) { lo = mid } else { hi = mid - 1 }
        }
        blocks.push(BlockHandle { offset: start, len: lo - start });
        start = lo;
    }
    blocks
}

/// Offset of the first data block that `verify` reports after flipping byte `at`.
fn damaged_block(bytes: &[u8], at: u64) -> Option<u64> {
    let mut copy = bytes.to_vec();
    copy[at as usize] ^= 0x01;
    let dir = scratch::dir();
    let path = dir.path().join("probe.sst");
    scratch::write(&path, &copy);
    let reader = SstReader::open(&path, 1, Arc::new(BlockCache::new(0))).ok()?;
    reader.verify().problems.iter().find_map(|p| match p {
        Error::Corrupt { block: BlockRef::Data { .. }, offset, .. } => Some(*offset),
        _ => None,
    })
}

/// Rewrites the checksum of every block in `blocks` and of the footer to match the bytes.
fn repair_checksums(bytes: &mut [u8], blocks: &[BlockHandle]) {
    for b in blocks {
        let (start, end) = (b.offset as usize, b.end() as usize);
        if b.len < 4 || end > bytes.len() {
            continue;
        }
        let crc = crc32c::crc32c(&bytes[start..end - 4]);
        bytes[end - 4..end].copy_from_slice(&crc.to_le_bytes());
    }
    let f = bytes.len() - 64;
    let crc = crc32c::crc32c_append(crc32c::crc32c(&bytes[f..f + 48]), &bytes[f + 52..]);
    bytes[f + 48..f + 52].copy_from_slice(&crc.to_le_bytes());
}
