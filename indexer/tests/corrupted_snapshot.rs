//! A published snapshot that someone corrupted: the web tool serves generation A; a copy of
//! a newer generation B is damaged in one way after another (the SQLite file truncated,
//! overwritten in the middle, replaced, removed; its tables edited; the search index
//! removed, a segment file removed, damaged or truncated; `current` pointing at a missing
//! directory or holding garbage) and published by replacing `current`. Each time the web
//! tool's refresh must refuse it with one clear log line naming the generation and the
//! problem, keep answering from A, not read it again at every look, and never panic; an
//! intact generation published afterwards is served at once.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use exchange::{dump, import, synth};
use webtool::state::{AppState, Refresh};

fn import_synth(data: &DataDir, profiles: usize, seed: u64) -> String {
    let mut bytes = Vec::new();
    synth::write_export(&mut bytes, profiles, seed, Taxonomy::bundled()).unwrap();
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let open = || Ok(dump::open_bytes(bytes));
    import::import(&open, data, "test", &mut |_| {})
        .unwrap()
        .generation
}

/// Log lines, captured.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Takes the lines logged so far.
    fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces `current` the way the indexer does.
fn point_at(data: &DataDir, text: &str) {
    let tmp = data.root().join("current.tmp");
    fs::write(&tmp, text).unwrap();
    fs::rename(&tmp, data.root().join("current")).unwrap();
}

/// The search index's segment files, largest first.
fn segment_files(generation: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(generation.join("index"))
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && name != "meta.json"
        })
        .map(|e| (e.metadata().unwrap().len(), e.path()))
        .collect();
    files.sort();
    files.reverse();
    files.into_iter().map(|(_, p)| p).collect()
}

fn with_extension(generation: &Path, extension: &str) -> PathBuf {
    segment_files(generation)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == extension))
        .unwrap_or_else(|| panic!("no .{extension} file"))
}

/// Overwrites `len` bytes in the middle of a file with garbage.
fn scribble(file: &Path, len: usize) {
    let mut bytes = fs::read(file).unwrap();
    let start = bytes.len() / 2;
    let end = (start + len).min(bytes.len());
    for (i, b) in bytes[start..end].iter_mut().enumerate() {
        *b = 0xa5 ^ (i as u8);
    }
    fs::write(file, bytes).unwrap();
}

fn truncate_to_half(file: &Path) {
    let len = fs::metadata(file).unwrap().len();
    fs::File::options()
        .write(true)
        .open(file)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
}

fn sql(generation: &Path, statement: &str) {
    let conn = rusqlite_connection(&generation.join("exchange.sqlite"));
    conn.execute_batch(statement).unwrap();
}

fn rusqlite_connection(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// A user with a profile in both generations.
fn someone_in_both(data: &DataDir, a: &str, b: &str) -> String {
    let open = |id: &str| exchange::store::Snapshot::open(&data.generation_dir(id), id).unwrap();
    let (a, b) = (open(a), open(b));
    let mut found = None;
    a.for_each_profile(|p| {
        if found.is_none() && b.profile(&p.user).unwrap().is_some() {
            found = Some(p.user);
        }
        Ok(())
    })
    .unwrap();
    found.expect("the two synthetic exports share someone")
}

type Damage = fn(&Path);

/// Each way of damaging a generation, with a word its refusal must give.
fn damages() -> Vec<(&'static str, Damage, &'static str)> {
    vec![
        (
            "SQLite file truncated to half",
            |g| truncate_to_half(&g.join("exchange.sqlite")),
            "truncated",
        ),
        (
            "SQLite file overwritten in the middle",
            |g| scribble(&g.join("exchange.sqlite"), 3 * 4096),
            "quick_check",
        ),
        (
            "SQLite file replaced by garbage",
            |g| fs::write(g.join("exchange.sqlite"), vec![0x42u8; 64 * 1024]).unwrap(),
            "not an SQLite database",
        ),
        (
            "SQLite file emptied",
            |g| fs::write(g.join("exchange.sqlite"), b"").unwrap(),
            "too short",
        ),
        (
            "SQLite file removed",
            |g| fs::remove_file(g.join("exchange.sqlite")).unwrap(),
            "missing",
        ),
        (
            "wrong schema_version in meta",
            |g| {
                sql(
                    g,
                    "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
                )
            },
            "schema version",
        ),
        (
            "meta says it was never completed",
            |g| sql(g, "DELETE FROM meta WHERE key = 'complete'"),
            "never completed",
        ),
        ("meta table dropped", |g| sql(g, "DROP TABLE meta"), "meta"),
        (
            "half the profiles deleted",
            |g| {
                sql(
                    g,
                    "PRAGMA foreign_keys = OFF; DELETE FROM profiles WHERE id % 2 = 0",
                )
            },
            "were written",
        ),
        (
            "search index directory removed",
            |g| fs::remove_dir_all(g.join("index")).unwrap(),
            "index",
        ),
        (
            "a segment file removed",
            |g| fs::remove_file(with_extension(g, "term")).unwrap(),
            "index",
        ),
        (
            "a segment file overwritten in the middle",
            |g| scribble(&with_extension(g, "store"), 256),
            "damaged search index files",
        ),
        (
            "a segment file truncated",
            |g| truncate_to_half(&with_extension(g, "idx")),
            "index",
        ),
        (
            "the index's meta.json replaced by garbage",
            |g| fs::write(g.join("index").join("meta.json"), b"{not json").unwrap(),
            "index",
        ),
    ]
}

/// What the served web tool answers, on a loopback port.
struct Server {
    base: String,
    runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start(state: Arc<AppState>) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = webtool::router(state);
        runtime.spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Server { base, runtime }
    }

    /// The generation `/healthz` names, after checking that a profile is served too.
    fn serving(&self, user: &str) -> String {
        self.runtime.block_on(async {
            let health = reqwest::get(format!("{}/healthz", self.base))
                .await
                .unwrap();
            assert_eq!(health.status(), 200);
            let health: serde_json::Value = health.json().await.unwrap();
            let profile = reqwest::get(format!(
                "{}/api/v1/profiles/{}",
                self.base,
                user.replace(' ', "_")
            ))
            .await
            .unwrap();
            assert_eq!(profile.status(), 200);
            health["generation"].as_str().unwrap().to_string()
        })
    }
}

