//! Printing answers: Arrow record batches as an aligned table (for people), CSV with a header,
//! or JSON Lines (one object per row). Every client command prints through here, so `--format`
//! means the same everywhere; listings that are not Arrow answers are turned into a batch first
//! ([`listing`]).

use std::io::Write;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::args::OutputFormat;

/// Prints batches of one answer in `format`; call [`Printer::batch`] per batch as they arrive.
pub struct Printer<W: Write> {
    out: W,
    format: OutputFormat,
    header_done: bool,
    rows: u64,
    zone: Option<jiff::tz::TimeZone>,
}

impl<W: Write> Printer<W> {
    /// A printer writing to `out`.
    pub fn new(out: W, format: OutputFormat) -> Self {
        Self { out, format, header_done: false, rows: 0, zone: None }
    }

    /// Prints times in `zone` (with its offset at each instant) instead of UTC.
    pub fn in_zone(mut self, zone: Option<jiff::tz::TimeZone>) -> Self {
        self.zone = zone;
        self
    }

    /// Prints one batch.
    pub fn batch(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        let shown = match &self.zone {
            Some(zone) => times_in_zone(batch, zone)?,
            None => utc_as_offset(batch)?,
        };
        let batch = &shown;
        self.rows += batch.num_rows() as u64;
        match self.format {
            OutputFormat::Table => {
                if batch.num_rows() > 0 {
                    writeln!(self.out, "{}", arrow_cast::pretty::pretty_format_batches(std::slice::from_ref(batch))?)?;
                }
            }
            OutputFormat::Csv => {
                if !self.header_done {
                    self.header(&batch.schema())?;
                }
                write_csv(&mut self.out, batch)?;
            }
            OutputFormat::Json => write_json(&mut self.out, batch)?,
        }
        Ok(())
    }

    /// Ends the answer: a CSV header even without rows, and a row count for tables.
    pub fn finish(mut self, schema: &SchemaRef) -> Result<u64, ArrowError> {
        match self.format {
            OutputFormat::Csv if !self.header_done => self.header(schema)?,
            OutputFormat::Table if self.rows == 0 => writeln!(self.out, "(no rows)")?,
            _ => {}
        }
        self.out.flush()?;
        Ok(self.rows)
    }

    fn header(&mut self, schema: &Schema) -> Result<(), ArrowError> {
        let names: Vec<String> = schema.fields().iter().map(|f| csv_field(f.name())).collect();
        writeln!(self.out, "{}", names.join(","))?;
        self.header_done = true;
        Ok(())
    }
}

/// Prints every batch of an answer to standard output.
pub fn print_all(format: OutputFormat, schema: &SchemaRef, batches: &[RecordBatch]) -> Result<(), ArrowError> {
    let mut printer = Printer::new(std::io::stdout().lock(), format);
    for b in batches {
        printer.batch(b)?;
    }
    printer.finish(schema)?;
    Ok(())
}

/// A value of a listing (table list, describe, stats).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count or size.
    Count(u64),
    /// A signed number, or nothing.
    Int(Option<i64>),
}

