//! The movement-wide numbers: who offers and wants what, where, in which languages, which
//! needs nobody meets, and where a group could learn together.
//!
//! The web tool's statistics page, `/api/v1/stats` and the bot's on-wiki reports all show
//! these numbers; computing them once, here, is what keeps the three from disagreeing.
//! [`compute`] is a pure function of the profiles, the taxonomy and the clock, so a report
//! can be reproduced from a snapshot and tests can pin the date.
//!
//! Cost is linear in the number of skill and language entries on profiles: people are
//! grouped by (skill, language) first, and never compared pairwise, so 100,000 profiles take
//! a fraction of a second.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::{Deref, Range};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::connections::{self, ConnectionStats};
use crate::geo::{self, Region};
use crate::languages;
use crate::profile::{Level, Profile, SkillKind, SkillRef, Status};
use crate::taxonomy::Taxonomy;
use crate::text_key::fold;

/// A group-learning opportunity needs this many learners: fewer is a mentoring pair, which
/// matching already finds.
pub const GROUP_MIN_LEARNERS: usize = 3;

/// Two people can learn together in a language both speak at this Babel level or natively;
/// the same threshold as matching, so a need that matching could meet is never "unmet".
pub const SHARED_LANGUAGE_LEVEL: u8 = 2;

/// Leading a group asks more than following one: a leader speaks the group's language at
/// this level or natively.
pub const LEADER_LANGUAGE_LEVEL: u8 = 3;

/// Everything the statistics page and the reports show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The `now` the numbers were computed for (recency is relative to it).
    pub as_of: DateTime<Utc>,
    /// Reports compare skill counts across runs; a taxonomy change explains a jump.
    pub taxonomy_version: u32,
    pub totals: Totals,
    pub recency: Recency,
    /// Every taxonomy skill, in taxonomy order (parents before children), zero rows
    /// included so a chart or a report table has a stable set of rows.
    pub skills: Vec<SkillStats>,
    /// Every root category, in taxonomy order.
    pub roots: Vec<RootStats>,
    /// All eight Wikimedia regions, in [`Region::ALL`] order, zero rows included.
    pub regions: Vec<RegionStats>,
    /// Countries named on at least one profile, most profiles first.
    pub countries: Vec<CountryStats>,
    /// Language codes on at least one profile, most speakers first.
    pub languages: Vec<LanguageStats>,
    /// Wanted skills (taxonomy or free text) that some active wanter cannot learn from
    /// anyone active in a language they share; most unmet wanters first, then by id.
    pub unmet_needs: Vec<UnmetNeed>,
    /// Most learners first, then by skill id and language.
    pub group_opportunities: Vec<GroupOpportunity>,
    /// Free-text skills several people use: candidates for the taxonomy. Most people first.
    pub taxonomy_candidates: Vec<FreeTextCandidate>,
    /// Requests made through the web tool and exchanges thanked on the wiki.
    #[serde(default)]
    pub connections: ConnectionStats,
}

/// Profile counts. Paused people are profiles too: they are counted here and in every
/// "how many people have X" number, and left out only where the question is who can
/// learn from whom now (unmet needs, group opportunities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub profiles: usize,
    pub active: usize,
    pub paused: usize,
    /// No country, or one the region table does not know: the gap in the region table.
    pub without_region: usize,
}

/// How recently profiles were updated. The day counts are cumulative (`last_90_days`
/// includes `last_30_days`), the way people read "updated in the last 90 days";
/// `last_365_days + older + unknown` is the number of profiles. A revision dated after
/// `now` (clock skew) counts as recent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recency {
    pub last_30_days: usize,
    pub last_90_days: usize,
    pub last_365_days: usize,
    /// Updated more than 365 days ago.
    pub older: usize,
    /// No revision date (a profile built outside a crawl or import).
    pub unknown: usize,
}

/// Distinct people per kind: someone who lists a skill twice still counts once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub offers: usize,
    pub wants: usize,
    pub knows: usize,
}

