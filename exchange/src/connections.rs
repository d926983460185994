//! Connections and recognition: the thanks learners write on their own user page and the
//! request markers the web tool's "ask on their talk page" link leaves on a helper's talk
//! page, and the rules that turn them into counts.
//!
//! Two templates carry the data (their source is in `wiki/`):
//!
//! - `{{Capacity Exchange thanks|user=…|skill=…|date=…|note=…}}` on the **thanker's own
//!   user page**: "this person helped me with this skill". [`parse_thanks`] reads it.
//! - `{{Capacity Exchange request|skill=…}}` at the top of a new section of the **helper's
//!   User talk page**, put there by the web tool's link. [`parse_requests`] reads it. It has
//!   no `from` parameter on purpose: anyone can type any name in a parameter, while the
//!   author of the revision that added the marker cannot be forged, so the requester is
//!   always taken from that revision (and the signature `~~~~` already shows it to readers).
//!
//! # Counting rules ([`count`]) and why
//!
//! Counts are meant as recognition of volunteer work, so each rule removes a way to
//! inflate them cheaply while keeping every honest thanks:
//!
//! 1. **Thanking yourself counts for nothing** (thanker = thanked, after user-name
//!    normalisation).
//! 2. **Thanks from an account created on the day of the thanks, or later, count for
//!    nothing**: the day is the UTC day of the owner's revision in which the crawler first
//!    saw the thanks (a later edit of the page does not move it), compared with the
//!    account's registration. Throw-away accounts made to thank a friend are the
//!    cheapest abuse. Accounts without a registration date (MediaWiki has none for accounts
//!    older than 2005) count.
//! 3. **Many thanks from one account for the same person and skill count once**: the
//!    count is of *distinct thankers* per (thanked user, skill). A hundred templates on one
//!    page weigh what one does.
//! 4. **Removed thanks are gone**: the crawler reads thanks from the *latest revision by
//!    the page's owner* of each user page (the same owner rule as profiles: only the
//!    thanker's own edits count), so a thanks deleted from the page is simply not among the
//!    records; nothing is remembered from older revisions.
//! 5. **A thanks for a user who has no profile is kept**: [`count`] knows nothing of
//!    profiles, so the statistics see every exchange; the display decides what to show.
//! 6. **A request marker counts only on a User talk page** (or one of its subpages, where
//!    archiving bots move old sections): its owner is the helper. A marker anywhere else
//!    (a user page, an article, a template) counts for nothing. A request to yourself
//!    counts for nothing either.
//! 7. **Requests count distinct requesters** per (helper, skill), the requester being the
//!    author of the revision that added the marker; a marker archived to a subpage and
//!    still on the page is therefore counted once.
//!
//! Totals per skill are sums over people of these distinct counts: a thanks counted for
//! (Ana, Lua) by three people adds three to Lua.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use serde::{Deserialize, Serialize};

use crate::geo::Region;
use crate::harvest::PageHistory;
use crate::parse::{plain, skill_ref, truncate};
use crate::profile::{Profile, SkillRef, Warning};
use crate::taxonomy::Taxonomy;
use crate::text_key::fold;
use crate::wikitext::plain::{plain_text, without_comments};
use crate::wikitext::title::{
    NS_MAIN, NS_TEMPLATE, NS_USER, NS_USER_TALK, NamespaceId, Title, normalize_user_name, owner_of,
};
use crate::wikitext::{TemplateCall, extract};

/// The thanks template's canonical name on Meta-Wiki.
pub const THANKS_TEMPLATE: &str = "Capacity Exchange thanks";
/// The request marker's canonical name on Meta-Wiki.
pub const REQUEST_TEMPLATE: &str = "Capacity Exchange request";
/// The preload of the web tool's "thank this person" link: a new section of the thanker's
/// own user page holding `{{Capacity Exchange thanks|user=$1|skill=$2|date=$3|note=}}`.
pub const THANKS_PRELOAD_PAGE: &str = "Template:Capacity Exchange thanks/preload";
/// How many different people must have thanked someone for a skill before the web tool
/// issues them an Open Badges assertion for it.
pub const BADGE_MIN_THANKERS: usize = 3;
/// The parameters the thanks template documents.
pub const THANKS_PARAMS: &[&str] = &["user", "skill", "date", "note"];
/// The parameters the request marker documents.
pub const REQUEST_PARAMS: &[&str] = &["skill"];
/// Most thanks read from one page; the rest are dropped with a warning. Rule 3 already
/// makes repeats worthless; the cap bounds what one page can make the crawler store.
pub const MAX_THANKS_PER_PAGE: usize = 200;
/// Most request markers read from one talk page (a busy helper's page can hold many).
pub const MAX_REQUESTS_PER_PAGE: usize = 500;
/// Longest note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 300;

/// The names under which a template is called: its own and its redirects'.
#[derive(Debug, Clone)]
pub struct TemplateNames {
    names: HashSet<String>,
}

impl TemplateNames {
    /// `canonical` and its aliases (redirects), as titles with or without `Template:`.
    pub fn with_aliases<S: AsRef<str>>(
        canonical: &str,
        aliases: impl IntoIterator<Item = S>,
    ) -> TemplateNames {
        let names = std::iter::once(canonical.to_string())
            .chain(aliases.into_iter().map(|a| a.as_ref().to_string()))
            .filter_map(|a| Title::parse(&a, NS_TEMPLATE))
            .map(|t| t.as_call_name())
            .collect();
        TemplateNames { names }
    }

