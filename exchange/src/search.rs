//! Searching a snapshot: "who can teach me Lua, in a language I speak?"
//!
//! Queries are never handed to tantivy's query parser: the text is cut into words by the
//! index's own analyzer ([`search_index::analyze`]), so stray quotes, colons or brackets are
//! just separators and no input can make a search fail.
//!
//! Each word is looked up in the term dictionaries and stands for a few terms:
//! - the word itself, in every field that has it;
//! - when no field but the bio has it and it has five letters or more, the closest terms
//!   one edit away (two for nine letters or more) in the skill, name and place fields;
//! - for the last word (unless the query ends with a space or punctuation), the most
//!   frequent terms it is a prefix of.
//!
//! Runs of words that name a taxonomy skill in any language ("Módulos Lua", "وحدات لوا",
//! or "wikidta" read as "wikidata") are recognised: such words also match people with that
//! skill or one of its sub-skills, and people with exactly that skill get a bonus.
//!
//! Every word must match (stop words such as "de" or "and" need not); if no profile has
//! every word, any word will do. Scores are constant per field, so they say *where* a word
//! matched, not how often: a word scores its best match (an offered skill 10, the user name
//! 8, a known skill 6, a wanted skill or an affiliation 5, country, region or a language
//! spoken 3, the bio 2; times 0.45 for a prefix, 0.7 or 0.6 for a typo, 0.5 for a sub-skill
//! of a recognised skill), and the words' scores add up. Results are ordered by: active
//! before paused, score, then the most recently updated; the document address makes the
//! order total, so pages are stable. Filters are exact terms (see `search_index::Fields`)
//! and do not change scores.
//!
//! Cost grows with the number of matching profiles (the total and the facet counts need
//! them all): what ranking and facet counting read per document is kept in flat arrays per
//! segment (`SegmentData`), and a large index has a few segments searched in parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring, FuzzyTermQuery,
    Occur, Query, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, Executor, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument,
    Term,
};

use crate::geo::Region;
use crate::profile::{Level, Profile, SkillKind};
use crate::search_index::{self, Fields, skill_facet};
use crate::store::{Snapshot, StoreError};
use crate::taxonomy::Taxonomy;
use crate::text_key::fold;

/// Most results a page may ask for.
pub const MAX_LIMIT: usize = 100;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words of a query that are used (more add nothing but cost).
const MAX_WORDS: usize = 12;
/// Longest run of words tried as a skill name.
const MAX_SPAN_WORDS: usize = 8;
/// Most words of a query corrected as typos (each costs a walk of the dictionaries).
const MAX_FUZZY_WORDS: usize = 4;
/// Most terms a misspelt word stands for.
const FUZZY_TERMS: usize = 3;
/// Most terms the last word stands for as a prefix.
const PREFIX_TERMS: usize = 4;
/// Shortest prefix (in characters) that is completed.
const MIN_PREFIX_CHARS: usize = 3;
/// Most dictionary terms looked at per field and segment when completing a prefix.
const PREFIX_SCAN: usize = 4096;

/// A search, as the API and the search page pass it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// A taxonomy skill id; matches its sub-skills too.
    pub skill: Option<String>,
    /// With `skill`: which list the skill must be on. Without `skill`: the words of `q`
    /// must be found on that list (and not in names, affiliations or bios).
    pub kind: Option<SkillKind>,
    /// A language and the lowest level accepted.
    pub language: Option<(String, Level)>,
    pub region: Option<Region>,
    pub country: Option<String>,
    pub project: Option<String>,
    pub format: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

/// One profile found, with its score.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub profile: Profile,
    pub score: f32,
}

/// How many matching profiles have a facet value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// A page of results, the total, and the counts per facet value over all matches.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub total: usize,
    pub results: Vec<SearchHit>,
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

/// Why a search could not be answered (never the user's input).
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<std::io::Error> for SearchError {
    fn from(e: std::io::Error) -> SearchError {
        SearchError::Index(e.into())
    }
}

// ---------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------

/// What a word is worth where it matched.
const OFFERS: Score = 10.0;
const NAME: Score = 8.0;
const KNOWS: Score = 6.0;
const WANTS: Score = 5.0;
const AFFILIATION: Score = 5.0;
const CONTEXT: Score = 3.0;
const BIO: Score = 2.0;
/// Factors for a word matched as a prefix, one or two edits away, or as a sub-skill.
const PREFIX: Score = 0.45;
const TYPO_1: Score = 0.7;
const TYPO_2: Score = 0.6;
const SUB_SKILL: Score = 0.5;
/// Bonus (times the list's weight) for having exactly the skill a query names.
const EXACT_SKILL: Score = 0.3;

fn kind_weight(kind: SkillKind) -> Score {
    match kind {
        SkillKind::Offers => OFFERS,
        SkillKind::Knows => KNOWS,
        SkillKind::Wants => WANTS,
    }
}

