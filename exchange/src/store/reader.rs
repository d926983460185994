//! Reading a published generation.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher};

use super::{
    ConnectionKind, INDEX_DIR, PageRecord, SCHEMA_VERSION, SQLITE_FILE, StoreError, UserRecord,
    io_err,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

use crate::connections::{RequestRecord, ThanksRecord};
use crate::profile::{Profile, SkillRef, Warning};
use crate::search_index::{self, Fields};
use crate::taxonomy::Taxonomy;

/// A published generation, open read-only. Never changes while open.
pub struct Snapshot {
    id: String,
    dir: PathBuf,
    /// A few connections to the same immutable file, so that requests answered at the
    /// same time do not wait for each other's lookups (see [`Snapshot::with_conn`]).
    conns: Vec<Mutex<Connection>>,
    /// Which connection a caller waits for when all are busy: spreads the waiters.
    next_conn: AtomicUsize,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("id", &self.id).finish()
    }
}

impl Snapshot {
    /// Opens a generation directory, refusing one that is incomplete or of another schema,
    /// or visibly damaged: a database file that is not SQLite or not as long as its header
    /// says (truncated, extended), a profile count that differs from the one written at
    /// publishing, a search index that does not open or does not hold every profile. These
    /// checks read a few pages; [`verify`](Self::verify) reads everything.
    pub fn open(dir: &Path, id: &str) -> Result<Snapshot, StoreError> {
        let db_path = dir.join(SQLITE_FILE);
        let invalid = |reason: String| StoreError::Invalid {
            path: dir.to_path_buf(),
            reason,
        };
        if !dir.is_dir() {
            return Err(invalid("its directory is missing".into()));
        }
        if !db_path.is_file() {
            return Err(invalid(format!("{SQLITE_FILE} is missing")));
        }
        check_sqlite_file(&db_path).map_err(|e| invalid(format!("{SQLITE_FILE} {e}")))?;
        let conn = open_connection(&db_path)?;
        let meta = |key: &str| -> Result<Option<String>, StoreError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(|e| invalid(format!("cannot read its meta table: {e}")))
        };
        if meta("complete")?.as_deref() != Some("1") {
            return Err(invalid("it was never completed".into()));
        }
        let version = meta("schema_version")?;
        if version.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
            let found = version.map_or_else(|| "none".to_string(), |v| format!("{v:?}"));
            return Err(invalid(format!(
                "schema version {found}, this program reads {SCHEMA_VERSION}"
            )));
        }
        let profiles: u64 = conn
            .query_row("SELECT count(*) FROM profiles", [], |r| r.get(0))
            .map_err(|e| invalid(format!("cannot count its profiles: {e}")))?;
        if let Some(written) = meta("profiles")?
            && written != profiles.to_string()
        {
            return Err(invalid(format!(
                "it holds {profiles} profiles, {written} were written"
            )));
        }
        let index_dir = dir.join(INDEX_DIR);
        let index_error = |source| StoreError::Index {
            path: index_dir.clone(),
            source,
        };
        let (index, fields) = search_index::open(&index_dir).map_err(index_error)?;
        // A published generation never changes, so the reader never reloads.
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(index_error)?;
        let documents = reader.searcher().num_docs();
        if documents != profiles {
            return Err(invalid(format!(
                "its search index holds {documents} documents for {profiles} profiles"
            )));
        }
        let mut conns = vec![Mutex::new(conn)];
        for _ in 1..connection_count() {
            conns.push(Mutex::new(open_connection(&db_path)?));
        }
        Ok(Snapshot {
            id: id.to_string(),
            dir: dir.to_path_buf(),
            conns,
            next_conn: AtomicUsize::new(0),
            index,
            reader,
            fields,
        })
    }

    /// Reads the whole generation and checks it: SQLite's `PRAGMA quick_check` (every page
    /// and record well-formed) and the checksum of every file of the search index. What a
    /// server runs before it starts answering from a new generation, so that bytes damaged
    /// after publishing are refused at once rather than met by some request later. At
    /// 100,000 profiles (230 MB) it takes about a second.
    pub fn verify(&self) -> Result<(), StoreError> {
        let invalid = |reason: String| StoreError::Invalid {
            path: self.dir.clone(),
            reason,
        };
        let problems: Vec<String> = self
            .with_conn(|c| {
                let mut stmt = c.prepare("PRAGMA quick_check")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect()
            })
            .map_err(|e| invalid(format!("{SQLITE_FILE} does not pass quick_check: {e}")))?;
        if problems != ["ok"] {
            // One line for the log, however many SQLite found (its rows hold line breaks).
            let lines: Vec<&str> = problems
                .iter()
                .flat_map(|p| p.lines())
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("***"))
                .collect();
            let more = match lines.len() {
                0..=3 => String::new(),
                n => format!(" (and {} more)", n - 3),
            };
            return Err(invalid(format!(
                "{SQLITE_FILE} does not pass quick_check: {}{more}",
                lines[..lines.len().min(3)].join("; ")
            )));
        }
        let index_dir = self.dir.join(INDEX_DIR);
        let entries = std::fs::read_dir(&index_dir).map_err(io_err("listing", &index_dir))?;
        let mut damaged = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("listing", &index_dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue;
            };
            // meta.json and tantivy's own dot files carry no checksum; every segment file does.
            if name.starts_with('.') || name == "meta.json" {
                continue;
            }
            match self.index.directory().validate_checksum(Path::new(name)) {
                Ok(true) => {}
                Ok(false) => damaged.push(name.to_string()),
                Err(e) => damaged.push(format!("{name} ({e})")),
            }
        }
        if !damaged.is_empty() {
            damaged.sort();
            return Err(invalid(format!(
                "damaged search index files: {}",
                damaged.join(", ")
            )));
        }
        Ok(())
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index(&self) -> (&Index, Fields) {
        (&self.index, self.fields)
    }

    /// A searcher over the generation's index (cheap: the segments are already open).
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// A connection nobody is using, or (all busy) one to wait for, taken in turn.
    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        for conn in &self.conns {
            match conn.try_lock() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next_conn.fetch_add(1, Ordering::Relaxed) % self.conns.len();
        self.conns[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let conn = self.connection();
        f(&conn).map_err(|source| StoreError::Sqlite {
            path: self.dir.join(SQLITE_FILE),
            source,
        })
    }

    /// A value of the generation's meta table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.with_conn(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn profile_count(&self) -> Result<u64, StoreError> {
        self.with_conn(|c| c.query_row("SELECT count(*) FROM profiles", [], |r| r.get(0)))
    }

    /// One person's profile, by normalised user name.
    pub fn profile(&self, user: &str) -> Result<Option<Profile>, StoreError> {
        let json: Option<String> = self.with_conn(|c| {
            c.prepare_cached("SELECT json FROM profiles WHERE user = ?1")?
                .query_row([user], |r| r.get(0))
                .optional()
        })?;
        json.map(|j| self.decode(&j)).transpose()
    }

    /// The profiles of several people, in the order asked, `None` for a name without one:
    /// a page of search results in one visit to the database (decoded outside it).
    pub fn profiles(&self, users: &[String]) -> Result<Vec<Option<Profile>>, StoreError> {
        let json: Vec<Option<String>> = self.with_conn(|c| {
            let mut stmt = c.prepare_cached("SELECT json FROM profiles WHERE user = ?1")?;
            users
                .iter()
                .map(|user| stmt.query_row([user], |r| r.get(0)).optional())
                .collect()
        })?;
        json.into_iter()
            .map(|j| j.map(|j| self.decode(&j)).transpose())
            .collect()
    }

    /// Active profiles with any of `skill_ids` on list `kind`, most recently updated first:
    /// what a skill's feed of new offers shows.
    pub fn newest_with_skill(
        &self,
        skill_ids: &[&str],
        kind: crate::profile::SkillKind,
        limit: usize,
    ) -> Result<Vec<Profile>, StoreError> {
        if skill_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; skill_ids.len()].join(",");
        let sql = format!(
            "SELECT json FROM profiles WHERE status = 'active' AND id IN \
             (SELECT profile_id FROM profile_skills WHERE kind = ? AND skill_id IN ({placeholders})) \
             ORDER BY updated DESC, user LIMIT ?"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let kind = kind.as_str();
        let json: Vec<String> = self.with_conn(|c| {
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&kind];
            params.extend(skill_ids.iter().map(|id| id as &dyn rusqlite::ToSql));
            params.push(&limit);
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params.as_slice(), |r| r.get(0))?;
            rows.collect()
        })?;
        json.iter().map(|j| self.decode(j)).collect()
    }

    /// Whether the owner accepts e-mail.
    pub fn accepts_email(&self, user: &str) -> Result<bool, StoreError> {
        self.with_conn(|c| {
            c.query_row("SELECT email FROM profiles WHERE user = ?1", [user], |r| {
                r.get(0)
            })
            .optional()
            .map(|v: Option<bool>| v.unwrap_or(false))
        })
    }

    /// Calls `f` with every profile, in user-name order.
    pub fn for_each_profile(
        &self,
        mut f: impl FnMut(Profile) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let conn = self.connection();
        let sql = |source| StoreError::Sqlite {
            path: self.dir.join(SQLITE_FILE),
            source,
        };
        let mut stmt = conn
            .prepare("SELECT json FROM profiles ORDER BY user")
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(row) = rows.next().map_err(sql)? {
            let json: String = row.get(0).map_err(sql)?;
            let profile = self.decode(&json)?;
            f(profile).map_err(|e| StoreError::Io {
                action: "writing profiles from",
                path: self.dir.clone(),
                source: e,
            })?;
        }
        Ok(())
    }

    /// How many people have each taxonomy skill on each list.
    pub fn skill_counts(
        &self,
    ) -> Result<HashMap<(String, crate::profile::SkillKind), u64>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT skill_id, kind, count(DISTINCT profile_id) FROM profile_skills \
                 WHERE skill_id IS NOT NULL GROUP BY skill_id, kind",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u64>(2)?,
                ))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (id, kind, count) = row?;
                if let Ok(kind) = kind.parse() {
                    out.insert((id, kind), count);
                }
            }
            Ok(out)
        })
    }

    /// Each profile's revision, by user: what a crawl compares to count changes.
    pub fn profile_revisions(&self) -> Result<HashMap<String, u64>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT user, revid FROM profiles")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
            rows.collect()
        })
    }

    /// Every page that called the template at the last run.
    pub fn pages(&self) -> Result<Vec<PageRecord>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT title, page_id, owner, latest_revid, profile_user FROM pages ORDER BY title",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PageRecord {
                    title: r.get(0)?,
                    page_id: r.get(1)?,
                    owner: r.get(2)?,
                    latest_revid: r.get(3)?,
                    profile_user: r.get(4)?,
                })
            })?;
            rows.collect()
        })
    }

    /// What the wiki said about page owners at the last run.
    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT name, blocked, block_expiry, email FROM users")?;
            let rows = stmt.query_map([], |r| {
                Ok(UserRecord {
                    name: r.get(0)?,
                    blocked: r.get(1)?,
                    block_expiry: r.get(2)?,
                    email: r.get(3)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Pages read for connections at the last run: title → (kind, newest revision seen).
    pub fn connection_pages(&self) -> Result<HashMap<String, (ConnectionKind, u64)>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT title, kind, latest_revid FROM connection_pages")?;
            let rows = stmt.query_map([], |r| {
                let kind = match r.get::<_, String>(1)?.as_str() {
                    "thanks" => ConnectionKind::Thanks,
                    _ => ConnectionKind::Requests,
                };
                Ok((r.get::<_, String>(0)?, (kind, r.get::<_, u64>(2)?)))
            })?;
            rows.collect()
        })
    }

    /// Every thanks as written (the counting rules are [`crate::connections::count`]'s).
    pub fn thanks(&self) -> Result<Vec<ThanksRecord>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT page, revid, timestamp, thanker, thanker_registered, thanked, skill_id, \
                 free_text, date, note FROM thanks ORDER BY rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ThanksRecord {
                    page: r.get(0)?,
                    revid: r.get(1)?,
                    timestamp: time_column(r, 2)?,
                    thanker: r.get(3)?,
                    thanker_registered: r.get::<_, Option<String>>(4)?.and_then(|t| parse_time(&t)),
                    thanked: r.get(5)?,
                    skill: skill_column(r.get(6)?, r.get(7)?),
                    date: r
                        .get::<_, Option<String>>(8)?
                        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                    note: r.get(9)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Every request marker with the revision that added it.
    pub fn requests(&self) -> Result<Vec<RequestRecord>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT page, revid, timestamp, requester, skill_id, free_text FROM requests \
                 ORDER BY rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(RequestRecord {
                    page: r.get(0)?,
                    revid: r.get(1)?,
                    timestamp: time_column(r, 2)?,
                    requester: r.get(3)?,
                    skill: skill_column(r.get(4)?, r.get(5)?),
                })
            })?;
            rows.collect()
        })
    }

    /// Parser warnings, by page title.
    pub fn warnings(&self) -> Result<HashMap<String, Vec<Warning>>, StoreError> {
        self.with_conn(|c| {
            let mut stmt = c.prepare("SELECT page, param, message FROM warnings ORDER BY rowid")?;
            let mut out: HashMap<String, Vec<Warning>> = HashMap::new();
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?;
            for row in rows {
                let (page, param, message) = row?;
                out.entry(page)
                    .or_default()
                    .push(Warning { param, message });
            }
            Ok(out)
        })
    }

    fn decode(&self, json: &str) -> Result<Profile, StoreError> {
        serde_json::from_str(json).map_err(|e| StoreError::Invalid {
            path: self.dir.clone(),
            reason: format!("a stored profile does not decode: {e}"),
        })
    }
}