    /// Whether `text` may call one of these templates: a quick check before extracting
    /// templates from every page of an export. It looks for the last word of each name
    /// (written the same way in every call: MediaWiki folds only the first letter of a
    /// name, and `_` and spaces around words), so it never misses a plain call; a name
    /// spelled with character references is missed.
    pub fn might_call(&self, text: &str) -> bool {
        self.names.iter().any(|name| match name.rsplit_once(' ') {
            Some((_, last)) => text.contains(last),
            None => text.contains(name.get(1..).unwrap_or(name)),
        })
    }

    /// Adds an alias (a redirect to the template, as a title).
    pub fn add_alias(&mut self, alias: &str) {
        if let Some(title) = Title::parse(alias, NS_TEMPLATE) {
            self.names.insert(title.as_call_name());
        }
    }

    /// The thanks template without aliases.
    pub fn thanks() -> TemplateNames {
        TemplateNames::with_aliases(THANKS_TEMPLATE, std::iter::empty::<&str>())
    }

    /// The request marker without aliases.
    pub fn request() -> TemplateNames {
        TemplateNames::with_aliases(REQUEST_TEMPLATE, std::iter::empty::<&str>())
    }

    pub fn matches(&self, call: &TemplateCall) -> bool {
        self.names.contains(&call.name)
    }
}

/// One thanks as written on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thanks {
    /// Who helped, normalised as MediaWiki does.
    pub user: String,
    /// What with: a taxonomy skill, free text, or not said.
    pub skill: Option<SkillRef>,
    /// The date the thanker wrote; informative only (the rules use revision times).
    pub date: Option<NaiveDate>,
    pub note: Option<String>,
}

/// One request marker as written on a talk page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub skill: Option<SkillRef>,
}

/// The thanks on a page and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct ParsedThanks {
    pub thanks: Vec<Thanks>,
    pub warnings: Vec<Warning>,
}

/// The request markers on a page and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct ParsedRequests {
    pub requests: Vec<Request>,
    pub warnings: Vec<Warning>,
}

/// Reads every thanks call of a page. A call without a valid `user` is dropped with a
/// warning; an unreadable `date` is dropped (the thanks stays) with a warning.
pub fn parse_thanks(wikitext: &str, names: &TemplateNames, taxonomy: &Taxonomy) -> ParsedThanks {
    let mut out = ParsedThanks::default();
    let extraction = extract(wikitext);
    let calls = capped_calls(
        &extraction.templates,
        names,
        MAX_THANKS_PER_PAGE,
        "thanks",
        &mut out.warnings,
    );
    for call in calls {
        let mut user = None;
        let mut thanks_skill = None;
        let mut date = None;
        let mut note = None;
        for (param, value) in &call.params {
            let param = param.as_str();
            match param {
                "user" => {
                    let text = plain(param, value, &mut out.warnings);
                    if text.is_empty() {
                        continue;
                    }
                    // Markup around a name (`<span>Ana</span>`) is not a name: plain
                    // text would keep what is inside and credit whoever it spells.
                    let markup = without_comments(value).contains(['<', '>']);
                    match normalize_user_name(&text).filter(|_| !markup) {
                        Some(name) => user = Some(name),
                        None => out.warnings.push(Warning::new(
                            Some(param),
                            format!("{text:?} is not a user name; this thanks is ignored"),
                        )),
                    }
                }
                "skill" => thanks_skill = skill(param, value, taxonomy, &mut out.warnings),
                "date" => {
                    let text = plain(param, value, &mut out.warnings);
                    if text.is_empty() {
                        continue;
                    }
                    match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                        Ok(d) => date = Some(d),
                        Err(_) => out.warnings.push(Warning::new(
                            Some(param),
                            format!("{text:?} is not a date: write it as YYYY-MM-DD"),
                        )),
                    }
                }
                "note" => {
                    let text = plain(param, value, &mut out.warnings);
                    if !text.is_empty() {
                        note = Some(truncate(param, text, MAX_NOTE_CHARS, &mut out.warnings));
                    }
                }
                _ => out.warnings.push(Warning::new(
                    Some(param),
                    "unknown parameter of the thanks template, ignored",
                )),
            }
        }
        match user {
            Some(user) => out.thanks.push(Thanks {
                user,
                skill: thanks_skill,
                date,
                note,
            }),
            None if call
                .params
                .get("user")
                .is_none_or(|v| plain_text(v).text.is_empty()) =>
            {
                out.warnings.push(Warning::new(
                    Some("user"),
                    "a thanks without the user who helped is ignored",
                ));
            }
            None => {}
        }
    }
    out
}

/// Reads every request marker of a page.
pub fn parse_requests(
    wikitext: &str,
    names: &TemplateNames,
    taxonomy: &Taxonomy,
) -> ParsedRequests {
    let mut out = ParsedRequests::default();
    let extraction = extract(wikitext);
    let calls = capped_calls(
        &extraction.templates,
        names,
        MAX_REQUESTS_PER_PAGE,
        "request markers",
        &mut out.warnings,
    );
    for call in calls {
        let mut request = Request { skill: None };
        for (param, value) in &call.params {
            match param.as_str() {
                "skill" => request.skill = skill("skill", value, taxonomy, &mut out.warnings),
                other => out.warnings.push(Warning::new(
                    Some(other),
                    "unknown parameter of the request marker, ignored (the requester is the author of the revision that added it)",
                )),
            }
        }
        out.requests.push(request);
    }
    out
}

/// The marker the web tool's link puts in a new talk-page section, always one call (see
/// [`parameter_value`]).
pub fn request_marker(skill: &str) -> String {
    format!(
        "{{{{{REQUEST_TEMPLATE}|skill={}}}}}",
        parameter_value(skill)
    )
}

