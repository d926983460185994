//! A skill's page (who offers, wants and knows it) and its Atom feed of offers.
//!
//! The feed lets a mentor, an affiliate or a WikiProject follow a skill from any feed
//! reader without an account: each entry is a person offering the skill (or one of its
//! sub-skills), newest profile update first, so an offer that was added or changed shows
//! up again.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use exchange::profile::{Profile, SkillKind};
use exchange::search::{SearchRequest, search};
use exchange::taxonomy::{Skill, Taxonomy};
use minijinja::{Value, context};

use super::{Lang, PUBLIC_URL, no_snapshot, not_found_page, render, server_error, urlencode, view};
use crate::bidi;
use crate::i18n::Catalog;
use crate::state::AppState;

/// People shown per list on the page; "see all" goes to the search page.
const PER_LIST: usize = 6;
/// Entries in the feed: enough for a reader polling daily.
const FEED_ENTRIES: usize = 30;

/// `GET /skill/{id}`: the skill, where it sits, its parts, and who offers, wants, knows it.
pub async fn skill(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Lang(lang): Lang,
) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let taxonomy = Taxonomy::bundled();
    let Some(skill) = taxonomy.get(&id) else {
        return not_found_page(lang);
    };
    let skill_id = skill.id.clone();
    let snapshot = Arc::clone(&served.snapshot);
    let found = tokio::task::spawn_blocking(move || {
        SkillKind::ALL
            .into_iter()
            .map(|kind| {
                let request = SearchRequest {
                    skill: Some(skill_id.clone()),
                    kind: Some(kind),
                    limit: PER_LIST,
                    ..Default::default()
                };
                search(&snapshot, &request).map(|results| (kind, results))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    let Ok(Ok(found)) = found else {
        return server_error(lang);
    };
    let now = chrono::Utc::now();
    let catalog = Catalog::global();
    let lists: Vec<Value> = found
        .iter()
        .map(|(kind, results)| {
            let key = match kind {
                SkillKind::Offers => "capx-skill-offered-by",
                SkillKind::Wants => "capx-skill-wanted-by",
                SkillKind::Knows => "capx-skill-known-by",
            };
            let people: Vec<Value> = results
                .results
                .iter()
                .map(|hit| view::profile(&hit.profile, lang, now))
                .collect();
            let more = results.total > people.len();
            context! {
                kind => kind.as_str(),
                more => more,
                title => catalog.message(lang, key, &[&results.total.to_string()]),
                people => people,
                href => format!("/search?skill={}&kind={}&uselang={lang}", urlencode(&skill.id), kind.as_str()),
            }
        })
        .collect();
    let counts: HashMap<&str, (usize, usize)> = served
        .stats
        .skills
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                (s.with_subskills.offers, s.with_subskills.wants),
            )
        })
        .collect();
    let link = |s: &Skill| {
        let (offers, wants) = counts.get(s.id.as_str()).copied().unwrap_or((0, 0));
        context! {
            label => taxonomy.label(s, lang).to_string(),
            href => view::skill_href(&s.id, lang),
            offers => offers,
            wants => wants,
        }
    };
    let mut ancestors = Vec::new();
    let mut parent = skill.parent.as_deref().and_then(|p| taxonomy.get(p));
    while let Some(p) = parent {
        ancestors.insert(0, link(p));
        parent = p.parent.as_deref().and_then(|p| taxonomy.get(p));
    }
    let parts: Vec<Value> = taxonomy.children(&skill.id).into_iter().map(link).collect();
    let extra = context! {
        skill => context! {
            id => skill.id.clone(),
            label => taxonomy.label(skill, lang).to_string(),
            wikidata => skill.wikidata.clone(),
        },
        ancestors => ancestors,
        parts => parts,
        lists => lists,
        feed_href => format!("/skill/{}/feed.atom?uselang={lang}", urlencode(&skill.id)),
    };
    render(lang, "skill.html", extra, StatusCode::OK)
}

