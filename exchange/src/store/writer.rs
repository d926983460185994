//! Writing one generation: SQLite tables and the search index, side by side.

use std::fs::{self, File};
use std::path::PathBuf;

use rusqlite::{Connection, params};

use super::{
    DataDir, INDEX_DIR, SCHEMA_SQL, SCHEMA_VERSION, SQLITE_FILE, StoreError, index_err, io_err,
    sqlite_err,
};
use crate::connections::{RequestRecord, ThanksRecord};
use crate::profile::{Profile, SkillKind, SkillRef, Status, Warning};
use crate::search_index::IndexBuilder;
use crate::taxonomy::Taxonomy;

/// A profile with what the wiki says about its owner besides the page.
#[derive(Debug, Clone, Copy)]
pub struct ProfileRecord<'a> {
    pub profile: &'a Profile,
    pub page_id: Option<u64>,
    /// The owner accepts e-mail through Special:EmailUser.
    pub accepts_email: bool,
}

/// A page that calls the profile template, whether or not it gave a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    pub title: String,
    pub page_id: Option<u64>,
    pub owner: Option<String>,
    pub latest_revid: Option<u64>,
    pub profile_user: Option<String>,
}

/// What the wiki says about a page owner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserRecord {
    pub name: String,
    /// Blocked sitewide.
    pub blocked: bool,
    pub block_expiry: Option<String>,
    /// Accepts e-mail through Special:EmailUser.
    pub email: bool,
}

/// What a connection page was read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectionKind {
    /// A user page calling the thanks template.
    Thanks,
    /// A User talk page calling the request marker.
    Requests,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Thanks => "thanks",
            ConnectionKind::Requests => "requests",
        }
    }
}

