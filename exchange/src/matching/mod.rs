//! Peer matching: for one person P, who can teach P what P wants to learn (`learn_from`),
//! who wants to learn what P offers (`share_with`), and with whom both hold at once
//! (`exchange`), each ranked and explained.
//!
//! A [`Matcher`] is built once per snapshot and then answers any number of queries; it
//! owns compact copies of what matching needs (not the profiles), so the web tool can keep
//! it next to the snapshot it serves and share it between threads.
//!
//! # Rules
//!
//! - **Skills, hierarchy-aware.** Wanting skill S is met *fully* by offering S or any skill
//!   below it (someone who teaches Lua modules teaches a part of Technology), and *partly*
//!   by offering S's parent (someone who offers Technology in general may or may not cover
//!   Lua modules). Nothing else matches: no shared skill, no match. Free-text skills match
//!   only free text with the same [`fold`] key, fully. Only `offers` and `wants` take part:
//!   `knows` is, by definition, not on offer.
//! - **Language.** Two people match only if they share a language both speak at level 2 or
//!   above (or natively): a lesson needs a language. Codes with the same base language
//!   count as shared (`pt` and `pt-br`), because the people can talk. The better the weaker
//!   of the two speaks the best shared language, the better the match.
//! - **Context.** Waking-hour overlap (08:00–22:00 local, at the reference instant given
//!   to the query, so daylight saving time is right and tests are deterministic), the same
//!   Wikimedia region, and a recently updated profile raise the score; their absence lowers
//!   it a little. Missing data is neutral: it neither raises nor lowers.
//! - **Pause.** A paused person is never a candidate: that is what pausing promises. A
//!   paused person's *own* lists are still computed, so they can see what they would get
//!   before they come back.
//!
//! # Score
//!
//! `score = skills × language × context`, where `skills` is, per wanted skill met, 1 for a
//! full fit and 0.5 for a partial one (each wanted skill counted once, at its best fit, so
//! offering five sub-skills of one wish does not outweigh meeting two wishes); `language` is
//! 0.6 to 1.0 by the weaker speaker's level (2 → 0.6, native → 1.0); `context` is
//! 1 ± 0.15 (time zones) ± 0.10 (recency) + 0.10 (same region). An `exchange` entry adds
//! both directions' skill parts. Ties go to the more recently updated profile, then to the
//! user name, so the order is total and stable.
//!
//! # Speed
//!
//! Inverted indexes from skill to offerers and to wanters (active people with a usable
//! language only) are built once. A query expands P's skills through the tree into a
//! small table, visits only the people on those posting lists, and explains only the
//! entries it returns: its cost follows how many people share a skill with P, never the
//! size of the snapshot.

mod explain;
#[cfg(test)]
mod tests;

use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use crate::timezone::Zone;
use chrono::{DateTime, Utc};

use crate::geo::Region;
use crate::profile::{Level, Profile, SkillRef, Status};
use crate::taxonomy::Taxonomy;
use crate::text_key::fold;
use crate::wikitext::title::normalize_user_name;

pub use explain::{
    Direction, Fit, Match, Matches, Reason, ReasonCode, SharedLanguage, SkillMatch, SkillName,
};

/// How many people each list holds unless the caller asks otherwise: a page's worth.
pub const DEFAULT_LIMIT: usize = 20;

/// The lowest Babel level at which a language can carry a lesson.
pub const MIN_SHARED_LEVEL: u8 = 2;

/// Local hours (start inclusive, end exclusive) in which people are assumed to be
/// reachable. Wide on purpose: volunteers meet in evenings and early mornings.
pub const WAKING_HOURS: (u32, u32) = (8, 22);

const MINUTES_PER_DAY: i32 = 24 * 60;

const TZ_WEIGHT: f64 = 0.15;
const REGION_WEIGHT: f64 = 0.10;
const RECENCY_WEIGHT: f64 = 0.10;
/// A profile this many days old is neutral; fresher raises, staler lowers (to twice this).
const RECENCY_NEUTRAL_DAYS: f64 = 365.0;

/// Scores are rounded to this many steps per unit before ranking, so that two candidates
/// who are equal by the rules tie exactly and the tie-breaks decide, whatever the order
/// in which floating-point sums were taken.
const SCORE_STEPS: f64 = 1e6;

