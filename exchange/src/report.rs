//! The on-wiki report: a snapshot's statistics as wikitext for a bot to post, and as a
//! Commons tabular-data (`.tab`) page for people who draw their own charts.
//!
//! The numbers are [`stats::compute`]'s, the very ones of the web tool's statistics page and
//! `/api/v1/stats`; nothing is counted here, only chosen, compared and written out. The
//! report is a function of the snapshot and of the previous report's numbers (kept in
//! `DATA/last-report.json`, see [`ReportState`]), never of the clock: the same snapshot
//! always gives the same text, which is what lets the bot skip an edit when nothing changed.
//! So the statistics are computed with the snapshot's creation time as "now", and the
//! report says when and from which snapshot it was made rather than when it was posted.
//!
//! People are named only where naming them is public already or their own choice: new
//! profiles, possible group leaders, and, among the most thanked sharers of a period, only
//! those whose profile says `recognition = yes` (the owner's opt-in; thankers cannot opt
//! anyone in). Thanks and requests of everyone else are counted, never attributed.
//!
//! Text written by people (free-text skills, user names, and anything else that comes from
//! a profile) is escaped by [`escape`] before it reaches the page, so that a skill typed as
//! `}}{{delete}}` or `[[Category:X]]` shows as typed and cannot add markup, templates,
//! categories or signatures to the report. The template never sees raw text: its
//! environment escapes every value it prints unless the value was built here as safe
//! wikitext (links whose parts were escaped or percent-encoded).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::bidi;
use crate::connections::{self, ConnectionStats, SkillKey};
use crate::geo::Region;
use crate::languages;
use crate::profile::SkillRef;
use crate::stats::{self, Counts, Stats, Totals};
use crate::taxonomy::Taxonomy;
use crate::wikitext::title::{Title, normalize_user_name};
use crate::wikitext::{self, title::NS_TEMPLATE};

/// The file in the data directory that keeps the numbers of the reports already posted.
pub const STATE_FILE: &str = "last-report.json";
/// Where the tool is served: skill names in the report link to its pages.
pub const DEFAULT_WEBTOOL_URL: &str = "https://capacity-exchange.toolforge.org";
/// Rows of the long tables (unmet needs, groups, languages): the statistics page's length.
pub const TOP: usize = 20;
/// Skills per category: the most offered and the most wanted, this many of each.
pub const TOP_PER_CATEGORY: usize = 10;
/// Leaders named per group; the rest are counted.
pub const MAX_LEADERS: usize = 10;
/// New profiles named; the rest are counted.
pub const MAX_NEW_NAMES: usize = 200;
/// Free-text candidates listed.
pub const MAX_CANDIDATES: usize = 50;
/// The period of "most thanked sharers" when there is no previous report to start from.
pub const RECOGNITION_DAYS: i64 = 30;
/// People named among the most thanked sharers of a period.
pub const MAX_RECOGNISED: usize = 20;
/// Skills named per person among the most thanked; the rest are counted.
pub const MAX_RECOGNISED_SKILLS: usize = 10;

const TEMPLATE_NAME: &str = "report.wikitext";
const TEMPLATE: &str = include_str!("../templates/report.wikitext");
/// The name of the escaping mode of the template environment (see [`environment`]).
const WIKITEXT_ESCAPE: &str = "wikitext";

/// What can go wrong while making a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("rendering the report template: {0}")]
    Template(#[from] minijinja::Error),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{path} is not a readable report record ({source}); move it away to start afresh")]
    State {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}

// ---------------------------------------------------------------------------------------
// Escaping and links
// ---------------------------------------------------------------------------------------

/// Makes text written by people inert in wikitext: it reads the same on the page, and can
/// open no link, template, table cell, list, heading, tag, magic word or signature.
///
/// Every character that means something to the parser anywhere in a line is replaced by
/// its numeric character reference (`[` → `&#91;`, `~` → `&#126;`, `_` → `&#95;` for
/// `__NOTOC__`, `:` → `&#58;` so `https://…` is no bare link, `'` for bold and italics);
/// the characters that only mean something at the start of a line (`*#;!=-` and a space)
/// are replaced there; line breaks and other control characters become spaces, so a value
/// stays inside its table cell. Bidirectional controls are balanced ([`bidi::balance`]), so
/// an override in someone's skill cannot reverse the rest of the line.
pub fn escape(text: &str) -> String {
    let text = bidi::balance(text);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for (i, c) in text.chars().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' | ']' | '{' | '}' | '|' | '\'' | '~' | '_' | ':' | '"' => {
                out.push_str(&format!("&#{};", u32::from(c)));
            }
            '*' | '#' | ';' | '!' | '=' | '-' | ' ' if i == 0 => {
                out.push_str(&format!("&#{};", u32::from(c)));
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes everything but letters, digits, `-` and `.`, so a value can go into the
/// URL of an external link: a space or `]` would end the link, and the pre-save transform
/// and magic words act inside URLs too (`~~~~`, `__NOTOC__`), so `~` and `_` are encoded.
pub fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link to a user page, labelled with the name. A name that is not exactly a normalised
/// user name (which no snapshot should hold) is written as escaped text, without a link.
pub fn user_link(name: &str) -> String {
    if normalize_user_name(name).as_deref() == Some(name) {
        // Entities are decoded in link targets, so `&` stays `&` whatever follows it.
        format!("[[User:{}|{}]]", name.replace('&', "&amp;"), escape(name))
    } else {
        escape(name)
    }
}

/// A skill's name linked to its page in the web tool (a taxonomy skill) or to a search for
/// it (free text).
pub fn skill_link(webtool_url: &str, skill: &SkillRef) -> String {
    let base = webtool_url.trim_end_matches('/');
    match skill {
        SkillRef::Known { id, label } => {
            let label = Taxonomy::bundled()
                .get(id)
                .map_or(label.as_str(), |s| Taxonomy::bundled().label(s, "en"));
            format!("[{base}/skill/{} {}]", urlencode(id), escape(label))
        }
        SkillRef::Free { text } => {
            format!("[{base}/search?q={} {}]", urlencode(text), escape(text))
        }
    }
}

/// A web-tool URL is used in links as is, so it must be one: `http(s)://` and no character
/// that would end or break an external link, nor a signature or magic word.
pub fn is_usable_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.contains("~~~")
        && !url.contains("__")
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "[]{}|<>\"'".contains(c))
}

// ---------------------------------------------------------------------------------------
// {{bots}} / {{nobots}}
// ---------------------------------------------------------------------------------------

