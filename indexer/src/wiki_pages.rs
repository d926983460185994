//! `indexer install-pages`: saves the pages the tool needs on the wiki (the profile
//! template, its module, headings, styles, documentation and preloads, and the thanks and
//! request templates) from `wiki/`.
//!
//! The pages are compiled into the binary (`include_str!`), so what a build installs is
//! exactly the `wiki/` it was built from, and [`PAGES`] is the one list of them: a test
//! checks it against `wiki/README.md` and the files in `wiki/`. Pages are read in one
//! request; only those whose text differs are edited, each based on the revision that was
//! read, so an edit made on the wiki in between is never overwritten: MediaWiki merges it
//! when it touches other lines, else the edit fails as a conflict.

use anyhow::{Result, anyhow, bail};
use serde_json::Value;
use tracing::{info, warn};

use crate::wiki::{Credentials, Edit, EditBase, Politeness, Saved, Wiki};

/// A page of `wiki/` and where it goes.
#[derive(Debug, Clone, Copy)]
pub struct WikiPage {
    /// The title on the wiki.
    pub title: &'static str,
    /// The file in `wiki/`.
    pub file: &'static str,
    pub text: &'static str,
}

macro_rules! page {
    ($title:expr, $file:literal) => {
        WikiPage {
            title: $title,
            file: $file,
            text: include_str!(concat!("../../wiki/", $file)),
        }
    };
}

/// Every page, in the order they are saved: the template last, so that no version of the
/// box is shown with a missing piece, and so that its page, saved after its documentation,
/// carries the documentation's TemplateData from the start.
pub const PAGES: &[WikiPage] = &[
    page!(
        "Template:Capacity Exchange profile/styles.css",
        "Capacity_Exchange_profile.styles.css"
    ),
    page!("Module:Capacity Exchange", "Module_Capacity_Exchange.lua"),
    page!(
        "Template:Capacity Exchange profile/i18n",
        "Capacity_Exchange_profile.i18n.wikitext"
    ),
    page!(
        "Template:Capacity Exchange profile/doc",
        "Capacity_Exchange_profile.doc.wikitext"
    ),
    page!(
        "Template:Capacity Exchange profile/preload",
        "Capacity_Exchange_profile.preload.wikitext"
    ),
    page!(
        "Template:Capacity Exchange profile/builder",
        "Capacity_Exchange_profile.builder.wikitext"
    ),
    page!(
        "Template:Capacity Exchange thanks/doc",
        "Capacity_Exchange_thanks.doc.wikitext"
    ),
    page!(
        "Template:Capacity Exchange thanks/preload",
        "Capacity_Exchange_thanks.preload.wikitext"
    ),
    page!(
        "Template:Capacity Exchange thanks",
        "Capacity_Exchange_thanks.wikitext"
    ),
    page!(
        "Template:Capacity Exchange request/doc",
        "Capacity_Exchange_request.doc.wikitext"
    ),
    page!(
        "Template:Capacity Exchange request",
        "Capacity_Exchange_request.wikitext"
    ),
    page!(TEMPLATE, "Capacity_Exchange_profile.wikitext"),
];

/// The template itself: its page shows the documentation, whose TemplateData is what
/// VisualEditor reads.
const TEMPLATE: &str = "Template:Capacity Exchange profile";

/// The content model each page needs to work as meant, and what is lost without it.
fn expected_model(title: &str) -> Option<(&'static str, &'static str)> {
    if title.starts_with("Module:") {
        Some((
            "Scribunto",
            "the wiki has no Scribunto: the box will show values as written, without links",
        ))
    } else if title.ends_with(".css") {
        Some((
            "sanitized-css",
            "the wiki has no TemplateStyles: the box will not sit beside the text on wide screens",
        ))
    } else {
        None
    }
}