/// Snapshot-wide matching indexes. Build with [`Matcher::new`], query with
/// [`Matcher::matches`].
#[derive(Debug)]
pub struct Matcher {
    skills: SkillIndex,
    /// Free-text skill keys (folded text, or `\u{1}id` for an id the taxonomy lacks),
    /// numbered after the taxonomy's skills.
    free_keys: Vec<String>,
    /// Skill texts as people wrote them, for free text: each person is shown their own words.
    texts: Vec<String>,
    users: Vec<String>,
    by_user: HashMap<String, u32>,
    /// Per person: what bounds their score, read for every candidate.
    hot: Vec<Hot>,
    /// Per person: what is read only for candidates who may make a list.
    meta: Vec<Meta>,
    offers: SkillRows,
    wants: SkillRows,
    /// Usable languages (level ≥ 2), one per base language, sorted by base.
    langs: Ragged<Lang>,
    /// Interned language codes (full codes and base codes share the table).
    codes: Vec<String>,
    zones: Vec<Zone>,
    /// Skill key → people who offer it (active, with a usable language), ascending.
    offerers: Vec<Vec<u32>>,
    /// Skill key → people who want it (active, with a usable language), ascending.
    wanters: Vec<Vec<u32>>,
    /// Working memory for queries, one per query running at a time.
    scratch: Mutex<Vec<Scratch>>,
}

/// The taxonomy as dense indexes, so a query never hashes skill ids.
#[derive(Debug)]
struct SkillIndex {
    ids: Vec<String>,
    labels: Vec<String>,
    by_id: HashMap<String, u32>,
    parent: Vec<Option<u32>>,
    children: Vec<Vec<u32>>,
    /// The skill and everything below it.
    subtree: Vec<Vec<u32>>,
    /// The skill and everything above it.
    lineage: Vec<Vec<u32>>,
}

