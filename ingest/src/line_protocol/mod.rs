//! InfluxDB line protocol: the parser, the mapping to engine batches, and the write into a
//! [`Db`](isobar_storage::Db). The HTTP front end (`/write`, `/api/v2/write`) lives in the
//! server crate; this module has no network code.
//!
//! - [`parse`]: the allocation-light parser ([`Parser`], [`Line`], [`FieldValue`]).
//! - [`precision`]: timestamp units.
//! - [`map`]: lines -> one columnar [`WriteBatch`](isobar_storage::WriteBatch), grouped by series.
//! - [`apply`]: catalog checks, table creation, the atomic write.
//! - [`error`]: errors naming the line.
//!
//! ```
//! use isobar_ingest::line_protocol::{MapOptions, Precision, map_body};
//!
//! let body = "weather,station=KSEA temp_c=11.5,ok=t 1700000000\nweather,station=KSEA temp_c=11.7 1700000060\n";
//! let options = MapOptions {
//!     family: "fields".into(),
//!     precision: Precision::Seconds,
//!     now_ns: 0,
//!     limits: isobar_storage::Limits::default(),
//! };
//! let mapped = map_body(body, &options).unwrap();
//! let series = &mapped.batch.series[0];
//! assert_eq!((series.table.as_str(), series.series.as_str()), ("weather", "station=KSEA"));
//! assert_eq!(series.ts, vec![1_700_000_000_000_000_000, 1_700_000_060_000_000_000]);
//! assert_eq!(mapped.points, 3);
//! ```

pub mod apply;
pub mod error;
pub mod map;
pub mod parse;
pub mod precision;

pub use apply::{
    LineProtocolOptions, LineWrite, LineWriteError, apply, check_catalog, map_lines, prepare, write_lines,
};
pub use error::{LineError, LineErrorKind};
pub use map::{MapOptions, Mapped, map_body};
pub use parse::{FieldValue, Line, Parser};
pub use precision::Precision;

use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of line-protocol bodies handed to the parser since the process started.
static BYTES_PARSED: AtomicU64 = AtomicU64::new(0);

/// Bytes of line-protocol bodies this process has parsed ([`map_lines`], [`prepare`],
/// [`write_lines`]): how front ends show that a refused request cost no parsing.
pub fn bytes_parsed() -> u64 {
    BYTES_PARSED.load(Ordering::Relaxed)
}

fn count_parsed(bytes: usize) {
    BYTES_PARSED.fetch_add(bytes as u64, Ordering::Relaxed);
}
