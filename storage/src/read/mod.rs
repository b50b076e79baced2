//! The read path: snapshots, merging sources with last-write-wins, scans to Arrow.

pub mod merge;
pub mod scan;
pub mod snapshot;
pub mod sources;

pub use scan::{Order, Projection, Scan, ScanRequest};
pub use snapshot::Snapshot;
pub use sources::{FileSource, SeriesSources};
