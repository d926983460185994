//! The snapshot being served, and how a newer one replaces it without a restart.
//!
//! The indexer publishes by renaming `DATA/current`; we look at it every few seconds, open
//! the new generation read-only, and swap it in. A generation that fails to open (corrupt,
//! half-copied, wrong schema) is refused with a log line and the previous one keeps serving.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use exchange::store::{DataDir, Snapshot};
use tracing::{error, info};

/// Shared by every request handler (axum's `State`).
pub struct AppState {
    data: DataDir,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
}

impl AppState {
    pub fn new(data: DataDir) -> AppState {
        AppState {
            data,
            snapshot: RwLock::new(None),
        }
    }

    /// The snapshot to answer from, if one has been published.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
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
        match Snapshot::open(&self.data.generation_dir(&wanted), &wanted) {
            Ok(snapshot) => {
                info!(generation = %wanted, "serving a new snapshot");
                *self
                    .snapshot
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(snapshot));
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
