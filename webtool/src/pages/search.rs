//! The search page: results, facets as links, pagination.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::{Value, context};

use super::*;
use crate::api::{SearchParams, search_request};
use crate::state::AppState;

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchPageParams {
    #[serde(flatten)]
    pub search: SearchParams,
    pub uselang: Option<String>,
}

/// `GET /search`: results, facets as links, pagination; works without JavaScript.
pub async fn search(
    State(state): State<Arc<AppState>>,
    Query(params): Query<SearchPageParams>,
    headers: HeaderMap,
) -> Response {
    let started = std::time::Instant::now();
    let mut response = search_page(state, params, headers).await;
    crate::api::add_server_timing(&mut response, started);
    response
}

async fn search_page(
    state: Arc<AppState>,
    params: SearchPageParams,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let p = &params.search;
    let mut request = match search_request(p) {
        Ok(request) => request,
        Err(message) => {
            let extra = context! { q => p.q.clone().unwrap_or_default(), error => message, results => Vec::<Value>::new(), total => 0, facets => Vec::<Value>::new(), filters => Vec::<(String, String)>::new() };
            return render(lang, "search.html", extra, StatusCode::BAD_REQUEST);
        }
    };
    request.limit = request.limit.min(20);
    let limit = request.limit;
    let offset = request.offset;
    let q = request.q.clone();
    let found =
        tokio::task::spawn_blocking(move || served.searches.search(&served.snapshot, &request))
            .await;
    let results = match found {
        Ok(Ok(results)) => results,
        _ => {
            return server_error(lang);
        }
    };
    let filters: Vec<(&str, String)> = [
        ("skill", &p.skill),
        ("kind", &p.kind),
        ("lang", &p.lang),
        ("region", &p.region),
        ("country", &p.country),
        ("project", &p.project),
        ("format", &p.format),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    let href = |extra: &[(&str, String)], offset: usize| {
        let mut parts = vec![format!("uselang={lang}")];
        if !q.is_empty() {
            parts.push(format!("q={}", urlencode(&q)));
        }
        for (k, v) in filters
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        {
            parts.push(format!("{k}={}", urlencode(v)));
        }
        for (k, v) in extra {
            parts.push(format!("{k}={}", urlencode(v)));
        }
        if offset > 0 {
            parts.push(format!("offset={offset}"));
        }
        format!("/search?{}", parts.join("&"))
    };
    let taxonomy = exchange::taxonomy::Taxonomy::bundled();
    let families: Vec<Value> = [
        ("region", "region", "capx-filter-region"),
        ("language", "lang", "capx-filter-language"),
        ("skill_offers", "skill", "capx-filter-skill"),
        ("project", "project", "capx-filter-project"),
        ("format", "format", "capx-filter-format"),
    ]
    .into_iter()
    .filter_map(|(family, param, title)| {
        let values = results.facets.get(family)?;
        let values: Vec<Value> = values
            .iter()
            .take(12)
            .map(|v| {
                let label = match family {
                    "region" => i18n::Catalog::global().message(lang, &format!("capx-region-{}", v.value.to_lowercase()), &[]),
                    "language" => format!("{} ({})", view::language_name(&v.value), v.value),
                    "skill_offers" => taxonomy
                        .get(&v.value)
                        .map_or(v.value.clone(), |s| taxonomy.label(s, lang).to_string()),
                    _ => v.value.clone(),
                };
                let mut extra = vec![(param, v.value.clone())];
                if family == "skill_offers" {
                    extra.push(("kind", "offers".to_string()));
                }
                context! { label => label, count => v.count, href => href(&extra, 0) }
            })
            .collect();
        (!values.is_empty()).then(|| context! { title => i18n::Catalog::global().message(lang, title, &[]), values => values })
    })
    .collect();
    let total = results.total;
    let prev_href = (offset > 0).then(|| href(&[], offset.saturating_sub(limit)));
    let next_href = (offset + limit < total).then(|| href(&[], offset + limit));
    let now = chrono::Utc::now();
    let cards: Vec<Value> = results
        .results
        .iter()
        .map(|hit| view::profile(&hit.profile, lang, now))
        .collect();
    let extra = context! {
        q => q.clone(),
        filters => filters,
        results => cards,
        total => total,
        facets => families,
        prev_href => prev_href,
        next_href => next_href,
    };
    render(lang, "search.html", extra, StatusCode::OK)
}