/// Words that need not match when the query has others (folded forms), in the languages
/// of the taxonomy's labels: they are in most labels, so they would match nearly anyone.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // en
    "a", "an", "and", "the", "of", "in", "on", "for", "to", "with", "at", "by", "or", "is",
    // pt, es
    "de", "da", "do", "das", "dos", "e", "em", "no", "na", "nos", "nas", "para", "com", "o",
    "os", "as", "um", "uma", "del", "la", "las", "el", "los", "y", "en", "con", "por", "un",
    "una", "al",
    // fr
    "des", "du", "le", "les", "et", "d", "l", "au", "aux", "une", "pour", "sur",
    // de
    "und", "der", "die", "das", "von", "im", "fur", "mit", "zu", "auf", "ein", "eine", "den",
    // ar (folded)
    "في", "من", "علي", "الي", "و", "عن", "مع", "او",
];

// ---------------------------------------------------------------------------
// Understanding the query
// ---------------------------------------------------------------------------

/// A text field searched, with its weight.
#[derive(Debug, Clone, Copy)]
struct TextField {
    field: Field,
    weight: Score,
    /// Every field but the bio: a word found there is spelt right.
    structural: bool,
}

fn text_fields(f: Fields, kind: Option<SkillKind>) -> Vec<TextField> {
    let field = |field, weight, structural| TextField {
        field,
        weight,
        structural,
    };
    match kind {
        Some(kind) => vec![field(f.of_kind(kind), kind_weight(kind), true)],
        None => vec![
            field(f.offers, OFFERS, true),
            field(f.name, NAME, true),
            field(f.knows, KNOWS, true),
            field(f.wants, WANTS, true),
            field(f.affiliation, AFFILIATION, true),
            field(f.context, CONTEXT, true),
            field(f.bio, BIO, false),
        ],
    }
}

/// A term a word stands for, with the fields that have it and the score factor.
#[derive(Debug, Clone)]
struct Variant {
    term: String,
    /// Indexes into the searched text fields.
    fields: Vec<usize>,
    factor: Score,
}

/// A word of the query and what it stands for.
#[derive(Debug)]
struct Word {
    text: String,
    /// Byte range in the query.
    from: usize,
    to: usize,
    stop: bool,
    variants: Vec<Variant>,
    /// How the word reads when looking for skill names (the best correction of a typo).
    reading: Option<String>,
    /// The taxonomy skill a run of words including this one names.
    skill: Option<String>,
}

/// Terms found by walking term dictionaries, with their document frequencies per field.
#[derive(Default)]
struct Found {
    terms: HashMap<String, Vec<u64>>,
}

impl Found {
    fn add(&mut self, term: &[u8], field_index: usize, fields: usize, doc_freq: u64) {
        let Ok(term) = std::str::from_utf8(term) else {
            return;
        };
        let counts = self
            .terms
            .entry(term.to_string())
            .or_insert_with(|| vec![0; fields]);
        counts[field_index] += doc_freq;
    }

    /// At most `max` terms with their per-field counts: by `order`, then the ones found in
    /// structural fields, the most frequent, the shortest.
    fn best(
        self,
        fields: &[TextField],
        max: usize,
        order: impl Fn(&str) -> u32,
    ) -> Vec<(String, Vec<u64>)> {
        let structural = |counts: &[u64]| -> u64 {
            counts
                .iter()
                .zip(fields)
                .filter(|(_, f)| f.structural)
                .map(|(c, _)| c)
                .sum()
        };
        let mut terms: Vec<(String, Vec<u64>)> = self.terms.into_iter().collect();
        terms.sort_by(|(a, ca), (b, cb)| {
            order(a)
                .cmp(&order(b))
                .then_with(|| (structural(cb) > 0).cmp(&(structural(ca) > 0)))
                .then_with(|| {
                    let total = |c: &[u64]| c.iter().sum::<u64>();
                    total(cb).cmp(&total(ca))
                })
                .then_with(|| a.len().cmp(&b.len()))
                .then_with(|| a.cmp(b))
        });
        terms.truncate(max);
        terms
    }
}

fn variant(term: String, counts: &[u64], factor: Score) -> Option<Variant> {
    let fields: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
    (!fields.is_empty()).then_some(Variant {
        term,
        fields,
        factor,
    })
}

