//! The home page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::*;
use crate::state::AppState;

/// `GET /`: the search box, counts and the most offered and wanted skills.
pub async fn home(State(state): State<Arc<AppState>>, Lang(lang): Lang) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let taxonomy = exchange::taxonomy::Taxonomy::bundled();
    let top = |count: fn(&exchange::stats::SkillStats) -> usize| {
        let mut skills: Vec<_> = served
            .stats
            .skills
            .iter()
            .filter(|s| count(s) > 0)
            .collect();
        skills.sort_by(|a, b| count(b).cmp(&count(a)).then_with(|| a.id.cmp(&b.id)));
        skills
            .into_iter()
            .take(10)
            .map(|s| {
                let label = taxonomy.get(&s.id).map_or(s.label.clone(), |skill| {
                    taxonomy.label(skill, lang).to_string()
                });
                context! { id => s.id.clone(), label => label, count => count(s) }
            })
            .collect::<Vec<_>>()
    };
    let extra = context! {
        profiles => served.stats.totals.profiles,
        offered => top(|s| s.counts.offers),
        wanted => top(|s| s.counts.wants),
    };
    render(lang, "home.html", extra, StatusCode::OK)
}
