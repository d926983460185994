//! The indexer killed with SIGKILL at random points, 20 times for a crawl and 20 times for an
//! import, while the web tool (in process, refreshing every 10 ms) is asked for its health
//! and a profile every few milliseconds: every answer must be a 200 from a complete
//! generation (the one served before, or a complete newer one that a killed run managed to
//! publish), no refresh may ever be refused, and the next run must publish a snapshot equal
//! to a run into a fresh directory, with nothing left over (`.building` directories,
//! `current.tmp`) and the lock of the killed runs not in the way.
//!
//! Of each 20 kills, 8 fall anywhere in a run, 8 after the run's `.building` directory
//! appears (while the generation is written) and 4 as soon as it is renamed into place
//! (while it is published). The delays come from a fixed seed and are printed with where
//! each kill landed (`cargo test --test killed_runs -- --nocapture`).

#[path = "common/fake_wiki.rs"]
mod fake_wiki;
#[path = "common/watched_webtool.rs"]
mod watched_webtool;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange::store::{DataDir, KEEP_GENERATIONS};
use fake_wiki::{FakeWiki, person};
use serde_json::Value;
use watched_webtool::Watched;
use webtool::state::Refresh;

const KILLS: usize = 20;

/// xorshift64*: the same delays on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn generations_dir(data: &Path) -> PathBuf {
    data.join("generations")
}

/// The names in `DATA/generations`.
fn entries(data: &Path) -> BTreeSet<String> {
    fs::read_dir(generations_dir(data))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn current(data: &Path) -> Option<String> {
    DataDir::new(data).current().unwrap()
}

/// The size of everything under `dir`.
fn size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => size(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A run of the indexer under test.
trait Run {
    /// "crawl" or "import", for the printed lines.
    fn name(&self) -> &'static str;
    fn spawn(&self, data: &Path) -> Child;
    /// What the run has done so far besides the disk (e.g. requests to the wiki).
    fn progress(&self) -> String {
        String::new()
    }
}

struct CrawlRun<'a>(&'a FakeWiki);

impl Run for CrawlRun<'_> {
    fn name(&self) -> &'static str {
        "crawl"
    }

    fn spawn(&self, data: &Path) -> Child {
        fake_wiki::spawn_crawl(&self.0.url, data, &["--full"])
    }

    fn progress(&self) -> String {
        format!("{} requests to the wiki so far", self.0.requests())
    }
}

struct ImportRun(PathBuf);

