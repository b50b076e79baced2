//! # isobar-workload
//!
//! Deterministic generators for Isobar's two benchmark workloads, following the distributions of
//! the reference generator `/work/shared/workloads/gen.py` (not numpy's random stream):
//!
//! - **iot**: 1,000 trucks (`truck_0`..) x 4,320 timestamps every 10 s from 2024-01-01T00:00:00Z
//!   = 43.2 M points. Table `iot`: family `readings` (latitude, longitude, elevation, velocity,
//!   heading, grade, fuel_consumption) and `diagnostics` (load, fuel_state, status: i64).
//! - **weather**: 500 stations (`station_0`..) x 2,880 timestamps every 60 s = 8.64 M points.
//!   Table `weather`, family `weather` (temperature, humidity, pressure, wind_speed, wind_dir,
//!   precipitation), all rounded to 0.1.
//!
//! Same [`Spec`] => identical batches on every machine: the PRNG (xoshiro256**) and the math it
//! needs (`ln`, `cos`) are implemented here with IEEE basic operations only. Values are rounded so
//! that each is exactly the f64 nearest to its decimal (see [`round_to`]).
//!
//! ```
//! use isobar_workload::{Generator, Spec};
//!
//! let spec = Spec::iot().scale(0.01).timestamps(30); // 10 trucks x 30 samples
//! let points: usize = Generator::new(spec.clone()).map(|b| b.points()).sum();
//! assert_eq!(points as u64, spec.points());
//! ```
#![deny(clippy::unwrap_used)]

mod csv;
mod generator;
mod model;
mod rng;

use std::fmt;
use std::str::FromStr;

use isobar_storage::{SeriesWrite, TableSpec};

pub use csv::write_csv;
pub use generator::{Disorder, Generator};
pub use model::{Column, STATUS_SWITCH_P, STATUS_VALUES, reflect, round_to};

/// 2024-01-01T00:00:00Z in nanoseconds since the Unix epoch: both workloads start here.
pub const T0_NS: i64 = 1_704_067_200_000_000_000;

/// `T0_NS` plus `hours` (0 to 743, within January 2024) as an RFC 3339 literal, for the SQL
/// text of benchmarks and tests.
///
/// ```
/// assert_eq!(isobar_workload::t0_plus_hours(0), "2024-01-01T00:00:00Z");
/// assert_eq!(isobar_workload::t0_plus_hours(29), "2024-01-02T05:00:00Z");
/// ```
pub fn t0_plus_hours(hours: i64) -> String {
    assert!((0..31 * 24).contains(&hours), "{hours} hours from T0 leaves January 2024");
    format!("2024-01-{:02}T{:02}:00:00Z", 1 + hours / 24, hours % 24)
}

/// Which workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Truck telematics: 10 columns in families `readings` and `diagnostics`.
    Iot,
    /// Weather stations: 6 columns in family `weather`.
    Weather,
}

/// A workload name that is neither `iot` nor `weather`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workload {got:?}: expected \"iot\" or \"weather\"")]
pub struct UnknownKind {
    /// The name given.
    pub got: String,
}

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Parses `iot` or `weather` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "iot" => Ok(Kind::Iot),
            "weather" => Ok(Kind::Weather),
            _ => Err(UnknownKind { got: s.to_string() }),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.table_name())
    }
}

impl Kind {
    /// The table name, also the workload's name: `iot` or `weather`.
    pub fn table_name(self) -> &'static str {
        match self {
            Kind::Iot => "iot",
            Kind::Weather => "weather",
        }
    }

    /// The generated columns, in the order of the CSV header and of each `SeriesWrite`.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Iot => &model::IOT_COLUMNS,
            Kind::Weather => &model::WEATHER_COLUMNS,
        }
    }
}

/// What to generate. Build with [`Spec::iot`] / [`Spec::weather`] and adjust with the builder
/// methods; the fields are public for reading (and for callers that know what they do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Workload.
    pub kind: Kind,
    /// Number of series (`truck_0`.. or `station_0`..).
    pub series: usize,
    /// Samples per series.
    pub timestamps: usize,
    /// Seed; every series has its own stream derived from it.
    pub seed: u64,
    /// Timestamp of the first sample, nanoseconds since the epoch.
    pub start_ns: i64,
    /// Nanoseconds between samples.
    pub interval_ns: i64,
}

impl Spec {
    /// The full-size workload of `kind` (gen.py's sizes; seeds 7011 for iot, 7012 for weather).
    pub fn new(kind: Kind) -> Self {
        let (series, timestamps, seed, interval_s) = match kind {
            Kind::Iot => (1000, 4320, 7011, 10),
            Kind::Weather => (500, 2880, 7012, 60),
        };
        Self { kind, series, timestamps, seed, start_ns: T0_NS, interval_ns: interval_s * 1_000_000_000 }
    }

    /// 1,000 trucks x 4,320 samples every 10 s.
    pub fn iot() -> Self {
        Self::new(Kind::Iot)
    }

    /// 500 stations x 2,880 samples every 60 s.
    pub fn weather() -> Self {
        Self::new(Kind::Weather)
    }

    /// Sets the series count to `max(2, floor(full_count * factor))`, as gen.py's `--scale`.
    pub fn scale(mut self, factor: f64) -> Self {
        let full = Self::new(self.kind).series as f64;
        self.series = ((full * factor).floor() as usize).max(2);
        self
    }

    /// Sets the number of series.
    pub fn series(mut self, n: usize) -> Self {
        self.series = n;
        self
    }

    /// Sets the number of samples per series.
    pub fn timestamps(mut self, n: usize) -> Self {
        self.timestamps = n;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The generated columns (see [`Kind::columns`]).
    pub fn columns(&self) -> &'static [Column] {
        self.kind.columns()
    }

    /// The table to create before writing the batches.
    pub fn table_spec(&self) -> TableSpec {
        let mut spec = TableSpec::new(self.kind.table_name());
        for col in self.columns() {
            if spec.families.iter().all(|f| f.name != col.family) {
                let family = self.columns().iter().filter(|c| c.family == col.family);
                let cols: Vec<_> = family.map(|c| (c.name, c.ty)).collect();
                spec = spec.family(col.family, &cols);
            }
        }
        spec
    }

    /// Series key of series `index`: `truck_<index>` or `station_<index>`.
    pub fn series_name(&self, index: usize) -> String {
        match self.kind {
            Kind::Iot => format!("truck_{index}"),
            Kind::Weather => format!("station_{index}"),
        }
    }

    /// Timestamp of sample `t` in nanoseconds.
    pub fn ts_at(&self, t: usize) -> i64 {
        self.start_ns + t as i64 * self.interval_ns
    }

    /// Rows (series x timestamps).
    pub fn rows(&self) -> u64 {
        self.series as u64 * self.timestamps as u64
    }

    /// Points (rows x columns); every generated cell has a value.
    pub fn points(&self) -> u64 {
        self.rows() * self.columns().len() as u64
    }

    /// The whole history of series `index` as one write: exactly the rows a [`Generator`] of this
    /// spec produces for it, however it cuts batches.
    pub fn series_history(&self, index: usize) -> SeriesWrite {
        generator::series_history(self, index)
    }
}
