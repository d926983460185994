//! The match page for a user.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};

use super::*;
use crate::state::AppState;
use exchange::wikitext::title::normalize_user_name;

/// `GET /match/{user}`: the three lists of matches with their reasons.
pub async fn matches(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
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
    let catalog = i18n::Catalog::global();
    let lists = vec![
        context! { title => catalog.message(lang, "capx-match-learn-from", &[]), entries => Value::from(minijinja::value::Serde(&matches.learn_from)) },
        context! { title => catalog.message(lang, "capx-match-share-with", &[]), entries => Value::from(minijinja::value::Serde(&matches.share_with)) },
        context! { title => catalog.message(lang, "capx-match-exchange", &[]), entries => Value::from(minijinja::value::Serde(&matches.exchange)) },
    ];
    render(
        lang,
        "match.html",
        context! { user => name, lists => lists },
        StatusCode::OK,
    )
}