/// How many edits a word may be away: none below five letters, one, two for long words.
fn edit_distance(chars: usize) -> u8 {
    match chars {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Edit distance with adjacent transpositions counted as one (as the fuzzy automaton).
fn osa_distance(a: &str, b: &str) -> usize {
    bounded_distance(a, b, usize::MAX)
}

/// [`osa_distance`], or some number above `max` as soon as it is sure to exceed it.
fn bounded_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_within(&a, &b, max, &mut Rows::default())
}

/// Three rows of the edit-distance table, kept to compare one word with many.
#[derive(Default)]
struct Rows {
    before: Vec<usize>,
    previous: Vec<usize>,
    current: Vec<usize>,
}

fn distance_within(a: &[char], b: &[char], max: usize, rows: &mut Rows) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max.saturating_add(1);
    }
    let width = b.len() + 1;
    let Rows {
        before,
        previous,
        current,
    } = rows;
    before.clear();
    before.resize(width, 0);
    previous.clear();
    previous.extend(0..width);
    current.clear();
    current.resize(width, 0);
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before[j - 2] + 1);
            }
            current[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > max {
            return max.saturating_add(1);
        }
        std::mem::swap(before, previous);
        std::mem::swap(previous, current);
    }
    previous[b.len()]
}

/// Terms one or two edits away from `word`.
fn fuzzy_terms(
    searcher: &Searcher,
    fields: &[TextField],
    word: &str,
    distance: u8,
) -> Result<Vec<Variant>, SearchError> {
    let probe = Term::from_field_text(fields[0].field, word);
    let automaton = FuzzyTermQuery::new(probe, distance, true).automaton()?;
    let mut found = Found::default();
    for segment in searcher.segment_readers() {
        // A typo is not looked for in bios: they are the largest dictionary and the
        // weakest match.
        for (i, field) in fields.iter().enumerate().filter(|(_, f)| f.structural) {
            let index = segment.inverted_index(field.field)?;
            let mut stream = index.terms().search(&automaton).into_stream()?;
            while stream.advance() {
                if stream.key() != word.as_bytes() {
                    found.add(
                        stream.key(),
                        i,
                        fields.len(),
                        u64::from(stream.value().doc_freq),
                    );
                }
            }
        }
    }
    let distances: HashMap<String, usize> = found
        .terms
        .keys()
        .map(|t| (t.clone(), osa_distance(word, t)))
        .collect();
    let order = |t: &str| distances.get(t).copied().unwrap_or(usize::MAX) as u32;
    let mut out = Vec::new();
    for (term, mut counts) in found.best(fields, FUZZY_TERMS, order) {
        // A correction found elsewhere also matches bios (a lookup, not a walk).
        for (count, field) in counts.iter_mut().zip(fields) {
            if !field.structural {
                *count = searcher.doc_freq(&Term::from_field_text(field.field, &term))?;
            }
        }
        let factor = if order(&term) <= 1 { TYPO_1 } else { TYPO_2 };
        out.extend(variant(term, &counts, factor));
    }
    Ok(out)
}

/// The most frequent terms that `word` is a strict prefix of.
fn prefix_terms(
    searcher: &Searcher,
    fields: &[TextField],
    word: &str,
) -> Result<Vec<Variant>, SearchError> {
    let walk = |structural: bool, found: &mut Found| -> Result<(), SearchError> {
        for segment in searcher.segment_readers() {
            for (i, field) in fields.iter().enumerate() {
                if field.structural != structural {
                    continue;
                }
                let index = segment.inverted_index(field.field)?;
                let mut stream = index.terms().range().gt(word.as_bytes()).into_stream()?;
                let mut scanned = 0;
                while stream.advance() && scanned < PREFIX_SCAN {
                    if !stream.key().starts_with(word.as_bytes()) {
                        break;
                    }
                    scanned += 1;
                    found.add(
                        stream.key(),
                        i,
                        fields.len(),
                        u64::from(stream.value().doc_freq),
                    );
                }
            }
        }
        Ok(())
    };
    // Completions come from the skills, names and places; only when none of those
    // completes the word are bios walked too (they are the largest dictionary).
    let mut found = Found::default();
    walk(true, &mut found)?;
    let bios_walked = found.terms.is_empty();
    if bios_walked {
        walk(false, &mut found)?;
    }
    let mut out = Vec::new();
    for (term, mut counts) in found.best(fields, PREFIX_TERMS, |_| 0) {
        if !bios_walked {
            for (count, field) in counts.iter_mut().zip(fields) {
                if !field.structural {
                    *count = searcher.doc_freq(&Term::from_field_text(field.field, &term))?;
                }
            }
        }
        out.extend(variant(term, &counts, PREFIX));
    }
    Ok(out)
}

/// Every word of every skill name in the taxonomy, folded, sorted, with its characters.
fn taxonomy_words() -> &'static [(String, Vec<char>)] {
    static WORDS: OnceLock<Vec<(String, Vec<char>)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = BTreeSet::new();
        for skill in Taxonomy::bundled().skills() {
            let names = skill
                .labels
                .values()
                .chain(skill.aliases.values().flatten());
            for name in names {
                words.extend(search_index::analyze(name).into_iter().map(|t| t.text));
            }
        }
        words
            .into_iter()
            .map(|w| {
                let chars = w.chars().collect();
                (w, chars)
            })
            .collect()
    })
}

