//! Recent search results of the served snapshot, kept for the next identical search.
//!
//! A snapshot never changes, so a search's results stay right for as long as it is served;
//! the cache belongs to [`crate::state::Served`] and goes with it when a new generation
//! arrives. People repeat searches (the home page's top skills, facet links, the pages of
//! one result list), and a broad search ("Wikidata": tens of thousands of matches to count
//! into facets) costs about a millisecond and a half of CPU, an answer from here a few
//! microseconds.
//!
//! Memory is bounded by two maps of at most `capacity` entries each: new results go into
//! the young map; when it is full it becomes the old one (the previous old map is dropped),
//! and a hit in the old map is moved back to the young one. What is searched often stays,
//! what is not ages out: an approximate LRU without per-entry bookkeeping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use exchange::search::{SearchError, SearchRequest, SearchResults, search};
use exchange::store::Snapshot;

/// Entries per map. A page of 20 results is about 20 KB, so both maps hold at most
/// about 40 MB.
pub const CAPACITY: usize = 1024;

pub struct SearchCache {
    /// 0 turns the cache off (what the benchmark of uncached searches uses).
    capacity: usize,
    maps: Mutex<Maps>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How the cache is doing, for `/healthz` and the benchmark.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct CacheStats {
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
}

#[derive(Default)]
struct Maps {
    young: HashMap<String, Arc<SearchResults>>,
    old: HashMap<String, Arc<SearchResults>>,
}

impl SearchCache {
    pub fn new(capacity: usize) -> SearchCache {
        SearchCache {
            capacity,
            maps: Mutex::new(Maps::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The results of `request` on `snapshot`, from the cache or searched now. Two
    /// identical searches at once may both search; the second result replaces the first.
    pub fn search(
        &self,
        snapshot: &Snapshot,
        request: &SearchRequest,
    ) -> Result<Arc<SearchResults>, SearchError> {
        // Every field of the request is in its Debug form, so equal keys are equal searches.
        if self.capacity == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return search(snapshot, request).map(Arc::new);
        }
        let key = format!("{request:?}");
        if let Some(hit) = self.get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(hit);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let results = Arc::new(search(snapshot, request)?);
        self.insert(key, Arc::clone(&results));
        Ok(results)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, key: &str) -> Option<Arc<SearchResults>> {
        let mut maps = self.lock();
        if let Some(hit) = maps.young.get(key) {
            return Some(Arc::clone(hit));
        }
        let hit = maps.old.remove(key)?;
        self.put(&mut maps, key.to_string(), Arc::clone(&hit));
        Some(hit)
    }

    fn insert(&self, key: String, results: Arc<SearchResults>) {
        let mut maps = self.lock();
        self.put(&mut maps, key, results);
    }

    fn put(&self, maps: &mut Maps, key: String, results: Arc<SearchResults>) {
        if maps.young.len() >= self.capacity {
            maps.old = std::mem::take(&mut maps.young);
        }
        maps.young.insert(key, results);
    }

    pub fn stats(&self) -> CacheStats {
        let maps = self.lock();
        CacheStats {
            entries: maps.young.len() + maps.old.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(total: usize) -> Arc<SearchResults> {
        Arc::new(SearchResults {
            total,
            results: Vec::new(),
            facets: Default::default(),
        })
    }

    #[test]
    fn memory_stays_bounded_and_frequent_entries_survive() {
        let cache = SearchCache::new(4);
        cache.insert("hot".into(), results(1));
        for i in 0..100 {
            cache.insert(format!("cold {i}"), results(i));
            // The hot entry is looked up all the time, so it never ages out.
            assert_eq!(cache.get("hot").map(|r| r.total), Some(1));
            let entries = cache.stats().entries;
            assert!(entries <= 8, "{entries} entries");
        }
        assert!(cache.get("cold 0").is_none(), "what is not used ages out");
        assert_eq!(cache.get("cold 99").map(|r| r.total), Some(99));
    }
}
