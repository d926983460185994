//! The crawler against a real MediaWiki on loopback (tests/mediawiki/up.sh starts it and
//! `tests/run` runs these with the wiki's address in the environment).
//!
//! Users are created and log in through the API and edit their own pages, so the wiki holds
//! what real people would make: profiles in several languages and scripts, an alias of the
//! template, a subpage profile, a profile on a non-user page, someone else's edit to a
//! profile, a page made for someone who never touched it, and a blocked user. Then edits, an
//! opt-out, a deletion, a move and a new profile, followed by an incremental crawl.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
    Env {
        api: var("MW_API_URL"),
        admin: var("MW_ADMIN_USER"),
        admin_password: var("MW_ADMIN_PASSWORD"),
    }
}

/// One logged-in (or anonymous) person using the API, with their own cookies.
struct Session {
    http: reqwest::Client,
    api: String,
}

impl Session {
    fn new(api: &str) -> Session {
        Session {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .user_agent("CapacityExchange-tests/0.1 (loopback test wiki)")
                .build()
                .unwrap(),
            api: api.to_string(),
        }
    }

    async fn get(&self, params: &[(&str, &str)]) -> Value {
        let mut all = vec![("format", "json"), ("formatversion", "2")];
        all.extend_from_slice(params);
        self.http
            .get(&self.api)
            .query(&all)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, params: &[(&str, &str)]) -> Value {
        let mut all = vec![("format", "json"), ("formatversion", "2")];
        all.extend_from_slice(params);
        let value: Value = self
            .http
            .post(&self.api)
            .form(&all)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(value.get("error").is_none(), "{params:?} → {value}");
        value
    }

    async fn token(&self, kind: &str) -> String {
        let answer = self
            .get(&[("action", "query"), ("meta", "tokens"), ("type", kind)])
            .await;
        answer["query"]["tokens"][format!("{kind}token")]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn create_account(api: &str, user: &str, password: &str) -> Session {
        let session = Session::new(api);
        let token = session.token("createaccount").await;
        let created = session
            .post(&[
                ("action", "createaccount"),
                ("username", user),
                ("password", password),
                ("retype", password),
                ("createreturnurl", "http://127.0.0.1/"),
                ("createtoken", &token),
            ])
            .await;
        assert_eq!(created["createaccount"]["status"], "PASS", "{created}");
        session.login(user, password).await;
        session
    }

    async fn login(&self, user: &str, password: &str) {
        let token = self.token("login").await;
        let answer = self
            .post(&[
                ("action", "clientlogin"),
                ("username", user),
                ("password", password),
                ("loginreturnurl", "http://127.0.0.1/"),
                ("logintoken", &token),
            ])
            .await;
        assert_eq!(answer["clientlogin"]["status"], "PASS", "{answer}");
    }

    async fn edit(&self, title: &str, text: &str) {
        let token = self.token("csrf").await;
        let answer = self
            .post(&[
                ("action", "edit"),
                ("title", title),
                ("text", text),
                ("summary", "test"),
                ("token", &token),
            ])
            .await;
        assert_eq!(answer["edit"]["result"], "Success", "{answer}");
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

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the local MediaWiki: run tests/run"]
async fn full_then_incremental_crawl_follows_every_rule() {
    let env = env();
    let api = env.api.as_str();
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
    assert!(requests <= total.div_ceil(50) + 5, "{full}");

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
