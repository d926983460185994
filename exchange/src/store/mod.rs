//! Snapshot generations on disk, and how they are published.
//!
//! ```text
//! DATA/
//!   current                      the id of the generation being served (one line)
//!   serving                      the id the web tool actually serves (one line; it may
//!                                refuse a newer `current` and keep an older one)
//!   indexer.lock                 held by the indexer run that is building
//!   generations/<id>/            a published generation: never changed again
//!     exchange.sqlite            tables of schema.sql
//!     index/                     the tantivy index
//!   generations/<id>.building/   a generation being written (never read)
//! ```
//!
//! A generation is written completely in its `.building` directory, made durable (every
//! file and directory fsynced), renamed into place, and only then published by atomically
//! replacing `current`. A run that fails or is killed at any point leaves `current` as it
//! was, so readers keep the previous generation. SQLite is opened `immutable` by readers:
//! no locks, which is what makes sharing over NFS (Toolforge) safe.
//!
//! What a run leaves behind when it stops at each point:
//!
//! - failed (an error, a full disk): nothing; its `.building` directory is removed;
//! - killed while building: a `.building` directory, removed by the next [`DataDir::begin`]
//!   (and never read: readers only follow `current`);
//! - killed between the rename and the new pointer: a complete generation that was never
//!   current, removed in its turn when old generations are ([`KEEP_GENERATIONS`]);
//! - killed with `current.tmp` written: that file, replaced by the next publish;
//! - `indexer.lock` always stays; the lock on it is the kernel's (`flock`), released when
//!   the process ends however it ends, so a killed run never blocks the next one.

mod reader;
mod writer;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use reader::Snapshot;
pub use writer::{ConnectionKind, GenerationBuilder, PageRecord, ProfileRecord, UserRecord};

/// Bumped whenever schema.sql changes; a reader refuses generations of another version.
pub const SCHEMA_VERSION: u32 = 2;
/// How many published generations to keep (the current one and the ones before it, for
/// readers that have not switched yet).
pub const KEEP_GENERATIONS: usize = 3;

pub(crate) const SCHEMA_SQL: &str = include_str!("../../../schema.sql");
const SQLITE_FILE: &str = "exchange.sqlite";
const INDEX_DIR: &str = "index";
const BUILDING_SUFFIX: &str = ".building";

/// What can go wrong with the data directory.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("SQLite error in {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("search index error in {path}: {source}")]
    Index {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("another indexer run is writing to {0} (it holds indexer.lock)")]
    Locked(PathBuf),
    #[error("{path} holds no published generation")]
    NoGeneration { path: PathBuf },
    #[error("generation {path} is not usable: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("cannot store the profile of {user}: {reason}")]
    Profile { user: String, reason: String },
    /// The disk (or the quota) is full: SQLite's `SQLITE_FULL`, or an `ENOSPC`/`EDQUOT`
    /// from the search index. Said plainly, whoever reports it.
    #[error("no space left on device: cannot write {path} ({detail})")]
    DiskFull { path: PathBuf, detail: String },
}

