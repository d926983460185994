//! The Capacity Exchange web tool: snapshot → web pages and JSON API. Read-only.
//!
//! A thin shell over the `exchange` library (see ARCHITECTURE.md): routing and HTTP here,
//! everything the tool knows there.

pub mod api;
pub mod demo;
pub mod i18n;
pub mod pages;
pub mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;

use state::AppState;

/// No inline script or style, nothing from elsewhere; forms may go only to us or Meta-Wiki.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     script-src 'self'; connect-src 'self'; form-action 'self' https://meta.wikimedia.org; \
     base-uri 'none'; frame-ancestors 'none'";

/// Headers every answer carries.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Unknown paths: JSON under /api/, a friendly page elsewhere.
async fn fallback(uri: Uri, query: Query<pages::LangParam>, headers: HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        api::error(StatusCode::NOT_FOUND, "no such API route").into_response()
    } else {
        pages::not_found(query, headers).await
    }
}

/// The application's routes, with the state they share.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/profiles/{user}", get(api::profile))
        .route("/api/v1/search", get(api::search))
        .route("/api/v1/skills", get(api::skills))
        .route("/api/v1/match/{user}", get(api::matches))
        .route("/api/v1/stats", get(api::stats))
        .route("/api/v1/openapi.json", get(api::openapi))
        .layer(CorsLayer::permissive());
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/profile/{user}", get(pages::profile))
        .route("/match/{user}", get(pages::matches))
        .route("/skills", get(pages::skills))
        .route("/static/style.css", get(pages::style))
        .merge(api)
        .fallback(fallback)
        .layer(axum::middleware::map_response(security_headers))
        .layer(CompressionLayer::new())
        .with_state(state)
}
