//! The full-text index built into every snapshot generation (tantivy).
//!
//! A profile is found by any name of its skills in any language, by free-text skills, bio,
//! affiliations and user name. The index stores only the user name: the profile itself is
//! read from SQLite, so the two never disagree about what a profile says.

use std::path::Path;

use tantivy::schema::{
    Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer};
use tantivy::{Index, IndexWriter, TantivyDocument};

use crate::profile::{Profile, SkillKind, SkillRef};
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
        self.writer.add_document(doc)?;
        Ok(())
    }

    /// Commits and waits for merges, so that the files on disk are final.
    pub fn finish(mut self) -> tantivy::Result<()> {
        self.writer.commit()?;
        self.writer.wait_merging_threads()
    }
}

/// Opens the index of a published generation for reading.
pub fn open(dir: &Path) -> tantivy::Result<(Index, Fields)> {
    let index = Index::open_in_dir(dir)?;
    register_tokenizers(&index);
    let (_, fields) = schema();
    Ok((index, fields))
}