fn skill_columns(skill: Option<&SkillRef>) -> (Option<&str>, Option<&str>) {
    match skill {
        Some(SkillRef::Known { id, .. }) => (Some(id.as_str()), None),
        Some(SkillRef::Free { text }) => (None, Some(text.as_str())),
        None => (None, None),
    }
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A generation being written. Dropping it without [`publish`](Self::publish) throws the
/// work away and leaves the served generation untouched.
pub struct GenerationBuilder {
    data: DataDir,
    id: String,
    dir: PathBuf,
    conn: Option<Connection>,
    index: Option<IndexBuilder>,
    profiles: u64,
    published: bool,
    _lock: File,
}

fn sql_err(path: &std::path::Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    sqlite_err(path)
}

impl GenerationBuilder {
    pub(super) fn create(
        data: DataDir,
        id: String,
        dir: PathBuf,
        source: &str,
        lock: File,
    ) -> Result<GenerationBuilder, StoreError> {
        // Once the builder exists, its `Drop` removes the directory of a failed run; until
        // then (a full disk fails the schema already), this does.
        Self::create_in(data, id, &dir, source, lock).inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })
    }

    fn create_in(
        data: DataDir,
        id: String,
        dir: &std::path::Path,
        source: &str,
        lock: File,
    ) -> Result<GenerationBuilder, StoreError> {
        fs::create_dir_all(dir.join(INDEX_DIR)).map_err(io_err("creating", dir))?;
        let db_path = dir.join(SQLITE_FILE);
        let conn = Connection::open(&db_path).map_err(sql_err(&db_path))?;
        // Nothing reads this file until it is complete and fsynced, so no journal is needed.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;",
        )
        .map_err(sql_err(&db_path))?;
        conn.execute_batch(SCHEMA_SQL).map_err(sql_err(&db_path))?;
        conn.execute_batch("BEGIN").map_err(sql_err(&db_path))?;
        let index_dir = dir.join(INDEX_DIR);
        let index = IndexBuilder::create(&index_dir).map_err(index_err(&index_dir))?;
        let mut builder = GenerationBuilder {
            data,
            id,
            dir: dir.to_path_buf(),
            conn: Some(conn),
            index: Some(index),
            profiles: 0,
            published: false,
            _lock: lock,
        };
        let created = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        builder.set_meta("schema_version", &SCHEMA_VERSION.to_string())?;
        builder.set_meta("generation", &builder.id.clone())?;
        builder.set_meta("created", &created)?;
        builder.set_meta("source", source)?;
        builder.set_meta(
            "taxonomy_version",
            &Taxonomy::bundled().version().to_string(),
        )?;
        Ok(builder)
    }

    /// The id the generation will be published under.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many profiles were added so far.
    pub fn profile_count(&self) -> u64 {
        self.profiles
    }

    fn conn(&self) -> &Connection {
        // Only `publish` takes the connection, and it consumes the builder.
        self.conn
            .as_ref()
            .expect("connection present until publish")
    }

    fn db_path(&self) -> PathBuf {
        self.dir.join(SQLITE_FILE)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let path = self.db_path();
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Adds one person's profile. Each user may have only one profile per generation.
    pub fn add_profile(&mut self, record: ProfileRecord<'_>) -> Result<(), StoreError> {
        let p = record.profile;
        let path = self.db_path();
        let json = serde_json::to_string(p).map_err(|e| StoreError::Profile {
            user: p.user.clone(),
            reason: e.to_string(),
        })?;
        let conn = self.conn();
        let updated = p
            .updated
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let status = match p.status {
            Status::Active => "active",
            Status::Paused => "paused",
        };
        let inserted = conn
            .prepare_cached(
                "INSERT INTO profiles (user, page, page_id, revid, updated, country, region, \
                 timezone, status, email, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    p.user,
                    p.page,
                    record.page_id,
                    p.revid,
                    updated,
                    p.country,
                    p.region.map(|r| r.code()),
                    p.timezone,
                    status,
                    record.accepts_email,
                    json,
                ])
            });
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(StoreError::Profile {
                    user: p.user.clone(),
                    reason: "the user already has a profile in this generation".into(),
                });
            }
            Err(e) => return Err(sql_err(&path)(e)),
        }
        let profile_id = conn.last_insert_rowid();
        {
            let mut stmt = conn
                .prepare_cached(
                    "INSERT INTO profile_skills (profile_id, kind, position, skill_id, free_text) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql_err(&path))?;
            for kind in SkillKind::ALL {
                for (position, skill) in p.skills(kind).iter().enumerate() {
                    let (id, text) = match skill {
                        SkillRef::Known { id, .. } => (Some(id.as_str()), None),
                        SkillRef::Free { text } => (None, Some(text.as_str())),
                    };
                    stmt.execute(params![profile_id, kind.as_str(), position, id, text])
                        .map_err(sql_err(&path))?;
                }
            }
            let mut stmt = conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO profile_languages (profile_id, code, level) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql_err(&path))?;
            for language in &p.languages {
                stmt.execute(params![profile_id, language.code, language.level.rank()])
                    .map_err(sql_err(&path))?;
            }
        }
        let index_dir = self.dir.join(INDEX_DIR);
        if let Some(index) = self.index.as_mut() {
            index
                .add(p, Taxonomy::bundled())
                .map_err(index_err(&index_dir))?;
        }
        self.profiles += 1;
        Ok(())
    }

    /// Records a page that calls the template (what incremental crawls compare against).
    pub fn add_page(&mut self, page: &PageRecord) -> Result<(), StoreError> {
        let path = self.db_path();
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO pages (title, page_id, owner, latest_revid, profile_user) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    page.title,
                    page.page_id,
                    page.owner,
                    page.latest_revid,
                    page.profile_user
                ])
            })
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Records what the wiki says about a page owner.
    pub fn add_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        let path = self.db_path();
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO users (name, blocked, block_expiry, email) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![user.name, user.blocked, user.block_expiry, user.email]))
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Records a page read for connections, with the newest revision seen of it.
    pub fn add_connection_page(
        &mut self,
        title: &str,
        kind: ConnectionKind,
        latest_revid: u64,
    ) -> Result<(), StoreError> {
        let path = self.db_path();
        self.conn()
            .prepare_cached(
                "INSERT OR REPLACE INTO connection_pages (title, kind, latest_revid) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![title, kind.as_str(), latest_revid]))
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Records a thanks as written, whether or not it counts (the rules apply on reading).
    pub fn add_thanks(&mut self, thanks: &ThanksRecord) -> Result<(), StoreError> {
        let path = self.db_path();
        let (skill_id, free_text) = skill_columns(thanks.skill.as_ref());
        self.conn()
            .prepare_cached(
                "INSERT INTO thanks (page, revid, timestamp, thanker, thanker_registered, thanked, \
                 skill_id, free_text, date, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    thanks.page,
                    thanks.revid,
                    rfc3339(thanks.timestamp),
                    thanks.thanker,
                    thanks.thanker_registered.map(rfc3339),
                    thanks.thanked,
                    skill_id,
                    free_text,
                    thanks.date.map(|d| d.format("%Y-%m-%d").to_string()),
                    thanks.note,
                ])
            })
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Records a request marker with the revision that added it.
    pub fn add_request(&mut self, request: &RequestRecord) -> Result<(), StoreError> {
        let path = self.db_path();
        let (skill_id, free_text) = skill_columns(request.skill.as_ref());
        self.conn()
            .prepare_cached(
                "INSERT INTO requests (page, revid, timestamp, requester, skill_id, free_text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    request.page,
                    request.revid,
                    rfc3339(request.timestamp),
                    request.requester,
                    skill_id,
                    free_text,
                ])
            })
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Records a parser warning for a page.
    pub fn add_warning(
        &mut self,
        page: &str,
        revid: Option<u64>,
        warning: &Warning,
    ) -> Result<(), StoreError> {
        let path = self.db_path();
        self.conn()
            .prepare_cached(
                "INSERT INTO warnings (page, revid, param, message) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![page, revid, warning.param, warning.message]))
            .map_err(sql_err(&path))?;
        Ok(())
    }

    /// Finishes the generation, makes it durable and makes it the current one.
    pub fn publish(mut self) -> Result<String, StoreError> {
        let path = self.db_path();
        self.set_meta("profiles", &self.profiles.to_string())?;
        self.set_meta("complete", "1")?;
        let conn = self.conn.take().expect("connection present until publish");
        conn.execute_batch("COMMIT; ANALYZE;")
            .map_err(sql_err(&path))?;
        conn.close().map_err(|(_, e)| sql_err(&path)(e))?;
        if let Some(index) = self.index.take() {
            index
                .finish()
                .map_err(index_err(&self.dir.join(INDEX_DIR)))?;
        }
        self.data.publish(&self.id, &self.dir)?;
        self.published = true;
        Ok(self.id.clone())
    }
}

impl Drop for GenerationBuilder {
    fn drop(&mut self) {
        if !self.published {
            self.conn.take();
            self.index.take();
            // Best effort: the next run removes any left-over `.building` directory anyway.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
