//! The match page for a user: the three lists, each person with the reasons in the
//! reader's language.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use exchange::matching::Match;
use exchange::wikitext::title::normalize_user_name;
use minijinja::{Value, context};

use super::{Lang, no_snapshot, not_found_page, render, view};
use crate::i18n::Catalog;
use crate::state::AppState;

/// `GET /match/{user}`: the three lists of matches with their reasons.
pub async fn matches(
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
    let lookup = name.clone();
    let found = tokio::task::spawn_blocking(move || {
        served.matcher.matches(&lookup, chrono::Utc::now(), 20)
    })
    .await;
    let Ok(Some(matches)) = found else {
        return not_found_page(lang);
    };
    let catalog = Catalog::global();
    let list = |key: &str, entries: &[Match]| {
        let entries: Vec<Value> = entries.iter().map(|m| view::match_entry(m, lang)).collect();
        context! { title => catalog.message(lang, key, &[]), entries => entries }
    };
    let lists = vec![
        list("capx-match-learn-from", &matches.learn_from),
        list("capx-match-share-with", &matches.share_with),
        list("capx-match-exchange", &matches.exchange),
    ];
    render(
        lang,
        "match.html",
        context! { user => name, lists => lists },
        StatusCode::OK,
    )
}
