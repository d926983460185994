//! From harvested pages to the rows of a generation: one profile per person.
//!
//! A person may carry the template on several pages (`User:Ana` and `User:Ana/Profile`).
//! Exactly one is used: the root user page if it has a profile, otherwise the first subpage
//! by title, so the choice does not flip from one run to the next. The others are kept in the
//! `pages` table with a warning.

use std::collections::BTreeMap;

use crate::harvest::{Harvest, PageHistory, Skip};
use crate::parse::ParsedPage;
use crate::profile::{Profile, Warning};
use crate::store::{GenerationBuilder, PageRecord, ProfileRecord, StoreError};

const DUPLICATE_SUFFIX: &str = ", which is the one used";

#[derive(Debug)]
struct Entry {
    title: String,
    page_id: Option<u64>,
    latest_revid: Option<u64>,
    harvest: Harvest,
}

/// Counts of what a run found, for logs and `--summary-json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CollectionStats {
    pub pages: u64,
    pub profiles: u64,
    pub warnings: u64,
    /// Pages that gave no profile, by reason.
    pub skipped: BTreeMap<String, u64>,
}

/// Harvested pages waiting to be written.
#[derive(Debug, Default)]
pub struct Collection {
    entries: Vec<Entry>,
}

impl Collection {
    pub fn new() -> Collection {
        Collection::default()
    }

    pub fn add(&mut self, page: &PageHistory, harvest: Harvest) {
        self.entries.push(Entry {
            title: page.title.clone(),
            page_id: page.page_id,
            latest_revid: page.latest.as_ref().map(|r| r.revid),
            harvest,
        });
    }

    /// Adds a page that was not re-read: its record, profile and warnings as the previous
    /// generation had them.
    pub fn add_carried(
        &mut self,
        record: &PageRecord,
        profile: Option<Profile>,
        mut warnings: Vec<Warning>,
    ) {
        // The duplicate-page warning is made anew by `write`.
        warnings.retain(|w| !w.message.ends_with(DUPLICATE_SUFFIX));
        let outcome = match profile {
            Some(profile) => Ok(ParsedPage {
                profile: Some(profile),
                warnings,
            }),
            None => Err(Skip::Unchanged),
        };
        self.entries.push(Entry {
            title: record.title.clone(),
            page_id: record.page_id,
            latest_revid: record.latest_revid,
            harvest: Harvest {
                owner: record.owner.clone(),
                outcome,
                transcludes: true,
            },
        });
    }

    /// Hides the profiles of blocked users (their pages stay recorded).
    pub fn apply_blocks(&mut self, blocked: &dyn Fn(&str) -> bool) {
        for entry in &mut self.entries {
            let owner_blocked = entry.harvest.owner.as_deref().is_some_and(blocked);
            if owner_blocked && entry.harvest.outcome.is_ok() {
                entry.harvest.outcome = Err(Skip::Blocked);
            }
        }
    }

    /// The owners of the pages that give a profile.
    pub fn owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = (0..self.entries.len())
            .filter_map(|i| self.profile_of(i).map(|p| p.user.clone()))
            .collect();
        owners.sort();
        owners.dedup();
        owners
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The profiles that will be published, one per user, sorted by user.
    pub fn profiles(&self) -> Vec<&Profile> {
        self.chosen()
            .into_values()
            .filter_map(|i| self.profile_of(i))
            .collect()
    }

    fn profile_of(&self, index: usize) -> Option<&Profile> {
        self.entries[index]
            .harvest
            .outcome
            .as_ref()
            .ok()
            .and_then(|p| p.profile.as_ref())
    }

    /// For each user, the index of the entry whose profile is used.
    fn chosen(&self) -> BTreeMap<String, usize> {
        let mut chosen: BTreeMap<String, usize> = BTreeMap::new();
        for (index, entry) in self.entries.iter().enumerate() {
            let Some(profile) = self.profile_of(index) else {
                continue;
            };
            let root = !entry.title.contains('/');
            match chosen.get(&profile.user) {
                Some(&other) => {
                    let other_root = !self.entries[other].title.contains('/');
                    let better = (root && !other_root)
                        || (root == other_root && entry.title < self.entries[other].title);
                    if better {
                        chosen.insert(profile.user.clone(), index);
                    }
                }
                None => {
                    chosen.insert(profile.user.clone(), index);
                }
            }
        }
        chosen
    }

    /// Writes pages, profiles and warnings into a generation.
    pub fn write(
        self,
        builder: &mut GenerationBuilder,
        accepts_email: &dyn Fn(&str) -> bool,
    ) -> Result<CollectionStats, StoreError> {
        let chosen = self.chosen();
        let mut stats = CollectionStats::default();
        let mut order: Vec<usize> = (0..self.entries.len()).collect();
        order.sort_by(|&a, &b| self.entries[a].title.cmp(&self.entries[b].title));
        for index in order {
            let entry = &self.entries[index];
            let (warnings, profile) = match &entry.harvest.outcome {
                Ok(parsed) => (parsed.warnings.clone(), parsed.profile.as_ref()),
                Err(skip) => {
                    *stats
                        .skipped
                        .entry(skip.describe().to_string())
                        .or_default() += 1;
                    (Vec::new(), None)
                }
            };
            let used = profile.filter(|p| chosen.get(&p.user) == Some(&index));
            if entry.harvest.transcludes || used.is_some() {
                builder.add_page(&PageRecord {
                    title: entry.title.clone(),
                    page_id: entry.page_id,
                    owner: entry.harvest.owner.clone(),
                    latest_revid: entry.latest_revid,
                    profile_user: used.map(|p| p.user.clone()),
                })?;
                stats.pages += 1;
            }
            let revid = profile.map(|p| p.revid);
            let mut warnings = warnings;
            if let (Some(p), None) = (profile, used) {
                let winner = chosen
                    .get(&p.user)
                    .map(|&i| self.entries[i].title.as_str())
                    .unwrap_or("another page");
                warnings.push(Warning::new(
                    None,
                    format!(
                        "{} also has a profile on {winner}{DUPLICATE_SUFFIX}",
                        p.user
                    ),
                ));
                *stats
                    .skipped
                    .entry("another page of the same user is used".to_string())
                    .or_default() += 1;
            }
            for warning in &warnings {
                builder.add_warning(&entry.title, revid, warning)?;
                stats.warnings += 1;
            }
            if let Some(p) = used {
                builder.add_profile(ProfileRecord {
                    profile: p,
                    page_id: entry.page_id,
                    accepts_email: accepts_email(&p.user),
                })?;
                stats.profiles += 1;
            }
        }
        Ok(stats)
    }
}
