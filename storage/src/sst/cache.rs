//! [`BlockCache`]: decoded column blocks shared by all SSTable readers, bounded by bytes.
//!
//! Keys are `(file id, block offset)`; values are the decoded block behind an `Arc`, so a hit
//! costs a hash lookup and a reference count. The cache is split into shards by key hash, each a
//! least-recently-used list under its own `parking_lot` mutex, so concurrent scans rarely contend.
//! Each shard holds at most `capacity / shards` bytes, so the whole cache never exceeds its
//! capacity; a block larger than a shard is returned to the caller but not kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{Array, ArrayRef};
use arrow_buffer::ScalarBuffer;
use parking_lot::Mutex;

/// A cache key: file id and file offset of the block.
pub type CacheKey = (u64, u64);

/// A decoded block.
#[derive(Clone, Debug)]
pub enum CachedBlock {
    /// Decoded integers (the `ts` or `seq` block; `seq` is stored bit-cast).
    Ints(ScalarBuffer<i64>),
    /// A decoded column.
    Array(ArrayRef),
}

impl CachedBlock {
    /// Memory the block holds, in bytes.
    pub fn size(&self) -> usize {
        match self {
            CachedBlock::Ints(v) => v.len() * 8,
            CachedBlock::Array(a) => a.get_array_memory_size(),
        }
    }
}

/// Counters of a [`BlockCache`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that found the block.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Blocks inserted.
    pub inserts: u64,
    /// Blocks evicted to make room.
    pub evictions: u64,
    /// Bytes held now.
    pub bytes: usize,
    /// Blocks held now.
    pub entries: usize,
    /// The configured bound in bytes.
    pub capacity: usize,
}

/// A byte-bounded, sharded LRU cache of decoded blocks.
#[derive(Debug)]
pub struct BlockCache {
    shards: Box<[Mutex<Shard>]>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
    inserts: AtomicU64,
    evictions: AtomicU64,
}

#[derive(Debug, Default)]
struct Shard {
    map: HashMap<CacheKey, Entry>,
    /// Recency order: tick -> key, oldest first.
    order: BTreeMap<u64, CacheKey>,
    next_tick: u64,
    bytes: usize,
    capacity: usize,
}

#[derive(Debug)]
struct Entry {
    block: Arc<CachedBlock>,
    size: usize,
    tick: u64,
}

/// Smallest shard worth splitting off: pages of 8192 wide strings must still fit in a shard.
const MIN_SHARD_BYTES: usize = 8 << 20;
/// Most shards.
const MAX_SHARDS: usize = 16;