/// A value the web tool writes into a parameter of one of these templates (the request
/// marker, the `$1`–`$3` of the thanks preload): characters that would end the parameter
/// or the call are left out, so a free-text skill can never turn the call into another;
/// and runs of tildes are cut to two, since the wiki turns three or more into the saver's
/// signature or the time when the page is saved (a skill written `~~~~` would otherwise
/// become the name of whoever thanks).
pub fn parameter_value(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut tildes = 0;
    for c in text.chars() {
        if matches!(c, '{' | '}' | '|' | '[' | ']' | '<' | '>' | '\n' | '\r') {
            continue;
        }
        tildes = if c == '~' { tildes + 1 } else { 0 };
        if tildes <= 2 {
            kept.push(c);
        }
    }
    kept.trim().to_string()
}

/// The calls of the template in `names`, at most `max` of them; more is a warning naming
/// `what` they are, so one page cannot make a crawl read without end.
fn capped_calls<'a>(
    templates: &'a [TemplateCall],
    names: &TemplateNames,
    max: usize,
    what: &str,
    warnings: &mut Vec<Warning>,
) -> Vec<&'a TemplateCall> {
    let calls: Vec<&TemplateCall> = templates.iter().filter(|c| names.matches(c)).collect();
    if calls.len() > max {
        warnings.push(Warning::new(
            None,
            format!(
                "the page has {} {what}; only the first {max} are read",
                calls.len()
            ),
        ));
    }
    calls.into_iter().take(max).collect()
}

/// A skill as profiles read it: a taxonomy skill by id, label or alias, else free text.
fn skill(
    param: &str,
    value: &str,
    taxonomy: &Taxonomy,
    warnings: &mut Vec<Warning>,
) -> Option<SkillRef> {
    let text = plain(param, value, warnings);
    (!text.is_empty()).then(|| skill_ref(param, text, taxonomy, warnings))
}

/// What counts group by: a taxonomy id, folded free text, or no skill given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkillKey {
    Known(String),
    Free(String),
    Unspecified,
}

impl SkillKey {
    pub fn of(skill: Option<&SkillRef>) -> SkillKey {
        match skill {
            Some(SkillRef::Known { id, .. }) => SkillKey::Known(id.clone()),
            Some(SkillRef::Free { text }) => SkillKey::Free(fold(text)),
            None => SkillKey::Unspecified,
        }
    }
}

/// A thanks as the crawler hands it to [`count`] and the snapshot keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThanksRecord {
    /// The user page the thanks was read from.
    pub page: String,
    /// The owner's revision it was first read from. The text is always the owner's latest
    /// (the owner rule), but a thanks the crawler already saw on the page keeps the
    /// revision of that first sighting, so re-saving the page does not make it newer.
    pub revid: u64,
    /// The timestamp of that revision.
    pub timestamp: DateTime<Utc>,
    /// The owner of the page.
    pub thanker: String,
    /// When the thanker's account was created; `None` when MediaWiki does not know.
    pub thanker_registered: Option<DateTime<Utc>>,
    pub thanked: String,
    pub skill: Option<SkillRef>,
    /// The day the thanker says the exchange happened.
    pub date: Option<NaiveDate>,
    pub note: Option<String>,
}

/// A request marker as the crawler hands it to [`count`] and the snapshot keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The page the marker is on (`User talk:Ana`, `User talk:Ana/Archive 1`).
    pub page: String,
    /// The revision that added the marker.
    pub revid: u64,
    pub timestamp: DateTime<Utc>,
    /// The author of that revision.
    pub requester: String,
    pub skill: Option<SkillRef>,
}

/// The records of one page's thanks, read from the owner's latest revision.
pub fn thanks_records(
    page: &str,
    revid: u64,
    timestamp: DateTime<Utc>,
    thanker: &str,
    thanker_registered: Option<DateTime<Utc>>,
    thanks: &[Thanks],
) -> Vec<ThanksRecord> {
    thanks
        .iter()
        .map(|t| ThanksRecord {
            page: page.to_string(),
            revid,
            timestamp,
            thanker: thanker.to_string(),
            thanker_registered,
            thanked: t.user.clone(),
            skill: t.skill.clone(),
            date: t.date,
            note: t.note.clone(),
        })
        .collect()
}

/// The thanks of a user page from an export, under the owner rule of profiles
/// (`harvest.rs`): the page's newest text must call the thanks template, and the thanks are
/// read from the newest revision the owner saved. An export does not say when accounts
/// were created, so rule 2 cannot apply to what is imported (a crawl applies it).
pub fn harvest_thanks(
    page: &PageHistory,
    names: &TemplateNames,
    taxonomy: &Taxonomy,
) -> Vec<ThanksRecord> {
    if page.namespace != NS_USER || page.redirect.is_some() {
        return Vec::new();
    }
    let Some(owner) = owner_of(&page.title) else {
        return Vec::new();
    };
    let calls = |text: &str| {
        names.might_call(text) && extract(text).templates.iter().any(|c| names.matches(c))
    };
    let latest_calls = page
        .latest
        .as_ref()
        .and_then(|r| r.text.as_deref())
        .is_none_or(calls);
    if !latest_calls {
        return Vec::new();
    }
    let by_owner = page
        .latest
        .as_ref()
        .filter(|r| r.user.as_deref() == Some(owner.as_str()) && r.text.is_some())
        .or(page.owner_latest.as_ref());
    let Some(revision) = by_owner else {
        return Vec::new();
    };
    let (Some(text), Some(timestamp)) = (revision.text.as_deref(), revision.timestamp) else {
        return Vec::new();
    };
    if !names.might_call(text) {
        return Vec::new();
    }
    let parsed = parse_thanks(text, names, taxonomy);
    thanks_records(
        &page.title,
        revision.revid,
        timestamp,
        &owner,
        None,
        &parsed.thanks,
    )
}