impl Run for ImportRun {
    fn name(&self) -> &'static str {
        "import"
    }

    fn spawn(&self, data: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args(["import", "--dump"])
            .arg(&self.0)
            .arg("--data")
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// When a complete run's `.building` directory appears, and when it is published.
struct Timing {
    building: Duration,
    published: Duration,
}

/// Runs to the end, watching the data directory; the run must succeed.
fn timed_run(run: &dyn Run, data: &Path) -> Timing {
    let before = current(data);
    let started = Instant::now();
    let mut child = run.spawn(data);
    let (mut building, mut published) = (None, None);
    loop {
        if building.is_none() && entries(data).iter().any(|n| n.ends_with(".building")) {
            building = Some(started.elapsed());
        }
        if published.is_none() && current(data) != before {
            published = Some(started.elapsed());
        }
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let published = published.unwrap_or(started.elapsed());
            return Timing {
                building: building.unwrap_or(published),
                published,
            };
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Where a kill landed, judged from what the run left on disk.
/// `crawl`: whether the run records itself in `last-crawl.json` after publishing.
fn landed(
    data: &Path,
    before: &BTreeSet<String>,
    current_before: &Option<String>,
    crawl: bool,
) -> String {
    let after = entries(data);
    let building: Vec<&String> = after.iter().filter(|n| n.ends_with(".building")).collect();
    let new: Vec<&String> = after
        .iter()
        .filter(|n| !n.ends_with(".building") && !before.contains(*n))
        .collect();
    let current_after = current(data);
    if &current_after != current_before {
        let recorded = fs::read_to_string(data.join("last-crawl.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .is_some_and(|r| r["generation"].as_str() == current_after.as_deref());
        let record = if !crawl || recorded {
            ""
        } else {
            " (no run record yet)"
        };
        format!("after publishing {}{record}", current_after.unwrap())
    } else if let Some(orphan) = new.first() {
        format!("publishing: {orphan} renamed into place, `current` not yet replaced")
    } else if let Some(dir) = building.iter().find(|n| !before.contains(**n)) {
        let sqlite = generations_dir(data).join(dir).join("exchange.sqlite");
        let index = generations_dir(data).join(dir).join("index");
        format!(
            "writing the generation: SQLite {} KB, index {} KB",
            fs::metadata(sqlite).map_or(0, |m| m.len()) / 1024,
            size(&index) / 1024
        )
    } else {
        "before writing anything".to_string()
    }
}

/// What the kills did.
struct Kills {
    /// Every generation `current` named at some point.
    published: BTreeSet<String>,
}

/// Where in a run a kill is aimed.
#[derive(Debug, Clone, Copy)]
enum Aim {
    /// A random delay from the start, up to when a complete run publishes.
    Anywhere,
    /// A random delay after the run's `.building` directory appears, up to when a complete
    /// run publishes: while the generation is being written.
    Writing,
    /// As soon as the run's `.building` directory is gone (renamed into place) or
    /// `current` changed: in the middle of publishing, or just after.
    Publishing,
}

/// Kills `KILLS` runs at seeded random points (8 anywhere, 8 while writing, 4 while
/// publishing), checking after each that `current` names a complete generation.
fn kill_runs(run: &dyn Run, data: &Path, timing: &Timing, seed: u64) -> Kills {
    let mut rng = Rng(seed);
    let mut published: BTreeSet<String> = current(data).into_iter().collect();
    let writing = timing.published.saturating_sub(timing.building);
    for k in 0..KILLS {
        let aim = match k % 5 {
            0 | 2 => Aim::Anywhere,
            1 | 3 => Aim::Writing,
            _ => Aim::Publishing,
        };
        let before = entries(data);
        let current_before = current(data);
        let started = Instant::now();
        let mut child = run.spawn(data);
        let deadline = started + Duration::from_secs(60);
        // Its own `.building` (a killed run's is still there until this one's `begin`).
        let own_building = || {
            entries(data)
                .into_iter()
                .find(|n| n.ends_with(".building") && !before.contains(n))
        };
        let mut waited = String::new();
        let delay = match aim {
            Aim::Anywhere => timing.published.mul_f64(rng.unit()),
            Aim::Writing => {
                while own_building().is_none() && child.try_wait().unwrap().is_none() {
                    assert!(Instant::now() < deadline, "no .building directory appeared");
                    std::thread::sleep(Duration::from_micros(200));
                }
                waited = format!(" after {} ms", started.elapsed().as_millis());
                writing.mul_f64(rng.unit())
            }
            Aim::Publishing => {
                let mut seen = None;
                loop {
                    let building = own_building();
                    if seen.is_none() {
                        seen = building.clone();
                    }
                    let renamed = seen.is_some() && building.is_none();
                    if renamed
                        || current(data) != current_before
                        || child.try_wait().unwrap().is_some()
                    {
                        break;
                    }
                    assert!(Instant::now() < deadline, "the run never published");
                    std::thread::sleep(Duration::from_micros(100));
                }
                waited = format!(" after {} ms", started.elapsed().as_millis());
                Duration::from_micros(rng.next() % 2000)
            }
        };
        std::thread::sleep(delay);
        let progress = run.progress();
        let outcome = match child.try_wait().unwrap() {
            Some(status) => {
                let output = child.wait_with_output().unwrap();
                assert!(
                    status.success(),
                    "kill {k}: the run failed on its own: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                "the run had already finished".to_string()
            }
            None => {
                child.kill().unwrap();
                let output = child.wait_with_output().unwrap();
                if output.status.success() {
                    // It finished between the look and the kill.
                    "the run had just finished".to_string()
                } else {
                    assert_eq!(
                        output.status.signal(),
                        Some(9),
                        "kill {k}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                    landed(data, &before, &current_before, run.name() == "crawl")
                }
            }
        };
        let aimed = match aim {
            Aim::Anywhere => "from the start ".to_string(),
            Aim::Writing => format!("writing{waited}"),
            Aim::Publishing => format!("publishing{waited}"),
        };
        let progress = if progress.is_empty() {
            String::new()
        } else {
            format!("; {progress}")
        };
        println!(
            "{} kill {k:2}: {aimed:<24} + {:6.1} ms → {outcome}{progress}",
            run.name(),
            delay.as_secs_f64() * 1000.0
        );
        // Whatever was killed, `current` names a complete generation.
        let now = current(data).expect("a generation stays published");
        let snapshot = DataDir::new(data).open_current().unwrap();
        snapshot.verify().unwrap();
        published.insert(now);
    }
    Kills { published }
}

/// Everything a snapshot holds, comparable across runs (generation ids and times aside).
fn contents(data: &Path) -> Value {
    let snapshot = DataDir::new(data).open_current().unwrap();
    let mut profiles = Vec::new();
    snapshot
        .for_each_profile(|p| {
            profiles.push(serde_json::to_value(&p).unwrap());
            Ok(())
        })
        .unwrap();
    let pages: Vec<Value> = snapshot
        .pages()
        .unwrap()
        .into_iter()
        .map(|p| serde_json::json!([p.title, p.page_id, p.owner, p.latest_revid, p.profile_user]))
        .collect();
    let mut users: Vec<Value> = snapshot
        .users()
        .unwrap()
        .into_iter()
        .map(|u| serde_json::json!([u.name, u.blocked, u.block_expiry, u.email]))
        .collect();
    users.sort_by_key(|u| u.to_string());
    let warnings: BTreeMap<String, Value> = snapshot
        .warnings()
        .unwrap()
        .into_iter()
        .map(|(page, w)| (page, serde_json::to_value(w).unwrap()))
        .collect();
    serde_json::json!({
        "count": snapshot.profile_count().unwrap(),
        "profiles": profiles,
        "pages": pages,
        "users": users,
        "warnings": warnings,
        "thanks": snapshot.thanks().unwrap().len(),
    })
}

/// Nothing half-done is left, the lock file of the killed runs is there (and did not block
/// the run that followed), and `current` is the newest generation.
fn assert_tidy(data: &Path) {
    let names = entries(data);
    assert!(names.iter().all(|n| !n.ends_with(".building")), "{names:?}");
    assert!(!data.join("current.tmp").exists());
    assert!(data.join("indexer.lock").exists());
    let published = DataDir::new(data).published().unwrap();
    // The newest `KEEP_GENERATIONS`, and the one served before the last publish.
    assert!(published.len() <= KEEP_GENERATIONS + 1, "{published:?}");
    assert_eq!(current(data).as_ref(), published.iter().max());
}

/// The web tool saw only good answers from published generations, and never refused one.
fn assert_served_throughout(record: &watched_webtool::Record, published: &BTreeSet<String>) {
    assert!(
        record.failures.is_empty(),
        "{} bad answers, the first: {:#?}",
        record.failures.len(),
        &record.failures[..record.failures.len().min(5)]
    );
    for refresh in &record.refreshes {
        assert!(
            matches!(refresh, Refresh::Swapped { .. }),
            "a killed run left something the web tool refused: {refresh:?}"
        );
    }
    for generation in record.generations.keys() {
        assert!(
            published.contains(generation),
            "an answer came from {generation}, never published: {published:?}"
        );
    }
    assert!(record.answers >= 200, "only {} answers", record.answers);
}

#[test]
fn a_crawl_killed_at_random_points_never_disturbs_the_web_tool_and_the_next_one_is_right() {
    let started = Instant::now();
    let people = 300;
    let wiki = FakeWiki::start(people, Duration::from_millis(10));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = CrawlRun(&wiki);
    let timing = timed_run(&run, &data);
    println!(
        "a crawl of {people} profiles in {} requests: .building after {} ms, published after {} ms",
        wiki.requests(),
        timing.building.as_millis(),
        timing.published.as_millis()
    );
    let first = current(&data).unwrap();
    let watched = Watched::start(&data, &person(1), people as u64);
    let mut kills = kill_runs(&run, &data, &timing, 0x5eed_c4a1);

    // The next crawl succeeds and publishes; it equals a crawl into a fresh directory.
    let summary = dir.path().join("summary.json");
    let out = fake_wiki::crawl(
        &wiki.url,
        &data,
        &["--full", "--summary-json", summary.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(&fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(summary["profiles"], people);
    let last = current(&data).unwrap();
    assert_eq!(summary["generation"], last.as_str());
    kills.published.insert(last.clone());
    assert_tidy(&data);
    watched.wait_for(&last);
    let record = watched.stop();
    assert_served_throughout(&record, &kills.published);
    assert!(record.generations.contains_key(&first));

    let fresh = dir.path().join("fresh");
    assert!(fake_wiki::crawl(&wiki.url, &fresh, &[]).status.success());
    assert_eq!(contents(&data), contents(&fresh));
    assert_eq!(contents(&data)["count"], people);

    // And an incremental crawl after all that finds nothing to do.
    let out = fake_wiki::crawl(&wiki.url, &data, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(current(&data).unwrap(), last);
    println!(
        "{} answers from {} generations, none bad; {:.1} s in all",
        record.answers,
        record.generations.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn an_import_killed_at_random_points_never_disturbs_the_web_tool_and_the_next_one_is_right() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["synth", "--profiles", "300", "--out"])
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success());
    let data = dir.path().join("data");
    let run = ImportRun(export.clone());
    let timing = timed_run(&run, &data);
    let profiles = DataDir::new(&data)
        .open_current()
        .unwrap()
        .profile_count()
        .unwrap();
    println!(
        "an import of {profiles} profiles: .building after {} ms, published after {} ms",
        timing.building.as_millis(),
        timing.published.as_millis()
    );
    let first = current(&data).unwrap();
    let someone = {
        let snapshot = DataDir::new(&data).open_current().unwrap();
        let mut first_user = None;
        snapshot
            .for_each_profile(|p| {
                first_user.get_or_insert(p.user);
                Ok(())
            })
            .unwrap();
        first_user.unwrap()
    };
    let watched = Watched::start(&data, &someone, profiles);
    let mut kills = kill_runs(&run, &data, &timing, 0x1a70_27e5);

    let out = run.spawn(&data).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = current(&data).unwrap();
    kills.published.insert(last.clone());
    assert_tidy(&data);
    watched.wait_for(&last);
    let record = watched.stop();
    assert_served_throughout(&record, &kills.published);
    assert!(record.generations.contains_key(&first));

    let fresh = dir.path().join("fresh");
    assert!(
        run.spawn(&fresh)
            .wait_with_output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(contents(&data), contents(&fresh));
    println!(
        "{} answers from {} generations, none bad; {:.1} s in all",
        record.answers,
        record.generations.len(),
        started.elapsed().as_secs_f64()
    );
}
