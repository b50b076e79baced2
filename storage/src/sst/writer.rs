//! [`SstWriter`]: streams runs into a new SSTable, one page at a time.
//!
//! The writer keeps at most one page of rows (plus the index, which is small) in memory: rows are
//! gathered into the current page until it holds `rows_per_page` rows, then the page's column
//! blocks are encoded (in parallel on the rayon pool, one task per column), framed and written,
//! and the page's chunk statistics computed. `finish` writes the index, filter, meta block and
//! footer and `fsync`s the file; making the file's name durable (directory `fsync`) and recording
//! it in the manifest are the caller's job. A writer dropped without `finish` leaves a file
//! without a footer, which [`SstReader::open`](super::SstReader::open) rejects; `abandon` deletes
//! it. Parallel encoding runs on the rayon pool the caller is in (`pool.install`), else the
//! global one.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use super::block::{BlockHandle, frame};
use super::error::Error;
use super::filter::{BITS_PER_KEY, FilterBuilder};
use super::format::{DEFAULT_ROWS_PER_PAGE, FORMAT_VERSION, Footer, MAX_ROWS_PER_PAGE};
use super::index::{ChunkMeta, Index, SeriesEntry};
use super::meta::{ColumnSchema, SstInfo};
use super::page::PageBuffer;
use crate::encoding::{IntKind, encode_array, encode_ints};
use crate::fs::{FileWriter, Fs};
use crate::run::Run;
use crate::schema::FamilyId;

/// Options of an [`SstWriter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SstWriterOptions {
    /// Rows per page, the unit of encoding, compression and caching (default 8192).
    pub rows_per_page: usize,
    /// zstd level passed to the encodings and used for the index (default 3).
    pub zstd_level: i32,
    /// Encode the columns of a page in parallel on the rayon pool (default true).
    pub parallel_encode: bool,
}

impl Default for SstWriterOptions {
    fn default() -> Self {
        Self { rows_per_page: DEFAULT_ROWS_PER_PAGE, zstd_level: 3, parallel_encode: true }
    }
}

/// Writes one SSTable of one column family from runs given in `(series, ts)` order.
#[derive(Debug)]
pub struct SstWriter {
    path: PathBuf,
    fs: Fs,
    out: BufWriter<FileWriter>,
    offset: u64,
    family: FamilyId,
    columns: Vec<ColumnSchema>,
    opts: SstWriterOptions,
    page: PageBuffer,
    /// Index of the first chunk of the current page in `index.chunks`.
    page_first_chunk: usize,
    index: Index,
    filter: FilterBuilder,
    last: Option<(Arc<str>, i64)>,
    seq_bounds: (u64, u64),
}

impl SstWriter {
    /// Creates (truncating) the file at `path` for `family` with the schema `columns` (any order;
    /// ids must be distinct).
    pub fn create(
        path: &Path,
        family: FamilyId,
        columns: Vec<ColumnSchema>,
        opts: SstWriterOptions,
    ) -> Result<SstWriter, Error> {
        Self::create_in(Fs::os(), path, family, columns, opts)
    }

    /// [`SstWriter::create`] writing through `fs`.
    pub fn create_in(
        fs: Fs,
        path: &Path,
        family: FamilyId,
        mut columns: Vec<ColumnSchema>,
        opts: SstWriterOptions,
    ) -> Result<SstWriter, Error> {
        if opts.rows_per_page == 0 || opts.rows_per_page > MAX_ROWS_PER_PAGE {
            return Err(Error::BadPageSize {
                file: path.to_path_buf(),
                rows_per_page: opts.rows_per_page,
                max: MAX_ROWS_PER_PAGE,
            });
        }
        columns.sort_by_key(|c| c.id);
        if let Some((a, _)) = columns.iter().zip(columns.iter().skip(1)).find(|(a, b)| a.id == b.id) {
            return Err(Error::DuplicateColumn { file: path.to_path_buf(), column: a.id });
        }
        let file = fs.create(path).map_err(|e| Error::io(path, e))?;
        Ok(SstWriter {
            path: path.to_path_buf(),
            fs,
            out: BufWriter::with_capacity(1 << 20, FileWriter(file)),
            offset: 0,
            family,
            page: PageBuffer::new(&columns),
            columns,
            opts,
            page_first_chunk: 0,
            index: Index::default(),
            filter: FilterBuilder::default(),
            last: None,
            seq_bounds: (u64::MAX, 0),
        })
    }