/// A listing as a record batch: `columns` names, `rows` of cells of the same kind per column.
pub fn listing(columns: &[&str], rows: &[Vec<Cell>]) -> Result<RecordBatch, ArrowError> {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    let mut fields = Vec::with_capacity(columns.len());
    for (i, name) in columns.iter().enumerate() {
        let cells: Vec<&Cell> = rows.iter().filter_map(|r| r.get(i)).collect();
        let array: ArrayRef = match cells.first() {
            Some(Cell::Count(_)) => Arc::new(
                cells.iter().map(|c| if let Cell::Count(n) = c { Some(*n) } else { None }).collect::<UInt64Array>(),
            ),
            Some(Cell::Int(_)) => {
                Arc::new(cells.iter().map(|c| if let Cell::Int(n) = c { *n } else { None }).collect::<Int64Array>())
            }
            _ => Arc::new(
                cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<StringArray>(),
            ),
        };
        fields.push(Field::new(*name, array.data_type().clone(), true));
        arrays.push(array);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// `batch` with every timestamp column replaced by its times as text in `zone`, RFC 3339 with
/// the offset in force at each instant (`2024-03-31T03:00:00+02:00`), so a DST change shows.
fn times_in_zone(batch: &RecordBatch, zone: &jiff::tz::TimeZone) -> Result<RecordBatch, ArrowError> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampNanosecondType;
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if !matches!(field.data_type(), DataType::Timestamp(_, _)) {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let nanos = arrow_cast::cast(column, &DataType::Timestamp(arrow_schema::TimeUnit::Nanosecond, None))?;
        let text: StringArray = nanos
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .map(|ns| {
                let ts = jiff::Timestamp::from_nanosecond(i128::from(ns?)).ok()?;
                Some(ts.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%.f%:z").to_string())
            })
            .collect();
        fields.push(Field::new(field.name(), DataType::Utf8, field.is_nullable()));
        columns.push(Arc::new(text));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// `batch` with `Timestamp(_, "UTC")` columns relabelled `"+00:00"` (the same instants): Arrow's
/// formatter resolves named zones only with the `chrono-tz` database, offsets without it.
fn utc_as_offset(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let is_utc = |t: &DataType| matches!(t, DataType::Timestamp(_, Some(tz)) if tz.as_ref() == "UTC");
    if !batch.schema().fields().iter().any(|f| is_utc(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match field.data_type() {
            DataType::Timestamp(unit, Some(_)) if is_utc(field.data_type()) => {
                let to = DataType::Timestamp(*unit, Some("+00:00".into()));
                let data = column.to_data().into_builder().data_type(to.clone()).build()?;
                columns.push(arrow_array::make_array(data));
                fields.push(field.as_ref().clone().with_data_type(to));
            }
            _ => {
                columns.push(column.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

fn options() -> FormatOptions<'static> {
    FormatOptions::default().with_null("")
}

/// `s` quoted for CSV when needed.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn write_csv(out: &mut impl Write, batch: &RecordBatch) -> Result<(), ArrowError> {
    let opts = options();
    let formatters =
        batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts)).collect::<Result<Vec<_>, _>>()?;
    for row in 0..batch.num_rows() {
        let fields: Vec<String> = formatters.iter().map(|f| csv_field(&f.value(row).to_string())).collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

fn write_json(out: &mut impl Write, batch: &RecordBatch) -> Result<(), ArrowError> {
    let opts = options();
    let schema = batch.schema();
    let formatters =
        batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts)).collect::<Result<Vec<_>, _>>()?;
    for row in 0..batch.num_rows() {
        let mut object = serde_json::Map::with_capacity(batch.num_columns());
        for (i, column) in batch.columns().iter().enumerate() {
            let value = json_value(column.as_ref(), row, || formatters[i].value(row).to_string());
            object.insert(schema.field(i).name().clone(), value);
        }
        writeln!(out, "{}", serde_json::Value::Object(object))?;
    }
    Ok(())
}

/// Numbers and booleans as JSON numbers and booleans, nulls as null, the rest as display text.
fn json_value(array: &dyn Array, row: usize, text: impl Fn() -> String) -> serde_json::Value {
    use serde_json::Value;
    if array.is_null(row) {
        return Value::Null;
    }
    let any = array.as_any();
    match array.data_type() {
        DataType::Float64 => any
            .downcast_ref::<Float64Array>()
            .and_then(|a| serde_json::Number::from_f64(a.value(row)))
            .map_or(Value::Null, Value::Number),
        DataType::Int64 => {
            any.downcast_ref::<Int64Array>().map_or_else(|| Value::String(text()), |a| a.value(row).into())
        }
        DataType::UInt64 => {
            any.downcast_ref::<UInt64Array>().map_or_else(|| Value::String(text()), |a| a.value(row).into())
        }
        DataType::Boolean => {
            any.downcast_ref::<BooleanArray>().map_or_else(|| Value::String(text()), |a| a.value(row).into())
        }
        _ => Value::String(text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordBatch {
        listing(
            &["name", "files", "ttl"],
            &[
                vec![Cell::Text("a,b".into()), Cell::Count(3), Cell::Int(None)],
                vec![Cell::Text("c".into()), Cell::Count(0), Cell::Int(Some(-5))],
            ],
        )
        .expect("batch")
    }

    fn render(format: OutputFormat) -> String {
        let batch = sample();
        let mut out = Vec::new();
        let mut p = Printer::new(&mut out, format);
        p.batch(&batch).expect("prints");
        p.finish(&batch.schema()).expect("ends");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn csv_quotes_and_leaves_nulls_empty() {
        assert_eq!(render(OutputFormat::Csv), "name,files,ttl\n\"a,b\",3,\nc,0,-5\n");
    }

    #[test]
    fn json_lines_keep_types() {
        assert_eq!(
            render(OutputFormat::Json),
            "{\"files\":3,\"name\":\"a,b\",\"ttl\":null}\n{\"files\":0,\"name\":\"c\",\"ttl\":-5}\n"
        );
    }

    #[test]
    fn utc_timestamps_print_with_an_offset() {
        let ts = arrow_array::TimestampNanosecondArray::from(vec![1_714_521_600_000_000_000]).with_timezone("UTC");
        let schema = Schema::new(vec![Field::new("ts", ts.data_type().clone(), false)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(ts)]).expect("batch");
        let mut out = Vec::new();
        let mut p = Printer::new(&mut out, OutputFormat::Csv);
        p.batch(&batch).expect("prints");
        assert_eq!(String::from_utf8(out).expect("utf8"), "ts\n2024-05-01T00:00:00Z\n");
    }

    #[test]
    fn table_is_aligned() {
        let text = render(OutputFormat::Table);
        assert!(text.contains("| name | files | ttl |"), "{text}");
        assert!(text.contains("| a,b  | 3     |     |"), "{text}");
    }
}
