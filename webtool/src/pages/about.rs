//! The about and privacy page: what the tool collects, how thanks and requests are read and
//! counted, how to leave, where data goes.

use axum::http::StatusCode;
use axum::response::Response;
use exchange::connections::{BADGE_MIN_THANKERS, REQUEST_TEMPLATE, THANKS_TEMPLATE};
use minijinja::context;

use super::{Lang, render, wiki_url};

/// `GET /about`: needs no snapshot, so it answers even before the first crawl.
pub async fn about(Lang(lang): Lang) -> Response {
    let extra = context! {
        template_url => wiki_url("Template:Capacity Exchange profile"),
        thanks_url => wiki_url(&format!("Template:{THANKS_TEMPLATE}")),
        request_url => wiki_url(&format!("Template:{REQUEST_TEMPLATE}")),
        // The calls as people see them on the wiki; code, not translated.
        thanks_call => format!("{{{{{THANKS_TEMPLATE}|user=…|skill=…|date=…|note=…}}}}"),
        request_call => format!("{{{{{REQUEST_TEMPLATE}|skill=…}}}}"),
        badge_min => BADGE_MIN_THANKERS,
        source_url => env!("CARGO_PKG_REPOSITORY"),
    };
    render(lang, "about.html", extra, StatusCode::OK)
}
