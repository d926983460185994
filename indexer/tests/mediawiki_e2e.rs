//! The crawler against a real MediaWiki on loopback (tests/mediawiki/up.sh starts it and
//! `tests/run` runs these with the wiki's address in the environment).
//!
//! Users are created and log in through the API and edit their own pages, so the wiki holds
//! what real people would make: profiles in several languages and scripts, an alias of the
//! template, a subpage profile, a profile on a non-user page, someone else's edit to a
//! profile, a page made for someone who never touched it, and a blocked user. Then edits, an
//! opt-out, a deletion, a move and a new profile, followed by an incremental crawl.
//!
//! Before anything else the tool's pages (`wiki/`) are installed with `indexer install-pages`,
//! as on Meta-Wiki, so the template people use here is the real one: a second scenario makes a
//! profile the way a person would (the edit form opened with the preload, then filled in),
//! checks the profile builder's preload link and renders the box.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::Value;

/// The scenarios share one wiki and the crawl scenario counts exactly what changed between
/// its crawls, so they take turns. (A std mutex held across awaits is fine here: each test
/// has its own runtime and thread, and waiting is the point.)
static WIKI: Mutex<()> = Mutex::new(());

fn wiki_turn() -> MutexGuard<'static, ()> {
    WIKI.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Env {
    api: String,
    admin: String,
    admin_password: String,
}

fn env() -> Env {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: start the test wiki with tests/mediawiki/up.sh and source its env.sh (tests/run does both)")
        })
    };
    Env {
        api: var("MW_API_URL"),
        admin: var("MW_ADMIN_USER"),
        admin_password: var("MW_ADMIN_PASSWORD"),
    }
}

mod common;
use common::Session;

impl Session {
    /// The text of the edit form's textarea on `index.php` with these parameters, as the
    /// person would see it in the browser.
    async fn edit_form_text(&self, params: &[(&str, &str)]) -> String {
        let index = self.api.replace("api.php", "index.php");
        let response = self.http.get(&index).query(params).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{params:?}: {}",
            response.status()
        );
        let html = response.text().await.unwrap();
        let start = html
            .find("id=\"wpTextbox1\"")
            .unwrap_or_else(|| panic!("no edit form for {params:?}"));
        let open_end = start + html[start..].find('>').unwrap() + 1;
        let close = open_end + html[open_end..].find("</textarea>").unwrap();
        html_unescape(&html[open_end..close])
    }

    async fn act(&self, params: &[(&str, &str)]) -> Value {
        let token = self.token("csrf").await;
        let mut all = params.to_vec();
        all.push(("token", &token));
        self.post(&all).await
    }
}

fn profile(template: &str, offers: &str, languages: &str, country: &str) -> String {
    format!(
        "Hello!\n{{{{{template}\n| offers = {offers}\n| wants = grant writing\n| languages = {languages}\n| country = {country}\n}}}}\n"
    )
}

fn crawl(api: &str, data: &Path, summary: &Path, full: bool, with_bot: bool) -> Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_indexer"));
    command
        .args(["crawl", "--api", api, "--data"])
        .arg(data)
        .arg("--summary-json")
        .arg(summary)
        .args(["--overlap-secs", "1"]);
    if full {
        command.arg("--full");
    }
    if !with_bot {
        command
            .env_remove("CAPX_WIKI_USER")
            .env_remove("CAPX_WIKI_PASSWORD");
    }
    let out = command.output().unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap()
}

/// Connection pages of the current generation the profiles' pass does not read: thanks
/// pages whose owner has no profile, and talk pages with request markers.
fn connection_pages_beyond_profiles(data: &Path) -> (u64, u64) {
    let snapshot = exchange::store::DataDir::new(data).open_current().unwrap();
    let (mut thanks_alone, mut talk) = (0, 0);
    for (title, (kind, _)) in snapshot.connection_pages().unwrap() {
        match kind {
            exchange::store::ConnectionKind::Thanks => {
                let owner = title.trim_start_matches("User:");
                if snapshot.profile(owner).unwrap().is_none() {
                    thanks_alone += 1;
                }
            }
            exchange::store::ConnectionKind::Requests => talk += 1,
        }
    }
    (thanks_alone, talk)
}