/// Whether the page text lets the bot `user` edit it, by the exclusion convention of
/// `{{bots}}` and `{{nobots}}` (w:en:Template:Bots): `{{nobots}}` keeps every bot out;
/// `{{bots|deny=all}}`, `{{bots|allow=none}}`, `{{bots|deny=A,B}}` naming the bot, or
/// `{{bots|allow=A,B}}` not naming it, keep this bot out. Names are compared as MediaWiki
/// compares user names; templates are found the way the parser finds them, so one inside
/// a comment or `<nowiki>` does not count.
pub fn bots_allowed(text: &str, user: &str) -> bool {
    let me = normalize_user_name(user).unwrap_or_else(|| user.to_string());
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                normalize_user_name(n)
                    .map(|n| n.to_lowercase())
                    .unwrap_or_else(|| n.to_lowercase())
            })
            .collect()
    };
    let names_me = |list: &str| {
        let list = names(list);
        list.iter().any(|n| n == "all" || *n == me.to_lowercase())
    };
    for call in wikitext::template_calls(text) {
        let Some(title) = Title::parse(&call.name, NS_TEMPLATE) else {
            continue;
        };
        if title.namespace != NS_TEMPLATE {
            continue;
        }
        match title.text.as_str() {
            "Nobots" => {
                // `{{nobots|allow=…}}` is not part of the convention; any call keeps bots out.
                return false;
            }
            "Bots" => {
                if let Some(deny) = call.params.get("deny") {
                    let deny = deny.trim();
                    if deny.eq_ignore_ascii_case("none") {
                        continue;
                    }
                    if names_me(deny) {
                        return false;
                    }
                }
                if let Some(allow) = call.params.get("allow") {
                    let allow = allow.trim();
                    if allow.eq_ignore_ascii_case("none") || !names_me(allow) {
                        return false;
                    }
                }
            }
            _ => {}
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// The previous report's numbers
// ---------------------------------------------------------------------------------------

/// The numbers of one report, kept to tell the next one what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub generation: String,
    /// The snapshot's time (the statistics' `as_of`).
    pub as_of: DateTime<Utc>,
    pub taxonomy_version: u32,
    pub totals: Totals,
    /// Taxonomy id → people who named the skill itself, for skills anyone named.
    pub skills: BTreeMap<String, Counts>,
    /// Region code → profiles.
    pub regions: BTreeMap<String, usize>,
    /// Every profile's user name, sorted: who is new next time.
    pub users: Vec<String>,
    /// Requests and thanks. `None` in records written before reports counted them, so
    /// that the first report to count them shows no change rather than a jump from zero.
    #[serde(default)]
    pub connections: Option<ConnectionTotals>,
}

/// The totals of [`ConnectionStats`] a report compares with the next one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionTotals {
    pub requests: usize,
    pub thanks: usize,
    pub helpers_thanked: usize,
    pub learners_thanking: usize,
}

impl ConnectionTotals {
    pub fn of(stats: &ConnectionStats) -> ConnectionTotals {
        ConnectionTotals {
            requests: stats.requests,
            thanks: stats.thanks,
            helpers_thanked: stats.helpers_thanked,
            learners_thanking: stats.learners_thanking,
        }
    }
}

impl Baseline {
    /// The numbers of a report made from `stats`, the statistics of the snapshot
    /// `generation` whose profiles belong to `users`.
    pub fn new(stats: &Stats, generation: &str, users: &[String]) -> Baseline {
        let mut users = users.to_vec();
        users.sort_unstable();
        users.dedup();
        Baseline {
            generation: generation.to_string(),
            as_of: stats.as_of,
            taxonomy_version: stats.taxonomy_version,
            totals: stats.totals,
            skills: stats
                .skills
                .iter()
                .filter(|s| s.counts != Counts::default())
                .map(|s| (s.id.clone(), s.counts))
                .collect(),
            regions: stats
                .regions
                .iter()
                .map(|r| (r.code.clone(), r.profiles))
                .collect(),
            users,
            connections: Some(ConnectionTotals::of(&stats.connections)),
        }
    }

    fn skill(&self, id: &str) -> Counts {
        self.skills.get(id).copied().unwrap_or_default()
    }
}

/// One report page: the numbers last posted to it and the ones they were compared with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRecord {
    pub posted: Baseline,
    /// When the bot saved it (or found it already on the page).
    pub posted_at: DateTime<Utc>,
    /// The page revision that holds it, when known.
    pub revision: Option<u64>,
    /// What the posted report was compared with, so that a report made again from the
    /// same snapshot compares with the same numbers and comes out identical.
    pub compared_with: Option<Baseline>,
}

/// `DATA/last-report.json`: per report page, the numbers of the last report posted there.
///
/// It is written only after a report was saved on the wiki (or found already there), never
/// when a report is only printed: a preview must not move the point the next report
/// compares with. It is written to a temporary file that is then renamed over the old one,
/// so a crash leaves either the old record or the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportState {
    /// Page title → its record.
    pub pages: BTreeMap<String, PageRecord>,
}

impl ReportState {
    /// The record in `data_root`, or an empty one when there is none yet.
    pub fn load(data_root: &Path) -> Result<ReportState, ReportError> {
        let path = data_root.join(STATE_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ReportState::default()),
            Err(e) => return Err(io_err("reading", &path)(e)),
        };
        serde_json::from_slice(&bytes).map_err(|source| ReportError::State { path, source })
    }

    /// Writes the record atomically (temporary file, fsync, rename, fsync of the directory).
    pub fn save(&self, data_root: &Path) -> Result<(), ReportError> {
        let path = data_root.join(STATE_FILE);
        let tmp = data_root.join(format!("{STATE_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).map_err(|source| ReportError::State {
            path: path.clone(),
            source,
        })?;
        {
            let mut file = File::create(&tmp).map_err(io_err("creating", &tmp))?;
            file.write_all(&json).map_err(io_err("writing", &tmp))?;
            file.sync_all().map_err(io_err("syncing", &tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err("replacing", &path))?;
        // Makes the rename itself durable; not every platform can open a directory.
        if let Ok(dir) = File::open(data_root) {
            dir.sync_all().ok();
        }
        Ok(())
    }

    /// What a report of `generation` for `page` compares with: the last report posted
    /// there, or, when that one was made from this very snapshot, what it compared with.
    pub fn baseline(&self, page: &str, generation: &str) -> Option<&Baseline> {
        let record = self.pages.get(&page_key(page))?;
        if record.posted.generation == generation {
            record.compared_with.as_ref()
        } else {
            Some(&record.posted)
        }
    }

    /// Records that the report with the numbers `current` is on `page`.
    pub fn record(
        &mut self,
        page: &str,
        current: Baseline,
        at: DateTime<Utc>,
        revision: Option<u64>,
    ) {
        let key = page_key(page);
        let compared_with = match self.pages.remove(&key) {
            Some(old) if old.posted.generation == current.generation => old.compared_with,
            Some(old) => Some(old.posted),
            None => None,
        };
        self.pages.insert(
            key,
            PageRecord {
                posted: current,
                posted_at: at,
                revision,
                compared_with,
            },
        );
    }
}

/// Page titles as the record keys them: `_` and space are the same.
fn page_key(page: &str) -> String {
    page.trim().replace('_', " ")
}

// ---------------------------------------------------------------------------------------
// The wikitext report
// ---------------------------------------------------------------------------------------

/// What a report is made from.
pub struct ReportInput<'a> {
    /// The snapshot's statistics, computed with the snapshot's time as `now`.
    pub stats: &'a Stats,
    /// The snapshot's generation id.
    pub generation: &'a str,
    /// The user names of the snapshot's profiles.
    pub users: &'a [String],
    /// The numbers of the previous report on the same page, if any.
    pub previous: Option<&'a Baseline>,
    /// The thanks and requests that count (the ones `stats` was computed from): the
    /// ranking of a period needs each exchange's time and people, which `stats` sums away.
    pub connections: &'a connections::Counts,
    /// The users whose profile says `recognition = yes`: the only people the report names
    /// among the most thanked. Everyone else is counted, never named.
    pub opted_in: &'a BTreeSet<String>,
    /// The web tool's address, for skill links ([`DEFAULT_WEBTOOL_URL`]).
    pub webtool_url: &'a str,
}

/// The template environment: values are escaped as wikitext by [`escape`] unless they were
/// made safe here; undefined names are errors, so a typo in the template cannot silently
/// drop a section.
fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Custom(WIKITEXT_ESCAPE.into()));
    env.set_formatter(|out, _state, value| {
        // Numbers are ours, and a minus sign at the start of a cell is no markup.
        let text = if value.is_safe() || value.kind() == ValueKind::Number {
            value.to_string()
        } else if value.is_none() || value.is_undefined() {
            String::new()
        } else {
            escape(&value.to_string())
        };
        out.write_str(&text).map_err(minijinja::Error::from)
    });
    env.add_template(TEMPLATE_NAME, TEMPLATE)?;
    Ok(env)
}

fn safe(text: String) -> Value {
    Value::from_safe_string(text)
}