impl SkillIndex {
    fn new(taxonomy: &Taxonomy) -> SkillIndex {
        let skills = taxonomy.skills();
        let by_id: HashMap<String, u32> = skills
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        let index_of = |id: &str| by_id.get(id).copied();
        let parent: Vec<Option<u32>> = skills
            .iter()
            .map(|s| s.parent.as_deref().and_then(index_of))
            .collect();
        let children = skills
            .iter()
            .map(|s| {
                taxonomy
                    .children(&s.id)
                    .iter()
                    .filter_map(|c| index_of(&c.id))
                    .collect()
            })
            .collect();
        let subtree = skills
            .iter()
            .map(|s| {
                taxonomy
                    .subtree(&s.id)
                    .iter()
                    .filter_map(|c| index_of(&c.id))
                    .collect()
            })
            .collect();
        let lineage = (0..skills.len())
            .map(|i| {
                let mut line = vec![i as u32];
                // The taxonomy is checked to be a tree of bounded depth; the bound guards
                // against a cycle all the same.
                while let Some(up) = parent[*line.last().unwrap_or(&0) as usize] {
                    if line.len() > skills.len() || line.contains(&up) {
                        break;
                    }
                    line.push(up);
                }
                line
            })
            .collect();
        SkillIndex {
            ids: skills.iter().map(|s| s.id.clone()).collect(),
            labels: skills
                .iter()
                .map(|s| taxonomy.label(s, "en").to_string())
                .collect(),
            by_id,
            parent,
            children,
            subtree,
            lineage,
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// Rows of varying length in one allocation: cache-friendly per-person lists.
#[derive(Debug)]
struct Ragged<T> {
    start: Vec<u32>,
    data: Vec<T>,
}

impl<T> Ragged<T> {
    fn new() -> Ragged<T> {
        Ragged {
            start: vec![0],
            data: Vec::new(),
        }
    }

    fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        self.data.extend(row);
        self.start.push(self.data.len() as u32);
    }

    fn row(&self, i: usize) -> &[T] {
        &self.data[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

/// Per person, their skill keys (deduplicated, in their order), and alongside each the
/// text they wrote for it when it is free text.
#[derive(Debug)]
struct SkillRows {
    keys: Ragged<u32>,
    /// Aligned with `keys.data`: an index into `Matcher::texts`, or `NO_TEXT`.
    text: Vec<u32>,
}

const NO_TEXT: u32 = u32::MAX;

impl SkillRows {
    fn new() -> SkillRows {
        SkillRows {
            keys: Ragged::new(),
            text: Vec::new(),
        }
    }

    fn push_row(&mut self, row: Vec<(u32, u32)>) {
        self.text.extend(row.iter().map(|&(_, t)| t));
        self.keys.push_row(row.into_iter().map(|(k, _)| k));
    }

    fn row(&self, who: usize) -> &[u32] {
        self.keys.row(who)
    }

    /// The (key, text) of someone's skill number `pos`.
    fn item(&self, who: usize, pos: usize) -> (u32, u32) {
        let at = self.keys.start[who] as usize + pos;
        (self.keys.data[at], self.text[at])
    }
}

/// The facts that decide a candidate's context factor and bound their score, packed in
/// 8 bytes: they are read for every candidate, most of whom are then skipped.
#[derive(Debug, Clone, Copy)]
struct Hot {
    /// The UTC day (days since 1970) of the last update, `NO_DAY` when unknown.
    day: i32,
    /// Index into `Matcher::zones`, `NO_ZONE` when unknown or unreadable.
    zone: u16,
    region: Option<Region>,
    /// The best level of any usable language (0 when none).
    rank: u8,
}

const NO_DAY: i32 = i32::MIN;
const NO_ZONE: u16 = u16::MAX;
const SECONDS_PER_DAY: i64 = 86_400;

/// Facts read only for candidates who may make a list.
#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Unix seconds of the last update, `NO_TIME` when unknown: the first tie-break.
    updated: i64,
    /// Position of the user name in sorted order: the last tie-break, as an integer.
    name_rank: u32,
    /// The usable languages inline (base id, rank), when there are at most
    /// `INLINE_LANGS` with small ids; otherwise `LANGS_ELSEWHERE` and see `Matcher::langs`.
    n_langs: u8,
    langs: [(u16, u8); INLINE_LANGS],
}

const NO_TIME: i64 = i64::MIN;
const INLINE_LANGS: usize = 4;
const LANGS_ELSEWHERE: u8 = u8::MAX;

/// One usable language of a person: the best level they have in a base language, and the
/// code they wrote it with.
#[derive(Debug, Clone, Copy)]
struct Lang {
    base: u32,
    code: u32,
    level: Level,
}

/// Minutes of the day in which both people are within their waking hours, given their
/// offsets from UTC. Both windows are the same length on a 24-hour circle, so the overlap
/// only depends on how far apart the offsets are.
fn waking_overlap(a_offset: i32, b_offset: i32) -> i32 {
    let length = (WAKING_HOURS.1 as i32 - WAKING_HOURS.0 as i32) * 60;
    let shift = (a_offset - b_offset).rem_euclid(MINUTES_PER_DAY);
    let shift = shift.min(MINUTES_PER_DAY - shift);
    (length - shift).max(0) + (shift + length - MINUTES_PER_DAY).max(0)
}

/// How well the circumstances of two people fit, apart from skills and language.
#[derive(Debug, Clone, Copy)]
struct Context {
    overlap_minutes: Option<i32>,
    same_region: Option<Region>,
    age_days: Option<i64>,
}

impl Context {
    fn factor(&self) -> f64 {
        context_factor(
            tz_term(self.overlap_minutes),
            self.same_region.is_some(),
            recency_term(self.age_days),
        )
    }
}

/// −1 (the least overlap two people can have) to 1 (all waking hours); 0 when unknown.
fn tz_term(overlap_minutes: Option<i32>) -> f64 {
    let length = f64::from((WAKING_HOURS.1 - WAKING_HOURS.0) * 60);
    // The least two equal windows can overlap on a day, the worst case.
    let least = (2.0 * length - f64::from(MINUTES_PER_DAY)).max(0.0);
    overlap_minutes.map_or(0.0, |m| {
        (2.0 * (f64::from(m) - least) / (length - least) - 1.0).clamp(-1.0, 1.0)
    })
}

/// 1 (updated today) to −1 (two years or more); 0 when unknown.
fn recency_term(age_days: Option<i64>) -> f64 {
    age_days.map_or(0.0, |d| {
        (1.0 - d as f64 / RECENCY_NEUTRAL_DAYS).clamp(-1.0, 1.0)
    })
}

/// The one formula for the context factor, used by scoring and explaining alike, so both
/// always agree to the last bit.
fn context_factor(tz: f64, same_region: bool, recency: f64) -> f64 {
    let region = if same_region { 1.0 } else { 0.0 };
    1.0 + TZ_WEIGHT * tz + REGION_WEIGHT * region + RECENCY_WEIGHT * recency
}

/// The language part of the score from the weaker speaker's rank (2–6).
fn language_factor(min_rank: u8) -> f64 {
    0.4 + 0.1 * f64::from(min_rank.min(6))
}

/// One row of a query's expansion table: a person offering (or wanting) skill `key`
/// meets P's wish (or offer) number `pos` with this fit.
#[derive(Debug, Clone, Copy)]
struct Sat {
    key: u32,
    pos: u32,
    fit: Fit,
}

fn sat_range(table: &[Sat], key: u32) -> &[Sat] {
    let lo = table.partition_point(|s| s.key < key);
    let hi = lo + table[lo..].partition_point(|s| s.key == key);
    &table[lo..hi]
}

/// A candidate's place in one list. Ordered best first: score (in millionths), then
/// the more recent update, then the user name; a total order, as `who` is unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scored {
    score: i64,
    updated: i64,
    name_rank: u32,
    who: u32,
}

impl Ord for Scored {
    fn cmp(&self, other: &Scored) -> std::cmp::Ordering {
        other
            .score
            .cmp(&self.score)
            .then(other.updated.cmp(&self.updated))
            .then(self.name_rank.cmp(&other.name_rank))
            .then(self.who.cmp(&other.who))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Scored) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `limit` entries seen so far. The heap's top is the worst kept entry, which
/// is the bar a newcomer must clear once the list is full.
struct TopList {
    limit: usize,
    heap: BinaryHeap<Scored>,
}

impl TopList {
    fn new(limit: usize) -> TopList {
        TopList {
            limit,
            heap: BinaryHeap::with_capacity(limit + 1),
        }
    }

    /// Whether an entry scoring at most `bound` units could still make the list.
    fn admits(&self, bound: f64) -> bool {
        self.heap.len() < self.limit
            || self
                .heap
                .peek()
                .is_none_or(|worst| bound >= worst.score as f64)
    }

    fn push(&mut self, entry: Scored) {
        if self.heap.len() < self.limit {
            self.heap.push(entry);
        } else if self.heap.peek().is_some_and(|worst| entry < *worst) {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    fn into_sorted(self) -> Vec<Scored> {
        self.heap.into_sorted_vec()
    }
}

/// Scores in millionths: equal by the rules means equal as integers, whatever the order in
/// which floating-point products were taken, so the tie-breaks decide.
fn to_units(score: f64) -> i64 {
    (score * SCORE_STEPS).round() as i64
}

/// Per-candidate sums in half-points (see [`Fit::units`]), written while walking the
/// posting lists. Integers, small: they are summed exactly and scanned fast.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    learn: u16,
    share: u16,
    /// Which of P's wishes last credited this person, so each wish counts once.
    stamp: u32,
}

/// A query's working memory, as large as the snapshot: kept between queries, since
/// allocating and zeroing it afresh would cost more than the query itself.
#[derive(Debug)]
struct Scratch {
    /// Per person, zeroed between queries.
    acc: Vec<Acc>,
    candidates: Vec<u32>,
    ordered: Vec<u32>,
}

/// Interns strings into dense ids while the matcher is built.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    values: Vec<String>,
}

impl Interner {
    fn id(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.values.len() as u32;
        self.ids.insert(key.to_string(), id);
        self.values.push(key.to_string());
        id
    }
}

impl Matcher {
    /// Builds the indexes for one snapshot. If a user has several profiles (a snapshot
    /// never does), the first one counts.
    pub fn new(profiles: &[Profile], taxonomy: &Taxonomy) -> Matcher {
        let skills = SkillIndex::new(taxonomy);
        let n_tax = skills.len() as u32;
        let mut free = Interner::default();
        let mut texts = Interner::default();
        let mut codes = Interner::default();
        let mut zone_names: HashMap<String, Option<u16>> = HashMap::new();
        let mut zone_ids: HashMap<Zone, u16> = HashMap::new();
        let mut zones: Vec<Zone> = Vec::new();

        let mut m = Matcher {
            skills,
            free_keys: Vec::new(),
            texts: Vec::new(),
            users: Vec::with_capacity(profiles.len()),
            by_user: HashMap::with_capacity(profiles.len()),
            meta: Vec::with_capacity(profiles.len()),
            hot: Vec::with_capacity(profiles.len()),
            offers: SkillRows::new(),
            wants: SkillRows::new(),
            langs: Ragged::new(),
            codes: Vec::new(),
            zones: Vec::new(),
            offerers: Vec::new(),
            wanters: Vec::new(),
            scratch: Mutex::new(Vec::new()),
        };
        let mut active = Vec::with_capacity(profiles.len());

        let mut skill_key = |skill: &SkillRef| -> Option<(u32, u32)> {
            let (key, text) = match skill {
                SkillRef::Known { id, label } => {
                    if let Some(&i) = m.skills.by_id.get(id) {
                        return Some((i, NO_TEXT));
                    }
                    // An id the taxonomy no longer has: it can still meet the same id.
                    (format!("\u{1}{id}"), label.as_str())
                }
                SkillRef::Free { text } => (fold(text), text.as_str()),
            };
            if key.is_empty() {
                return None;
            }
            Some((n_tax + free.id(&key), texts.id(text)))
        };
        let mut row = |skills: &[SkillRef]| -> Vec<(u32, u32)> {
            let mut out: Vec<(u32, u32)> = Vec::with_capacity(skills.len());
            for item in skills.iter().filter_map(&mut skill_key) {
                if !out.iter().any(|&(k, _)| k == item.0) {
                    out.push(item);
                }
            }
            out
        };

        for profile in profiles {
            if m.by_user.contains_key(&profile.user) {
                continue;
            }
            let who = m.users.len() as u32;
            m.by_user.insert(profile.user.clone(), who);
            m.users.push(profile.user.clone());
            m.offers.push_row(row(&profile.offers));
            m.wants.push_row(row(&profile.wants));

            let mut langs: Vec<Lang> = Vec::new();
            for l in &profile.languages {
                if l.level.rank() < MIN_SHARED_LEVEL {
                    continue;
                }
                let code = l.code.to_ascii_lowercase();
                let base = codes.id(code.split('-').next().unwrap_or(&code));
                let lang = Lang {
                    base,
                    code: codes.id(&code),
                    level: l.level,
                };
                match langs.iter_mut().find(|x| x.base == base) {
                    Some(x) if x.level < lang.level => *x = lang,
                    Some(_) => {}
                    None => langs.push(lang),
                }
            }
            langs.sort_by_key(|l| l.base);
            active.push(profile.status != Status::Paused && !langs.is_empty());
            let mut inline = [(0u16, 0u8); INLINE_LANGS];
            let fits =
                langs.len() <= INLINE_LANGS && langs.iter().all(|l| u16::try_from(l.base).is_ok());
            if fits {
                for (slot, l) in inline.iter_mut().zip(&langs) {
                    *slot = (l.base as u16, l.level.rank());
                }
            }
            let zone = profile.timezone.as_deref().and_then(|name| {
                if let Some(&id) = zone_names.get(name) {
                    return id;
                }
                // Zones are numbered by what they are, not how they are written, so their
                // number stays small (IANA names and whole offsets: a few thousand at most).
                let id = Zone::parse(name).and_then(|zone| {
                    if let Some(&id) = zone_ids.get(&zone) {
                        return Some(id);
                    }
                    let id = u16::try_from(zones.len())
                        .ok()
                        .filter(|&id| id != NO_ZONE)?;
                    zones.push(zone);
                    zone_ids.insert(zone, id);
                    Some(id)
                });
                zone_names.insert(name.to_string(), id);
                id
            });
            m.hot.push(Hot {
                day: profile.updated.map_or(NO_DAY, |t| {
                    i32::try_from(t.timestamp().div_euclid(SECONDS_PER_DAY)).unwrap_or(NO_DAY)
                }),
                zone: zone.unwrap_or(NO_ZONE),
                region: profile.region,
                rank: langs.iter().map(|l| l.level.rank()).max().unwrap_or(0),
            });
            m.meta.push(Meta {
                updated: profile.updated.map_or(NO_TIME, |t| t.timestamp()),
                name_rank: 0,
                n_langs: if fits {
                    langs.len() as u8
                } else {
                    LANGS_ELSEWHERE
                },
                langs: inline,
            });
            m.langs.push_row(langs);
        }

        let n_keys = n_tax as usize + free.values.len();
        m.offerers = vec![Vec::new(); n_keys];
        m.wanters = vec![Vec::new(); n_keys];
        for (who, &on) in active.iter().enumerate() {
            if !on {
                continue;
            }
            for &k in m.offers.row(who) {
                m.offerers[k as usize].push(who as u32);
            }
            for &k in m.wants.row(who) {
                m.wanters[k as usize].push(who as u32);
            }
        }

        let mut order: Vec<u32> = (0..m.users.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| m.users[a as usize].cmp(&m.users[b as usize]));
        for (rank, &who) in order.iter().enumerate() {
            m.meta[who as usize].name_rank = rank as u32;
        }
        m.free_keys = free.values;
        m.texts = texts.values;
        m.codes = codes.values;
        m.zones = zones;
        m
    }

    /// Whether `user` has a profile in the snapshot (under the name as given or as
    /// MediaWiki normalises it).
    pub fn contains(&self, user: &str) -> bool {
        self.find(user).is_some()
    }

    fn find(&self, user: &str) -> Option<usize> {
        if let Some(&who) = self.by_user.get(user) {
            return Some(who as usize);
        }
        // URLs carry `Ana_maria` or `ana maria`; profiles carry the canonical name.
        let name = normalize_user_name(user)?;
        self.by_user.get(&name).map(|&who| who as usize)
    }

    /// The three ranked lists for `user`, at most `limit` entries each; `None` when the
    /// user has no profile.
    ///
    /// `now` is the instant time zones and recency are judged at: the caller's clock in
    /// production, a fixed instant in tests, so answers are reproducible.
    pub fn matches(&self, user: &str, now: DateTime<Utc>, limit: usize) -> Option<Matches> {
        let p = self.find(user)?;
        Some(Query::new(self, p, now).run(limit))
    }

    fn take_scratch(&self) -> Scratch {
        let pooled = self
            .scratch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        pooled.unwrap_or_else(|| Scratch {
            acc: vec![Acc::default(); self.users.len()],
            candidates: Vec::new(),
            ordered: Vec::new(),
        })
    }

    fn give_back_scratch(&self, mut scratch: Scratch) {
        /// Enough for the web tool's worker threads; more would only hold memory.
        const KEEP: usize = 16;
        scratch.acc.fill(Acc::default());
        scratch.candidates.clear();
        scratch.ordered.clear();
        let mut pool = self
            .scratch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if pool.len() < KEEP {
            pool.push(scratch);
        }
    }

    /// The skill keys whose offerers meet wish `want`: fully (the skill and everything
    /// below it) and partly (its parent).
    fn meeting_wish<'s>(&'s self, want: &'s u32) -> (&'s [u32], Option<u32>) {
        let k = *want as usize;
        if self.is_taxonomy(*want) {
            (&self.skills.subtree[k], self.skills.parent[k])
        } else {
            (std::slice::from_ref(want), None)
        }
    }

    fn is_taxonomy(&self, key: u32) -> bool {
        (key as usize) < self.skills.len()
    }

    /// How a skill is shown: taxonomy skills by id and English label, free text in the
    /// words of the person it belongs to.
    fn skill_name(&self, (key, text): (u32, u32)) -> SkillName {
        let k = key as usize;
        if k < self.skills.len() {
            return SkillName {
                id: Some(self.skills.ids[k].clone()),
                text: None,
                label: self.skills.labels[k].clone(),
            };
        }
        let label = self.texts.get(text as usize).cloned().unwrap_or_default();
        match self.free_keys[k - self.skills.len()].strip_prefix('\u{1}') {
            Some(id) => SkillName {
                id: Some(id.to_string()),
                text: None,
                label,
            },
            None => SkillName {
                id: None,
                text: Some(label.clone()),
                label,
            },
        }
    }

    /// The best level both speak in a shared base language, if any: the weaker of the two.
    fn best_language(&self, a: usize, b: usize) -> Option<u8> {
        let (ma, mb) = (&self.meta[a], &self.meta[b]);
        if ma.n_langs != LANGS_ELSEWHERE && mb.n_langs != LANGS_ELSEWHERE {
            let mut best = 0;
            for &(x, rx) in &ma.langs[..ma.n_langs as usize] {
                for &(y, ry) in &mb.langs[..mb.n_langs as usize] {
                    if x == y {
                        best = best.max(rx.min(ry));
                    }
                }
            }
            return (best > 0).then_some(best);
        }
        let (xs, ys) = (self.langs.row(a), self.langs.row(b));
        let (mut i, mut j, mut best) = (0, 0, None);
        while i < xs.len() && j < ys.len() {
            match xs[i].base.cmp(&ys[j].base) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let rank = xs[i].level.rank().min(ys[j].level.rank());
                    best = best.max(Some(rank));
                    i += 1;
                    j += 1;
                }
            }
        }
        best
    }

    /// Every shared usable language, best first: (P's, theirs).
    fn shared_languages(&self, a: usize, b: usize) -> Vec<(Lang, Lang)> {
        let ys = self.langs.row(b);
        let mut out: Vec<(Lang, Lang)> = self
            .langs
            .row(a)
            .iter()
            .filter_map(|x| ys.iter().find(|y| y.base == x.base).map(|y| (*x, *y)))
            .collect();
        out.sort_by(|(a1, b1), (a2, b2)| {
            let r1 = a1.level.min(b1.level);
            let r2 = a2.level.min(b2.level);
            r2.cmp(&r1)
                .then(a2.level.max(b2.level).cmp(&a1.level.max(b1.level)))
                .then(self.codes[a1.code as usize].cmp(&self.codes[a2.code as usize]))
        });
        out
    }
}

/// One person's query: P's skills expanded through the tree, and per-query caches.
struct Query<'a> {
    m: &'a Matcher,
    p: usize,
    now: DateTime<Utc>,
    /// Offsets of the snapshot's zones at `now`, computed on first use.
    zone_offsets: Vec<Option<i32>>,
    /// Offered skill key → which of P's wants it meets, and how.
    learn: Vec<Sat>,
    /// Wanted skill key → which of P's offers meets it, and how.
    share: Vec<Sat>,
}

