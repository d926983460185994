//! `indexer report`: the snapshot's statistics as a wiki page, printed or saved by the bot.
//!
//! The report itself (numbers, wikitext, escaping, `.tab` JSON, the record of the last
//! report) is `exchange::report`; this module adds what needs the wiki: reading the page as
//! it is, the safety checks, and the bot edit.
//!
//! The edit goes through [`Wiki::post`], the same polite client as the crawl (maxlag, one
//! request at a time, back-off), on a session that asserts the bot right (`assert=bot`)
//! and marks the edit as a bot edit (`bot=1`). mwbot's `Page::save` was the other choice;
//! it is not used because mwbot 0.7's API client always sends `assert=user` (it cannot
//! assert a bot), its `{{nobots}}` check needs Parsoid HTML from `rest.php`, and its
//! requests would bypass `Wiki`'s politeness and request count. Here the page's wikitext
//! is read once and the same revision is what the checks look at and what the edit is
//! based on (`baserevid`, `basetimestamp`, `starttimestamp`), so a change made between
//! the read and the save is an edit conflict, not overwritten.
//!
//! Safety, in order: an empty snapshot is never posted; a snapshot older than `--max-age`
//! (counting from the last crawl that found it still current) is refused; a page that
//! excludes the bot with `{{nobots}}` or `{{bots}}` is left alone; a page that already
//! shows the report is not edited; a report less than half the size of the page as it is
//! is refused; a page is never blanked. `--force` overrides the age and the size checks
//! only.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use exchange::connections;
use exchange::report::{self, Baseline, ReportInput, ReportState};
use exchange::stats;
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use serde_json::Value;
use tracing::{info, warn};

use crate::crawl;
use crate::wiki::{Credentials, Edit, EditBase, Politeness, Saved, Wiki};

/// The content model of Commons tabular-data pages (extension JsonConfig).
const TABULAR_MODEL: &str = "Tabular.JsonConfig";

/// What `indexer report` was asked to do.
pub struct ReportOptions {
    pub data: DataDir,
    pub api: Option<String>,
    pub page: Option<String>,
    pub post: bool,
    pub force: bool,
    pub max_age: Duration,
    pub summary: Option<String>,
    pub tab: Option<PathBuf>,
    pub tab_page: Option<String>,
    pub tab_api: Option<String>,
    pub webtool_url: String,
    pub credentials: Credentials,
    pub politeness: Politeness,
}

/// What happened to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Saved as this revision.
    Saved(u64),
    /// The page already held this text (revision, when it exists).
    Unchanged(Option<u64>),
}

/// The snapshot's report: its text, its `.tab` JSON and the numbers to remember.
struct Made {
    generation: String,
    created: DateTime<Utc>,
    text: String,
    tab: Value,
    baseline: Baseline,
    profiles: usize,
    previous_profiles: Option<usize>,
}

fn make(options: &ReportOptions, state: &ReportState) -> Result<Made> {
    let snapshot = options
        .data
        .open_current()
        .context("opening the current snapshot")?;
    let generation = snapshot.id().to_string();
    let created = snapshot
        .meta("created")?
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow!("snapshot {generation} does not say when it was made"))?;
    let mut profiles = Vec::new();
    snapshot.for_each_profile(|p| {
        profiles.push(p);
        Ok(())
    })?;
    let users: Vec<String> = profiles.iter().map(|p| p.user.clone()).collect();
    // The only people the report may name among the most thanked.
    let opted_in: BTreeSet<String> = profiles
        .iter()
        .filter(|p| p.recognition)
        .map(|p| p.user.clone())
        .collect();
    // The snapshot's time as "now": the same snapshot always gives the same report.
    let connections = connections::count(&snapshot.thanks()?, &snapshot.requests()?);
    let stats = stats::compute(&profiles, &connections, Taxonomy::bundled(), created);
    drop(profiles);
    let previous = options
        .page
        .as_deref()
        .and_then(|page| state.baseline(page, &generation));
    let text = report::render(&ReportInput {
        stats: &stats,
        generation: &generation,
        users: &users,
        previous,
        webtool_url: &options.webtool_url,
        connections: &connections,
        opted_in: &opted_in,
    })?;
    Ok(Made {
        tab: report::tabular(&stats, &generation, &options.webtool_url),
        baseline: Baseline::new(&stats, &generation, &users),
        profiles: stats.totals.profiles,
        previous_profiles: previous.map(|b| b.totals.profiles),
        generation,
        created,
        text,
    })
}

