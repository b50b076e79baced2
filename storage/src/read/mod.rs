//! The read path: snapshots, merging sources with last-write-wins, scans to Arrow.

pub mod merge;
mod part;
pub mod projection;
pub mod scan;
pub mod snapshot;
pub mod sources;
mod window;

pub use projection::Projection;
pub use scan::{Order, Scan, ScanRequest, WINDOW_ROWS};
pub use snapshot::Snapshot;
pub use sources::{FileSource, SeriesSources};