impl Counts {
    fn bump(&mut self, kind: SkillKind) {
        match kind {
            SkillKind::Offers => self.offers += 1,
            SkillKind::Wants => self.wants += 1,
            SkillKind::Knows => self.knows += 1,
        }
    }
}

/// One taxonomy skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillStats {
    pub id: String,
    /// English; the web tool translates by id.
    pub label: String,
    pub parent: Option<String>,
    pub root: String,
    /// 1 for a root category, 2 for its skills, 3 for their sub-skills.
    pub depth: usize,
    /// People who named this very skill.
    #[serde(flatten)]
    pub counts: Counts,
    /// People who named this skill or one below it, each counted once: what "how many
    /// people offer something in Wikidata" means. Equal to `counts` for a leaf.
    pub with_subskills: Counts,
}

/// One root category: distinct people with a skill anywhere in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootStats {
    pub id: String,
    pub label: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionStats {
    /// `SSA`, `NWE`, … as in the template and the API.
    pub code: String,
    pub name: String,
    pub profiles: usize,
    pub active: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountryStats {
    /// ISO 3166-1 alpha-2, as on the profiles.
    pub code: String,
    /// English name, when the country table knows the code.
    pub name: Option<String>,
    pub region: Option<Region>,
    pub profiles: usize,
    pub active: usize,
}

/// Speakers of one language code as written (`pt` and `pt-br` are separate rows here; they
/// are merged only where people are put together, in unmet needs and groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageStats {
    pub code: String,
    /// English name, when the language table knows the code.
    pub name: Option<String>,
    /// Everyone who lists the language, at any level.
    pub speakers: usize,
    /// Level 2 or above, or native: enough to learn together.
    pub level_2_or_native: usize,
    pub native: usize,
}

/// A wanted skill that some active wanters cannot learn now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmetNeed {
    /// `{"id", "label"}` for a taxonomy skill, `{"text"}` for free text (the most common
    /// spelling), as on profiles.
    pub skill: SkillRef,
    /// Active people who want the skill.
    pub wanters: usize,
    /// Of those, the ones with no active offerer (of the skill or a sub-skill) with whom they
    /// share a language at level 2 or native.
    pub unmet: usize,
    /// Active people who offer the skill or a sub-skill, in any language: zero means the
    /// need is for a teacher, more than zero means it is for a language bridge.
    pub offerers: usize,
}

/// At least [`GROUP_MIN_LEARNERS`] active people want the same skill and share a language:
/// a workshop or a learning circle could serve them at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOpportunity {
    pub skill: SkillRef,
    /// The base language code (`pt` for people who wrote `pt` or `pt-br`), because the
    /// group is formed under the same language rule as matching.
    pub language: String,
    /// Active wanters who speak the language at level 2 or native, by user name.
    pub learners: Vec<UserName>,
    /// Active offerers of the skill or a sub-skill who speak the language at level 3 or
    /// native and are not learners of the group themselves, by user name.
    pub leaders: Vec<UserName>,
}

/// A user name, shared by every list that names the person. A popular leader is named in
/// hundreds of groups on a large wiki; one allocation per person instead of one per mention
/// is most of the speed of [`compute`] at 100,000 profiles. In JSON it is a plain string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserName(Arc<str>);

impl UserName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for UserName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for UserName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for UserName {
    fn from(name: &str) -> UserName {
        UserName(Arc::from(name))
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for UserName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for UserName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl Serialize for UserName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|name| UserName(Arc::from(name)))
    }
}

/// A free-text skill several people wrote, in whatever spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeTextCandidate {
    /// The spelling most people used (ties: the first in code-point order).
    pub text: String,
    /// The folded key the spellings share ([`fold`]).
    pub key: String,
    /// Distinct people using it on any list.
    pub people: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Computes every statistic in one pass over the profiles, and a second over the active
