//! One Parquet part file: writer properties, a temporary name while writing, and the rename
//! that publishes it.
//!
//! Encodings: `series` dictionary-encoded (a handful of distinct keys per row group); `ts`
//! `DELTA_BINARY_PACKED` without dictionary (sorted, regular timestamps pack to a few bits);
//! floats `BYTE_STREAM_SPLIT` without dictionary (measurements rarely repeat exactly; splitting
//! the bytes lets zstd find the slowly changing exponent and high mantissa bytes); integers keep
//! a dictionary (status codes repeat) and fall back to `DELTA_BINARY_PACKED`; everything is
//! compressed with zstd level 3. Row groups hold at most `row_group_rows` rows.
//!
//! A part is written as `.part-N.parquet.tmp` (hidden from readers' `*.parquet` globs), synced,
//! renamed to `part-N.parquet`, and its directory synced: a reader never sees half a file.
//! The temporary file is created exclusively (`create_new`, which never follows a symbolic link
//! at its name), and every byte goes through the export's [`Quota`].

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use serde::{Deserialize, Serialize};

use super::quota::{Quota, QuotaFile};
use crate::error::{Error, Result};

/// A finished Parquet file of an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Its path.
    pub path: PathBuf,
    /// The partition's value: `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (empty without partitions).
    pub partition: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// Writer properties for an export of `schema`.
pub(crate) fn properties(schema: &Schema, row_group_rows: usize) -> Result<WriterProperties> {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .set_created_by(format!("isobar {}", env!("CARGO_PKG_VERSION")));
    for field in schema.fields() {
        let path = ColumnPath::new(vec![field.name().clone()]);
        b = match field.data_type() {
            DataType::Timestamp(..) => b
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED),
            DataType::Float64 => b
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::BYTE_STREAM_SPLIT),
            DataType::Int64 => b.set_column_encoding(path, Encoding::DELTA_BINARY_PACKED),
            _ => b.set_column_dictionary_enabled(path, true),
        };
    }
    Ok(b.build())
}

/// A part file being written.
pub(crate) struct PartWriter {
    tmp: PathBuf,
    path: PathBuf,
    partition: String,
    writer: ArrowWriter<QuotaFile>,
    /// Rows written so far.
    pub rows: u64,
}

impl PartWriter {
    /// Starts `dir/part-{n}.parquet` (as a temporary file) of the partition `partition`, its
    /// bytes charged to `quota`.
    pub(crate) fn create(
        dir: &Path,
        partition: String,
        n: u32,
        schema: SchemaRef,
        props: WriterProperties,
        quota: Arc<Quota>,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
        let tmp = dir.join(format!(".part-{n}.parquet.tmp"));
        let path = dir.join(format!("part-{n}.parquet"));
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(Error::io("create", &tmp))?;
        let writer = ArrowWriter::try_new(QuotaFile::new(file, quota), schema, Some(props))?;
        Ok(Self { tmp, path, partition, writer, rows: 0 })
    }

    /// Appends rows.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Bytes buffered for the row group in progress.
    pub(crate) fn buffered(&self) -> usize {
        self.writer.in_progress_size()
    }

    /// The file's size so far: bytes written plus the encoder's estimate of the row group in
    /// progress (its pages not yet compressed count at their encoded size, so the finished file
    /// is at most about this large).
    pub(crate) fn size(&self) -> u64 {
        (self.writer.bytes_written() as u64).saturating_add(self.writer.in_progress_size() as u64)
    }

    /// Ends the row group in progress (bounds memory when many partitions are open).
    pub(crate) fn flush(&mut self) -> Result<()> {
        Ok(self.writer.flush()?)
    }

    /// Writes the footer, syncs, and publishes the file under its final name.
    pub(crate) fn finish(self) -> Result<ExportedFile> {
        let file = self.writer.into_inner()?.into_file();
        file.sync_all().map_err(Error::io("sync", &self.tmp))?;
        let bytes = file.metadata().map_err(Error::io("stat", &self.tmp))?.len();
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(Error::io("rename", &self.tmp))?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io("sync directory", dir))?;
        }
        Ok(ExportedFile { path: self.path, partition: self.partition, rows: self.rows, bytes })
    }
}