/// The closest word of a skill name, if one is at most `max` edits away.
fn taxonomy_correction(word: &str, max: usize) -> Option<(usize, String)> {
    let words = taxonomy_words();
    if max == 0 {
        return words
            .binary_search_by(|(w, _)| w.as_str().cmp(word))
            .ok()
            .map(|i| (0, words[i].0.clone()));
    }
    let chars: Vec<char> = word.chars().collect();
    let mut rows = Rows::default();
    words
        .iter()
        .filter(|(_, c)| c.len().abs_diff(chars.len()) <= max)
        .map(|(w, c)| (distance_within(&chars, c, max, &mut rows), w))
        .filter(|(d, _)| *d <= max)
        .min()
        .map(|(d, w)| (d, w.clone()))
}

/// The shortest word of a skill name that `prefix` begins.
fn taxonomy_completion(prefix: &str) -> Option<String> {
    let words = taxonomy_words();
    let start = words.partition_point(|(w, _)| w.as_str() < prefix);
    words[start..]
        .iter()
        .map(|(w, _)| w)
        .take_while(|w| w.starts_with(prefix))
        .min_by_key(|w| (w.len(), w.as_str()))
        .cloned()
}

/// Reads the query: its words, what each stands for, and the skills it names.
fn understand(
    searcher: &Searcher,
    fields: &[TextField],
    q: &str,
) -> Result<Vec<Word>, SearchError> {
    let mut tokens = search_index::analyze(q);
    tokens.truncate(MAX_WORDS);
    // The last word is being typed unless something follows it.
    let typing = tokens.last().is_some_and(|t| t.offset_to == q.len());
    let only_stop_words = tokens.iter().all(|t| STOP_WORDS.contains(&t.text.as_str()));
    let count = tokens.len();
    let mut words = Vec::with_capacity(count);
    let mut fuzzy_words = 0;
    for (position, token) in tokens.into_iter().enumerate() {
        let text = token.text;
        let stop = !only_stop_words && STOP_WORDS.contains(&text.as_str());
        let mut word = Word {
            from: token.offset_from,
            to: token.offset_to,
            stop,
            variants: Vec::new(),
            reading: None,
            skill: None,
            text,
        };
        if !stop {
            let mut counts = vec![0u64; fields.len()];
            for (i, field) in fields.iter().enumerate() {
                counts[i] = searcher.doc_freq(&Term::from_field_text(field.field, &word.text))?;
            }
            let spelt_right = counts
                .iter()
                .zip(fields)
                .any(|(&c, f)| c > 0 && f.structural);
            if let Some(exact) = variant(word.text.clone(), &counts, 1.0) {
                word.variants.push(exact);
            }
            let chars = word.text.chars().count();
            let mut completed = false;
            if position + 1 == count && typing && chars >= MIN_PREFIX_CHARS {
                let completions = prefix_terms(searcher, fields, &word.text)?;
                completed = completions
                    .iter()
                    .any(|v| v.fields.iter().any(|&i| fields[i].structural));
                if !spelt_right && completed {
                    word.reading = completions.first().map(|v| v.term.clone());
                }
                word.variants.extend(completions);
            }
            let distance = edit_distance(chars);
            if !spelt_right && !completed && distance > 0 && fuzzy_words < MAX_FUZZY_WORDS {
                fuzzy_words += 1;
                let corrections = fuzzy_terms(searcher, fields, &word.text, distance)?;
                let best = corrections
                    .first()
                    .map(|v| (osa_distance(&word.text, &v.term), v.term.clone()));
                // A skill name nobody uses yet may still be what was meant (its
                // sub-skills may be on profiles), when it is closer than any term.
                let closer = best
                    .as_ref()
                    .map_or(usize::from(distance), |(d, _)| d.saturating_sub(1));
                word.reading = match (taxonomy_correction(&word.text, closer), best) {
                    (Some((_, name)), _) => Some(name),
                    (None, best) => best.map(|(_, term)| term),
                };
                word.variants.extend(corrections);
            } else if !spelt_right && !completed && position + 1 == count && typing {
                word.reading = taxonomy_completion(&word.text);
            }
        }
        words.push(word);
    }
    recognise_skills(q, &mut words, Taxonomy::bundled());
    Ok(words)
}

/// Marks runs of words that name a taxonomy skill, longest runs first, left to right.
fn recognise_skills(q: &str, words: &mut [Word], taxonomy: &Taxonomy) {
    let mut start = 0;
    while start < words.len() {
        let mut matched = 0;
        let longest = (words.len() - start).min(MAX_SPAN_WORDS);
        for len in (1..=longest).rev() {
            let run = &words[start..start + len];
            if len == 1 && run[0].stop {
                continue;
            }
            let name = if run.iter().all(|w| w.reading.is_none()) {
                fold(&q[run[0].from..run[len - 1].to])
            } else {
                let parts: Vec<String> = run
                    .iter()
                    .map(|w| w.reading.clone().unwrap_or_else(|| fold(&q[w.from..w.to])))
                    .collect();
                parts.join(" ")
            };
            if let Some(skill) = taxonomy.resolve(&name) {
                for word in &mut words[start..start + len] {
                    word.skill = Some(skill.id.clone());
                }
                matched = len;
                break;
            }
        }
        start += matched.max(1);
    }
}

