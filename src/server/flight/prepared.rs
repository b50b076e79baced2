//! [`Prepared`]: the open prepared statements of the Flight SQL front end, bounded.
//!
//! A handle is 16 random bytes, usable only by the identity that created it (another caller
//! gets `NOT_FOUND`, as if it did not exist). At most `capacity` statements are open at once
//! across all clients; creating one more closes the one used longest ago (its client gets
//! `NOT_FOUND` and prepares again), so clients that never close their statements cannot grow
//! the server's memory. This is what PostgreSQL's bounded plan caches do in spirit: prepared
//! state is a cache the client can rebuild, not data.

use std::collections::HashMap;
use std::sync::Mutex;

use isobar_sql::ScalarValue;
use tonic::Status;

/// One prepared statement: its text, owner and bound parameters.
#[derive(Clone, Debug)]
pub struct PreparedStatement {
    /// The principal that created it.
    pub owner: String,
    /// The statement text (planned again on each run, against a fresh snapshot).
    pub sql: String,
    /// How many parameters (`$1..$n`) it has.
    pub parameter_count: usize,
    /// The values bound by the last `DoPut`, if any.
    pub parameters: Option<Vec<ScalarValue>>,
    /// When it was last used, as a tick of the store's clock (for eviction).
    last_used: u64,
}

impl PreparedStatement {
    /// A new, unbound statement.
    pub fn new(owner: String, sql: String, parameter_count: usize) -> Self {
        Self { owner, sql, parameter_count, parameters: None, last_used: 0 }
    }
}

/// The open prepared statements.
#[derive(Debug)]
pub struct Prepared {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    clock: u64,
    statements: HashMap<Vec<u8>, PreparedStatement>,
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The statement `handle` if `owner` created it.
    fn owned(&mut self, handle: &[u8], owner: &str) -> Result<&mut PreparedStatement, Status> {
        let tick = self.tick();
        match self.statements.get_mut(handle) {
            Some(statement) if statement.owner == owner => {
                statement.last_used = tick;
                Ok(statement)
            }
            _ => Err(Status::not_found(
                "no such prepared statement: it was closed, or evicted as the least recently used \
                 (sql.max_prepared_statements); prepare it again",
            )),
        }
    }
}

impl Prepared {
    /// A store of at most `capacity` statements (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `statement`, evicting the least recently used one when full; its new handle.
    pub fn insert(&self, mut statement: PreparedStatement) -> Result<Vec<u8>, Status> {
        let mut handle = vec![0u8; 16];
        getrandom::fill(&mut handle).map_err(|e| Status::internal(format!("no randomness for a handle: {e}")))?;
        let mut inner = self.lock();
        while inner.statements.len() >= self.capacity {
            let oldest = inner.statements.iter().min_by_key(|(_, s)| s.last_used).map(|(h, _)| h.clone());
            match oldest {
                Some(h) => inner.statements.remove(&h),
                None => break,
            };
        }
        statement.last_used = inner.tick();
        inner.statements.insert(handle.clone(), statement);
        Ok(handle)
    }

    /// A copy of the statement `handle` of `owner`.
    pub fn get(&self, handle: &[u8], owner: &str) -> Result<PreparedStatement, Status> {
        self.lock().owned(handle, owner).map(|s| s.clone())
    }

    /// Binds `parameters` to the statement `handle` of `owner`.
    pub fn bind(&self, handle: &[u8], owner: &str, parameters: Vec<ScalarValue>) -> Result<(), Status> {
        self.lock().owned(handle, owner)?.parameters = Some(parameters);
        Ok(())
    }

    /// Closes the statement `handle` of `owner`.
    pub fn remove(&self, handle: &[u8], owner: &str) -> Result<(), Status> {
        let mut inner = self.lock();
        inner.owned(handle, owner)?;
        inner.statements.remove(handle);
        Ok(())
    }

    /// How many statements are open.
    pub fn len(&self) -> usize {
        self.lock().statements.len()
    }

    /// True when none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(owner: &str) -> PreparedStatement {
        PreparedStatement::new(owner.into(), "SELECT 1".into(), 0)
    }

    #[test]
    fn another_owner_cannot_use_or_close_a_handle() {
        let store = Prepared::new(4);
        let handle = store.insert(statement("alice")).expect("inserted");
        assert_eq!(store.get(&handle, "bob").expect_err("not bob's").code(), tonic::Code::NotFound);
        assert_eq!(store.remove(&handle, "bob").expect_err("not bob's").code(), tonic::Code::NotFound);
        assert_eq!(store.get(&handle, "alice").expect("alice's").sql, "SELECT 1");
        store.remove(&handle, "alice").expect("closed");
        assert!(store.is_empty());
    }

    #[test]
    fn the_least_recently_used_is_evicted_past_capacity() {
        let store = Prepared::new(2);
        let first = store.insert(statement("a")).expect("first");
        let second = store.insert(statement("a")).expect("second");
        store.get(&first, "a").expect("touch the first");
        let third = store.insert(statement("a")).expect("third");
        assert_eq!(store.len(), 2);
        assert!(store.get(&second, "a").is_err(), "the second was used longest ago");
        assert!(store.get(&first, "a").is_ok() && store.get(&third, "a").is_ok());
    }

    #[test]
    fn bound_parameters_are_kept() {
        let store = Prepared::new(2);
        let handle = store.insert(PreparedStatement::new("a".into(), "SELECT $1".into(), 1)).expect("inserted");
        store.bind(&handle, "a", vec![ScalarValue::Int64(Some(7))]).expect("bound");
        assert_eq!(store.get(&handle, "a").expect("kept").parameters, Some(vec![ScalarValue::Int64(Some(7))]));
    }
}
