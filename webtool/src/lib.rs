//! The Capacity Exchange web tool: snapshot → web pages and JSON API. Read-only.
//!
//! A thin shell over the `exchange` library (see ARCHITECTURE.md): routing and HTTP here,
//! everything the tool knows there.

pub mod api;
pub mod demo;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::cors::CorsLayer;

use state::AppState;

/// The application's routes, with the state they share.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/profiles/{user}", get(api::profile))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/skills", get(api::skills))
        .route("/api/v1/match/{user}", get(api::matches))
        .route("/api/v1/stats", get(api::stats))
        .layer(CorsLayer::permissive())
        .fallback(|| async { api::error(StatusCode::NOT_FOUND, "no such page") })
        .with_state(state)
}
