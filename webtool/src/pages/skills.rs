//! The skill directory.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::{Value, context};

use super::*;
use crate::state::AppState;

/// `GET /skills`: the taxonomy as a tree, with how many offer and want each skill.
pub async fn skills(State(state): State<Arc<AppState>>, Lang(lang): Lang) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let taxonomy = exchange::taxonomy::Taxonomy::bundled();
    let counts: std::collections::HashMap<&str, (usize, usize)> = served
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
    fn node(
        skill: &exchange::taxonomy::Skill,
        lang: &str,
        counts: &std::collections::HashMap<&str, (usize, usize)>,
    ) -> Value {
        let taxonomy = exchange::taxonomy::Taxonomy::bundled();
        let (offers, wants) = counts.get(skill.id.as_str()).copied().unwrap_or((0, 0));
        let children: Vec<Value> = taxonomy
            .children(&skill.id)
            .into_iter()
            .map(|c| node(c, lang, counts))
            .collect();
        context! {
            id => skill.id.clone(),
            label => taxonomy.label(skill, lang).to_string(),
            offers => offers,
            wants => wants,
            children => children,
        }
    }
    let roots: Vec<Value> = taxonomy.roots().map(|r| node(r, lang, &counts)).collect();
    render(
        lang,
        "skills.html",
        context! { roots => roots },
        StatusCode::OK,
    )
}