fn profile_of(data: &Path, user: &str) -> Option<exchange::profile::Profile> {
    exchange::store::DataDir::new(data)
        .open_current()
        .unwrap()
        .profile(user)
        .unwrap()
}

fn offers(p: &exchange::profile::Profile) -> Vec<String> {
    p.offers.iter().map(|s| s.display().to_string()).collect()
}

/// A name unique to this run, so that the test can run against a wiki that already has data.
fn unique(name: &str) -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000_000;
    format!("{name} {stamp}")
}

/// Text as it was before `htmlspecialchars` (what MediaWiki escapes in a textarea).
fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#039;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn repo_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(repo_path(path)).unwrap()
}

/// The pages of `wiki/README.md`'s table: title → file.
fn wiki_pages() -> BTreeMap<String, String> {
    repo_file("wiki/README.md")
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.trim_matches('`');
            let title = cells.get(2)?.strip_prefix('`')?;
            Some((title[..title.find('`')?].to_string(), file.to_string()))
        })
        .collect()
}

/// A message of the web tool in `lang`.
fn message(lang: &str, key: &str) -> String {
    let json: Value = serde_json::from_str(&repo_file(&format!("i18n/{lang}.json"))).unwrap();
    json[key].as_str().unwrap().to_string()
}

/// Runs `indexer install-pages` (as the bot of env.sh) and returns its output lines.
fn install_pages(api: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["install-pages", "--api", api])
        .output()
        .unwrap();
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The pages of `wiki/` on the wiki, as the tool installs them: once per test run, before
/// any scenario. A second installation changes nothing, and what the wiki holds is the files.
async fn pages_installed(api: &str) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return;
    }
    let pages = wiki_pages();
    let first = install_pages(api);
    assert_eq!(first.len(), pages.len(), "{first:?}");
    for line in &first {
        let (title, outcome) = line.rsplit_once(": ").unwrap();
        assert!(pages.contains_key(title), "{line}");
        assert!(
            outcome.starts_with("created")
                || outcome.starts_with("updated")
                || outcome == "unchanged",
            "{line}"
        );
    }
    let again = install_pages(api);
    assert!(
        again.iter().all(|l| l.ends_with(": unchanged")),
        "{again:?}"
    );
    let reader = Session::new(api);
    for (title, file) in &pages {
        let answer = reader
            .get(&[
                ("action", "query"),
                ("prop", "revisions"),
                ("rvprop", "content"),
                ("rvslots", "main"),
                ("titles", title),
            ])
            .await;
        let text = answer["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
            .as_str()
            .unwrap_or_else(|| panic!("{title} is not on the wiki: {answer}"));
        assert_eq!(
            text.trim_end(),
            repo_file(&format!("wiki/{file}")).trim_end(),
            "{title}"
        );
    }
    let _ = INSTALLED.set(());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local MediaWiki: run tests/run"]
#[allow(clippy::await_holding_lock)] // see WIKI
async fn full_then_incremental_crawl_follows_every_rule() {
    let _turn = wiki_turn();
    let env = env();
    let api = env.api.as_str();
    pages_installed(api).await;
    let admin = Session::new(api);
    admin.login(&env.admin, &env.admin_password).await;
    let password = "correct horse battery staple 42";

    // Users in several languages and scripts.
    let ana = unique("Ana Souza");
    let lukasz = unique("Łukasz");
    let mohamed = unique("محمد");
    let bob = unique("Bob");
    let carol = unique("Carol");
    let dave = unique("Dave");
    let eve = unique("Eve");
    let grace = unique("Grace");
    let hana = unique("花子");
    let alias = unique("CX profile");

    admin
        .edit(
            &format!("Template:{alias}"),
            "#REDIRECT [[Template:Capacity Exchange profile]]",
        )
        .await;

    let s_ana = Session::create_account(api, &ana, password).await;
    s_ana
        .edit(
            &format!("User:{ana}"),
            &profile(
                "Capacity Exchange profile",
                "Lua; Módulos Lua",
                "pt-N, en-3",
                "BR",
            ),
        )
        .await;
    let s_lukasz = Session::create_account(api, &lukasz, password).await;
    s_lukasz
        .edit(
            &format!("User:{lukasz}/Capacity Exchange"),
            &profile(
                "capacity_Exchange profile",
                "Wikidata queries",
                "pl-N, en-4",
                "Poland",
            ),
        )
        .await;
    let s_mohamed = Session::create_account(api, &mohamed, password).await;
    s_mohamed
        .edit(
            &format!("User:{mohamed}"),
            &profile(&alias, "وحدات لوا", "ar-N, fr-2", "EG"),
        )
        .await;
    // A profile placed on a page outside the User namespace is ignored.
    s_mohamed
        .edit(
            &format!("Project:{mohamed} sandbox"),
            &profile("Capacity Exchange profile", "Lua", "ar-N", "EG"),
        )
        .await;
    // Someone else's later edit to Bob's profile is ignored.
    let s_bob = Session::create_account(api, &bob, password).await;
    s_bob
        .edit(
            &format!("User:{bob}"),
            &profile("Capacity Exchange profile", "Wikidata", "en-N", "US"),
        )
        .await;
    let s_carol = Session::create_account(api, &carol, password).await;
    s_carol
        .edit(
            &format!("User:{bob}"),
            &profile("Capacity Exchange profile", "Vandalism", "en-N", "US"),
        )
        .await;
    // A page made for Dave, who never edits it: no profile.
    let _s_dave = Session::create_account(api, &dave, password).await;
    s_carol
        .edit(
            &format!("User:{dave}"),
            &profile("Capacity Exchange profile", "Lua", "en-N", "GB"),
        )
        .await;
    let s_hana = Session::create_account(api, &hana, password).await;
    s_hana
        .edit(
            &format!("User:{hana}"),
            &profile("Capacity Exchange profile", "Wikidata", "ja-N, en-2", "JP"),
        )
        .await;
    // Eve is blocked: not shown.
    let s_eve = Session::create_account(api, &eve, password).await;
    s_eve
        .edit(
            &format!("User:{eve}"),
            &profile("Capacity Exchange profile", "Lua", "en-N", "GB"),
        )
        .await;
    admin
        .act(&[
            ("action", "block"),
            ("user", &eve),
            ("expiry", "infinite"),
            ("reason", "test"),
        ])
        .await;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let full = crawl(api, &data, &dir.path().join("full.json"), true, true);
    assert_eq!(full["mode"], "full");
    let p_ana = profile_of(&data, &ana).expect("Ana has a profile");
    assert_eq!(p_ana.country.as_deref(), Some("BR"));
    assert_eq!(
        offers(&p_ana).len(),
        1,
        "Lua and Módulos Lua are one skill: {:?}",
        offers(&p_ana)
    );
    let p_lukasz = profile_of(&data, &lukasz).expect("subpage profile");
    assert_eq!(p_lukasz.page, format!("User:{lukasz}/Capacity Exchange"));
    let p_mohamed = profile_of(&data, &mohamed).expect("alias profile");
    assert_eq!(
        p_mohamed.offers[0].id(),
        p_ana.offers[0].id(),
        "وحدات لوا is Lua"
    );
    assert_eq!(
        offers(&profile_of(&data, &bob).unwrap()),
        ["Wikidata"],
        "Carol's edit ignored"
    );
    assert!(
        profile_of(&data, &dave).is_none(),
        "Dave never edited his page"
    );
    assert!(profile_of(&data, &eve).is_none(), "Eve is blocked");
    let total = full["profiles"].as_u64().unwrap();
    let requests = full["requests"].as_u64().unwrap();
    // The bound of the crawler issue, connections included: their templates' aliases come
    // with the profile template's, both lists in one request, the texts of the thanks with
    // the profiles and the thankers' registration with the owners' users pass. Only pages
    // the profiles' pass did not read cost more (the other scenarios' thanks and requests
    // on this shared wiki): per 50 thanks pages without a profile, a batch of texts, the
    // owners' revisions (two) and their registration in the users pass; a history walk per
    // talk page.
    let (thanks_alone, talk) = connection_pages_beyond_profiles(&data);
    assert!(
        requests <= total.div_ceil(50) + 5 + 4 * thanks_alone.div_ceil(50) + talk,
        "{full}"
    );

    // Changes: an edit, an opt-out, a deletion, a move out of the User namespace, a new profile.
    tokio::time::sleep(Duration::from_secs(2)).await;
    s_ana
        .edit(
            &format!("User:{ana}"),
            &profile(
                "Capacity Exchange profile",
                "Lua; Wikidata",
                "pt-N, en-3",
                "BR",
            ),
        )
        .await;
    s_bob
        .edit(
            &format!("User:{bob}"),
            "I am taking a break from the Capacity Exchange.",
        )
        .await;
    admin
        .act(&[
            ("action", "delete"),
            ("title", &format!("User:{lukasz}/Capacity Exchange")),
            ("reason", "test"),
        ])
        .await;
    admin
        .act(&[
            ("action", "move"),
            ("from", &format!("User:{mohamed}")),
            ("to", &format!("Project:{mohamed} moved")),
            ("noredirect", "1"),
            ("reason", "test"),
        ])
        .await;
    let s_grace = Session::create_account(api, &grace, password).await;
    s_grace
        .edit(
            &format!("User:{grace}"),
            &profile("Capacity Exchange profile", "public speaking", "es-N", "MX"),
        )
        .await;

    // Someone else's edit after the crawl does not change what Hana published.
    s_carol
        .edit(
            &format!("User:{hana}"),
            &profile("Capacity Exchange profile", "Spam; Nonsense", "ja-N", "JP"),
        )
        .await;

    let inc = crawl(api, &data, &dir.path().join("inc.json"), false, true);
    assert_eq!(inc["mode"], "incremental", "{inc}");
    assert_eq!(offers(&profile_of(&data, &ana).unwrap()).len(), 2);
    assert!(profile_of(&data, &bob).is_none(), "Bob opted out");
    assert!(profile_of(&data, &lukasz).is_none(), "page deleted");
    assert!(
        profile_of(&data, &mohamed).is_none(),
        "page moved out of the User namespace"
    );
    assert!(profile_of(&data, &grace).is_some(), "new profile");
    assert_eq!(
        offers(&profile_of(&data, &hana).unwrap()),
        ["Wikidata"],
        "Carol's later edit to Hana's page is ignored"
    );
    assert_eq!(inc["added"], 1, "{inc}");
    assert_eq!(inc["updated"], 1, "{inc}");
    assert_eq!(inc["removed"], 3, "{inc}");
    assert_eq!(inc["profiles"].as_u64().unwrap(), total + 1 - 3);
    let changed_pages = 7u64; // Ana, Bob, Łukasz's subpage, محمد (and its new title), Grace, Hana
    assert!(
        // Connections included: the re-read pages say whether they call the thanks template.
        inc["requests"].as_u64().unwrap() <= changed_pages.div_ceil(50) + 4,
        "{inc}"
    );

    // Nothing changed: at most two requests, still recorded.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = crawl(api, &data, &dir.path().join("idle.json"), false, true);
    assert_eq!(idle["mode"], "incremental");
    assert!(idle["requests"].as_u64().unwrap() <= 2, "{idle}");
    assert_eq!(idle["generation"], inc["generation"]);
    assert!(data.join("last-crawl.json").exists());

    // Unblocking Eve shows her profile at the next incremental crawl.
    admin
        .act(&[("action", "unblock"), ("user", &eve), ("reason", "test")])
        .await;
    let after_unblock = crawl(api, &data, &dir.path().join("unblock.json"), false, true);
    assert_eq!(after_unblock["added"], 1, "{after_unblock}");
    assert!(profile_of(&data, &eve).is_some());
}

/// Puts `value` after `| param … =` in a profile's wikitext, as a person filling in the
/// preload would (the comment after it stays).
fn fill(text: &str, param: &str, value: &str) -> String {
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let is_param = line
                .strip_prefix('|')
                .and_then(|rest| rest.split_once('='))
                .is_some_and(|(name, _)| name.trim() == param);
            if is_param && !done {
                done = true;
                let (name, rest) = line.split_once('=').unwrap();
                format!("{name}= {value} {}", rest.trim())
            } else {
                line.to_string()
            }
        })
        .collect();
    assert!(done, "no {param} in {text}");
    lines.join("\n")
}

