//! `indexer import`: a MediaWiki XML export → a published generation, with the same trust
//! rules as the crawler. Thanks on user pages are read too; request markers are not (who
//! added one is only known from a talk page's whole history, which only a crawl reads).

use std::collections::HashSet;
use std::io::BufRead;

use crate::collection::{Collection, CollectionStats};
use crate::connections::{THANKS_TEMPLATE, TemplateNames, ThanksRecord, harvest_thanks};
use crate::dump::{DumpError, DumpReader};
use crate::harvest::harvest_page;
use crate::parse::{PROFILE_TEMPLATE, ProfileTemplate};
use crate::store::{ConnectionKind, DataDir, StoreError};
use crate::taxonomy::Taxonomy;
use crate::wikitext::extract;
use crate::wikitext::title::{NS_TEMPLATE, NS_USER, Title};

/// Why an import failed. Nothing was published.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportSummary {
    pub generation: String,
    /// Pages in the export.
    pub pages_read: u64,
    /// Times the export was read (twice when an alias of the template came after pages
    /// that use it).
    pub passes: u32,
    /// Redirects to the template found in the export.
    pub aliases: Vec<String>,
    #[serde(flatten)]
    pub stats: CollectionStats,
}

/// Opens the export anew for each pass.
pub type Opener<'a> = dyn Fn() -> Result<Box<dyn BufRead + Send>, DumpError> + 'a;

struct Pass {
    collection: Collection,
    /// Thanks on user pages, and the pages they are on with their newest revision.
    thanks: Vec<ThanksRecord>,
    thanks_pages: Vec<(String, u64)>,
    pages_read: u64,
    aliases: HashSet<String>,
    names_called: HashSet<String>,
}

fn run_pass(
    open: &Opener<'_>,
    known_aliases: &HashSet<String>,
    taxonomy: &Taxonomy,
    progress: &mut dyn FnMut(u64),
) -> Result<Pass, ImportError> {
    let canonical = Title::parse(PROFILE_TEMPLATE, NS_TEMPLATE);
    let thanks_canonical = Title::parse(THANKS_TEMPLATE, NS_TEMPLATE);
    // Redirects to the thanks template count from where they appear in the export (unlike
    // the profile template's, which make a second pass when they come late).
    let mut thanks_names = TemplateNames::thanks();
    let mut reader = DumpReader::new(open()?);
    let mut template = ProfileTemplate::with_aliases(known_aliases);
    let mut pass = Pass {
        collection: Collection::new(),
        thanks: Vec::new(),
        thanks_pages: Vec::new(),
        pages_read: 0,
        aliases: HashSet::new(),
        names_called: HashSet::new(),
    };
    while let Some(page) = reader.next_page()? {
        pass.pages_read += 1;
        progress(pass.pages_read);
        if page.namespace == NS_TEMPLATE {
            let target = page
                .redirect
                .as_deref()
                .and_then(|t| Title::parse(t, crate::wikitext::title::NS_MAIN));
            if target.is_some()
                && target == canonical
                && let Some(alias) = Title::parse(&page.title, crate::wikitext::title::NS_MAIN)
            {
                pass.aliases.insert(alias.as_call_name());
                template = ProfileTemplate::with_aliases(known_aliases.union(&pass.aliases));
            }
            if target.is_some() && target == thanks_canonical {
                thanks_names.add_alias(&page.title);
            }
            continue;
        }
        if page.namespace != NS_USER {
            continue;
        }
        let harvest = harvest_page(&page, &template, taxonomy);
        if harvest.outcome.is_err() {
            // Remember what such pages call: an alias found later may make them profiles.
            for revision in [&page.latest, &page.owner_latest].into_iter().flatten() {
                if let Some(text) = revision.text.as_deref() {
                    pass.names_called
                        .extend(extract(text).templates.into_iter().map(|c| c.name));
                }
            }
        }
        pass.collection.add(&page, harvest);
        let thanks = harvest_thanks(&page, &thanks_names, taxonomy);
        if let (false, Some(latest)) = (thanks.is_empty(), &page.latest) {
            pass.thanks_pages.push((page.title.clone(), latest.revid));
            pass.thanks.extend(thanks);
        }
    }
    Ok(pass)
}

/// Imports an export into a new generation of `data` and publishes it.
pub fn import(
    open: &Opener<'_>,
    data: &DataDir,
    source: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary, ImportError> {
    let taxonomy = Taxonomy::bundled();
    let mut pass = run_pass(open, &HashSet::new(), taxonomy, progress)?;
    let mut passes = 1;
    let late = pass.aliases.iter().any(|a| pass.names_called.contains(a));
    if late {
        // An alias was defined after pages that use it: read again, knowing every alias.
        let aliases = pass.aliases.clone();
        pass = run_pass(open, &aliases, taxonomy, progress)?;
        passes = 2;
    }
    let mut builder = data.begin("import")?;
    builder.set_meta("import_source", source)?;
    let mut aliases: Vec<String> = pass.aliases.into_iter().collect();
    aliases.sort();
    builder.set_meta("template_aliases", &aliases.join("|"))?;
    let stats = pass.collection.write(&mut builder, &|_| false)?;
    for (title, revid) in &pass.thanks_pages {
        builder.add_connection_page(title, ConnectionKind::Thanks, *revid)?;
    }
    for thanks in &pass.thanks {
        builder.add_thanks(thanks)?;
    }
    let generation = builder.publish()?;
    Ok(ImportSummary {
        generation,
        pages_read: pass.pages_read,
        passes,
        aliases,
        stats,
    })
}