// ---------------------------------------------------------------------------
// Building the query
// ---------------------------------------------------------------------------

fn scored(query: Box<dyn Query>, score: Score) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// Everything a word may match, scored by its best match.
fn word_query(
    f: Fields,
    fields: &[TextField],
    kinds: &[SkillKind],
    word: &Word,
) -> Option<Box<dyn Query>> {
    let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
    for variant in &word.variants {
        for &i in &variant.fields {
            let field = fields[i];
            let term = Term::from_field_text(field.field, &variant.term);
            disjuncts.push(scored(term_query(term), field.weight * variant.factor));
        }
    }
    if let Some(skill) = &word.skill {
        for &kind in kinds {
            let term = Term::from_field_text(f.skill, &format!("{}:{skill}", kind.as_str()));
            disjuncts.push(scored(term_query(term), kind_weight(kind) * SUB_SKILL));
        }
    }
    match disjuncts.len() {
        0 => None,
        1 => disjuncts.pop(),
        _ => Some(Box::new(DisjunctionMaxQuery::new(disjuncts))),
    }
}

/// Bonuses for having exactly a skill the query names.
fn skill_bonuses(f: Fields, kinds: &[SkillKind], words: &[Word]) -> Vec<(Occur, Box<dyn Query>)> {
    let mut skills: Vec<&str> = words.iter().filter_map(|w| w.skill.as_deref()).collect();
    skills.dedup();
    let mut out = Vec::new();
    for skill in skills {
        for &kind in kinds {
            let term = Term::from_facet(f.facets, &skill_facet(kind, skill));
            out.push((
                Occur::Should,
                scored(term_query(term), kind_weight(kind) * EXACT_SKILL),
            ));
        }
    }
    out
}

fn filter(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    let term = Term::from_field_text(field, value);
    (Occur::Must, scored(term_query(term), 0.0))
}

fn filters(f: Fields, request: &SearchRequest) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out = Vec::new();
    if let Some(skill) = &request.skill {
        let kind = request.kind.map_or("any", SkillKind::as_str);
        out.push(filter(f.skill, &format!("{kind}:{skill}")));
    }
    if let Some((code, level)) = &request.language {
        out.push(filter(
            f.language,
            &format!("{}:{}", code.to_lowercase(), level.rank()),
        ));
    }
    if let Some(region) = request.region {
        out.push(filter(f.region, region.code()));
    }
    if let Some(country) = &request.country {
        out.push(filter(f.country, &country.to_uppercase()));
    }
    if let Some(project) = &request.project {
        out.push(filter(f.project, &project.to_lowercase()));
    }
    if let Some(format) = &request.format {
        out.push(filter(f.format, &format.to_lowercase()));
    }
    out
}

type MaybeQuery = Option<Box<dyn Query>>;

/// The queries to run in turn: every word, then (when some word cannot match or nothing
/// matched every word) any word. `None` when nothing can match.
fn build_queries(
    f: Fields,
    request: &SearchRequest,
    fields: &[TextField],
    words: &[Word],
) -> (MaybeQuery, MaybeQuery) {
    let mut clauses = filters(f, request);
    if words.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
        return (Some(Box::new(BooleanQuery::new(clauses))), None);
    }
    let kinds: Vec<SkillKind> = match (request.kind, &request.skill) {
        (Some(kind), None) => vec![kind],
        _ => SkillKind::ALL.to_vec(),
    };
    let required: Vec<&Word> = words.iter().filter(|w| !w.stop).collect();
    let per_word: Vec<Option<Box<dyn Query>>> = required
        .iter()
        .map(|w| word_query(f, fields, &kinds, w))
        .collect();
    let bonuses = || skill_bonuses(f, &kinds, words);
    let every_word = per_word.iter().all(Option::is_some).then(|| {
        let mut all: Vec<(Occur, Box<dyn Query>)> =
            clauses.iter().map(|(o, q)| (*o, q.box_clone())).collect();
        all.extend(
            per_word
                .iter()
                .flatten()
                .map(|q| (Occur::Must, q.box_clone())),
        );
        all.extend(bonuses());
        Box::new(BooleanQuery::new(all)) as Box<dyn Query>
    });
    let any: Vec<(Occur, Box<dyn Query>)> = per_word
        .into_iter()
        .flatten()
        .map(|q| (Occur::Should, q))
        .collect();
    let any_word = (required.len() > 1 && !any.is_empty()).then(|| {
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        clauses.extend(bonuses());
        Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>
    });
    (every_word, any_word)
}

