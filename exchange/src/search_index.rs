//! The full-text index built into every snapshot generation (tantivy).
//!
//! A profile is found by any name of its skills in any language, by free-text skills, bio,
//! affiliations, user name, country, region and the languages spoken. The index stores only
//! the user name: the profile itself is read from SQLite, so the two never disagree about
//! what a profile says. A large index is left in a few segments (about 50,000 profiles
//! each), which search runs in parallel.
//!
//! Every text field goes through one analyzer ([`FOLDED`], see [`analyze`]): words are cut
//! at anything that is not a letter, digit or combining mark; case, Latin/Greek/Cyrillic
//! accents, Hebrew points and Arabic vowel marks are dropped; Arabic letter variants are
//! unified (hamza forms, alef maqsura, ta marbuta, Persian yeh and kaf) and the Arabic
//! article is taken off (`الترجمة` → `ترجمه`). Marks that change letters in other scripts
//! (Indic vowel signs, kana voicing) are kept. Search runs the same function on queries.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use tantivy::index::SegmentId;
use tantivy::indexer::NoMergePolicy;
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Executor, Index, IndexWriter, TantivyDocument};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::geo::find_country;
use crate::languages;
use crate::profile::{Profile, SkillKind, SkillRef, Status};
use crate::taxonomy::Taxonomy;

/// The analyzer of every text field (see the module documentation).
pub const FOLDED: &str = "folded";

/// Words longer than this (in bytes, once folded) are not indexed nor searched: they are
/// URLs or junk, and would make fuzzy matching slow.
const MAX_WORD_BYTES: usize = 80;

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The user name, exactly (stored: search reads it to fetch the profile).
    pub user: Field,
    /// Every label and alias, in every language, of the offered skills, and free text.
    pub offers: Field,
    pub wants: Field,
    pub knows: Field,
    pub bio: Field,
    /// The user name, as words.
    pub name: Field,
    pub affiliation: Field,
    /// Where the person is and what they speak, as words: the country's and the region's
    /// English names, and the English names and autonyms of the languages spoken at level
    /// 2 or more ("Lua Brazil", "mentor español").
    pub context: Field,
    /// Filter terms `<kind>:<skill id>` and `any:<skill id>`, for the skill and every
    /// ancestor, so that filtering on a skill includes its sub-skills.
    pub skill: Field,
    /// Filter terms `<code>:<level>` for every level up to the person's (native = 6), and the
    /// same for the base language (`pt` for `pt-br`): "speaks pt at level 3 or more" is
    /// the one term `pt:3`.
    pub language: Field,
    pub region: Field,
    pub country: Field,
    pub project: Field,
    pub format: Field,
    /// Facets counted with every search: `/region/LAC`, `/language/pt`,
    /// `/skill/<kind>/<id>` (the skill itself, not its ancestors), …
    pub facets: Field,
    /// 1 for active profiles, 0 for paused ones (paused rank last).
    pub active: Field,
    /// When the profile was last updated (seconds since the epoch), to break ties.
    pub updated: Field,
}

const FIELD_NAMES: [&str; 17] = [
    "user",
    "offers",
    "wants",
    "knows",
    "bio",
    "name",
    "affiliation",
    "context",
    "skill",
    "language",
    "region",
    "country",
    "project",
    "format",
    "facets",
    "active",
    "updated",
];

impl Fields {
    /// The field that holds skills of `kind`.
    pub fn of_kind(&self, kind: SkillKind) -> Field {
        match kind {
            SkillKind::Offers => self.offers,
            SkillKind::Wants => self.wants,
            SkillKind::Knows => self.knows,
        }
    }

    fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let get = |name: &str| schema.get_field(name);
        Ok(Fields {
            user: get(FIELD_NAMES[0])?,
            offers: get(FIELD_NAMES[1])?,
            wants: get(FIELD_NAMES[2])?,
            knows: get(FIELD_NAMES[3])?,
            bio: get(FIELD_NAMES[4])?,
            name: get(FIELD_NAMES[5])?,
            affiliation: get(FIELD_NAMES[6])?,
            context: get(FIELD_NAMES[7])?,
            skill: get(FIELD_NAMES[8])?,
            language: get(FIELD_NAMES[9])?,
            region: get(FIELD_NAMES[10])?,
            country: get(FIELD_NAMES[11])?,
            project: get(FIELD_NAMES[12])?,
            format: get(FIELD_NAMES[13])?,
            facets: get(FIELD_NAMES[14])?,
            active: get(FIELD_NAMES[15])?,
            updated: get(FIELD_NAMES[16])?,
        })
    }
}

/// The schema, with the field handles.
pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Search scores are constant per field (see `search`), so neither term frequencies
    // nor positions are needed.
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FOLDED)
            .set_index_option(IndexRecordOption::Basic),
    );
    builder.add_text_field("user", STRING | STORED);
    for name in [
        "offers",
        "wants",
        "knows",
        "bio",
        "name",
        "affiliation",
        "context",
    ] {
        builder.add_text_field(name, text.clone());
    }
    for name in [
        "skill", "language", "region", "country", "project", "format",
    ] {
        builder.add_text_field(name, STRING);
    }
    builder.add_facet_field("facets", FacetOptions::default());
    builder.add_u64_field("active", INDEXED | FAST);
    builder.add_i64_field("updated", FAST);
    let schema = builder.build();
    let fields = Fields::from_schema(&schema).expect("the schema has every field");
    (schema, fields)
}

fn register_tokenizers(index: &Index) {
    index.tokenizers().register(FOLDED, WordTokenizer);
}

// ---------------------------------------------------------------------------
// The analyzer
// ---------------------------------------------------------------------------

/// Marks that are accents or vowel points, dropped when folding. Marks of other scripts
/// (Indic vowel signs, Thai, kana voicing, …) are part of the letter and kept.
fn is_foldable_mark(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F        // combining diacritics (Latin, Greek, Cyrillic)
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x20D0..=0x20FF
        | 0xFE20..=0xFE2F
        | 0x0591..=0x05BD      // Hebrew points and cantillation
        | 0x05BF
        | 0x05C1..=0x05C2
        | 0x05C4..=0x05C5
        | 0x05C7
        | 0x0610..=0x061A      // Arabic honorifics and small marks
        | 0x064B..=0x065F      // Arabic harakat, shadda, sukun, hamza marks
        | 0x0670               // superscript alef
        | 0x06D6..=0x06DC
        | 0x06DF..=0x06E8
        | 0x06EA..=0x06ED
    )
}

/// Characters inside words that are dropped: tatweel, zero-width (non-)joiners, soft hyphen.
fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{0640}' | '\u{200C}' | '\u{200D}' | '\u{00AD}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c) || is_ignorable(c)
}

/// Pushes the folded form of one (already decomposed, lower-cased) character.
fn push_folded(c: char, out: &mut String) {
    match c {
        // Arabic letter variants (hamza forms are decomposed and their marks dropped).
        'ٱ' => out.push('ا'),
        'ى' | 'ی' | 'ې' => out.push('ي'),
        'ة' | 'ۀ' | 'ہ' => out.push('ه'),
        'ک' => out.push('ك'),
        // Arabic-Indic and Persian digits.
        '\u{0660}'..='\u{0669}' => out.push(char::from(b'0' + (c as u32 - 0x0660) as u8)),
        '\u{06F0}'..='\u{06F9}' => out.push(char::from(b'0' + (c as u32 - 0x06F0) as u8)),
        // Latin letters that do not decompose.
        'ß' => out.push_str("ss"),
        'æ' => out.push_str("ae"),
        'œ' => out.push_str("oe"),
        'þ' => out.push_str("th"),
        'ø' => out.push('o'),
        'ł' => out.push('l'),
        'đ' | 'ð' => out.push('d'),
        'ı' => out.push('i'),
        'ħ' => out.push('h'),
        'ŧ' => out.push('t'),
        'ŀ' => out.push('l'),
        _ => out.push(c),
    }
}

/// The Arabic article and the particles written with it, longest first.
const ARABIC_ARTICLES: [&str; 6] = ["وال", "بال", "كال", "فال", "لل", "ال"];

