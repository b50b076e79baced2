//! The payload of a WAL record: one validated write batch, resolved to ids, and for a write of an
//! idempotent producer the producer's stamp.
//!
//! The WAL frames, checksums and numbers records; this module owns what is inside. All integers
//! are little-endian; `varint` is unsigned LEB128; a bitmap holds bit `i` of row `i` in byte
//! `i / 8`, least significant bit first.
//!
//! ```text
//! payload := 0x01 body                      (version 1: a plain write)
//!          | 0x02 stamp body                (version 2: a write of a producer)
//! stamp   := id_len:varint id:[u8; id_len]  1..=128 bytes of [A-Za-z0-9._:-]
//!            producer_seq:varint (>= 1)     the producer's batch number
//!            active_ms:varint               wall clock of the write, ms since the epoch
//! body    := n_series:varint series*
//! series  := table:varint key_len:varint key:[u8] n_rows:varint ts:[i64; n_rows]
//!            n_columns:varint column*
//! column  := family:varint column:varint type:u8 has_validity:u8
//!            [validity:bitmap(n_rows) if has_validity = 1]
//!            values
//! values  := f64: [f64; n_rows] | i64: [i64; n_rows] | bool: bitmap(n_rows)
//!          | string: (len:varint bytes:[u8])*n_rows
//! ```
//! Every row has a value slot, valid or not, so decoding needs no prefix sums. The decoder
//! bounds every count by the bytes that remain, so a corrupt length cannot allocate memory.
//!
//! Plain writes keep version 1, so a WAL without producer writes is byte for byte what earlier
//! builds wrote and read; this build reads both. The stamp shares the record (and its checksum)
//! with the data: a crash keeps both or neither.

use crate::batch::ColumnValues;
use crate::catalog::{LoggedColumn, LoggedSeries};
use crate::codec::{ByteReader, DecodeError, put_str, put_varint};
use crate::producer::{MAX_PRODUCER_ID_LEN, check_producer_id};
use crate::schema::ColumnType;

const PLAIN: u8 = 1;
const STAMPED: u8 = 2;

/// The producer stamp of a WAL record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The producer id (checked on decode).
    pub producer: String,
    /// The producer's batch number.
    pub seq: u64,
    /// Wall clock of the write, ms since the epoch.
    pub active_ms: u64,
}

/// A decoded payload.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    /// The producer stamp of a version 2 payload.
    pub stamp: Option<Stamp>,
    /// The write.
    pub series: Vec<LoggedSeries>,
}

/// Appends the payload for `series` (stamped when `stamp` is given) to `out`.
pub(crate) fn encode(series: &[LoggedSeries], stamp: Option<&Stamp>, out: &mut Vec<u8>) {
    match stamp {
        None => out.push(PLAIN),
        Some(st) => {
            out.push(STAMPED);
            put_str(out, &st.producer);
            put_varint(out, st.seq);
            put_varint(out, st.active_ms);
        }
    }
    put_varint(out, series.len() as u64);
    for s in series {
        put_varint(out, u64::from(s.table));
        put_str(out, &s.series);
        put_varint(out, s.ts.len() as u64);
        out.reserve(s.ts.len() * 8 * (1 + s.columns.len()));
        put_words(out, s.ts.iter().map(|t| t.to_le_bytes()));
        put_varint(out, s.columns.len() as u64);
        for c in &s.columns {
            put_varint(out, u64::from(c.family));
            put_varint(out, u64::from(c.column));
            out.push(c.values.column_type().tag());
            match &c.validity {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    put_bitmap(out, v);
                }
            }
            match &c.values {
                ColumnValues::F64(v) => put_words(out, v.iter().map(|x| x.to_le_bytes())),
                ColumnValues::I64(v) => put_words(out, v.iter().map(|x| x.to_le_bytes())),
                ColumnValues::Bool(v) => put_bitmap(out, v),
                ColumnValues::String(v) => v.iter().for_each(|x| put_str(out, x)),
            }
        }
    }
}