// ---------------------------------------------------------------------------
// Running it
// ---------------------------------------------------------------------------

/// Active before paused, then score (to the hundredth), then recency.
type RankKey = (u64, i64, i64);

/// The facet families counted with every search, as `SearchResults::facets` names them.
const FACET_FAMILIES: [&str; 8] = [
    "region",
    "country",
    "language",
    "project",
    "format",
    "skill_offers",
    "skill_wants",
    "skill_knows",
];
/// Most values returned per facet family.
const FACET_VALUES: usize = 30;

/// Counts per facet label, indexed by label number (see [`FacetLabels`]).
type FacetFruit = Vec<u32>;

fn label(facet: &Facet) -> Option<(usize, String)> {
    let path = facet.to_path();
    let (family, value) = match path.as_slice() {
        ["skill", kind, id] => (format!("skill_{kind}"), *id),
        [family, value] => (family.to_string(), *value),
        _ => return None,
    };
    let index = FACET_FAMILIES.iter().position(|f| *f == family)?;
    Some((index, value.to_string()))
}

/// Every facet label (family index and value) any segment has had, numbered once for the
/// whole process.
///
/// Each segment numbers its facets its own way; mapping them to these numbers when a
/// segment is first read lets every search count into one flat array per segment and add
/// the arrays up, instead of building and merging maps keyed by strings (which cost more
/// than the counting itself on broad searches). The set is small (regions, countries,
/// languages, projects, formats and taxonomy skills) and only grows when new values
/// appear in a new generation.
#[derive(Default)]
struct FacetLabels {
    numbers: HashMap<(usize, String), u32>,
    labels: Vec<(usize, String)>,
}

impl FacetLabels {
    fn global() -> &'static std::sync::RwLock<FacetLabels> {
        static LABELS: OnceLock<std::sync::RwLock<FacetLabels>> = OnceLock::new();
        LABELS.get_or_init(Default::default)
    }

    fn number(&mut self, label: (usize, String)) -> u32 {
        if let Some(&n) = self.numbers.get(&label) {
            return n;
        }
        let n = self.labels.len() as u32;
        self.labels.push(label.clone());
        self.numbers.insert(label, n);
        n
    }
}

/// Facet label numbers (see [`FacetLabels`]), in two bytes while there are few enough.
enum Ords {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// What ranking and facet counting read for every matching document, laid out flat.
///
/// Reading facet ordinals, the active flag and the update time from tantivy's columns costs
/// more than everything else a broad search does, so each segment's values are read once,
/// on its first search, and kept (segments never change; 50,000 profiles take about 3 MB).
struct SegmentData {
    /// One more than the highest facet label number of the segment: the size of a count
    /// array.
    width: usize,
    /// The facet label numbers of document `d` are `ords[starts[d]..starts[d + 1]]`
    /// (facets of no family counted are left out).
    starts: Vec<u32>,
    ords: Ords,
    active: Vec<bool>,
    updated: Vec<i64>,
}

impl SegmentData {
    fn read(segment: &SegmentReader) -> tantivy::Result<SegmentData> {
        let facets = segment.facet_reader("facets")?;
        // Segment ordinal → label number (u32::MAX: not a family we count).
        let mut numbers = vec![u32::MAX; facets.num_facets()];
        {
            let mut labels = FacetLabels::global()
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut stream = facets.facet_dict().range().into_stream()?;
            while stream.advance() {
                let ord = stream.term_ord() as usize;
                if let (Some(slot), Ok(facet)) = (
                    numbers.get_mut(ord),
                    Facet::from_encoded(stream.key().to_vec()),
                ) && let Some(label) = label(&facet)
                {
                    *slot = labels.number(label);
                }
            }
        }
        let max_doc = segment.max_doc();
        let fast = segment.fast_fields();
        let active_column = fast.u64("active")?.first_or_default_col(1);
        let updated_column = fast.i64("updated")?.first_or_default_col(0);
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut all: Vec<u32> = Vec::new();
        let mut active = Vec::with_capacity(max_doc as usize);
        let mut updated = Vec::with_capacity(max_doc as usize);
        for doc in 0..max_doc {
            starts.push(all.len() as u32);
            let mut previous = None;
            for ord in facets.facet_ords(doc) {
                // A document lists each ordinal once, but be safe against repeats.
                if previous == Some(ord) {
                    continue;
                }
                previous = Some(ord);
                match numbers.get(ord as usize) {
                    Some(&n) if n != u32::MAX => all.push(n),
                    _ => {}
                }
            }
            active.push(active_column.get_val(doc) != 0);
            updated.push(updated_column.get_val(doc));
        }
        starts.push(all.len() as u32);
        let width = all.iter().max().map_or(0, |&n| n as usize + 1);
        let ords = if width <= usize::from(u16::MAX) {
            Ords::Narrow(all.into_iter().map(|o| o as u16).collect())
        } else {
            Ords::Wide(all)
        };
        Ok(SegmentData {
            width,
            starts,
            ords,
            active,
            updated,
        })
    }

