//! Tests of the database handle that need its internals.

mod legacy_rows;