impl<'a> Query<'a> {
    fn new(m: &'a Matcher, p: usize, now: DateTime<Utc>) -> Query<'a> {
        let s = &m.skills;
        let mut learn = Vec::new();
        for (pos, want) in m.wants.row(p).iter().enumerate() {
            let pos = pos as u32;
            let (full, partial) = m.meeting_wish(want);
            learn.extend(full.iter().map(|&key| Sat {
                key,
                pos,
                fit: Fit::Full,
            }));
            learn.extend(partial.map(|key| Sat {
                key,
                pos,
                fit: Fit::Partial,
            }));
        }
        let mut share = Vec::new();
        for (pos, &offer) in m.offers.row(p).iter().enumerate() {
            let pos = pos as u32;
            if m.is_taxonomy(offer) {
                // They want this skill or one above it: what P offers is part of it.
                for &key in &s.lineage[offer as usize] {
                    share.push(Sat {
                        key,
                        pos,
                        fit: Fit::Full,
                    });
                }
                // They want a skill below it: P offers the broader skill.
                for &key in &s.children[offer as usize] {
                    share.push(Sat {
                        key,
                        pos,
                        fit: Fit::Partial,
                    });
                }
            } else {
                share.push(Sat {
                    key: offer,
                    pos,
                    fit: Fit::Full,
                });
            }
        }
        learn.sort_unstable_by_key(|s| (s.key, s.pos));
        share.sort_unstable_by_key(|s| (s.key, s.pos));
        Query {
            m,
            p,
            now,
            zone_offsets: vec![None; m.zones.len()],
            learn,
            share,
        }
    }

    fn run(mut self, limit: usize) -> Matches {
        let m = self.m;
        if m.langs.row(self.p).is_empty() || limit == 0 {
            return Matches::default();
        }
        let mut scratch = m.take_scratch();
        let Scratch {
            acc,
            candidates,
            ordered,
        } = &mut scratch;
        self.accumulate(acc);

        // Visit candidates by decreasing skill sum, so the lists fill with strong entries
        // early and the rest can be skipped on their skill part alone, before their
        // language is even looked at. Within a sum, in index order: memory is then read
        // front to back, which is what makes this fast.
        const BUCKETS: usize = 64;
        let bucket = |a: &Acc| BUCKETS - 1 - usize::from(a.learn + a.share).min(BUCKETS - 1);
        let mut slots = [0usize; BUCKETS + 1];
        for (who, a) in acc.iter().enumerate() {
            if (a.learn | a.share) != 0 {
                candidates.push(who as u32);
                slots[bucket(a) + 1] += 1;
            }
        }
        for b in 1..=BUCKETS {
            slots[b] += slots[b - 1];
        }
        ordered.resize(candidates.len(), 0);
        for &who in candidates.iter() {
            let slot = &mut slots[bucket(&acc[who as usize])];
            ordered[*slot] = who;
            *slot += 1;
        }

        let p_rank = m.hot[self.p].rank;
        let p_offset = self.offset(self.p);
        let p_region = m.hot[self.p].region;
        let today = self.now.timestamp().div_euclid(SECONDS_PER_DAY);
        // The time-zone term per zone of the snapshot, relative to P, on first use.
        let mut tz_terms = vec![f64::NAN; m.zones.len()];

        let mut lists = [
            TopList::new(limit),
            TopList::new(limit),
            TopList::new(limit),
        ];
        for &who in ordered.iter() {
            let c = who as usize;
            if c == self.p {
                continue;
            }
            let a = acc[c];
            let (learn, share) = (Fit::points(a.learn), Fit::points(a.share));
            let both = if learn > 0.0 && share > 0.0 {
                learn + share
            } else {
                0.0
            };
            let skills = [learn, share, both];
            // The context factor, exactly as `Query::context` would give it, but with the
            // time-zone term cached per zone: this runs for every candidate.
            let hot = m.hot[c];
            let tz = match p_offset {
                Some(p_offset) if hot.zone != NO_ZONE => {
                    let term = &mut tz_terms[usize::from(hot.zone)];
                    if term.is_nan() {
                        let offset = m.zones[usize::from(hot.zone)].offset_minutes(self.now);
                        *term = tz_term(Some(waking_overlap(p_offset, offset)));
                    }
                    *term
                }
                _ => 0.0,
            };
            let age_days = (hot.day != NO_DAY).then(|| (today - i64::from(hot.day)).max(0));
            let same_region = p_region.is_some() && hot.region == p_region;
            let context = context_factor(tz, same_region, recency_term(age_days));
            debug_assert_eq!(context.to_bits(), self.context(c).factor().to_bits());
            // The language part is at most what the weaker of the two best speakers allows,
            // whether or not it is the same language; a unit of margin covers rounding.
            let bound = language_factor(p_rank.min(hot.rank)) * context * SCORE_STEPS;
            let hopeless = skills
                .iter()
                .zip(&lists)
                .all(|(&skill, list)| skill == 0.0 || !list.admits(skill * bound + 1.0));
            if hopeless {
                continue;
            }
            let Some(rank) = m.best_language(self.p, c) else {
                continue;
            };
            let base = language_factor(rank) * context;
            let meta = &m.meta[c];
            for (&skill, list) in skills.iter().zip(&mut lists) {
                if skill > 0.0 {
                    list.push(Scored {
                        score: to_units(skill * base),
                        updated: meta.updated,
                        name_rank: meta.name_rank,
                        who,
                    });
                }
            }
        }
        m.give_back_scratch(scratch);
        let [learn, share, both] = lists;
        Matches {
            learn_from: self.explain_all(learn.into_sorted(), true, false),
            share_with: self.explain_all(share.into_sorted(), false, true),
            exchange: self.explain_all(both.into_sorted(), true, true),
        }
    }

    /// Walks the posting lists of P's expanded skills once, summing each person's skill
    /// parts: for "learn", each of P's wishes counts once per person, at its best fit; for
    /// "share", each of their wishes counts once, at the best fit P's offers give it.
    fn accumulate(&self, acc: &mut [Acc]) {
        let m = self.m;
        for (pos, want) in m.wants.row(self.p).iter().enumerate() {
            let stamp = pos as u32 + 1;
            let (full, partial) = m.meeting_wish(want);
            let partial = partial.as_slice();
            for (keys, fit) in [(full, Fit::Full), (partial, Fit::Partial)] {
                let units = fit.units();
                for &key in keys {
                    for &who in &m.offerers[key as usize] {
                        let a = &mut acc[who as usize];
                        if a.stamp == stamp {
                            continue;
                        }
                        a.stamp = stamp;
                        a.learn = a.learn.saturating_add(units);
                    }
                }
            }
        }
        let mut rest = &self.share[..];
        while let Some(first) = rest.first() {
            let group = sat_range(rest, first.key);
            let units = group.iter().map(|s| s.fit).max().map_or(0, Fit::units);
            for &who in &m.wanters[first.key as usize] {
                let a = &mut acc[who as usize];
                a.share = a.share.saturating_add(units);
            }
            rest = &rest[group.len()..];
        }
    }

    fn offset(&mut self, who: usize) -> Option<i32> {
        let zone = self.m.hot[who].zone;
        if zone == NO_ZONE {
            return None;
        }
        let zone = zone as usize;
        if self.zone_offsets[zone].is_none() {
            self.zone_offsets[zone] = Some(self.m.zones[zone].offset_minutes(self.now));
        }
        self.zone_offsets[zone]
    }

    /// The circumstances of P and `c`, for explaining (and, in debug builds, for checking
    /// the fast path of `run`).
    fn context(&mut self, c: usize) -> Context {
        let m = self.m;
        let overlap = match (self.offset(self.p), self.offset(c)) {
            (Some(a), Some(b)) => Some(waking_overlap(a, b)),
            _ => None,
        };
        let same_region = match (m.hot[self.p].region, m.hot[c].region) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        };
        let day = m.hot[c].day;
        let age_days = (day != NO_DAY)
            .then(|| (self.now.timestamp().div_euclid(SECONDS_PER_DAY) - i64::from(day)).max(0));
        Context {
            overlap_minutes: overlap,
            same_region,
            age_days,
        }
    }
}
