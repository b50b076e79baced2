//! The read path: snapshots, merging sources with last-write-wins, scans to Arrow.

pub(crate) mod merge;
mod part;
mod projection;
mod scan;
mod snapshot;
mod sources;
mod window;

pub use merge::merge_runs;
pub use projection::Projection;
pub use scan::{Order, Scan, ScanRequest, WINDOW_ROWS};
pub use snapshot::Snapshot;
pub use sources::{FileSource, SeriesSources};
