//! The generated values follow gen.py's distributions.

use isobar_storage::{ColumnValues, SeriesWrite};
use isobar_workload::{STATUS_SWITCH_P, STATUS_VALUES, Spec};

fn col(s: &SeriesWrite, name: &str) -> Vec<f64> {
    let c = s.columns.iter().find(|c| c.column == name).expect("column exists");
    match &c.values {
        ColumnValues::F64(v) => v.clone(),
        ColumnValues::I64(v) => v.iter().map(|x| *x as f64).collect(),
        other => panic!("unexpected values {other:?}"),
    }
}

/// `x` has at most `d` decimals: x * 10^d is an integer and dividing it back gives `x` exactly.
fn has_decimals(x: f64, d: u32) -> bool {
    let p = 10f64.powi(d as i32);
    let n = (x * p).round();
    (x * p - n).abs() < 1e-9 && n / p == x
}

/// (column, lo, hi, step sd, decimals) after gen.py.
const IOT: [(&str, f64, f64, f64, u32); 9] = [
    ("latitude", -90.0, 90.0, 0.002, 3),
    ("longitude", -180.0, 180.0, 0.002, 3),
    ("elevation", 0.0, 5000.0, 2.0, 1),
    ("velocity", 0.0, 100.0, 3.0, 1),
    ("heading", 0.0, 360.0, 5.0, 1),
    ("grade", 0.0, 100.0, 0.5, 1),
    ("fuel_consumption", 0.0, 50.0, 0.3, 2),
    ("load", 0.0, 5000.0, 10.0, 1),
    ("fuel_state", 0.0, 1.0, 0.002, 2),
];

#[test]
fn iot_walks_are_bounded_rounded_and_step_like_gen_py() {
    let spec = Spec::iot().series(40);
    let hist: Vec<SeriesWrite> = (0..spec.series).map(|i| spec.series_history(i)).collect();
    for (name, lo, hi, sd, d) in IOT {
        let mut sq = 0.0;
        let mut n = 0usize;
        for h in &hist {
            let v = col(h, name);
            assert!(v.iter().all(|x| *x >= lo && *x <= hi), "{name} out of [{lo}, {hi}]");
            assert!(v.iter().all(|x| has_decimals(*x, d)), "{name} not rounded to {d} decimals");
            // Step sd away from the bounds, where mirroring shortens steps.
            for w in v.windows(2) {
                if w.iter().all(|x| *x > lo + 4.0 * sd && *x < hi - 4.0 * sd) {
                    sq += (w[1] - w[0]).powi(2);
                    n += 1;
                }
            }
        }
        // Rounding to a grid q adds variance q^2 / 6 to a difference of two rounded values.
        let q = 10f64.powi(-(d as i32));
        if q > sd / 2.0 {
            continue; // fuel_state: 0.01 grid hides a 0.002 step
        }
        let want = (sd * sd + q * q / 6.0).sqrt();
        let got = (sq / n as f64).sqrt();
        assert!(n > 50_000, "{name}: only {n} steps away from bounds");
        assert!((got / want - 1.0).abs() < 0.1, "{name}: step sd {got}, want {want}");
    }
}

#[test]
fn iot_status_is_small_and_switches_rarely() {
    let spec = Spec::iot().series(60);
    let (mut changes, mut steps) = (0usize, 0usize);
    for i in 0..spec.series {
        let st = col(&spec.series_history(i), "status");
        assert!(st.iter().all(|x| *x >= 0.0 && *x < STATUS_VALUES as f64 && x.fract() == 0.0));
        changes += st.windows(2).filter(|w| w[0] != w[1]).count();
        steps += st.len() - 1;
    }
    // A switch re-draws uniformly, so 1 in 5 switches keeps the value: 0.005 * 4/5 = 0.4% change.
    let want = STATUS_SWITCH_P * (STATUS_VALUES - 1) as f64 / STATUS_VALUES as f64;
    let got = changes as f64 / steps as f64;
    assert!((got / want - 1.0).abs() < 0.15, "status change rate {got}, want {want}");
}

#[test]
fn weather_is_bounded_rounded_mostly_dry_and_diurnal() {
    let spec = Spec::weather().series(30);
    let (mut dry, mut wet, mut total) = (0usize, 0usize, 0usize);
    let (mut noon, mut midnight, mut at14, mut at02) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..spec.series {
        let h = spec.series_history(i);
        for (name, lo, hi) in [
            ("temperature", -60.0, 60.0),
            ("humidity", 5.0, 100.0),
            ("pressure", 950.0, 1050.0),
            ("wind_speed", 0.0, 25.0),
            ("wind_dir", 0.0, 360.0),
            ("precipitation", 0.0, 20.0),
        ] {
            let v = col(&h, name);
            assert!(v.iter().all(|x| *x >= lo && *x <= hi), "{name} out of [{lo}, {hi}]");
            assert!(v.iter().all(|x| has_decimals(*x, 1)), "{name} not rounded to 0.1");
        }
        let p = col(&h, "precipitation");
        dry += p.iter().filter(|x| **x == 0.0).count();
        wet += p.iter().filter(|x| **x > 0.0).count();
        total += p.len();
        let temp = col(&h, "temperature");
        // One sample a minute from midnight UTC; average each hour of both days.
        let hour = |hr: usize| {
            (0..2).flat_map(|d| (0..60).map(move |m| (d * 24 + hr) * 60 + m)).map(|i| temp[i]).sum::<f64>() / 120.0
        };
        noon += hour(12);
        midnight += hour(0);
        at14 += hour(14);
        at02 += hour(2);
    }
    assert!(dry as f64 > 0.7 * total as f64, "only {dry} of {total} dry");
    assert!(wet > 0, "it never rains");
    let n = spec.series as f64;
    // Amplitudes are uniform in [3, 10]: noon - midnight averages 2 * 6.5 = 13 degrees.
    assert!((noon - midnight) / n > 9.0, "noon {noon} midnight {midnight}");
    assert!((at14 - at02) / n > 7.0, "14:00 {at14} 02:00 {at02}");
}
