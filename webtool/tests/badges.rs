//! Recognition over HTTP on loopback: thanks and requests from the snapshot reach the
//! profile page and the API, and people thanked for a taxonomy skill by enough different
//! people get an Open Badges 2.0 assertion whose badge class and issuer are served too.
//!
//! The snapshot is written with the store's own builder, as the crawler writes it: profiles,
//! then every thanks and request marker as read from the wiki, whether or not it counts.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use exchange::connections::{BADGE_MIN_THANKERS, RequestRecord, ThanksRecord};
use exchange::geo::Region;
use exchange::profile::{LanguageSkill, Level, Profile, SkillRef};
use exchange::store::{DataDir, ProfileRecord};
use exchange::taxonomy::Taxonomy;
use serde_json::Value;
use webtool::pages::PUBLIC_URL;
use webtool::state::AppState;

async fn serve(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, webtool::router(state)).await.unwrap();
    });
    format!("http://{address}")
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn known(id: &str) -> SkillRef {
    let taxonomy = Taxonomy::bundled();
    let skill = taxonomy.get(id).unwrap();
    SkillRef::Known {
        id: id.into(),
        label: taxonomy.label(skill, "en").into(),
    }
}

fn lua() -> SkillRef {
    known("lua-modules")
}

fn bread() -> SkillRef {
    SkillRef::Free {
        text: "Bread baking".into(),
    }
}

fn profile(user: &str, offers: Vec<SkillRef>) -> Profile {
    let mut p = Profile::empty(user, &format!("User:{user}"));
    p.revid = 1;
    p.updated = Some(at(2026, 1, 1));
    p.offers = offers;
    p.languages = vec![LanguageSkill {
        code: "pt".into(),
        level: Level::NATIVE,
    }];
    p.country = Some("BR".into());
    p.region = Some(Region::LatinAmericaCaribbean);
    p
}

/// A thanks written on `thanker`'s own user page on `day` of March 2026, by an account
/// made long before.
fn thanks(thanker: &str, thanked: &str, skill: Option<SkillRef>, day: u32) -> ThanksRecord {
    ThanksRecord {
        page: format!("User:{thanker}"),
        revid: u64::from(day),
        timestamp: at(2026, 3, day),
        thanker: thanker.into(),
        thanker_registered: Some(at(2020, 1, 1)),
        thanked: thanked.into(),
        skill,
        date: NaiveDate::from_ymd_opt(2026, 3, day),
        note: Some("Thank you!".into()),
    }
}

fn request(requester: &str, page: &str, skill: Option<SkillRef>) -> RequestRecord {
    RequestRecord {
        page: page.into(),
        revid: 1,
        timestamp: at(2026, 3, 20),
        requester: requester.into(),
        skill,
    }
}

/// Ana Souza: thanked for Lua by three different people (Bruno twice, and once by herself
/// and by an account made that day, which do not count), for free-text bread baking by
/// three, asked about Lua once and about nothing in particular once. Jonas: thanked for
/// Lua by two people and by himself. Ghost: thanked by three but has no profile.
fn records() -> (Vec<Profile>, Vec<ThanksRecord>, Vec<RequestRecord>) {
    let profiles = vec![
        profile("Ana Souza", vec![lua(), bread()]),
        profile("Jonas Weber", vec![lua()]),
        profile("Bruno", vec![]),
    ];
    let mut newcomer = thanks("Erin", "Ana Souza", Some(lua()), 12);
    newcomer.thanker_registered = Some(at(2026, 3, 12));
    let thanks = vec![
        thanks("Bruno", "Ana Souza", Some(lua()), 1),
        thanks("Bruno", "Ana_Souza", Some(lua()), 2),
        thanks("Carla", "Ana Souza", Some(lua()), 5),
        thanks("Ana Souza", "Ana Souza", Some(lua()), 6),
        thanks("Dario", "Ana Souza", Some(lua()), 9),
        newcomer,
        thanks("Bruno", "Ana Souza", Some(bread()), 3),
        thanks("Carla", "Ana Souza", Some(bread()), 4),
        thanks("Dario", "Ana Souza", Some(bread()), 7),
        thanks("Bruno", "Jonas Weber", Some(lua()), 3),
        thanks("Carla", "Jonas Weber", Some(lua()), 4),
        thanks("Jonas Weber", "Jonas Weber", Some(lua()), 5),
        thanks("Bruno", "Ghost", Some(lua()), 3),
        thanks("Carla", "Ghost", Some(lua()), 4),
        thanks("Dario", "Ghost", Some(lua()), 5),
    ];
    let requests = vec![
        request("Bruno", "User talk:Ana Souza", Some(lua())),
        request("Fay", "User talk:Ana Souza", None),
        // Not a talk page: counts for nothing.
        request("Gil", "User:Ana Souza", Some(lua())),
    ];
    (profiles, thanks, requests)
}

