//! Reading a published generation.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher};

use super::{
    ConnectionKind, INDEX_DIR, PageRecord, SCHEMA_VERSION, SQLITE_FILE, StoreError, UserRecord,
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
    /// Opens a generation directory, refusing one that is incomplete or of another schema.
    pub fn open(dir: &Path, id: &str) -> Result<Snapshot, StoreError> {
        let db_path = dir.join(SQLITE_FILE);
        if !db_path.is_file() {
            return Err(StoreError::Invalid {
                path: dir.to_path_buf(),
                reason: format!("{SQLITE_FILE} is missing"),
            });
        }
        let conn = open_connection(&db_path)?;
        let invalid = |reason: String| StoreError::Invalid {
            path: dir.to_path_buf(),
            reason,
        };
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
            return Err(invalid(format!(
                "schema version {version:?}, this program reads {SCHEMA_VERSION}"
            )));
        }
        let (index, fields) =
            search_index::open(&dir.join(INDEX_DIR)).map_err(|source| StoreError::Index {
                path: dir.join(INDEX_DIR),
                source,
            })?;
        // A published generation never changes, so the reader never reloads.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| StoreError::Index {
                path: dir.join(INDEX_DIR),
                source,
            })?;
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