/// A change as the report shows it, `+3`, `−2` or `0`, with the number to sort by.
fn change(now: usize, before: Option<usize>) -> Value {
    match before {
        None => context! { text => "", sort => 0i64 },
        Some(before) => {
            let delta = i128::try_from(now).unwrap_or(i128::MAX)
                - i128::try_from(before).unwrap_or(i128::MAX);
            let text = match delta {
                d if d > 0 => format!("+{d}"),
                d if d < 0 => format!("\u{2212}{}", d.unsigned_abs()),
                _ => "0".to_string(),
            };
            context! { text => text, sort => i64::try_from(delta).unwrap_or(0) }
        }
    }
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A list of user links, at most `max`, the rest counted.
fn user_list(names: &[&str], max: usize) -> Value {
    let mut text = names
        .iter()
        .take(max)
        .map(|n| user_link(n))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        text.push_str(&format!(" and {} more", names.len() - max));
    }
    safe(text)
}

fn language_label(code: &str) -> String {
    match languages::language(code) {
        Some(info) => format!("{} ({code})", info.name),
        None => code.to_string(),
    }
}

/// A skill of the connection counts as a link, or words saying none was given.
fn skill_cell(url: &str, skill: Option<&SkillRef>) -> Value {
    match skill {
        Some(skill) => safe(skill_link(url, skill)),
        None => Value::from("no skill given"),
    }
}

/// The skill a counted exchange was about, as first written (a taxonomy skill is shown by
/// its label either way); `None` when no skill was given.
fn counted_skill(counts: &connections::Counts, key: &SkillKey) -> Option<SkillRef> {
    let unwritten = || match key {
        SkillKey::Known(id) => Some(SkillRef::Known {
            id: id.clone(),
            label: id.clone(),
        }),
        SkillKey::Free(folded) => Some(SkillRef::Free {
            text: folded.clone(),
        }),
        SkillKey::Unspecified => None,
    };
    counts.skill_ref(key).cloned().or_else(unwritten)
}

/// One person among the most thanked sharers of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Recognised<'a> {
    user: &'a str,
    /// Counted thanks in the period: one per skill and thanker.
    thanks: usize,
    /// The skills they were thanked for, with their thanks, most first.
    skills: Vec<(&'a SkillKey, usize)>,
}

/// Whether a counted exchange was recorded on the wiki in the period after `since`, up to
/// `until` (a thanks written now for an exchange long ago belongs to this period).
fn in_period(c: &connections::Counted, since: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    c.recorded > since && c.recorded <= until
}

/// The people of `opted_in` thanked in the period, most thanks first, then by name. Only
/// they: this is the one place the report names people for their thanks, and naming is
/// the owner's choice (`recognition = yes`), not the thankers'.
fn most_thanked<'a>(
    counts: &'a connections::Counts,
    opted_in: &BTreeSet<String>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Recognised<'a>> {
    let mut per: BTreeMap<&str, BTreeMap<&SkillKey, usize>> = BTreeMap::new();
    for c in counts
        .thanks
        .iter()
        .filter(|c| in_period(c, since, until) && opted_in.contains(c.helper.as_str()))
    {
        *per.entry(c.helper.as_str())
            .or_default()
            .entry(&c.skill)
            .or_default() += 1;
    }
    let mut out: Vec<Recognised> = per
        .into_iter()
        .map(|(user, skills)| {
            let mut skills: Vec<(&SkillKey, usize)> = skills.into_iter().collect();
            skills.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            Recognised {
                user,
                thanks: skills.iter().map(|(_, n)| n).sum(),
                skills,
            }
        })
        .collect();
    out.sort_by(|a, b| b.thanks.cmp(&a.thanks).then_with(|| a.user.cmp(b.user)));
    out
}

/// The "Connections" part: totals with their change, then per skill, region, language
/// and month, from the statistics.
fn connections_context(stats: &Stats, prev: Option<&Baseline>, url: &str) -> Value {
    let c = &stats.connections;
    let before = prev.and_then(|b| b.connections);
    let row = |label: &'static str, now: usize, before: Option<usize>| {
        context! { label => label, now => now, before => before, change => change(now, before) }
    };
    let totals = vec![
        row("Requests made", c.requests, before.map(|b| b.requests)),
        row("Exchanges thanked", c.thanks, before.map(|b| b.thanks)),
        row(
            "People thanked",
            c.helpers_thanked,
            before.map(|b| b.helpers_thanked),
        ),
        row(
            "People who thanked",
            c.learners_thanking,
            before.map(|b| b.learners_thanking),
        ),
    ];
    let skills: Vec<Value> = c
        .per_skill
        .iter()
        .take(TOP)
        .map(|s| {
            let skill = match (&s.id, &s.text) {
                (Some(id), _) => Some(SkillRef::Known {
                    id: id.clone(),
                    label: id.clone(),
                }),
                (None, Some(text)) => Some(SkillRef::Free { text: text.clone() }),
                (None, None) => None,
            };
            context! { skill => skill_cell(url, skill.as_ref()), requests => s.requests,
            thanks => s.thanks }
        })
        .collect();
    let regions: Vec<Value> = c
        .per_region
        .iter()
        .map(|r| {
            let name = Region::from_code(&r.key)
                .map_or_else(|| r.key.clone(), |r| r.english_name().to_string());
            context! { code => r.key.clone(), name => name, requests => r.requests,
            thanks => r.thanks }
        })
        .collect();
    let languages: Vec<Value> = c
        .per_language
        .iter()
        .take(TOP)
        .map(|l| context! { name => language_label(&l.key), requests => l.requests, thanks => l.thanks })
        .collect();
    let months: Vec<Value> = c
        .per_month
        .iter()
        .map(|m| context! { month => m.key.clone(), requests => m.requests, thanks => m.thanks })
        .collect();
    context! {
        any => c.requests + c.thanks > 0,
        compared => before.is_some(),
        totals => totals,
        skills => skills,
        skills_total => c.per_skill.len(),
        regions => regions,
        languages => languages,
        languages_total => c.per_language.len(),
        language_level => connections::STATS_LANGUAGE_LEVEL,
        months => months,
    }
}

