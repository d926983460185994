//! The JSON API (`/api/v1/…`) and `/healthz`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use exchange::connections::{Counts, SkillKey};
use exchange::geo::Region;
use exchange::profile::{Level, SkillKind, SkillRef};
use exchange::search::{MAX_LIMIT, MAX_QUERY_CHARS, SearchRequest};
use exchange::taxonomy::Taxonomy;
use exchange::wikitext::title::normalize_user_name;
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::error;

use crate::badges;
use crate::state::AppState;

/// A JSON error body with a status, for every failure the API reports.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn no_snapshot() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no snapshot has been published yet; run the indexer",
    )
}

/// `GET /healthz`: whether a snapshot is served, and which.
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.served() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "no snapshot", "generation": null })),
        )
            .into_response(),
        Some(served) => {
            let snapshot = &served.snapshot;
            let profiles = snapshot.profile_count().ok();
            let created = snapshot.meta("created").ok().flatten();
            Json(json!({
                "status": "ok",
                "generation": snapshot.id(),
                "created": created,
                "profiles": profiles,
                "search_cache": served.searches.stats(),
            }))
            .into_response()
        }
    }
}

/// `GET /api/v1/profiles/{user}`: one profile, 404 when there is none, with the thanks and
/// requests counted for the person (`connections`, see [`connections_json`]).
pub async fn profile(State(state): State<Arc<AppState>>, Path(user): Path<String>) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot();
    };
    let Some(name) = normalize_user_name(&user) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{user:?} is not a valid user name"),
        );
    };
    let snapshot = Arc::clone(&served.snapshot);
    let lookup = tokio::task::spawn_blocking(move || snapshot.profile(&name)).await;
    match lookup {
        Ok(Ok(Some(profile))) => {
            let connections = connections_json(&served.connections, &profile.user);
            match serde_json::to_value(&profile) {
                Ok(Value::Object(mut object)) => {
                    object.insert("connections".into(), Value::Array(connections));
                    Json(Value::Object(object)).into_response()
                }
                Ok(_) | Err(_) => {
                    error!("the profile of {user} does not serialise as an object");
                    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                }
            }
        }
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            format!("{user} has no Capacity Exchange profile"),
        ),
        Ok(Err(e)) => {
            error!("reading the profile of {user}: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the snapshot could not be read",
            )
        }
        Err(e) => {
            error!("profile lookup task failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// One person's recognition per skill, most thanked first: `skill` as profiles give it
/// (`{"id", "label"}` for a taxonomy skill with its English label, `{"text"}` for free text
/// as first written, `null` when the thanks or requests named none), how many different
/// people thanked them for it and asked them about it, and the URL of their Open Badges
/// assertion when they have earned one (see `badges.rs`).
pub fn connections_json(counts: &Counts, user: &str) -> Vec<Value> {
    let taxonomy = Taxonomy::bundled();
    counts
        .person(user)
        .iter()
        .map(|c| {
            let written = counts.skill_ref(&c.skill);
            let skill = match &c.skill {
                SkillKey::Known(id) => {
                    let label = taxonomy.get(id).map_or_else(
                        || written.map_or(id.as_str(), SkillRef::display),
                        |s| taxonomy.label(s, "en"),
                    );
                    json!({ "id": id, "label": label })
                }
                SkillKey::Free(folded) => {
                    json!({ "text": written.map_or(folded.as_str(), SkillRef::display) })
                }
                SkillKey::Unspecified => Value::Null,
            };
            let badge = badges::earned(&c.skill, c.thanked_by)
                .map(|skill| badges::assertion_url(&skill.id, user));
            json!({
                "skill": skill,
                "thanked_by": c.thanked_by,
                "asked_by": c.asked_by,
                "badge": badge,
            })
        })
        .collect()
}

/// The query string of `/api/v1/search`, all text so that every bad value gets our own
/// clear 400 answer rather than a generic rejection.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
    pub skill: Option<String>,
    pub kind: Option<String>,
    pub lang: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub project: Option<String>,
    pub format: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Turns query parameters into a search, or says which parameter is wrong and why.
pub fn search_request(params: &SearchParams) -> Result<SearchRequest, String> {
    let q = params.q.clone().unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(format!("q is longer than {MAX_QUERY_CHARS} characters"));
    }
    let number = |name: &str, value: &Option<String>, default: usize| -> Result<usize, String> {
        match non_empty(value) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| format!("{name} must be a whole number of 0 or more, not {v:?}")),
        }
    };
    let limit = number("limit", &params.limit, 20)?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(format!("limit must be between 1 and {MAX_LIMIT}"));
    }
    let offset = number("offset", &params.offset, 0)?;
    if offset > 10_000 {
        return Err("offset must be at most 10000".into());
    }
    let kind = match non_empty(&params.kind) {
        None => None,
        Some(k) => Some(k.parse::<SkillKind>()?),
    };
    let skill = match non_empty(&params.skill) {
        None => None,
        Some(s) => match Taxonomy::bundled().resolve(s) {
            Some(skill) => Some(skill.id.clone()),
            None => {
                return Err(format!(
                    "unknown skill {s:?} (use an id from /api/v1/skills)"
                ));
            }
        },
    };
    if kind.is_some() && skill.is_none() {
        return Err("kind needs a skill".into());
    }
    let language = match non_empty(&params.lang) {
        None => None,
        Some(l) => Some(language_filter(l)?),
    };
    let region = match non_empty(&params.region) {
        None => None,
        Some(r) => Some(Region::from_code(r).ok_or_else(|| {
            format!("unknown region {r:?} (one of SSA, NWE, ESEAP, LAC, CEECA, SA, MENA, NA)")
        })?),
    };
    Ok(SearchRequest {
        q,
        skill,
        kind,
        language,
        region,
        country: non_empty(&params.country).map(str::to_uppercase),
        project: non_empty(&params.project).map(str::to_lowercase),
        format: non_empty(&params.format).map(str::to_lowercase),
        limit,
        offset,
    })
}