/// One exchange that counts: `learner` thanked (or asked) `helper` about `skill`. Each
/// (helper, skill, learner) appears once, however many records say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub helper: String,
    pub skill: SkillKey,
    pub learner: String,
    /// When it happened, as far as the records tell: the earliest of them (for a thanks,
    /// its `date` when that is not later than the revision, else the revision's time).
    pub when: DateTime<Utc>,
    /// When the wiki first recorded it: the earliest revision saying it. A thanks for an
    /// exchange long ago is recorded now; "thanked this period" goes by this.
    pub recorded: DateTime<Utc>,
}

/// What the records are worth once the rules are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Thanks that count, sorted by helper, skill, learner.
    pub thanks: Vec<Counted>,
    /// Requests that count, sorted the same way.
    pub requests: Vec<Counted>,
    /// A skill as first written for each key, to show free-text skills as people typed them.
    skills: BTreeMap<SkillKey, SkillRef>,
}

/// One person's recognition for one skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSkill {
    pub skill: SkillKey,
    /// How many different people thanked them for it.
    pub thanked_by: usize,
    /// How many different people asked them about it on their talk page.
    pub asked_by: usize,
}

impl Counts {
    /// The skill as written, for display; `None` for [`SkillKey::Unspecified`].
    pub fn skill_ref(&self, key: &SkillKey) -> Option<&SkillRef> {
        self.skills.get(key)
    }

    /// Thanks and requests of one person, per skill: most thanked first, then most asked.
    pub fn person(&self, user: &str) -> Vec<PersonSkill> {
        let Some(user) = normalize_user_name(user) else {
            return Vec::new();
        };
        let mut per: BTreeMap<&SkillKey, (usize, usize)> = BTreeMap::new();
        for c in helper_slice(&self.thanks, &user) {
            per.entry(&c.skill).or_default().0 += 1;
        }
        for c in helper_slice(&self.requests, &user) {
            per.entry(&c.skill).or_default().1 += 1;
        }
        let mut out: Vec<PersonSkill> = per
            .into_iter()
            .map(|(skill, (thanked_by, asked_by))| PersonSkill {
                skill: skill.clone(),
                thanked_by,
                asked_by,
            })
            .collect();
        out.sort_by(|a, b| {
            (b.thanked_by, b.asked_by)
                .cmp(&(a.thanked_by, a.asked_by))
                .then_with(|| a.skill.cmp(&b.skill))
        });
        out
    }

    /// The people who thanked `user` for `skill`, oldest first: the evidence of a badge.
    pub fn thankers(&self, user: &str, skill: &SkillKey) -> Vec<&Counted> {
        let Some(user) = normalize_user_name(user) else {
            return Vec::new();
        };
        let mut out: Vec<&Counted> = helper_slice(&self.thanks, &user)
            .iter()
            .filter(|c| &c.skill == skill)
            .collect();
        out.sort_by_key(|c| c.when);
        out
    }
}

/// The entries of `helper` in a list sorted by helper.
fn helper_slice<'a>(list: &'a [Counted], helper: &str) -> &'a [Counted] {
    let start = list.partition_point(|c| c.helper.as_str() < helper);
    let end = list.partition_point(|c| c.helper.as_str() <= helper);
    &list[start..end]
}

/// Whether a thanks counts under rules 1 and 2 of the module documentation.
fn thanks_counts(record: &ThanksRecord) -> bool {
    let thanker = normalize_user_name(&record.thanker);
    let thanked = normalize_user_name(&record.thanked);
    let (Some(thanker), Some(thanked)) = (thanker, thanked) else {
        return false;
    };
    if thanker == thanked {
        return false;
    }
    match record.thanker_registered {
        None => true,
        Some(registered) => registered.date_naive() < record.timestamp.date_naive(),
    }
}

/// When a thanks happened: the date its author gave, unless that is after the revision
/// (a date in the future is a typo) or before the account existed; else the revision's time.
fn thanks_time(record: &ThanksRecord) -> DateTime<Utc> {
    record
        .date
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .filter(|d| *d <= record.timestamp)
        .filter(|d| {
            record
                .thanker_registered
                .is_none_or(|r| d.date_naive() >= r.date_naive())
        })
        .unwrap_or(record.timestamp)
}

/// The helper a request on `page` is addressed to, if the page is a User talk page.
fn request_helper(page: &str) -> Option<String> {
    let title = Title::parse(page, NS_MAIN)?;
    let namespace: NamespaceId = title.namespace;
    if namespace != NS_USER_TALK {
        return None;
    }
    title.owner().and_then(normalize_user_name)
}

/// Keeps the earliest times per (helper, skill, learner) and sorts.
fn distinct(entries: impl Iterator<Item = Counted>) -> Vec<Counted> {
    type Times = (DateTime<Utc>, DateTime<Utc>);
    let mut earliest: BTreeMap<(String, SkillKey, String), Times> = BTreeMap::new();
    for c in entries {
        let times = earliest
            .entry((c.helper, c.skill, c.learner))
            .or_insert((c.when, c.recorded));
        *times = (times.0.min(c.when), times.1.min(c.recorded));
    }
    earliest
        .into_iter()
        .map(|((helper, skill, learner), (when, recorded))| Counted {
            helper,
            skill,
            learner,
            when,
            recorded,
        })
        .collect()
}

