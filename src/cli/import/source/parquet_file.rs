//! Parquet records: the schema's column names are the header, each row is a record, read batch
//! by batch with the `parquet` crate's Arrow reader (only the columns the import uses), so
//! memory stays bounded by a row group's columns whatever the file's size.
//!
//! Values become the same text a CSV file would hold: integers and booleans as such, floats in
//! their shortest exact form, strings as they are, timestamps (any unit, with or without a zone:
//! the value is an instant) as RFC 3339 in UTC, and dates, times, decimals and dictionary strings
//! as Arrow writes them as text. A null is an empty field. Lists, structs and maps are refused
//! when a used column holds them. Rows are numbered from 1 in errors.

use std::fmt::Write as _;
use std::fs::File;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, StringArray, UInt64Array};
use arrow_schema::{DataType, TimeUnit};
use isobar_storage::ColumnType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::errors::ParquetError;

use super::{FieldKind, Header, Records};
use crate::cli::import::error::{ImportError, Place};

/// Rows decoded at a time.
const BATCH_ROWS: usize = 8192;

/// How a column's values are written as text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conv {
    /// 64-bit floats (and 16-bit, widened).
    F64,
    /// 32-bit floats, written in their own shortest form (0.1, not 0.10000000149011612).
    F32,
    /// Signed integers, widened.
    I64,
    /// Unsigned integers, widened.
    U64,
    /// Booleans.
    Bool,
    /// Timestamps of this many nanoseconds per unit.
    Instant(i128),
    /// Anything else that Arrow casts to text (strings, dictionaries, dates, times, decimals).
    Text,
}

impl Conv {
    /// How to write values of `ty`; `None` for types that do not import (nested ones).
    fn of(ty: &DataType) -> Option<Conv> {
        Some(match ty {
            DataType::Float64 | DataType::Float16 => Conv::F64,
            DataType::Float32 => Conv::F32,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Conv::I64,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Conv::U64,
            DataType::Boolean => Conv::Bool,
            DataType::Timestamp(unit, _) => Conv::Instant(match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            }),
            ty if ty.is_nested() => return None,
            ty if arrow_cast::can_cast_types(ty, &DataType::Utf8) => Conv::Text,
            _ => return None,
        })
    }

    /// What the column tells the header about its values.
    fn kind(ty: &DataType) -> FieldKind {
        match Conv::of(ty) {
            Some(Conv::F64 | Conv::F32) => FieldKind::Typed(ColumnType::F64),
            Some(Conv::I64 | Conv::U64) => FieldKind::Typed(ColumnType::I64),
            Some(Conv::Bool) => FieldKind::Typed(ColumnType::Bool),
            Some(Conv::Instant(_)) => FieldKind::Instant,
            Some(Conv::Text) if is_string(ty) => FieldKind::Typed(ColumnType::String),
            _ => FieldKind::Text,
        }
    }

    /// The type a column is cast to before its values are read.
    fn arrow_type(self) -> DataType {
        match self {
            Conv::F64 => DataType::Float64,
            Conv::F32 => DataType::Float32,
            Conv::I64 | Conv::Instant(_) => DataType::Int64,
            Conv::U64 => DataType::UInt64,
            Conv::Bool => DataType::Boolean,
            Conv::Text => DataType::Utf8,
        }
    }
}

/// Strings, or a dictionary of strings.
fn is_string(ty: &DataType) -> bool {
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_string(value),
        _ => false,
    }
}

/// One used column of the current batch, cast to the type its [`Conv`] reads.
enum Column {
    F64(Float64Array),
    F32(Float32Array),
    I64(Int64Array),
    U64(UInt64Array),
    Bool(BooleanArray),
    Instant(Int64Array, i128),
    Text(StringArray),
}

impl Column {
    /// `array` read as `conv` says; `None` if it is not of the type cast to.
    fn new(array: &ArrayRef, conv: Conv) -> Option<Column> {
        Some(match conv {
            Conv::F64 => Column::F64(array.as_primitive_opt::<Float64Type>()?.clone()),
            Conv::F32 => Column::F32(array.as_primitive_opt::<Float32Type>()?.clone()),
            Conv::I64 => Column::I64(array.as_primitive_opt::<Int64Type>()?.clone()),
            Conv::Instant(per_unit) => Column::Instant(array.as_primitive_opt::<Int64Type>()?.clone(), per_unit),
            Conv::U64 => Column::U64(array.as_primitive_opt::<UInt64Type>()?.clone()),
            Conv::Bool => Column::Bool(array.as_boolean_opt()?.clone()),
            Conv::Text => Column::Text(array.as_string_opt::<i32>()?.clone()),
        })
    }

    /// Writes the value at `i` to `out` (nothing for a null).
    fn write(&self, i: usize, out: &mut String) {
        let array: &dyn Array = match self {
            Column::F64(a) => a,
            Column::F32(a) => a,
            Column::I64(a) | Column::Instant(a, _) => a,
            Column::U64(a) => a,
            Column::Bool(a) => a,
            Column::Text(a) => a,
        };
        if i >= array.len() || array.is_null(i) {
            return;
        }
        let _ = match self {
            Column::F64(a) => write!(out, "{:?}", a.value(i)),
            Column::F32(a) => write!(out, "{:?}", a.value(i)),
            Column::I64(a) => write!(out, "{}", a.value(i)),
            Column::U64(a) => write!(out, "{}", a.value(i)),
            Column::Bool(a) => write!(out, "{}", a.value(i)),
            Column::Text(a) => {
                out.push_str(a.value(i));
                Ok(())
            }
            Column::Instant(a, per_unit) => {
                let n = a.value(i);
                match jiff::Timestamp::from_nanosecond(i128::from(n) * per_unit) {
                    Ok(ts) => write!(out, "{ts}"),
                    Err(_) => write!(out, "{n} x {per_unit} ns since 1970"),
                }
            }
        };
    }
}

