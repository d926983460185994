//! `indexer report --post` against a real MediaWiki on loopback (tests/mediawiki/up.sh starts
//! it and `tests/run` runs this with the wiki's address and the bot password in the
//! environment).
//!
//! People make profiles through the API, the indexer crawls them and posts the report as
//! the bot CapxBot with its bot password, and the test reads the page back through the API:
//! its numbers, the bot flag, that text from profiles added no template or category, that a
//! second run makes no revision, that a new profile shows as a change, and that an empty
//! snapshot, a too old one, a shrinking report and `{{nobots}}` are refused.

use std::path::Path;
use std::process::{Command, Output};

use exchange::stats;
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use serde_json::Value;

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
    // The bot's login is read by the indexer itself; fail early and clearly without it.
    var("CAPX_WIKI_USER");
    var("CAPX_WIKI_PASSWORD");
    Env {
        api: var("MW_API_URL"),
        admin: var("MW_ADMIN_USER"),
        admin_password: var("MW_ADMIN_PASSWORD"),
    }
}

mod common;
use common::Session;

impl Session {
    /// The page's newest revision id and text; `None` when it does not exist.
    async fn page(&self, title: &str) -> Option<(u64, String)> {
        let answer = self
            .get(&[
                ("action", "query"),
                ("prop", "revisions"),
                ("titles", title),
                ("rvprop", "ids|content"),
                ("rvslots", "main"),
            ])
            .await;
        let page = &answer["query"]["pages"][0];
        if page.get("missing").is_some() {
            return None;
        }
        let revision = &page["revisions"][0];
        Some((
            revision["revid"].as_u64().unwrap(),
            revision["slots"]["main"]["content"]
                .as_str()
                .unwrap()
                .to_string(),
        ))
    }
}

fn indexer(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(args)
        .output()
        .expect("indexer runs");
    eprintln!(
        "indexer {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn crawl(api: &str, data: &Path) {
    let out = indexer(&["crawl", "--api", api, "--data", path(data), "--full"]);
    assert!(out.status.success());
}

/// `indexer report --post` on `page`, with more arguments.
fn post(api: &str, data: &Path, page: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "report",
        "--data",
        path(data),
        "--api",
        api,
        "--page",
        page,
        "--post",
    ];
    args.extend_from_slice(extra);
    indexer(&args)
}