impl BlockCache {
    /// A cache holding at most `capacity` bytes of decoded blocks (0 disables caching).
    pub fn new(capacity: usize) -> BlockCache {
        let n = (capacity / MIN_SHARD_BYTES).clamp(1, MAX_SHARDS);
        let shards = (0..n)
            .map(|i| {
                // Spread the remainder so shard capacities add up to `capacity` exactly.
                let cap = capacity / n + usize::from(i < capacity % n);
                Mutex::new(Shard { capacity: cap, ..Shard::default() })
            })
            .collect();
        BlockCache {
            shards,
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            inserts: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: CacheKey) -> &Mutex<Shard> {
        let h = (key.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ key.1).wrapping_mul(0xff51_afd7_ed55_8ccd);
        let i = ((h >> 32) as usize) % self.shards.len();
        #[expect(clippy::indexing_slicing, reason = "i is a remainder of division by shards.len(), so below it")]
        &self.shards[i]
    }

    /// The block under `key`, marking it recently used.
    pub fn get(&self, key: CacheKey) -> Option<Arc<CachedBlock>> {
        let mut shard = self.shard(key).lock();
        let tick = shard.next_tick;
        let found = shard.map.get_mut(&key).map(|e| {
            let old = std::mem::replace(&mut e.tick, tick);
            (old, e.block.clone())
        });
        match found {
            Some((old, block)) => {
                shard.next_tick += 1;
                shard.order.remove(&old);
                shard.order.insert(tick, key);
                drop(shard);
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(block)
            }
            None => {
                drop(shard);
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `block` under `key`, evicting the least recently used blocks to stay in bounds.
    pub fn insert(&self, key: CacheKey, block: Arc<CachedBlock>) {
        let size = block.size();
        let mut shard = self.shard(key).lock();
        if size > shard.capacity {
            return;
        }
        if let Some(old) = shard.map.remove(&key) {
            shard.order.remove(&old.tick);
            shard.bytes -= old.size;
        }
        let mut evicted = 0;
        while shard.bytes + size > shard.capacity {
            let Some((_, victim)) = shard.order.pop_first() else {
                break;
            };
            if let Some(e) = shard.map.remove(&victim) {
                shard.bytes -= e.size;
                evicted += 1;
            }
        }
        let tick = shard.next_tick;
        shard.next_tick += 1;
        shard.order.insert(tick, key);
        shard.map.insert(key, Entry { block, size, tick });
        shard.bytes += size;
        drop(shard);
        self.inserts.fetch_add(1, Ordering::Relaxed);
        self.evictions.fetch_add(evicted, Ordering::Relaxed);
    }

    /// Drops every block of `file_id` (after the file is deleted).
    pub fn remove_file(&self, file_id: u64) {
        for shard in self.shards.iter() {
            let mut s = shard.lock();
            let Shard { map, order, bytes, .. } = &mut *s;
            map.retain(|k, e| {
                let keep = k.0 != file_id;
                if !keep {
                    order.remove(&e.tick);
                    *bytes -= e.size;
                }
                keep
            });
        }
    }

    /// Current counters and occupancy.
    pub fn stats(&self) -> CacheStats {
        let (mut bytes, mut entries) = (0, 0);
        for shard in self.shards.iter() {
            let s = shard.lock();
            bytes += s.bytes;
            entries += s.map.len();
        }
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            inserts: self.inserts.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            bytes,
            entries,
            capacity: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: usize) -> Arc<CachedBlock> {
        Arc::new(CachedBlock::Ints(vec![7i64; n].into()))
    }

    #[test]
    fn stays_within_capacity_and_evicts_oldest() {
        let cache = BlockCache::new(10_000);
        for i in 0..100 {
            cache.insert((1, i), block(100)); // 800 bytes each
            assert!(cache.stats().bytes <= 10_000, "over capacity after {i} inserts");
        }
        let s = cache.stats();
        assert_eq!(s.entries, 12);
        assert_eq!(s.evictions, 88);
        assert!(cache.get((1, 0)).is_none(), "oldest block should be gone");
        assert!(cache.get((1, 99)).is_some(), "newest block should stay");
    }

    #[test]
    fn hits_and_misses_are_counted_and_recency_is_kept() {
        let cache = BlockCache::new(2_000);
        cache.insert((1, 0), block(100));
        cache.insert((1, 1), block(100));
        assert!(cache.get((1, 0)).is_some()); // now (1, 1) is the oldest
        cache.insert((1, 2), block(100));
        assert!(cache.get((1, 1)).is_none());
        assert!(cache.get((1, 0)).is_some());
        let s = cache.stats();
        assert_eq!((s.hits, s.misses), (2, 1));
    }

    #[test]
    fn oversized_blocks_are_not_kept_and_files_can_be_dropped() {
        let cache = BlockCache::new(1_000);
        cache.insert((1, 0), block(1_000));
        assert_eq!(cache.stats().entries, 0);
        cache.insert((2, 0), block(10));
        cache.insert((3, 0), block(10));
        cache.remove_file(2);
        let s = cache.stats();
        assert_eq!((s.entries, s.bytes), (1, 80));
        assert!(cache.get((3, 0)).is_some());
    }

    #[test]
    fn large_caches_are_sharded_and_still_bounded() {
        let cache = BlockCache::new(64 << 20);
        assert_eq!(cache.shards.len(), 8);
        for i in 0..20_000 {
            cache.insert((i % 7, i), block(1_000));
        }
        let s = cache.stats();
        assert!(s.bytes <= 64 << 20 && s.bytes > 60 << 20, "{s:?}");
    }
}