/// Checks the database file against its own header: SQLite's magic string, a valid page
/// size, and (when the header's page count is valid, as it is in every file SQLite wrote)
/// a length of exactly that many pages. An `immutable` database is never checked by SQLite
/// itself against its length: a truncated file would fail only on the first read past
/// the end, in the middle of serving.
fn check_sqlite_file(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be opened: {e}"))?;
    let length = file
        .metadata()
        .map_err(|e| format!("cannot be inspected: {e}"))?
        .len();
    let mut header = [0u8; 100];
    if length < 100 || file.read_exact(&mut header).is_err() {
        return Err(format!(
            "is {length} bytes long: too short for an SQLite database"
        ));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err("is not an SQLite database (its header is not SQLite's)".into());
    }
    let be32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536,
        n if n >= 512 && n.is_power_of_two() => u64::from(n),
        n => return Err(format!("has an invalid page size ({n}) in its header")),
    };
    let pages = u64::from(be32(28));
    let pages_valid = pages > 0 && be32(24) == be32(92);
    if pages_valid && length != pages * page_size {
        return Err(format!(
            "is {length} bytes long, its header says {} ({pages} pages of {page_size}): \
             it was truncated or extended",
            pages * page_size
        ));
    }
    if length % page_size != 0 {
        return Err(format!(
            "is {length} bytes long, not a whole number of {page_size}-byte pages"
        ));
    }
    Ok(())
}

