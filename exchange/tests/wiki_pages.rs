//! The pages in `wiki/` and `i18n/` agree with the code that reads profiles.

use std::collections::BTreeSet;
use std::path::PathBuf;

use exchange::parse::{KNOWN_PARAMS, PageContext, ProfileTemplate, parse_page};
use exchange::taxonomy::Taxonomy;

fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn templatedata_documents_exactly_the_known_parameters() {
    let doc = repo_file("wiki/Capacity_Exchange_profile.doc.wikitext");
    let start = doc.find("<templatedata>").unwrap() + "<templatedata>".len();
    let end = doc.find("</templatedata>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&doc[start..end]).unwrap();
    let params = data["params"].as_object().unwrap();
    let documented: BTreeSet<&str> = params.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = KNOWN_PARAMS.iter().copied().collect();
    assert_eq!(documented, known);
    for (name, param) in params {
        for field in ["label", "description", "type", "example"] {
            assert!(param.get(field).is_some(), "{name} has no {field}");
        }
    }
    let order: Vec<&str> = data["paramOrder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(order, KNOWN_PARAMS);
}

#[test]
fn the_preload_is_a_profile_without_warnings() {
    let preload = repo_file("wiki/Capacity_Exchange_profile.preload.wikitext");
    let page = PageContext {
        title: "User:New person".into(),
        ..PageContext::default()
    };
    let parsed = parse_page(
        &preload,
        &page,
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    );
    assert!(parsed.profile.is_some());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn every_message_is_documented() {
    let keys = |file: &str| -> BTreeSet<String> {
        let json: serde_json::Value = serde_json::from_str(&repo_file(file)).unwrap();
        json.as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "@metadata")
            .cloned()
            .collect()
    };
    assert_eq!(keys("i18n/en.json"), keys("i18n/qqq.json"));
}