/// Words remembered per thread by [`fold_word`] before the memory starts over.
const FOLD_MEMORY: usize = 50_000;

thread_local! {
    /// Non-ASCII words already folded. Indexing repeats the same words endlessly (every
    /// profile carries its skills' labels in every language), and folding one costs two
    /// Unicode normalisations: remembering them took the import's biggest cost away.
    static FOLD_CACHE: std::cell::RefCell<std::collections::HashMap<String, String>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Folds one word (see the module documentation). May return an empty string.
pub fn fold_word(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    FOLD_CACHE.with_borrow_mut(|memory| {
        if let Some(folded) = memory.get(word) {
            return folded.clone();
        }
        if memory.len() >= FOLD_MEMORY {
            memory.clear();
        }
        let folded = fold_non_ascii(word);
        memory.insert(word.to_string(), folded.clone());
        folded
    })
}

/// [`fold_word`] without its memory.
fn fold_non_ascii(word: &str) -> String {
    let mut folded = String::with_capacity(word.len());
    for c in word.nfd() {
        if is_foldable_mark(c) || is_ignorable(c) {
            continue;
        }
        for lower in c.to_lowercase() {
            push_folded(lower, &mut folded);
        }
    }
    let mut out: String = folded.nfc().collect();
    for article in ARABIC_ARTICLES {
        if let Some(rest) = out.strip_prefix(article)
            && rest.chars().count() >= 2
        {
            out = rest.to_string();
            break;
        }
    }
    out
}

/// The words of a text as the index sees them, with their byte offsets in `text`.
pub fn analyze(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    let push = |from: usize, to: usize, tokens: &mut Vec<Token>| {
        let folded = fold_word(&text[from..to]);
        if !folded.is_empty() && folded.len() <= MAX_WORD_BYTES {
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position: tokens.len(),
                text: folded,
                position_length: 1,
            });
        }
    };
    for (i, c) in text.char_indices() {
        match (is_word_char(c), start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                push(from, i, &mut tokens);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        push(from, text.len(), &mut tokens);
    }
    tokens
}

/// [`analyze`] as a tantivy tokenizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordTokenizer;

/// The words of one text, produced by [`WordTokenizer`].
pub struct WordStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        WordStream {
            tokens: analyze(text).into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

// ---------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------

/// Documents written between commits while building (each commit makes a segment).
const DOCS_PER_COMMIT: u64 = 10_000;
/// About how many documents a finished segment holds: search runs the segments of an
/// index in parallel, so a large index is left in a few segments rather than one.
const DOCS_PER_SEGMENT: u64 = 50_000;
/// Most segments a finished index has.
const MAX_SEGMENTS: u64 = 8;

/// Writes the index of a generation being built.
pub struct IndexBuilder {
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    added: u64,
}

impl IndexBuilder {
    pub fn create(dir: &Path) -> tantivy::Result<IndexBuilder> {
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        register_tokenizers(&index);
        let writer = index.writer_with_num_threads(1, 64_000_000)?;
        // `finish` decides how segments are merged.
        writer.set_merge_policy(Box::new(NoMergePolicy));
        Ok(IndexBuilder {
            index,
            writer,
            fields,
            added: 0,
        })
    }

