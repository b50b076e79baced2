//! Record framing of a manifest file: the writer's encoder and the reader with torn-tail handling.
//!
//! The byte layout is drawn in the [parent module](super). A record that does not check out (too
//! short, too long, wrong checksum, running past the end of the file) is a *torn tail* when no
//! valid record can be found anywhere after it: the crash interrupted the append that wrote it,
//! and since `apply` fsyncs before returning, that append was never acknowledged. If a valid
//! record follows, the bad one was once complete and durable, so the file is corrupt.

use std::path::Path;

use crate::codec::ByteReader;

use super::edit::Edit;
use super::error::{CorruptReason, Error};
use super::{FORMAT_VERSION, MAGIC};

/// Bytes before each payload: length and CRC32C.
pub const RECORD_HEADER_LEN: usize = 8;
/// Largest payload a record may have (64 MiB); longer lengths are corruption.
pub const MAX_RECORD_LEN: usize = 64 << 20;
/// Smallest payload the writer produces (`[]`).
const MIN_RECORD_LEN: usize = 2;

/// Frames `edits` as one record: length, CRC32C of the payload, JSON payload.
pub(crate) fn encode_record(edits: &[Edit]) -> Result<Vec<u8>, Error> {
    let payload = serde_json::to_vec(edits).map_err(Error::Encode)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|_| payload.len() <= MAX_RECORD_LEN)
        .ok_or(Error::RecordTooLarge { len: payload.len(), max: MAX_RECORD_LEN })?;
    let mut out = Vec::with_capacity(RECORD_HEADER_LEN + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The header record every manifest file starts with, announcing `snapshot_records` snapshot
/// records after it.
pub(crate) fn header_record(snapshot_records: u64) -> Result<Vec<u8>, Error> {
    encode_record(&[Edit::Header { magic: MAGIC.to_string(), version: FORMAT_VERSION, snapshot_records }])
}

/// A torn last record that recovery ignores.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TornTail {
    /// Where the torn record starts (the valid length of the file).
    pub offset: u64,
    /// What was wrong with it.
    pub reason: CorruptReason,
}

/// The records of a manifest file after its header.
#[derive(Debug)]
pub(crate) struct ManifestLog {
    /// Each record's offset and edits, in file order.
    pub groups: Vec<(u64, Vec<Edit>)>,
    /// Bytes up to the end of the last valid record.
    pub valid_len: u64,
    /// Bytes up to the end of the snapshot (header included).
    pub base_len: u64,
    /// Records after the snapshot.
    pub appended_records: u64,
    /// The ignored torn tail, if any.
    pub torn: Option<TornTail>,
}

/// Reads a whole manifest file: checks the header record, decodes every record after it, and
/// stops at a torn tail. `file` only names the file in errors.
pub(crate) fn read_manifest(file: &Path, bytes: &[u8]) -> Result<ManifestLog, Error> {
    let corrupt = |offset: usize, reason| Error::Corrupt { file: file.to_path_buf(), offset: offset as u64, reason };
    let frames = read_frames(bytes).map_err(|(offset, reason)| corrupt(offset, reason))?;
    let mut payloads = frames.payloads.into_iter();
    let Some((_, header)) = payloads.next() else {
        return Err(corrupt(0, CorruptReason::MissingHeader));
    };
    let snapshot_records = match decode_payload(header).map_err(|reason| corrupt(0, reason))?.as_slice() {
        [Edit::Header { magic, .. }] if magic != MAGIC => {
            return Err(corrupt(0, CorruptReason::BadMagic { got: magic.clone() }));
        }
        [Edit::Header { version, .. }] if *version != FORMAT_VERSION => {
            return Err(Error::UnsupportedVersion {
                file: file.to_path_buf(),
                version: *version,
                supported: FORMAT_VERSION,
            });
        }
        [Edit::Header { snapshot_records, .. }] => *snapshot_records,
        _ => return Err(corrupt(0, CorruptReason::MissingHeader)),
    };
    let mut groups = Vec::new();
    for (offset, payload) in payloads {
        let edits = decode_payload(payload).map_err(|reason| corrupt(offset, reason))?;
        if edits.iter().any(|e| matches!(e, Edit::Header { .. })) {
            return Err(corrupt(offset, CorruptReason::MisplacedHeader));
        }
        groups.push((offset as u64, edits));
    }
    let found = groups.len() as u64;
    if found < snapshot_records {
        let reason = CorruptReason::SnapshotIncomplete { expected: snapshot_records, found };
        return Err(corrupt(frames.valid_len, reason));
    }
    // Where the records after the snapshot start: after the last snapshot record.
    let base_len = match usize::try_from(snapshot_records).ok().and_then(|n| groups.get(n)) {
        Some((offset, _)) => *offset,
        None => frames.valid_len as u64,
    };
    Ok(ManifestLog {
        appended_records: found - snapshot_records,
        groups,
        valid_len: frames.valid_len as u64,
        base_len,
        torn: frames.torn.map(|(offset, reason)| TornTail { offset: offset as u64, reason }),
    })
}

fn decode_payload(payload: &[u8]) -> Result<Vec<Edit>, CorruptReason> {
    serde_json::from_slice(payload).map_err(|e| CorruptReason::Json { message: e.to_string() })
}

/// Valid frames of a file, before their payloads are decoded.
struct Frames<'a> {
    payloads: Vec<(usize, &'a [u8])>,
    valid_len: usize,
    torn: Option<(usize, CorruptReason)>,
}

/// Splits `bytes` into records; a bad record is a torn tail when no valid frame follows it.
fn read_frames(bytes: &[u8]) -> Result<Frames<'_>, (usize, CorruptReason)> {
    let mut payloads = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        match frame_at(bytes, pos) {
            Ok((payload, next)) => {
                payloads.push((pos, payload));
                pos = next;
            }
            Err(reason) => {
                if (pos + 1..bytes.len()).any(|p| frame_at(bytes, p).is_ok()) {
                    return Err((pos, reason));
                }
                return Ok(Frames { payloads, valid_len: pos, torn: Some((pos, reason)) });
            }
        }
    }
    Ok(Frames { payloads, valid_len: pos, torn: None })
}

/// The payload of the record starting at `pos` and the offset after it, when the record is
/// complete and its checksum matches.
fn frame_at(bytes: &[u8], pos: usize) -> Result<(&[u8], usize), CorruptReason> {
    let rest = bytes.get(pos..).unwrap_or_default();
    let available = rest.len() as u64;
    let mut r = ByteReader::new(rest);
    let truncated = |needed: usize| CorruptReason::Truncated { needed: needed as u64, available };
    let len = r.u32("record length").map_err(|_| truncated(RECORD_HEADER_LEN))? as usize;
    let stored = r.u32("record checksum").map_err(|_| truncated(RECORD_HEADER_LEN))?;
    if len > MAX_RECORD_LEN {
        return Err(CorruptReason::LengthTooLarge { len: len as u64, max: MAX_RECORD_LEN as u64 });
    }
    if len < MIN_RECORD_LEN {
        return Err(CorruptReason::LengthTooSmall { len: len as u64 });
    }
    let payload = r.bytes(len, "record payload").map_err(|_| truncated(RECORD_HEADER_LEN + len))?;
    let computed = crc32c::crc32c(payload);
    if computed != stored {
        return Err(CorruptReason::Checksum { stored, computed });
    }
    Ok((payload, pos + RECORD_HEADER_LEN + len))
}
