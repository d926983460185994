//! Connections end to end on the local MediaWiki (tests/mediawiki/up.sh): learners ask a
//! helper through the web tool's own "ask" link (its URL followed on the local wiki, the
//! way a browser would: the edit form the preload fills, then a save), thank them on their
//! own user pages, the crawler reads it all, and the counts come back from the snapshot,
//! the web tool's API and profile page. Every abuse rule of `exchange::connections` is
//! tried against the real wiki: self-thanks, an account created that day, a hundred thanks
//! from one account, a thanks added to someone else's page, a marker on a page that is
//! not a talk page, a thanks removed, a request to yourself, and the helper's own reply
//! under a request (which must not make them the requester).
//!
//! Ignored by a plain `cargo test`; tests/run runs it with `--include-ignored`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use exchange::connections::{self, Counts, SkillKey};
use exchange::store::DataDir;
use serde_json::Value;

mod common;
use common::Session;

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: start the test wiki with tests/mediawiki/up.sh and source its env.sh (tests/run does both)")
    })
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

fn crawl(api: &str, data: &Path, full: bool) -> Value {
    let summary = data.join("summary.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_indexer"));
    command
        .args(["crawl", "--api", api, "--data"])
        .arg(data.join("data"))
        .arg("--summary-json")
        .arg(&summary)
        .args(["--overlap-secs", "1"]);
    if full {
        command.arg("--full");
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

/// Moves accounts' registration back to 2020 in the wiki's database: every account of a
/// test wiki is created today, and thanks from accounts created on the day of the thanks
/// do not count.
fn register_long_ago(users: &[&str]) {
    let db = format!("{}/db/capx_wiki.sqlite", var("MW_STATE"));
    let names: Vec<String> = users
        .iter()
        .map(|u| format!("'{}'", u.replace('\'', "''")))
        .collect();
    let sql = format!(
        "UPDATE user SET user_registration = '20200101000000' WHERE user_name IN ({})",
        names.join(",")
    );
    let php = "$db = new PDO('sqlite:' . $argv[1]); \
        $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION); echo $db->exec($argv[2]);";
    let out = Command::new("php")
        .args(["-r", php, &db, &sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        users.len().to_string(),
        "every account backdated"
    );
}

fn counts(data: &Path) -> Counts {
    let snapshot = DataDir::new(data.join("data")).open_current().unwrap();
    connections::count(&snapshot.thanks().unwrap(), &snapshot.requests().unwrap())
}

fn lua() -> SkillKey {
    SkillKey::Known("lua-modules".into())
}

/// (thanked by, asked by) for one person and skill.
fn person_skill(counts: &Counts, user: &str, skill: &SkillKey) -> (usize, usize) {
    counts
        .person(user)
        .into_iter()
        .find(|p| &p.skill == skill)
        .map_or((0, 0), |p| (p.thanked_by, p.asked_by))
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Every link of a page (unescaped `href` values).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(html_unescape)
        .collect()
}

/// The links of a page that open a new section of `title`, the ones naming `skill` first.
fn edit_links(page: &str, title: &str, skill: &str) -> Vec<String> {
    let mut found: Vec<String> = links(page)
        .into_iter()
        .filter(|l| {
            let Ok(url) = reqwest::Url::parse(l) else {
                return false;
            };
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let has = |k: &str, v: &str| pairs.iter().any(|(pk, pv)| pk == k && pv == v);
            has("title", title) && has("section", "new")
        })
        .collect();
    found.sort_by_key(|l| !l.contains(skill));
    found
}

/// The web tool serving `data`, on a loopback port.
async fn web_tool(data: &Path) -> (Arc<webtool::state::AppState>, String) {
    let state = Arc::new(webtool::state::AppState::new(DataDir::new(
        data.join("data"),
    )));
    state.refresh();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = webtool::router(Arc::clone(&state));
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (state, format!("http://{address}"))
}

impl Session {
    /// Follows an edit link of the web tool (made for Meta-Wiki) on the local wiki: opens
    /// the same `index.php` query, reads the edit form the preload filled in, and saves it
    /// as a new section with the link's subject, the way the person would in the browser.
    async fn follow_edit_link(&self, link: &str) -> (String, String) {
        let url = reqwest::Url::parse(link).unwrap();
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("{link} has no {key}"))
        };
        assert_eq!(get("action"), "edit", "{link}");
        assert_eq!(get("section"), "new", "{link}");
        let index = self.api.replace("api.php", "index.php");
        let response = self.http.get(&index).query(&query).send().await.unwrap();
        let html = response.text().await.unwrap();
        let start = html
            .find("id=\"wpTextbox1\"")
            .unwrap_or_else(|| panic!("no edit form for {link}"));
        let open_end = start + html[start..].find('>').unwrap() + 1;
        let close = open_end + html[open_end..].find("</textarea>").unwrap();
        let text = html_unescape(&html[open_end..close]);
        // The page being edited, as the edit form names it (its `action` address): after
        // Special:MyPage's redirect that is the person's own page.
        let form = &html[html.find("id=\"editform\"").expect("an edit form")..];
        let action = form
            .split("action=\"")
            .nth(1)
            .and_then(|a| a.split('"').next());
        let action = html_unescape(action.expect("the edit form's action"));
        let action = reqwest::Url::parse(&index).unwrap().join(&action).unwrap();
        let title = action
            .query_pairs()
            .find(|(k, _)| k == "title")
            .map(|(_, v)| v.into_owned())
            .expect("the edit form names its page");
        let token = self.token("csrf").await;
        let answer = self
            .post(&[
                ("action", "edit"),
                ("title", &title),
                ("section", "new"),
                ("sectiontitle", &get("preloadtitle")),
                ("text", &text),
                ("token", &token),
            ])
            .await;
        assert_eq!(answer["edit"]["result"], "Success", "{answer}");
        (title, text)
    }
}

