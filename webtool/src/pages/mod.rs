//! The HTML pages: rendered on the server with minijinja, usable without JavaScript.
//!
//! Templates and the stylesheet are embedded in the binary. Every page is rendered in the
//! reader's language (`?uselang=`, then the `capx-lang` cookie, then Accept-Language), right
//! to left where the language is, and autoescaped: text from profiles is always text.
//! Every printed value also has its bidirectional controls balanced (`crate::bidi`), and
//! every text argument of a message that holds such controls is isolated, so that text
//! from a profile cannot reorder the words around it.

mod about;
mod builder;
mod home;
mod matches;
mod profile;
mod search;
mod skill;
mod skills;
mod statistics;
pub mod view;

pub use about::about;
pub use builder::builder;
pub use home::home;
pub use matches::matches;
pub use profile::profile;
pub use search::{SearchPageParams, search};
pub use skill::{feed as skill_feed, skill};
pub use skills::skills;
pub use statistics::statistics;

use std::borrow::Cow;
use std::sync::OnceLock;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use tracing::error;

use crate::{bidi, i18n};

/// Where people edit their profiles.
pub const WIKI: &str = "https://meta.wikimedia.org";
/// Where the tool is served: feeds need absolute links.
pub const PUBLIC_URL: &str = "https://capacity-exchange.toolforge.org";
const STYLE: &str = include_str!("../../static/style.css");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Autoescaping as by default, after balancing the bidirectional controls of every
        // string printed: `<bdi>` isolates only balanced text (see `crate::bidi`).
        env.set_formatter(|out, state, value| {
            if let Some(text) = value.as_str()
                && let Cow::Owned(balanced) = bidi::balance(text)
            {
                let balanced = if value.is_safe() {
                    Value::from_safe_string(balanced)
                } else {
                    Value::from(balanced)
                };
                return minijinja::escape_formatter(out, state, &balanced);
            }
            minijinja::escape_formatter(out, state, value)
        });
        // For text outside any element of its own: the page's title.
        env.add_filter("isolate", |text: Cow<'_, str>| {
            bidi::isolate(&text).into_owned()
        });
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("home.html", include_str!("../../templates/home.html")),
            ("card.html", include_str!("../../templates/card.html")),
            ("search.html", include_str!("../../templates/search.html")),
            ("profile.html", include_str!("../../templates/profile.html")),
            ("error.html", include_str!("../../templates/error.html")),
            ("match.html", include_str!("../../templates/match.html")),
            ("skills.html", include_str!("../../templates/skills.html")),
            (
                "statistics.html",
                include_str!("../../templates/statistics.html"),
            ),
            ("chips.html", include_str!("../../templates/chips.html")),
            ("skill.html", include_str!("../../templates/skill.html")),
            ("about.html", include_str!("../../templates/about.html")),
            ("builder.html", include_str!("../../templates/builder.html")),
        ] {
            // The templates are part of the program; a broken one is a bug caught by tests.
            if let Err(e) = env.add_template(name, source) {
                error!("template {name} does not compile: {e}");
            }
        }
        env
    })
}

/// The language a request is answered in.
fn language(uselang: Option<&str>, headers: &HeaderMap) -> &'static str {
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| {
            cookies
                .split(';')
                .filter_map(|c| c.trim().split_once('='))
                .find(|(k, _)| *k == "capx-lang")
                .map(|(_, v)| v)
        });
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    i18n::negotiate(uselang, cookie, accept)
}

/// A page of the wiki by its title, as MediaWiki writes its URLs (underscores for spaces).
pub(crate) fn wiki_url(title: &str) -> String {
    format!("{WIKI}/wiki/{}", urlencode(&title.replace(' ', "_")))
}

/// Percent-encodes everything but unreserved characters, `/` and `:` (title separators).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The language switcher's choices, each named in its own language.
fn language_links() -> Vec<Value> {
    i18n::LANGUAGES
        .iter()
        .map(|code| {
            let name = exchange::languages::language(code)
                .map_or_else(|| code.to_string(), |l| l.autonym.clone());
            context! { code => *code, name => name, dir => i18n::dir(code) }
        })
        .collect()
}

/// Renders a template with the reader's language and the common variables.
fn render(lang: &'static str, name: &str, extra: Value, status: StatusCode) -> Response {
    let env = environment();
    let msg = move |key: String, args: minijinja::value::Rest<Value>| -> String {
        // Text from profiles (a name, a skill) stays inside its place in the sentence.
        let args: Vec<String> = args
            .iter()
            .map(|a| match a.as_str() {
                Some(text) => bidi::isolate(text).into_owned(),
                None => a.to_string(),
            })
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        i18n::Catalog::global().message(lang, &key, &refs)
    };
    let base = context! {
        lang => lang,
        dir => if i18n::is_rtl(lang) { "rtl" } else { "ltr" },
        asset_version => env!("CARGO_PKG_VERSION"),
        msg => Value::from_function(msg),
        languages => language_links(),
    };
    let ctx = context! { ..base, ..extra };
    let rendered = env.get_template(name).and_then(|t| t.render(ctx));
    match rendered {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!(
                "capx-lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            error!("rendering {name}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn error_page(
    lang: &'static str,
    status: StatusCode,
    heading_key: &str,
    text_key: &str,
) -> Response {
    let extra = context! {
        heading => i18n::Catalog::global().message(lang, heading_key, &[]),
        text => i18n::Catalog::global().message(lang, text_key, &[]),
    };
    render(lang, "error.html", extra, status)
}

fn no_snapshot(lang: &'static str) -> Response {
    error_page(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "capx-title",
        "capx-no-snapshot",
    )
}

fn not_found_page(lang: &'static str) -> Response {
    error_page(
        lang,
        StatusCode::NOT_FOUND,
        "capx-not-found-heading",
        "capx-not-found",
    )
}

fn server_error(lang: &'static str) -> Response {
    error_page(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        "capx-error-heading",
        "capx-error-text",
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LangParam {
    pub uselang: Option<String>,
}

/// The reader's language, for handlers to take as an argument: `?uselang=`, then the
/// `capx-lang` cookie, then Accept-Language, then English. Never fails.
pub struct Lang(pub &'static str);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Lang, Self::Rejection> {
        let uselang = Query::<LangParam>::try_from_uri(&parts.uri)
            .ok()
            .and_then(|Query(p)| p.uselang);
        Ok(Lang(language(uselang.as_deref(), &parts.headers)))
    }
}

/// `GET /static/style.css`, embedded, cached for a year (the URL carries the version).
pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLE,
    )
        .into_response()
}

/// Any other page: a friendly 404 in the reader's language.
pub async fn not_found(Lang(lang): Lang) -> Response {
    not_found_page(lang)
}
