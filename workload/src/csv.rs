//! The CSV rendering of a workload, in the format `isobar write` imports.

use std::io::{self, BufWriter, Write};

use isobar_storage::ColumnType;

use crate::Spec;
use crate::generator::day_turns;
use crate::model::SeriesState;

/// Writes the whole workload of `spec` as CSV to `out`, time-major (all series of the first
/// timestamp, then of the next, ...), and returns the number of data rows written.
///
/// This is the CLI's CSV import format (`isobar write --csv`):
///
/// - The header is `series,ts,` followed by one field per column written `<family>.<column>:<type>`
///   with `<type>` one of `f64`, `i64`, `bool`, `string`; for iot:
///   `series,ts,readings.latitude:f64,...,readings.fuel_consumption:f64,diagnostics.load:f64,
///   diagnostics.fuel_state:f64,diagnostics.status:i64`.
/// - Each data row is the series key, the timestamp as integer nanoseconds since the Unix epoch
///   (UTC), then the values in header order. An empty field is a null (absent cell); this
///   generator never writes one.
/// - Floats use Rust's shortest round-trip form (`37.5`, `1013`, `-0.002`), so parsing a field
///   gives back exactly the generated f64. Fields are never quoted: series keys are plain
///   identifiers and values are numbers.
/// - Lines end with `\n`.
pub fn write_csv(spec: &Spec, out: impl Write) -> io::Result<u64> {
    let mut out = BufWriter::new(out);
    write!(out, "series,ts")?;
    for c in spec.columns() {
        write!(out, ",{}.{}:{}", c.family, c.name, c.ty)?;
    }
    writeln!(out)?;
    let mut states: Vec<SeriesState> = (0..spec.series).map(|i| SeriesState::new(spec.kind, spec.seed, i)).collect();
    let mut row = Vec::with_capacity(spec.columns().len());
    for t in 0..spec.timestamps {
        let (ts, turns) = (spec.ts_at(t), day_turns(spec, t));
        for (i, state) in states.iter_mut().enumerate() {
            state.next_row(turns, &mut row);
            write!(out, "{},{ts}", spec.series_name(i))?;
            for (c, v) in spec.columns().iter().zip(&row) {
                match c.ty {
                    ColumnType::I64 => write!(out, ",{}", *v as i64)?,
                    _ => write!(out, ",{v}")?,
                }
            }
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(spec.rows())
}
