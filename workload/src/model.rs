//! The value models of the two workloads, one [`SeriesState`] per series, after
//! `/work/shared/workloads/gen.py`.
//!
//! Every walk starts uniform in a start range, adds a normal step per sample (none at sample 0),
//! is mirrored into `[lo, hi]` (the unbounded sum is kept, as `numpy.cumsum` then `reflect` does)
//! and rounded half-to-even to its decimals. Each series owns its own random stream, so a series'
//! values do not depend on how many other series are generated or how batches are cut.

use isobar_storage::ColumnType;

use crate::Kind;
use crate::rng::{Rng, cos_turns};

/// One generated column: where it lives and its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Family name.
    pub family: &'static str,
    /// Column name.
    pub name: &'static str,
    /// Value type.
    pub ty: ColumnType,
}

const fn f64_col(family: &'static str, name: &'static str) -> Column {
    Column { family, name, ty: ColumnType::F64 }
}

/// IoT columns, in generation order.
pub(crate) const IOT_COLUMNS: [Column; 10] = [
    f64_col("readings", "latitude"),
    f64_col("readings", "longitude"),
    f64_col("readings", "elevation"),
    f64_col("readings", "velocity"),
    f64_col("readings", "heading"),
    f64_col("readings", "grade"),
    f64_col("readings", "fuel_consumption"),
    f64_col("diagnostics", "load"),
    f64_col("diagnostics", "fuel_state"),
    Column { family: "diagnostics", name: "status", ty: ColumnType::I64 },
];

/// Weather columns, in generation order.
pub(crate) const WEATHER_COLUMNS: [Column; 6] = [
    f64_col("weather", "temperature"),
    f64_col("weather", "humidity"),
    f64_col("weather", "pressure"),
    f64_col("weather", "wind_speed"),
    f64_col("weather", "wind_dir"),
    f64_col("weather", "precipitation"),
];

/// Parameters of a bounded random walk: start range, step sd, bounds, decimals.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalkParams(pub f64, pub f64, pub f64, pub f64, pub f64, pub u32);

/// gen.py's walks for the nine IoT float columns, in [`IOT_COLUMNS`] order.
pub(crate) const IOT_WALKS: [WalkParams; 9] = [
    WalkParams(25.0, 49.0, 0.002, -90.0, 90.0, 3),
    WalkParams(-124.0, -67.0, 0.002, -180.0, 180.0, 3),
    WalkParams(0.0, 2000.0, 2.0, 0.0, 5000.0, 1),
    WalkParams(0.0, 100.0, 3.0, 0.0, 100.0, 1),
    WalkParams(0.0, 360.0, 5.0, 0.0, 360.0, 1),
    WalkParams(0.0, 10.0, 0.5, 0.0, 100.0, 1),
    WalkParams(5.0, 40.0, 0.3, 0.0, 50.0, 2),
    WalkParams(0.0, 5000.0, 10.0, 0.0, 5000.0, 1),
    WalkParams(0.2, 1.0, 0.002, 0.0, 1.0, 2),
];

/// gen.py's weather walks: temperature noise, humidity noise, pressure, wind, direction, rain.
const WEATHER_WALKS: [WalkParams; 6] = [
    WalkParams(-1.0, 1.0, 0.05, -8.0, 8.0, 3),
    WalkParams(-5.0, 5.0, 0.3, -30.0, 30.0, 3),
    WalkParams(990.0, 1030.0, 0.05, 950.0, 1050.0, 3),
    WalkParams(0.0, 8.0, 0.2, -25.0, 25.0, 3),
    WalkParams(0.0, 360.0, 3.0, 0.0, 360.0, 3),
    WalkParams(-1.0, 0.2, 0.05, -3.0, 1.5, 3),
];

/// Probability per sample that the IoT status is re-drawn (it may re-draw the same value).
pub const STATUS_SWITCH_P: f64 = 0.005;
/// Number of distinct status values (`0..STATUS_VALUES`).
pub const STATUS_VALUES: u64 = 5;

/// Rounds half-to-even to `decimals`, like `numpy.round`: the result is the f64 nearest to the
/// decimal `n / 10^decimals`, because both `n` and `10^decimals` are exact and `/` rounds once.
/// More than 19 decimals return `x` unchanged.
pub fn round_to(x: f64, decimals: u32) -> f64 {
    let Some(p) = 10u64.checked_pow(decimals).map(|p| p as f64) else {
        return x;
    };
    (x * p).round_ties_even() / p
}

/// gen.py's `reflect`: folds `x` into `[lo, hi]` by mirroring at the bounds.
pub fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    if x >= lo && x <= hi {
        return x; // the common case, and exact (gen.py's `(x - lo) + lo` may move it one ulp)
    }
    let w = hi - lo;
    let y = (x - lo).rem_euclid(2.0 * w);
    (if y > w { 2.0 * w - y } else { y }) + lo
}