/// Runs `indexer report`.
pub async fn run(options: &ReportOptions) -> Result<()> {
    let mut state = ReportState::load(options.data.root())?;
    let made = make(options, &state)?;
    if let Some(file) = &options.tab {
        exchange::store::replace_file(file, &serde_json::to_vec_pretty(&made.tab)?)?;
        info!("wrote the tabular data to {}", file.display());
    }
    if !options.post {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(made.text.as_bytes())?;
        out.flush()?;
        return Ok(());
    }

    let (Some(api), Some(page)) = (options.api.as_deref(), options.page.as_deref()) else {
        bail!("--post needs --api and --page");
    };
    check_snapshot(options, &made)?;
    if options.credentials.is_anonymous() {
        bail!(
            "posting needs a bot login: set CAPX_WIKI_USER and CAPX_WIKI_PASSWORD (a bot \
             password, user name Name@app) or CAPX_WIKI_OAUTH2_TOKEN"
        );
    }
    let wiki = Wiki::connect_bot(api, &options.credentials, options.politeness.clone())
        .await
        .context("logging in as a bot")?;
    let me = bot_name(&wiki).await?;
    let summary = options.summary.clone().unwrap_or_else(|| {
        let change = match made.previous_profiles {
            Some(before) if before != made.profiles => {
                let delta = made.profiles as i64 - before as i64;
                format!(" ({delta:+} since the previous report)")
            }
            _ => String::new(),
        };
        format!(
            "Capacity Exchange report from snapshot {}: {} profiles{change}",
            made.generation, made.profiles
        )
    });

    // The tabular-data page is checked before anything is saved: a wiki that cannot hold
    // it stops the run before the report is posted, not halfway.
    let tab_wiki_own;
    let tab_target = match options.tab_page.as_deref() {
        None => None,
        Some(tab_page) => {
            let tab_api = options.tab_api.as_deref().unwrap_or(api);
            let tab_wiki = if tab_api == api {
                &wiki
            } else {
                tab_wiki_own =
                    Wiki::connect_bot(tab_api, &options.credentials, options.politeness.clone())
                        .await
                        .context("logging in as a bot")?;
                &tab_wiki_own
            };
            let current = read_page(tab_wiki, tab_page).await?;
            check_tabular(tab_page, &current)?;
            Some((tab_wiki, tab_page, current))
        }
    };

    let current = read_page(&wiki, page).await?;
    if !current.model.is_empty() && current.model != "wikitext" {
        bail!(
            "refusing to post: {page} is not a wikitext page (its content model is {})",
            current.model
        );
    }
    if current.exists && !report::bots_allowed(&current.text, &me) {
        bail!(
            "refusing to post: {page} keeps this bot ({me}) away with {{{{nobots}}}} or \
             {{{{bots}}}}; nothing was changed"
        );
    }
    let outcome = if current.exists && current.text.trim_end() == made.text.trim_end() {
        Outcome::Unchanged(current.revid)
    } else {
        check_size(page, &current.text, &made.text, options.force)?;
        save(&wiki, page, &made.text, &current, &summary).await?
    };
    match outcome {
        Outcome::Saved(revid) => info!("saved {page} as revision {revid}"),
        Outcome::Unchanged(_) => info!("{page} already shows this report; no edit made"),
    }
    let revision = match outcome {
        Outcome::Saved(r) => Some(r),
        Outcome::Unchanged(r) => r,
    };
    state.record(page, made.baseline.clone(), Utc::now(), revision);
    state
        .save(options.data.root())
        .context("recording the report")?;

    if let Some((tab_wiki, tab_page, current)) = tab_target {
        match post_tabular(tab_wiki, tab_page, &made.tab, &current, &summary).await? {
            Outcome::Saved(revid) => info!("saved {tab_page} as revision {revid}"),
            Outcome::Unchanged(_) => info!("{tab_page} already holds these numbers; no edit made"),
        }
    }
    info!(requests = wiki.requests(), "report done");
    Ok(())
}

