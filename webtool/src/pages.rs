//! The HTML pages: rendered on the server with minijinja, usable without JavaScript.
//!
//! Templates and the stylesheet are embedded in the binary. Every page is rendered in the
//! reader's language (`?uselang=`, then the `capx-lang` cookie, then Accept-Language), right
//! to left where the language is, and autoescaped: text from profiles is always text.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use exchange::search::search as run_search;
use exchange::wikitext::title::normalize_user_name;
use minijinja::{Environment, Value, context};
use tracing::error;

use crate::api::{SearchParams, search_request};
use crate::i18n;
use crate::state::AppState;

/// Where people edit their profiles.
pub const WIKI: &str = "https://meta.wikimedia.org";
const STYLE: &str = include_str!("../static/style.css");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("card.html", include_str!("../templates/card.html")),
            ("search.html", include_str!("../templates/search.html")),
            ("profile.html", include_str!("../templates/profile.html")),
            ("error.html", include_str!("../templates/error.html")),
            ("match.html", include_str!("../templates/match.html")),
            ("skills.html", include_str!("../templates/skills.html")),
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

fn wiki_url(title: &str) -> String {
    format!("{WIKI}/wiki/{}", urlencode(&title.replace(' ', "_")))
}

fn urlencode(s: &str) -> String {
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

fn create_url() -> String {
    format!(
        "{WIKI}/wiki/Special:MyPage?action=edit&preload={}",
        urlencode("Template:Capacity_Exchange_profile/preload")
    )
}

/// Renders a template with the reader's language and the common variables.
fn render(lang: &'static str, name: &str, extra: Value, status: StatusCode) -> Response {
    let env = environment();
    let msg = move |key: String, args: minijinja::value::Rest<Value>| -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        i18n::Catalog::global().message(lang, &key, &refs)
    };
    let base = context! {
        lang => lang,
        dir => if i18n::is_rtl(lang) { "rtl" } else { "ltr" },
        create_url => create_url(),
        asset_version => env!("CARGO_PKG_VERSION"),
        msg => Value::from_function(msg),
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
        "capx-title",
        "capx-error-text",
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct LangParam {
    pub uselang: Option<String>,
}

/// `GET /`: the search box, counts and the most offered and wanted skills.
pub async fn home(
    State(state): State<Arc<AppState>>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
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

#[derive(Debug, Default, serde::Deserialize)]
pub struct SearchPageParams {
    #[serde(flatten)]
    pub search: SearchParams,
    pub uselang: Option<String>,
}

/// `GET /search`: results, facets as links, pagination; works without JavaScript.
pub async fn search(
    State(state): State<Arc<AppState>>,
    Query(params): Query<SearchPageParams>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    let Some(snapshot) = state.snapshot() else {
        return no_snapshot(lang);
    };
    let p = &params.search;
    let mut request = match search_request(p) {
        Ok(request) => request,
        Err(message) => {
            let extra = context! { q => p.q.clone().unwrap_or_default(), error => message, results => Vec::<Value>::new(), total => 0, facets => Vec::<Value>::new(), filters => Vec::<(String, String)>::new() };
            return render(lang, "search.html", extra, StatusCode::BAD_REQUEST);
        }
    };
    request.limit = request.limit.min(20);
    let limit = request.limit;
    let offset = request.offset;
    let q = request.q.clone();
    let found = tokio::task::spawn_blocking(move || run_search(&snapshot, &request)).await;
    let results = match found {
        Ok(Ok(results)) => results,
        _ => {
            return server_error(lang);
        }
    };
    let filters: Vec<(&str, String)> = [
        ("skill", &p.skill),
        ("kind", &p.kind),
        ("lang", &p.lang),
        ("region", &p.region),
        ("country", &p.country),
        ("project", &p.project),
        ("format", &p.format),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    let href = |extra: &[(&str, String)], offset: usize| {
        let mut parts = vec![format!("uselang={lang}")];
        if !q.is_empty() {
            parts.push(format!("q={}", urlencode(&q)));
        }
        for (k, v) in filters
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        {
            parts.push(format!("{k}={}", urlencode(v)));
        }
        for (k, v) in extra {
            parts.push(format!("{k}={}", urlencode(v)));
        }
        if offset > 0 {
            parts.push(format!("offset={offset}"));
        }
        format!("/search?{}", parts.join("&"))
    };
    let taxonomy = exchange::taxonomy::Taxonomy::bundled();
    let families: Vec<Value> = [
        ("region", "region", "capx-filter-region"),
        ("language", "lang", "capx-filter-language"),
        ("skill_offers", "skill", "capx-filter-skill"),
        ("project", "project", "capx-filter-project"),
        ("format", "format", "capx-filter-format"),
    ]
    .into_iter()
    .filter_map(|(family, param, title)| {
        let values = results.facets.get(family)?;
        let values: Vec<Value> = values
            .iter()
            .take(12)
            .map(|v| {
                let label = match family {
                    "region" => i18n::Catalog::global().message(lang, &format!("capx-region-{}", v.value.to_lowercase()), &[]),
                    "skill_offers" => taxonomy
                        .get(&v.value)
                        .map_or(v.value.clone(), |s| taxonomy.label(s, lang).to_string()),
                    _ => v.value.clone(),
                };
                let mut extra = vec![(param, v.value.clone())];
                if family == "skill_offers" {
                    extra.push(("kind", "offers".to_string()));
                }
                context! { label => label, count => v.count, href => href(&extra, 0) }
            })
            .collect();
        (!values.is_empty()).then(|| context! { title => i18n::Catalog::global().message(lang, title, &[]), values => values })
    })
    .collect();
    let total = results.total;
    let prev_href = (offset > 0).then(|| href(&[], offset.saturating_sub(limit)));
    let next_href = (offset + limit < total).then(|| href(&[], offset + limit));
    let cards: Vec<Value> = results
        .results
        .into_iter()
        .map(|hit| Value::from(minijinja::value::Serde(hit.profile)))
        .collect();
    let extra = context! {
        q => q.clone(),
        filters => filters,
        results => cards,
        total => total,
        facets => families,
        prev_href => prev_href,
        next_href => next_href,
    };
    render(lang, "search.html", extra, StatusCode::OK)
}

/// `GET /profile/{user}`: everything the person published and ways to connect.
pub async fn profile(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    let Some(snapshot) = state.snapshot() else {
        return no_snapshot(lang);
    };
    let Some(name) = normalize_user_name(&user) else {
        return not_found_page(lang);
    };
    let lookup_name = name.clone();
    let found = tokio::task::spawn_blocking(move || {
        let profile = snapshot.profile(&lookup_name)?;
        let email = snapshot.accepts_email(&lookup_name)?;
        Ok::<_, exchange::store::StoreError>((profile, email))
    })
    .await;
    let (profile, email) = match found {
        Ok(Ok((Some(profile), email))) => (profile, email),
        Ok(Ok((None, _))) => {
            return not_found_page(lang);
        }
        _ => {
            return server_error(lang);
        }
    };
    let subject = i18n::Catalog::global().message(lang, "capx-talk-subject", &[]);
    let talk_url = format!(
        "{WIKI}/w/index.php?title={}&action=edit&section=new&preloadtitle={}",
        urlencode(&format!("User_talk:{}", name.replace(' ', "_"))),
        urlencode(&subject)
    );
    let extra = context! {
        p => Value::from(minijinja::value::Serde(&profile)),
        talk_url => talk_url,
        email_url => email.then(|| wiki_url(&format!("Special:EmailUser/{name}"))),
        page_url => wiki_url(&profile.page),
        edit_url => format!("{}?action=edit", wiki_url(&profile.page)),
    };
    render(lang, "profile.html", extra, StatusCode::OK)
}

/// `GET /match/{user}`: the three lists of matches with their reasons.
pub async fn matches(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let Some(name) = normalize_user_name(&user) else {
        return not_found_page(lang);
    };
    let lookup = name.clone();
    let found = tokio::task::spawn_blocking(move || {
        served.matcher.matches(&lookup, chrono::Utc::now(), 20)
    })
    .await;
    let Ok(Some(matches)) = found else {
        return not_found_page(lang);
    };
    let catalog = i18n::Catalog::global();
    let lists = vec![
        context! { title => catalog.message(lang, "capx-match-learn-from", &[]), entries => Value::from(minijinja::value::Serde(&matches.learn_from)) },
        context! { title => catalog.message(lang, "capx-match-share-with", &[]), entries => Value::from(minijinja::value::Serde(&matches.share_with)) },
        context! { title => catalog.message(lang, "capx-match-exchange", &[]), entries => Value::from(minijinja::value::Serde(&matches.exchange)) },
    ];
    render(
        lang,
        "match.html",
        context! { user => name, lists => lists },
        StatusCode::OK,
    )
}

/// `GET /skills`: the taxonomy as a tree, with how many offer and want each skill.
pub async fn skills(
    State(state): State<Arc<AppState>>,
    Query(params): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
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
pub async fn not_found(Query(params): Query<LangParam>, headers: HeaderMap) -> Response {
    let lang = language(params.uselang.as_deref(), &headers);
    not_found_page(lang)
}
