//! The full-text index built into every snapshot generation (tantivy).
//!
//! A profile is found by any name of its skills in any language, by free-text skills, bio,
//! affiliations and user name. The index stores only the user name: the profile itself is
//! read from SQLite, so the two never disagree about what a profile says.

use std::path::Path;

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::profile::{Profile, SkillKind, SkillRef, Status};
use crate::taxonomy::Taxonomy;

/// The analyzer for every text field: words, lower case, accents folded.
pub const FOLDED: &str = "folded";

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub user: Field,
    pub offers: Field,
    pub wants: Field,
    pub knows: Field,
    pub bio: Field,
    pub other: Field,
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
    /// Facets counted with every search: `/region/LAC`, `/language/pt`, `/skill/<id>`, …
    pub facets: Field,
    /// 1 for active profiles, 0 for paused ones (paused rank last).
    pub active: Field,
    /// When the profile was last updated (seconds since the epoch), to break ties.
    pub updated: Field,
}

/// The schema, built the way tantivy's examples do, with the field handles.
pub fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(FOLDED)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        user: builder.add_text_field("user", STRING | STORED),
        offers: builder.add_text_field("offers", text.clone()),
        wants: builder.add_text_field("wants", text.clone()),
        knows: builder.add_text_field("knows", text.clone()),
        bio: builder.add_text_field("bio", text.clone()),
        other: builder.add_text_field("other", text),
        skill: builder.add_text_field("skill", STRING),
        language: builder.add_text_field("language", STRING),
        region: builder.add_text_field("region", STRING),
        country: builder.add_text_field("country", STRING),
        project: builder.add_text_field("project", STRING),
        format: builder.add_text_field("format", STRING),
        facets: builder.add_facet_field("facets", FacetOptions::default()),
        active: builder.add_u64_field("active", INDEXED | FAST),
        updated: builder.add_i64_field("updated", FAST),
    };
    (builder.build(), fields)
}

fn register_tokenizers(index: &Index) {
    index.tokenizers().register(
        FOLDED,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
}

/// Writes the index of a generation being built.
pub struct IndexBuilder {
    writer: IndexWriter,
    fields: Fields,
}

impl IndexBuilder {
    pub fn create(dir: &Path) -> tantivy::Result<IndexBuilder> {
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        register_tokenizers(&index);
        let writer = index.writer_with_num_threads(1, 64_000_000)?;
        Ok(IndexBuilder { writer, fields })
    }

    pub fn add(&mut self, profile: &Profile, taxonomy: &Taxonomy) -> tantivy::Result<()> {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.user, &profile.user);
        for kind in SkillKind::ALL {
            let field = match kind {
                SkillKind::Offers => f.offers,
                SkillKind::Wants => f.wants,
                SkillKind::Knows => f.knows,
            };
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
        doc.add_text(f.other, &profile.user);
        for affiliation in &profile.affiliations {
            doc.add_text(f.other, affiliation);
        }
        add_filters(&mut doc, f, profile, taxonomy);
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Commits and waits for merges, so that the files on disk are final.
    pub fn finish(mut self) -> tantivy::Result<()> {
        self.writer.commit()?;
        self.writer.wait_merging_threads()
    }
}

/// The base language of a code (`pt` for `pt-br`), when it differs.
pub fn base_language(code: &str) -> Option<&str> {
    code.split_once('-').map(|(base, _)| base)
}

fn add_filters(doc: &mut TantivyDocument, f: Fields, profile: &Profile, taxonomy: &Taxonomy) {
    let mut skill_terms = std::collections::BTreeSet::new();
    let mut skill_facets = std::collections::BTreeSet::new();
    for kind in SkillKind::ALL {
        for skill in profile.skills(kind) {
            if let SkillRef::Known { id, .. } = skill {
                let mut current = taxonomy.get(id);
                while let Some(s) = current {
                    skill_terms.insert(format!("{}:{}", kind.as_str(), s.id));
                    skill_terms.insert(format!("any:{}", s.id));
                    current = s.parent.as_deref().and_then(|p| taxonomy.get(p));
                }
                skill_facets.insert(format!("{}/{id}", kind.as_str()));
            }
        }
    }
    for term in skill_terms {
        doc.add_text(f.skill, term);
    }
    for facet in skill_facets {
        if let Some((kind, id)) = facet.split_once('/') {
            doc.add_facet(f.facets, Facet::from_path(["skill", kind, id]));
        }
    }
    let mut language_terms = std::collections::BTreeSet::new();
    for language in &profile.languages {
        let codes = std::iter::once(language.code.as_str()).chain(base_language(&language.code));
        for code in codes {
            for level in 0..=language.level.rank() {
                language_terms.insert(format!("{code}:{level}"));
            }
        }
        if language.level.rank() >= 2 {
            doc.add_facet(
                f.facets,
                Facet::from_path(["language", language.code.as_str()]),
            );
        }
    }
    for term in language_terms {
        doc.add_text(f.language, term);
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

/// Opens the index of a published generation for reading.
pub fn open(dir: &Path) -> tantivy::Result<(Index, Fields)> {
    let index = Index::open_in_dir(dir)?;
    register_tokenizers(&index);
    let (_, fields) = schema();
    Ok((index, fields))
}
