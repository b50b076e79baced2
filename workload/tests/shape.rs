//! Determinism and shape of the generated stream.

use std::collections::BTreeMap;

use isobar_storage::{ColumnType, ColumnValues, WriteBatch};
use isobar_workload::{Generator, Kind, Spec, T0_NS};

fn rows_by_series(batches: &[WriteBatch]) -> BTreeMap<String, (Vec<i64>, Vec<ColumnValues>)> {
    let mut out: BTreeMap<String, (Vec<i64>, Vec<ColumnValues>)> = BTreeMap::new();
    for s in batches.iter().flat_map(|b| &b.series) {
        let e = out.entry(s.series.clone()).or_insert_with(|| (Vec::new(), Vec::new()));
        e.0.extend_from_slice(&s.ts);
        if e.1.is_empty() {
            e.1 = s.columns.iter().map(|c| c.values.clone()).collect();
            continue;
        }
        for (acc, c) in e.1.iter_mut().zip(&s.columns) {
            match (acc, &c.values) {
                (ColumnValues::F64(a), ColumnValues::F64(b)) => a.extend_from_slice(b),
                (ColumnValues::I64(a), ColumnValues::I64(b)) => a.extend_from_slice(b),
                (a, b) => panic!("column type changed: {a:?} vs {b:?}"),
            }
        }
    }
    out
}

#[test]
fn same_spec_gives_identical_batches_and_another_seed_differs() {
    for spec in [Spec::iot().series(7).timestamps(25), Spec::weather().series(7).timestamps(25)] {
        let a: Vec<_> = Generator::new(spec.clone()).series_per_batch(3).ts_per_batch(4).collect();
        let b: Vec<_> = Generator::new(spec.clone()).series_per_batch(3).ts_per_batch(4).collect();
        assert_eq!(a, b);
        let c: Vec<_> = Generator::new(spec.seed(1)).series_per_batch(3).ts_per_batch(4).collect();
        assert_eq!(a.len(), c.len());
        assert_ne!(a, c);
    }
}

#[test]
fn batching_does_not_change_values_and_matches_series_history() {
    let spec = Spec::weather().series(5).timestamps(40);
    let a = rows_by_series(&Generator::new(spec.clone()).collect::<Vec<_>>());
    let b = rows_by_series(&Generator::new(spec.clone()).ts_per_batch(3).series_per_batch(2).collect::<Vec<_>>());
    assert_eq!(a, b);
    for i in 0..spec.series {
        let h = spec.series_history(i);
        let (ts, cols) = &a[&spec.series_name(i)];
        assert_eq!(&h.ts, ts);
        assert_eq!(&h.columns.iter().map(|c| c.values.clone()).collect::<Vec<_>>(), cols);
    }
}

#[test]
fn iot_and_weather_have_the_promised_shape() {
    for (spec, interval_ns, table) in [
        (Spec::iot().scale(0.005).timestamps(53), 10_000_000_000, "iot"),
        (Spec::weather().scale(0.01).timestamps(53), 60_000_000_000, "weather"),
    ] {
        assert_eq!(spec.series, 5);
        let batches: Vec<_> = Generator::new(spec.clone()).collect();
        assert_eq!(batches.len(), 6, "ceil(53 / 10) windows of all series");
        let points: usize = batches.iter().map(|b| b.points()).sum();
        assert_eq!(points as u64, spec.points());
        assert_eq!(spec.rows(), 5 * 53);
        let rows = rows_by_series(&batches);
        let names: Vec<String> = (0..5).map(|i| spec.series_name(i)).collect();
        assert_eq!(rows.keys().cloned().collect::<std::collections::BTreeSet<_>>(), names.iter().cloned().collect());
        for (ts, cols) in rows.values() {
            let want: Vec<i64> = (0..53).map(|t| T0_NS + t * interval_ns).collect();
            assert_eq!(ts, &want, "timestamps in order, every interval");
            assert!(cols.iter().all(|c| c.len() == 53));
        }
        for s in batches.iter().flat_map(|b| &b.series) {
            assert_eq!(s.table, table);
            let got: Vec<_> =
                s.columns.iter().map(|c| (c.family.as_str(), c.column.as_str(), c.values.column_type())).collect();
            let want: Vec<_> = spec.columns().iter().map(|c| (c.family, c.name, c.ty)).collect();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn table_specs_list_the_families_and_types() {
    let iot = Spec::iot().table_spec();
    assert_eq!(iot.name, "iot");
    let fams: Vec<(&str, Vec<(&str, ColumnType)>)> = iot
        .families
        .iter()
        .map(|f| (f.name.as_str(), f.columns.iter().map(|c| (c.name.as_str(), c.ty)).collect()))
        .collect();
    let f = ColumnType::F64;
    assert_eq!(
        fams,
        vec![
            (
                "readings",
                vec![
                    ("latitude", f),
                    ("longitude", f),
                    ("elevation", f),
                    ("velocity", f),
                    ("heading", f),
                    ("grade", f),
                    ("fuel_consumption", f)
                ]
            ),
            ("diagnostics", vec![("load", f), ("fuel_state", f), ("status", ColumnType::I64)]),
        ]
    );
    let w = Spec::weather().table_spec();
    assert_eq!(w.families.len(), 1);
    let names: Vec<_> = w.families[0].columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["temperature", "humidity", "pressure", "wind_speed", "wind_dir", "precipitation"]);
    assert!(w.families[0].columns.iter().all(|c| c.ty == f));
}

#[test]
fn full_sizes_scale_and_kind_names() {
    assert_eq!(Spec::iot().points(), 43_200_000);
    assert_eq!(Spec::weather().points(), 8_640_000);
    assert_eq!(Spec::iot().scale(0.0001).series, 2);
    assert_eq!(Spec::weather().scale(0.5).series, 250);
    assert_eq!(Spec::iot().interval_ns, 10_000_000_000);
    assert_eq!("iot".parse::<Kind>(), Ok(Kind::Iot));
    assert_eq!("Weather".parse::<Kind>(), Ok(Kind::Weather));
    assert_eq!("tsbs".parse::<Kind>().map_err(|e| e.got), Err("tsbs".to_string()));
    assert_eq!(Kind::Weather.to_string(), "weather");
    assert_eq!(Generator::new(Spec::iot().series(0)).count(), 0);
}

/// FNV-1a over every series key, timestamp and value bit of the stream.
fn fingerprint(spec: &Spec) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for s in Generator::new(spec.clone()).flat_map(|b| b.series) {
        s.series.bytes().for_each(|b| eat(u64::from(b)));
        s.ts.iter().for_each(|t| eat(*t as u64));
        for c in &s.columns {
            match &c.values {
                ColumnValues::F64(v) => v.iter().for_each(|x| eat(x.to_bits())),
                ColumnValues::I64(v) => v.iter().for_each(|x| eat(*x as u64)),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    h
}

/// Pins the streams: a change here means every machine and every earlier benchmark figure saw
/// different data. Update only on purpose, and say so in the commit.
#[test]
fn streams_are_pinned_across_machines_and_versions() {
    assert_eq!(fingerprint(&Spec::iot().series(4).timestamps(500)), 5673123111311005008);
    assert_eq!(fingerprint(&Spec::weather().series(4).timestamps(1500)), 14953383729841102735);
}