/// One bounded random walk's state: the unbounded running sum.
#[derive(Clone, Debug)]
struct Walk {
    p: WalkParams,
    sum: f64,
}

impl Walk {
    fn start(p: WalkParams, rng: &mut Rng) -> Self {
        Self { p, sum: rng.uniform(p.0, p.1) }
    }

    /// The value at sample `t` (a step is added for every `t > 0`).
    fn next(&mut self, t: u64, rng: &mut Rng) -> f64 {
        if t > 0 {
            self.sum += self.p.2 * rng.normal();
        }
        round_to(reflect(self.sum, self.p.3, self.p.4), self.p.5)
    }
}

/// The generator state of one series: its random stream and its walks.
#[derive(Clone, Debug)]
pub(crate) struct SeriesState {
    kind: Kind,
    rng: Rng,
    walks: Vec<Walk>,
    /// IoT: current status.
    status: u64,
    /// Weather: base temperature and diurnal amplitude.
    base_t: f64,
    amp_t: f64,
    /// Samples produced so far.
    t: u64,
}

impl SeriesState {
    /// The state of series `index` before its first sample.
    pub(crate) fn new(kind: Kind, seed: u64, index: usize) -> Self {
        let mut rng = Rng::new(seed, index as u64);
        let (mut status, mut base_t, mut amp_t) = (0, 0.0, 0.0);
        let walks = match kind {
            Kind::Iot => {
                let walks = IOT_WALKS.iter().map(|p| Walk::start(*p, &mut rng)).collect();
                status = rng.below(STATUS_VALUES);
                walks
            }
            Kind::Weather => {
                base_t = rng.uniform(-5.0, 30.0);
                amp_t = rng.uniform(3.0, 10.0);
                WEATHER_WALKS.iter().map(|p| Walk::start(*p, &mut rng)).collect()
            }
        };
        Self { kind, rng, walks, status, base_t, amp_t, t: 0 }
    }

    /// Writes the next sample's values into `out` (one per column, integers as exact f64s);
    /// `day_turns` is the time of day in `[0, 1)` (0 = midnight UTC).
    pub(crate) fn next_row(&mut self, day_turns: f64, out: &mut Vec<f64>) {
        out.clear();
        let t = self.t;
        self.t += 1;
        match self.kind {
            Kind::Iot => {
                for walk in &mut self.walks {
                    out.push(walk.next(t, &mut self.rng));
                }
                if t > 0 && self.rng.unit() < STATUS_SWITCH_P {
                    self.status = self.rng.below(STATUS_VALUES);
                }
                out.push(self.status as f64);
            }
            Kind::Weather => {
                let mut w = [0.0; 6];
                for (slot, walk) in w.iter_mut().zip(&mut self.walks) {
                    *slot = walk.next(t, &mut self.rng);
                }
                let [temp_noise, hum_noise, pressure, wind, wind_dir, rain_walk] = w;
                // sin(2 pi d - pi / 2) = -cos(2 pi d): coldest at midnight, warmest at noon.
                let temp = self.base_t - self.amp_t * cos_turns(day_turns) + temp_noise;
                let hum = (70.0 - 1.5 * (temp - self.base_t) + hum_noise).clamp(5.0, 100.0);
                let rain = if rain_walk > 0.8 { self.rng.exponential(0.3) } else { 0.0 };
                for v in [temp, hum, pressure, wind.abs(), wind_dir, rain] {
                    out.push(round_to(v, 1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_mirrors_at_both_bounds_like_gen_py() {
        assert_eq!(reflect(95.0, -90.0, 90.0), 85.0);
        assert_eq!(reflect(-100.0, -90.0, 90.0), -80.0);
        assert_eq!(reflect(-100.0, 0.0, 360.0), 100.0);
        assert_eq!(reflect(725.0, 0.0, 360.0), 5.0);
        assert_eq!(reflect(12.5, 0.0, 360.0), 12.5);
    }

    #[test]
    fn round_to_is_numpy_round() {
        // As numpy (not Python's round): 2.675 * 100 rounds to the tie 267.5, which goes to even.
        assert_eq!(round_to(2.675, 2), 2.68);
        assert_eq!(round_to(0.125, 2), 0.12); // exact tie: to even
        assert_eq!(round_to(0.375, 2), 0.38);
        assert_eq!(round_to(-1.25, 1), -1.2);
        assert_eq!(round_to(1013.04999, 1), 1013.0);
        assert_eq!(round_to(0.1 + 0.2, 1), 0.3);
        assert_eq!(round_to(1.5, 40), 1.5);
    }
}