/// How `indexer install-pages` runs.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    pub api: String,
    /// Only say what would change.
    pub dry_run: bool,
    /// The edit summary; by default one naming the file and the version.
    pub summary: Option<String>,
    /// Save as bot edits (and refuse to edit unless the account has the bot right).
    pub bot: bool,
    pub credentials: Credentials,
    pub politeness: Politeness,
}

/// What happened (or, in a dry run, would happen) to a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(u64),
    Updated(u64),
    Unchanged,
    WouldCreate,
    WouldUpdate,
}

impl Outcome {
    fn describe(self) -> String {
        match self {
            Outcome::Created(revid) => format!("created (revision {revid})"),
            Outcome::Updated(revid) => format!("updated (revision {revid})"),
            Outcome::Unchanged => "unchanged".to_string(),
            Outcome::WouldCreate => "would be created".to_string(),
            Outcome::WouldUpdate => "would be updated".to_string(),
        }
    }
}

/// A page as the wiki has it now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Current {
    /// `None` when the page does not exist.
    text: Option<String>,
    revid: u64,
    timestamp: Option<String>,
    model: String,
}

/// What to do with a page.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    Keep,
    /// Save the file, on this base: [`EditBase::Missing`] to create the page.
    Save(EditBase),
}

/// Whether the wiki's text is the file's: MediaWiki drops trailing whitespace and turns
/// CR LF into LF when it saves a page.
fn same_text(stored: &str, file: &str) -> bool {
    stored.replace("\r\n", "\n").trim_end() == file.replace("\r\n", "\n").trim_end()
}

fn plan(current: &Current, page: &WikiPage) -> Plan {
    match &current.text {
        None => Plan::Save(EditBase::Missing),
        Some(text) if same_text(text, page.text) => Plan::Keep,
        Some(_) => Plan::Save(EditBase::Revision {
            revid: current.revid,
            timestamp: current.timestamp.clone(),
        }),
    }
}

/// Reads the current text of every page in one request; also the wiki's clock.
async fn read_pages(wiki: &Wiki) -> Result<(Vec<Current>, Option<String>)> {
    let titles: Vec<&str> = PAGES.iter().map(|p| p.title).collect();
    let answer = wiki
        .query(&[
            ("action", "query".to_string()),
            ("prop", "revisions|info".to_string()),
            ("titles", titles.join("|")),
            ("rvprop", "content|ids|timestamp".to_string()),
            ("rvslots", "main".to_string()),
            ("curtimestamp", "1".to_string()),
        ])
        .await?;
    let query = &answer["query"];
    // The wiki may spell a title differently (first-letter case, namespace aliases).
    let normalized = |title: &str| -> String {
        query["normalized"]
            .as_array()
            .and_then(|list| list.iter().find(|n| n["from"] == title))
            .and_then(|n| n["to"].as_str())
            .unwrap_or(title)
            .to_string()
    };
    let pages = query["pages"].as_array().cloned().unwrap_or_default();
    let mut current = Vec::new();
    for title in titles {
        let name = normalized(title);
        let page = pages
            .iter()
            .find(|p| p["title"] == name.as_str())
            .ok_or_else(|| anyhow!("the wiki said nothing about {title}"))?;
        current.push(read_page(title, page)?);
    }
    Ok((current, answer["curtimestamp"].as_str().map(str::to_string)))
}

fn read_page(title: &str, page: &Value) -> Result<Current> {
    if page.get("invalid").is_some() {
        bail!(
            "{title} is not a valid title on this wiki: {}",
            page["invalidreason"].as_str().unwrap_or("")
        );
    }
    let model = page["contentmodel"].as_str().unwrap_or("").to_string();
    if page.get("missing").is_some() {
        return Ok(Current {
            model,
            ..Current::default()
        });
    }
    let revision = &page["revisions"][0];
    let main = &revision["slots"]["main"];
    if main.get("texthidden").is_some() {
        bail!("the current text of {title} is hidden; not installing over it");
    }
    let text = main["content"]
        .as_str()
        .ok_or_else(|| anyhow!("the wiki gave no text for {title}"))?;
    Ok(Current {
        text: Some(text.to_string()),
        revid: revision["revid"]
            .as_u64()
            .ok_or_else(|| anyhow!("the wiki gave no revision id for {title}"))?,
        timestamp: revision["timestamp"].as_str().map(str::to_string),
        model,
    })
}

