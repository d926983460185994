//! A full disk while a generation is built: the data directory on a small tmpfs mounted by
//! the test (the tests run as root, here and in CI). A first small generation is published
//! and served by the web tool (in process); then
//!
//! - an import that needs more than the space left,
//! - the small import again with the disk filled to leave 0 KB, 8 KB, 16 KB, … free, so
//!   that the disk fills at every step in turn (the schema, the profiles, the search index,
//!   the merge, the pointer), until one fits,
//! - a crawl with the disk full,
//!
//! must each fail with a message naming the problem ("no space left on device") and the
//! path, publish nothing, leave nothing half-written behind, and never disturb the web
//! tool; once there is room again the next run publishes.
//!
//! Where tmpfs cannot be mounted (or with `CAPX_TEST_NO_TMPFS=1`) the test falls back to a
//! file-size limit on the indexer (`ulimit -f`, RLIMIT_FSIZE, with SIGXFSZ ignored so that
//! writes fail with EFBIG) and says so; it fails, saying why, when neither is possible. It
//! never passes without filling a disk or a limit.

#[path = "common/fake_wiki.rs"]
mod fake_wiki;
#[path = "common/watched_webtool.rs"]
mod watched_webtool;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use exchange::store::DataDir;
use watched_webtool::{Record, Watched};
use webtool::state::Refresh;

/// A tmpfs mounted for the test; unmounted when dropped, also when the test fails.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size_kb: u64) -> Result<Tmpfs, String> {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_kb}k,mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still has a file open there: detach it now, freed when closed.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

fn indexer() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_indexer"));
    command.env("RUST_LOG", "warn");
    command
}

fn synth(profiles: usize, out: &Path) {
    let status = indexer()
        .args(["synth", "--profiles", &profiles.to_string(), "--out"])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

fn import(export: &Path, data: &Path) -> Output {
    indexer()
        .args(["import", "--dump"])
        .arg(export)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

/// Fills the file system holding `dir` up to `free` bytes from full: writes until the disk
/// is full, then gives `free` bytes back.
fn fill(dir: &Path, free: u64) -> PathBuf {
    let path = dir.join("filler");
    let mut file = fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                break;
            }
        }
    }
    file.set_len(written.saturating_sub(free)).unwrap();
    file.sync_all().unwrap();
    path
}