    /// The data of a segment, from the cache or read now.
    fn of(segment: &SegmentReader) -> tantivy::Result<Arc<SegmentData>> {
        /// Segments kept (the ones searched least recently go first); a new generation's
        /// segments replace the old one's after a few searches.
        const CACHED_SEGMENTS: usize = 16;
        type Cache = Mutex<(u64, HashMap<SegmentId, (u64, Arc<SegmentData>)>)>;
        static CACHE: OnceLock<Cache> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let lock = || {
            cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        let id = segment.segment_id();
        {
            let mut guard = lock();
            let (clock, map) = &mut *guard;
            *clock += 1;
            if let Some((used, data)) = map.get_mut(&id) {
                *used = *clock;
                return Ok(data.clone());
            }
        }
        let data = Arc::new(SegmentData::read(segment)?);
        let mut guard = lock();
        let (clock, map) = &mut *guard;
        while map.len() >= CACHED_SEGMENTS {
            let oldest = map
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(id, _)| *id);
            match oldest {
                Some(oldest) => map.remove(&oldest),
                None => break,
            };
        }
        map.insert(id, (*clock, data.clone()));
        Ok(data)
    }

    /// Sort key: active before paused, then score (to the hundredth), then recency.
    fn rank(&self, doc: DocId, score: Score) -> RankKey {
        let doc = doc as usize;
        let active = self.active.get(doc).copied().unwrap_or(true);
        let updated = self.updated.get(doc).copied().unwrap_or(0);
        (u64::from(active), hundredths(score), updated)
    }
}

/// A score to the hundredth (scores are never negative).
fn hundredths(score: Score) -> i64 {
    (score * 100.0 + 0.5) as i64
}

/// Counts facet values over every matching document.
struct FacetCounter;

/// Label numbers below this are counted in a fixed-size array, whose indexing needs no
/// bounds check (this loop runs about 17 times per matching document).
const DENSE_LABELS: usize = 4096;

/// Counts per label number.
enum Counts {
    Dense(Box<[u32; DENSE_LABELS]>),
    Sparse(Vec<u32>),
}

struct SegmentFacetCounter {
    data: Arc<SegmentData>,
    counts: Counts,
}

impl Collector for FacetCounter {
    type Fruit = FacetFruit;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounter> {
        let data = SegmentData::of(segment)?;
        let counts = if data.width <= DENSE_LABELS {
            Counts::Dense(Box::new([0; DENSE_LABELS]))
        } else {
            Counts::Sparse(vec![0; data.width])
        };
        Ok(SegmentFacetCounter { data, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut merged: FacetFruit = Vec::new();
        for fruit in fruits {
            if fruit.len() > merged.len() {
                merged.resize(fruit.len(), 0);
            }
            for (total, count) in merged.iter_mut().zip(fruit) {
                *total += count;
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        let data = &*self.data;
        let doc = doc as usize;
        let (Some(&start), Some(&end)) = (data.starts.get(doc), data.starts.get(doc + 1)) else {
            return;
        };
        let range = start as usize..end as usize;
        match (&data.ords, &mut self.counts) {
            // Dense counts only when every number is below DENSE_LABELS: the remainder is
            // the number itself.
            (Ords::Narrow(ords), Counts::Dense(counts)) => {
                for &ord in ords.get(range).unwrap_or_default() {
                    counts[usize::from(ord) % DENSE_LABELS] += 1;
                }
            }
            (Ords::Narrow(ords), Counts::Sparse(counts)) => {
                for &ord in ords.get(range).unwrap_or_default() {
                    if let Some(count) = counts.get_mut(usize::from(ord)) {
                        *count += 1;
                    }
                }
            }
            (Ords::Wide(ords), counts) => {
                let counts: &mut [u32] = match counts {
                    Counts::Dense(counts) => &mut counts[..],
                    Counts::Sparse(counts) => counts,
                };
                for &ord in ords.get(range).unwrap_or_default() {
                    if let Some(count) = counts.get_mut(ord as usize) {
                        *count += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> FacetFruit {
        match self.counts {
            Counts::Dense(counts) => counts[..self.data.width].to_vec(),
            Counts::Sparse(counts) => counts,
        }
    }
}

/// The most frequent values of each family, from the counts per label number.
fn facet_counts(counts: &[u32]) -> BTreeMap<String, Vec<FacetCount>> {
    let labels = FacetLabels::global()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut per_family: Vec<Vec<(u32, &str)>> = vec![Vec::new(); FACET_FAMILIES.len()];
    for (n, &count) in counts.iter().enumerate() {
        if count > 0
            && let Some((family, value)) = labels.labels.get(n)
            && let Some(values) = per_family.get_mut(*family)
        {
            values.push((count, value.as_str()));
        }
    }
    FACET_FAMILIES
        .iter()
        .zip(per_family)
        .map(|(family, mut values)| {
            values.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            values.truncate(FACET_VALUES);
            let values = values
                .into_iter()
                .map(|(count, value)| FacetCount {
                    value: value.to_string(),
                    count: u64::from(count),
                })
                .collect();
            (family.to_string(), values)
        })
        .collect()
}

type Collected = (Vec<(RankKey, DocAddress)>, usize, FacetFruit);

/// Searches running at this moment in this process.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a search in [`RUNNING`] while it lives.
struct Running;

impl Running {
    /// Starts counting; says whether no other search is running.
    fn start() -> (Running, bool) {
        let others = RUNNING.fetch_add(1, AtomicOrdering::Relaxed);
        (Running, others == 0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, AtomicOrdering::Relaxed);
    }
}

fn run(
    searcher: &Searcher,
    executor: &Executor,
    query: &dyn Query,
    limit: usize,
    offset: usize,
) -> Result<Collected, SearchError> {
    let top = TopDocs::with_limit(limit).and_offset(offset).tweak_score(
        move |segment: &SegmentReader| {
            let data = SegmentData::of(segment).ok();
            move |doc: DocId, score: Score| -> RankKey {
                match &data {
                    Some(data) => data.rank(doc, score),
                    None => (1, hundredths(score), 0),
                }
            }
        },
    );
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    Ok(searcher.search_with_executor(query, &(top, Count, FacetCounter), executor, scoring)?)
}

/// Runs a search on a snapshot.
///
/// The segments of a large index are searched in parallel only when no other search is
/// running: then a core is idle and the answer comes sooner. When searches overlap (a busy
/// server) every core already has one, and handing segments to other threads would only
/// add thread switches (about a tenth of the work of a small search).
pub fn search(snapshot: &Snapshot, request: &SearchRequest) -> Result<SearchResults, SearchError> {
    let (index, f) = snapshot.index();
    let (_running, alone) = Running::start();
    let single_thread = Executor::single_thread();
    let executor = if alone {
        index.search_executor()
    } else {
        &single_thread
    };
    let searcher = snapshot.searcher();
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let offset = request.offset;
    let kind_only = request.kind.filter(|_| request.skill.is_none());
    let fields = text_fields(f, kind_only);
    let words = understand(&searcher, &fields, &request.q)?;
    let (every_word, any_word) = build_queries(f, request, &fields, &words);
    let mut collected = None;
    if let Some(query) = every_word {
        let result = run(&searcher, executor, query.as_ref(), limit, offset)?;
        if result.1 > 0 || any_word.is_none() {
            collected = Some(result);
        }
    }
    if collected.is_none()
        && let Some(query) = any_word
    {
        collected = Some(run(&searcher, executor, query.as_ref(), limit, offset)?);
    }
    let (hits, total, counts) = collected.unwrap_or_default();
    let mut users = Vec::with_capacity(hits.len());
    let mut scores = Vec::with_capacity(hits.len());
    for ((_, score_hundredths, _), address) in hits {
        let doc: TantivyDocument = searcher.doc(address)?;
        if let Some(user) = doc.get_first(f.user).and_then(|v| v.as_str()) {
            users.push(user.to_string());
            scores.push(score_hundredths as f32 / 100.0);
        }
    }
    let results = snapshot
        .profiles(&users)?
        .into_iter()
        .zip(scores)
        .filter_map(|(profile, score)| {
            Some(SearchHit {
                profile: profile?,
                score,
            })
        })
        .collect();
    let facets = facet_counts(&counts);
    Ok(SearchResults {
        total,
        results,
        facets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(osa_distance("wikidta", "wikidata"), 1);
        assert_eq!(osa_distance("fundrasing", "fundraising"), 1);
        assert_eq!(osa_distance("transaltion", "translation"), 1);
        assert_eq!(osa_distance("photografy", "photography"), 2);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(bounded_distance("wikidta", "wikidata", 1), 1);
        assert!(bounded_distance("abcdefgh", "uvwxyzab", 2) > 2);
        assert!(bounded_distance("abc", "abcdef", 2) > 2);
        assert_eq!(edit_distance(4), 0);
        assert_eq!(edit_distance(5), 1);
        assert_eq!(edit_distance(9), 2);
    }

    #[test]
    fn stop_words_are_folded() {
        for word in STOP_WORDS {
            let folded: Vec<String> = search_index::analyze(word)
                .into_iter()
                .map(|t| t.text)
                .collect();
            assert_eq!(folded, [word.to_string()], "{word}");
        }
    }
}