/// Whether an I/O error means that the file system (or the quota) is full.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// An SQLite error on the generation's database; a full disk is said as such.
pub(crate) fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::DiskFull {
                path: path.to_path_buf(),
                detail: format!("SQLite: {source}"),
            }
        } else {
            StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// A search index error; a full disk is said as such.
pub(crate) fn index_err(path: &Path) -> impl Fn(tantivy::TantivyError) -> StoreError + '_ {
    use tantivy::TantivyError;
    use tantivy::directory::error::{OpenReadError, OpenWriteError};
    move |source| {
        let io = match &source {
            TantivyError::IoError(io)
            | TantivyError::OpenWriteError(OpenWriteError::IoError { io_error: io, .. })
            | TantivyError::OpenReadError(OpenReadError::IoError { io_error: io, .. }) => {
                Some(io.as_ref())
            }
            _ => None,
        };
        // Some of tantivy's paths keep only the message of the I/O error (`Internal`, or an
        // `io::Error` remade from another), so its errno is read back from the text.
        if io.is_some_and(|io| is_disk_full(io) || says_disk_full(&io.to_string()))
            || says_disk_full(&source.to_string())
        {
            let detail = match io {
                Some(io) => io.to_string(),
                None => source.to_string(),
            };
            StoreError::DiskFull {
                path: path.to_path_buf(),
                detail: format!("search index: {detail}"),
            }
        } else {
            StoreError::Index {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// Whether an error message carries the `(os error N)` of a full disk or quota, as Rust
/// prints I/O errors.
fn says_disk_full(text: &str) -> bool {
    text.match_indices("(os error ").any(|(at, found)| {
        let digits: String = text[at + found.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .is_ok_and(|errno| is_disk_full(&io::Error::from_raw_os_error(errno)))
    })
}

/// Replaces the file at `path` with `bytes` so that a reader sees the old file or the new
/// one, never part of one: written next to it as `<name>.tmp`, made durable, then renamed
/// over it. A failed attempt takes its temporary file away again. (The pointer to the
/// current generation, the generation the web tool serves, the crawl's record.)
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let Some(name) = path.file_name() else {
        return Err(StoreError::Invalid {
            path: path.to_path_buf(),
            reason: "not a file name".to_string(),
        });
    };
    let mut tmp_name = name.to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let written = File::create(&tmp)
        .map_err(io_err("creating", &tmp))
        .and_then(|mut file| {
            file.write_all(bytes).map_err(io_err("writing", &tmp))?;
            file.sync_all().map_err(io_err("syncing", &tmp))
        })
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err("replacing", path)));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

pub(crate) fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// The data directory shared by the indexer (writer) and the web tool (reader).
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn generations(&self) -> PathBuf {
        self.root.join("generations")
    }

    fn pointer(&self) -> PathBuf {
        self.root.join("current")
    }

    fn serving_file(&self) -> PathBuf {
        self.root.join("serving")
    }

    /// Records that a reader serves generation `id`, so that pruning keeps it however many
    /// newer generations are published: a web tool that refuses every newer generation (a
    /// schema the indexer was upgraded to first, say) must not have the one it serves
    /// deleted under it. One reader is assumed; the last to write wins.
    pub fn mark_serving(&self, id: &str) -> Result<(), StoreError> {
        replace_file(&self.serving_file(), format!("{id}\n").as_bytes())
    }

    /// The generation a reader said it serves ([`mark_serving`](Self::mark_serving)).
    fn serving(&self) -> Option<String> {
        let text = fs::read_to_string(self.serving_file()).ok()?;
        let id = text.trim();
        is_generation_id(id).then(|| id.to_string())
    }

    /// The directory of a published generation.
    pub fn generation_dir(&self, id: &str) -> PathBuf {
        self.generations().join(id)
    }

    /// The id of the generation being served, if any.
    pub fn current(&self) -> Result<Option<String>, StoreError> {
        let pointer = self.pointer();
        match fs::read(&pointer) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let id = text.trim();
                if id.is_empty() || !is_generation_id(id) {
                    return Err(StoreError::Invalid {
                        path: pointer,
                        reason: format!("the pointer holds {id:?}, not a generation id"),
                    });
                }
                Ok(Some(id.to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("reading", &pointer)(e)),
        }
    }

    /// Opens the generation being served, read-only.
    pub fn open_current(&self) -> Result<Snapshot, StoreError> {
        let id = self.current()?.ok_or_else(|| StoreError::NoGeneration {
            path: self.root.clone(),
        })?;
        Snapshot::open(&self.generation_dir(&id), &id)
    }

    /// Starts a new generation. Holds the indexer lock until the builder is published or
    /// dropped, so two runs never build at once.
    pub fn begin(&self, source: &str) -> Result<GenerationBuilder, StoreError> {
        fs::create_dir_all(self.generations()).map_err(io_err("creating", &self.generations()))?;
        let lock_path = self.root.join("indexer.lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("opening", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(self.root.clone())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err("locking", &lock_path)(e)),
        }
        // Left-overs of runs that crashed: nobody else can be building while we hold the lock.
        self.remove_matching(|name| name.ends_with(BUILDING_SUFFIX))?;
        let id = new_generation_id();
        let dir = self.generations().join(format!("{id}{BUILDING_SUFFIX}"));
        GenerationBuilder::create(self.clone(), id, dir, source, lock)
    }

    /// Makes a finished `.building` directory the current generation.
    ///
    /// Fails only when the generation was *not* published (`current` unchanged, and the
    /// renamed directory taken away again: nobody ever saw it). Once `current` names it,
    /// what is left to do (syncing the directory, removing old generations) can only be
    /// warned about: the run did publish.
    fn publish(&self, id: &str, building: &Path) -> Result<(), StoreError> {
        sync_tree(building)?;
        let previous = self.current().ok().flatten();
        let final_dir = self.generation_dir(id);
        fs::rename(building, &final_dir).map_err(io_err("renaming", building))?;
        let swapped = sync_dir(&self.generations())
            .and_then(|()| replace_file(&self.pointer(), format!("{id}\n").as_bytes()));
        if let Err(e) = swapped {
            // Not published: the pointer still names the previous generation.
            let _ = fs::remove_dir_all(&final_dir);
            return Err(e);
        }
        if let Err(e) = sync_dir(&self.root) {
            tracing::warn!("generation {id} is published, but {e}");
        }
        if let Err(e) = self.prune(KEEP_GENERATIONS, previous.as_deref()) {
            tracing::warn!("generation {id} is published, but removing old ones failed: {e}");
        }
        Ok(())
    }

    /// Removes published generations beyond the newest `keep`, never the current one nor
    /// the one a reader serves.
    pub fn remove_old(&self, keep: usize) -> Result<(), StoreError> {
        self.prune(keep, None)
    }

    /// [`remove_old`](Self::remove_old), also keeping `also`: the generation that was
    /// current until a moment ago, which a reader may still be serving. (Generations that
    /// were never current, left by a run killed just before its pointer swap, sort newer
    /// than it and must not push it out.)
    fn prune(&self, keep: usize, also: Option<&str>) -> Result<(), StoreError> {
        let current = self.current()?;
        let serving = self.serving();
        let mut ids = self.published()?;
        ids.sort();
        let excess = ids.len().saturating_sub(keep);
        for id in ids.into_iter().take(excess) {
            if Some(&id) != current.as_ref()
                && Some(id.as_str()) != also
                && Some(&id) != serving.as_ref()
            {
                let dir = self.generation_dir(&id);
                fs::remove_dir_all(&dir).map_err(io_err("removing", &dir))?;
            }
        }
        Ok(())
    }

    /// The ids of the published generations on disk, in no particular order.
    pub fn published(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.generations();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("listing", &dir)(e)),
        };
        Ok(entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| is_generation_id(name))
            .collect())
    }

    fn remove_matching(&self, pred: impl Fn(&str) -> bool) -> Result<(), StoreError> {
        let dir = self.generations();
        for entry in fs::read_dir(&dir)
            .map_err(io_err("listing", &dir))?
            .flatten()
        {
            if entry.file_name().to_str().is_some_and(&pred) {
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_err("removing", &path))?;
            }
        }
        Ok(())
    }
}

/// Generation ids sort by creation time: `20261126T103400.123Z-1a2b`.
fn new_generation_id() -> String {
    let now = chrono::Utc::now();
    let salt: u16 = rand::random();
    format!("{}-{salt:04x}", now.format("%Y%m%dT%H%M%S%.3fZ"))
}

fn is_generation_id(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !name.ends_with(BUILDING_SUFFIX)
        && !name.starts_with('.')
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing", dir))
}

/// fsyncs every file and directory below `root`, so a rename can only expose complete data.
fn sync_tree(root: &Path) -> Result<(), StoreError> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(io_err("listing", &dir))? {
            let entry = entry.map_err(io_err("listing", &dir))?;
            let path = entry.path();
            if entry
                .file_type()
                .map_err(io_err("inspecting", &path))?
                .is_dir()
            {
                stack.push(path);
            } else {
                File::open(&path)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err("syncing", &path))?;
            }
        }
        sync_dir(&dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
