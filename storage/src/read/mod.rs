//! The read path: snapshots, merging sources with last-write-wins, scans to Arrow.

pub mod merge;
pub mod projection;
pub mod scan;
pub mod snapshot;
pub mod sources;

pub use projection::Projection;
pub use scan::{Order, Scan, ScanRequest};
pub use snapshot::Snapshot;
pub use sources::{FileSource, SeriesSources};
