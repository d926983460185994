//! The trust rules: which page and which revision a profile may be read from.
//!
//! Only `User:` pages (and their subpages) make profiles; a profile exists while the page's
//! newest revision calls the template; and only the owner's own words count, so the profile
//! is read from the newest revision the owner saved. An edit by someone else to another
//! person's profile never changes what the tool shows. The crawler and the XML import both
//! feed pages through [`harvest_page`], so the rules live in one place.

use chrono::{DateTime, Utc};

use crate::parse::{PageContext, ParsedPage, ProfileTemplate, parse_page};
use crate::taxonomy::Taxonomy;
use crate::wikitext::extract;
use crate::wikitext::title::{NS_USER, Title};

/// A revision as far as the owner rule needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Revision {
    pub revid: u64,
    pub timestamp: Option<DateTime<Utc>>,
    /// The author's normalised user name; `None` for IP edits and hidden authors.
    pub user: Option<String>,
    /// The text; `None` when it was hidden (revision deletion) or not available.
    pub text: Option<String>,
}

/// A page with the two revisions the owner rule can need.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageHistory {
    pub title: String,
    pub namespace: i32,
    pub page_id: Option<u64>,
    /// The target, when the page is a redirect.
    pub redirect: Option<String>,
    /// The newest revision, by anyone.
    pub latest: Option<Revision>,
    /// The newest revision saved by the page's owner with readable text.
    pub owner_latest: Option<Revision>,
    /// Whether the page calls the template now, when the source already knows it (the
    /// crawler does, from the wiki's link tables); `None` to decide from the newest text.
    pub transcludes: Option<bool>,
    /// Problems met while reading the page, kept as warnings.
    pub problems: Vec<String>,
}

/// Why a page gave no profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// Not in the User namespace: profiles on other pages are ignored.
    NotUserPage,
    Redirect,
    /// The page does not call the template now (never did, or someone removed it).
    NoTemplate,
    /// The owner never saved a readable revision of the page.
    NoOwnerRevision,
    /// The owner's newest revision does not call the template (they left, or the call
    /// was added by someone else).
    OwnerRevisionWithoutTemplate,
    /// The owner is blocked sitewide: their profile is not shown.
    Blocked,
    /// Carried over from the previous generation without a profile (not re-read).
    Unchanged,
}

impl Skip {
    pub fn describe(self) -> &'static str {
        match self {
            Skip::NotUserPage => "not a user page",
            Skip::Redirect => "a redirect",
            Skip::NoTemplate => "does not call the profile template",
            Skip::NoOwnerRevision => "the owner never edited the page",
            Skip::OwnerRevisionWithoutTemplate => {
                "the owner's newest revision does not call the profile template"
            }
            Skip::Blocked => "the owner is blocked",
            Skip::Unchanged => "no profile, unchanged since the previous run",
        }
    }
}

/// What a page gave.
#[derive(Debug, Clone)]
pub struct Harvest {
    /// The owner, for user pages.
    pub owner: Option<String>,
    pub outcome: Result<ParsedPage, Skip>,
    /// Whether the newest revision calls the template (the page counts as "in" the tool).
    pub transcludes: bool,
}

/// Applies the trust rules to a page and parses the profile if there is one.
pub fn harvest_page(
    page: &PageHistory,
    template: &ProfileTemplate,
    taxonomy: &Taxonomy,
) -> Harvest {
    let title = Title::parse(&page.title, 0);
    let owner = title
        .as_ref()
        .filter(|t| t.namespace == NS_USER && page.namespace == NS_USER)
        .and_then(|t| t.owner())
        .map(str::to_string);
    let skip = |outcome: Skip, transcludes: bool| Harvest {
        owner: owner.clone(),
        outcome: Err(outcome),
        transcludes,
    };
    let Some(owner_name) = owner.as_deref() else {
        return skip(Skip::NotUserPage, false);
    };
    if page.redirect.is_some() {
        return skip(Skip::Redirect, false);
    }
    let latest_text = page.latest.as_ref().and_then(|r| r.text.as_deref());
    let latest_by_owner = page
        .latest
        .as_ref()
        .filter(|r| r.user.as_deref() == Some(owner_name) && r.text.is_some());
    // When the owner wrote the newest text, parsing it below answers whether the page calls
    // the template; extracting it here as well would read every such page twice.
    let checked_by_parse = page.transcludes.is_none() && latest_by_owner.is_some();
    let transcludes = match (page.transcludes, latest_text) {
        (Some(known), _) => known,
        (None, Some(_)) if checked_by_parse => true,
        (None, Some(text)) => extract(text).templates.iter().any(|c| template.matches(c)),
        // The newest text is hidden: fall back on what the owner last wrote.
        (None, None) => true,
    };
    if !transcludes {
        return skip(Skip::NoTemplate, false);
    }
    let Some(revision) = latest_by_owner.or(page.owner_latest.as_ref()) else {
        return skip(Skip::NoOwnerRevision, true);
    };
    let Some(text) = revision.text.as_deref() else {
        return skip(Skip::NoOwnerRevision, true);
    };
    let context = PageContext {
        title: page.title.clone(),
        revid: revision.revid,
        timestamp: revision.timestamp,
    };
    let mut parsed = parse_page(text, &context, template, taxonomy);
    if parsed.profile.is_none() {
        return if checked_by_parse {
            skip(Skip::NoTemplate, false)
        } else {
            skip(Skip::OwnerRevisionWithoutTemplate, true)
        };
    }
    for problem in &page.problems {
        parsed
            .warnings
            .push(crate::profile::Warning::new(None, problem.clone()));
    }
    Harvest {
        owner,
        outcome: Ok(parsed),
        transcludes: true,
    }
}