/// wanters once all offers are known.
pub fn compute(
    profiles: &[Profile],
    connections: &connections::Counts,
    taxonomy: &Taxonomy,
    now: DateTime<Utc>,
) -> Stats {
    let tree = Tree::new(taxonomy);
    let n_tax = tree.len();

    // People are numbered by their rank in user-name order, so every list of people built
    // below comes out already in the order the page and the reports show it.
    let mut order: Vec<(&str, usize)> = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| (p.user.as_str(), i))
        .collect();
    order.sort_unstable();
    let names: Vec<UserName> = order
        .iter()
        .map(|&(name, _)| UserName::from(name))
        .collect();

    let mut acc = Accumulator::new(n_tax);
    let mut scratch = Scratch::default();
    for (person, &(_, index)) in order.iter().enumerate() {
        let person = u32::try_from(person).unwrap_or(u32::MAX);
        acc.add(&tree, person, &profiles[index], now, &mut scratch);
    }
    let unmet = acc.unmet_counts();

    let free_display: Vec<String> = acc.free.iter().map(FreeAgg::display).collect();
    let skill_ref = |node: usize| -> SkillRef {
        match node.checked_sub(n_tax) {
            None => {
                let skill = &taxonomy.skills()[node];
                SkillRef::Known {
                    id: skill.id.clone(),
                    label: taxonomy.label(skill, "en").to_string(),
                }
            }
            Some(f) => SkillRef::Free {
                text: free_display[f].clone(),
            },
        }
    };
    // Taxonomy skills by id, then free text by key.
    let sort_key = |node: usize| -> (bool, &str) {
        match node.checked_sub(n_tax) {
            None => (false, taxonomy.skills()[node].id.as_str()),
            Some(f) => (true, acc.free[f].key.as_str()),
        }
    };

    let mut unmet_needs: Vec<(usize, UnmetNeed)> = unmet
        .iter()
        .enumerate()
        .filter(|&(_, &unmet)| unmet > 0)
        .map(|(node, &unmet)| {
            let need = UnmetNeed {
                skill: skill_ref(node),
                wanters: acc.wanters.get(node).copied().unwrap_or(0),
                unmet,
                offerers: acc.offerers.get(node).copied().unwrap_or(0),
            };
            (node, need)
        })
        .collect();
    unmet_needs.sort_by(|(a, na), (b, nb)| {
        nb.unmet
            .cmp(&na.unmet)
            .then_with(|| sort_key(*a).cmp(&sort_key(*b)))
    });

    let to_names = |people: &mut dyn Iterator<Item = &u32>, capacity: usize| -> Vec<UserName> {
        let mut out = Vec::with_capacity(capacity);
        out.extend(people.map(|&p| names[p as usize].clone()));
        out
    };
    let mut groups: Vec<(usize, GroupOpportunity)> = Vec::new();
    for (node, by_language) in acc.by_language.iter().enumerate() {
        for (base, learners) in by_language.learners.iter().enumerate() {
            if learners.len() < GROUP_MIN_LEARNERS {
                continue;
            }
            let leaders = by_language.leaders.get(base).map_or(&[][..], Vec::as_slice);
            // Both lists are in person order, so membership is a binary search.
            let leaders = to_names(
                &mut leaders
                    .iter()
                    .filter(|p| learners.binary_search(p).is_err()),
                leaders.len(),
            );
            let group = GroupOpportunity {
                skill: skill_ref(node),
                language: acc.bases[base].clone(),
                learners: to_names(&mut learners.iter(), learners.len()),
                leaders,
            };
            groups.push((node, group));
        }
    }
    groups.sort_by(|(a, ga), (b, gb)| {
        gb.learners
            .len()
            .cmp(&ga.learners.len())
            .then_with(|| sort_key(*a).cmp(&sort_key(*b)))
            .then_with(|| ga.language.cmp(&gb.language))
    });

    let skills: Vec<SkillStats> = taxonomy
        .skills()
        .iter()
        .enumerate()
        .map(|(i, skill)| SkillStats {
            id: skill.id.clone(),
            label: taxonomy.label(skill, "en").to_string(),
            parent: skill.parent.clone(),
            root: taxonomy.skills()[tree.root[i] as usize].id.clone(),
            depth: tree.depth[i],
            counts: acc.counts(&acc.own, i),
            with_subskills: acc.counts(&acc.rollup, i),
        })
        .collect();
    let roots = skills
        .iter()
        .filter(|s| s.parent.is_none())
        .map(|s| RootStats {
            id: s.id.clone(),
            label: s.label.clone(),
            counts: s.with_subskills,
        })
        .collect();

    let regions = Region::ALL
        .into_iter()
        .zip(acc.regions)
        .map(|(region, (profiles, active))| RegionStats {
            code: region.code().to_string(),
            name: region.english_name().to_string(),
            profiles,
            active,
        })
        .collect();

    let mut countries: Vec<CountryStats> = acc
        .countries
        .iter()
        .map(|(code, &(profiles, active))| {
            let known = geo::find_country(code).filter(|c| c.code.eq_ignore_ascii_case(code));
            CountryStats {
                code: code.clone(),
                name: known.map(|c| c.name.clone()),
                region: known.map(|c| c.region),
                profiles,
                active,
            }
        })
        .collect();
    countries.sort_by(|a, b| {
        b.profiles
            .cmp(&a.profiles)
            .then_with(|| a.code.cmp(&b.code))
    });

    let mut languages: Vec<LanguageStats> = acc
        .languages
        .iter()
        .map(|(code, agg)| LanguageStats {
            code: code.clone(),
            name: languages::language(code).map(|l| l.name.clone()),
            speakers: agg.speakers,
            level_2_or_native: agg.level_2_or_native,
            native: agg.native,
        })
        .collect();
    languages.sort_by(|a, b| {
        b.speakers
            .cmp(&a.speakers)
            .then_with(|| a.code.cmp(&b.code))
    });

    let mut taxonomy_candidates: Vec<FreeTextCandidate> = acc
        .free
        .iter()
        .zip(&free_display)
        .filter(|(agg, _)| agg.people >= 2)
        .map(|(agg, text)| FreeTextCandidate {
            text: text.clone(),
            key: agg.key.clone(),
            people: agg.people,
            counts: agg.counts,
        })
        .collect();
    taxonomy_candidates.sort_by(|a, b| b.people.cmp(&a.people).then_with(|| a.key.cmp(&b.key)));

    Stats {
        as_of: now,
        taxonomy_version: taxonomy.version(),
        totals: acc.totals,
        recency: acc.recency,
        skills,
        roots,
        regions,
        countries,
        languages,
        unmet_needs: unmet_needs.into_iter().map(|(_, n)| n).collect(),
        group_opportunities: groups.into_iter().map(|(_, g)| g).collect(),
        taxonomy_candidates,
        connections: connections::stats(connections, profiles),
    }
}

