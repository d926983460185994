//! The about and privacy page: what the tool collects, how to leave, where data goes.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::{Lang, render, wiki_url};

/// `GET /about`: needs no snapshot, so it answers even before the first crawl.
pub async fn about(Lang(lang): Lang) -> Response {
    let extra = context! {
        template_url => wiki_url("Template:Capacity Exchange profile"),
        source_url => env!("CARGO_PKG_REPOSITORY"),
    };
    render(lang, "about.html", extra, StatusCode::OK)
}
