//! Tests of the SSTable writer and reader against in-memory models of the rows they were given.

mod corruption;
pub(super) mod model;
mod present;
mod roundtrip;
mod writer_rules;