/// The taxonomy as index arrays, so rolling a skill up to its ancestors is a few array
/// reads instead of string look-ups per profile entry.
struct Tree<'t> {
    index: HashMap<&'t str, u32, BuildHasherDefault<IdHasher>>,
    parent: Vec<Option<u32>>,
    root: Vec<u32>,
    depth: Vec<usize>,
}

impl<'t> Tree<'t> {
    fn new(taxonomy: &'t Taxonomy) -> Tree<'t> {
        let skills = taxonomy.skills();
        let index: HashMap<&str, u32, BuildHasherDefault<IdHasher>> = skills
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let mut parent = Vec::with_capacity(skills.len());
        let mut root = Vec::with_capacity(skills.len());
        let mut depth = Vec::with_capacity(skills.len());
        // Parents come before their children in a checked taxonomy, so one pass suffices.
        for (i, skill) in skills.iter().enumerate() {
            let p = skill
                .parent
                .as_deref()
                .and_then(|p| index.get(p).copied())
                .filter(|&p| (p as usize) < i);
            parent.push(p);
            match p {
                Some(p) => {
                    root.push(root[p as usize]);
                    depth.push(depth[p as usize] + 1);
                }
                None => {
                    root.push(u32::try_from(i).unwrap_or(u32::MAX));
                    depth.push(1);
                }
            }
        }
        Tree {
            index,
            parent,
            root,
            depth,
        }
    }

    fn len(&self) -> usize {
        self.parent.len()
    }

    /// The node and its ancestors: what offering or wanting it counts towards. A free-text
    /// node (numbered after the taxonomy) has no ancestors.
    fn lineage(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(node), |&n| {
            self.parent.get(n as usize).copied().flatten()
        })
    }
}

