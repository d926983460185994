//! `indexer crawl`: the live wiki → a published snapshot, fully or incrementally.
//!
//! A full crawl lists every User page that transcludes the template (`generator=embeddedin`
//! with the newest revision's content in the same requests), fetches the owner's newest
//! revision where someone else edited last, checks the owners' block and e-mail status in
//! one batched `list=users` pass, and publishes. An incremental crawl asks
//! `list=recentchanges|logevents` what happened since the previous run (with an overlap),
//! re-reads only those pages and carries everything else over from the previous generation.
//! The trust rules themselves live in `exchange::harvest`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use exchange::collection::Collection;
use exchange::harvest::{PageHistory, Revision, harvest_page};
use exchange::parse::{PROFILE_TEMPLATE, ProfileTemplate};
use exchange::store::{ConnectionKind, DataDir, Snapshot, UserRecord, replace_file};
use exchange::taxonomy::Taxonomy;
use exchange::wikitext::title::{
    NS_TEMPLATE, NS_USER, NS_USER_TALK, Title, normalize_user_name, owner_of,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

use crate::wiki::{Credentials, Politeness, Wiki};

mod connections;

use connections::{Connections, ThanksPages};
use exchange::connections::{REQUEST_TEMPLATE, THANKS_TEMPLATE};

/// How far back an incremental crawl looks before the previous run started, so that
/// changes saved while it ran (or under clock skew) are not missed.
pub const OVERLAP: Duration = Duration::from_secs(10 * 60);
/// Pages changed since the last run beyond which logging in pays off (higher batch limits).
const LOGIN_THRESHOLD: usize = 500;
const LAST_CRAWL_FILE: &str = "last-crawl.json";
/// How old the previous run may be for an incremental crawl (well within `$wgRCMaxAge`).
const RC_MAX_AGE_DAYS: i64 = 30;

/// What to crawl and how.
pub struct CrawlOptions {
    /// How far before the previous run's start an incremental crawl looks.
    pub overlap: Duration,
    pub api: String,
    pub data: DataDir,
    pub full: bool,
    pub credentials: Credentials,
    pub politeness: Politeness,
}

/// The `--summary-json` of DESIGN.md.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlSummary {
    pub mode: &'static str,
    /// Every HTTP request the run made, retries and login included.
    pub requests: u64,
    pub pages_fetched: u64,
    pub profiles: u64,
    pub added: u64,
    pub updated: u64,
    pub removed: u64,
    /// The generation served after the run.
    pub generation: Option<String>,
}

/// Recorded after every successful run, so that a run with nothing to do still moves the
/// starting point of the next one forward without publishing a generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LastCrawl {
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    mode: String,
    generation: Option<String>,
    requests: u64,
    /// The newest recent-changes and log entries already taken into account.
    #[serde(default)]
    marks: Marks,
}

/// Where the previous run stopped reading recent changes and logs. Ids only grow, so an
/// entry at or below a mark was already taken into account, whatever its timestamp.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Marks {
    rcid: u64,
    logid: u64,
}

/// The page of a template, as the API names it (`Template:Capacity Exchange profile`).
fn template_page(name: &str) -> String {
    format!("Template:{name}")
}

fn template_title() -> String {
    template_page(PROFILE_TEMPLATE)
}

/// The other names (redirects) the crawler's three templates are called by, asked in one
/// request and kept in the generation's meta: a change means every page must be read again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TemplateAliases {
    profile: Vec<String>,
    thanks: Vec<String>,
    request: Vec<String>,
}

impl TemplateAliases {
    const META_KEYS: [&str; 3] = ["template_aliases", "thanks_aliases", "request_aliases"];

    fn lists(&self) -> [&Vec<String>; 3] {
        [&self.profile, &self.thanks, &self.request]
    }

    /// The aliases a generation was crawled with; `None` when it does not say (it was
    /// imported, or crawled before connections were).
    fn from_meta(snapshot: &Snapshot) -> Result<Option<TemplateAliases>> {
        let list = |key: &str| -> Result<Option<Vec<String>>> {
            Ok(snapshot.meta(key)?.map(|value| {
                value
                    .split('|')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect()
            }))
        };
        let [profile, thanks, request] = Self::META_KEYS;
        Ok(match (list(profile)?, list(thanks)?, list(request)?) {
            (Some(profile), Some(thanks), Some(request)) => Some(TemplateAliases {
                profile,
                thanks,
                request,
            }),
            _ => None,
        })
    }
}

/// A page as fetched from the API.
#[derive(Debug, Default, Clone)]
struct Fetched {
    title: String,
    namespace: i32,
    page_id: Option<u64>,
    missing: bool,
    redirect: bool,
    /// Calls the profile template (from `prop=templates`, or listed as calling it).
    transcludes: bool,
    /// Calls the thanks template (from `prop=templates`).
    calls_thanks: bool,
    latest: Option<Revision>,
}