fn entries(data: &Path) -> BTreeSet<String> {
    fs::read_dir(data.join("generations"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn current(data: &Path) -> Option<String> {
    DataDir::new(data).current().unwrap()
}

/// A run that must have failed for lack of space, having changed nothing.
fn assert_failed_cleanly(what: &str, out: &Output, data: &Path, before: &BTreeSet<String>) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what} succeeded: {stderr}");
    let lower = stderr.to_lowercase();
    assert!(
        lower.contains("no space left on device"),
        "{what}: the message does not say the disk is full: {stderr}"
    );
    assert!(
        !stderr.contains("SQLite error in") && !stderr.contains("search index error in"),
        "{what}: a full disk is not said as such: {stderr}"
    );
    assert!(
        stderr.contains(&data.display().to_string()),
        "{what}: the message does not name the path: {stderr}"
    );
    assert!(stderr.contains("nothing was published"), "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_eq!(&entries(data), before, "{what}: something was left behind");
    assert!(!data.join("current.tmp").exists(), "{what}");
}

/// The web tool answered well throughout, from `served` only, and refused nothing.
fn assert_served(record: &Record, served: &[&str]) {
    assert!(
        record.failures.is_empty(),
        "{} bad answers: {:#?}",
        record.failures.len(),
        &record.failures[..record.failures.len().min(5)]
    );
    assert!(
        record
            .refreshes
            .iter()
            .all(|r| matches!(r, Refresh::Swapped { .. })),
        "{:?}",
        record.refreshes
    );
    for generation in record.generations.keys() {
        assert!(served.contains(&generation.as_str()), "{generation}");
    }
    assert!(record.answers > 20, "{}", record.answers);
}

fn first_user(data: &Path) -> String {
    let snapshot = DataDir::new(data).open_current().unwrap();
    let mut first = None;
    snapshot
        .for_each_profile(|p| {
            first.get_or_insert(p.user);
            Ok(())
        })
        .unwrap();
    first.unwrap()
}

fn profile_count(data: &Path) -> u64 {
    DataDir::new(data)
        .open_current()
        .unwrap()
        .profile_count()
        .unwrap()
}

#[test]
fn a_full_disk_fails_the_run_clearly_publishes_nothing_and_the_old_generation_serves() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let (small, big) = (tmp.path().join("small.xml"), tmp.path().join("big.xml"));
    synth(20, &small);
    synth(600, &big);
    let disk = tmp.path().join("disk");
    // CAPX_TEST_NO_TMPFS=1 tries the fallback where tmpfs can be mounted.
    let mount = match std::env::var_os("CAPX_TEST_NO_TMPFS") {
        Some(_) => Err("CAPX_TEST_NO_TMPFS is set".to_string()),
        None => Tmpfs::mount(&disk, 1024),
    };
    let mounted = match mount {
        Ok(mounted) => mounted,
        Err(why) => {
            println!("no tmpfs ({why}); falling back to a file-size limit");
            return file_size_limit_instead(tmp.path(), &small, &big, &why);
        }
    };
    let data = mounted.dir.join("data");

    let out = import(&small, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old = current(&data).unwrap();
    let profiles = profile_count(&data);
    let watched = Watched::start(&data, &first_user(&data), profiles);
    let before = entries(&data);

    // More than the space left.
    let out = import(&big, &data);
    assert_failed_cleanly("the big import", &out, &data, &before);
    println!(
        "the big import: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    assert_eq!(current(&data).unwrap(), old);
    assert_eq!(watched.serving().unwrap(), old);

    // The small one again, the disk filled to leave less and less room.
    let mut published = None;
    for free_kb in (0..=512).step_by(8) {
        let filler = fill(&mounted.dir, free_kb * 1024);
        let out = import(&small, &data);
        fs::remove_file(&filler).unwrap();
        if out.status.success() {
            println!("{free_kb:3} KB free: published");
            published = current(&data);
            break;
        }
        assert_failed_cleanly(&format!("{free_kb} KB free"), &out, &data, &before);
        assert_eq!(current(&data).unwrap(), old);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr
            .trim()
            .rsplit("published: ")
            .next()
            .unwrap_or_default();
        println!("{free_kb:3} KB free: {message}");
    }
    let new = published.expect("the small import fits in 512 KB");
    assert_ne!(new, old);
    watched.wait_for(&new);

    // A crawl with the disk full.
    let wiki = fake_wiki::FakeWiki::start(60, Duration::ZERO);
    let before = entries(&data);
    let filler = fill(&mounted.dir, 0);
    let out = fake_wiki::crawl(&wiki.url, &data, &["--full"]);
    assert_failed_cleanly("the crawl", &out, &data, &before);
    println!("the crawl: {}", String::from_utf8_lossy(&out.stderr).trim());
    assert_eq!(current(&data).unwrap(), new);
    fs::remove_file(&filler).unwrap();
    let state = std::sync::Arc::clone(&watched.state);
    let record = watched.stop();
    assert_served(&record, &[old.as_str(), new.as_str()]);

    // Room again: the crawl publishes, and is served.
    let out = fake_wiki::crawl(&wiki.url, &data, &["--full"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crawled = current(&data).unwrap();
    assert_eq!(profile_count(&data), 60);
    assert_eq!(
        state.refresh(),
        Refresh::Swapped {
            generation: crawled
        }
    );
    drop(state);
    drop(mounted);
    println!("{:.1} s in all", started.elapsed().as_secs_f64());
}

/// Without tmpfs: the big import under `ulimit -f` (SIGXFSZ ignored, so writes fail with
/// EFBIG), checked the same way except for the wording.
fn file_size_limit_instead(tmp: &Path, small: &Path, big: &Path, why_no_tmpfs: &str) {
    let data = tmp.join("data");
    let out = import(small, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let old = current(&data).unwrap();
    let watched = Watched::start(&data, &first_user(&data), profile_count(&data));
    let before = entries(&data);
    // 512 blocks of 512 bytes: more than the small generation's files, less than the big's.
    let script = r#"trap '' XFSZ; ulimit -f 512 || exit 111; exec "$0" "$@""#;
    let out = Command::new("sh")
        .args([
            "-c",
            script,
            env!("CARGO_BIN_EXE_indexer"),
            "import",
            "--dump",
        ])
        .arg(big)
        .arg("--data")
        .arg(&data)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(111),
        "neither a tmpfs ({why_no_tmpfs}) nor a file-size limit could be set up"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("the big import under ulimit -f: {}", stderr.trim());
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("nothing was published"), "{stderr}");
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert_eq!(entries(&data), before);
    assert_eq!(current(&data).unwrap(), old);
    let record = watched.stop();
    assert_served(&record, &[old.as_str()]);
}
