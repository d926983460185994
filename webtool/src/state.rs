//! The snapshot being served, and how a newer one replaces it without a restart.
//!
//! The indexer publishes by renaming `DATA/current`; we look at it every few seconds, open
//! the new generation read-only, and swap it in. A generation that fails to open (corrupt,
//! half-copied, wrong schema) is refused with a log line and the previous one keeps serving.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::search_cache::{self, SearchCache};
use exchange::connections::{self, Counts};
use exchange::matching::Matcher;
use exchange::profile::Profile;
use exchange::stats::{self, Stats};
use exchange::store::{DataDir, Snapshot, StoreError};
use exchange::taxonomy::Taxonomy;
use tracing::{error, info};

/// A snapshot with what is computed once per snapshot: the matcher's indexes and the
/// statistics (the same numbers for the page, the API and the reports).
pub struct Served {
    pub snapshot: Arc<Snapshot>,
    pub matcher: Matcher,
    pub stats: Stats,
    /// Thanks and requests that count (for profile pages, the API and badges).
    pub connections: Counts,
    /// Recent searches of this snapshot (dropped with it).
    pub searches: SearchCache,
}

impl Served {
    /// Opens a generation and prepares matching and statistics for it.
    ///
    /// Memory: every profile is decoded for this (at 100,000 profiles about 200 MB) and
    /// dropped once the matcher and statistics are built (about 60 MB). To keep the peak
    /// low, profiles are held only with what those two read ([`for_preparing`]), the
    /// statistics are computed before the matcher (their scratch memory is reused), and the
    /// freed memory is handed back to the system ([`release_free_memory`]); without that
    /// the allocator keeps it and the server stays at its peak for good.
    /// `search_cache_entries`: see [`SearchCache`]; 0 turns it off.
    pub fn load(snapshot: Snapshot, search_cache_entries: usize) -> Result<Served, StoreError> {
        let mut profiles: Vec<Profile> = Vec::new();
        snapshot.for_each_profile(|p| {
            profiles.push(for_preparing(p));
            Ok(())
        })?;
        let connections = connections::count(&snapshot.thanks()?, &snapshot.requests()?);
        let (matcher, stats) = prepare(&profiles, &connections, chrono::Utc::now());
        drop(profiles);
        release_free_memory();
        // The first search reads each segment's ranking data; do it now, not for a reader.
        let warm_up = exchange::search::SearchRequest {
            limit: 1,
            ..Default::default()
        };
        if let Err(e) = exchange::search::search(&snapshot, &warm_up) {
            error!("warming up the search index failed: {e}");
        }
        Ok(Served {
            snapshot: Arc::new(snapshot),
            matcher,
            stats,
            connections,
            searches: SearchCache::new(search_cache_entries),
        })
    }
}

/// The matcher and the statistics of a set of profiles.
fn prepare(
    profiles: &[Profile],
    connections: &Counts,
    now: chrono::DateTime<chrono::Utc>,
) -> (Matcher, Stats) {
    let taxonomy = Taxonomy::bundled();
    let stats = stats::compute(profiles, connections, taxonomy, now);
    let matcher = Matcher::new(profiles, taxonomy);
    (matcher, stats)
}

/// A profile with only what the matcher and the statistics read: the free texts they do
/// not use (bio, availability, affiliations, contact, page, projects, formats) are about a
/// fifth of a profile's memory. `prepare_reads_nothing_that_is_dropped` checks that both
/// give the same answers with and without them.
fn for_preparing(profile: Profile) -> Profile {
    Profile {
        page: String::new(),
        affiliations: Vec::new(),
        projects: Vec::new(),
        formats: Vec::new(),
        availability: None,
        contact: Vec::new(),
        bio: None,
        ..profile
    }
}

/// Returns the heap's free memory to the system (glibc keeps it otherwise: after a
/// snapshot is prepared that is 200 MB at 100,000 profiles). Elsewhere, nothing.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            /// glibc: releases free memory at the top of the heap and in the middle of it
            /// (whole free pages); returns 1 if any was released.
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only walks glibc's own heap under its locks; it takes no
        // pointer and is safe to call at any time from any thread.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Shared by every request handler (axum's `State`).
pub struct AppState {
    data: DataDir,
    served: RwLock<Option<Arc<Served>>>,
    search_cache_entries: usize,
}

impl AppState {
    pub fn new(data: DataDir) -> AppState {
        AppState {
            data,
            served: RwLock::new(None),
            search_cache_entries: search_cache::CAPACITY,
        }
    }

    /// How many searches each snapshot keeps answered ([`SearchCache`]; 0: none).
    pub fn with_search_cache(mut self, entries: usize) -> AppState {
        self.search_cache_entries = entries;
        self
    }

    /// The snapshot to answer from, if one has been published.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.served().map(|s| Arc::clone(&s.snapshot))
    }

    /// The snapshot with its matcher and statistics.
    pub fn served(&self) -> Option<Arc<Served>> {
        self.served
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Opens the published generation if it is not the one being served.
    pub fn refresh(&self) {
        let wanted = match self.data.current() {
            Ok(Some(id)) => id,
            Ok(None) => return,
            Err(e) => {
                error!("cannot read the current generation pointer: {e}");
                return;
            }
        };
        if self.snapshot().is_some_and(|s| s.id() == wanted) {
            return;
        }
        let opened = Snapshot::open(&self.data.generation_dir(&wanted), &wanted)
            .and_then(|snapshot| Served::load(snapshot, self.search_cache_entries));
        match opened {
            Ok(served) => {
                info!(generation = %wanted, "serving a new snapshot");
                *self
                    .served
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(served));
            }
            Err(e) => {
                error!(generation = %wanted, "refusing the new snapshot, keeping the previous one: {e}")
            }
        }
    }
}

/// Looks for a newer generation every `period`, forever.
pub async fn watch(state: Arc<AppState>, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        let state = Arc::clone(&state);
        if let Err(e) = tokio::task::spawn_blocking(move || state.refresh()).await {
            error!("the snapshot watcher failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `for_preparing` drops must change neither the statistics nor any match.
    #[test]
    fn prepare_reads_nothing_that_is_dropped() {
        let (_dir, data, _) = crate::demo::build().expect("the demo data imports");
        let snapshot = data.open_current().expect("the demo snapshot opens");
        let mut full = Vec::new();
        snapshot
            .for_each_profile(|p| {
                full.push(p);
                Ok(())
            })
            .expect("the profiles read");
        assert!(
            full.iter()
                .any(|p| p.bio.is_some() && !p.formats.is_empty())
        );
        let lean: Vec<Profile> = full.iter().cloned().map(for_preparing).collect();
        let now = chrono::Utc::now();
        let (full_matcher, full_stats) = prepare(&full, &Counts::default(), now);
        let (lean_matcher, lean_stats) = prepare(&lean, &Counts::default(), now);
        assert_eq!(full_stats, lean_stats);
        for p in &full {
            let a = serde_json::to_value(full_matcher.matches(&p.user, now, 20)).unwrap();
            let b = serde_json::to_value(lean_matcher.matches(&p.user, now, 20)).unwrap();
            assert_eq!(a, b, "matches of {}", p.user);
        }
    }
}
