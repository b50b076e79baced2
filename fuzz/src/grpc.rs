//! gRPC write target: [`grpc_write`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use isobar_ingest::convert::request_to_batch;
use isobar_proto::v1::WriteRequest;
use isobar_storage::{ColumnValues, Limits, TableDef};
use isobar_storage::{build_table, validate_batch};
use prost::Message;

use crate::seeds;

/// Row limit passed to `request_to_batch` (small, so that limits are reached).
pub const MAX_ROWS: usize = 10_000;

/// Target: `data` is the body of a `Write` call. Decodes it as a `WriteRequest`, converts it to
/// a write batch and validates that against the catalog of [`seeds::catalog_specs`]. A batch
/// that validates must have, in every series, one value (and one validity flag, if any) per
/// timestamp, and as many rows in total as the request.
pub fn grpc_write(data: &[u8]) {
    let Ok(request) = WriteRequest::decode(data) else { return };
    let Ok(batch) = request_to_batch(request, MAX_ROWS) else { return };
    let rows: usize = batch.series.iter().map(|s| s.ts.len()).sum();
    let Ok(validated) = validate_batch(catalog(), batch, &Limits::default()) else { return };
    assert_eq!(validated.rows, rows, "validated rows");
    assert_eq!(validated.series.iter().map(|s| s.ts.len()).sum::<usize>(), rows, "validated series rows");
    for s in &validated.series {
        for c in &s.columns {
            assert_eq!(c.values.len(), s.ts.len(), "column {}/{} of {:?}: values", c.family, c.column, s.series);
            if let Some(v) = &c.validity {
                assert_eq!(v.len(), s.ts.len(), "column {}/{} of {:?}: validity", c.family, c.column, s.series);
            }
            let present = c.validity.as_ref().map_or(c.values.len(), |v| v.iter().filter(|x| **x).count());
            assert!(present <= c.values.len(), "more valid rows than values");
            if let ColumnValues::String(v) = &c.values {
                let valid = |i: usize| c.validity.as_ref().is_none_or(|f| f.get(i) == Some(&true));
                let longest = v.iter().enumerate().filter(|(i, _)| valid(*i)).map(|(_, s)| s.len()).max().unwrap_or(0);
                assert!(longest <= Limits::default().max_string_len, "a string over the limit validated");
            }
        }
    }
}

/// The fixed catalog, by table name, built with `catalog::build_table`.
fn catalog() -> &'static BTreeMap<String, TableDef> {
    static CATALOG: OnceLock<BTreeMap<String, TableDef>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut by_id = BTreeMap::new();
        let mut next_family = 1;
        for (i, spec) in seeds::catalog_specs().iter().enumerate() {
            let def = match build_table(spec, i as u32 + 1, next_family, &by_id) {
                Ok(def) => def,
                Err(e) => panic!("fuzz harness: the fixed catalog does not build: {e}"),
            };
            next_family += def.families.len() as u32;
            by_id.insert(def.id, def);
        }
        by_id.into_values().map(|t| (t.name.clone(), t)).collect()
    })
}