/// `action=parse` of a saved page for a reader using `lang`: the HTML and the categories.
async fn rendered(reader: &Session, title: &str, lang: &str) -> (String, Vec<String>) {
    let answer = reader
        .get(&[
            ("action", "parse"),
            ("page", title),
            ("prop", "text|categories"),
            ("uselang", lang),
            ("disablelimitreport", "1"),
        ])
        .await;
    let html = answer["parse"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string();
    let categories = answer["parse"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap().to_string())
        .collect();
    (html, categories)
}

/// `text` as MediaWiki writes it in HTML (text nodes and attribute values).
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local MediaWiki: run tests/run"]
#[allow(clippy::await_holding_lock)] // see WIKI
async fn a_profile_made_with_the_preload_is_crawled_and_rendered() {
    let _turn = wiki_turn();
    let env = env();
    let api = env.api.as_str();
    pages_installed(api).await;
    let reader = Session::new(api);
    let siteinfo = reader
        .get(&[
            ("action", "query"),
            ("meta", "siteinfo"),
            ("siprop", "extensions"),
        ])
        .await;
    let extensions: Vec<&str> = siteinfo["query"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for needed in ["ParserFunctions", "Scribunto", "TemplateData"] {
        assert!(
            extensions.contains(&needed),
            "the test wiki has no {needed} ({extensions:?}): run tests/mediawiki/install-packages.sh, then up.sh"
        );
    }

    // VisualEditor's template dialog reads this: the doc page's TemplateData was accepted.
    let templatedata = reader
        .get(&[
            ("action", "templatedata"),
            ("titles", "Template:Capacity Exchange profile"),
            ("lang", "pt"),
        ])
        .await;
    let page = templatedata["pages"]
        .as_object()
        .and_then(|pages| pages.values().next())
        .unwrap_or_else(|| panic!("no TemplateData: {templatedata}"));
    let documented: Vec<&str> = page["paramOrder"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(documented, exchange::parse::KNOWN_PARAMS);
    assert_eq!(
        page["params"]["offers"]["label"].as_str(),
        Some(message("pt", "capx-builder-offers-legend").as_str()),
        "labels in the reader's language"
    );

    // As on Meta-Wiki, {{int:lang}} is the interface language's code.
    let admin = Session::new(api);
    admin.login(&env.admin, &env.admin_password).await;
    for (title, code) in [
        ("MediaWiki:Lang", "en"),
        ("MediaWiki:Lang/pt", "pt"),
        ("MediaWiki:Lang/ar", "ar"),
    ] {
        admin.edit(title, code).await;
    }

    // A person opens their new user page's edit form with the preload, fills it in, saves.
    let name = unique("O'Neil Preload");
    let person = Session::create_account(api, &name, "correct horse battery staple 42").await;
    let title = format!("User:{name}");
    let form = person
        .edit_form_text(&[
            ("title", title.as_str()),
            ("action", "edit"),
            ("preload", "Template:Capacity_Exchange_profile/preload"),
        ])
        .await;
    let preload = repo_file("wiki/Capacity_Exchange_profile.preload.wikitext");
    let preload = preload.split("<noinclude>").next().unwrap();
    assert_eq!(
        form.trim_end(),
        preload.trim_end(),
        "the edit form holds the preload"
    );
    let mut text = form.clone();
    for (param, value) in [
        ("offers", "Lua; Wikidata queries"),
        ("wants", "grant writing"),
        ("languages", "pt-N, en-3"),
        ("country", "BR"),
        ("formats", "mentoring, one to one"),
        ("contact", "talk, email"),
    ] {
        text = fill(&text, param, value);
    }
    person.edit(&title, &text).await;

    // The builder's link: the edit form of one's own user page, with the builder's wikitext
    // as a new section (webtool/src/pages/builder.rs, edit_url).
    let built = exchange::template_writer::write(&exchange::template_writer::ProfileInput {
        offers: vec!["Lua".into(), "C++ & Rust; {{tricky}} [[links]]".into()],
        languages: vec![("ar".into(), "N".into())],
        bio: "Ahlan | wa sahlan = 100%".into(),
        ..Default::default()
    })
    .unwrap();
    let builder_form = person
        .edit_form_text(&[
            ("title", "Special:MyPage"),
            ("action", "edit"),
            ("section", "new"),
            (
                "preload",
                &exchange::template_writer::BUILDER_PRELOAD_PAGE.replace(' ', "_"),
            ),
            ("preloadtitle", "Capacity Exchange profile"),
            ("preloadparams[]", &built),
        ])
        .await;
    assert_eq!(
        builder_form.trim_end_matches('\n'),
        built.trim_end_matches('\n'),
        "the builder's preload opens the form with exactly its wikitext"
    );

    // The crawl reads what the person wrote.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crawl(api, &data, &dir.path().join("full.json"), true, true);
    let profile = profile_of(&data, &name).expect("the profile made with the preload");
    assert_eq!(offers(&profile).len(), 2, "{:?}", offers(&profile));
    assert!(profile.offers[0].id().is_some(), "Lua is a known skill");
    assert_eq!(profile.wants.len(), 1);
    assert_eq!(profile.country.as_deref(), Some("BR"));
    let languages: Vec<&str> = profile.languages.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(languages, ["pt", "en"]);
    assert_eq!(profile.formats, ["mentoring", "one-on-one"]);
    assert_eq!(profile.contact, ["talk", "email"]);

    // The box, for a reader whose interface is in Portuguese.
    let (html, categories) = rendered(&reader, &title, "pt").await;
    assert!(html.contains("class=\"wikitable capx-profile\""), "{html}");
    assert!(html.contains("lang=\"pt\" dir=\"ltr\""), "{html}");
    for key in [
        "capx-builder-section-title",
        "capx-card-offers",
        "capx-card-wants",
        "capx-card-languages",
        "capx-builder-format-mentoring",
        "capx-builder-format-one-on-one",
        "capx-wiki-view-profile",
    ] {
        let words = message("pt", key);
        assert!(
            html.contains(&html_escape(&words)),
            "no {key} ({words}) in {html}"
        );
    }
    for (skill, query) in [("Lua", "Lua"), ("Wikidata queries", "Wikidata+queries")] {
        let link = format!(
            "href=\"https://capacity-exchange.toolforge.org/search?q={query}\">{skill}</a>"
        );
        assert!(html.contains(&link), "no {link} in {html}");
    }
    let profile_link = format!(
        "href=\"https://capacity-exchange.toolforge.org/profile/{}?uselang=pt\"",
        name.replace('\'', "%27").replace(' ', "%20")
    );
    assert!(html.contains(&profile_link), "no {profile_link} in {html}");
    assert!(
        categories.contains(&"Capacity_Exchange_participants".to_string()),
        "{categories:?}"
    );
    assert!(!html.contains("script-error"), "{html}");

    // Arabic is written right to left.
    let (html, _) = rendered(&reader, &title, "ar").await;
    assert!(html.contains("lang=\"ar\" dir=\"rtl\""), "{html}");
    assert!(html.contains(&message("ar", "capx-card-offers")), "{html}");

    // Not on a user page: the box, but no category and no link to a profile.
    let elsewhere = format!("Meta:{name} sandbox");
    person.edit(&elsewhere, &text).await;
    let (html, categories) = rendered(&reader, &elsewhere, "en").await;
    assert!(html.contains("class=\"wikitable capx-profile\""), "{html}");
    assert!(categories.is_empty(), "{categories:?}");
    assert!(!html.contains("/profile/"), "{html}");

    // Where the module cannot run, the values are shown as written: a copy of the template
    // calling a module that does not exist takes the same way as a wiki without Scribunto.
    let copy = unique("CX profile without Lua");
    let template = repo_file("wiki/Capacity_Exchange_profile.wikitext").replace(
        "#invoke:Capacity Exchange|",
        "#invoke:Capacity Exchange missing|",
    );
    admin.edit(&format!("Template:{copy}"), &template).await;
    let plain_title = format!("User:{name}/without Lua");
    person
        .edit(
            &plain_title,
            &text.replace("{{Capacity Exchange profile", &format!("{{{{{copy}")),
        )
        .await;
    let (html, categories) = rendered(&reader, &plain_title, "pt").await;
    assert!(html.contains(&message("pt", "capx-card-offers")), "{html}");
    assert!(html.contains("Lua; Wikidata queries"), "{html}");
    assert!(!html.contains("/search?q="), "{html}");
    assert!(html.contains(&profile_link), "{html}");
    assert!(
        categories.contains(&"Capacity_Exchange_participants".to_string()),
        "{categories:?}"
    );
}
