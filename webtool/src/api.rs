//! The JSON API (`/api/v1/…`) and `/healthz`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use exchange::wikitext::title::normalize_user_name;
use serde_json::json;
use tracing::error;

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
    match state.snapshot() {
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "no snapshot", "generation": null })),
        )
            .into_response(),
        Some(snapshot) => {
            let profiles = snapshot.profile_count().ok();
            let created = snapshot.meta("created").ok().flatten();
            Json(json!({
                "status": "ok",
                "generation": snapshot.id(),
                "created": created,
                "profiles": profiles,
            }))
            .into_response()
        }
    }
}

/// `GET /api/v1/profiles/{user}`: one profile, 404 when there is none.
pub async fn profile(State(state): State<Arc<AppState>>, Path(user): Path<String>) -> Response {
    let Some(snapshot) = state.snapshot() else {
        return no_snapshot();
    };
    let Some(name) = normalize_user_name(&user) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{user:?} is not a valid user name"),
        );
    };
    let lookup = tokio::task::spawn_blocking(move || snapshot.profile(&name)).await;
    match lookup {
        Ok(Ok(Some(profile))) => Json(profile).into_response(),
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