/// `GET /skill/{id}/feed.atom`: people offering the skill, newest profile update first.
pub async fn feed(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Lang(lang): Lang,
) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let taxonomy = Taxonomy::bundled();
    let Some(skill) = taxonomy.get(&id) else {
        return not_found_page(lang);
    };
    // The skill and its sub-skills: an offer of any of them is an offer of the skill.
    let ids: Vec<&'static str> = taxonomy
        .subtree(&skill.id)
        .into_iter()
        .map(|s| s.id.as_str())
        .collect();
    let snapshot = Arc::clone(&served.snapshot);
    let query_ids = ids.clone();
    let found = tokio::task::spawn_blocking(move || {
        snapshot.newest_with_skill(&query_ids, SkillKind::Offers, FEED_ENTRIES)
    })
    .await;
    let Ok(Ok(profiles)) = found else {
        return server_error(lang);
    };
    let created = served.snapshot.meta("created").ok().flatten();
    let body = atom(skill, &ids, &profiles, lang, created.as_deref());
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The feed document. Written by hand: a dozen elements do not need an XML library, and
/// every text goes through [`xml_escape`].
fn atom(
    skill: &Skill,
    ids: &[&str],
    profiles: &[Profile],
    lang: &str,
    created: Option<&str>,
) -> String {
    let taxonomy = Taxonomy::bundled();
    let catalog = Catalog::global();
    let label = taxonomy.label(skill, lang);
    let page = format!("{PUBLIC_URL}/skill/{}", urlencode(&skill.id));
    let updated = profiles
        .iter()
        .filter_map(|p| p.updated)
        .max()
        .map(|t| t.to_rfc3339())
        .or_else(|| created.map(str::to_string))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    let mut out = String::with_capacity(1024 + profiles.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">\n<title>{}</title>\n<id>{}</id>\n<link rel=\"self\" href=\"{}/feed.atom?uselang={}\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}?uselang={}\"/>\n<updated>{}</updated>\n<generator>Capacity Exchange</generator>\n",
        xml_escape(lang),
        xml_escape(&catalog.message(lang, "capx-skill-feed-title", &[label])),
        xml_escape(&page),
        xml_escape(&page),
        xml_escape(lang),
        xml_escape(&page),
        xml_escape(lang),
        xml_escape(&updated),
    ));
    for p in profiles {
        let offered: Vec<String> = p
            .offers
            .iter()
            .filter(|s| s.id().is_some_and(|id| ids.contains(&id)))
            .map(|s| view::skill_label(s.id(), s.display(), lang))
            .collect();
        let profile_url = format!("{PUBLIC_URL}/profile/{}", urlencode(&p.user));
        let when = p
            .updated
            .map_or_else(|| updated.clone(), |t| t.to_rfc3339());
        let title = catalog.message(
            lang,
            "capx-skill-feed-entry",
            &[&bidi::isolate(&p.user), &bidi::isolate(&offered.join(", "))],
        );
        let summary: Vec<String> = p
            .offers
            .iter()
            .map(|s| view::skill_label(s.id(), s.display(), lang))
            .collect();
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>{}#{}</id>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}?uselang={}\"/>\n<updated>{}</updated>\n<author><name>{}</name></author>\n<summary>{}: {}</summary>\n</entry>\n",
            xml_escape(&title),
            xml_escape(&profile_url),
            p.revid,
            xml_escape(&profile_url),
            xml_escape(lang),
            xml_escape(&when),
            xml_escape(&p.user),
            xml_escape(&catalog.message(lang, "capx-card-offers", &[])),
            xml_escape(&summary.join(", ")),
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// Escapes text for XML content and attribute values, and drops the control characters
/// XML 1.0 cannot carry at all; bidirectional controls are balanced (`crate::bidi`), so that
/// a feed reader shows each text without it reordering the next.
fn xml_escape(text: &str) -> String {
    let text = bidi::balance(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml_escape;

    #[test]
    fn escaping_covers_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(
            xml_escape("<script>\"a\" & 'b'\u{1}</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &apos;b&apos;&lt;/script&gt;"
        );
    }
}
