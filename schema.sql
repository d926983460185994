-- The Capacity Exchange snapshot: the one definition of its tables.
--
-- A snapshot generation is written once by the indexer and then only read. Everything in it
-- can be rebuilt from the wiki: the wiki is the source of truth, this is a derived copy.
-- The `exchange` crate embeds this file; bump `schema_version` in `meta` when it changes.

-- Facts about the generation: schema_version, generation, created, source, wiki, taxonomy_version,
-- crawl_started (where the next incremental crawl starts), complete.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per person with a profile. `json` is the profile exactly as the API serves it;
-- the other columns are there to filter and count without parsing JSON.
CREATE TABLE profiles (
    id        INTEGER PRIMARY KEY,
    user      TEXT NOT NULL UNIQUE,
    page      TEXT NOT NULL,
    page_id   INTEGER,
    revid     INTEGER NOT NULL,
    updated   TEXT,                 -- RFC 3339, UTC
    country   TEXT,                 -- ISO 3166-1 alpha-2
    region    TEXT,                 -- SSA, NWE, ESEAP, LAC, CEECA, SA, MENA, NA
    timezone  TEXT,
    status    TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    email     INTEGER NOT NULL DEFAULT 0 CHECK (email IN (0, 1)),  -- the user accepts e-mail
    json      TEXT NOT NULL
);

-- The skills on each profile, in the order the owner wrote them.
CREATE TABLE profile_skills (
    profile_id INTEGER NOT NULL REFERENCES profiles (id),
    kind       TEXT NOT NULL CHECK (kind IN ('offers', 'wants', 'knows')),
    position   INTEGER NOT NULL,
    skill_id   TEXT,                -- a taxonomy skill …
    free_text  TEXT,                -- … or free text, never both
    CHECK ((skill_id IS NULL) <> (free_text IS NULL)),
    PRIMARY KEY (profile_id, kind, position)
) WITHOUT ROWID;
CREATE INDEX profile_skills_by_skill ON profile_skills (skill_id, kind) WHERE skill_id IS NOT NULL;
CREATE INDEX profile_skills_by_text ON profile_skills (free_text, kind) WHERE free_text IS NOT NULL;

-- Languages and Babel levels (0–5, and 6 for native).
CREATE TABLE profile_languages (
    profile_id INTEGER NOT NULL REFERENCES profiles (id),
    code       TEXT NOT NULL,
    level      INTEGER NOT NULL CHECK (level BETWEEN 0 AND 6),
    PRIMARY KEY (profile_id, code)
) WITHOUT ROWID;
CREATE INDEX profile_languages_by_code ON profile_languages (code, level);

-- Every page that calls the profile template, with or without a usable profile: what an
-- incremental crawl compares against.
CREATE TABLE pages (
    title        TEXT PRIMARY KEY,
    page_id      INTEGER,
    owner        TEXT,                -- the user whose page it is
    latest_revid INTEGER,             -- the newest revision seen, by anyone
    profile_user TEXT                 -- set when the page gave the owner's profile
) WITHOUT ROWID;

-- What the wiki says about the owners of the pages above (the crawler's users pass):
-- whether they are blocked sitewide (their profile is then not shown) and accept e-mail.
CREATE TABLE users (
    name         TEXT PRIMARY KEY,
    blocked      INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    block_expiry TEXT,                -- RFC 3339, or NULL for an indefinite block
    email        INTEGER NOT NULL DEFAULT 0 CHECK (email IN (0, 1))
) WITHOUT ROWID;

-- What the parser could not read as written, per page, to show owners and reports.
CREATE TABLE warnings (
    page    TEXT NOT NULL,
    revid   INTEGER,
    param   TEXT,
    message TEXT NOT NULL
);

-- Connections (see exchange::connections). Pages the crawler read thanks or request markers
-- from, with the newest revision it saw: what an incremental crawl compares against.
CREATE TABLE connection_pages (
    title        TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('thanks', 'requests')),
    latest_revid INTEGER NOT NULL
) WITHOUT ROWID;

-- Every thanks as written on the thanker's own user page (the owner's latest revision),
-- whether or not it counts: the counting rules are applied when the snapshot is read, so
-- the rules can change without a new crawl.
CREATE TABLE thanks (
    page               TEXT NOT NULL,
    revid              INTEGER NOT NULL,
    timestamp          TEXT NOT NULL,   -- RFC 3339, UTC: when that revision was saved
    thanker            TEXT NOT NULL,   -- the page's owner
    thanker_registered TEXT,            -- RFC 3339, NULL when the wiki does not know
    thanked            TEXT NOT NULL,
    skill_id           TEXT,            -- a taxonomy skill …
    free_text          TEXT,            -- … or free text, or neither (no skill given)
    date               TEXT,            -- YYYY-MM-DD, as the thanker wrote it
    note               TEXT
);
CREATE INDEX thanks_by_page ON thanks (page);

-- Every request marker on a User talk page, with the revision that added it: its author
-- is the requester.
CREATE TABLE requests (
    page      TEXT NOT NULL,
    revid     INTEGER NOT NULL,
    timestamp TEXT NOT NULL,
    requester TEXT NOT NULL,
    skill_id  TEXT,
    free_text TEXT
);
CREATE INDEX requests_by_page ON requests (page);
