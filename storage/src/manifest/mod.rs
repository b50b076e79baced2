//! Manifest (to be written).

/// Errors of the manifest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Placeholder.
    #[error("manifest")]
    Placeholder,
}