/// What `indexer report` prints for `page`: what it would post there.
fn preview(data: &Path, page: &str) -> String {
    let out = indexer(&["report", "--data", path(data), "--page", page]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn refused(out: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected a refusal ({why}): {stderr}"
    );
    assert!(stderr.contains("refusing"), "{stderr}");
    assert!(stderr.contains(why), "expected {why:?} in: {stderr}");
}

/// The snapshot's statistics as the report computes them: the snapshot's time as "now".
fn snapshot_stats(data: &Path) -> (String, u64, stats::Stats) {
    let snapshot = DataDir::new(data).open_current().unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(&snapshot.meta("created").unwrap().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut profiles = Vec::new();
    snapshot
        .for_each_profile(|p| {
            profiles.push(p);
            Ok(())
        })
        .unwrap();
    let stats = stats::compute(
        &profiles,
        &exchange::connections::count(&snapshot.thanks().unwrap(), &snapshot.requests().unwrap()),
        Taxonomy::bundled(),
        created,
    );
    (
        snapshot.id().to_string(),
        snapshot.profile_count().unwrap(),
        stats,
    )
}

fn unique(name: &str) -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000_000;
    format!("{name} {stamp}")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local MediaWiki: run tests/run"]
async fn the_bot_posts_the_report_and_keeps_to_the_safety_rules() {
    let env = env();
    let api = env.api.as_str();
    let admin = Session::new(api);
    admin.login(&env.admin, &env.admin_password).await;
    let password = "correct horse battery staple 42";

    // Three people in Brazil offer a skill only this run uses, Lua, and free text that tries
    // to add a template, a category and a signature to any page that shows it.
    let skill = unique("Report test skill");
    let nasty = "<nowiki>}}{{delete}}</nowiki>; <nowiki>[[Category:Injected by a skill]]</nowiki>; <nowiki>~~~~ __NOTOC__</nowiki>";
    let mut people = Vec::new();
    for name in ["Rita", "Raul", "Rosa"] {
        let user = unique(name);
        let session = Session::create_account(api, &user, password).await;
        session
            .edit(
                &format!("User:{user}"),
                &format!(
                    "{{{{Capacity Exchange profile\n| offers = {skill}; Lua; {nasty}\n| wants = grant writing\n| languages = pt-N, en-3\n| country = BR\n}}}}\n"
                ),
            )
            .await;
        people.push(user);
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crawl(api, &data);
    let (generation, profiles, stats1) = snapshot_stats(&data);
    assert!(profiles >= 3);
    let page = unique("Capacity Exchange report");
    let tab = dir.path().join("report.tab.json");

    // 1. The first report, posted by the bot and read back through the API.
    let expected = preview(&data, &page);
    let out = post(api, &data, &page, &["--tab", path(&tab)]);
    assert!(out.status.success());
    let (rev1, text) = admin.page(&page).await.expect("the report page exists");
    assert_eq!(
        text.trim_end(),
        expected.trim_end(),
        "the page is the preview"
    );
    assert!(text.contains(&generation));
    assert!(
        text.contains(&format!("| All profiles || {profiles}\n")),
        "{text}"
    );
    // The skill only this run uses: three people offer it, nobody wants or knows it.
    assert!(
        text.contains(&format!("{skill}] || 3 || 3 || 0 || 0\n")),
        "{text}"
    );
    // Every region has its row, with the snapshot's numbers.
    let lac = stats1.regions.iter().find(|r| r.code == "LAC").unwrap();
    assert!(lac.profiles >= 3);
    assert!(
        text.contains(&format!(
            "search?region=LAC {}] || {} || {}\n",
            lac.name, lac.profiles, lac.active
        )),
        "{text}"
    );
    let lua = stats1
        .skills
        .iter()
        .find(|s| s.id == "lua-modules")
        .unwrap();
    assert!(lua.counts.offers >= 3);
    assert!(
        text.contains(&format!(
            "/skill/lua-modules {}] || {} || {}\n",
            lua.label, lua.counts.offers, lua.counts.wants
        )),
        "{text}"
    );
    // Requests and thanks: the snapshot's counts, and nobody named who did not opt in.
    let connections = &stats1.connections;
    for (label, now) in [
        ("Requests made", connections.requests),
        ("Exchanges thanked", connections.thanks),
    ] {
        assert!(text.contains(&format!("| {label} || {now}\n")), "{text}");
    }
    assert!(text.contains("== Most thanked sharers of the period =="));
    // A bot edit.
    let changes = admin
        .get(&[
            ("action", "query"),
            ("list", "recentchanges"),
            ("rctitle", &page),
            ("rcprop", "ids|flags|user"),
        ])
        .await;
    let change = &changes["query"]["recentchanges"][0];
    assert_eq!(change["revid"].as_u64(), Some(rev1), "{changes}");
    assert_eq!(change["bot"], true, "{changes}");
    assert_eq!(change["user"], "CapxBot", "{changes}");
    // Text from profiles shows as written and adds nothing to the page.
    let parsed = admin
        .get(&[
            ("action", "parse"),
            ("page", &page),
            ("prop", "categories|templates|text"),
        ])
        .await;
    assert_eq!(
        parsed["parse"]["categories"].as_array().map(Vec::len),
        Some(0),
        "{parsed}"
    );
    assert_eq!(
        parsed["parse"]["templates"].as_array().map(Vec::len),
        Some(0),
        "{parsed}"
    );
    let html =
        exchange::wikitext::title::decode_entities(parsed["parse"]["text"].as_str().unwrap());
    assert!(html.contains("}}{{delete}}"), "shown as typed");
    assert!(
        html.contains("[[Category:Injected by a skill]]"),
        "shown as typed"
    );
    assert!(html.contains("~~~~ __NOTOC__"), "shown as typed");
    assert!(
        !text.contains("User talk:CapxBot"),
        "no signature was expanded"
    );
    // The tabular export of the same numbers.
    let tab_json: Value = serde_json::from_slice(&std::fs::read(&tab).unwrap()).unwrap();
    assert_eq!(tab_json["license"], "CC0-1.0");
    let rows = tab_json["data"].as_array().unwrap();
    let total = rows.iter().find(|r| r[0] == "total").unwrap();
    assert_eq!(total[3].as_u64(), Some(profiles));
    let lua_row = rows
        .iter()
        .find(|r| r[0] == "skill" && r[1] == "lua-modules")
        .unwrap();
    assert_eq!(lua_row[5].as_u64(), Some(lua.counts.offers as u64));
    assert!(data.join("last-report.json").exists());

    // 2. The same snapshot again: no new revision.
    let out = post(api, &data, &page, &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no edit made"));
    assert_eq!(admin.page(&page).await.unwrap().0, rev1);

    // A snapshot older than --max-age, and a tabular-data page on a wiki without JsonConfig,
    // are refused before anything is saved.
    refused(&post(api, &data, &page, &["--max-age", "0s"]), "max-age");
    let tab_page = format!("Data:{page}.tab");
    refused(
        &post(api, &data, &page, &["--tab-page", &tab_page]),
        "JsonConfig",
    );
    assert!(admin.page(&tab_page).await.is_none());
    assert_eq!(admin.page(&page).await.unwrap().0, rev1);

    // 3. A new profile: the next report counts it and names it.
    let nina = unique("Nina");
    let session = Session::create_account(api, &nina, password).await;
    session
        .edit(
            &format!("User:{nina}"),
            "{{Capacity Exchange profile\n| offers = Lua\n| languages = es-N\n| country = MX\n}}\n",
        )
        .await;
    crawl(api, &data);
    let (generation2, profiles2, _) = snapshot_stats(&data);
    assert_ne!(generation2, generation);
    let expected = preview(&data, &page);
    let out = post(api, &data, &page, &[]);
    assert!(out.status.success());
    let (rev2, text) = admin.page(&page).await.unwrap();
    assert!(rev2 > rev1);
    assert_eq!(text.trim_end(), expected.trim_end());
    let delta = profiles2 as i64 - profiles as i64;
    assert!(delta >= 1);
    assert!(
        text.contains(&format!(
            "| All profiles || {profiles2} || {profiles} || data-sort-value=\"{delta}\" | +{delta}\n"
        )),
        "{text}"
    );
    assert!(text.contains(&format!("[[User:{nina}|{nina}]]")), "{text}");
    assert!(
        text.contains(&generation),
        "compared with the first snapshot"
    );

    // 4. A report less than half the page as it is: refused, then posted with --force.
    let longer = format!(
        "{text}\n{}",
        "Notes kept by hand on the page.\n".repeat(400)
    );
    admin.edit(&page, &longer).await;
    let (rev3, _) = admin.page(&page).await.unwrap();
    refused(&post(api, &data, &page, &[]), "less than half");
    assert_eq!(
        admin.page(&page).await.unwrap().0,
        rev3,
        "nothing was posted"
    );
    let out = post(api, &data, &page, &["--force"]);
    assert!(out.status.success());
    let (rev4, restored) = admin.page(&page).await.unwrap();
    assert!(rev4 > rev3);
    assert_eq!(restored.trim_end(), expected.trim_end());

    // 5. {{nobots}} keeps the bot away, even with --force.
    admin
        .edit(&page, &format!("{{{{nobots}}}}\n{longer}"))
        .await;
    let (rev5, _) = admin.page(&page).await.unwrap();
    refused(&post(api, &data, &page, &["--force"]), "nobots");
    assert_eq!(
        admin.page(&page).await.unwrap().0,
        rev5,
        "nothing was posted"
    );

    // 6. An empty snapshot is never posted, even with --force.
    let empty_export = dir.path().join("empty.xml");
    let empty = dir.path().join("empty");
    assert!(
        indexer(&["synth", "--profiles", "0", "--out", path(&empty_export)])
            .status
            .success()
    );
    assert!(
        indexer(&[
            "import",
            "--dump",
            path(&empty_export),
            "--data",
            path(&empty)
        ])
        .status
        .success()
    );
    let fresh_page = unique("Capacity Exchange empty report");
    refused(
        &post(api, &empty, &fresh_page, &["--force"]),
        "holds no profiles",
    );
    assert!(
        admin.page(&fresh_page).await.is_none(),
        "nothing was posted"
    );
    assert!(!empty.join("last-report.json").exists());
}
