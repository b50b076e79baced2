//! The in-memory producer table: marks, activity, expiry, and the changes not yet recorded in
//! the manifest.
//!
//! It lives inside the write lock's state, so checking a producer's mark and applying its write
//! are one atomic step with the WAL append. Changes since the last manifest edit are tracked as
//! two sets: `dirty` (marks to write) and `forgotten` (producers to delete from the manifest's
//! table; a producer forgotten and then seen again is in both, and the edit applies the
//! forgetting first).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ProducerMark;
use super::owner::owner_of;

/// One producer's entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Highest producer seq applied.
    pub applied_seq: u64,
    /// Last activity, ms since the epoch.
    pub active_ms: u64,
    /// Engine sequence number of the WAL record that applied `applied_seq` (0 when it came from
    /// the manifest, whose marks are durable already).
    pub wal_seq: u64,
}

/// The changes of the table since the last manifest edit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Delta {
    /// Marks that changed.
    pub set: Vec<ProducerMark>,
    /// Producers forgotten (applied before `set`).
    pub forget: Vec<String>,
}

/// Every producer's mark, bounded in age and count.
#[derive(Debug)]
pub(crate) struct ProducerTable {
    entries: HashMap<String, Entry>,
    dirty: HashSet<String>,
    forgotten: HashSet<String>,
    ttl_ms: u64,
    max: usize,
    /// Producers per owner prefix ([`owner_of`]); ids without an owner are not counted here.
    per_owner: HashMap<String, usize>,
    /// Most producers one owner may have (`max_producers_per_owner`).
    max_per_owner: usize,
    /// Producers forgotten by age or count since open.
    pub expired: u64,
}

impl ProducerTable {
    /// An empty table whose entries live `ttl_ms` and number at most `max` (at least 1).
    pub(crate) fn new(ttl_ms: u64, max: usize) -> Self {
        Self {
            entries: HashMap::new(),
            dirty: HashSet::new(),
            forgotten: HashSet::new(),
            ttl_ms,
            max: max.max(1),
            per_owner: HashMap::new(),
            max_per_owner: usize::MAX,
            expired: 0,
        }
    }

    /// The table with at most `max` producers per owner (at least 1).
    pub(crate) fn with_owner_cap(mut self, max: usize) -> Self {
        self.max_per_owner = max.max(1);
        self
    }

    /// Whether a write may create producer `id`: a known producer always may; a new one is
    /// refused when its owner already has `max_producers_per_owner`. Returns the owner's count
    /// and the cap on refusal. Replay never asks: what the WAL holds was admitted.
    pub(crate) fn admit_new(&self, id: &str) -> Result<(), (usize, usize)> {
        if self.entries.contains_key(id) {
            return Ok(());
        }
        let count = owner_of(id).and_then(|o| self.per_owner.get(o)).copied().unwrap_or(0);
        if count >= self.max_per_owner {
            return Err((count, self.max_per_owner));
        }
        Ok(())
    }

