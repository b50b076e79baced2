//! The CSV rendering matches the CLI import format and the generated values.

use isobar_storage::ColumnValues;
use isobar_workload::{Spec, write_csv};

#[test]
fn csv_has_the_import_header_and_exact_values_time_major() {
    let spec = Spec::iot().series(3).timestamps(4);
    let mut out = Vec::new();
    assert_eq!(write_csv(&spec, &mut out).expect("write to a Vec"), 12);
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "series,ts,readings.latitude:f64,readings.longitude:f64,readings.elevation:f64,\
         readings.velocity:f64,readings.heading:f64,readings.grade:f64,\
         readings.fuel_consumption:f64,diagnostics.load:f64,diagnostics.fuel_state:f64,\
         diagnostics.status:i64"
    );
    assert_eq!(lines.len(), 13);
    let hist: Vec<_> = (0..3).map(|i| spec.series_history(i)).collect();
    for (row, line) in lines[1..].iter().enumerate() {
        let (t, s) = (row / 3, row % 3);
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 12);
        assert_eq!(f[0], format!("truck_{s}"));
        assert_eq!(f[1], (1_704_067_200_000_000_000i64 + t as i64 * 10_000_000_000).to_string());
        for (c, field) in hist[s].columns.iter().zip(&f[2..]) {
            match &c.values {
                ColumnValues::F64(v) => assert_eq!(field.parse::<f64>().expect("float"), v[t]),
                ColumnValues::I64(v) => assert_eq!(field.parse::<i64>().expect("int"), v[t]),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let mut w = Vec::new();
    write_csv(&Spec::weather().series(2).timestamps(1), &mut w).expect("write");
    assert!(
        String::from_utf8(w).expect("utf-8").starts_with("series,ts,weather.temperature:f64,weather.humidity:f64,")
    );
}
