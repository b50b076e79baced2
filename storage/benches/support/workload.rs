//! Deterministic IoT and weather columns shaped like `/work/shared/workloads/gen.py`, cut into
//! SSTable-like pages: consecutive rows of several series, each series time-sorted.
//!
//! Shared by the `encoding` bench and the `encoding_sizes` example (included with `#[path]`).

#![allow(dead_code)]

/// Rows per page, as the SSTable writer cuts them.
pub const PAGE_ROWS: usize = 8192;
/// 2024-01-01T00:00:00Z in nanoseconds.
pub const T0_NS: i64 = 1_704_067_200_000_000_000;

/// splitmix64 with Box-Muller normals: small, deterministic, good enough for workloads.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal.
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// Mirrors `x` into [lo, hi] like gen.py's `reflect`.
fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    let w = hi - lo;
    let y = (x - lo).rem_euclid(2.0 * w);
    (if y > w { 2.0 * w - y } else { y }) + lo
}

/// Rounds like numpy's `round(x, decimals)`.
fn round_to(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (x * p).round_ties_even() / p
}

/// Parameters of one bounded random walk: start range, step sd, bounds, decimals.
#[derive(Clone, Copy)]
pub struct Walk {
    pub start: (f64, f64),
    pub sd: f64,
    pub bounds: (f64, f64),
    pub decimals: i32,
}

const fn w(start: (f64, f64), sd: f64, bounds: (f64, f64), decimals: i32) -> Walk {
    Walk { start, sd, bounds, decimals }
}

impl Walk {
    /// `len` steps of this walk for one series (unrounded).
    fn raw(&self, rng: &mut Rng, len: usize) -> Vec<f64> {
        let mut x = rng.uniform(self.start.0, self.start.1);
        (0..len)
            .map(|i| {
                if i > 0 {
                    x += rng.normal() * self.sd;
                }
                reflect(x, self.bounds.0, self.bounds.1)
            })
            .collect()
    }

    /// `len` rounded steps of this walk for one series.
    pub fn series(&self, rng: &mut Rng, len: usize) -> Vec<f64> {
        self.raw(rng, len).into_iter().map(|x| round_to(x, self.decimals)).collect()
    }
}

/// The IoT float columns (name, walk), as in gen.py.
pub const IOT_FLOATS: [(&str, Walk); 9] = [
    ("latitude", w((25.0, 49.0), 0.002, (-90.0, 90.0), 3)),
    ("longitude", w((-124.0, -67.0), 0.002, (-180.0, 180.0), 3)),
    ("elevation", w((0.0, 2000.0), 2.0, (0.0, 5000.0), 1)),
    ("velocity", w((0.0, 100.0), 3.0, (0.0, 100.0), 1)),
    ("heading", w((0.0, 360.0), 5.0, (0.0, 360.0), 1)),
    ("grade", w((0.0, 10.0), 0.5, (0.0, 100.0), 1)),
    ("fuel_consumption", w((5.0, 40.0), 0.3, (0.0, 50.0), 2)),
    ("load", w((0.0, 5000.0), 10.0, (0.0, 5000.0), 1)),
    ("fuel_state", w((0.2, 1.0), 0.002, (0.0, 1.0), 2)),
];

/// The weather columns, in gen.py's order.
pub const WEATHER: [&str; 6] = ["temperature", "humidity", "pressure", "wind_speed", "wind_dir", "precipitation"];

/// Enough series of `series_len` rows, concatenated, to fill `rows` rows.
fn concat<T>(rows: usize, series_len: usize, mut one: impl FnMut(usize) -> Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(rows + series_len);
    while out.len() < rows {
        out.extend(one(series_len));
    }
    out.truncate(rows);
    out
}

/// An IoT float column: `rows` rows of series of `series_len` rows each.
pub fn iot_float(walk: &Walk, seed: u64, rows: usize, series_len: usize) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    concat(rows, series_len, |len| walk.series(&mut rng, len))
}

/// The IoT status column: a small int in 0..5 that switches with probability 0.005 per row.
pub fn iot_status(seed: u64, rows: usize, series_len: usize) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    concat(rows, series_len, |len| {
        let mut s = (rng.next_u64() % 5) as i64;
        (0..len)
            .map(|_| {
                if rng.unit() < 0.005 {
                    s = (rng.next_u64() % 5) as i64;
                }
                s
            })
            .collect()
    })
}

/// Timestamps in ns: each series starts at `T0_NS` and steps by `interval_s`.
pub fn timestamps(rows: usize, series_len: usize, interval_s: i64) -> Vec<i64> {
    concat(rows, series_len, |len| (0..len as i64).map(|i| T0_NS + i * interval_s * 1_000_000_000).collect())
}

/// The six weather columns (one minute apart), rounded to 0.1 like gen.py.
pub fn weather(seed: u64, rows: usize, series_len: usize) -> Vec<Vec<f64>> {
    let mut rng = Rng::new(seed);
    let mut cols: Vec<Vec<f64>> = (0..6).map(|_| Vec::with_capacity(rows + series_len)).collect();
    while cols[0].len() < rows {
        let len = series_len;
        let base = rng.uniform(-5.0, 30.0);
        let amp = rng.uniform(3.0, 10.0);
        let noise = w((-1.0, 1.0), 0.05, (-8.0, 8.0), 3).series(&mut rng, len);
        let temp: Vec<f64> = (0..len)
            .map(|i| {
                let day = std::f64::consts::TAU * (i as f64 / 1440.0);
                base + amp * (day - std::f64::consts::FRAC_PI_2).sin() + noise[i]
            })
            .collect();
        let hum_walk = w((-5.0, 5.0), 0.3, (-30.0, 30.0), 3).series(&mut rng, len);
        let hum: Vec<f64> = (0..len).map(|i| (70.0 - 1.5 * (temp[i] - base) + hum_walk[i]).clamp(5.0, 100.0)).collect();
        let pres = w((990.0, 1030.0), 0.05, (950.0, 1050.0), 3).series(&mut rng, len);
        let wind: Vec<f64> =
            w((0.0, 8.0), 0.2, (-25.0, 25.0), 3).series(&mut rng, len).iter().map(|x| x.abs()).collect();
        let wdir = w((0.0, 360.0), 3.0, (0.0, 360.0), 3).series(&mut rng, len);
        let rain = w((-1.0, 0.2), 0.05, (-3.0, 1.5), 3).series(&mut rng, len);
        let precip: Vec<f64> =
            rain.iter().map(|&r| if r > 0.8 { -0.3 * (1.0 - rng.unit()).ln() } else { 0.0 }).collect();
        for (c, v) in cols.iter_mut().zip([temp, hum, pres, wind, wdir, precip]) {
            c.extend(v.into_iter().map(|x| round_to(x, 1)));
        }
    }
    cols.iter_mut().for_each(|c| c.truncate(rows));
    cols
}
