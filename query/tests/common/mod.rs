//! Helpers shared by the integration tests: record batches as comparable rows (from the test kit).

pub use isobar_testkit::rows::{V, rows};