/// Opens the generation's database read-only, `immutable` (it never changes): SQLite then
/// takes no locks, which is what makes reading over NFS safe.
fn open_connection(db_path: &Path) -> Result<Connection, StoreError> {
    let uri = format!("file:{}?immutable=1", db_path.display());
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Sqlite {
        path: db_path.to_path_buf(),
        source,
    })
}

/// How many connections a snapshot keeps: two per core (a request holds one only for
/// its lookups, so a few more than the cores is enough for those that overlap), at least
/// two and at most eight. Each has its own page cache of at most 2 MB.
fn connection_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 2).clamp(2, 8)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A timestamp column the writer filled; a bad one is an error naming the column.
fn time_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(index)?;
    parse_time(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("{text:?} is not an RFC 3339 time").into(),
        )
    })
}

/// A skill from its two columns, labelled from the bundled taxonomy.
fn skill_column(id: Option<String>, free_text: Option<String>) -> Option<SkillRef> {
    match (id, free_text) {
        (Some(id), _) => {
            let taxonomy = Taxonomy::bundled();
            let label = taxonomy
                .get(&id)
                .map_or_else(|| id.clone(), |s| taxonomy.label(s, "en").to_string());
            Some(SkillRef::Known { id, label })
        }
        (None, Some(text)) => Some(SkillRef::Free { text }),
        (None, None) => None,
    }
}
