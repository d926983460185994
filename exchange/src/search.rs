//! Searching a snapshot: "who can teach me Lua, in a language I speak?"
//!
//! Queries are never handed to tantivy's query parser: the text is cut into words with the
//! index's own analyzer (lower case, accents folded), so stray quotes, colons or brackets are
//! just characters and no input can make a search fail. Every word must match some field
//! (a skill name in any language, free text, bio, affiliation or user name), exactly, one or
//! two edits away for longer words, or as a prefix for the word being typed. If no profile
//! has every word, any word will do.
//!
//! Ranking: skill fields weigh far more than the bio, offered skills more than known ones;
//! equal scores are broken by how recently the profile was updated; paused profiles come
//! last. Filters are exact terms (see `search_index::Fields`), so they do not change scores.

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Score, TantivyDocument, Term};

use crate::geo::Region;
use crate::profile::{Level, Profile, SkillKind};
use crate::search_index::{FOLDED, Fields};
use crate::store::{Snapshot, StoreError};

/// Most results a page may ask for.
pub const MAX_LIMIT: usize = 100;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most words of a query that are used (more add nothing but cost).
const MAX_WORDS: usize = 12;

/// A search, as the API and the search page pass it.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// A taxonomy skill id; matches its sub-skills too.
    pub skill: Option<String>,
    /// With `skill`: which list the skill must be on.
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

/// Text fields and their weights.
fn weighted_fields(f: Fields) -> [(Field, Score); 5] {
    [
        (f.offers, 8.0),
        (f.knows, 4.0),
        (f.wants, 3.0),
        (f.other, 2.0),
        (f.bio, 0.5),
    ]
}

/// How many edits a word may be away: none below five letters, one, two for long words.
fn edit_distance(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

fn word_query(fields: Fields, word: &str, last: bool) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let distance = edit_distance(word);
    for (field, weight) in weighted_fields(fields) {
        let term = Term::from_field_text(field, word);
        let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(exact), weight)),
        ));
        if distance > 0 {
            let fuzzy = FuzzyTermQuery::new(term.clone(), distance, true);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(fuzzy), weight * 0.5)),
            ));
        }
        if last {
            let prefix = FuzzyTermQuery::new_prefix(term, 0, true);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(prefix), weight * 0.6)),
            ));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

fn filter(field: Field, value: &str) -> (Occur, Box<dyn Query>) {
    let term = Term::from_field_text(field, value);
    let query = TermQuery::new(term, IndexRecordOption::Basic);
    (
        Occur::Must,
        Box::new(ConstScoreQuery::new(Box::new(query), 0.0)),
    )
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

/// The words of a query, as the index's analyzer makes them.
fn words(snapshot: &Snapshot, q: &str) -> Vec<String> {
    let (index, _) = snapshot.index();
    let Some(mut analyzer) = index.tokenizers().get(FOLDED) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(q);
    while stream.advance() {
        let word = stream.token().text.clone();
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out.truncate(MAX_WORDS);
    out
}

fn build_query(
    f: Fields,
    words: &[String],
    request: &SearchRequest,
    all_words: bool,
) -> Box<dyn Query> {
    let mut clauses = filters(f, request);
    if words.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    } else {
        let last = words.len() - 1;
        let per_word: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (Occur::Should, word_query(f, w, i == last)))
            .collect();
        if all_words {
            clauses.extend(per_word.into_iter().map(|(_, q)| (Occur::Must, q)));
        } else {
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(per_word))));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

/// Sort key: active before paused, then score (to the hundredth), then recency.
type RankKey = (u64, i64, i64);

/// Runs a search on a snapshot.
pub fn search(snapshot: &Snapshot, request: &SearchRequest) -> Result<SearchResults, SearchError> {
    let (_, f) = snapshot.index();
    let searcher = snapshot.searcher();
    let words = words(snapshot, &request.q);
    let limit = request.limit.clamp(1, MAX_LIMIT);
    let offset = request.offset;
    let collectors = || {
        let top = TopDocs::with_limit(limit).and_offset(offset).tweak_score(
            move |segment: &tantivy::SegmentReader| {
                let fast = segment.fast_fields();
                let active = fast.u64("active").ok().map(|c| c.first_or_default_col(0));
                let updated = fast.i64("updated").ok().map(|c| c.first_or_default_col(0));
                move |doc: tantivy::DocId, score: Score| -> RankKey {
                    let active = active.as_ref().map_or(1, |c| c.get_val(doc));
                    let updated = updated.as_ref().map_or(0, |c| c.get_val(doc));
                    (active, (f64::from(score) * 100.0).round() as i64, updated)
                }
            },
        );
        let mut facets = FacetCollector::for_field("facets");
        for root in FACET_ROOTS {
            facets.add_facet(*root);
        }
        (top, Count, facets)
    };
    let query = build_query(f, &words, request, true);
    let (mut hits, mut total, mut counts) = searcher.search(&query, &collectors())?;
    if total == 0 && words.len() > 1 {
        let any_word = build_query(f, &words, request, false);
        (hits, total, counts) = searcher.search(&any_word, &collectors())?;
    }
    let mut results = Vec::with_capacity(hits.len());
    for ((_, score_hundredths, _), address) in hits.drain(..) {
        if let Some(profile) = profile_at(snapshot, f, address)? {
            results.push(SearchHit {
                profile,
                score: score_hundredths as f32 / 100.0,
            });
        }
    }
    let mut facet_map = BTreeMap::new();
    for root in FACET_ROOTS {
        let mut values: Vec<FacetCount> = counts
            .get(*root)
            .filter_map(|(facet, count)| {
                let value = facet.to_path().last().map(|s| s.to_string())?;
                Some(FacetCount { value, count })
            })
            .collect();
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values.truncate(FACET_VALUES);
        let name = root.trim_start_matches('/').replace('/', "_");
        facet_map.insert(name, values);
    }
    Ok(SearchResults {
        total,
        results,
        facets: facet_map,
    })
}

/// The facet families counted with every search.
const FACET_ROOTS: &[&str] = &[
    "/region",
    "/country",
    "/language",
    "/project",
    "/format",
    "/skill/offers",
    "/skill/wants",
    "/skill/knows",
];
/// Most values returned per facet family.
const FACET_VALUES: usize = 30;

fn profile_at(
    snapshot: &Snapshot,
    f: Fields,
    address: DocAddress,
) -> Result<Option<Profile>, SearchError> {
    let doc: TantivyDocument = snapshot.searcher().doc(address)?;
    let Some(user) = doc.get_first(f.user).and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    Ok(snapshot.profile(user)?)
}
