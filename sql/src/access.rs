//! [`TableAccess`]: the read check the SQL layer asks for every table a query touches.

/// Whether the caller may read a table. Front ends implement it over their own identities
/// (bearer tokens, PostgreSQL roles); the SQL layer asks it for every table a statement names
/// before anything about the catalog is answered, and lists only readable tables.
pub trait TableAccess: Send + Sync {
    /// True when the caller may read `table` (an Isobar table name, not a relation name).
    fn can_read(&self, table: &str) -> bool;
}

/// Every table is readable: for in-process use, tests and servers without authentication.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl TableAccess for AllowAll {
    fn can_read(&self, _table: &str) -> bool {
        true
    }
}
