//! SSTables (to be written).

/// Errors of SSTable reading and writing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder.
    #[error("sst")]
    Placeholder,
}