/// The records of a Parquet file.
pub struct ParquetRecords {
    builder: Option<ParquetRecordBatchReaderBuilder<File>>,
    reader: Option<ParquetRecordBatchReader>,
    names: Vec<String>,
    types: Vec<DataType>,
    /// Used fields and how each is read.
    selected: Vec<(usize, Conv)>,
    /// The used columns of the current batch (as `selected`).
    columns: Vec<Column>,
    batch_rows: usize,
    /// Next row of the current batch.
    pos: usize,
    /// Rows returned so far.
    row: u64,
    texts: Vec<String>,
}

impl ParquetRecords {
    /// Reads the footer (schema and row groups) of `file`.
    pub fn new(file: File) -> Result<Self, ImportError> {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| ImportError::ParquetOpen { source })?;
        let schema = builder.schema().clone();
        let names = schema.fields().iter().map(|f| f.name().clone()).collect();
        let types = schema.fields().iter().map(|f| f.data_type().clone()).collect();
        Ok(Self {
            builder: Some(builder),
            reader: None,
            names,
            types,
            selected: Vec::new(),
            columns: Vec::new(),
            batch_rows: 0,
            pos: 0,
            row: 0,
            texts: Vec::new(),
        })
    }

    /// Refuses the used columns stored with a codec this build cannot decompress.
    fn check_codecs(&self, builder: &ParquetRecordBatchReaderBuilder<File>) -> Result<(), ImportError> {
        let schema = builder.parquet_schema();
        for group in builder.metadata().row_groups() {
            for (leaf, chunk) in group.columns().iter().enumerate() {
                let root = schema.get_column_root_idx(leaf);
                if !self.selected.iter().any(|(i, _)| *i == root) {
                    continue;
                }
                let codec = match chunk.compression() {
                    Compression::UNCOMPRESSED | Compression::ZSTD(_) | Compression::SNAPPY => continue,
                    Compression::GZIP(_) => "gzip",
                    Compression::LZO => "LZO",
                    Compression::BROTLI(_) => "Brotli",
                    Compression::LZ4 => "LZ4",
                    Compression::LZ4_RAW => "LZ4_RAW",
                };
                let column = self.names.get(root).cloned().unwrap_or_default();
                return Err(ImportError::ParquetCodec { column, codec: codec.to_owned() });
            }
        }
        Ok(())
    }

    /// Reads the next batch; `false` at the end.
    fn next_batch(&mut self) -> Result<bool, ImportError> {
        let Some(reader) = &mut self.reader else { return Ok(false) };
        let row = self.row + 1;
        let batch = match reader.next() {
            None => return Ok(false),
            Some(batch) => batch.map_err(|e| ImportError::ParquetRead { row, source: ParquetError::from(e) })?,
        };
        self.columns.clear();
        for (j, (field, conv)) in self.selected.iter().enumerate() {
            let column = self.names.get(*field).cloned().unwrap_or_default();
            let array = batch.columns().get(j).ok_or_else(|| ImportError::ParquetRead {
                row,
                source: ParquetError::General(format!("the batch has no column {column}")),
            })?;
            let cast = arrow_cast::cast(array, &conv.arrow_type()).map_err(|source| ImportError::ParquetCast {
                row,
                column: column.clone(),
                source,
            })?;
            let read = Column::new(&cast, *conv).ok_or_else(|| ImportError::ParquetRead {
                row,
                source: ParquetError::General(format!("column {column} was not cast to {}", conv.arrow_type())),
            })?;
            self.columns.push(read);
        }
        self.batch_rows = batch.num_rows();
        self.pos = 0;
        Ok(true)
    }
}

impl Records for ParquetRecords {
    fn header(&mut self) -> Result<Header, ImportError> {
        let kinds = self.types.iter().map(Conv::kind).collect();
        Ok(Header { names: self.names.clone(), at: Place::Schema, kinds })
    }

    fn select(&mut self, fields: &[usize]) -> Result<(), ImportError> {
        let mut fields = fields.to_vec();
        fields.sort_unstable();
        fields.dedup();
        self.selected.clear();
        for i in fields {
            let (Some(name), Some(ty)) = (self.names.get(i), self.types.get(i)) else { continue };
            let conv =
                Conv::of(ty).ok_or_else(|| ImportError::ParquetType { column: name.clone(), found: ty.clone() })?;
            self.selected.push((i, conv));
        }
        let Some(builder) = self.builder.take() else { return Ok(()) };
        self.check_codecs(&builder)?;
        let mask = ProjectionMask::roots(builder.parquet_schema(), self.selected.iter().map(|(i, _)| *i));
        let reader = builder
            .with_projection(mask)
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|source| ImportError::ParquetOpen { source })?;
        self.reader = Some(reader);
        self.texts = vec![String::new(); self.names.len()];
        Ok(())
    }

    fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<Place>, ImportError> {
        while self.pos >= self.batch_rows {
            if !self.next_batch()? {
                return Ok(None);
            }
        }
        for ((field, _), column) in self.selected.iter().zip(&self.columns) {
            if let Some(text) = self.texts.get_mut(*field) {
                text.clear();
                column.write(self.pos, text);
            }
        }
        record.clear();
        for text in &self.texts {
            record.push_field(text);
        }
        self.pos += 1;
        self.row += 1;
        Ok(Some(Place::Row(self.row)))
    }
}