/// `pt` (any level) or `pt-3` / `pt-N` (at least that level).
fn language_filter(value: &str) -> Result<(String, Level), String> {
    let lower = value.to_ascii_lowercase();
    let (code, level) = match lower.rsplit_once('-') {
        Some((code, level)) if level.parse::<Level>().is_ok() => (
            code.to_string(),
            level.parse::<Level>().unwrap_or(Level::NATIVE),
        ),
        _ => (lower.clone(), Level::new(0).unwrap_or(Level::NATIVE)),
    };
    if !exchange::languages::is_well_formed(&code) {
        return Err(format!(
            "lang must be a language code, optionally with a level (pt, pt-3, pt-N), not {value:?}"
        ));
    }
    Ok((code, level))
}

/// Says how long the handler took (`Server-Timing: app;dur=<ms>`), from `started` to now:
/// the search and the rendering, without compression or the network. Browsers' developer
/// tools show it, and `bench/web.sh` reads it for the server-side latency of searches.
pub fn add_server_timing(response: &mut Response, started: std::time::Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        response
            .headers_mut()
            .insert(axum::http::HeaderName::from_static("server-timing"), value);
    }
}

/// `GET /api/v1/search`: profiles matching a query and filters, with facet counts.
pub async fn search(
    State(state): State<Arc<AppState>>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let started = std::time::Instant::now();
    let mut response = search_json(state, params).await;
    add_server_timing(&mut response, started);
    response
}

async fn search_json(
    state: Arc<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Response {
    let params = match params {
        Ok(Query(params)) => params,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let request = match search_request(&params) {
        Ok(request) => request,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let Some(served) = state.served() else {
        return no_snapshot();
    };
    let found =
        tokio::task::spawn_blocking(move || served.searches.search(&served.snapshot, &request))
            .await;
    match found {
        Ok(Ok(results)) => Json(results.as_ref()).into_response(),
        Ok(Err(e)) => {
            error!("search failed: {e}");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the search could not be answered",
            )
        }
        Err(e) => {
            error!("search task failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// `GET /api/v1/skills`: the taxonomy, each skill with its offer/want/know counts.
pub async fn skills(State(state): State<Arc<AppState>>) -> Response {
    let Some(snapshot) = state.snapshot() else {
        return no_snapshot();
    };
    let counts = match tokio::task::spawn_blocking(move || snapshot.skill_counts()).await {
        Ok(Ok(counts)) => counts,
        Ok(Err(e)) => {
            error!("counting skills: {e}");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the snapshot could not be read",
            );
        }
        Err(e) => {
            error!("skills task failed: {e}");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let taxonomy = Taxonomy::bundled();
    let skills: Vec<serde_json::Value> = taxonomy
        .skills()
        .iter()
        .map(|skill| {
            let count =
                |kind: SkillKind| counts.get(&(skill.id.clone(), kind)).copied().unwrap_or(0);
            json!({
                "id": skill.id,
                "parent": skill.parent,
                "labels": skill.labels,
                "aliases": skill.aliases,
                "wikidata": skill.wikidata,
                "offers": count(SkillKind::Offers),
                "wants": count(SkillKind::Wants),
                "knows": count(SkillKind::Knows),
            })
        })
        .collect();
    Json(json!({ "version": taxonomy.version(), "skills": skills })).into_response()
}

/// `GET /api/v1/match/{user}`: who can teach the person, whom they can help, and both.
pub async fn matches(State(state): State<Arc<AppState>>, Path(user): Path<String>) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot();
    };
    let Some(name) = normalize_user_name(&user) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{user:?} is not a valid user name"),
        );
    };
    let found =
        tokio::task::spawn_blocking(move || served.matcher.matches(&name, chrono::Utc::now(), 20))
            .await;
    match found {
        Ok(Some(matches)) => Json(matches).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("{user} has no Capacity Exchange profile"),
        ),
        Err(e) => {
            error!("matching task failed: {e}");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// `GET /api/v1/stats`: the aggregates behind the statistics page and the reports.
pub async fn stats(State(state): State<Arc<AppState>>) -> Response {
    match state.served() {
        Some(served) => Json(&served.stats).into_response(),
        None => no_snapshot(),
    }
}

/// `GET /api/v1/openapi.json`: the description of this API.
pub async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../static/openapi.json"),
    )
        .into_response()
}