/// The "Most thanked sharers of the period" part. The period runs from the previous
/// report's snapshot (or [`RECOGNITION_DAYS`] before this one, for a first report) to this
/// snapshot, so one snapshot and one baseline always give the same names.
fn period_context(input: &ReportInput, url: &str) -> Value {
    let until = input.stats.as_of;
    let since = input
        .previous
        .map_or(until - Duration::days(RECOGNITION_DAYS), |b| b.as_of);
    let counts = input.connections;
    let thanked: Vec<&connections::Counted> = counts
        .thanks
        .iter()
        .filter(|c| in_period(c, since, until))
        .collect();
    let people = thanked
        .iter()
        .map(|c| c.helper.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let ranking = most_thanked(counts, input.opted_in, since, until);
    let named: Vec<Value> = ranking
        .iter()
        .take(MAX_RECOGNISED)
        .map(|r| {
            let mut skills = r
                .skills
                .iter()
                .take(MAX_RECOGNISED_SKILLS)
                .map(|(key, n)| {
                    let skill = match counted_skill(counts, key) {
                        Some(skill) => skill_link(url, &skill),
                        None => "no skill given".to_string(),
                    };
                    format!("{skill} ({n})")
                })
                .collect::<Vec<_>>()
                .join(", ");
            if r.skills.len() > MAX_RECOGNISED_SKILLS {
                skills.push_str(&format!(
                    " and {} more",
                    r.skills.len() - MAX_RECOGNISED_SKILLS
                ));
            }
            context! { user => safe(user_link(r.user)), thanks => r.thanks, skills => safe(skills) }
        })
        .collect();
    context! {
        since => safe(date(since)),
        until => safe(date(until)),
        from_previous => input.previous.is_some(),
        days => RECOGNITION_DAYS,
        thanks => thanked.len(),
        people => people,
        named => named,
        named_total => ranking.len(),
    }
}

/// Renders the report's wikitext.
pub fn render(input: &ReportInput) -> Result<String, ReportError> {
    let stats = input.stats;
    let prev = input.previous;
    let url = input.webtool_url.trim_end_matches('/');
    let link = |skill: &SkillRef| safe(skill_link(url, skill));

    let t = &stats.totals;
    let p = prev.map(|b| b.totals);
    let totals = vec![
        context! { label => "All profiles", now => t.profiles,
        before => p.map(|p| p.profiles), change => change(t.profiles, p.map(|p| p.profiles)) },
        context! { label => "Active", now => t.active,
        before => p.map(|p| p.active), change => change(t.active, p.map(|p| p.active)) },
        context! { label => "Paused", now => t.paused,
        before => p.map(|p| p.paused), change => change(t.paused, p.map(|p| p.paused)) },
        context! { label => "Without a known region", now => t.without_region,
        before => p.map(|p| p.without_region),
        change => change(t.without_region, p.map(|p| p.without_region)) },
    ];

    let categories: Vec<Value> = stats
        .roots
        .iter()
        .map(|root| {
            let in_root: Vec<&stats::SkillStats> = stats
                .skills
                .iter()
                .filter(|s| s.root == root.id && s.counts.offers + s.counts.wants > 0)
                .collect();
            let mut chosen: BTreeSet<&str> = BTreeSet::new();
            for key in [
                |s: &stats::SkillStats| s.counts.offers,
                |s: &stats::SkillStats| s.counts.wants,
            ] {
                let mut ranked: Vec<&&stats::SkillStats> =
                    in_root.iter().filter(|s| key(s) > 0).collect();
                ranked.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.id.cmp(&b.id)));
                chosen.extend(ranked.iter().take(TOP_PER_CATEGORY).map(|s| s.id.as_str()));
            }
            let mut rows: Vec<&&stats::SkillStats> = in_root
                .iter()
                .filter(|s| chosen.contains(s.id.as_str()))
                .collect();
            rows.sort_by(|a, b| {
                let total = |s: &stats::SkillStats| s.counts.offers + s.counts.wants;
                total(b).cmp(&total(a)).then_with(|| a.id.cmp(&b.id))
            });
            let rows: Vec<Value> = rows
                .iter()
                .map(|s| {
                    let before = prev.map(|b| b.skill(&s.id));
                    let skill = SkillRef::Known {
                        id: s.id.clone(),
                        label: s.label.clone(),
                    };
                    context! {
                        skill => link(&skill),
                        offers => s.counts.offers,
                        offers_change => change(s.counts.offers, before.map(|c| c.offers)),
                        wants => s.counts.wants,
                        wants_change => change(s.counts.wants, before.map(|c| c.wants)),
                    }
                })
                .collect();
            let label = Taxonomy::bundled()
                .get(&root.id)
                .map_or(root.label.as_str(), |s| Taxonomy::bundled().label(s, "en"));
            context! {
                label => label,
                offers => root.counts.offers,
                wants => root.counts.wants,
                more => in_root.len() - rows.len(),
                rows => rows,
            }
        })
        .collect();

    let unmet: Vec<Value> = stats
        .unmet_needs
        .iter()
        .take(TOP)
        .map(|n| {
            context! { skill => link(&n.skill), unmet => n.unmet, wanters => n.wanters,
            offerers => n.offerers }
        })
        .collect();

    let groups: Vec<Value> = stats
        .group_opportunities
        .iter()
        .take(TOP)
        .map(|g| {
            let leaders: Vec<&str> = g.leaders.iter().map(|l| l.as_str()).collect();
            context! {
                skill => link(&g.skill),
                language => language_label(&g.language),
                learners => g.learners.len(),
                leader_count => g.leaders.len(),
                leaders => user_list(&leaders, MAX_LEADERS),
            }
        })
        .collect();

    let regions: Vec<Value> = stats
        .regions
        .iter()
        .map(|r| {
            let before = prev.map(|b| b.regions.get(&r.code).copied().unwrap_or(0));
            context! { name => r.name.clone(), code => r.code.clone(), profiles => r.profiles,
            active => r.active, change => change(r.profiles, before) }
        })
        .collect();

    let languages: Vec<Value> = stats
        .languages
        .iter()
        .take(TOP)
        .map(|l| {
            context! { name => language_label(&l.code), speakers => l.speakers,
            level2 => l.level_2_or_native, native => l.native }
        })
        .collect();

    let (new_profiles, left) = match prev {
        None => (None, None),
        Some(b) => {
            let before: BTreeSet<&str> = b.users.iter().map(String::as_str).collect();
            let mut now: Vec<&str> = input.users.iter().map(String::as_str).collect();
            now.sort_unstable();
            now.dedup();
            let now_set: BTreeSet<&str> = now.iter().copied().collect();
            let new: Vec<&str> = now.into_iter().filter(|u| !before.contains(u)).collect();
            let left = before.iter().filter(|u| !now_set.contains(*u)).count();
            (
                Some(context! { count => new.len(), names => user_list(&new, MAX_NEW_NAMES) }),
                Some(left),
            )
        }
    };

    let candidates: Vec<Value> = stats
        .taxonomy_candidates
        .iter()
        .take(MAX_CANDIDATES)
        .map(|c| {
            let skill = SkillRef::Free {
                text: c.text.clone(),
            };
            context! { skill => link(&skill), people => c.people, offers => c.counts.offers,
            wants => c.counts.wants, knows => c.counts.knows }
        })
        .collect();

    let ctx = context! {
        webtool => safe(url.to_string()),
        generation => input.generation,
        as_of => safe(date(stats.as_of)),
        taxonomy_version => stats.taxonomy_version,
        previous => prev.map(|b| context! {
            generation => b.generation.clone(),
            as_of => safe(date(b.as_of)),
            taxonomy_changed => b.taxonomy_version != stats.taxonomy_version,
            taxonomy_version => b.taxonomy_version,
        }),
        totals => totals,
        categories => categories,
        top_per_category => TOP_PER_CATEGORY,
        unmet => unmet,
        unmet_total => stats.unmet_needs.len(),
        groups => groups,
        groups_total => stats.group_opportunities.len(),
        group_min => stats::GROUP_MIN_LEARNERS,
        leader_level => stats::LEADER_LANGUAGE_LEVEL,
        shared_level => stats::SHARED_LANGUAGE_LEVEL,
        regions => regions,
        without_region => t.without_region,
        languages => languages,
        languages_total => stats.languages.len(),
        new_profiles => new_profiles,
        left => left,
        candidates => candidates,
        candidates_total => stats.taxonomy_candidates.len(),
        connections => connections_context(stats, prev, url),
        period => period_context(input, url),
    };
    let text = environment()?.get_template(TEMPLATE_NAME)?.render(ctx)?;
    // MediaWiki drops trailing white space when it saves a page; so do we, so that the text
    // read back compares equal to the text rendered.
    Ok(format!("{}\n", text.trim_end()))
}

// ---------------------------------------------------------------------------------------
// Tabular data (.tab)
// ---------------------------------------------------------------------------------------

/// The columns of the tabular export: name, type, English title.
pub const TAB_FIELDS: [(&str, &str, &str); 11] = [
    (
        "group",
        "string",
        "Group: total, region, language, category, skill or month",
    ),
    ("id", "string", "Code or id"),
    ("label", "string", "Name"),
    (
        "profiles",
        "number",
        "Profiles (for a language: people who list it)",
    ),
    ("active", "number", "Active profiles"),
    ("offers", "number", "People who offer it"),
    ("wants", "number", "People who want to learn it"),
    ("knows", "number", "People who know it"),
    (
        "unmet",
        "number",
        "Active wanters no active offerer shares a language with",
    ),
    (
        "requests",
        "number",
        "Requests for help made (for a language: to people who speak it at level 2 or more)",
    ),
    (
        "thanks",
        "number",
        "Exchanges thanked (for a language: people thanked who speak it at level 2 or more)",
    ),
];