    fn count_owner(&mut self, id: &str, added: bool) {
        let Some(owner) = owner_of(id) else { return };
        if added {
            *self.per_owner.entry(owner.to_string()).or_insert(0) += 1;
        } else if let Some(n) = self.per_owner.get_mut(owner) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_owner.remove(owner);
            }
        }
    }

    /// Loads the manifest's marks (clean: nothing to write back).
    pub(crate) fn load(&mut self, marks: &BTreeMap<String, ProducerMark>) {
        for m in marks.values() {
            let entry = Entry { applied_seq: m.applied_seq, active_ms: m.active_ms, wal_seq: 0 };
            if self.entries.insert(m.id.clone(), entry).is_none() {
                self.count_owner(&m.id, true);
            }
        }
    }

    /// Every producer's mark as the manifest records it, as of now (a checkpoint takes it under
    /// the write lock, at its cut).
    pub(crate) fn marks(&self) -> BTreeMap<String, ProducerMark> {
        self.entries
            .iter()
            .map(|(id, e)| {
                (id.clone(), ProducerMark { id: id.clone(), applied_seq: e.applied_seq, active_ms: e.active_ms })
            })
            .collect()
    }

    /// Producers tracked.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The live entry of `id` at `now_ms`; an entry past its age is forgotten here.
    pub(crate) fn get(&mut self, id: &str, now_ms: u64) -> Option<Entry> {
        let entry = *self.entries.get(id)?;
        if self.is_expired(&entry, now_ms) {
            self.forget(id);
            return None;
        }
        Some(entry)
    }

    /// Records activity of a known producer without a new mark (a duplicate or a resume).
    pub(crate) fn touch(&mut self, id: &str, now_ms: u64) {
        if let Some(e) = self.entries.get_mut(id)
            && now_ms > e.active_ms
        {
            e.active_ms = now_ms;
            self.dirty.insert(id.to_string());
        }
    }

    /// Records that the WAL record `wal_seq` applied `seq` for `id` at `active_ms`. Marks only go
    /// up (replay may present a record the manifest already covers). Forgets the least recently
    /// active producers past the cap, never `id` itself.
    pub(crate) fn record(&mut self, id: &str, seq: u64, active_ms: u64, wal_seq: u64) {
        if !self.entries.contains_key(id) {
            self.count_owner(id, true);
        }
        let entry = self.entries.entry(id.to_string()).or_insert(Entry { applied_seq: 0, active_ms, wal_seq });
        if seq > entry.applied_seq {
            entry.applied_seq = seq;
            entry.wal_seq = wal_seq;
        }
        entry.active_ms = entry.active_ms.max(active_ms);
        self.dirty.insert(id.to_string());
        if self.entries.len() > self.max {
            self.evict_least_recent(id);
        }
    }

    /// Forgets every producer idle for longer than the ttl at `now_ms`, and the least recently
    /// active ones past the cap; returns how many.
    pub(crate) fn expire(&mut self, now_ms: u64) -> usize {
        let before = self.expired;
        let old: Vec<String> =
            self.entries.iter().filter(|(_, e)| self.is_expired(e, now_ms)).map(|(id, _)| id.clone()).collect();
        for id in &old {
            self.forget(id);
        }
        if self.entries.len() > self.max {
            self.evict_least_recent("");
        }
        usize::try_from(self.expired - before).unwrap_or(usize::MAX)
    }

    /// Takes the changes since the last call (the caller writes them to the manifest, or hands
    /// them back with [`Self::restore`] when that fails).
    pub(crate) fn take_delta(&mut self) -> Delta {
        let mut set: Vec<ProducerMark> = self
            .dirty
            .drain()
            .filter_map(|id| {
                let e = self.entries.get(&id)?;
                Some(ProducerMark { id, applied_seq: e.applied_seq, active_ms: e.active_ms })
            })
            .collect();
        set.sort_by(|a, b| a.id.cmp(&b.id));
        let mut forget: Vec<String> = self.forgotten.drain().collect();
        forget.sort();
        Delta { set, forget }
    }

    /// Marks the changes of a delta that could not be written as pending again.
    pub(crate) fn restore(&mut self, delta: Delta) {
        self.dirty.extend(delta.set.into_iter().map(|m| m.id));
        self.forgotten.extend(delta.forget);
    }

    fn is_expired(&self, e: &Entry, now_ms: u64) -> bool {
        now_ms.saturating_sub(e.active_ms) > self.ttl_ms
    }

    fn forget(&mut self, id: &str) {
        if self.entries.remove(id).is_some() {
            self.count_owner(id, false);
            self.dirty.remove(id);
            self.forgotten.insert(id.to_string());
            self.expired += 1;
        }
    }

    /// Forgets the least recently active producers (but `keep`) until the table is one percent
    /// of the cap below it.
    fn evict_least_recent(&mut self, keep: &str) {
        let target = self.max - self.max / 100;
        let excess = self.entries.len().saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut by_age: Vec<(u64, &String)> =
            self.entries.iter().filter(|(id, _)| id.as_str() != keep).map(|(id, e)| (e.active_ms, id)).collect();
        let excess = excess.min(by_age.len());
        if excess == 0 {
            return;
        }
        by_age.select_nth_unstable(excess - 1);
        let victims: Vec<String> = by_age.iter().take(excess).map(|(_, id)| (*id).clone()).collect();
        tracing::warn!(
            count = victims.len(),
            max_producers = self.max,
            "producer table full: forgetting the least recently active producers"
        );
        for id in &victims {
            self.forget(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_only_go_up_and_deltas_carry_changes_once() {
        let mut t = ProducerTable::new(1000, 10);
        t.record("a", 5, 10, 1);
        t.record("a", 3, 11, 2);
        assert_eq!(t.get("a", 11).map(|e| (e.applied_seq, e.wal_seq, e.active_ms)), Some((5, 1, 11)));
        let d = t.take_delta();
        assert_eq!(d.set, vec![ProducerMark { id: "a".into(), applied_seq: 5, active_ms: 11 }]);
        assert!(t.take_delta().set.is_empty());
        t.restore(d.clone());
        assert_eq!(t.take_delta(), d);
    }

    #[test]
    fn age_and_count_forget_the_idle() {
        let mut t = ProducerTable::new(100, 3);
        t.record("old", 1, 0, 1);
        t.record("b", 1, 50, 2);
        t.record("c", 1, 60, 3);
        assert!(t.get("old", 100).is_some(), "exactly ttl old is still live");
        assert!(t.get("old", 101).is_none());
        assert_eq!(t.take_delta().forget, vec!["old".to_string()]);
        t.record("d", 1, 70, 4);
        t.record("e", 1, 80, 5);
        assert_eq!(t.len(), 3);
        assert!(t.get("b", 80).is_none(), "least recent goes first");
        assert!(t.get("e", 80).is_some());
        assert_eq!(t.expired, 2);
    }

    #[test]
    fn one_owner_cannot_take_more_than_its_cap() {
        let a = |i: u32| format!("o00000000000000aa:p{i}");
        let b = "o00000000000000bb:p0";
        let mut t = ProducerTable::new(100, 1000).with_owner_cap(3);
        for i in 0..3 {
            assert_eq!(t.admit_new(&a(i)), Ok(()));
            t.record(&a(i), 1, 10, u64::from(i) + 1);
        }
        assert_eq!(t.admit_new(&a(3)), Err((3, 3)), "a fourth producer of owner aa");
        assert_eq!(t.admit_new(&a(0)), Ok(()), "a known producer writes on");
        assert_eq!(t.admit_new(b), Ok(()), "another owner is not affected");
        assert_eq!(t.admit_new("plain-id"), Ok(()), "ids without an owner are not capped per owner");
        // A forgotten producer frees its place.
        assert!(t.get(&a(1), 200).is_none(), "expired");
        assert_eq!(t.admit_new(&a(3)), Ok(()));
    }

    #[test]
    fn forgotten_then_seen_again_is_forgotten_then_set() {
        let mut t = ProducerTable::new(10, 5);
        t.record("p", 9, 0, 1);
        t.take_delta();
        assert!(t.get("p", 100).is_none());
        t.record("p", 1, 100, 2);
        let d = t.take_delta();
        assert_eq!(d.forget, vec!["p".to_string()]);
        assert_eq!(d.set[0].applied_seq, 1);
    }
}