    pub fn add(&mut self, profile: &Profile, taxonomy: &Taxonomy) -> tantivy::Result<()> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.user, &profile.user);
        doc.add_text(f.name, &profile.user);
        for kind in SkillKind::ALL {
            let field = f.of_kind(kind);
            for skill in profile.skills(kind) {
                match skill {
                    SkillRef::Known { id, .. } => {
                        if let Some(skill) = taxonomy.get(id) {
                            for name in skill
                                .labels
                                .values()
                                .chain(skill.aliases.values().flatten())
                            {
                                doc.add_text(field, name);
                            }
                        }
                    }
                    SkillRef::Free { text } => doc.add_text(field, text),
                }
            }
        }
        if let Some(bio) = &profile.bio {
            doc.add_text(f.bio, bio);
        }
        for affiliation in &profile.affiliations {
            doc.add_text(f.affiliation, affiliation);
        }
        if let Some(country) = profile.country.as_deref().and_then(find_country) {
            doc.add_text(f.context, &country.name);
        }
        if let Some(region) = profile.region {
            doc.add_text(f.context, region.english_name());
        }
        for spoken in profile.languages.iter().filter(|l| l.level.rank() >= 2) {
            if let Some(info) = languages::language(&spoken.code) {
                doc.add_text(f.context, &info.name);
                doc.add_text(f.context, &info.autonym);
            }
        }
        add_filters(&mut doc, f, profile, taxonomy);
        if let Err(e) = self.writer.add_document(doc) {
            // The indexing thread failed (a full disk, say) and the writer only says that
            // it was stopped; joining the thread, as a commit does, gives its own error.
            return Err(self.writer.commit().err().unwrap_or(e));
        }
        self.added += 1;
        if self.added.is_multiple_of(DOCS_PER_COMMIT) {
            self.writer.commit()?;
        }
        Ok(())
    }

    /// Commits, merges the segments into one per `DOCS_PER_SEGMENT` documents (at most
    /// `MAX_SEGMENTS`), and waits for the merges, so that the files on disk are final.
    pub fn finish(mut self) -> tantivy::Result<()> {
        self.writer.commit()?;
        let metas = self.index.searchable_segment_metas()?;
        let total: u64 = metas.iter().map(|m| u64::from(m.num_docs())).sum();
        let parts = total.div_ceil(DOCS_PER_SEGMENT).clamp(1, MAX_SEGMENTS);
        let mut groups: Vec<Vec<SegmentId>> = vec![Vec::new()];
        let mut in_group = 0u64;
        for meta in &metas {
            if in_group * parts >= total && (groups.len() as u64) < parts {
                groups.push(Vec::new());
                in_group = 0;
            }
            if let Some(group) = groups.last_mut() {
                group.push(meta.id());
            }
            in_group += u64::from(meta.num_docs());
        }
        for group in groups.iter().filter(|g| g.len() > 1) {
            self.writer.merge(group).wait()?;
        }
        // The merged segments' files are not part of the index any more.
        self.writer.garbage_collect_files().wait()?;
        self.writer.wait_merging_threads()
    }
}

/// The base language of a code (`pt` for `pt-br`), when it differs.
pub fn base_language(code: &str) -> Option<&str> {
    code.split_once('-').map(|(base, _)| base)
}

/// The facet of a skill on a profile's list: `/skill/<kind>/<id>`.
pub fn skill_facet(kind: SkillKind, id: &str) -> Facet {
    Facet::from_path(["skill", kind.as_str(), id])
}

fn add_filters(doc: &mut TantivyDocument, f: Fields, profile: &Profile, taxonomy: &Taxonomy) {
    let mut skill_terms = BTreeSet::new();
    let mut skill_facets = BTreeSet::new();
    for kind in SkillKind::ALL {
        for skill in profile.skills(kind) {
            if let SkillRef::Known { id, .. } = skill {
                let mut current = taxonomy.get(id);
                while let Some(s) = current {
                    skill_terms.insert(format!("{}:{}", kind.as_str(), s.id));
                    skill_terms.insert(format!("any:{}", s.id));
                    current = s.parent.as_deref().and_then(|p| taxonomy.get(p));
                }
                skill_facets.insert((kind, id.as_str()));
            }
        }
    }
    for term in skill_terms {
        doc.add_text(f.skill, term);
    }
    for (kind, id) in skill_facets {
        doc.add_facet(f.facets, skill_facet(kind, id));
    }
    let mut language_terms = BTreeSet::new();
    let mut language_facets = BTreeSet::new();
    for language in &profile.languages {
        let codes = std::iter::once(language.code.as_str()).chain(base_language(&language.code));
        for code in codes {
            for level in 0..=language.level.rank() {
                language_terms.insert(format!("{code}:{level}"));
            }
        }
        if language.level.rank() >= 2 {
            language_facets.insert(language.code.as_str());
        }
    }
    for term in language_terms {
        doc.add_text(f.language, term);
    }
    for code in language_facets {
        doc.add_facet(f.facets, Facet::from_path(["language", code]));
    }
    if let Some(region) = profile.region {
        doc.add_text(f.region, region.code());
        doc.add_facet(f.facets, Facet::from_path(["region", region.code()]));
    }
    if let Some(country) = &profile.country {
        doc.add_text(f.country, country);
        doc.add_facet(f.facets, Facet::from_path(["country", country.as_str()]));
    }
    for project in &profile.projects {
        doc.add_text(f.project, project);
        doc.add_facet(f.facets, Facet::from_path(["project", project.as_str()]));
    }
    for format in &profile.formats {
        doc.add_text(f.format, format);
        doc.add_facet(f.facets, Facet::from_path(["format", format.as_str()]));
    }
    doc.add_u64(f.active, u64::from(profile.status == Status::Active));
    doc.add_i64(f.updated, profile.updated.map_or(0, |t| t.timestamp()));
}

