//! The meta block: the file's schema and file-level facts, and [`SstInfo`], its in-memory form.
//!
//! Payload of the meta block (before framing; not compressed, it is small):
//!
//! ```text
//! family         varint
//! created_ms     varint    creation time, milliseconds since the Unix epoch
//! rows           varint
//! series         varint
//! pages          varint
//! min_ts         i64 LE    (i64::MAX in a file without rows)
//! max_ts         i64 LE    (i64::MIN in a file without rows)
//! min_seq        u64 LE    (u64::MAX in a file without rows)
//! max_seq        u64 LE    (0 in a file without rows)
//! columns        varint
//! per column (ascending id):
//!   id           varint
//!   type tag     u8        ColumnType::tag
//!   name         varint length + UTF-8 (at most 128 bytes)
//! ```

use serde::{Deserialize, Serialize};

use super::error::Corruption;
use super::format::FORMAT_VERSION;
use crate::codec::{ByteReader, put_str, put_varint};
use crate::schema::{ColumnId, ColumnType, FamilyId};

/// Longest column name stored.
const MAX_NAME: usize = 128;

/// A column of an SSTable's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSchema {
    /// Column id within the family.
    pub id: ColumnId,
    /// Column name (for inspection and export; reads go by id).
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

/// What the manifest and the planner need to know about an SSTable without opening it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SstInfo {
    /// The column family the file belongs to.
    pub family: FamilyId,
    /// File size in bytes.
    pub size: u64,
    /// Number of rows.
    pub rows: u64,
    /// Number of series.
    pub series: u64,
    /// Number of pages.
    pub pages: u64,
    /// Smallest timestamp (`i64::MAX` when the file has no rows).
    pub min_ts: i64,
    /// Largest timestamp (`i64::MIN` when the file has no rows).
    pub max_ts: i64,
    /// Smallest sequence number (`u64::MAX` when the file has no rows).
    pub min_seq: u64,
    /// Largest sequence number (0 when the file has no rows).
    pub max_seq: u64,
    /// The file's columns, in ascending id order.
    pub columns: Vec<ColumnSchema>,
    /// Creation time in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// Format version of the file.
    pub format_version: u16,
}

impl SstInfo {
    /// The meta block payload (everything but `size` and `format_version`, which the footer and
    /// the file length give).
    pub fn encode_meta(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.columns.len() * 16);
        for v in [u64::from(self.family), self.created_ms, self.rows, self.series, self.pages] {
            put_varint(&mut out, v);
        }
        out.extend_from_slice(&self.min_ts.to_le_bytes());
        out.extend_from_slice(&self.max_ts.to_le_bytes());
        out.extend_from_slice(&self.min_seq.to_le_bytes());
        out.extend_from_slice(&self.max_seq.to_le_bytes());
        put_varint(&mut out, self.columns.len() as u64);
        for c in &self.columns {
            put_varint(&mut out, u64::from(c.id));
            out.push(c.ty.tag());
            put_str(&mut out, &c.name);
        }
        out
    }

    /// Decodes a meta block payload of a file of `size` bytes.
    pub fn decode_meta(payload: &[u8], size: u64) -> Result<SstInfo, Corruption> {
        let mut r = ByteReader::new(payload);
        let family = r.varint("family")?;
        let family =
            FamilyId::try_from(family).map_err(|_| Corruption::Invalid { what: "family id", value: family })?;
        let created_ms = r.varint("created_ms")?;
        let rows = r.varint("rows")?;
        let series = r.varint("series")?;
        let pages = r.varint("pages")?;
        let (min_ts, max_ts) = (r.i64("min ts")?, r.i64("max ts")?);
        let (min_seq, max_seq) = (r.u64("min seq")?, r.u64("max seq")?);
        let ncols = r.len(r.remaining() / 3, "column count")?;
        let mut columns: Vec<ColumnSchema> = Vec::with_capacity(ncols);
        for _ in 0..ncols {
            let id = r.varint("column id")?;
            let id = ColumnId::try_from(id).map_err(|_| Corruption::Invalid { what: "column id", value: id })?;
            if columns.last().is_some_and(|c| c.id >= id) {
                return Err(Corruption::Invalid { what: "column ids not ascending at id", value: id.into() });
            }
            let tag = r.u8("column type")?;
            let ty =
                ColumnType::from_tag(tag).ok_or(Corruption::Invalid { what: "column type tag", value: tag.into() })?;
            let name = r.str(MAX_NAME, "column name")?.to_string();
            columns.push(ColumnSchema { id, name, ty });
        }
        if !r.is_empty() {
            return Err(r.error("trailing bytes after the meta block").into());
        }
        Ok(SstInfo {
            family,
            size,
            rows,
            series,
            pages,
            min_ts,
            max_ts,
            min_seq,
            max_seq,
            columns,
            created_ms,
            format_version: FORMAT_VERSION,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let info = SstInfo {
            family: 3,
            size: 1000,
            rows: 10,
            series: 2,
            pages: 1,
            min_ts: -5,
            max_ts: 99,
            min_seq: 1,
            max_seq: 7,
            columns: vec![
                ColumnSchema { id: 0, name: "temp".into(), ty: ColumnType::F64 },
                ColumnSchema { id: 4, name: "ok".into(), ty: ColumnType::Bool },
            ],
            created_ms: 1_700_000_000_000,
            format_version: FORMAT_VERSION,
        };
        assert_eq!(SstInfo::decode_meta(&info.encode_meta(), 1000).unwrap(), info);
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<SstInfo>(&json).unwrap(), info);
    }
}
