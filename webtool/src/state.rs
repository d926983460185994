//! The snapshot being served, and how a newer one replaces it without a restart.
//!
//! The indexer publishes by renaming `DATA/current`; we look at it every few seconds, open
//! the new generation read-only, check it, and swap it in. A generation that fails to open
//! or to pass [`Snapshot::verify`] (corrupt, half-copied, wrong schema) is refused with a
//! log line and the previous one keeps serving; it is tried again only after
//! [`RETRY_REFUSED`] (published generations never change, and checking one reads all of it).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::search_cache::{self, SearchCache};
use exchange::connections::{self, Counts};
use exchange::matching::Matcher;
use exchange::profile::Profile;
use exchange::stats::{self, Stats};
use exchange::store::{DataDir, Snapshot, StoreError};
use exchange::taxonomy::Taxonomy;
use tracing::{debug, error, info, warn};

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

/// How long a refused generation is left alone before it is tried again.
pub const RETRY_REFUSED: Duration = Duration::from_secs(60);

/// What [`AppState::refresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// Nothing is published yet.
    NoGeneration,
    /// The published generation is the one being served.
    Unchanged,
    /// A newer generation is now served.
    Swapped { generation: String },
    /// The published generation (or the pointer to it) is unusable; whatever was served
    /// before still is (`serving`, if anything). `reason` is what the log line says.
    Refused {
        generation: Option<String>,
        serving: Option<String>,
        reason: String,
    },
}

/// The last problem met, to say it once rather than at every look.
struct Problem {
    generation: Option<String>,
    reason: String,
    at: Instant,
}

/// Shared by every request handler (axum's `State`).
pub struct AppState {
    data: DataDir,
    served: RwLock<Option<Arc<Served>>>,
    search_cache_entries: usize,
    problem: Mutex<Option<Problem>>,
}

impl AppState {
    pub fn new(data: DataDir) -> AppState {
        AppState {
            data,
            served: RwLock::new(None),
            search_cache_entries: search_cache::CAPACITY,
            problem: Mutex::new(None),
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

    /// Opens, checks and prepares the published generation if it is not the one being
    /// served, and swaps it in. Never fails: an unusable generation is refused with one log
    /// line (repeated only when the problem changes or [`RETRY_REFUSED`] has passed) and
    /// the one served before keeps serving.
    pub fn refresh(&self) -> Refresh {
        let wanted = match self.data.current() {
            Ok(Some(id)) => id,
            Ok(None) => return Refresh::NoGeneration,
            Err(e) => {
                return self.refuse(
                    None,
                    format!("cannot read the current generation pointer: {e}"),
                );
            }
        };
        if self.snapshot().is_some_and(|s| s.id() == wanted) {
            return Refresh::Unchanged;
        }
        let dir = self.data.generation_dir(&wanted);
        {
            let problem = self
                .problem
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // A refused generation is not read again for a while (it does not change, and
            // checking it reads all of it); a missing one is looked for every time.
            if let Some(p) = problem.as_ref()
                && p.generation.as_deref() == Some(wanted.as_str())
                && p.at.elapsed() < RETRY_REFUSED
                && dir.exists()
            {
                return Refresh::Refused {
                    generation: Some(wanted),
                    serving: self.snapshot().map(|s| s.id().to_string()),
                    reason: p.reason.clone(),
                };
            }
        }
        let started = Instant::now();
        let mut opened_at = Duration::ZERO;
        let mut verified_at = Duration::ZERO;
        let opened = Snapshot::open(&dir, &wanted).and_then(|snapshot| {
            opened_at = started.elapsed();
            snapshot.verify()?;
            verified_at = started.elapsed();
            Served::load(snapshot, self.search_cache_entries)
        });
        match opened {
            Ok(served) => {
                let ms = |d: Duration| d.as_millis() as u64;
                info!(
                    generation = %wanted,
                    open_ms = ms(opened_at),
                    verify_ms = ms(verified_at - opened_at),
                    load_ms = ms(started.elapsed() - verified_at),
                    "serving a new snapshot"
                );
                *self
                    .served
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(served));
                *self
                    .problem
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
                // So that the indexer's pruning keeps it while newer ones are refused.
                if let Err(e) = self.data.mark_serving(&wanted) {
                    warn!(generation = %wanted, "cannot record the generation served: {e}");
                }
                Refresh::Swapped { generation: wanted }
            }
            Err(e) => self.refuse(Some(wanted), e.to_string()),
        }
    }

    /// Logs why the published generation is not served (once per problem and period).
    fn refuse(&self, generation: Option<String>, reason: String) -> Refresh {
        let serving = self.snapshot().map(|s| s.id().to_string());
        let mut problem = self
            .problem
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let repeated = problem.as_ref().is_some_and(|p| {
            p.generation == generation && p.reason == reason && p.at.elapsed() < RETRY_REFUSED
        });
        let keeping = serving.as_deref().unwrap_or("none: nothing is served yet");
        let shown = generation.as_deref().unwrap_or("?");
        if repeated {
            debug!(generation = %shown, "still refusing the new snapshot: {reason}");
        } else {
            error!(
                generation = %shown,
                "refusing the new snapshot, keeping the previous one ({keeping}): {reason}"
            );
            *problem = Some(Problem {
                generation: generation.clone(),
                reason: reason.clone(),
                at: Instant::now(),
            });
        }
        Refresh::Refused {
            generation,
            serving,
            reason,
        }
    }
}

/// Looks for a newer generation every `period`, forever.
pub async fn watch(state: Arc<AppState>, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        let state = Arc::clone(&state);
        if let Err(e) = tokio::task::spawn_blocking(move || {
            state.refresh();
        })
        .await
        {
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
