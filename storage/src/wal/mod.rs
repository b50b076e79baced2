//! Write-ahead log (to be written).

/// Errors of the write-ahead log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder.
    #[error("wal closed")]
    Closed,
}