/// The snapshot must hold profiles and be recent enough.
fn check_snapshot(options: &ReportOptions, made: &Made) -> Result<()> {
    if made.profiles == 0 {
        bail!(
            "refusing to post: snapshot {} holds no profiles (a crawl that found nothing is \
             more likely broken than right); nothing was posted",
            made.generation
        );
    }
    let fresh = crawl::last_confirmed(&options.data, &made.generation)
        .map_or(made.created, |t| t.max(made.created));
    let age = (Utc::now() - fresh).to_std().unwrap_or_default();
    if age > options.max_age {
        let message = format!(
            "snapshot {} was last found current {} ago ({}), more than --max-age {}",
            made.generation,
            human(age),
            fresh.format("%Y-%m-%d %H:%M UTC"),
            human(options.max_age)
        );
        if options.force {
            warn!("{message}; posting anyway (--force)");
        } else {
            bail!("refusing to post: {message}; crawl again, or pass --force");
        }
    }
    Ok(())
}

/// A report less than half the page as it is means lost data more often than progress.
fn check_size(page: &str, current: &str, new: &str, force: bool) -> Result<()> {
    if new.trim().is_empty() {
        bail!("refusing to blank {page}");
    }
    let (before, after) = (
        current.trim_end().chars().count(),
        new.trim_end().chars().count(),
    );
    if after * 2 < before {
        let message = format!(
            "the report ({after} characters) is less than half of {page} as it is ({before} \
             characters)"
        );
        if force {
            warn!("{message}; posting anyway (--force)");
        } else {
            bail!(
                "refusing to post: {message}; check the snapshot, or pass --force; nothing \
                 was changed"
            );
        }
    }
    Ok(())
}

/// The page as it is now.
#[derive(Debug, Default)]
struct Current {
    exists: bool,
    text: String,
    revid: Option<u64>,
    timestamp: Option<String>,
    /// The content model the page has (or would have, for a missing page).
    model: String,
    /// The wiki's clock when the page was read (`starttimestamp` of the edit).
    read_at: Option<String>,
}

async fn read_page(wiki: &Wiki, title: &str) -> Result<Current> {
    let answer = wiki
        .query(&[
            ("action", "query".to_string()),
            ("prop", "revisions|info".to_string()),
            ("titles", title.to_string()),
            ("rvprop", "content|ids|timestamp".to_string()),
            ("rvslots", "main".to_string()),
            ("curtimestamp", "1".to_string()),
        ])
        .await
        .with_context(|| format!("reading {title}"))?;
    let page = answer["query"]["pages"]
        .get(0)
        .ok_or_else(|| anyhow!("the wiki said nothing about {title}"))?;
    if page.get("invalid").is_some() {
        bail!(
            "{title} is not a valid page title: {}",
            page["invalidreason"].as_str().unwrap_or("")
        );
    }
    let mut current = Current {
        model: page["contentmodel"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        read_at: answer["curtimestamp"].as_str().map(str::to_string),
        ..Current::default()
    };
    if page.get("missing").is_some() {
        return Ok(current);
    }
    let revision = &page["revisions"][0];
    let main = &revision["slots"]["main"];
    if main.get("texthidden").is_some() {
        bail!("the current text of {title} is hidden; not editing it");
    }
    current.exists = true;
    current.text = main["content"]
        .as_str()
        .ok_or_else(|| anyhow!("the wiki gave no text for {title}"))?
        .to_string();
    current.revid = revision["revid"].as_u64();
    current.timestamp = revision["timestamp"].as_str().map(str::to_string);
    Ok(current)
}

/// The logged-in user's name, for `{{bots|deny=…}}`.
async fn bot_name(wiki: &Wiki) -> Result<String> {
    let answer = wiki
        .query(&[
            ("action", "query".to_string()),
            ("meta", "userinfo".to_string()),
        ])
        .await
        .context("asking the wiki who we are")?;
    answer["query"]["userinfo"]["name"]
        .as_str()
        .filter(|_| answer["query"]["userinfo"].get("anon").is_none())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("the wiki does not see us as logged in"))
}