/// A fast hash for the taxonomy's ids: every skill entry of every profile is looked up, and
/// SipHash's protection against crafted collisions is not needed for a table whose keys
/// come from the bundled taxonomy rather than from profiles.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    /// Ids differ in their length, their first or their last eight bytes; equality is
    /// still checked on the whole id, so this only has to spread the taxonomy's own ids.
    fn write(&mut self, bytes: &[u8]) {
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            let n = b.len().min(8);
            w[..n].copy_from_slice(&b[..n]);
            u64::from_le_bytes(w)
        };
        let tail = &bytes[bytes.len().saturating_sub(8)..];
        for w in [bytes.len() as u64, word(bytes), word(tail)] {
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Buffers reused from one person to the next: most of the work per person is small
/// sorted sets, and allocating them afresh would cost more than filling them.
#[derive(Default)]
struct Scratch<'p> {
    nodes: Vec<u32>,
    rollup: Vec<u32>,
    free_spellings: Vec<(u32, &'p str)>,
    free_people: Vec<u32>,
    languages: Vec<(Cow<'p, str>, u8)>,
    bases2: Vec<u32>,
    bases3: Vec<u32>,
}

/// Who offers and wants one skill node, per base language (indexed by interned base).
#[derive(Default)]
struct ByLanguage {
    /// Active offerers (with roll-up) at level 2 or native.
    offers2: Vec<usize>,
    /// Active offerers (with roll-up) at level 3 or native, in person order.
    leaders: Vec<Vec<u32>>,
    /// Active wanters at level 2 or native, in person order.
    learners: Vec<Vec<u32>>,
}

/// An active person who wants something, kept (as ranges of [`Accumulator::arena`]) until
/// all offers are counted.
struct Wanter {
    /// Skill nodes wanted, sorted.
    wants: Range<usize>,
    /// Skill nodes offered, with their ancestors, sorted.
    offers: Range<usize>,
    /// Base languages spoken at level 2 or native, sorted.
    bases2: Range<usize>,
}

#[derive(Default)]
struct LanguageAgg {
    /// Interned once per code, not once per speaker.
    base: u32,
    speakers: usize,
    level_2_or_native: usize,
    native: usize,
}

struct FreeAgg {
    key: String,
    spellings: HashMap<String, usize>,
    counts: Counts,
    people: usize,
}

impl FreeAgg {
    fn display(&self) -> String {
        self.spellings
            .iter()
            .max_by(|(a, ca), (b, cb)| ca.cmp(cb).then_with(|| b.cmp(a)))
            .map_or_else(|| self.key.clone(), |(text, _)| text.clone())
    }
}

/// The running totals. Skill nodes are numbers: taxonomy skills by their index, free-text
/// keys after them; languages are interned base codes. Tables indexed by node or base grow
/// as new ones appear.
struct Accumulator {
    n_tax: usize,
    totals: Totals,
    recency: Recency,
    /// (profiles, active) per region, in [`Region::ALL`] order.
    regions: [(usize, usize); 8],
    countries: HashMap<String, (usize, usize)>,
    languages: HashMap<String, LanguageAgg>,
    own: [Vec<usize>; 3],
    rollup: [Vec<usize>; 3],
    free: Vec<FreeAgg>,
    free_by_key: HashMap<String, u32>,
    bases: Vec<String>,
    base_by_code: HashMap<String, u32>,
    /// Active offerers per node, with roll-up, in any language.
    offerers: Vec<usize>,
    /// Active wanters per node.
    wanters: Vec<usize>,
    by_language: Vec<ByLanguage>,
    active_wanters: Vec<Wanter>,
    arena: Vec<u32>,
}

impl Accumulator {
    fn new(n_tax: usize) -> Accumulator {
        Accumulator {
            n_tax,
            totals: Totals::default(),
            recency: Recency::default(),
            regions: [(0, 0); 8],
            countries: HashMap::new(),
            languages: HashMap::new(),
            own: std::array::from_fn(|_| vec![0; n_tax]),
            rollup: std::array::from_fn(|_| vec![0; n_tax]),
            free: Vec::new(),
            free_by_key: HashMap::new(),
            bases: Vec::new(),
            base_by_code: HashMap::new(),
            offerers: Vec::new(),
            wanters: Vec::new(),
            by_language: Vec::new(),
            active_wanters: Vec::new(),
            arena: Vec::new(),
        }
    }

    fn add<'p>(
        &mut self,
        tree: &Tree,
        person: u32,
        profile: &'p Profile,
        now: DateTime<Utc>,
        s: &mut Scratch<'p>,
    ) {
        let active = profile.status == Status::Active;
        self.totals.profiles += 1;
        if active {
            self.totals.active += 1;
        } else {
            self.totals.paused += 1;
        }
        self.count_recency(profile.updated, now);
        self.count_place(profile, active);
        self.count_languages(profile, s);

        // Only an active person with wants needs their offers kept for the second pass.
        let keep = active && !profile.wants.is_empty();
        let mut offers = 0..0;
        let mut wants = 0..0;
        s.free_spellings.clear();
        s.free_people.clear();
        for kind in SkillKind::ALL {
            let k = kind_index(kind);
            s.nodes.clear();
            for skill in profile.skills(kind) {
                if let Some((node, text)) = self.node_of(tree, skill) {
                    s.nodes.push(node);
                    if let Some(text) = text {
                        s.free_spellings.push((node, text));
                    }
                }
            }
            s.nodes.sort_unstable();
            s.nodes.dedup();
            s.rollup.clear();
            s.rollup
                .extend(s.nodes.iter().flat_map(|&n| tree.lineage(n)));
            s.rollup.sort_unstable();
            s.rollup.dedup();

            for &node in &s.nodes {
                match (node as usize).checked_sub(self.n_tax) {
                    None => self.own[k][node as usize] += 1,
                    Some(f) => {
                        self.free[f].counts.bump(kind);
                        s.free_people.push(node);
                    }
                }
            }
            for &node in &s.rollup {
                if let Some(count) = self.rollup[k].get_mut(node as usize) {
                    *count += 1;
                }
            }
            if !active {
                continue;
            }
            match kind {
                SkillKind::Offers => {
                    for &node in &s.rollup {
                        *grow(&mut self.offerers, node) += 1;
                        let by_language = grow(&mut self.by_language, node);
                        for &base in &s.bases2 {
                            *grow(&mut by_language.offers2, base) += 1;
                        }
                        for &base in &s.bases3 {
                            grow(&mut by_language.leaders, base).push(person);
                        }
                    }
                    if keep {
                        offers = push_range(&mut self.arena, &s.rollup);
                    }
                }
                SkillKind::Wants => {
                    for &node in &s.nodes {
                        *grow(&mut self.wanters, node) += 1;
                        let by_language = grow(&mut self.by_language, node);
                        for &base in &s.bases2 {
                            grow(&mut by_language.learners, base).push(person);
                        }
                    }
                    if keep {
                        wants = push_range(&mut self.arena, &s.nodes);
                    }
                }
                SkillKind::Knows => {}
            }
        }
        if keep && !wants.is_empty() {
            let bases2 = push_range(&mut self.arena, &s.bases2);
            self.active_wanters.push(Wanter {
                wants,
                offers,
                bases2,
            });
        }

        s.free_people.sort_unstable();
        s.free_people.dedup();
        for &node in &s.free_people {
            self.free[node as usize - self.n_tax].people += 1;
        }
        s.free_spellings.sort_unstable();
        s.free_spellings.dedup();
        for &(node, text) in &s.free_spellings {
            let spellings = &mut self.free[node as usize - self.n_tax].spellings;
            match spellings.get_mut(text) {
                Some(n) => *n += 1,
                None => {
                    spellings.insert(text.to_string(), 1);
                }
            }
        }
    }

    fn count_recency(&mut self, updated: Option<DateTime<Utc>>, now: DateTime<Utc>) {
        let Some(updated) = updated else {
            self.recency.unknown += 1;
            return;
        };
        let age = now.signed_duration_since(updated);
        if age <= TimeDelta::days(30) {
            self.recency.last_30_days += 1;
        }
        if age <= TimeDelta::days(90) {
            self.recency.last_90_days += 1;
        }
        if age <= TimeDelta::days(365) {
            self.recency.last_365_days += 1;
        } else {
            self.recency.older += 1;
        }
    }

    fn count_place(&mut self, profile: &Profile, active: bool) {
        let add = |entry: &mut (usize, usize)| {
            entry.0 += 1;
            entry.1 += usize::from(active);
        };
        match profile.region {
            Some(region) => {
                let i = Region::ALL.iter().position(|&r| r == region).unwrap_or(0);
                add(&mut self.regions[i]);
            }
            None => self.totals.without_region += 1,
        }
        if let Some(country) = profile.country.as_deref().map(str::trim)
            && !country.is_empty()
        {
            let code = upper(country);
            match self.countries.get_mut(code.as_ref()) {
                Some(entry) => add(entry),
                None => add(self.countries.entry(code.into_owned()).or_default()),
            }
        }
    }

    /// Counts the person's languages (each code once, at its best level) and leaves in the
    /// scratch the base languages they share at level ≥ 2 and could lead in at level ≥ 3.
    fn count_languages<'p>(&mut self, profile: &'p Profile, s: &mut Scratch<'p>) {
        s.languages.clear();
        s.languages.extend(
            profile
                .languages
                .iter()
                .map(|l| (lower(l.code.trim()), l.level.rank()))
                .filter(|(code, _)| !code.is_empty()),
        );
        // Highest level first within a code, so dedup keeps the best one.
        s.languages
            .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        s.languages.dedup_by(|a, b| a.0 == b.0);

        s.bases2.clear();
        s.bases3.clear();
        for (code, rank) in &s.languages {
            let rank = *rank;
            // The leader level is above the shared level, so a leader's language is shared.
            let agg = match self.languages.get_mut(code.as_ref()) {
                Some(agg) => agg,
                None => {
                    let base = intern_base(&mut self.bases, &mut self.base_by_code, code);
                    self.languages
                        .entry(code.to_string())
                        .or_insert(LanguageAgg {
                            base,
                            ..LanguageAgg::default()
                        })
                }
            };
            if rank >= SHARED_LANGUAGE_LEVEL {
                s.bases2.push(agg.base);
                if rank >= LEADER_LANGUAGE_LEVEL {
                    s.bases3.push(agg.base);
                }
            }
            agg.speakers += 1;
            agg.level_2_or_native += usize::from(rank >= SHARED_LANGUAGE_LEVEL);
            agg.native += usize::from(rank >= Level::NATIVE.rank());
        }
        for bases in [&mut s.bases2, &mut s.bases3] {
            bases.sort_unstable();
            bases.dedup();
        }
    }

    /// The node of a skill entry, and its spelling when it is free text. An id the taxonomy
    /// no longer has (a snapshot made with an older taxonomy) is kept as free text under
    /// its label rather than lost. Text that folds to nothing is not a skill.
    fn node_of<'p>(&mut self, tree: &Tree, skill: &'p SkillRef) -> Option<(u32, Option<&'p str>)> {
        let text = match skill {
            SkillRef::Known { id, label } => match tree.index.get(id.as_str()) {
                Some(&node) => return Some((node, None)),
                None => label.as_str(),
            },
            SkillRef::Free { text } => text.as_str(),
        };
        let key = fold(text);
        if key.is_empty() {
            return None;
        }
        let free = match self.free_by_key.get(&key) {
            Some(&f) => f,
            None => {
                let f = u32::try_from(self.free.len()).unwrap_or(u32::MAX);
                self.free.push(FreeAgg {
                    key: key.clone(),
                    spellings: HashMap::new(),
                    counts: Counts::default(),
                    people: 0,
                });
                self.free_by_key.insert(key, f);
                f
            }
        };
        let node = u32::try_from(self.n_tax)
            .unwrap_or(u32::MAX)
            .saturating_add(free);
        Some((node, Some(text.trim())))
    }

    fn counts(&self, table: &[Vec<usize>; 3], i: usize) -> Counts {
        Counts {
            offers: table[0][i],
            wants: table[1][i],
            knows: table[2][i],
        }
    }

    /// Per wanted node, the active wanters with no other active offerer in a base language
    /// they share at level ≥ 2. A wanter who offers a sub-skill of what they want is not
    /// their own teacher, so their own offer is taken out of the count.
    fn unmet_counts(&self) -> Vec<usize> {
        let mut unmet = Vec::new();
        for wanter in &self.active_wanters {
            let offers = &self.arena[wanter.offers.clone()];
            let bases2 = &self.arena[wanter.bases2.clone()];
            for &node in &self.arena[wanter.wants.clone()] {
                let own = usize::from(offers.binary_search(&node).is_ok());
                let offers2 = self
                    .by_language
                    .get(node as usize)
                    .map_or(&[][..], |b| b.offers2.as_slice());
                let met = bases2
                    .iter()
                    .any(|&base| offers2.get(base as usize).is_some_and(|&n| n > own));
                if !met {
                    *grow(&mut unmet, node) += 1;
                }
            }
        }
        unmet
    }
}

