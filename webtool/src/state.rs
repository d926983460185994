//! The snapshot being served, and how a newer one replaces it without a restart.
//!
//! The indexer publishes by renaming `DATA/current`; we look at it every few seconds, open
//! the new generation read-only, and swap it in. A generation that fails to open (corrupt,
//! half-copied, wrong schema) is refused with a log line and the previous one keeps serving.

use std::sync::{Arc, RwLock};
use std::time::Duration;

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
}

impl Served {
    /// Opens a generation and prepares matching and statistics for it.
    pub fn load(snapshot: Snapshot) -> Result<Served, StoreError> {
        let mut profiles: Vec<Profile> = Vec::new();
        snapshot.for_each_profile(|p| {
            profiles.push(p);
            Ok(())
        })?;
        let taxonomy = Taxonomy::bundled();
        let matcher = Matcher::new(&profiles, taxonomy);
        let stats = stats::compute(&profiles, taxonomy, chrono::Utc::now());
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
        })
    }
}

/// Shared by every request handler (axum's `State`).
pub struct AppState {
    data: DataDir,
    served: RwLock<Option<Arc<Served>>>,
}

impl AppState {
    pub fn new(data: DataDir) -> AppState {
        AppState {
            data,
            served: RwLock::new(None),
        }
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
        let opened =
            Snapshot::open(&self.data.generation_dir(&wanted), &wanted).and_then(Served::load);
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