/// Applies the rules of the module documentation to every record.
pub fn count(thanks: &[ThanksRecord], requests: &[RequestRecord]) -> Counts {
    let mut skills = BTreeMap::new();
    let mut remember = |skill: &Option<SkillRef>| {
        let key = SkillKey::of(skill.as_ref());
        if let Some(skill) = skill {
            skills.entry(key.clone()).or_insert_with(|| skill.clone());
        }
        key
    };
    let mut counted_thanks = Vec::new();
    for record in thanks.iter().filter(|r| thanks_counts(r)) {
        let (Some(learner), Some(helper)) = (
            normalize_user_name(&record.thanker),
            normalize_user_name(&record.thanked),
        ) else {
            continue;
        };
        counted_thanks.push(Counted {
            helper,
            skill: remember(&record.skill),
            learner,
            when: thanks_time(record),
            recorded: record.timestamp,
        });
    }
    let mut counted_requests = Vec::new();
    for record in requests {
        let Some(helper) = request_helper(&record.page) else {
            continue;
        };
        let Some(learner) = normalize_user_name(&record.requester) else {
            continue;
        };
        if learner == helper {
            continue;
        }
        counted_requests.push(Counted {
            helper,
            skill: remember(&record.skill),
            learner,
            when: record.timestamp,
            recorded: record.timestamp,
        });
    }
    Counts {
        thanks: distinct(counted_thanks.into_iter()),
        requests: distinct(counted_requests.into_iter()),
        skills,
    }
}

/// The helper's languages that count for "per language": those spoken at this Babel level
/// or better, the level at which matching calls a language shared.
pub const STATS_LANGUAGE_LEVEL: u8 = 2;

/// Requests and thanks that count, for the statistics page, `/api/v1/stats` and reports.
/// Region and languages are the helper's, from their profile: a helper without a profile
/// counts in the totals, per skill and per month, and nowhere else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionStats {
    /// Requests made: distinct (helper, skill, requester).
    pub requests: usize,
    /// Exchanges thanked: distinct (helper, skill, thanker).
    pub thanks: usize,
    /// Different people thanked for something.
    pub helpers_thanked: usize,
    /// Different people who thanked someone.
    pub learners_thanking: usize,
    /// Most thanks first, then most requests, then by skill.
    pub per_skill: Vec<SkillConnections>,
    /// In [`Region::ALL`] order, regions with nothing left out.
    pub per_region: Vec<GroupConnections>,
    /// Most thanks first, then most requests, then by code.
    pub per_language: Vec<GroupConnections>,
    /// Calendar months (`2026-03`, UTC), oldest first, months with nothing left out.
    pub per_month: Vec<GroupConnections>,
}

/// One skill's requests and thanks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillConnections {
    /// The taxonomy id; `None` for free text or no skill given.
    pub id: Option<String>,
    /// Free text as first written; `None` for a taxonomy skill or no skill given.
    pub text: Option<String>,
    pub requests: usize,
    pub thanks: usize,
}

/// Requests and thanks of one region, language or month (`key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupConnections {
    pub key: String,
    pub requests: usize,
    pub thanks: usize,
}

/// Groups counted entries, each once per group it falls in.
fn tally<'a>(
    counts: &'a Counts,
    mut groups: impl FnMut(&'a Counted) -> Vec<String>,
) -> BTreeMap<String, (usize, usize)> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for c in &counts.requests {
        for key in groups(c) {
            out.entry(key).or_default().0 += 1;
        }
    }
    for c in &counts.thanks {
        for key in groups(c) {
            out.entry(key).or_default().1 += 1;
        }
    }
    out
}

