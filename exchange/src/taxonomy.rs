//! The skill taxonomy: a tree of skills with labels and aliases in many languages.
//!
//! People write skills in their own words and language; the taxonomy is what lets "Módulos
//! Lua", "Lua" and "وحدات لوا" count as one skill. It is data (`data/taxonomy.json`, a flat
//! list with parent links, the shape a JSON page on a wiki could carry), checked when loaded:
//! ids unique, parents known, at most three levels, and no name that means two skills.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text_key::fold;

/// The deepest a skill may sit: root category → skill → sub-skill.
pub const MAX_DEPTH: usize = 3;

/// One skill of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    /// Stable id, used in URLs, the API and the database.
    pub id: String,
    pub parent: Option<String>,
    /// Label per language code.
    pub labels: BTreeMap<String, String>,
    /// Other names per language code.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// The Wikidata item of the skill, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wikidata: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    version: u32,
    skills: Vec<Skill>,
}

/// Why a taxonomy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("the taxonomy is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("skill id {0:?} appears twice")]
    DuplicateId(String),
    #[error("skill id {0:?} is not lower-case kebab-case")]
    BadId(String),
    #[error("skill {id:?} names parent {parent:?}, which is not listed before it")]
    UnknownParent { id: String, parent: String },
    #[error("skill {0:?} is deeper than {MAX_DEPTH} levels")]
    TooDeep(String),
    #[error("skill {0:?} has no English label")]
    NoEnglishLabel(String),
    #[error("the name {name:?} means both {first:?} and {second:?}")]
    AmbiguousName {
        name: String,
        first: String,
        second: String,
    },
}

/// The loaded, checked taxonomy with its lookup tables.
#[derive(Debug)]
pub struct Taxonomy {
    version: u32,
    skills: Vec<Skill>,
    by_id: HashMap<String, usize>,
    by_name: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    depth: Vec<usize>,
}