    /// Bytes written to the file so far (data blocks; the index and footer come at `finish`).
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the rows of `run`. Runs come in ascending series order; a series may continue in
    /// the next append with later timestamps. Empty runs are ignored.
    pub fn append(&mut self, run: &Run) -> Result<(), Error> {
        let Some((first_ts, last_ts)) = run.time_bounds() else {
            return Ok(());
        };
        self.check_run(run)?;
        match &self.last {
            Some((series, ts)) if (series.as_ref(), *ts) >= (run.series.as_ref(), first_ts) => {
                return Err(Error::OutOfOrder {
                    file: self.path.clone(),
                    series: run.series.to_string(),
                    ts: first_ts,
                    previous_series: series.to_string(),
                    previous_ts: *ts,
                });
            }
            Some((series, _)) if *series == run.series => {}
            _ => {
                let n = self.index.chunks.len();
                self.index.series.push(SeriesEntry {
                    key: run.series.clone(),
                    chunks: n..n,
                    rows: 0,
                    min_ts: first_ts,
                    max_ts: first_ts,
                });
                self.filter.add(&run.series);
            }
        }
        self.last = Some((run.series.clone(), last_ts));
        let mut done = 0;
        while done < run.len() {
            let take = (self.opts.rows_per_page - self.page.len()).min(run.len() - done);
            self.add_to_page(&run.slice(done, take))?;
            done += take;
            if self.page.len() == self.opts.rows_per_page {
                self.flush_page()?;
            }
        }
        // Do not keep the caller's (possibly large) buffers alive through slices of them.
        self.page.own_borrowed(run.len());
        Ok(())
    }

    fn check_run(&self, run: &Run) -> Result<(), Error> {
        let series = || run.series.to_string();
        run.check_invariants().map_err(|problem| Error::InvalidRun {
            file: self.path.clone(),
            series: series(),
            problem,
        })?;
        for (id, array) in &run.columns {
            let Some(col) = self.columns.iter().find(|c| c.id == *id) else {
                return Err(Error::UnknownColumn { file: self.path.clone(), series: series(), column: *id });
            };
            if *array.data_type() != col.ty.arrow_type() {
                return Err(Error::TypeMismatch {
                    file: self.path.clone(),
                    series: series(),
                    column: *id,
                    expected: col.ty,
                    got: array.data_type().clone(),
                });
            }
        }
        Ok(())
    }

    /// Adds rows of the current series that fit in the current page.
    fn add_to_page(&mut self, part: &Run) -> Result<(), Error> {
        let page_no = self.index.page_rows.len() as u32;
        let first_row = self.page.len() as u32;
        let rows = part.len() as u32;
        let series = self.index.series.last_mut().ok_or_else(|| Error::InvalidRun {
            file: self.path.clone(),
            series: part.series.to_string(),
            problem: "no series entry".into(),
        })?;
        // Extend the series' chunk if it is the last one of this page, else start a new chunk.
        match self.index.chunks.last_mut() {
            Some(c) if !series.chunks.is_empty() && c.page == page_no => c.rows += rows,
            _ => {
                self.index.chunks.push(ChunkMeta {
                    page: page_no,
                    first_row,
                    rows,
                    min_ts: 0,
                    max_ts: 0,
                    min_seq: 0,
                    max_seq: 0,
                    columns: Vec::new(),
                });
                series.chunks.end = self.index.chunks.len();
            }
        }
        if let Some((lo, hi)) = part.time_bounds() {
            series.min_ts = series.min_ts.min(lo);
            series.max_ts = hi;
        }
        series.rows += u64::from(rows);
        self.page.push(part, &self.columns);
        Ok(())
    }