/// Saves through [`Wiki::edit`], based on the revision that was checked: a page changed,
/// created or deleted since makes the edit fail instead of overwriting it.
async fn save(
    wiki: &Wiki,
    title: &str,
    text: &str,
    current: &Current,
    summary: &str,
) -> Result<Outcome> {
    let mut edit = Edit::new(title, text, summary);
    edit.bot = true;
    edit.read_at = current.read_at.clone();
    edit.base = match (current.exists, current.revid) {
        (true, Some(revid)) => EditBase::Revision {
            revid,
            timestamp: current.timestamp.clone(),
        },
        (true, None) => EditBase::Any,
        (false, _) => EditBase::Missing,
    };
    Ok(match wiki.edit(&edit).await? {
        Saved::Created(revid) | Saved::Updated(revid) => Outcome::Saved(revid),
        Saved::Unchanged => Outcome::Unchanged(current.revid),
    })
}

/// A tabular-data page (Commons' `Data:….tab`) exists only on a wiki with JsonConfig.
fn check_tabular(title: &str, current: &Current) -> Result<()> {
    if current.model != TABULAR_MODEL {
        bail!(
            "refusing to post the tabular data: {title} is not a tabular-data page on this \
             wiki (its content model is {:?}, not {TABULAR_MODEL}); tabular data needs the \
             JsonConfig extension, as on Commons, where such pages are named Data:….tab; \
             nothing was posted",
            current.model
        );
    }
    Ok(())
}

/// Saves the `.tab` JSON on its page. JSON is compared as values: JsonConfig may store it
/// in its own layout.
async fn post_tabular(
    wiki: &Wiki,
    title: &str,
    tab: &Value,
    current: &Current,
    summary: &str,
) -> Result<Outcome> {
    if current.exists && serde_json::from_str::<Value>(&current.text).ok().as_ref() == Some(tab) {
        return Ok(Outcome::Unchanged(current.revid));
    }
    save(wiki, title, &serde_json::to_string(tab)?, current, summary).await
}

/// `--max-age`: a number and a unit, `s`, `m`, `h`, `d` or `w` (`48h`, `2d`).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not an age such as 48h, 2d or 90m"))?;
    let unit_secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => return Err(format!("unknown unit {other:?}: use s, m, h, d or w")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 2 * 86_400 {
        format!("{}d", s / 86_400)
    } else if s >= 2 * 3600 {
        format!("{}h", s / 3600)
    } else if s >= 120 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("48h"), Ok(Duration::from_secs(48 * 3600)));
        assert_eq!(parse_age("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_age("12"), Ok(Duration::from_secs(12 * 3600)));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("3y").is_err());
        assert_eq!(human(Duration::from_secs(3 * 86_400)), "3d");
        assert_eq!(human(Duration::from_secs(50)), "50s");
    }

    #[test]
    fn size_check() {
        let long = "x".repeat(1000);
        assert!(check_size("P", &long, &"y".repeat(600), false).is_ok());
        assert!(check_size("P", &long, &"y".repeat(400), false).is_err());
        assert!(check_size("P", &long, &"y".repeat(400), true).is_ok());
        assert!(check_size("P", &long, "  \n", true).is_err());
        assert!(check_size("P", "", "report", false).is_ok());
    }
}