impl Taxonomy {
    /// The taxonomy bundled with the program.
    pub fn bundled() -> &'static Taxonomy {
        static BUNDLED: OnceLock<Taxonomy> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            // The bundled file is part of the program and checked by a unit test.
            Taxonomy::from_json(include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/taxonomy.json"
            )))
            .expect("the bundled taxonomy is valid")
        })
    }

    /// Loads and checks a taxonomy in the bundled JSON format.
    pub fn from_json(json: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_json::from_str(json)?;
        let mut by_id = HashMap::new();
        let mut depth = Vec::with_capacity(file.skills.len());
        let mut children = vec![Vec::new(); file.skills.len()];
        for (index, skill) in file.skills.iter().enumerate() {
            let id_ok = !skill.id.is_empty()
                && skill
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                return Err(TaxonomyError::BadId(skill.id.clone()));
            }
            if by_id.insert(skill.id.clone(), index).is_some() {
                return Err(TaxonomyError::DuplicateId(skill.id.clone()));
            }
            if !skill.labels.contains_key("en") {
                return Err(TaxonomyError::NoEnglishLabel(skill.id.clone()));
            }
            let level = match &skill.parent {
                None => 1,
                Some(parent) => {
                    let parent_index =
                        *by_id.get(parent).filter(|&&p| p != index).ok_or_else(|| {
                            TaxonomyError::UnknownParent {
                                id: skill.id.clone(),
                                parent: parent.clone(),
                            }
                        })?;
                    children[parent_index].push(index);
                    depth[parent_index] + 1
                }
            };
            if level > MAX_DEPTH {
                return Err(TaxonomyError::TooDeep(skill.id.clone()));
            }
            depth.push(level);
        }
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (index, skill) in file.skills.iter().enumerate() {
            let names = std::iter::once(skill.id.replace('-', " "))
                .chain(skill.labels.values().cloned())
                .chain(skill.aliases.values().flatten().cloned());
            for name in names {
                let key = fold(&name);
                if key.is_empty() {
                    continue;
                }
                match by_name.get(&key) {
                    Some(&other) if other != index => {
                        return Err(TaxonomyError::AmbiguousName {
                            name,
                            first: file.skills[other].id.clone(),
                            second: skill.id.clone(),
                        });
                    }
                    _ => {
                        by_name.insert(key, index);
                    }
                }
            }
        }
        Ok(Taxonomy {
            version: file.version,
            skills: file.skills,
            by_id,
            by_name,
            children,
            depth,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every skill, parents before their children.
    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    pub fn get(&self, id: &str) -> Option<&Skill> {
        self.by_id.get(id).map(|&i| &self.skills[i])
    }

    /// The skill an item of a profile names: by id, label or alias in any language,
    /// ignoring case, accents and punctuation. `None` means free text.
    pub fn resolve(&self, item: &str) -> Option<&Skill> {
        let key = fold(item);
        if key.is_empty() {
            return None;
        }
        self.by_name.get(&key).map(|&i| &self.skills[i])
    }

    /// The label in `lang`, falling back to English.
    pub fn label<'a>(&'a self, skill: &'a Skill, lang: &str) -> &'a str {
        skill
            .labels
            .get(lang)
            .or_else(|| skill.labels.get("en"))
            .map_or(skill.id.as_str(), String::as_str)
    }

    /// 1 for a root category, 2 for its skills, 3 for their sub-skills.
    pub fn depth(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).map(|&i| self.depth[i])
    }

    /// The root category a skill belongs to (itself for a root).
    pub fn root<'a>(&'a self, id: &str) -> Option<&'a Skill> {
        let mut skill = self.get(id)?;
        while let Some(parent) = skill.parent.as_deref().and_then(|p| self.get(p)) {
            skill = parent;
        }
        Some(skill)
    }

    /// The skills directly under `id`.
    pub fn children(&self, id: &str) -> Vec<&Skill> {
        self.by_id.get(id).map_or_else(Vec::new, |&i| {
            self.children[i].iter().map(|&c| &self.skills[c]).collect()
        })
    }

    /// `id` and everything below it.
    pub fn subtree(&self, id: &str) -> Vec<&Skill> {
        let mut out = Vec::new();
        let mut stack: Vec<usize> = self.by_id.get(id).copied().into_iter().collect();
        while let Some(i) = stack.pop() {
            out.push(&self.skills[i]);
            stack.extend(self.children[i].iter().rev());
        }
        out
    }

    /// The root categories, in file order.
    pub fn roots(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter().filter(|s| s.parent.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_taxonomy_is_valid_and_large_enough() {
        let t = Taxonomy::from_json(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/taxonomy.json"
        )))
        .unwrap();
        assert!(t.skills().len() >= 120, "{} skills", t.skills().len());
        for skill in t.skills() {
            for lang in ["en", "pt", "es", "fr", "de", "ar"] {
                assert!(
                    skill.labels.get(lang).is_some_and(|l| !l.trim().is_empty()),
                    "{} has no {lang} label",
                    skill.id
                );
            }
        }
        assert!(t.roots().count() >= 7);
    }

    #[test]
    fn items_resolve_by_id_label_or_alias_in_any_language() {
        let t = Taxonomy::bundled();
        let lua = t.resolve("Lua").expect("Lua resolves").id.clone();
        assert_eq!(t.resolve("módulos lua").map(|s| &s.id), Some(&lua));
        assert_eq!(t.resolve("MODULOS LUA").map(|s| &s.id), Some(&lua));
        assert_eq!(t.resolve("وحدات لوا").map(|s| &s.id), Some(&lua));
        assert_eq!(t.resolve(&lua).map(|s| &s.id), Some(&lua));
        for item in [
            "Wikidata queries",
            "event organizing",
            "grant writing",
            "Commons batch uploads",
            "Wikidata",
            "SPARQL",
        ] {
            assert!(t.resolve(item).is_some(), "{item}");
        }
        assert!(t.resolve("basket weaving with goats").is_none());
    }

    #[test]
    fn tree_navigation() {
        let t = Taxonomy::bundled();
        let lua = t.resolve("Lua").unwrap();
        let root = t.root(&lua.id).unwrap();
        assert!(root.parent.is_none());
        assert!(t.subtree(&root.id).iter().any(|s| s.id == lua.id));
        assert!(t.depth(&lua.id).unwrap() >= 2);
    }

    #[test]
    fn bad_taxonomies_are_refused_with_a_reason() {
        let dup = r#"{"version":1,"skills":[{"id":"a","parent":null,"labels":{"en":"A"}},{"id":"a","parent":null,"labels":{"en":"B"}}]}"#;
        assert!(matches!(
            Taxonomy::from_json(dup),
            Err(TaxonomyError::DuplicateId(_))
        ));
        let ambiguous = r#"{"version":1,"skills":[{"id":"a","parent":null,"labels":{"en":"Same"}},{"id":"b","parent":null,"labels":{"en":"same!"}}]}"#;
        assert!(matches!(
            Taxonomy::from_json(ambiguous),
            Err(TaxonomyError::AmbiguousName { .. })
        ));
        let deep = r#"{"version":1,"skills":[{"id":"a","parent":null,"labels":{"en":"A"}},{"id":"b","parent":"a","labels":{"en":"B"}},{"id":"c","parent":"b","labels":{"en":"C"}},{"id":"d","parent":"c","labels":{"en":"D"}}]}"#;
        assert!(matches!(
            Taxonomy::from_json(deep),
            Err(TaxonomyError::TooDeep(_))
        ));
        let orphan = r#"{"version":1,"skills":[{"id":"b","parent":"a","labels":{"en":"B"}}]}"#;
        assert!(matches!(
            Taxonomy::from_json(orphan),
            Err(TaxonomyError::UnknownParent { .. })
        ));
    }
}