    /// Encodes and writes the current page, and fills in its chunks' statistics.
    fn flush_page(&mut self) -> Result<(), Error> {
        if self.page.len() == 0 {
            return Ok(());
        }
        let page = self.page.take().map_err(|(i, source)| Error::Encode {
            file: self.path.clone(),
            column: self.columns.get(i).map_or(0, |c| c.id),
            source,
        })?;
        let chunks = self.index.chunks.get_mut(self.page_first_chunk..).unwrap_or_default();
        for chunk in chunks.iter_mut() {
            page.fill_stats(chunk);
            self.seq_bounds = (self.seq_bounds.0.min(chunk.min_seq), self.seq_bounds.1.max(chunk.max_seq));
        }
        self.page_first_chunk = self.index.chunks.len();
        let level = self.opts.zstd_level;
        let encode = |slot: usize| -> Result<Vec<u8>, Error> {
            let mut payload = Vec::new();
            match slot {
                0 => encode_ints(&page.ts, IntKind::Timestamp, &mut payload, level),
                1 => encode_ints(&page.seq, IntKind::Sequence, &mut payload, level),
                n => {
                    #[expect(
                        clippy::indexing_slicing,
                        reason = "slots 2.. are the schema columns (slots = columns.len() + 2), and a page holds one array per schema column"
                    )]
                    let (col, array) = (&self.columns[n - 2], &page.columns[n - 2]);
                    encode_array(array.as_ref(), &mut payload, level).map_err(|source| Error::Encode {
                        file: self.path.clone(),
                        column: col.id,
                        source,
                    })?;
                }
            }
            let mut framed = Vec::with_capacity(payload.len() + 4);
            frame(&payload, &mut framed);
            Ok(framed)
        };
        let slots = self.columns.len() + 2;
        let blocks: Vec<Vec<u8>> = if self.opts.parallel_encode {
            (0..slots).into_par_iter().map(encode).collect::<Result<_, _>>()?
        } else {
            (0..slots).map(encode).collect::<Result<_, _>>()?
        };
        for b in &blocks {
            self.index.blocks.push(BlockHandle { offset: self.offset, len: b.len() as u64 });
            self.write(b)?;
        }
        self.index.page_rows.push(page.ts.len() as u32);
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<BlockHandle, Error> {
        self.out.write_all(bytes).map_err(|e| Error::io(&self.path, e))?;
        let handle = BlockHandle { offset: self.offset, len: bytes.len() as u64 };
        self.offset += bytes.len() as u64;
        Ok(handle)
    }

    fn write_framed(&mut self, payload: &[u8]) -> Result<BlockHandle, Error> {
        let mut framed = Vec::with_capacity(payload.len() + 4);
        frame(payload, &mut framed);
        self.write(&framed)
    }

    /// Writes the last page, the index, filter, meta block and footer, and `fsync`s the file.
    pub fn finish(mut self) -> Result<SstInfo, Error> {
        self.flush_page()?;
        let slots = self.columns.len() + 2;
        let index = self.write_framed(&self.index.encode(slots, self.opts.zstd_level))?;
        let filter = self.write_framed(&self.filter.build(BITS_PER_KEY))?;
        let created_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let mut info = SstInfo {
            family: self.family,
            size: 0,
            rows: self.index.page_rows.iter().map(|r| u64::from(*r)).sum(),
            series: self.index.series.len() as u64,
            pages: self.index.page_rows.len() as u64,
            min_ts: self.index.series.iter().map(|s| s.min_ts).min().unwrap_or(i64::MAX),
            max_ts: self.index.series.iter().map(|s| s.max_ts).max().unwrap_or(i64::MIN),
            min_seq: self.seq_bounds.0,
            max_seq: self.seq_bounds.1,
            columns: self.columns.clone(),
            created_ms,
            format_version: FORMAT_VERSION,
        };
        let meta = self.write_framed(&info.encode_meta())?;
        let footer = Footer { index, filter, meta, version: FORMAT_VERSION };
        self.write(&footer.encode())?;
        info.size = self.offset;
        let mut file = self.out.into_inner().map_err(|e| Error::io(&self.path, e.into_error()))?;
        file.0.sync_all().map_err(|e| Error::io(&self.path, e))?;
        Ok(info)
    }

    /// Gives up: closes and deletes the unfinished file.
    pub fn abandon(self) -> Result<(), Error> {
        let path = self.path.clone();
        let fs = self.fs.clone();
        drop(self);
        fs.remove_file(&path).map_err(|e| Error::io(&path, e))
    }
}
