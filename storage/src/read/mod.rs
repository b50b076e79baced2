//! The read path: snapshots, merging sources with last-write-wins, scans to Arrow.

pub(crate) mod merge;
mod merge_plan;
mod part;
mod projection;
mod scan;
mod snapshot;
mod sources;
mod span;

pub use merge::merge_runs;
pub use projection::Projection;
pub use scan::{Order, SPAN_ROWS, Scan, ScanRequest};
pub use snapshot::Snapshot;
pub use sources::{FileSource, SeriesSources};