/// The threads that search the segments of an index in parallel, shared by every index
/// the process opens. `None` on a single core (or when no thread could be started).
fn search_threads() -> Option<Executor> {
    static EXECUTOR: OnceLock<Option<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let threads = cores.min(MAX_SEGMENTS as usize);
            (threads > 1)
                .then(|| Executor::multi_thread(threads, "capx-search-").ok())
                .flatten()
        })
        .clone()
}

/// Opens the index of a published generation for reading. The field handles are looked
/// up by name, so an index of another layout is an error rather than wrong answers.
pub fn open(dir: &Path) -> tantivy::Result<(Index, Fields)> {
    let mut index = Index::open_in_dir(dir)?;
    register_tokenizers(&index);
    let fields = Fields::from_schema(&index.schema())?;
    if index.searchable_segment_ids()?.len() > 1
        && let Some(executor) = search_threads()
    {
        index.set_executor(executor);
    }
    Ok((index, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(words("Módulos Lua"), ["modulos", "lua"]);
        assert_eq!(
            words("ÉDITATHONS, Übersetzung!"),
            ["editathons", "ubersetzung"]
        );
        assert_eq!(words("Straße Łódź Ærø"), ["strasse", "lodz", "aero"]);
        // Decomposed input is one word too.
        assert_eq!(words("Mo\u{301}dulos"), ["modulos"]);
        assert_eq!(words("Tôi dạy Wikidata"), ["toi", "day", "wikidata"]);
    }

    #[test]
    fn normalises_arabic() {
        assert_eq!(words("وحدات لوا"), ["وحدات", "لوا"]);
        // Article, ta marbuta, hamza forms and vowel marks.
        assert_eq!(words("الترجمة"), words("ترجمة"));
        assert_eq!(words("تَرْجَمَة"), words("ترجمه"));
        assert_eq!(words("أداة"), words("اداه"));
        assert_eq!(words("إدارة"), words("ادارة"));
        assert_eq!(words("مستشفى"), words("مستشفي"));
        assert_eq!(words("للتحرير"), words("تحرير"));
        assert_eq!(words("كتـــابة"), words("كتابة"));
        // A short word keeps what looks like an article.
        assert_eq!(words("الم"), ["الم"]);
    }

    #[test]
    fn keeps_letters_of_other_scripts() {
        assert_eq!(words("हिंदी विकिपीडिया"), ["हिंदी", "विकिपीडिया"]);
        assert_eq!(words("위키백과 편집"), ["위키백과", "편집"]);
        assert_eq!(words("ウィキペディア"), ["ウィキペディア"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "  Lua-Module (Scribunto)";
        let tokens = analyze(text);
        let pieces: Vec<&str> = tokens
            .iter()
            .map(|t| &text[t.offset_from..t.offset_to])
            .collect();
        assert_eq!(pieces, ["Lua", "Module", "Scribunto"]);
        assert!(analyze("\"(((*:\\").is_empty());
        assert!(analyze(&"x".repeat(200)).is_empty());
    }

    #[test]
    fn every_field_is_named() {
        let (schema, _) = schema();
        assert_eq!(schema.fields().count(), FIELD_NAMES.len());
    }
}