fn parse_revision(rev: &Value) -> Option<Revision> {
    let revid = rev.get("revid")?.as_u64()?;
    let timestamp = rev
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let user = if rev.get("userhidden").and_then(Value::as_bool) == Some(true) {
        None
    } else {
        rev.get("user")
            .and_then(Value::as_str)
            .and_then(normalize_user_name)
    };
    let main = rev.get("slots").and_then(|s| s.get("main"));
    let hidden = main
        .and_then(|m| m.get("texthidden"))
        .and_then(Value::as_bool)
        == Some(true);
    let text = if hidden {
        None
    } else {
        main.and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Some(Revision {
        revid,
        timestamp,
        user,
        text,
    })
}

/// Merges the `pages` of one answer into `into`, keyed by title (pages repeat across
/// `rvcontinue` batches, each time with what that batch added).
fn merge_pages(answer: &Value, into: &mut HashMap<String, Fetched>) {
    let (profile, thanks) = (template_title(), template_page(THANKS_TEMPLATE));
    let Some(pages) = answer
        .get("query")
        .and_then(|q| q.get("pages"))
        .and_then(Value::as_array)
    else {
        return;
    };
    for page in pages {
        let Some(title) = page.get("title").and_then(Value::as_str) else {
            continue;
        };
        let entry = into.entry(title.to_string()).or_insert_with(|| Fetched {
            title: title.to_string(),
            ..Fetched::default()
        });
        if let Some(ns) = page.get("ns").and_then(Value::as_i64) {
            entry.namespace = ns as i32;
        }
        if let Some(id) = page.get("pageid").and_then(Value::as_u64) {
            entry.page_id = Some(id);
        }
        if page.get("missing").and_then(Value::as_bool) == Some(true)
            || page.get("invalid").and_then(Value::as_bool) == Some(true)
        {
            entry.missing = true;
        }
        if page.get("redirect").and_then(Value::as_bool) == Some(true) {
            entry.redirect = true;
        }
        for template in page
            .get("templates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("title").and_then(Value::as_str))
        {
            if template == profile {
                entry.transcludes = true;
            } else if template == thanks {
                entry.calls_thanks = true;
            }
        }
        if let Some(rev) = page
            .get("revisions")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(parse_revision)
        {
            entry.latest = Some(rev);
        }
    }
}

/// Adds the redirects of one answer of [`Crawler::aliases_and_rights`] to the lists of
/// their templates (`titles`: profile, thanks, request).
fn read_aliases(answer: &Value, titles: &[String; 3], into: &mut TemplateAliases) {
    for page in answer
        .pointer("/query/pages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let title = page
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let list = match titles.iter().position(|t| t == title) {
            Some(0) => &mut into.profile,
            Some(1) => &mut into.thanks,
            Some(2) => &mut into.request,
            _ => continue,
        };
        if title == titles[0] && page.get("missing").and_then(Value::as_bool) == Some(true) {
            warn!("the wiki has no {title}; pages may still call it");
        }
        list.extend(
            page.get("redirects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("title").and_then(Value::as_str))
                .map(str::to_string),
        );
    }
}

/// The newest recent-changes and move-log ids of an answer (0 where a list is empty).
fn read_marks(answer: &Value) -> Marks {
    let first_id = |list: &str, key: &str| {
        answer
            .get("query")
            .and_then(|q| q.get(list))
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(|e| e.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    Marks {
        rcid: first_id("recentchanges", "rcid"),
        logid: first_id("logevents", "logid"),
    }
}

struct Progress(ProgressBar);

impl Progress {
    fn new(what: &str) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message(what.to_string());
        Progress(bar)
    }

    fn update(&self, message: String) {
        if self.0.is_hidden() {
            info!("{message}");
        } else {
            self.0.set_message(message);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The crawler's state for one run.
struct Crawler<'a> {
    wiki: Wiki,
    options: &'a CrawlOptions,
    high_limits: bool,
    pages_fetched: u64,
    /// Account creation dates learnt during the run (`None` inside: the wiki does not know).
    registered: HashMap<String, Option<DateTime<Utc>>>,
}

impl Crawler<'_> {
    fn new(wiki: Wiki, options: &CrawlOptions) -> Crawler<'_> {
        Crawler {
            wiki,
            options,
            high_limits: false,
            pages_fetched: 0,
            registered: HashMap::new(),
        }
    }

    fn batch(&self) -> usize {
        if self.high_limits { 500 } else { 50 }
    }

    /// The templates' redirects (their aliases) and whether the account has high limits,
    /// in one request; with `marks`, also the newest recent-changes and move-log ids, so
    /// that the next incremental run starts exactly after what this full crawl saw.
    async fn aliases_and_rights(&mut self, marks: bool) -> Result<(TemplateAliases, Marks)> {
        let titles = [
            template_title(),
            template_page(THANKS_TEMPLATE),
            template_page(REQUEST_TEMPLATE),
        ];
        let mut params = vec![
            ("action", "query".to_string()),
            ("titles", titles.join("|")),
            ("prop", "redirects".to_string()),
            ("rdnamespace", NS_TEMPLATE.to_string()),
            ("rdlimit", "max".to_string()),
        ];
        if self.wiki.is_logged_in() {
            params.push(("meta", "userinfo".to_string()));
            params.push(("uiprop", "rights".to_string()));
        }
        let redirects_only = params.clone();
        if marks {
            params.extend(Self::marks_params());
        }
        let answer = self.wiki.query(&params).await?;
        let mut aliases = TemplateAliases::default();
        read_aliases(&answer, &titles, &mut aliases);
        // More redirects than one answer holds: ask for them alone, to the end (the lists
        // of recent changes would otherwise be continued too).
        if answer.pointer("/continue/rdcontinue").is_some() {
            aliases = TemplateAliases::default();
            self.wiki
                .query_continued(&redirects_only, |answer| {
                    read_aliases(answer, &titles, &mut aliases);
                    Ok(())
                })
                .await?;
        }
        if let Some(rights) = answer
            .pointer("/query/userinfo/rights")
            .and_then(Value::as_array)
        {
            self.high_limits = rights.iter().any(|r| r.as_str() == Some("apihighlimits"));
        }
        for list in [
            &mut aliases.profile,
            &mut aliases.thanks,
            &mut aliases.request,
        ] {
            list.sort();
            list.dedup();
        }
        Ok((aliases, read_marks(&answer)))
    }

    fn marks_params() -> [(&'static str, String); 7] {
        [
            ("list", "recentchanges|logevents".to_string()),
            ("rcprop", "ids".to_string()),
            ("rclimit", "1".to_string()),
            ("letype", "move".to_string()),
            ("leprop", "ids".to_string()),
            ("lelimit", "1".to_string()),
            ("rcdir", "older".to_string()),
        ]
    }

    /// Every User page transcluding the template, with its newest revision.
    async fn list_transcluding(&mut self) -> Result<HashMap<String, Fetched>> {
        let progress = Progress::new("listing pages that use the template");
        let mut pages = HashMap::new();
        let mut continuation: Vec<(String, String)> = Vec::new();
        loop {
            let mut params = vec![
                ("action", "query".to_string()),
                ("generator", "embeddedin".to_string()),
                ("geititle", template_title()),
                ("geinamespace", NS_USER.to_string()),
                ("geilimit", self.batch().to_string()),
                ("prop", "revisions".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
            ];
            for (k, v) in &continuation {
                params.push((k.as_str(), v.clone()));
            }
            let answer = self.wiki.query(&params).await?;
            merge_pages(&answer, &mut pages);
            progress.update(format!("{} pages listed", pages.len()));
            let Some(next) = answer.get("continue").and_then(Value::as_object) else {
                break;
            };
            continuation = next
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect();
            // More than one batch: now logging in pays off, at a batch boundary.
            let at_boundary = !continuation.iter().any(|(k, _)| k.starts_with("rv"));
            if at_boundary && !self.wiki.is_logged_in() && !self.options.credentials.is_anonymous()
            {
                self.log_in().await?;
            }
        }
        for page in pages.values_mut() {
            page.transcludes = true;
        }
        self.pages_fetched += pages.len() as u64;
        Ok(pages)
    }

    /// Replaces the anonymous connection by a logged-in one and learns its limits.
    async fn log_in(&mut self) -> Result<()> {
        let before = self.wiki.requests();
        let options = self.options;
        self.wiki = Wiki::connect(
            &options.api,
            &options.credentials,
            options.politeness.clone(),
        )
        .await?;
        self.wiki.add_requests(before);
        let answer = self
            .wiki
            .query(
                &[
                    ("action", "query"),
                    ("meta", "userinfo"),
                    ("uiprop", "rights"),
                ]
                .map(|(k, v)| (k, v.to_string())),
            )
            .await?;
        self.high_limits = answer
            .get("query")
            .and_then(|q| q.get("userinfo"))
            .and_then(|u| u.get("rights"))
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|r| r.as_str() == Some("apihighlimits")));
        info!(
            high_limits = self.high_limits,
            "logged in for the large crawl"
        );
        Ok(())
    }

    /// Re-reads named pages: newest revision, whether they call the profile and the thanks
    /// templates, and whether they still exist or became redirects.
    async fn read_pages(&mut self, titles: &[String]) -> Result<HashMap<String, Fetched>> {
        let mut pages = HashMap::new();
        let progress = Progress::new("re-reading changed pages");
        for chunk in titles.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("titles", chunk.join("|")),
                ("prop", "revisions|templates|info".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
                (
                    "tltemplates",
                    format!("{}|{}", template_title(), template_page(THANKS_TEMPLATE)),
                ),
                ("tllimit", "max".to_string()),
            ];
            self.wiki
                .query_continued(&params, |answer| {
                    merge_pages(answer, &mut pages);
                    Ok(())
                })
                .await?;
            progress.update(format!(
                "{} of {} changed pages read",
                pages.len(),
                titles.len()
            ));
        }
        self.pages_fetched += pages.values().filter(|p| p.latest.is_some()).count() as u64;
        Ok(pages)
    }

    /// The newest readable revision saved by each page's owner, for pages whose newest
    /// revision is someone else's (or hidden): `list=usercontribs` for the owners, then the
    /// texts by revision id, both in batches.
    async fn owner_revisions(
        &mut self,
        wanted: &[(String, String)],
    ) -> Result<HashMap<String, Revision>> {
        let mut newest: HashMap<String, u64> = HashMap::new();
        let titles: HashSet<&str> = wanted.iter().map(|(t, _)| t.as_str()).collect();
        let owners: BTreeSet<&str> = wanted.iter().map(|(_, o)| o.as_str()).collect();
        let owners: Vec<&str> = owners.into_iter().collect();
        for chunk in owners.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("list", "usercontribs".to_string()),
                ("ucuser", chunk.join("|")),
                ("ucnamespace", NS_USER.to_string()),
                ("ucprop", "ids|title|timestamp".to_string()),
                ("uclimit", "max".to_string()),
            ];
            self.wiki
                .query_continued(&params, |answer| {
                    for contrib in answer
                        .get("query")
                        .and_then(|q| q.get("usercontribs"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let (Some(title), Some(revid), Some(user)) = (
                            contrib.get("title").and_then(Value::as_str),
                            contrib.get("revid").and_then(Value::as_u64),
                            contrib.get("user").and_then(Value::as_str),
                        ) else {
                            continue;
                        };
                        let hidden =
                            contrib.get("texthidden").and_then(Value::as_bool) == Some(true);
                        let owner = owner_of(title);
                        let own = owner.as_deref() == normalize_user_name(user).as_deref();
                        if titles.contains(title) && own && !hidden {
                            let best = newest.entry(title.to_string()).or_insert(revid);
                            *best = (*best).max(revid);
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        let revids: Vec<String> = newest.values().map(u64::to_string).collect();
        let mut found = HashMap::new();
        for chunk in revids.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("revids", chunk.join("|")),
                ("prop", "revisions".to_string()),
                ("rvprop", "ids|timestamp|user|content".to_string()),
                ("rvslots", "main".to_string()),
            ];
            let mut pages = HashMap::new();
            self.wiki
                .query_continued(&params, |answer| {
                    merge_pages(answer, &mut pages);
                    Ok(())
                })
                .await?;
            for (title, page) in pages {
                if let Some(rev) = page.latest.filter(|r| r.text.is_some()) {
                    found.insert(title, rev);
                }
            }
        }
        self.pages_fetched += found.len() as u64;
        Ok(found)
    }

    /// Block and e-mail status of users, in batches; their registration dates are kept for
    /// the thanks (see `connections`).
    async fn users(&mut self, names: &[String]) -> Result<HashMap<String, UserRecord>> {
        let mut out = HashMap::new();
        for chunk in names.chunks(self.batch()) {
            let params = vec![
                ("action", "query".to_string()),
                ("list", "users".to_string()),
                ("ususers", chunk.join("|")),
                ("usprop", "blockinfo|emailable|registration".to_string()),
            ];
            let answer = self.wiki.query(&params).await?;
            for user in answer
                .get("query")
                .and_then(|q| q.get("users"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = user.get("name").and_then(Value::as_str) else {
                    continue;
                };
                if let Some((name, registered)) = connections::registration(user) {
                    self.registered.insert(name, registered);
                }
                let partial = user.get("blockpartial").and_then(Value::as_bool) == Some(true);
                let blocked = user.get("blockid").is_some() && !partial;
                let expiry = user
                    .get("blockexpiry")
                    .and_then(Value::as_str)
                    .filter(|e| *e != "infinite" && *e != "infinity")
                    .map(str::to_string);
                out.insert(
                    name.to_string(),
                    UserRecord {
                        name: name.to_string(),
                        blocked,
                        block_expiry: if blocked { expiry } else { None },
                        email: user
                            .get("emailable")
                            .is_some_and(|e| e.as_bool() != Some(false)),
                    },
                );
            }
        }
        Ok(out)
    }

    /// Applies the owner rule to fetched pages, fetching owners' revisions where needed.
    async fn histories(&mut self, fetched: Vec<Fetched>) -> Result<Vec<PageHistory>> {
        let mut need_owner = Vec::new();
        for page in &fetched {
            let owner = owner_of(&page.title);
            let Some(owner) = owner else { continue };
            let latest_is_owners = page
                .latest
                .as_ref()
                .is_some_and(|r| r.user.as_deref() == Some(owner.as_str()) && r.text.is_some());
            if page.namespace == NS_USER && !page.missing && page.transcludes && !latest_is_owners {
                need_owner.push((page.title.clone(), owner));
            }
        }
        let owner_revs = if need_owner.is_empty() {
            HashMap::new()
        } else {
            self.owner_revisions(&need_owner).await?
        };
        Ok(fetched
            .into_iter()
            .filter(|p| !p.missing)
            .map(|p| PageHistory {
                owner_latest: owner_revs.get(&p.title).cloned(),
                title: p.title,
                namespace: p.namespace,
                page_id: p.page_id,
                redirect: p.redirect.then(String::new),
                latest: p.latest,
                transcludes: Some(p.transcludes),
                problems: Vec::new(),
            })
            .collect())
    }
}

fn read_last_crawl(data: &DataDir) -> Option<LastCrawl> {
    let text = fs::read_to_string(data.root().join(LAST_CRAWL_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// When a crawl last found that `generation` still matched the wiki: a run with nothing to
/// do publishes no generation, so the snapshot can be fresher than its creation time.
pub(crate) fn last_confirmed(data: &DataDir, generation: &str) -> Option<DateTime<Utc>> {
    read_last_crawl(data)
        .filter(|r| r.generation.as_deref() == Some(generation))
        .map(|r| r.started)
}

fn write_last_crawl(data: &DataDir, record: &LastCrawl) -> Result<()> {
    let path = data.root().join(LAST_CRAWL_FILE);
    replace_file(&path, &serde_json::to_vec_pretty(record)?)?;
    Ok(())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs one crawl and publishes its result.
pub async fn crawl(options: &CrawlOptions) -> Result<CrawlSummary> {
    let started = Utc::now();
    let previous = match options.data.current() {
        Ok(Some(_)) => match options.data.open_current() {
            Ok(snapshot) => Some(snapshot),
            Err(e) => {
                warn!("the current snapshot cannot be read ({e}); doing a full crawl");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            warn!("{e}; doing a full crawl");
            None
        }
    };
    // Where the previous run stopped: its own record when it is about the generation being
    // served (a run with nothing to do publishes none), else the generation's meta.
    let record = previous.as_ref().and_then(|snapshot| {
        read_last_crawl(&options.data).filter(|r| r.generation.as_deref() == Some(snapshot.id()))
    });
    let from_meta = previous.as_ref().and_then(|snapshot| {
        let started = snapshot
            .meta("crawl_started")
            .ok()
            .flatten()
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))?;
        let marks = snapshot
            .meta("crawl_marks")
            .ok()
            .flatten()
            .and_then(|m| serde_json::from_str::<Marks>(&m).ok())
            .unwrap_or_default();
        Some((started, marks))
    });
    let resume = match (record, from_meta) {
        (Some(r), _) => Some((r.started, r.marks)),
        (None, meta) => meta,
    };
    // Recent changes are kept for a limited time (90 days on Wikimedia wikis): a previous
    // run older than that cannot be caught up with, only redone.
    let resume =
        resume.filter(|(since, _)| started - *since < chrono::Duration::days(RC_MAX_AGE_DAYS));
    let (summary, marks) = match (options.full, previous, resume) {
        (false, Some(previous), Some((since, marks))) => {
            incremental(options, &previous, since, started, marks).await?
        }
        (_, previous, _) => full(options, previous.as_ref(), started, None).await?,
    };
    let record = LastCrawl {
        started,
        finished: Utc::now(),
        mode: summary.mode.to_string(),
        generation: summary.generation.clone(),
        requests: summary.requests,
        marks,
    };
    // The generation (if any) is published by now: failing to record the run must not say
    // otherwise. Without the record the next run starts from the generation's own meta
    // (an earlier point, so it only reads a little more again).
    if let Err(e) = write_last_crawl(&options.data, &record) {
        warn!("the crawl is done, but its record could not be saved: {e:#}");
    }
    Ok(summary)
}

/// The owner's newest revision of each page read, with the page's newest revision id: what
/// the thanks on the same pages are read from.
fn owner_texts(histories: &[PageHistory]) -> HashMap<String, (Revision, u64)> {
    let mut texts = HashMap::new();
    for page in histories {
        let (Some(latest), Some(owner)) = (page.latest.as_ref(), owner_of(&page.title)) else {
            continue;
        };
        let by_owner = (latest.user.as_deref() == Some(owner.as_str())).then_some(latest);
        if let Some(revision) = page
            .owner_latest
            .as_ref()
            .or(by_owner)
            .filter(|r| r.text.is_some())
        {
            texts.insert(page.title.clone(), (revision.clone(), latest.revid));
        }
    }
    texts
}

/// User name → profile revision, for counting what changed.
fn profile_revisions(snapshot: Option<&Snapshot>) -> Result<HashMap<String, u64>> {
    Ok(match snapshot {
        Some(snapshot) => snapshot.profile_revisions()?,
        None => HashMap::new(),
    })
}

async fn full(
    options: &CrawlOptions,
    previous: Option<&Snapshot>,
    started: DateTime<Utc>,
    wiki: Option<Wiki>,
) -> Result<(CrawlSummary, Marks)> {
    // Anonymous first: logging in costs two requests and pays off only when the list of
    // pages takes more than one batch (see `list_transcluding`).
    let wiki = match wiki {
        Some(wiki) => wiki,
        None => {
            Wiki::connect(
                &options.api,
                &Credentials::Anonymous,
                options.politeness.clone(),
            )
            .await?
        }
    };
    let mut crawler = Crawler::new(wiki, options);
    let (aliases, marks) = crawler.aliases_and_rights(true).await?;
    let fetched = crawler.list_transcluding().await?;
    let histories = crawler.histories(fetched.into_values().collect()).await?;
    let template = ProfileTemplate::with_aliases(&aliases.profile);
    let mut collection = Collection::new();
    for page in &histories {
        collection.add(page, harvest_page(page, &template, Taxonomy::bundled()));
    }
    let old = connections::Previous::read(previous)?;
    let (thanks_pages, talk_pages) = crawler.list_connection_pages(true).await?;
    let thanks = ThanksPages {
        calling: thanks_pages.into_iter().map(|t| (t, None)).collect(),
        looked_at: None,
        texts: owner_texts(&histories),
        owner_unchanged: HashSet::new(),
    };
    // Thankers without a profile join the owners' users pass, for their registration.
    let owners = collection.owners();
    let asked: Vec<String> = owners
        .iter()
        .cloned()
        .chain(thanks.thankers(&old))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut users = crawler.users(&asked).await?;
    let owner_set: HashSet<&String> = owners.iter().collect();
    users.retain(|name, _| owner_set.contains(name));
    let (thanks_names, request_names) = connections::names(&aliases.thanks, &aliases.request);
    let mut connections = Connections::default();
    crawler
        .read_thanks(&old, thanks, &thanks_names, &mut connections)
        .await?;
    crawler
        .read_requests(&old, Some(talk_pages), &request_names, &mut connections)
        .await?;
    connections.log(&old);
    let found = Found {
        collection,
        users,
        connections,
        aliases: &aliases,
        marks,
        mode: "full",
    };
    let summary = publish(&mut crawler, found, previous, started).await?;
    Ok((summary, marks))
}

/// What a run found, ready to be published.
struct Found<'a> {
    collection: Collection,
    users: HashMap<String, UserRecord>,
    connections: Connections,
    aliases: &'a TemplateAliases,
    marks: Marks,
    mode: &'static str,
}

async fn publish(
    crawler: &mut Crawler<'_>,
    found: Found<'_>,
    previous: Option<&Snapshot>,
    started: DateTime<Utc>,
) -> Result<CrawlSummary> {
    let Found {
        mut collection,
        users,
        connections,
        aliases,
        marks,
        mode,
    } = found;
    collection.apply_blocks(&|name| users.get(name).is_some_and(|u| u.blocked));
    let before = profile_revisions(previous)?;
    let after: HashMap<String, u64> = collection
        .profiles()
        .into_iter()
        .filter(|p| !users.get(&p.user).is_some_and(|u| u.blocked))
        .map(|p| (p.user.clone(), p.revid))
        .collect();
    let options = crawler.options;
    let mut builder = options.data.begin("crawl")?;
    builder.set_meta("wiki", &options.api)?;
    builder.set_meta("crawl_started", &rfc3339(started))?;
    builder.set_meta("crawl_mode", mode)?;
    builder.set_meta("crawl_marks", &serde_json::to_string(&marks)?)?;
    for (key, list) in TemplateAliases::META_KEYS.into_iter().zip(aliases.lists()) {
        builder.set_meta(key, &list.join("|"))?;
    }
    let mut names: Vec<&String> = users.keys().collect();
    names.sort();
    for name in names {
        builder.add_user(&users[name])?;
    }
    let stats = collection.write(&mut builder, &|name| {
        users.get(name).is_some_and(|u| u.email)
    })?;
    for (title, kind, revid) in &connections.pages {
        builder.add_connection_page(title, *kind, *revid)?;
    }
    for thanks in &connections.thanks {
        builder.add_thanks(thanks)?;
    }
    for request in &connections.requests {
        builder.add_request(request)?;
    }
    let generation = builder.publish()?;
    let added = after.keys().filter(|u| !before.contains_key(*u)).count() as u64;
    let removed = before.keys().filter(|u| !after.contains_key(*u)).count() as u64;
    let updated = after
        .iter()
        .filter(|(u, r)| before.get(*u).is_some_and(|b| b != *r))
        .count() as u64;
    info!(%generation, profiles = stats.profiles, added, updated, removed, "published");
    Ok(CrawlSummary {
        mode,
        requests: crawler.wiki.requests(),
        pages_fetched: crawler.pages_fetched,
        profiles: stats.profiles,
        added,
        updated,
        removed,
        generation: Some(generation),
    })
}

/// What recent changes tell an incremental crawl to do.
#[derive(Debug, Default)]
struct Changes {
    marks: Marks,
    pages: BTreeSet<String>,
    /// Pages that the owner edited, or that a log entry concerns: their profile must be
    /// read again. Pages only others edited keep the owner's words from before.
    owner_or_log: HashSet<String>,
    users: BTreeSet<String>,
    /// A User talk page changed: request markers may have come or gone.
    talk_touched: bool,
    template_touched: bool,
    needs_full: bool,
}

/// Reads one answer of `list=recentchanges|logevents`. `seen` gives the newest revision the
/// previous generation read of a page, so edits it already reflects are not read again.
fn read_changes(
    answer: &Value,
    aliases: &HashSet<String>,
    seen: &HashMap<String, u64>,
    changes: &mut Changes,
) {
    let query = answer.get("query");
    let entries = ["recentchanges", "logevents"].into_iter().flat_map(|list| {
        query
            .and_then(|q| q.get(list))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    });
    let previous = changes.marks;
    for entry in entries {
        let rcid = entry.get("rcid").and_then(Value::as_u64).unwrap_or(0);
        let logid = entry.get("logid").and_then(Value::as_u64).unwrap_or(0);
        changes.marks.rcid = changes.marks.rcid.max(rcid);
        changes.marks.logid = changes.marks.logid.max(logid);
        let already_seen = if rcid > 0 {
            rcid <= previous.rcid
        } else {
            logid > 0 && logid <= previous.logid
        };
        if already_seen {
            continue;
        }
        let title = entry
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let ns = entry.get("ns").and_then(Value::as_i64).unwrap_or(-1) as i32;
        let log_type = entry
            .get("logtype")
            .or_else(|| entry.get("type"))
            .and_then(Value::as_str);
        let revid = entry.get("revid").and_then(Value::as_u64).unwrap_or(0);
        if revid > 0 && seen.get(title).is_some_and(|&latest| latest >= revid) {
            continue;
        }
        let target = entry
            .get("logparams")
            .and_then(|p| p.get("target_title"))
            .and_then(Value::as_str);
        match log_type {
            Some("renameuser") => changes.needs_full = true,
            Some("block") if ns == NS_USER => {
                if let Some(user) = owner_of(title) {
                    changes.users.insert(user);
                }
            }
            _ => {}
        }
        for (title, ns) in [(Some(title), Some(ns)), (target, None)] {
            let Some(title) = title.filter(|t| !t.is_empty()) else {
                continue;
            };
            let Some(parsed) = Title::parse(title, 0) else {
                continue;
            };
            let ns = ns.unwrap_or(parsed.namespace);
            if ns == NS_USER_TALK || parsed.namespace == NS_USER_TALK {
                changes.talk_touched = true;
            } else if ns == NS_USER && parsed.namespace == NS_USER {
                let editor = entry
                    .get("user")
                    .and_then(Value::as_str)
                    .and_then(normalize_user_name);
                let is_edit = matches!(
                    entry.get("type").and_then(Value::as_str),
                    Some("edit" | "new")
                );
                if !is_edit || editor.as_deref() == parsed.owner() {
                    changes.owner_or_log.insert(parsed.to_string());
                }
                changes.pages.insert(parsed.to_string());
            } else if ns == NS_TEMPLATE {
                let name = parsed.as_call_name();
                if [PROFILE_TEMPLATE, THANKS_TEMPLATE, REQUEST_TEMPLATE].contains(&name.as_str())
                    || aliases.contains(&parsed.to_string())
                    || log_type.is_some()
                    || entry.get("type").and_then(Value::as_str) == Some("new")
                {
                    changes.template_touched = true;
                }
            }
        }
    }
}

async fn incremental(
    options: &CrawlOptions,
    previous: &Snapshot,
    since: DateTime<Utc>,
    started: DateTime<Utc>,
    marks: Marks,
) -> Result<(CrawlSummary, Marks)> {
    let from = since - chrono::Duration::from_std(options.overlap).unwrap_or_default();
    // Anonymous first: a run with nothing to do must stay at one or two requests.
    let wiki = Wiki::connect(
        &options.api,
        &Credentials::Anonymous,
        options.politeness.clone(),
    )
    .await?;
    let old_aliases = TemplateAliases::from_meta(previous)?;
    let alias_set: HashSet<String> = old_aliases
        .iter()
        .flat_map(TemplateAliases::lists)
        .flatten()
        .cloned()
        .collect();
    let params = vec![
        ("action", "query".to_string()),
        ("list", "recentchanges|logevents".to_string()),
        ("rcstart", rfc3339(from)),
        ("rcdir", "newer".to_string()),
        (
            "rcnamespace",
            format!("{NS_USER}|{NS_USER_TALK}|{NS_TEMPLATE}"),
        ),
        ("rcprop", "title|ids|timestamp|loginfo|user".to_string()),
        ("rctype", "edit|new|log".to_string()),
        ("rclimit", "max".to_string()),
        ("letype", "move".to_string()),
        ("lestart", rfc3339(from)),
        ("ledir", "newer".to_string()),
        ("leprop", "ids|title|type|details|timestamp".to_string()),
        ("lelimit", "max".to_string()),
    ];
    let prev_pages = previous.pages()?;
    let seen: HashMap<String, u64> = prev_pages
        .iter()
        .filter_map(|p| p.latest_revid.map(|r| (p.title.clone(), r)))
        .collect();
    let mut changes = Changes {
        marks,
        ..Changes::default()
    };
    wiki.query_continued(&params, |answer| {
        read_changes(answer, &alias_set, &seen, &mut changes);
        Ok(())
    })
    .await?;
    let now = Utc::now();
    let prev_users = previous.users()?;
    for user in &prev_users {
        let expired = user
            .block_expiry
            .as_deref()
            .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
            .is_some_and(|e| e < now);
        if user.blocked && expired {
            changes.users.insert(user.name.clone());
        }
    }
    let mut crawler = Crawler::new(wiki, options);
    // A generation that does not say which aliases it was read with is checked too.
    let aliases = match old_aliases {
        Some(old) if !changes.template_touched => old,
        _ if changes.needs_full => TemplateAliases::default(),
        old => {
            let (aliases, _) = crawler.aliases_and_rights(false).await?;
            if old.is_some_and(|old| old != aliases) {
                info!("a template's aliases changed; doing a full crawl");
                changes.needs_full = true;
            }
            aliases
        }
    };
    if changes.needs_full {
        return full(options, Some(previous), started, Some(crawler.wiki)).await;
    }
    // The pages of users whose block status may have changed are re-read too.
    for page in &prev_pages {
        if page
            .owner
            .as_ref()
            .is_some_and(|o| changes.users.contains(o))
        {
            changes.pages.insert(page.title.clone());
        }
    }
    // Requests live on talk pages: their list is read again only when a talk page changed,
    // and carried over otherwise. Thanks live on user pages: those re-read below say
    // whether they call the template; the others are carried over. With no user page
    // changed and the requests as they were, there is nothing to publish.
    let old_connections = connections::Previous::read(Some(previous))
        .context("reading the previous generation's connections")?;
    let (thanks_names, request_names) = connections::names(&aliases.thanks, &aliases.request);
    let mut connections = Connections::default();
    let talk_pages = if changes.talk_touched {
        Some(crawler.list_connection_pages(false).await?.1)
    } else {
        None
    };
    crawler
        .read_requests(
            &old_connections,
            talk_pages,
            &request_names,
            &mut connections,
        )
        .await?;
    if changes.pages.is_empty()
        && changes.users.is_empty()
        && !connections.differs(&old_connections, ConnectionKind::Requests)
    {
        info!("nothing changed since {}", rfc3339(from));
        let summary = CrawlSummary {
            mode: "incremental",
            requests: crawler.wiki.requests(),
            pages_fetched: 0,
            profiles: previous.profile_count()?,
            added: 0,
            updated: 0,
            removed: 0,
            generation: Some(previous.id().to_string()),
        };
        return Ok((summary, changes.marks));
    }
    if changes.pages.len() > LOGIN_THRESHOLD && !options.credentials.is_anonymous() {
        crawler.log_in().await?;
    }
    info!(
        pages = changes.pages.len(),
        users = changes.users.len(),
        first = ?changes.pages.iter().take(5).collect::<Vec<_>>(),
        "changed since the previous run"
    );
    let titles: Vec<String> = changes.pages.iter().cloned().collect();
    let mut fetched = crawler.read_pages(&titles).await?;
    let template = ProfileTemplate::with_aliases(&aliases.profile);
    let mut thanks = ThanksPages {
        calling: fetched
            .values()
            .filter(|p| p.calls_thanks && !p.missing && !p.redirect)
            .map(|p| (p.title.clone(), p.latest.as_ref().map(|r| r.revid)))
            .collect(),
        looked_at: Some(titles.iter().cloned().collect()),
        ..ThanksPages::default()
    };
    // Pages only someone else edited keep the owner's words, and so their thanks.
    for page in fetched.values() {
        let owner = owner_of(&page.title);
        let by_someone_else = page
            .latest
            .as_ref()
            .is_some_and(|r| r.user.is_some() && r.user != owner);
        if by_someone_else && !changes.owner_or_log.contains(&page.title) {
            thanks.owner_unchanged.insert(page.title.clone());
        }
    }
    let mut collection = Collection::new();
    let reread: HashSet<&str> = titles.iter().map(String::as_str).collect();
    let warnings = previous.warnings()?;
    // Pages that only other people edited, and that still call the template, keep the
    // owner's profile as it was: no need to look for the owner's revision again.
    for page in &prev_pages {
        let Some(now) = fetched.get(&page.title) else {
            continue;
        };
        let owner_blocked_changed = page
            .owner
            .as_ref()
            .is_some_and(|o| changes.users.contains(o));
        let by_someone_else = now
            .latest
            .as_ref()
            .is_some_and(|r| r.user.is_some() && r.user != page.owner);
        if now.transcludes
            && !now.missing
            && !now.redirect
            && by_someone_else
            && !owner_blocked_changed
            && !changes.owner_or_log.contains(&page.title)
        {
            let mut record = page.clone();
            record.latest_revid = now.latest.as_ref().map(|r| r.revid);
            let profile = match &page.profile_user {
                Some(user) => previous.profile(user)?,
                None => None,
            };
            collection.add_carried(
                &record,
                profile,
                warnings.get(&page.title).cloned().unwrap_or_default(),
            );
            fetched.remove(&page.title);
        }
    }
    let histories = crawler.histories(fetched.into_values().collect()).await?;
    for page in &prev_pages {
        if reread.contains(page.title.as_str()) {
            continue;
        }
        let profile = match &page.profile_user {
            Some(user) => previous.profile(user)?,
            None => None,
        };
        collection.add_carried(
            page,
            profile,
            warnings.get(&page.title).cloned().unwrap_or_default(),
        );
    }
    let mut users: HashMap<String, UserRecord> = prev_users
        .into_iter()
        .map(|u| (u.name.clone(), u))
        .collect();
    // Block and e-mail status is asked for new owners and for users with block events;
    // the daily full crawl refreshes everyone's.
    let mut fresh_owners = BTreeSet::new();
    for page in &histories {
        let harvest = harvest_page(page, &template, Taxonomy::bundled());
        if harvest.outcome.is_ok()
            && let Some(owner) = &harvest.owner
            && !users.contains_key(owner)
        {
            fresh_owners.insert(owner.clone());
        }
        collection.add(page, harvest);
    }
    // Thankers whose registration is not known yet join the users pass.
    let recheck: Vec<String> = fresh_owners
        .into_iter()
        .chain(changes.users.iter().cloned())
        .chain(thanks.thankers(&old_connections))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    users.extend(crawler.users(&recheck).await?);
    let owners: HashSet<String> = collection.owners().into_iter().collect();
    users.retain(|name, _| owners.contains(name));
    thanks.texts = owner_texts(&histories);
    crawler
        .read_thanks(&old_connections, thanks, &thanks_names, &mut connections)
        .await?;
    connections.log(&old_connections);
    let found = Found {
        collection,
        users,
        connections,
        aliases: &aliases,
        marks: changes.marks,
        mode: "incremental",
    };
    let summary = publish(&mut crawler, found, Some(previous), started).await?;
    Ok((summary, changes.marks))
}