#[test]
fn a_corrupted_generation_is_refused_with_a_clear_log_line_and_the_previous_one_serves() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    let a = import_synth(&data, 40, 1);
    let state = Arc::new(AppState::new(data.clone()));
    assert_eq!(
        state.refresh(),
        Refresh::Swapped {
            generation: a.clone()
        }
    );
    let server = Server::start(Arc::clone(&state));
    logs.take();

    // B: a newer, intact generation, of which damaged copies are published.
    let b = import_synth(&data, 60, 2);
    let user = someone_in_both(&data, &a, &b);
    assert_eq!(server.serving(&user), a);
    point_at(&data, &format!("{a}\n"));
    let pristine = data.generation_dir(&b);
    for (n, (what, damage, says)) in damages().into_iter().enumerate() {
        let id = format!("{b}-x{n}");
        let copy = data.generation_dir(&id);
        copy_tree(&pristine, &copy);
        damage(&copy);
        point_at(&data, &format!("{id}\n"));
        let refresh = state.refresh();
        let Refresh::Refused {
            generation,
            serving,
            reason,
        } = &refresh
        else {
            panic!("{what}: not refused: {refresh:?}");
        };
        assert_eq!(generation.as_deref(), Some(id.as_str()), "{what}");
        assert_eq!(serving.as_deref(), Some(a.as_str()), "{what}");
        assert!(reason.contains(says), "{what}: {reason}");
        let lines = logs.take();
        assert_eq!(lines.len(), 1, "{what}: {lines:#?}");
        let line = &lines[0];
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains(&id), "{what}: {line}");
        assert!(
            line.contains(&format!("keeping the previous one ({a})")),
            "{what}: {line}"
        );
        assert!(line.contains(reason.as_str()), "{what}: {line}");
        println!("{what}: {reason}");
        // Still A, over HTTP too; looking again neither reads it again nor logs again.
        assert_eq!(server.serving(&user), a, "{what}");
        assert!(matches!(state.refresh(), Refresh::Refused { .. }));
        assert_eq!(logs.take(), Vec::<String>::new(), "{what}");
        assert_eq!(state.snapshot().unwrap().id(), a);
    }

    // `current` naming a directory that is not there, or holding garbage.
    for (what, text, says) in [
        (
            "a missing directory",
            "29990101T000000.000Z-gone\n",
            "missing",
        ),
        ("garbage", "\u{0}\u{1}garbage!\n", "pointer"),
    ] {
        point_at(&data, text);
        let refresh = state.refresh();
        let Refresh::Refused {
            reason, serving, ..
        } = &refresh
        else {
            panic!("{what}: not refused: {refresh:?}");
        };
        assert!(reason.contains(says), "{what}: {reason}");
        assert_eq!(serving.as_deref(), Some(a.as_str()));
        let lines = logs.take();
        assert_eq!(lines.len(), 1, "{what}: {lines:#?}");
        assert!(
            lines[0].contains("ERROR") && lines[0].contains(says),
            "{lines:?}"
        );
        println!("current pointing at {what}: {reason}");
        assert_eq!(server.serving(&user), a);
        assert!(matches!(state.refresh(), Refresh::Refused { .. }));
        assert_eq!(logs.take(), Vec::<String>::new(), "{what}");
    }

    // An intact generation is served at once.
    point_at(&data, &format!("{b}\n"));
    assert_eq!(
        state.refresh(),
        Refresh::Swapped {
            generation: b.clone()
        }
    );
    let lines = logs.take();
    assert!(
        lines.len() == 1 && lines[0].contains("serving a new snapshot"),
        "{lines:?}"
    );
    assert_eq!(server.serving(&user), b);
}
