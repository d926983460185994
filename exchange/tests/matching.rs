//! Matching from end to end: profiles as people write them on their user pages, read by
//! the real parser, matched, and served as the JSON of `/api/v1/match/{user}`. The rules
//! one by one are specified by the unit tests of `exchange::matching`.

use chrono::{DateTime, TimeZone, Utc};
use exchange::matching::{DEFAULT_LIMIT, Matcher, Matches};
use exchange::parse::{PageContext, ProfileTemplate, parse_page};
use exchange::profile::Profile;
use exchange::taxonomy::Taxonomy;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

/// The profile on `User:{user}`, saved `days_ago`, with these template parameters.
fn page(user: &str, days_ago: i64, params: &str) -> Profile {
    let wikitext = format!("{{{{Capacity Exchange profile\n{params}\n}}}}");
    let context = PageContext {
        title: format!("User:{user}"),
        revid: 1,
        timestamp: Some(now() - chrono::Duration::days(days_ago)),
    };
    parse_page(
        &wikitext,
        &context,
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    )
    .profile
    .expect("the page calls the template")
}

fn people() -> Vec<Profile> {
    vec![
        // DESIGN.md's example.
        page(
            "Ana",
            3,
            "| offers = Lua; Wikidata queries; event organizing
             | wants = grant writing; Commons batch uploads
             | languages = pt-N, en-3, es-1
             | country = BR
             | timezone = America/Sao_Paulo",
        ),
        // Writes in Portuguese, a regional variant, and an offset.
        page(
            "Bruno",
            14,
            "| offers = Redação de propostas de financiamento
             | wants = Módulos Lua
             | languages = pt-br-4
             | country = Brazil
             | timezone = UTC-3",
        ),
        // Writes in French; shares only English with Ana.
        page(
            "Carla",
            40,
            "| offers = Demandes de subvention
             | languages = fr-N, en-2
             | country = FR
             | timezone = Europe/Paris",
        ),
        // Would be the best teacher of all, but is away.
        page(
            "Dani",
            1,
            "| offers = grant writing; Commons batch uploads
             | wants = Lua
             | languages = pt-N
             | country = BR
             | timezone = America/Sao_Paulo
             | status = paused",
        ),
        // Speaks Spanish at level 1 only, like Ana: not enough for a lesson.
        page(
            "Eva",
            2,
            "| offers = Pattypan
             | languages = es-N
             | country = AR",
        ),
    ]
}

fn users(list: &[exchange::matching::Match]) -> Vec<&str> {
    list.iter().map(|m| m.user.as_str()).collect()
}

#[test]
fn matching_profiles_as_written_on_the_wiki() {
    let matcher = Matcher::new(&people(), Taxonomy::bundled());
    let found: Matches = matcher.matches("Ana", now(), DEFAULT_LIMIT).unwrap();
    assert_eq!(users(&found.learn_from), ["Bruno", "Carla"]);
    assert_eq!(users(&found.share_with), ["Bruno"]);
    assert_eq!(users(&found.exchange), ["Bruno"]);

    let bruno = serde_json::to_value(&found.exchange[0]).unwrap();
    assert_eq!(
        bruno["skills"],
        json!([
            {"id": "grant-writing", "label": "Grant writing", "fit": "full", "direction": "learn",
             "yours": {"id": "grant-writing", "label": "Grant writing"}},
            {"id": "lua-modules", "label": "Lua modules", "fit": "full", "direction": "share",
             "yours": {"id": "lua-modules", "label": "Lua modules"}},
        ])
    );
    assert_eq!(
        bruno["languages"],
        json!([{"code": "pt", "their_code": "pt-br", "levels": ["N", "4"]}])
    );
    let texts: Vec<&str> = bruno["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "offers Grant writing, which you want to learn",
            "wants to learn Lua modules, which you offer",
            "you both speak Portuguese (native / 4)",
            "all 14 of your waking hours overlap (08:00–22:00 local time)",
            "same region (Latin America and the Caribbean)",
            "profile updated 2 weeks ago",
        ]
    );

    let carla = &found.learn_from[1];
    assert_eq!(carla.languages[0].code, "en");
    assert!(
        carla
            .reasons
            .iter()
            .any(|r| r.text == "you both speak English (3 / 2)"),
        "{:?}",
        carla.reasons
    );
}

#[test]
fn matching_works_from_the_other_side_too() {
    let matcher = Matcher::new(&people(), Taxonomy::bundled());
    // The user name as MediaWiki normalises it, whichever way it was typed.
    for name in ["bruno", "User:Bruno"] {
        assert!(matcher.contains(name), "{name}");
    }
    assert!(!matcher.contains("Bruno/Profile"));
    let found = matcher.matches("bruno", now(), DEFAULT_LIMIT).unwrap();
    assert_eq!(users(&found.learn_from), ["Ana"]);
    assert_eq!(users(&found.share_with), ["Ana"]);
    // Nobody shares a usable language with Eva.
    let eva = matcher.matches("Eva", now(), DEFAULT_LIMIT).unwrap();
    assert_eq!(eva, Matches::default());
}

#[test]
fn matching_serves_the_api_shape() {
    let matcher = Matcher::new(&people(), Taxonomy::bundled());
    let json = serde_json::to_value(matcher.matches("Ana", now(), 1).unwrap()).unwrap();
    let object = json.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["learn_from", "share_with", "exchange"]
    );
    let entry = &json["learn_from"][0];
    for field in ["user", "skills", "languages", "score", "reasons"] {
        assert!(entry.get(field).is_some(), "{field} in {entry}");
    }
    assert!(entry["reasons"][0]["code"].is_string());
    assert!(entry["reasons"][0]["args"].is_array());
}