fn by_most(rows: &mut [GroupConnections]) {
    rows.sort_by(|a, b| {
        (b.thanks, b.requests)
            .cmp(&(a.thanks, a.requests))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// The statistics of [`ConnectionStats`], helpers' regions and languages read from
/// `profiles`.
pub fn stats(counts: &Counts, profiles: &[Profile]) -> ConnectionStats {
    let by_user: HashMap<&str, &Profile> = profiles.iter().map(|p| (p.user.as_str(), p)).collect();
    let distinct = |list: &[Counted], f: fn(&Counted) -> &str| {
        list.iter().map(f).collect::<HashSet<&str>>().len()
    };

    let mut per_skill: BTreeMap<&SkillKey, (usize, usize)> = BTreeMap::new();
    for c in &counts.requests {
        per_skill.entry(&c.skill).or_default().0 += 1;
    }
    for c in &counts.thanks {
        per_skill.entry(&c.skill).or_default().1 += 1;
    }
    let mut skills: Vec<SkillConnections> = per_skill
        .into_iter()
        .map(|(key, (requests, thanks))| {
            let (id, text) = match key {
                SkillKey::Known(id) => (Some(id.clone()), None),
                SkillKey::Free(_) => (
                    None,
                    match counts.skill_ref(key) {
                        Some(SkillRef::Free { text }) => Some(text.clone()),
                        _ => None,
                    },
                ),
                SkillKey::Unspecified => (None, None),
            };
            SkillConnections {
                id,
                text,
                requests,
                thanks,
            }
        })
        .collect();
    skills.sort_by_key(|s| std::cmp::Reverse((s.thanks, s.requests)));

    let regions = tally(counts, |c| {
        by_user
            .get(c.helper.as_str())
            .and_then(|p| p.region)
            .map(|r| vec![r.code().to_string()])
            .unwrap_or_default()
    });
    let per_region = Region::ALL
        .into_iter()
        .filter_map(|r| {
            regions
                .get(r.code())
                .map(|&(requests, thanks)| GroupConnections {
                    key: r.code().to_string(),
                    requests,
                    thanks,
                })
        })
        .collect();

    let mut per_language: Vec<GroupConnections> = tally(counts, |c| {
        by_user
            .get(c.helper.as_str())
            .map(|p| {
                p.languages
                    .iter()
                    .filter(|l| l.level.rank() >= STATS_LANGUAGE_LEVEL)
                    .map(|l| l.code.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default()
    })
    .into_iter()
    .map(|(key, (requests, thanks))| GroupConnections {
        key,
        requests,
        thanks,
    })
    .collect();
    by_most(&mut per_language);

    let per_month = tally(counts, |c| vec![c.when.format("%Y-%m").to_string()])
        .into_iter()
        .map(|(key, (requests, thanks))| GroupConnections {
            key,
            requests,
            thanks,
        })
        .collect();

    ConnectionStats {
        requests: counts.requests.len(),
        thanks: counts.thanks.len(),
        helpers_thanked: distinct(&counts.thanks, |c| &c.helper),
        learners_thanking: distinct(&counts.thanks, |c| &c.learner),
        per_skill: skills,
        per_region,
        per_language,
        per_month,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn taxonomy() -> &'static Taxonomy {
        Taxonomy::bundled()
    }

    fn thanks(text: &str) -> ParsedThanks {
        parse_thanks(text, &TemplateNames::thanks(), taxonomy())
    }

    fn requests(text: &str) -> ParsedRequests {
        parse_requests(text, &TemplateNames::request(), taxonomy())
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn lua() -> SkillKey {
        SkillKey::Known("lua-modules".into())
    }

    fn skill_of(key: &SkillKey) -> Option<SkillRef> {
        match key {
            SkillKey::Known(id) => Some(SkillRef::Known {
                id: id.clone(),
                label: id.clone(),
            }),
            SkillKey::Free(text) => Some(SkillRef::Free { text: text.clone() }),
            SkillKey::Unspecified => None,
        }
    }

    fn record(thanker: &str, thanked: &str, skill: SkillKey) -> ThanksRecord {
        ThanksRecord {
            page: format!("User:{thanker}"),
            revid: 1,
            timestamp: at(2026, 3, 10, 12),
            thanker: thanker.into(),
            thanker_registered: Some(at(2020, 1, 1, 0)),
            thanked: thanked.into(),
            skill: skill_of(&skill),
            date: None,
            note: None,
        }
    }

    fn request(requester: &str, page: &str, skill: SkillKey) -> RequestRecord {
        RequestRecord {
            page: page.into(),
            revid: 1,
            timestamp: at(2026, 3, 10, 12),
            requester: requester.into(),
            skill: skill_of(&skill),
        }
    }

    /// How many different people a list credits `helper` for `skill` with.
    fn people(list: &[Counted], helper: &str, skill: &SkillKey) -> Option<usize> {
        let n = list
            .iter()
            .filter(|c| c.helper == helper && &c.skill == skill)
            .count();
        (n > 0).then_some(n)
    }

    /// Counted entries per skill, over every helper.
    fn per_skill(list: &[Counted], skill: &SkillKey) -> Option<usize> {
        let n = list.iter().filter(|c| &c.skill == skill).count();
        (n > 0).then_some(n)
    }

    #[test]
    fn a_thanks_is_read_with_its_skill_date_and_note() {
        let parsed = thanks(
            "Hi!\n{{Capacity Exchange thanks|user=ana_souza|skill=Módulos Lua|date=2026-03-01|note=Fixed my module.}}",
        );
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(parsed.thanks.len(), 1);
        let t = &parsed.thanks[0];
        assert_eq!(t.user, "Ana souza");
        assert_eq!(SkillKey::of(t.skill.as_ref()), lua());
        assert_eq!(t.date, NaiveDate::from_ymd_opt(2026, 3, 1));
        assert_eq!(t.note.as_deref(), Some("Fixed my module."));
    }

    #[test]
    fn free_text_skills_prefixed_users_and_aliases_are_read() {
        let names = TemplateNames::with_aliases(THANKS_TEMPLATE, ["Template:CapX thanks"]);
        let parsed = parse_thanks(
            "{{CapX thanks|user=User:Bruno Díaz|skill=Bread baking}}",
            &names,
            taxonomy(),
        );
        assert_eq!(parsed.thanks.len(), 1);
        assert_eq!(parsed.thanks[0].user, "Bruno Díaz");
        assert_eq!(
            SkillKey::of(parsed.thanks[0].skill.as_ref()),
            SkillKey::Free("bread baking".into())
        );
        assert!(thanks("{{CapX thanks|user=Ana}}").thanks.is_empty());
    }

    #[test]
    fn a_missing_or_invalid_user_drops_the_thanks_with_a_warning() {
        for text in [
            "{{Capacity Exchange thanks|skill=Lua}}",
            "{{Capacity Exchange thanks|user=|skill=Lua}}",
            "{{Capacity Exchange thanks|user=Talk:Ana|skill=Lua}}",
            "{{Capacity Exchange thanks|user=<script>alert(1)</script>}}",
        ] {
            let parsed = thanks(text);
            assert!(parsed.thanks.is_empty(), "{text}: {:?}", parsed.thanks);
            assert!(
                parsed
                    .warnings
                    .iter()
                    .any(|w| w.param.as_deref() == Some("user")),
                "{text}: {:?}",
                parsed.warnings
            );
        }
    }

    #[test]
    fn an_invalid_date_is_dropped_with_a_warning_and_the_thanks_kept() {
        for date in ["yesterday", "2026-02-30", "01/03/2026", "2026-3-1x"] {
            let parsed = thanks(&format!(
                "{{{{Capacity Exchange thanks|user=Ana|date={date}}}}}"
            ));
            assert_eq!(parsed.thanks.len(), 1, "{date}");
            assert_eq!(parsed.thanks[0].date, None, "{date}");
            assert!(
                parsed
                    .warnings
                    .iter()
                    .any(|w| w.param.as_deref() == Some("date")),
                "{date}"
            );
        }
    }

    #[test]
    fn hostile_values_cannot_break_out_of_the_call() {
        let parsed = thanks(concat!(
            "{{Capacity Exchange thanks|user=Ana}}|user=Mallory}}\n",
            "{{Capacity Exchange thanks|user=Ana|skill=Lua|note=<script>alert('x')</script>}}\n",
            "{{Capacity Exchange thanks|user={{Capacity Exchange thanks|user=Bruno}}|skill={{Other|Lua}}}}\n",
            "{{Capacity Exchange thanks|user=Ana|note=a | b = c}}\n",
        ));
        let users: Vec<&str> = parsed.thanks.iter().map(|t| t.user.as_str()).collect();
        // The text after the first `}}` is not a call; the nested call is read on its own
        // and the outer one has no readable user.
        assert_eq!(users, ["Ana", "Ana", "Bruno", "Ana"], "{:?}", parsed.thanks);
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.param.as_deref() == Some("b")),
            "{:?}",
            parsed.warnings
        );
    }

    #[test]
    fn a_thousand_thanks_are_capped_and_count_once() {
        let page: String = (0..1000)
            .map(|_| "{{Capacity Exchange thanks|user=Ana|skill=Lua}}\n")
            .collect();
        let parsed = thanks(&page);
        assert_eq!(parsed.thanks.len(), MAX_THANKS_PER_PAGE);
        assert!(parsed.warnings.iter().any(|w| w.message.contains("1000")));
        let records = thanks_records(
            "User:Bruno",
            1,
            at(2026, 3, 10, 12),
            "Bruno",
            None,
            &parsed.thanks,
        );
        let counts = count(&records, &[]);
        assert_eq!(people(&counts.thanks, "Ana", &lua()), Some(1));
        assert_eq!(per_skill(&counts.thanks, &lua()), Some(1));
    }

    #[test]
    fn request_markers_are_read_and_their_from_is_ignored() {
        let parsed = requests(concat!(
            "== Capacity Exchange ==\n{{Capacity Exchange request|skill=lua-modules}}\nHello ~~~~\n",
            "== Another ==\n{{Capacity Exchange request|skill=}}\n",
            "{{Capacity Exchange request|skill=Lua|from=Mallory}}\n",
        ));
        let skills: Vec<SkillKey> = parsed
            .requests
            .iter()
            .map(|r| SkillKey::of(r.skill.as_ref()))
            .collect();
        assert_eq!(skills, [lua(), SkillKey::Unspecified, lua()]);
        assert!(
            parsed
                .warnings
                .iter()
                .any(|w| w.param.as_deref() == Some("from"))
        );
    }

    #[test]
    fn the_marker_the_web_tool_writes_reads_back_as_one_call() {
        for skill in ["", "lua-modules", "a}}{{x|y=1", "Lua]] [[Category:X"] {
            let marker = request_marker(skill);
            let text = format!("{marker}\nHello! ~~~~");
            let parsed = requests(&text);
            assert_eq!(parsed.requests.len(), 1, "{marker}");
            assert!(
                parsed.warnings.is_empty(),
                "{marker}: {:?}",
                parsed.warnings
            );
            assert_eq!(extract(&text).templates.len(), 1, "{marker}");
        }
        assert_eq!(request_marker(""), "{{Capacity Exchange request|skill=}}");
        // A signature or a date written as a skill stays text when the section is saved.
        assert_eq!(
            request_marker("~~~~ and ~~~~~ or ~~"),
            "{{Capacity Exchange request|skill=~~ and ~~ or ~~}}"
        );
    }

    #[test]
    fn self_thanks_count_nothing() {
        let counts = count(
            &[
                record("Ana", "Ana", lua()),
                record("Ana_souza", "ana souza", lua()),
            ],
            &[],
        );
        assert!(counts.thanks.is_empty(), "{counts:?}");
    }

    #[test]
    fn thanks_from_an_account_created_that_day_count_nothing() {
        let mut same_day = record("Newbie", "Ana", lua());
        same_day.thanker_registered = Some(at(2026, 3, 10, 1));
        let mut later = record("Time traveller", "Ana", lua());
        later.thanker_registered = Some(at(2026, 3, 11, 1));
        let mut day_before = record("Yesterday", "Ana", lua());
        day_before.thanker_registered = Some(at(2026, 3, 9, 23));
        let mut unknown = record("Old timer", "Ana", lua());
        unknown.thanker_registered = None;
        let counts = count(&[same_day.clone(), later], &[]);
        assert!(counts.thanks.is_empty(), "{counts:?}");
        let counts = count(&[same_day, day_before, unknown], &[]);
        assert_eq!(people(&counts.thanks, "Ana", &lua()), Some(2));
    }

    #[test]
    fn many_thanks_from_one_account_count_once_per_person_and_skill() {
        let free = SkillKey::Free("bread baking".into());
        let mut records: Vec<ThanksRecord> =
            (0..100).map(|_| record("Bruno", "Ana", lua())).collect();
        records.push(record("bruno", "Ana", lua()));
        records.push(record("Bruno", "Ana", free.clone()));
        records.push(record("Carla", "Ana", lua()));
        records.push(record("Bruno", "Dario", lua()));
        let counts = count(&records, &[]);
        assert_eq!(people(&counts.thanks, "Ana", &lua()), Some(2));
        assert_eq!(people(&counts.thanks, "Ana", &free.clone()), Some(1));
        assert_eq!(people(&counts.thanks, "Dario", &lua()), Some(1));
        assert_eq!(per_skill(&counts.thanks, &lua()), Some(3));
        assert_eq!(per_skill(&counts.thanks, &free), Some(1));
    }

    #[test]
    fn a_thanks_removed_from_the_latest_revision_is_gone() {
        let before = "{{Capacity Exchange thanks|user=Ana|skill=Lua}}\n{{Capacity Exchange thanks|user=Dario|skill=Lua}}";
        let after = "{{Capacity Exchange thanks|user=Dario|skill=Lua}}";
        let read = |text: &str| {
            let parsed = thanks(text);
            count(
                &thanks_records(
                    "User:Bruno",
                    1,
                    at(2026, 3, 10, 12),
                    "Bruno",
                    None,
                    &parsed.thanks,
                ),
                &[],
            )
        };
        assert_eq!(people(&read(before).thanks, "Ana", &lua()), Some(1));
        let counts = read(after);
        assert_eq!(people(&counts.thanks, "Ana", &lua()), None);
        assert_eq!(people(&counts.thanks, "Dario", &lua()), Some(1));
    }

    #[test]
    fn a_thanks_for_someone_without_a_profile_is_kept() {
        // count() is given no profiles at all: every valid thanks is in the statistics.
        let counts = count(&[record("Bruno", "Never Made A Profile", lua())], &[]);
        assert_eq!(
            people(&counts.thanks, "Never Made A Profile", &lua()),
            Some(1)
        );
    }

    #[test]
    fn markers_count_only_on_user_talk_pages() {
        let counts = count(
            &[],
            &[
                request("Bruno", "User talk:Ana", lua()),
                request("Carla", "User_talk:ana/Archive 1", lua()),
                request("Dario", "User:Ana", lua()),
                request("Erin", "Ana", lua()),
                request("Fay", "Template:Capacity Exchange request", lua()),
                request("Gil", "Talk:Ana", lua()),
            ],
        );
        assert_eq!(counts.requests.len(), 2, "{counts:?}");
        assert_eq!(people(&counts.requests, "Ana", &lua()), Some(2));
        assert_eq!(per_skill(&counts.requests, &lua()), Some(2));
    }

    #[test]
    fn requests_count_distinct_requesters_and_never_yourself() {
        let counts = count(
            &[],
            &[
                request("Bruno", "User talk:Ana", lua()),
                request("Bruno", "User talk:Ana", lua()),
                request("Bruno", "User talk:Ana/Archive 1", lua()),
                request("Ana", "User talk:Ana", lua()),
                request("Bruno", "User talk:Ana", SkillKey::Unspecified),
                request("Carla", "User talk:Dario", lua()),
            ],
        );
        assert_eq!(people(&counts.requests, "Ana", &lua()), Some(1));
        assert_eq!(
            people(&counts.requests, "Ana", &SkillKey::Unspecified),
            Some(1)
        );
        assert_eq!(people(&counts.requests, "Dario", &lua()), Some(1));
        assert_eq!(per_skill(&counts.requests, &lua()), Some(2));
    }

    fn templatedata(file: &str) -> serde_json::Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../wiki/").to_string() + file;
        let doc = std::fs::read_to_string(path).unwrap();
        let start = doc.find("<templatedata>").unwrap() + "<templatedata>".len();
        let end = doc.find("</templatedata>").unwrap();
        serde_json::from_str(&doc[start..end]).unwrap()
    }

    #[test]
    fn templatedata_documents_exactly_the_parameters_read() {
        for (file, known) in [
            ("Capacity_Exchange_thanks.doc.wikitext", THANKS_PARAMS),
            ("Capacity_Exchange_request.doc.wikitext", REQUEST_PARAMS),
        ] {
            let data = templatedata(file);
            let params = data["params"].as_object().unwrap();
            let documented: BTreeSet<&str> = params.keys().map(String::as_str).collect();
            assert_eq!(documented, known.iter().copied().collect(), "{file}");
            for (name, param) in params {
                for field in ["label", "description"] {
                    for lang in ["en", "pt", "es", "fr", "de", "ar"] {
                        let text = param[field][lang].as_str().unwrap_or_default();
                        assert!(!text.is_empty(), "{file} {name} {field} {lang}");
                    }
                }
                assert!(param["type"].is_string(), "{file} {name}");
                assert!(param["example"].is_string(), "{file} {name}");
            }
        }
    }

    #[test]
    fn templatedata_examples_parse_without_warnings() {
        let data = templatedata("Capacity_Exchange_thanks.doc.wikitext");
        let call: String = THANKS_PARAMS
            .iter()
            .map(|p| format!("|{p}={}", data["params"][p]["example"].as_str().unwrap()))
            .collect();
        let parsed = thanks(&format!("{{{{Capacity Exchange thanks{call}}}}}"));
        assert_eq!(parsed.thanks.len(), 1);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert!(parsed.thanks[0].date.is_some());
    }
}