/// Decodes a payload written by [`encode`].
pub(crate) fn decode(bytes: &[u8]) -> Result<Record, DecodeError> {
    let mut r = ByteReader::new(bytes);
    let stamp = match r.u8("payload version")? {
        PLAIN => None,
        STAMPED => Some(decode_stamp(&mut r)?),
        version => {
            return Err(r.error(format!("unknown payload version {version}, this build reads {PLAIN} and {STAMPED}")));
        }
    };
    let n_series = r.len(r.remaining(), "series count")?;
    let mut out = Vec::with_capacity(n_series);
    for _ in 0..n_series {
        let table = u32_of(&mut r, "table id")?;
        let series = r.str(r.remaining(), "series key")?.to_string();
        let n = r.len(r.remaining() / 8, "row count")?;
        let ts = r.bytes(n * 8, "timestamps")?.chunks_exact(8).map(le_i64).collect();
        let n_cols = r.len(r.remaining(), "column count")?;
        let mut columns = Vec::with_capacity(n_cols);
        for _ in 0..n_cols {
            let family = u32_of(&mut r, "family id")?;
            let column = u32_of(&mut r, "column id")?;
            let tag = r.u8("column type")?;
            let ty = ColumnType::from_tag(tag).ok_or_else(|| r.error(format!("unknown column type tag {tag}")))?;
            let validity = match r.u8("validity flag")? {
                0 => None,
                1 => Some(get_bitmap(&mut r, n, "validity")?),
                f => return Err(r.error(format!("validity flag must be 0 or 1, got {f}"))),
            };
            let values = match ty {
                ColumnType::F64 => ColumnValues::F64(
                    r.bytes(n * 8, "f64 values")?.chunks_exact(8).map(|c| f64::from_bits(le_i64(c) as u64)).collect(),
                ),
                ColumnType::I64 => {
                    ColumnValues::I64(r.bytes(n * 8, "i64 values")?.chunks_exact(8).map(le_i64).collect())
                }
                ColumnType::Bool => ColumnValues::Bool(get_bitmap(&mut r, n, "bool values")?),
                ColumnType::String => {
                    let mut v = Vec::with_capacity(n.min(r.remaining()));
                    for _ in 0..n {
                        v.push(r.str(r.remaining(), "string value")?.to_string());
                    }
                    ColumnValues::String(v)
                }
            };
            columns.push(LoggedColumn { family, column, values, validity });
        }
        out.push(LoggedSeries { table, series, ts, columns });
    }
    if !r.is_empty() {
        return Err(r.error(format!("{} trailing bytes after the last series", r.remaining())));
    }
    Ok(Record { stamp, series: out })
}

fn decode_stamp(r: &mut ByteReader<'_>) -> Result<Stamp, DecodeError> {
    let producer = r.str(MAX_PRODUCER_ID_LEN, "producer id")?.to_string();
    if let Err(reason) = check_producer_id(&producer) {
        return Err(r.error(format!("producer id {producer:?} is invalid: {reason}")));
    }
    let seq = r.varint("producer seq")?;
    if seq == 0 {
        return Err(r.error("producer seq is 0, producers number batches from 1"));
    }
    let active_ms = r.varint("producer activity time")?;
    Ok(Stamp { producer, seq, active_ms })
}

fn le_i64(c: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(c);
    i64::from_le_bytes(b)
}

fn u32_of(r: &mut ByteReader<'_>, what: &str) -> Result<u32, DecodeError> {
    let v = r.varint(what)?;
    u32::try_from(v).map_err(|_| r.error(format!("{what} {v} does not fit 32 bits")))
}

/// Appends 8-byte words: grows `out` once and fills it, which compiles to a tight copy loop
/// (pushing word by word re-checks the capacity every time).
fn put_words(out: &mut Vec<u8>, words: impl ExactSizeIterator<Item = [u8; 8]>) {
    let start = out.len();
    out.resize(start + words.len() * 8, 0);
    let tail = out.get_mut(start..).unwrap_or_default();
    for (dst, w) in tail.chunks_exact_mut(8).zip(words) {
        dst.copy_from_slice(&w);
    }
}

fn put_bitmap(out: &mut Vec<u8>, bits: &[bool]) {
    for chunk in bits.chunks(8) {
        out.push(chunk.iter().enumerate().fold(0u8, |b, (i, on)| b | (u8::from(*on) << i)));
    }
}

