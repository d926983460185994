//! One person's profile page: what they published, who they could learn from or help,
//! and the ways to reach them on the wiki.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use exchange::connections::request_marker;
use exchange::template_writer::BUILDER_PRELOAD_PAGE;
use exchange::wikitext::title::normalize_user_name;
use minijinja::context;

use super::{
    Lang, WIKI, no_snapshot, not_found_page, render, server_error, urlencode, view, wiki_url,
};
use crate::i18n::Catalog;
use crate::state::AppState;

/// How many peers the profile page suggests per list; the match page has the rest.
const PEERS: usize = 5;

/// `GET /profile/{user}`: everything the person published and ways to connect.
pub async fn profile(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Lang(lang): Lang,
) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let Some(name) = normalize_user_name(&user) else {
        return not_found_page(lang);
    };
    let lookup_name = name.clone();
    let now = chrono::Utc::now();
    let found = tokio::task::spawn_blocking(move || {
        let profile = served.snapshot.profile(&lookup_name)?;
        let email = served.snapshot.accepts_email(&lookup_name)?;
        let matches = served.matcher.matches(&lookup_name, now, PEERS);
        Ok::<_, exchange::store::StoreError>((profile, email, matches))
    })
    .await;
    let (profile, email, matches) = match found {
        Ok(Ok((Some(profile), email, matches))) => (profile, email, matches),
        Ok(Ok((None, _, _))) => return not_found_page(lang),
        _ => return server_error(lang),
    };
    let catalog = Catalog::global();
    let talk_url = talk_url(&name, lang);
    let (learn_from, share_with) = matches.map_or_else(Default::default, |m| {
        let entries = |list: &[exchange::matching::Match]| -> Vec<minijinja::Value> {
            list.iter().map(|m| view::match_entry(m, lang)).collect()
        };
        (entries(&m.learn_from), entries(&m.share_with))
    });
    let lists = vec![
        context! { title => catalog.message(lang, "capx-profile-learn-from", &[&name]), entries => learn_from },
        context! { title => catalog.message(lang, "capx-profile-share-with", &[&name]), entries => share_with },
    ];
    let extra = context! {
        p => view::profile(&profile, lang, now),
        lists => lists,
        talk_url => talk_url,
        email_url => email.then(|| wiki_url(&format!("Special:EmailUser/{name}"))),
        page_url => wiki_url(&profile.page),
        edit_url => format!("{}?action=edit", wiki_url(&profile.page)),
    };
    render(lang, "profile.html", extra, StatusCode::OK)
}

/// The "ask on their talk page" link: a new section of the person's talk page with a
/// subject and a message in the reader's language, which start with the request marker
/// (`{{Capacity Exchange request|skill=}}`) so that the request leaves a trace the crawler
/// can count (see `exchange::connections`). The text comes through the profile builder's
/// preload page, whose only text is `$1`. The marker names no skill: the profile page
/// cannot know which of the person's skills the reader is after, and a wrong skill would
/// count a request where none was made; the reader can fill it in before saving. The
/// message ends with the signature, so the requester is also visible to the person asked.
fn talk_url(name: &str, lang: &str) -> String {
    let catalog = Catalog::global();
    let subject = catalog.message(lang, "capx-talk-subject", &[]);
    let message = catalog.message(lang, "capx-request-message", &[]);
    let text = format!("{}\n{message} ~~~~", request_marker(""));
    format!(
        "{WIKI}/w/index.php?title={}&action=edit&section=new&preloadtitle={}&preload={}&preloadparams%5B%5D={}",
        urlencode(&format!("User_talk:{}", name.replace(' ', "_"))),
        urlencode(&subject),
        urlencode(&BUILDER_PRELOAD_PAGE.replace(' ', "_")),
        urlencode(&text)
    )
}