async fn site() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let (profiles, thanks, requests) = records();
    let mut builder = data.begin("test").unwrap();
    for p in &profiles {
        builder
            .add_profile(ProfileRecord {
                profile: p,
                page_id: None,
                accepts_email: false,
            })
            .unwrap();
    }
    for t in &thanks {
        builder.add_thanks(t).unwrap();
    }
    for r in &requests {
        builder.add_request(r).unwrap();
    }
    builder.publish().unwrap();
    let state = Arc::new(AppState::new(data));
    state.refresh();
    let base = serve(state).await;
    (dir, base)
}

/// GETs a URL; an absolute URL of the tool is fetched from the test server instead.
async fn get(base: &str, url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let url = match url.strip_prefix(PUBLIC_URL) {
        Some(path) => format!("{base}{path}"),
        None => format!("{base}{url}"),
    };
    let response = reqwest::get(&url).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn get_json(base: &str, url: &str) -> (u16, Value) {
    let (status, headers, body) = get(base, url).await;
    let kind = headers["content-type"].to_str().unwrap();
    assert!(kind.starts_with("application/json"), "{url}: {kind}");
    (status, serde_json::from_str(&body).unwrap())
}

fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

/// What the templates' escaping turns back into.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The `href` of the first link with this class.
fn link(page: &str, class: &str) -> String {
    let start = page
        .find(&format!("class=\"{class}\" href=\""))
        .unwrap_or_else(|| panic!("no link .{class}"))
        + class.len()
        + 15;
    unescape(&page[start..start + page[start..].find('"').unwrap()])
}

#[tokio::test]
async fn the_api_gives_each_persons_thanks_and_requests_per_skill() {
    let (_dir, base) = site().await;
    let (status, ana) = get_json(&base, "/api/v1/profiles/Ana_Souza").await;
    assert_eq!(status, 200);
    assert_eq!(ana["user"], "Ana Souza");
    let connections = ana["connections"].as_array().unwrap();
    let find = |skill: &Value| {
        connections
            .iter()
            .find(|c| &c["skill"] == skill)
            .unwrap_or_else(|| panic!("{skill} in {connections:?}"))
    };
    let lua = find(&serde_json::json!({"id": "lua-modules", "label": "Lua modules"}));
    assert_eq!(
        lua["thanked_by"], 3,
        "self-thanks, repeats and new accounts do not count"
    );
    assert_eq!(lua["asked_by"], 1);
    assert_eq!(
        lua["badge"],
        format!("{PUBLIC_URL}/badges/lua-modules/Ana_Souza.json")
    );
    let bread = find(&serde_json::json!({"text": "Bread baking"}));
    assert_eq!(bread["thanked_by"], 3);
    assert_eq!(bread["badge"], Value::Null, "free text earns no badge");
    let general = find(&Value::Null);
    assert_eq!(general["thanked_by"], 0);
    assert_eq!(general["asked_by"], 1);
    assert_eq!(connections.len(), 3);
    // Most thanked first.
    assert!(connections[2]["skill"].is_null());

    let (_, jonas) = get_json(&base, "/api/v1/profiles/Jonas_Weber").await;
    assert_eq!(jonas["connections"][0]["thanked_by"], 2);
    assert_eq!(jonas["connections"][0]["badge"], Value::Null);
    let (_, bruno) = get_json(&base, "/api/v1/profiles/Bruno").await;
    assert_eq!(bruno["connections"], serde_json::json!([]));
}

#[tokio::test]
async fn three_different_thankers_give_a_verifiable_open_badge() {
    let (_dir, base) = site().await;
    let assertion_url = format!("{PUBLIC_URL}/badges/lua-modules/Ana_Souza.json");
    let (status, assertion) = get_json(&base, &assertion_url).await;
    assert_eq!(status, 200, "{assertion}");
    assert_eq!(assertion["@context"], "https://w3id.org/openbadges/v2");
    assert_eq!(assertion["type"], "Assertion");
    assert_eq!(
        assertion["id"],
        assertion_url.as_str(),
        "hosted: its own URL"
    );
    assert_eq!(
        assertion["recipient"],
        serde_json::json!({
            "type": "url",
            "identity": "https://meta.wikimedia.org/wiki/User:Ana_Souza",
            "hashed": false,
        })
    );
    assert_eq!(assertion["verification"]["type"], "hosted");
    // Issued when the third different person thanked (Dario, on the 9th), so the
    // document is the same in every snapshot.
    assert_eq!(assertion["issuedOn"], "2026-03-09T00:00:00Z");
    let evidence: Vec<&str> = assertion["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| str_of(e, "id"))
        .collect();
    assert_eq!(
        evidence,
        [
            "https://meta.wikimedia.org/wiki/User:Bruno",
            "https://meta.wikimedia.org/wiki/User:Carla",
            "https://meta.wikimedia.org/wiki/User:Dario",
        ]
    );
    for e in assertion["evidence"].as_array().unwrap() {
        assert!(!str_of(e, "narrative").is_empty());
    }
    // The same document whichever way the name is written.
    let (_, again) = get_json(&base, "/badges/lua-modules/Ana%20Souza.json").await;
    assert_eq!(again, assertion);

    // The badge class, fetched from the assertion's link.
    let badge_url = str_of(&assertion, "badge").to_string();
    assert_eq!(badge_url, format!("{PUBLIC_URL}/badges/lua-modules.json"));
    let (status, badge) = get_json(&base, &badge_url).await;
    assert_eq!(status, 200);
    assert_eq!(badge["@context"], "https://w3id.org/openbadges/v2");
    assert_eq!(badge["type"], "BadgeClass");
    assert_eq!(badge["id"], badge_url.as_str());
    assert!(str_of(&badge, "name").contains("Lua modules"));
    assert!(!str_of(&badge, "description").is_empty());
    let narrative = str_of(&badge["criteria"], "narrative");
    assert!(
        narrative.contains(&format!(
            "at least {BADGE_MIN_THANKERS} different Wikimedians"
        )) && narrative.contains("own user page"),
        "{narrative}"
    );

    // Its image: an SVG, with the tool's strict headers.
    let image = str_of(&badge, "image");
    assert!(image.starts_with(PUBLIC_URL), "{image}");
    let (status, headers, svg) = get(&base, image).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains(">Lua modules</text>"), "{svg}");
    assert!(!svg.contains("<script"));

    // The issuer, fetched from the badge class's link.
    let issuer_url = str_of(&badge, "issuer").to_string();
    let (status, issuer) = get_json(&base, &issuer_url).await;
    assert_eq!(status, 200);
    assert_eq!(issuer["@context"], "https://w3id.org/openbadges/v2");
    assert_eq!(issuer["type"], "Issuer");
    assert_eq!(issuer["id"], issuer_url.as_str());
    assert!(!str_of(&issuer, "name").is_empty());
    assert_eq!(issuer["url"], PUBLIC_URL);
    assert!(str_of(&issuer, "email").contains('@'));
    // Hosted verification: the assertion lives on the issuer's own origin.
    assert!(assertion_url.starts_with(str_of(&issuer, "url")));
}

#[tokio::test]
async fn fewer_than_three_thankers_no_profile_or_no_taxonomy_skill_is_a_404() {
    let (_dir, base) = site().await;
    for (path, why) in [
        (
            "/badges/lua-modules/Jonas_Weber.json",
            "two thankers (his own thanks does not count)",
        ),
        ("/badges/lua-modules/Ghost.json", "no profile"),
        ("/badges/lua-modules/Bruno.json", "never thanked"),
        ("/badges/bread-baking/Ana_Souza.json", "free text"),
        ("/badges/no-such-skill.json", "no such skill"),
        ("/badges/lua-modules/a%7Cb.json", "not a user name"),
        ("/badges/lua-modules/Ana_Souza", "no extension"),
        ("/badges/lua-modules/Ana_Souza.json/more", "no such route"),
    ] {
        let (status, body) = get_json(&base, path).await;
        assert_eq!(status, 404, "{path}: {why}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    // Thanks that name no skill, or a free-text skill, have no badge class.
    let (status, _) = get_json(&base, "/badges/lua-modules.json").await;
    assert_eq!(status, 200, "every taxonomy skill has a badge class");
}

#[tokio::test]
async fn the_profile_page_shows_recognition_and_links_to_ask_and_thank_per_skill() {
    let (_dir, base) = site().await;
    let (status, _, page) = get(&base, "/profile/Ana_Souza?uselang=en").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"recognition\""), "{page}");
    assert!(page.contains("Thanked by 3 people"), "{page}");
    assert!(page.contains("Asked by one person"), "{page}");
    assert!(page.contains(">Bread baking</bdi>"), "free text as written");
    assert!(page.contains("No skill named"), "{page}");
    let badge = link(&page, "open-badge");
    assert_eq!(badge, "/badges/lua-modules/Ana_Souza.json");
    assert!(page.contains("src=\"&#x2f;badges&#x2f;lua-modules&#x2f;image.svg\""));
    assert_eq!(page.matches("class=\"open-badge\"").count(), 1);

    // The general thanks link: the reader's own user page, the preload with the person,
    // no skill and today's date.
    let thank = link(&page, "button\" id=\"thanks-link");
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        thank.starts_with(
            "https://meta.wikimedia.org/w/index.php?title=Special:MyPage&action=edit&section=new&preloadtitle=Thanks%20to%20Ana%20Souza"
        ),
        "{thank}"
    );
    assert!(
        thank.ends_with(&format!(
            "&preload=Template:Capacity_Exchange_thanks/preload&preloadparams%5B%5D=Ana%20Souza&preloadparams%5B%5D=&preloadparams%5B%5D={today}"
        )),
        "{thank}"
    );
    // Per offered skill: the marker and the thanks name it (by id, or as written).
    let ask = link(&page, "ask-skill");
    assert!(ask.contains("title=User_talk:Ana_Souza&"), "{ask}");
    assert!(
        ask.contains(
            "preloadparams%5B%5D=%7B%7BCapacity%20Exchange%20request%7Cskill%3Dlua-modules%7D%7D%0A"
        ),
        "{ask}"
    );
    assert!(
        ask.contains("preloadtitle=Capacity%20Exchange:%20a%20question%20about%20Lua%20modules"),
        "{ask}"
    );
    let thank_lua = link(&page, "thank-skill");
    assert!(
        thank_lua.ends_with(&format!(
            "&preloadparams%5B%5D=Ana%20Souza&preloadparams%5B%5D=lua-modules&preloadparams%5B%5D={today}"
        )),
        "{thank_lua}"
    );
    assert!(page.contains("preloadparams%5B%5D=Bread%20baking&amp;preloadparams%5B%5D="));
    assert!(page.contains("skill%3DBread%20baking%7D%7D"));

    // Two thankers: counted, no badge.
    let (_, _, jonas) = get(&base, "/profile/Jonas_Weber?uselang=en").await;
    assert!(jonas.contains("Thanked by 2 people"), "{jonas}");
    assert!(!jonas.contains("open-badge"));
    // Nobody yet: a short line.
    let (_, _, bruno) = get(&base, "/profile/Bruno?uselang=en").await;
    assert!(bruno.contains("Nobody has thanked or asked this person"));
    assert!(!bruno.contains("class=\"recognition\""));
    assert!(
        !bruno.contains("ask-skill"),
        "no offered skills, no per-skill links"
    );

    // In Arabic, with Arabic plural forms and the skill in Arabic.
    let (_, _, arabic) = get(&base, "/profile/Ana_Souza?uselang=ar").await;
    assert!(arabic.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(arabic.contains("شكره 3 أشخاص"), "{arabic}");
    assert!(arabic.contains("سأله شخص واحد"), "{arabic}");
    let lua_ar = Taxonomy::bundled().label(Taxonomy::bundled().get("lua-modules").unwrap(), "ar");
    assert!(arabic.contains(lua_ar), "{lua_ar}");
}