fn thanks(user: &str, skill: &str) -> String {
    format!(
        "{{{{Capacity Exchange thanks|user={user}|skill={skill}|date=2026-01-15|note=Thank you!}}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local MediaWiki of tests/mediawiki/up.sh"]
async fn asking_and_thanking_are_counted_and_abuse_is_not() {
    let api = var("MW_API_URL");
    let api = api.as_str();
    let dir = tempfile::tempdir().unwrap();
    let password = "correct horse battery staple 42";

    let helper = unique("Helper");
    let [a, b, c, d] = ["Learner A", "Learner B", "Learner C", "Learner D"].map(unique);
    let newbie = unique("Newbie");
    let spammer = unique("Spammer");
    let vandal = unique("Vandal");
    let mut sessions = BTreeMap::new();
    for name in [&helper, &a, &b, &c, &d, &newbie, &spammer, &vandal] {
        sessions.insert(
            name.clone(),
            Session::create_account(api, name, password).await,
        );
    }
    let s = |name: &str| &sessions[name];
    register_long_ago(&[&helper, &a, &b, &c, &d, &spammer, &vandal]);

    // The helper's profile, and a thanks to themself on the same page.
    s(&helper)
        .edit(
            &format!("User:{helper}"),
            &format!(
                "{{{{Capacity Exchange profile\n| offers = Lua modules; Wikidata queries\n| languages = pt-N, en-3\n| country = BR\n| recognition = yes\n}}}}\n{}",
                thanks(&helper, "Lua")
            ),
        )
        .await;
    let first = crawl(api, dir.path(), true);
    assert_eq!(first["mode"], "full");

    // Asking, through the link of the web tool's profile page.
    let (state, web) = web_tool(dir.path()).await;
    let profile_url = format!("{web}/profile/{}", helper.replace(' ', "_"));
    let page = reqwest::get(&profile_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let talk = format!("User_talk:{}", helper.replace(' ', "_"));
    let ask_lua = edit_links(&page, &talk, "lua-modules")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no ask link on {profile_url}"));
    assert!(
        ask_lua.contains("lua-modules"),
        "an ask link per offered skill"
    );
    let thank_lua = edit_links(&page, "Special:MyPage", "lua-modules")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no thank link on {profile_url}"));
    assert!(
        thank_lua.contains("lua-modules"),
        "a thank link per offered skill"
    );
    let (title, text) = s(&a).follow_edit_link(&ask_lua).await;
    assert!(text.contains("{{Capacity Exchange request|"), "{text}");
    assert_eq!(title.replace(' ', "_"), talk);
    s(&b).follow_edit_link(&ask_lua).await;
    // Asking twice is one request; asking yourself is none.
    s(&a).follow_edit_link(&ask_lua).await;
    s(&helper).follow_edit_link(&ask_lua).await;
    // A marker on the helper's user page, not their talk page, counts for nothing.
    s(&vandal)
        .edit(
            &format!("User:{vandal}/Requests"),
            "{{Capacity Exchange request|skill=lua-modules}}",
        )
        .await;

    // Thanks, through the web tool's link: a new section of the learner's own page.
    for learner in [&a, &b, &c, &d, &newbie, &helper] {
        let (title, text) = s(learner).follow_edit_link(&thank_lua).await;
        assert_eq!(title.replace('_', " "), format!("User:{learner}"));
        let call = format!("{{{{Capacity Exchange thanks|user={helper}|skill=lua-modules|");
        assert!(text.contains(&call), "{text}");
    }
    s(&spammer)
        .edit(
            &format!("User:{spammer}"),
            &thanks(&helper, "lua-modules").repeat(100),
        )
        .await;
    // Someone else's words on A's page: a thanks for Wikidata queries A never wrote.
    let a_page = s(&a)
        .get(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", &format!("User:{a}")),
            ("rvprop", "content"),
            ("rvslots", "main"),
        ])
        .await;
    let a_text = a_page["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    s(&vandal)
        .edit(
            &format!("User:{a}"),
            &format!("{a_text}{}", thanks(&helper, "Wikidata queries")),
        )
        .await;

    let second = crawl(api, dir.path(), false);
    assert_eq!(second["mode"], "incremental", "{second}");
    let counted = counts(dir.path());
    let asked = lua();
    // A, B, C, D and the spammer (once); not the newbie, not the helper themself.
    assert_eq!(person_skill(&counted, &helper, &lua()).0, 5, "{counted:?}");
    assert_eq!(person_skill(&counted, &helper, &asked).1, 2, "{counted:?}");
    let wikidata = SkillKey::Known("wikidata-queries".into());
    assert_eq!(
        person_skill(&counted, &helper, &wikidata),
        (0, 0),
        "the vandal's thanks on A's page"
    );

    // D takes the thanks back; the helper answers under the requests.
    s(&d)
        .edit(&format!("User:{d}"), "Nothing here any more.")
        .await;
    s(&helper)
        .edit(
            &format!("User talk:{helper}"),
            &format!(
                "{}\n:Happy to help! ~~~~",
                talk_text(s(&helper), &format!("User talk:{helper}")).await
            ),
        )
        .await;
    let third = crawl(api, dir.path(), false);
    assert_eq!(third["mode"], "incremental", "{third}");
    let counted = counts(dir.path());
    assert_eq!(person_skill(&counted, &helper, &lua()).0, 4, "{counted:?}");
    assert_eq!(
        person_skill(&counted, &helper, &asked).1,
        2,
        "the helper's reply does not make them a requester: {counted:?}"
    );

    // A full crawl reads the same.
    crawl(api, dir.path(), true);
    assert_eq!(counts(dir.path()), counted);

    // And the web tool shows it.
    state.refresh();
    let json: Value = reqwest::get(format!(
        "{web}/api/v1/profiles/{}",
        helper.replace(' ', "_")
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let stats: Value = reqwest::get(format!("{web}/api/v1/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        stats["connections"]["thanks"].as_u64().unwrap() >= 4,
        "{}",
        stats["connections"]
    );
    assert!(
        stats["connections"]["requests"].as_u64().unwrap() >= 2,
        "{}",
        stats["connections"]
    );
    let lua_row = json["connections"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["skill"]["id"] == "lua-modules"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(lua_row["thanked_by"], 4, "{json}");
    assert_eq!(lua_row["asked_by"], 2, "{json}");

    // The profile page says so, with the Open Badge of four thankers.
    let page = reqwest::get(format!("{profile_url}?uselang=en"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Thanked by 4 people"), "{page}");
    assert!(page.contains("Asked by 2 people"), "{page}");
    let badge = lua_row["badge"]
        .as_str()
        .unwrap_or_else(|| panic!("{json}"));
    let path = badge.split_once("/badges/").unwrap().1;
    let assertion: Value = reqwest::get(format!("{web}/badges/{path}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(assertion["type"], "Assertion", "{assertion}");

    // And so does the report: the helper opted in, so they are named among the most
    // thanked of the period.
    let out = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["report", "--data"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    let row = format!("[[User:{helper}|{helper}]] || 4 ||");
    assert!(report.contains(&row), "{report}");
}

/// The newest text of a page.
async fn talk_text(session: &Session, title: &str) -> String {
    let answer = session
        .get(&[
            ("action", "query"),
            ("prop", "revisions"),
            ("titles", title),
            ("rvprop", "content"),
            ("rvslots", "main"),
        ])
        .await;
    answer["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
