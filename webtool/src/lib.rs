//! The Capacity Exchange web tool: snapshot → web pages and JSON API. Read-only.
//!
//! A thin shell over the `exchange` library (see ARCHITECTURE.md): routing and HTTP here,
//! everything the tool knows there.

pub mod api;
pub mod badges;
pub use exchange::bidi;
pub mod charts;
pub mod demo;
pub mod i18n;
pub mod pages;
pub mod search_cache;
pub mod server;
pub mod state;

use std::sync::Arc;

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
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

/// A validator lasts at most this long even within one snapshot: pages show each person's
/// local time and how long ago profiles changed.
const ETAG_PERIOD_SECS: i64 = 600;

/// Conditional requests: every page and API answer depends only on the snapshot
/// generation, the URL, the reader's language choice and the clock (in
/// [`ETAG_PERIOD_SECS`] steps), so its ETag is computed from those *before* the handler
/// runs, and a client that already has it gets `304 Not Modified` without any search.
async fn conditional(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() != Method::GET && request.method() != Method::HEAD
        || path.starts_with("/static/")
        || path == "/healthz"
    {
        return next.run(request).await;
    }
    let Some(generation) = state.snapshot().map(|s| s.id().to_string()) else {
        return next.run(request).await;
    };
    let mut hasher = DefaultHasher::new();
    request.uri().hash(&mut hasher);
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE] {
        request
            .headers()
            .get(&name)
            .map(HeaderValue::as_bytes)
            .hash(&mut hasher);
    }
    let period = chrono::Utc::now().timestamp() / ETAG_PERIOD_SECS;
    let tag = format!("W/\"{generation}-{period}-{:016x}\"", hasher.finish());
    let matches = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    // Badge documents are fetched by badge platforms, like the API: shareable too.
    let api = path.starts_with("/api/") || path.starts_with("/badges/");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        next.run(request).await
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&tag) {
            headers.insert(header::ETAG, value);
        }
        // Pages carry the language cookie, so only the reader's browser may keep them, and
        // it asks again each time (cheaply, with the ETag); API answers may be shared.
        let cache = if api {
            "public, max-age=60"
        } else {
            "private, no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(
            header::VARY,
            HeaderValue::from_static("Accept-Language, Cookie"),
        );
    }
    response
}

/// Longer URLs are refused before any handler sees them: the longest real one, a filled-in
/// profile builder form, is a few kilobytes.
const MAX_URI_BYTES: usize = 16 * 1024;

async fn limit_uri(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if length > MAX_URI_BYTES {
        let message =
            format!("the address is {length} bytes long; at most {MAX_URI_BYTES} are accepted");
        return (StatusCode::URI_TOO_LONG, message).into_response();
    }
    next.run(request).await
}

/// Unknown paths: JSON under /api/ and /badges/, a friendly page elsewhere.
async fn fallback(uri: Uri, lang: pages::Lang) -> Response {
    if uri.path().starts_with("/api/") || uri.path().starts_with("/badges/") {
        api::error(StatusCode::NOT_FOUND, "no such API route").into_response()
    } else {
        pages::not_found(lang).await
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
        // Open Badges documents (see `badges.rs`): verifiers may fetch them from a browser.
        .route("/badges/issuer.json", get(badges::issuer))
        .route("/badges/{file}", get(badges::badge_class))
        .route("/badges/{skill}/{file}", get(badges::skill_file))
        .layer(CorsLayer::permissive());
    Router::new()
        .route("/", get(pages::home))
        .route("/search", get(pages::search))
        .route("/profile/{user}", get(pages::profile))
        .route("/match/{user}", get(pages::matches))
        .route("/skills", get(pages::skills))
        .route("/stats", get(pages::statistics))
        .route("/skill/{id}", get(pages::skill))
        .route("/skill/{id}/feed.atom", get(pages::skill_feed))
        .route("/about", get(pages::about))
        .route("/create", get(pages::builder))
        .route("/static/style.css", get(pages::style))
        // Browsers ask for an icon on every page; "none" is an answer, a 404 a console error.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(api)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            conditional,
        ))
        .layer(axum::middleware::from_fn(limit_uri))
        .layer(axum::middleware::map_response(security_headers))
        .layer(CompressionLayer::new())
        .with_state(state)
}