fn get_bitmap(r: &mut ByteReader<'_>, n: usize, what: &str) -> Result<Vec<bool>, DecodeError> {
    let bytes = r.bytes(n.div_ceil(8), what)?;
    Ok((0..n).map(|i| bytes.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1)).collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn sample() -> Vec<LoggedSeries> {
        vec![LoggedSeries {
            table: 3,
            series: "truck_7".into(),
            ts: vec![10, 5, i64::MIN + 1],
            columns: vec![
                LoggedColumn {
                    family: 1,
                    column: 0,
                    values: ColumnValues::F64(vec![1.5, f64::NAN, -0.0]),
                    validity: None,
                },
                LoggedColumn {
                    family: 1,
                    column: 2,
                    values: ColumnValues::I64(vec![1, 2, 3]),
                    validity: Some(vec![true, false, true]),
                },
                LoggedColumn {
                    family: 2,
                    column: 0,
                    values: ColumnValues::Bool(vec![true, false, true]),
                    validity: None,
                },
                LoggedColumn {
                    family: 2,
                    column: 1,
                    values: ColumnValues::String(vec!["a".into(), "".into(), "ü".into()]),
                    validity: None,
                },
            ],
        }]
    }

    fn stamp() -> Stamp {
        Stamp { producer: "gw-7:a".into(), seq: 42, active_ms: 1_700_000_000_000 }
    }

    #[test]
    fn round_trips_every_type() {
        let mut out = Vec::new();
        encode(&sample(), None, &mut out);
        assert_eq!(out[0], 1, "plain writes keep payload version 1");
        let back = decode(&out).unwrap();
        assert_eq!(back.stamp, None);
        let back = back.series;
        assert_eq!(back[0].ts, sample()[0].ts);
        assert_eq!(back[0].columns[1..], sample()[0].columns[1..]);
        let ColumnValues::F64(f) = &back[0].columns[0].values else { panic!("type") };
        assert!(f[1].is_nan() && f[2].to_bits() == (-0.0f64).to_bits());
    }

    #[test]
    fn a_stamp_round_trips_with_its_data() {
        let mut out = Vec::new();
        encode(&sample(), Some(&stamp()), &mut out);
        assert_eq!(out[0], 2);
        let back = decode(&out).unwrap();
        assert_eq!(back.stamp, Some(stamp()));
        assert_eq!(back.series[0].columns[1..], sample()[0].columns[1..]);
    }

    #[test]
    fn a_version_1_payload_of_an_earlier_build_still_decodes() {
        // Written by hand: version 1, one series of table 2 "s", one row at ts 7, one i64 column.
        let mut v1 = vec![1u8, 1, 2, 1, b's', 1];
        v1.extend(7i64.to_le_bytes());
        v1.extend([1, 1, 0, ColumnType::I64.tag(), 0]);
        v1.extend((-3i64).to_le_bytes());
        let back = decode(&v1).unwrap();
        assert_eq!(back.stamp, None);
        assert_eq!(back.series[0].ts, vec![7]);
        assert_eq!(back.series[0].columns[0].values, ColumnValues::I64(vec![-3]));
    }

    #[test]
    fn bad_stamps_are_errors() {
        for (producer, seq) in [("bad id", 1), ("ok", 0), ("", 1)] {
            let mut out = Vec::new();
            encode(&sample(), Some(&Stamp { producer: producer.into(), seq, active_ms: 0 }), &mut out);
            assert!(decode(&out).is_err(), "{producer:?} {seq}");
        }
        let mut out = vec![3u8];
        encode(&sample(), None, &mut out);
        assert!(decode(&out[1..]).is_ok() && decode(&out).is_err(), "version 3 is unknown");
    }

    #[test]
    fn every_truncation_is_an_error() {
        for stamp in [None, Some(stamp())] {
            let mut out = Vec::new();
            encode(&sample(), stamp.as_ref(), &mut out);
            for cut in 0..out.len() {
                assert!(decode(&out[..cut]).is_err(), "cut at {cut}");
            }
        }
    }

    proptest! {
        #[test]
        fn garbage_never_panics(bytes: Vec<u8>) {
            let _ = decode(&bytes);
        }

        #[test]
        fn flipped_bytes_never_panic(pos: usize, bit in 0u8..8) {
            let mut out = Vec::new();
            encode(&sample(), Some(&stamp()), &mut out);
            let i = pos % out.len();
            out[i] ^= 1 << bit;
            let _ = decode(&out);
        }
    }
}
