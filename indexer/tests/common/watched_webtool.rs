//! The web tool in process over a data directory, the way it runs in production but
//! faster: a thread refreshes it as its watcher would (every 10 ms instead of 5 s), and a
//! client asks `/healthz` and one profile every few milliseconds. Every answer is recorded,
//! with the generation it came from, for the test to judge at the end.
//!
//! Included with `#[path = "common/watched_webtool.rs"] mod watched_webtool;`.

#![allow(dead_code)] // Each test file uses its own part of it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use exchange::store::DataDir;
use serde_json::Value;
use webtool::state::{AppState, Refresh};

/// What the client and the refresher saw.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// Answers received (two per round: health and profile).
    pub answers: usize,
    /// Generation → how many answers named it.
    pub generations: BTreeMap<String, usize>,
    /// Anything that was not a good answer from a complete snapshot.
    pub failures: Vec<String>,
    /// Every refresh that did something (a swap, a refusal), in order.
    pub refreshes: Vec<Refresh>,
}

pub struct Watched {
    pub state: Arc<AppState>,
    pub base: String,
    stop: Arc<AtomicBool>,
    record: Arc<Mutex<Record>>,
    refresher: Option<JoinHandle<()>>,
    client: Option<tokio::task::JoinHandle<()>>,
    runtime: tokio::runtime::Runtime,
}

/// The generation an ETag was made for: `W/"<generation>-<period>-<hash>"`.
fn etag_generation(tag: &str) -> Option<String> {
    let inner = tag.strip_prefix("W/\"")?.strip_suffix('"')?;
    let mut parts = inner.rsplitn(3, '-');
    let (_hash, _period, generation) = (parts.next()?, parts.next()?, parts.next()?);
    Some(generation.to_string())
}

impl Watched {
    /// Serves `data` (which must hold a published generation), asking for `user`'s profile
    /// and expecting `profiles` profiles in every generation served.
    pub fn start(data: &Path, user: &str, profiles: u64) -> Watched {
        let state = Arc::new(AppState::new(DataDir::new(data)).with_search_cache(0));
        let first = state.refresh();
        assert!(
            matches!(first, Refresh::Swapped { .. }),
            "the web tool starts on a published generation: {first:?}"
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = webtool::router(Arc::clone(&state));
        runtime.spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let stop = Arc::new(AtomicBool::new(false));
        let record = Arc::new(Mutex::new(Record::default()));

        let refresher = {
            let (state, stop, record) =
                (Arc::clone(&state), Arc::clone(&stop), Arc::clone(&record));
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match state.refresh() {
                        Refresh::Unchanged | Refresh::NoGeneration => {}
                        other => record.lock().unwrap().refreshes.push(other),
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };

        let client = {
            let (stop, record, base) = (Arc::clone(&stop), Arc::clone(&record), base.clone());
            let user = user.to_string();
            runtime.spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .build()
                    .unwrap();
                let started = Instant::now();
                let path = format!("/api/v1/profiles/{}", user.replace(' ', "_"));
                while !stop.load(Ordering::SeqCst) {
                    let at = started.elapsed().as_secs_f64();
                    let health = ask(&http, &base, "/healthz").await;
                    let profile = ask(&http, &base, &path).await;
                    {
                        let mut seen = record.lock().unwrap();
                        let record = &mut *seen;
                        record.answers += 2;
                        match health {
                            Ok((200, _, body))
                                if body["status"] == "ok" && body["profiles"] == profiles =>
                            {
                                let generation = body["generation"].as_str().unwrap_or("?");
                                *record
                                    .generations
                                    .entry(generation.to_string())
                                    .or_default() += 1;
                            }
                            Ok((status, _, body)) => record
                                .failures
                                .push(format!("{at:.3} s: /healthz gave {status}: {body}")),
                            Err(e) => record.failures.push(format!("{at:.3} s: /healthz: {e}")),
                        }
                        match profile {
                            Ok((200, Some(generation), body)) if body["user"] == user.as_str() => {
                                *record.generations.entry(generation).or_default() += 1;
                            }
                            Ok((status, tag, body)) => record.failures.push(format!(
                                "{at:.3} s: {path} gave {status} (generation {tag:?}): {body}"
                            )),
                            Err(e) => record.failures.push(format!("{at:.3} s: {path}: {e}")),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(3)).await;
                }
            })
        };
        Watched {
            state,
            base,
            stop,
            record,
            refresher: Some(refresher),
            client: Some(client),
            runtime,
        }
    }

    /// What was seen so far.
    pub fn record(&self) -> Record {
        self.record.lock().unwrap().clone()
    }

    /// The generation being served.
    pub fn serving(&self) -> Option<String> {
        self.state.snapshot().map(|s| s.id().to_string())
    }

    /// Waits (at most a generous minute) until `generation` is served.
    pub fn wait_for(&self, generation: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.serving().as_deref() != Some(generation) {
            assert!(
                Instant::now() < deadline,
                "the web tool never switched to {generation}: {:?}",
                self.record().refreshes
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops asking and refreshing; what was seen.
    pub fn stop(mut self) -> Record {
        self.halt();
        self.record()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(refresher) = self.refresher.take() {
            let _ = refresher.join();
        }
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client);
        }
    }
}

impl Drop for Watched {
    /// Also when a test fails: nothing keeps asking, or holds files open, after it.
    fn drop(&mut self) {
        self.halt();
    }
}

/// One GET: status, the generation its ETag names, and the JSON body.
async fn ask(
    http: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<(u16, Option<String>, Value), reqwest::Error> {
    let response = http.get(format!("{base}{path}")).send().await?;
    let status = response.status().as_u16();
    let generation = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .and_then(etag_generation);
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, generation, body))
}