/// Saves every page whose text differs (or says what would change, in a dry run) and
/// prints one line per page on standard output.
pub async fn install(options: &InstallOptions) -> Result<Vec<(&'static str, Outcome)>> {
    if !options.dry_run && options.credentials.is_anonymous() {
        bail!(
            "saving pages needs a login: set CAPX_WIKI_USER and CAPX_WIKI_PASSWORD (a bot \
             password, user name Name@app, with the grants to edit and create pages) or \
             CAPX_WIKI_OAUTH2_TOKEN; --dry-run shows what would change without one"
        );
    }
    let wiki = if options.bot && !options.dry_run {
        Wiki::connect_bot(
            &options.api,
            &options.credentials,
            options.politeness.clone(),
        )
        .await?
    } else {
        Wiki::connect(
            &options.api,
            &options.credentials,
            options.politeness.clone(),
        )
        .await?
    };
    let (current, read_at) = read_pages(&wiki).await?;
    let mut outcomes = Vec::new();
    for (page, current) in PAGES.iter().zip(&current) {
        if let Some((model, loss)) = expected_model(page.title)
            && !current.model.is_empty()
            && current.model != model
        {
            warn!(
                "{} has the content model {:?}, not {model:?}: {loss}",
                page.title, current.model
            );
        }
        let summary = options.summary.clone().unwrap_or_else(|| {
            format!(
                "Capacity Exchange: install wiki/{} of the tool's source (indexer {})",
                page.file,
                env!("CARGO_PKG_VERSION")
            )
        });
        let outcome = match plan(current, page) {
            Plan::Keep => Outcome::Unchanged,
            Plan::Save(EditBase::Missing) if options.dry_run => Outcome::WouldCreate,
            Plan::Save(_) if options.dry_run => Outcome::WouldUpdate,
            Plan::Save(base) => {
                let edit = Edit {
                    bot: options.bot,
                    base,
                    read_at: read_at.clone(),
                    ..Edit::new(page.title, page.text, &summary)
                };
                match wiki.edit(&edit).await? {
                    Saved::Created(revid) => Outcome::Created(revid),
                    Saved::Updated(revid) => Outcome::Updated(revid),
                    Saved::Unchanged => Outcome::Unchanged,
                }
            }
        };
        println!("{}: {}", page.title, outcome.describe());
        outcomes.push((page.title, outcome));
    }
    let changed = outcomes
        .iter()
        .filter(|(_, o)| !matches!(o, Outcome::Unchanged))
        .count();
    if changed > 0 && !options.dry_run {
        // The template's page shows the documentation (and so holds its TemplateData) and
        // uses the module: refresh it now rather than when the job queue gets to it.
        wiki.post(&[
            ("action", "purge".to_string()),
            ("titles", TEMPLATE.to_string()),
            ("forcelinkupdate", "1".to_string()),
        ])
        .await
        .map_err(|e| e.context(format!("refreshing {TEMPLATE}")))?;
    }
    info!(
        pages = outcomes.len(),
        changed,
        requests = wiki.requests(),
        dry_run = options.dry_run,
        "install-pages finished"
    );
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn wiki_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wiki")
    }

    /// The `file | page` rows of the table in `wiki/README.md`.
    fn readme_rows() -> BTreeSet<(String, String)> {
        let readme = std::fs::read_to_string(wiki_dir().join("README.md")).unwrap();
        readme
            .lines()
            .filter(|line| line.starts_with("| `"))
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                // "", "`file`", "`page` (note)", ""
                let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                let page = cells.get(2)?.strip_prefix('`')?;
                let page = &page[..page.find('`')?];
                Some((file.to_string(), page.to_string()))
            })
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_the_pages_installed() {
        let installed: BTreeSet<(String, String)> = PAGES
            .iter()
            .map(|p| (p.file.to_string(), p.title.to_string()))
            .collect();
        assert_eq!(readme_rows(), installed);
    }

    #[test]
    fn every_file_of_wiki_is_installed() {
        let files: BTreeSet<String> = std::fs::read_dir(wiki_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "README.md")
            .collect();
        let installed: BTreeSet<String> = PAGES.iter().map(|p| p.file.to_string()).collect();
        assert_eq!(files, installed);
        let titles: BTreeSet<&str> = PAGES.iter().map(|p| p.title).collect();
        assert_eq!(titles.len(), PAGES.len(), "a title is listed twice");
    }

    #[test]
    fn the_template_is_saved_after_what_it_uses() {
        let position = |title: &str| PAGES.iter().position(|p| p.title == title).unwrap();
        let template = position(TEMPLATE);
        assert_eq!(template, PAGES.len() - 1);
        for used in [
            "Module:Capacity Exchange",
            "Template:Capacity Exchange profile/i18n",
            "Template:Capacity Exchange profile/styles.css",
            "Template:Capacity Exchange profile/doc",
        ] {
            assert!(position(used) < template, "{used}");
        }
    }

    fn page(text: &'static str) -> WikiPage {
        WikiPage {
            title: "Template:T",
            file: "T.wikitext",
            text,
        }
    }

    #[test]
    fn only_pages_whose_text_differs_are_edited() {
        let missing = Current::default();
        assert_eq!(plan(&missing, &page("x\n")), Plan::Save(EditBase::Missing));
        let same = Current {
            text: Some("line one\nline two".into()),
            revid: 7,
            timestamp: Some("2025-01-01T00:00:00Z".into()),
            model: "wikitext".into(),
        };
        // MediaWiki saved the file without its final newline.
        assert_eq!(plan(&same, &page("line one\nline two\n")), Plan::Keep);
        assert_eq!(plan(&same, &page("line one\r\nline two\r\n")), Plan::Keep);
        assert_eq!(
            plan(&same, &page("line one\nline 2\n")),
            Plan::Save(EditBase::Revision {
                revid: 7,
                timestamp: Some("2025-01-01T00:00:00Z".into())
            })
        );
        // Leading whitespace is kept by MediaWiki, so it is a difference.
        assert_eq!(
            plan(&same, &page(" line one\nline two")),
            Plan::Save(EditBase::Revision {
                revid: 7,
                timestamp: Some("2025-01-01T00:00:00Z".into())
            })
        );
    }

    #[test]
    fn a_page_is_read_with_its_revision_or_as_missing() {
        let existing = serde_json::json!({
            "title": "Template:T", "contentmodel": "wikitext",
            "revisions": [{"revid": 12, "timestamp": "2025-02-03T04:05:06Z",
                           "slots": {"main": {"content": "hello"}}}]
        });
        let current = read_page("Template:T", &existing).unwrap();
        assert_eq!(current.text.as_deref(), Some("hello"));
        assert_eq!(current.revid, 12);
        let missing = serde_json::json!({
            "title": "Module:M", "missing": true, "contentmodel": "Scribunto"
        });
        let current = read_page("Module:M", &missing).unwrap();
        assert_eq!(current.text, None);
        assert_eq!(current.model, "Scribunto");
        let hidden = serde_json::json!({
            "title": "Template:T",
            "revisions": [{"revid": 3, "slots": {"main": {"texthidden": true}}}]
        });
        assert!(read_page("Template:T", &hidden).is_err());
        let invalid = serde_json::json!({"title": "x", "invalid": true, "invalidreason": "bad"});
        assert!(read_page("x", &invalid).is_err());
    }
}