/// The interned base language of a code: `pt-br` and `pt` meet as `pt`, the rule matching
/// uses for a shared language.
fn intern_base(bases: &mut Vec<String>, by_code: &mut HashMap<String, u32>, code: &str) -> u32 {
    let base = code.split('-').next().unwrap_or(code);
    if let Some(&b) = by_code.get(base) {
        return b;
    }
    let b = u32::try_from(bases.len()).unwrap_or(u32::MAX);
    bases.push(base.to_string());
    by_code.insert(base.to_string(), b);
    b
}

fn kind_index(kind: SkillKind) -> usize {
    match kind {
        SkillKind::Offers => 0,
        SkillKind::Wants => 1,
        SkillKind::Knows => 2,
    }
}

/// The slot `i` of a table indexed by node or base, created (as zero or empty) on first use.
fn grow<T: Default>(table: &mut Vec<T>, i: u32) -> &mut T {
    let i = i as usize;
    if table.len() <= i {
        table.resize_with(i + 1, T::default);
    }
    &mut table[i]
}

fn push_range(arena: &mut Vec<u32>, items: &[u32]) -> Range<usize> {
    let start = arena.len();
    arena.extend_from_slice(items);
    start..arena.len()
}

/// Parsed profiles have lower-case language codes already; only others pay for a copy.
fn lower(code: &str) -> Cow<'_, str> {
    if code.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(code.to_ascii_lowercase())
    } else {
        Cow::Borrowed(code)
    }
}

fn upper(code: &str) -> Cow<'_, str> {
    if code.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(code.to_ascii_uppercase())
    } else {
        Cow::Borrowed(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn the_id_hash_tells_every_bundled_taxonomy_id_apart() {
        let hasher = BuildHasherDefault::<IdHasher>::default();
        let skills = Taxonomy::bundled().skills();
        let hashes: HashSet<u64> = skills.iter().map(|s| hasher.hash_one(&s.id)).collect();
        assert_eq!(hashes.len(), skills.len());
    }

    #[test]
    fn base_languages_are_interned_once() {
        let (mut bases, mut by_code) = (Vec::new(), HashMap::new());
        let pt = intern_base(&mut bases, &mut by_code, "pt");
        assert_eq!(intern_base(&mut bases, &mut by_code, "pt-br"), pt);
        assert_ne!(intern_base(&mut bases, &mut by_code, "es"), pt);
        assert_eq!(bases, ["pt", "es"]);
    }
}