/// The aggregate numbers as a Commons tabular-data page (the JSON of a `Data:….tab` page,
/// released under CC0): one row per total, region, language, root category and taxonomy
/// skill, and one per month with requests or thanks, with the counts that apply to each
/// row's group and `null` elsewhere. A category's counts include its sub-skills (people
/// counted once); a skill's are the people who named that skill, as on the statistics
/// page. Requests and thanks are those of `stats.connections` (none per category). Free
/// text is not exported: it is people's own words, and candidates are in the wikitext
/// report.
pub fn tabular(stats: &Stats, generation: &str, webtool_url: &str) -> serde_json::Value {
    let n = |v: usize| json!(v);
    let mut data: Vec<serde_json::Value> = Vec::new();
    let c = &stats.connections;
    // Requests and thanks per key, a group without any being zero.
    let by_key = |rows: &[connections::GroupConnections]| -> BTreeMap<String, (usize, usize)> {
        rows.iter()
            .map(|r| (r.key.clone(), (r.requests, r.thanks)))
            .collect()
    };
    let (region_connections, language_connections) =
        (by_key(&c.per_region), by_key(&c.per_language));
    let skill_connections: BTreeMap<&str, (usize, usize)> = c
        .per_skill
        .iter()
        .filter_map(|s| s.id.as_deref().map(|id| (id, (s.requests, s.thanks))))
        .collect();
    let t = &stats.totals;
    data.push(json!([
        "total",
        "all",
        "All profiles",
        n(t.profiles),
        n(t.active),
        null,
        null,
        null,
        null,
        n(c.requests),
        n(c.thanks)
    ]));
    for r in &stats.regions {
        let (requests, thanks) = region_connections.get(&r.code).copied().unwrap_or_default();
        data.push(json!([
            "region",
            r.code,
            r.name,
            n(r.profiles),
            n(r.active),
            null,
            null,
            null,
            null,
            n(requests),
            n(thanks)
        ]));
    }
    for l in &stats.languages {
        let name = l.name.clone().unwrap_or_else(|| l.code.clone());
        let (requests, thanks) = language_connections
            .get(&l.code)
            .copied()
            .unwrap_or_default();
        data.push(json!([
            "language",
            l.code,
            name,
            n(l.speakers),
            null,
            null,
            null,
            null,
            null,
            n(requests),
            n(thanks)
        ]));
    }
    for r in &stats.roots {
        data.push(json!([
            "category",
            r.id,
            r.label,
            null,
            null,
            n(r.counts.offers),
            n(r.counts.wants),
            n(r.counts.knows),
            null,
            null,
            null
        ]));
    }
    let unmet: BTreeMap<&str, usize> = stats
        .unmet_needs
        .iter()
        .filter_map(|u| u.skill.id().map(|id| (id, u.unmet)))
        .collect();
    for s in &stats.skills {
        let (requests, thanks) = skill_connections
            .get(s.id.as_str())
            .copied()
            .unwrap_or_default();
        data.push(json!([
            "skill",
            s.id,
            s.label,
            null,
            null,
            n(s.counts.offers),
            n(s.counts.wants),
            n(s.counts.knows),
            n(unmet.get(s.id.as_str()).copied().unwrap_or(0)),
            n(requests),
            n(thanks)
        ]));
    }
    for m in &c.per_month {
        data.push(json!([
            "month",
            m.key,
            m.key,
            null,
            null,
            null,
            null,
            null,
            null,
            n(m.requests),
            n(m.thanks)
        ]));
    }
    let fields: Vec<serde_json::Value> = TAB_FIELDS
        .iter()
        .map(|(name, kind, title)| json!({"name": name, "type": kind, "title": {"en": title}}))
        .collect();
    json!({
        "license": "CC0-1.0",
        "description": {
            "en": format!(
                "Capacity Exchange: profiles, skills offered and wanted, requests and thanks, by region and language ({} UTC)",
                stats.as_of.format("%Y-%m-%d")
            ),
        },
        "sources": format!(
            "Computed by the Capacity Exchange indexer ({}) from snapshot {} of {}, taxonomy version {}.",
            webtool_url.trim_end_matches('/'),
            generation,
            date(stats.as_of),
            stats.taxonomy_version
        ),
        "schema": {"fields": fields},
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connections::{RequestRecord, ThanksRecord};
    use crate::profile::{LanguageSkill, Level, Profile};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    fn person(user: &str, offers: &[SkillRef], wants: &[SkillRef], lang: &str) -> Profile {
        let mut p = Profile::empty(user, &format!("User:{user}"));
        p.offers = offers.to_vec();
        p.wants = wants.to_vec();
        p.languages = vec![LanguageSkill {
            code: lang.into(),
            level: Level::NATIVE,
        }];
        p.country = Some("BR".into());
        p.region = crate::geo::find_country("BR").map(|c| c.region);
        p.updated = Some(now());
        p
    }

    fn known(id: &str) -> SkillRef {
        let skill = Taxonomy::bundled().get(id).expect("taxonomy id");
        SkillRef::Known {
            id: id.into(),
            label: skill.id.clone(),
        }
    }

    fn free(text: &str) -> SkillRef {
        SkillRef::Free { text: text.into() }
    }

    /// A taxonomy skill at depth ≥ 2 (the first one), and its root.
    fn some_skill() -> (String, String) {
        let t = Taxonomy::bundled();
        let s = t
            .skills()
            .iter()
            .find(|s| s.parent.is_some())
            .expect("a sub-skill");
        (s.id.clone(), t.root(&s.id).unwrap().id.clone())
    }

    fn report(profiles: &[Profile], previous: Option<&Baseline>) -> (String, Stats) {
        report_with(profiles, previous, &connections::Counts::default())
    }

    /// The report of `profiles` with the thanks and requests of `counts`; people whose
    /// profile says `recognition = yes` are the opted-in ones, as the indexer finds them.
    fn report_with(
        profiles: &[Profile],
        previous: Option<&Baseline>,
        counts: &connections::Counts,
    ) -> (String, Stats) {
        let stats = stats::compute(profiles, counts, Taxonomy::bundled(), now());
        let users: Vec<String> = profiles.iter().map(|p| p.user.clone()).collect();
        let opted_in: BTreeSet<String> = profiles
            .iter()
            .filter(|p| p.recognition)
            .map(|p| p.user.clone())
            .collect();
        let text = render(&ReportInput {
            stats: &stats,
            generation: "20260301T120000.000Z-abcd",
            users: &users,
            previous,
            webtool_url: DEFAULT_WEBTOOL_URL,
            connections: counts,
            opted_in: &opted_in,
        })
        .unwrap();
        (text, stats)
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - Duration::days(days)
    }

    /// A thanks from `thanker`'s own user page, saved `at`, from an old account.
    fn thanks(
        thanker: &str,
        thanked: &str,
        skill: Option<SkillRef>,
        at: DateTime<Utc>,
    ) -> ThanksRecord {
        ThanksRecord {
            page: format!("User:{thanker}"),
            revid: 1,
            timestamp: at,
            thanker: thanker.into(),
            thanker_registered: None,
            thanked: thanked.into(),
            skill,
            date: None,
            note: None,
        }
    }

    /// A request marker added by `requester` on `helper`'s talk page `at`.
    fn request(
        requester: &str,
        helper: &str,
        skill: Option<SkillRef>,
        at: DateTime<Utc>,
    ) -> RequestRecord {
        RequestRecord {
            page: format!("User talk:{helper}"),
            revid: 1,
            timestamp: at,
            requester: requester.into(),
            skill,
        }
    }

    fn opted_in(mut p: Profile) -> Profile {
        p.recognition = true;
        p
    }

    #[test]
    fn escape_keeps_bidi_overrides_inside_the_value() {
        // A right-to-left override left open, and a pop that closes nothing.
        let escaped = escape("Lua\u{202E} modules\u{2069}");
        assert_eq!(escaped, "Lua\u{202E} modules\u{202C}");
    }

    #[test]
    fn escape_neutralises_markup() {
        for nasty in [
            "}}{{delete}}",
            "[[Category:X]]",
            "{{subst:PAGENAME}}",
            "~~~~",
            "__NOTOC__",
            "<script>x</script>",
            "''bold''",
            "a|b||c",
            "http://spam.example",
            "-{zh}-",
            "== H ==",
            "* item\n# two",
            "<nowiki>",
        ] {
            let e = escape(nasty);
            for bad in [
                "{{", "}}", "[[", "]]", "[", "]", "|", "~~~", "__", "<", "''", "://", "-{", "\n",
            ] {
                assert!(!e.contains(bad), "{nasty:?} → {e:?} contains {bad:?}");
            }
            assert!(
                !e.starts_with(['*', '#', ':', ';', '=', '!', '-', ' ']),
                "{nasty:?} → {e:?}"
            );
            // It reads the same once MediaWiki decodes the references.
            let decoded = crate::wikitext::title::decode_entities(&e);
            assert_eq!(decoded, nasty.replace('\n', " "), "{e}");
        }
        assert_eq!(escape("Lua módulos"), "Lua módulos");
    }

    #[test]
    fn user_links_are_links_only_for_real_user_names() {
        assert_eq!(user_link("Ana Souza"), "[[User:Ana Souza|Ana Souza]]");
        assert_eq!(user_link("محمد"), "[[User:محمد|محمد]]");
        assert_eq!(user_link("A&B"), "[[User:A&amp;B|A&amp;B]]");
        // Not normalised names: text only, escaped.
        assert_eq!(
            user_link("x]]{{delete}}"),
            "x&#93;&#93;&#123;&#123;delete&#125;&#125;"
        );
        assert!(!user_link("Ana/sub").contains("[["));
        assert!(!user_link("ana").contains("[["));
    }

    #[test]
    fn skill_links_go_to_the_web_tool() {
        let (id, _) = some_skill();
        let label = Taxonomy::bundled()
            .label(Taxonomy::bundled().get(&id).unwrap(), "en")
            .to_string();
        let link = skill_link("https://example.org/", &known(&id));
        assert_eq!(
            link,
            format!(
                "[https://example.org/skill/{} {}]",
                urlencode(&id),
                escape(&label)
            )
        );
        let link = skill_link("https://example.org", &free("]] x [y]"));
        assert_eq!(
            link,
            "[https://example.org/search?q=%5D%5D%20x%20%5By%5D &#93;&#93; x &#91;y&#93;]"
        );
        assert!(is_usable_url("https://capacity-exchange.toolforge.org"));
        assert!(!is_usable_url("https://x.org/a b"));
        assert!(!is_usable_url("javascript:alert(1)"));
        assert!(!is_usable_url("https://x.org/~~~~"));
        assert!(!is_usable_url("https://x.org/]{{delete}}"));
    }

    #[test]
    fn nobots_and_bots_templates() {
        let me = "CapxBot";
        assert!(bots_allowed("Just a page.", me));
        assert!(bots_allowed("{{bots}}", me));
        assert!(!bots_allowed("text {{nobots}} text", me));
        assert!(!bots_allowed("{{Nobots}}", me));
        assert!(!bots_allowed("{{Template:nobots}}", me));
        assert!(bots_allowed("<!-- {{nobots}} -->", me));
        assert!(bots_allowed("<nowiki>{{nobots}}</nowiki>", me));
        assert!(bots_allowed("{{bots|allow=CapxBot}}", me));
        assert!(bots_allowed("{{bots|allow=OtherBot, capxBot}}", me));
        assert!(bots_allowed("{{bots|allow=Capx_Bot}}", "Capx Bot"));
        assert!(!bots_allowed("{{bots|allow=OtherBot}}", me));
        assert!(!bots_allowed("{{bots|allow=none}}", me));
        assert!(bots_allowed("{{bots|allow=all}}", me));
        assert!(!bots_allowed("{{bots|deny=all}}", me));
        assert!(!bots_allowed("{{bots|deny=OtherBot,CapxBot}}", me));
        assert!(bots_allowed("{{bots|deny=OtherBot}}", me));
        assert!(bots_allowed("{{bots|deny=none}}", me));
    }

    #[test]
    fn the_report_shows_the_statistics_numbers() {
        let (id, root) = some_skill();
        let profiles = vec![
            person("Ana", &[known(&id)], &[free("Pywikibot")], "pt"),
            person("Bia", &[known(&id)], &[free("pywikibot")], "pt"),
            person("Caio", &[], &[free("Pywikibot"), known(&id)], "pt"),
        ];
        let (text, stats) = report(&profiles, None);
        assert!(text.contains("| All profiles || 3\n"), "{text}");
        let skill = stats.skills.iter().find(|s| s.id == id).unwrap();
        let row = format!(
            "| {} || {} |",
            skill_link(DEFAULT_WEBTOOL_URL, &known(&id)),
            skill.counts.offers
        );
        assert!(text.contains(&row), "{row} not in\n{text}");
        assert_eq!(skill.counts.offers, 2);
        let root_label = &stats.roots.iter().find(|r| r.id == root).unwrap().label;
        assert!(text.contains(&format!("=== {} ===", escape(root_label))));
        // The group of three learners of Pywikibot in Portuguese, and the taxonomy candidate.
        assert!(text.contains("Portuguese (pt)"), "{text}");
        assert!(text.contains("search?q=Pywikibot"), "{text}");
        assert!(text.contains("{| class=\"wikitable sortable\""));
        assert!(text.contains("20260301T120000.000Z-abcd"));
        assert!(text.contains("2026-03-01 12:00 UTC"));
        assert!(text.contains("first report"), "{text}");
        // Balanced tables, and nothing of the template language left over.
        assert_eq!(text.matches("\n{|").count(), text.matches("\n|}").count());
        for leftover in ["{{", "}}", "{%", "%}", "{#"] {
            assert!(!text.contains(leftover), "{leftover} in\n{text}");
        }
        assert!(!text.ends_with("\n\n") && !text.contains(" \n"));
    }

    #[test]
    fn free_text_cannot_inject_markup() {
        let nasty = ["}}{{delete}}", "[[Category:X]]", "~~~~ __NOINDEX__"];
        let profiles: Vec<Profile> = ["A", "B", "C"]
            .iter()
            .map(|u| {
                let offers: Vec<SkillRef> = nasty.iter().map(|t| free(t)).collect();
                person(u, &offers, &[], "en")
            })
            .collect();
        let (text, stats) = report(&profiles, None);
        assert_eq!(stats.taxonomy_candidates.len(), 3);
        for bad in ["{{delete", "[[Category", "~~~", "__NOINDEX__"] {
            assert!(!text.contains(bad), "{bad} in\n{text}");
        }
        assert!(text.contains("&#123;&#123;delete&#125;&#125;"));
    }

    #[test]
    fn changes_and_new_profiles_since_the_previous_report() {
        let (id, _) = some_skill();
        let first = vec![
            person("Ana", &[known(&id)], &[], "pt"),
            person("Bia", &[], &[], "pt"),
        ];
        let stats1 = stats::compute(&first, &Default::default(), Taxonomy::bundled(), now());
        let users1: Vec<String> = first.iter().map(|p| p.user.clone()).collect();
        let baseline = Baseline::new(&stats1, "gen-1", &users1);

        let second = vec![
            person("Ana", &[known(&id)], &[], "pt"),
            person("Caio", &[known(&id)], &[], "pt"),
            person("Duda", &[known(&id)], &[], "pt"),
        ];
        let (text, _) = report(&second, Some(&baseline));
        assert!(
            text.contains("| All profiles || 3 || 2 || data-sort-value=\"1\" | +1"),
            "{text}"
        );
        // Offers of the skill went from 1 to 3.
        assert!(text.contains("data-sort-value=\"2\" | +2"), "{text}");
        assert!(
            text.contains("[[User:Caio|Caio]], [[User:Duda|Duda]]"),
            "{text}"
        );
        // Bia left: counted, not named.
        assert!(!text.contains("Bia"));
        assert!(text.contains("1 profile was removed"), "{text}");
    }

    #[test]
    fn the_state_compares_a_repeated_report_with_the_same_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = vec![person("Ana", &[], &[], "pt")];
        let stats = stats::compute(&profiles, &Default::default(), Taxonomy::bundled(), now());
        let users = vec!["Ana".to_string()];
        let b1 = Baseline::new(&stats, "gen-1", &users);
        let b2 = Baseline {
            generation: "gen-2".into(),
            ..b1.clone()
        };

        let mut state = ReportState::load(dir.path()).unwrap();
        assert!(state.baseline("Report", "gen-1").is_none());
        state.record("Report", b1.clone(), now(), Some(10));
        state.save(dir.path()).unwrap();
        let mut state = ReportState::load(dir.path()).unwrap();
        // The same snapshot again: what gen-1 was compared with (nothing).
        assert!(state.baseline("Report", "gen-1").is_none());
        assert_eq!(state.baseline("Report", "gen-2"), Some(&b1));
        state.record("Report", b2.clone(), now(), Some(11));
        assert_eq!(state.baseline("Report", "gen-2"), Some(&b1));
        // Recording gen-2 again keeps what it was compared with.
        state.record("Report", b2.clone(), now(), None);
        assert_eq!(state.baseline("Report", "gen-2"), Some(&b1));
        assert_eq!(state.baseline("Report", "gen-3"), Some(&b2));
        // Pages are separate; `_` and space are one.
        assert!(state.baseline("Other", "gen-3").is_none());
        assert_eq!(
            state.baseline("Report", "gen-3"),
            state.baseline(" Report", "gen-3")
        );
        assert!(!dir.path().join(format!("{STATE_FILE}.tmp")).exists());

        fs::write(dir.path().join(STATE_FILE), "{not json").unwrap();
        assert!(matches!(
            ReportState::load(dir.path()),
            Err(ReportError::State { .. })
        ));
    }

    #[test]
    fn the_same_snapshot_renders_the_same_text() {
        let (id, _) = some_skill();
        let profiles = vec![
            person("Ana", &[known(&id)], &[free("x")], "pt"),
            person("Bia", &[], &[free("X")], "es"),
        ];
        assert_eq!(report(&profiles, None).0, report(&profiles, None).0);
    }

    #[test]
    fn tabular_data_matches_the_statistics() {
        let (id, _) = some_skill();
        let profiles = vec![
            person("Ana", &[known(&id)], &[known(&id)], "pt"),
            person("Bia", &[known(&id)], &[], "es"),
            person("Caio", &[], &[known(&id)], "ar"),
        ];
        let counts = connections::count(
            &[
                thanks("Bia", "Ana", Some(known(&id)), days_ago(40)),
                thanks("Caio", "Ana", Some(known(&id)), days_ago(3)),
                thanks("Caio", "Ana", Some(free("Knitting")), days_ago(3)),
            ],
            &[request("Caio", "Ana", Some(known(&id)), days_ago(5))],
        );
        let stats = stats::compute(&profiles, &counts, Taxonomy::bundled(), now());
        let tab = tabular(&stats, "gen-1", DEFAULT_WEBTOOL_URL);
        assert_eq!(tab["license"], "CC0-1.0");
        assert!(tab["description"]["en"].is_string());
        assert!(tab["sources"].as_str().unwrap().contains("gen-1"));
        let fields = tab["schema"]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), TAB_FIELDS.len());
        for field in fields {
            let name = field["name"].as_str().unwrap();
            // Commons: names are identifiers; types are one of these.
            assert!(
                name.chars().next().unwrap().is_ascii_alphabetic()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(
                ["string", "number", "boolean", "localized"]
                    .contains(&field["type"].as_str().unwrap())
            );
            assert!(field["title"]["en"].is_string());
        }
        let data = tab["data"].as_array().unwrap();
        assert_eq!(
            data.len(),
            1 + stats.regions.len()
                + stats.languages.len()
                + stats.roots.len()
                + stats.skills.len()
                + stats.connections.per_month.len()
        );
        let column = |name: &str| TAB_FIELDS.iter().position(|f| f.0 == name).unwrap();
        for row in data {
            let row = row.as_array().unwrap();
            assert_eq!(row.len(), fields.len());
            for (cell, (_, kind, _)) in row.iter().zip(TAB_FIELDS) {
                match kind {
                    "string" => assert!(cell.is_string(), "{row:?}"),
                    _ => assert!(cell.is_null() || cell.is_u64(), "{row:?}"),
                }
            }
        }
        let find = |group: &str, key: &str| {
            data.iter()
                .find(|r| r[0] == group && r[1] == key)
                .unwrap_or_else(|| panic!("no row {group} {key}"))
        };
        assert_eq!(find("total", "all")[column("profiles")], 3);
        assert_eq!(find("total", "all")[column("active")], stats.totals.active);
        let skill = stats.skills.iter().find(|s| s.id == id).unwrap();
        let row = find("skill", &id);
        assert_eq!(row[column("offers")], skill.counts.offers);
        assert_eq!(row[column("wants")], skill.counts.wants);
        assert_eq!(row[column("offers")], 2);
        let unmet = stats
            .unmet_needs
            .iter()
            .find(|u| u.skill.id() == Some(id.as_str()))
            .map_or(0, |u| u.unmet);
        assert_eq!(row[column("unmet")], unmet);
        let lang = stats.languages.iter().find(|l| l.code == "pt").unwrap();
        assert_eq!(find("language", "pt")[column("profiles")], lang.speakers);
        let region = &stats.regions[0];
        assert_eq!(
            find("region", &region.code)[column("profiles")],
            region.profiles
        );
        for root in &stats.roots {
            assert_eq!(
                find("category", &root.id)[column("wants")],
                root.counts.wants
            );
        }
        // Requests and thanks: free text only in the totals, languages at level 2 or more.
        let total = find("total", "all");
        assert_eq!(
            (
                total[column("requests")].clone(),
                total[column("thanks")].clone()
            ),
            (json!(1), json!(3))
        );
        assert_eq!(row[column("requests")], 1);
        assert_eq!(row[column("thanks")], 2);
        assert_eq!(find("region", "LAC")[column("thanks")], 3);
        assert_eq!(find("language", "pt")[column("thanks")], 3);
        assert_eq!(find("language", "es")[column("thanks")], 0);
        assert!(find("category", &stats.roots[0].id)[column("thanks")].is_null());
        let months: Vec<(&str, u64)> = data
            .iter()
            .filter(|r| r[0] == "month")
            .map(|r| {
                (
                    r[1].as_str().unwrap(),
                    r[column("thanks")].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(months, [("2026-01", 1), ("2026-02", 2)]);
    }

    #[test]
    fn only_opted_in_people_are_named_among_the_most_thanked() {
        let (id, _) = some_skill();
        let profiles = vec![
            opted_in(person("Ana", &[], &[], "pt")),
            person("Bia", &[], &[], "pt"),
            person("Caio", &[], &[], "pt"),
        ];
        // Bia, not opted in, is the most thanked of all; the thankers never opted in either.
        let mut records = vec![thanks("Thanker One", "Ana", Some(known(&id)), days_ago(2))];
        for thanker in ["Thanker One", "Thanker Two", "Thanker Three"] {
            records.push(thanks(thanker, "Bia", Some(known(&id)), days_ago(2)));
        }
        records.push(thanks(
            "Thanker Two",
            "Nobody With A Profile",
            None,
            days_ago(1),
        ));
        let counts = connections::count(&records, &[request("Caio", "Bia", None, days_ago(2))]);
        let (text, stats) = report_with(&profiles, None, &counts);
        assert_eq!(stats.connections.thanks, 5);
        assert!(text.contains("| [[User:Ana|Ana]] || 1 || "), "{text}");
        for never in ["Bia", "Caio", "Thanker", "Nobody With A Profile"] {
            assert!(!text.contains(never), "{never} named in\n{text}");
        }
        assert!(text.contains("recognition = yes"), "{text}");
        assert!(
            text.contains("In this period 5 exchanges were thanked, for 3 people."),
            "{text}"
        );
        // Nobody opted in: nobody named, everyone counted.
        let profiles: Vec<Profile> = profiles
            .into_iter()
            .map(|mut p| {
                p.recognition = false;
                p
            })
            .collect();
        let (text, _) = report_with(&profiles, None, &counts);
        assert!(!text.contains("[[User:"), "{text}");
        assert!(
            text.contains("Nobody who asked to be named was thanked in this period."),
            "{text}"
        );
    }

    #[test]
    fn the_period_runs_from_the_previous_report_or_thirty_days_back() {
        let (id, _) = some_skill();
        let lua = || Some(known(&id));
        let records = vec![
            thanks("T1", "Ana", lua(), days_ago(45)),
            thanks("T2", "Ana", lua(), days_ago(RECOGNITION_DAYS)),
            thanks("T3", "Ana", lua(), days_ago(20)),
            thanks("T4", "Ana", Some(free("Knitting")), days_ago(5)),
            thanks("T5", "Ana", lua(), now()),
            thanks("T6", "Bia", lua(), days_ago(40)),
        ];
        let counts = connections::count(&records, &[]);
        let everyone: BTreeSet<String> = ["Ana".to_string(), "Bia".to_string()].into();
        let ranked = |since| -> Vec<(String, usize, usize)> {
            most_thanked(&counts, &everyone, since, now())
                .iter()
                .map(|r| (r.user.to_string(), r.thanks, r.skills.len()))
                .collect()
        };
        // After `since`, up to and including the snapshot's time.
        assert_eq!(ranked(days_ago(RECOGNITION_DAYS)), [("Ana".into(), 3, 2)]);
        assert_eq!(
            ranked(days_ago(50)),
            [("Ana".into(), 5, 2), ("Bia".into(), 1, 1)]
        );
        assert!(ranked(now()).is_empty());

        let profiles = vec![
            opted_in(person("Ana", &[], &[], "pt")),
            opted_in(person("Bia", &[], &[], "pt")),
        ];
        // No previous report: the 30 days before the snapshot.
        let (text, _) = report_with(&profiles, None, &counts);
        assert!(text.contains("from 2026-01-30 12:00 UTC to 2026-03-01 12:00 UTC (the 30 days before the snapshot)"), "{text}");
        assert!(text.contains("| [[User:Ana|Ana]] || 3 || "), "{text}");
        assert!(!text.contains("[[User:Bia|Bia]]"), "{text}");
        // Since the previous report's snapshot, however long ago.
        let stats = stats::compute(&profiles, &counts, Taxonomy::bundled(), days_ago(50));
        let users: Vec<String> = profiles.iter().map(|p| p.user.clone()).collect();
        let baseline = Baseline::new(&stats, "gen-1", &users);
        let (text, _) = report_with(&profiles, Some(&baseline), &counts);
        assert!(text.contains("(since the previous report)"), "{text}");
        let ana = format!(
            "| [[User:Ana|Ana]] || 5 || {} (4), {} (1)\n",
            skill_link(DEFAULT_WEBTOOL_URL, &known(&id)),
            skill_link(DEFAULT_WEBTOOL_URL, &free("Knitting"))
        );
        assert!(text.contains(&ana), "{ana} not in\n{text}");
        assert!(text.contains("|-\n| [[User:Bia|Bia]] || 1 || "), "{text}");
        assert!(text.find("[[User:Ana|").unwrap() < text.find("[[User:Bia|").unwrap());
    }

    #[test]
    fn connection_totals_and_their_change_since_the_previous_report() {
        let (id, _) = some_skill();
        let profiles = vec![
            person("Ana", &[known(&id)], &[], "pt"),
            person("Bia", &[], &[], "es"),
        ];
        let first = connections::count(
            &[thanks("Bia", "Ana", Some(known(&id)), days_ago(10))],
            &[request("Bia", "Ana", Some(known(&id)), days_ago(12))],
        );
        let stats1 = stats::compute(&profiles, &first, Taxonomy::bundled(), days_ago(7));
        let users: Vec<String> = profiles.iter().map(|p| p.user.clone()).collect();
        let baseline = Baseline::new(&stats1, "gen-1", &users);
        assert_eq!(
            baseline.connections,
            Some(ConnectionTotals {
                requests: 1,
                thanks: 1,
                helpers_thanked: 1,
                learners_thanking: 1
            })
        );

        let second = connections::count(
            &[
                thanks("Bia", "Ana", Some(known(&id)), days_ago(10)),
                thanks("Caio", "Ana", Some(known(&id)), days_ago(2)),
                thanks("Caio", "Bia", None, days_ago(2)),
            ],
            &[
                request("Bia", "Ana", Some(known(&id)), days_ago(12)),
                request("Caio", "Ana", Some(free("Knitting")), days_ago(1)),
                request("Dora", "Ana", Some(known(&id)), days_ago(1)),
            ],
        );
        let (text, _) = report_with(&profiles, Some(&baseline), &second);
        for row in [
            "| Requests made || 3 || 1 || data-sort-value=\"2\" | +2\n",
            "| Exchanges thanked || 3 || 1 || data-sort-value=\"2\" | +2\n",
            "| People thanked || 2 || 1 || data-sort-value=\"1\" | +1\n",
            "| People who thanked || 2 || 1 || data-sort-value=\"1\" | +1\n",
        ] {
            assert!(text.contains(row), "{row} not in\n{text}");
        }
        // Per skill, region, language and month.
        let lua = format!(
            "| {} || 2 || 2\n",
            skill_link(DEFAULT_WEBTOOL_URL, &known(&id))
        );
        assert!(text.contains(&lua), "{lua} not in\n{text}");
        assert!(
            text.contains(&format!(
                "| {} || 1 || 0\n",
                skill_link(DEFAULT_WEBTOOL_URL, &free("Knitting"))
            )),
            "{text}"
        );
        assert!(text.contains("| no skill given || 0 || 1\n"), "{text}");
        assert!(
            text.contains("search?region=LAC Latin America and the Caribbean] || 3 || 3\n"),
            "{text}"
        );
        assert!(text.contains("| Portuguese (pt) || 3 || 2\n"), "{text}");
        assert!(text.contains("| Spanish (es) || 0 || 1\n"), "{text}");
        assert!(text.contains("| 2026-02 || 3 || 3\n"), "{text}");
        assert_eq!(text.matches("\n{|").count(), text.matches("\n|}").count());

        // A first report shows the numbers without a change.
        let (text, _) = report_with(&profiles, None, &second);
        assert!(text.contains("| Requests made || 3\n"), "{text}");
        // A record written before connections were counted: read, and no change shown.
        let mut json = serde_json::to_value(&baseline).unwrap();
        json.as_object_mut().unwrap().remove("connections");
        let old: Baseline = serde_json::from_value(json).unwrap();
        assert_eq!(old.connections, None);
        let (text, _) = report_with(&profiles, Some(&old), &second);
        assert!(text.contains("| Requests made || 3\n"), "{text}");
        assert!(text.contains("did not count connections yet"), "{text}");
        assert!(
            text.contains("| All profiles || 2 || 2 || data-sort-value=\"0\" | 0\n"),
            "{text}"
        );
    }

    #[test]
    fn a_report_without_connections_says_so() {
        let (text, _) = report(&[person("Ana", &[], &[], "pt")], None);
        assert!(text.contains("| Requests made || 0\n"), "{text}");
        assert!(
            text.contains("Nobody has asked for help or thanked anyone"),
            "{text}"
        );
        assert!(
            text.contains("Nobody who asked to be named was thanked"),
            "{text}"
        );
        assert!(!text.contains("=== Connections by skill ==="), "{text}");
    }
}
