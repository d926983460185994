//! The HTML pages over HTTP on loopback: languages, right-to-left, escaping, security headers.
//! (Rendering in a real browser is checked by the browser tests.)

use std::sync::Arc;

use exchange::store::DataDir;
use webtool::state::AppState;

async fn serve(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, webtool::router(state)).await.unwrap();
    });
    format!("http://{address}")
}

async fn get(
    url: String,
    accept_language: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let client = reqwest::Client::new();
    let mut request = client.get(url);
    if let Some(value) = accept_language {
        request = request.header("Accept-Language", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// A wiki with one ordinary profile and one written to break pages.
fn export() -> &'static [u8] {
    let hostile = "{{Capacity Exchange profile\n| offers = Lua; &lt;img src=x onerror=alert(1)&gt;\n| languages = en-N\n| country = BR\n| bio = Hi &lt;script&gt;alert('bio')&lt;/script&gt; [javascript:alert(1) click]\n}}";
    let ordinary = "{{Capacity Exchange profile\n| offers = Lua; Wikidata\n| wants = grant writing\n| languages = pt-N, en-3\n| country = BR\n| bio = Organizer of edit-a-thons in Recife.\n}}";
    let page = |id: u32, user: &str, text: &str| {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!(
            "<page><title>User:{user}</title><ns>2</ns><id>{id}</id><revision><id>{}</id><timestamp>2026-01-0{id}T00:00:00Z</timestamp><contributor><username>{user}</username><id>{id}</id></contributor><text xml:space=\"preserve\">{escaped}</text></revision></page>",
            id * 10
        )
    };
    let teacher = "{{Capacity Exchange profile\n| offers = grant writing\n| wants = Lua\n| languages = pt-4, es-N\n| country = AR\n| timezone = America/Argentina/Buenos_Aires\n}}";
    let xml = format!(
        "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\">{}{}{}</mediawiki>",
        page(1, "Ana Souza", ordinary),
        page(2, "Mallory", hostile),
        page(3, "Bruno Díaz", teacher)
    );
    Box::leak(xml.into_bytes().into_boxed_slice())
}

async fn site() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let bytes = export();
    let open = || Ok(exchange::dump::open_bytes(bytes));
    exchange::import::import(&open, &data, "test", &mut |_| {}).unwrap();
    let state = Arc::new(AppState::new(data));
    state.refresh();
    let base = serve(state).await;
    (dir, base)
}

#[tokio::test]
async fn pages_render_in_the_readers_language_with_strict_headers() {
    let (_dir, base) = site().await;
    let (status, headers, home) = get(format!("{base}/"), Some("pt-BR,pt;q=0.9,en;q=0.5")).await;
    assert_eq!(status, 200);
    assert!(home.contains("<html lang=\"pt\" dir=\"ltr\">"), "{home}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (_, _, arabic) = get(format!("{base}/search?q=Lua&uselang=ar"), None).await;
    assert!(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(arabic.contains("Ana Souza"));

    let (status, _, missing) = get(format!("{base}/no/such/page?uselang=de"), None).await;
    assert_eq!(status, 404);
    assert!(missing.contains("lang=\"de\""));
    let (status, _, _) = get(format!("{base}/profile/Nobody"), None).await;
    assert_eq!(status, 404);
    let (status, _, api_missing) = get(format!("{base}/api/v1/nothing"), None).await;
    assert_eq!(status, 404);
    assert!(
        api_missing.starts_with('{'),
        "API paths answer JSON: {api_missing}"
    );

    let (status, headers, css) = get(format!("{base}/static/style.css"), None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.contains("--color-progressive"));
}

#[tokio::test]
async fn a_profile_page_offers_ways_to_connect() {
    let (_dir, base) = site().await;
    let (status, _, page) = get(format!("{base}/profile/Ana_Souza?uselang=en"), None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("action=edit&amp;section=new"),
        "new talk section link"
    );
    assert!(page.contains("User_talk:Ana_Souza"));
    assert!(page.contains("Organizer of edit-a-thons in Recife."));
    // The new section is prefilled with the request marker, then a message and a signature.
    assert!(
        page.contains("&amp;preloadparams%5B%5D=%7B%7BCapacity%20Exchange%20request%7Cskill%3D%7D%7D%0AHello%21%20I%20found%20you"),
        "the talk link carries the marker and the message: {page}"
    );
    assert!(page.contains("%20~~~~\""), "the message is signed");
    assert!(page.contains("&amp;preload=Template:Capacity_Exchange_profile&#x2f;builder&amp;"));
    let (_, _, pt) = get(format!("{base}/profile/Ana_Souza?uselang=pt"), None).await;
    assert!(
        pt.contains("%7B%7BCapacity%20Exchange%20request%7Cskill%3D%7D%7D%0AOl%C3%A1%21"),
        "the message is in the reader's language"
    );
}

#[tokio::test]
async fn hostile_text_is_shown_as_text() {
    let (_dir, base) = site().await;
    let (_, _, page) = get(format!("{base}/profile/Mallory"), None).await;
    assert!(!page.contains("<script"), "{page}");
    assert!(
        page.contains("alert(&#x27;bio&#x27;)"),
        "the text stays, inert: {page}"
    );
    assert!(!page.contains("<img"));
    assert!(!page.contains("href=\"javascript:"));
    let (_, _, results) = get(format!("{base}/search?q=Lua"), None).await;
    assert!(!results.contains("<img src=x"));
}

#[tokio::test]
async fn skill_directory_and_match_pages_render() {
    let (_dir, base) = site().await;
    let (status, _, skills) = get(format!("{base}/skills?uselang=pt"), None).await;
    assert_eq!(status, 200);
    assert!(
        skills.contains("Módulos Lua"),
        "labels in the reader's language"
    );
    assert!(skills.contains("/skill/lua-modules?uselang=pt"));
    let (status, _, page) = get(format!("{base}/match/Ana_Souza?uselang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("People to learn from"));
    let (status, _, _) = get(format!("{base}/match/Nobody"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn match_reasons_and_profile_peers_are_in_the_readers_language() {
    let (_dir, base) = site().await;
    let (_, _, page) = get(format!("{base}/match/Ana_Souza?uselang=pt"), None).await;
    assert!(page.contains("Bruno Díaz"), "{page}");
    assert!(
        page.contains("Oferece Redação de propostas de financiamento, que você quer aprender"),
        "a translated skill reason: {page}"
    );
    assert!(
        page.contains("Vocês dois falam português (você: nativo, a pessoa: nível 4)"),
        "a translated language reason with levels: {page}"
    );
    assert!(!page.contains("which you want to learn"), "no English left");

    let (_, _, profile) = get(format!("{base}/profile/Ana_Souza?uselang=en"), None).await;
    assert!(profile.contains("People who can teach Ana Souza"));
    assert!(profile.contains("/profile/Bruno%20D%C3%ADaz"), "{profile}");
    let (_, _, bruno) = get(format!("{base}/profile/Bruno_D%C3%ADaz?uselang=en"), None).await;
    assert!(bruno.contains("Local time: <time datetime=\""), "{bruno}");
    assert!(
        bruno.contains("(UTC-03:00)") || bruno.contains("America"),
        "{bruno}"
    );
}

#[tokio::test]
async fn a_skill_page_lists_who_offers_wants_and_knows_it_with_a_feed() {
    let (_dir, base) = site().await;
    let (status, headers, page) = get(format!("{base}/skill/lua-modules?uselang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Lua modules</h1>"), "{page}");
    assert!(page.contains("2 people offer this skill"), "{page}");
    assert!(page.contains("1 person wants to learn it"), "{page}");
    assert!(page.contains("application/atom+xml"));
    assert!(headers.contains_key("etag"));
    let (status, _, _) = get(format!("{base}/skill/no-such-skill"), None).await;
    assert_eq!(status, 404);

    let (status, headers, feed) = get(format!("{base}/skill/lua-modules/feed.atom"), None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    assert!(feed.starts_with("<?xml"));
    assert_eq!(feed.matches("<entry>").count(), 2, "{feed}");
    assert!(
        !feed.contains("<img"),
        "profile text is escaped in the feed: {feed}"
    );
    // Newest update first: Mallory's page is from 2026-01-02, Ana's from 2026-01-01.
    let mallory = feed.find("Mallory").unwrap();
    let ana = feed.find("Ana Souza").unwrap();
    assert!(mallory < ana);
}

#[tokio::test]
async fn the_about_page_explains_privacy_in_every_language() {
    let (_dir, base) = site().await;
    for lang in ["en", "pt", "es", "fr", "de", "ar"] {
        let (status, _, page) = get(format!("{base}/about?uselang={lang}"), None).await;
        assert_eq!(status, 200);
        assert!(page.contains("id=\"privacy\""));
        assert!(page.contains("/api/v1/openapi.json"));
        // Thanks and requests: the templates, what is read, the rules and the opt-in.
        assert!(page.contains("id=\"connections\""), "{lang}");
        assert!(page.contains("{{Capacity Exchange thanks|user=…|skill=…|date=…|note=…}}"));
        assert!(page.contains("{{Capacity Exchange request|skill=…}}"));
        assert!(page.contains("Template:Capacity_Exchange_thanks"));
        assert!(page.contains("| recognition = yes"));
        assert!(!page.contains("⧼"), "{lang}: every message exists");
    }
}

#[tokio::test]
async fn an_etag_answers_not_modified_without_searching_again() {
    let (_dir, base) = site().await;
    let client = reqwest::Client::new();
    let url = format!("{base}/search?q=Lua&uselang=en");
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(tag.starts_with("W/\""), "{tag}");
    let again = client
        .get(&url)
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    // Another language is another representation.
    let other = client
        .get(format!("{base}/search?q=Lua&uselang=pt"))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    let api = client
        .get(format!("{base}/api/v1/search?q=Lua"))
        .send()
        .await
        .unwrap();
    assert!(
        api.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
}

#[tokio::test]
async fn an_absurdly_long_address_is_refused_with_a_reason() {
    let (_dir, base) = site().await;
    let (status, _, body) = get(format!("{base}/search?q={}", "a".repeat(20_000)), None).await;
    assert_eq!(status, 414);
    assert!(body.contains("at most"), "{body}");
    let (_, _, home) = get(format!("{base}/?uselang=ar"), None).await;
    assert!(
        home.contains("hreflang=\"pt\""),
        "a language switcher: {home}"
    );
    assert!(home.contains("aria-current=\"true\">العربية"), "{home}");
}

#[tokio::test]
async fn a_repeated_search_is_answered_from_the_snapshots_cache_with_the_same_results() {
    let (_dir, base) = site().await;
    let stats = || async {
        let (_, _, body) = get(format!("{base}/healthz"), None).await;
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        (
            health["search_cache"]["hits"].as_u64().unwrap(),
            health["search_cache"]["misses"].as_u64().unwrap(),
        )
    };
    let (hits0, misses0) = stats().await;
    let (_, _, first) = get(format!("{base}/api/v1/search?q=Lua"), None).await;
    let (_, _, second) = get(format!("{base}/api/v1/search?q=Lua"), None).await;
    let (_, _, page) = get(format!("{base}/search?q=Lua&uselang=en"), None).await;
    assert_eq!(first, second);
    assert!(page.contains("Ana Souza"));
    let (hits, misses) = stats().await;
    // The page and the API both ask for the first 20 results: one search, two hits.
    assert_eq!(misses - misses0, 1, "{hits} {misses}");
    assert_eq!(hits - hits0, 2);
}

#[tokio::test]
async fn an_empty_result_says_so_and_filters_can_be_cleared() {
    let (_dir, base) = site().await;
    let (status, _, page) = get(format!("{base}/search?q=zzzzqqqq&uselang=en"), None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Nobody matches this search"), "{page}");
    let (_, _, filtered) = get(format!("{base}/search?q=Lua&country=BR&uselang=en"), None).await;
    assert!(filtered.contains(">Clear filters</a>"), "{filtered}");
    assert!(
        filtered.contains("><bdi>português (pt)</bdi></a>"),
        "language facets by their own names, isolated like all text from profiles: {filtered}"
    );
    assert!(
        filtered.contains("href=\"/search?uselang=en&amp;q=Lua\""),
        "{filtered}"
    );
}
