//! The message files are complete and consistent, and the catalog formats, falls back and
//! negotiates languages as documented.

use std::collections::BTreeSet;

use webtool::i18n::{self, Catalog, LANGUAGES};

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn messages(lang: &str) -> serde_json::Map<String, serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&repo_file(&format!("i18n/{lang}.json")))
        .unwrap_or_else(|e| panic!("i18n/{lang}.json does not parse: {e}"));
    let mut object = json.as_object().expect("an object").clone();
    assert!(
        object.contains_key("@metadata"),
        "i18n/{lang}.json has no @metadata"
    );
    object.remove("@metadata");
    object
}

fn keys(lang: &str) -> BTreeSet<String> {
    messages(lang).keys().cloned().collect()
}

/// The `$n` parameters a message uses.
fn params(text: &str) -> BTreeSet<char> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .filter(|w| w[0] == '$' && w[1].is_ascii_digit() && w[1] != '0')
        .map(|w| w[1])
        .collect()
}

fn catalog() -> &'static Catalog {
    Catalog::global()
}

#[test]
fn all_files_parse_and_hold_only_strings() {
    for lang in LANGUAGES.iter().copied().chain(["qqq"]) {
        for (key, value) in messages(lang) {
            assert!(value.is_string(), "{lang}: {key} is not a string");
            assert!(
                !value.as_str().unwrap().trim().is_empty(),
                "{lang}: {key} is empty"
            );
        }
    }
    Catalog::load().expect("the embedded files load");
}

#[test]
fn there_are_enough_messages() {
    assert!(keys("en").len() >= 60, "only {} messages", keys("en").len());
    assert_eq!(catalog().keys().len(), keys("en").len());
}

#[test]
fn every_language_has_every_key() {
    let en = keys("en");
    for lang in LANGUAGES {
        let theirs = keys(lang);
        let missing: Vec<_> = en.difference(&theirs).collect();
        let extra: Vec<_> = theirs.difference(&en).collect();
        assert!(missing.is_empty(), "{lang} lacks {missing:?}");
        assert!(extra.is_empty(), "{lang} has unknown keys {extra:?}");
    }
}

#[test]
fn qqq_documents_every_key() {
    assert_eq!(keys("en"), keys("qqq"));
}

#[test]
fn translations_use_the_same_parameters() {
    let en = messages("en");
    for lang in LANGUAGES {
        let theirs = messages(lang);
        for (key, text) in &en {
            let wanted = params(text.as_str().unwrap());
            let got = params(theirs[key].as_str().unwrap());
            assert_eq!(wanted, got, "{lang}: {key} parameters");
        }
    }
}

#[test]
fn plural_blocks_have_a_sensible_number_of_forms() {
    for lang in LANGUAGES {
        let wanted = i18n::plural_categories(lang).len();
        for (key, text) in messages(lang) {
            let text = text.as_str().unwrap();
            for block in text.split("{{PLURAL:").skip(1) {
                let inner = block.split("}}").next().unwrap();
                let forms = inner.split('|').count() - 1;
                assert!(
                    (2..=wanted).contains(&forms),
                    "{lang}: {key} has {forms} plural forms, expected 2..={wanted}"
                );
            }
        }
    }
}

#[test]
fn messages_are_plain_text() {
    for lang in LANGUAGES {
        for (key, text) in messages(lang) {
            let text = text.as_str().unwrap();
            assert!(
                !text.contains('<') && !text.contains('>'),
                "{lang}: {key} contains markup"
            );
        }
    }
}

#[test]
fn region_names_exist_for_every_region() {
    for code in ["ssa", "nwe", "eseap", "lac", "ceeca", "sa", "mena", "na"] {
        let key = format!("capx-region-{code}");
        for lang in LANGUAGES {
            assert!(catalog().raw(lang, &key).is_some(), "{lang}: {key}");
        }
    }
}

fn counts(lang: &str) -> Vec<String> {
    [0, 1, 2, 3, 11, 100]
        .iter()
        .map(|n| catalog().message(lang, "capx-results-count", &[&n.to_string()]))
        .collect()
}

#[test]
fn english_plurals() {
    assert_eq!(
        counts("en"),
        [
            "0 results",
            "1 result",
            "2 results",
            "3 results",
            "11 results",
            "100 results"
        ]
    );
    assert_eq!(
        catalog().message("en", "capx-profiles-count", &["1"]),
        "1 person in the Capacity Exchange"
    );
    assert_eq!(
        catalog().message("de", "capx-results-count", &["0"]),
        "0 Ergebnisse"
    );
}

#[test]
fn french_plurals_treat_zero_as_one() {
    assert_eq!(
        counts("fr"),
        [
            "0 résultat",
            "1 résultat",
            "2 résultats",
            "3 résultats",
            "11 résultats",
            "100 résultats"
        ]
    );
}

#[test]
fn arabic_plurals_have_six_forms() {
    assert_eq!(
        counts("ar"),
        [
            "لا نتائج",
            "نتيجة واحدة",
            "نتيجتان",
            "3 نتائج",
            "11 نتيجة",
            "100 نتيجة"
        ]
    );
    use i18n::PluralCategory::*;
    let cats: Vec<_> = [0, 1, 2, 3, 10, 11, 99, 100, 101, 102, 103, 111, 1000]
        .iter()
        .map(|n| i18n::plural_category("ar", *n as f64))
        .collect();
    assert_eq!(
        cats,
        [
            Zero, One, Two, Few, Few, Many, Many, Other, Other, Other, Few, Many, Other
        ]
    );
}

#[test]
fn plural_rules_of_the_other_languages() {
    use i18n::PluralCategory::*;
    for lang in ["en", "de", "es"] {
        assert_eq!(i18n::plural_category(lang, 0.0), Other, "{lang}");
        assert_eq!(i18n::plural_category(lang, 1.0), One, "{lang}");
        assert_eq!(i18n::plural_category(lang, 2.0), Other, "{lang}");
        assert_eq!(i18n::plural_category(lang, 1.5), Other, "{lang}");
    }
    for lang in ["fr", "pt"] {
        assert_eq!(i18n::plural_category(lang, 0.0), One, "{lang}");
        assert_eq!(i18n::plural_category(lang, 1.0), One, "{lang}");
        assert_eq!(i18n::plural_category(lang, 1.5), One, "{lang}");
        assert_eq!(i18n::plural_category(lang, 2.0), Other, "{lang}");
    }
}

#[test]
fn missing_forms_fall_back_to_the_last_and_explicit_forms_win() {
    assert_eq!(
        i18n::format("ar", "{{PLURAL:$1|a|b}}", &["5"]),
        "b",
        "few is missing: last form"
    );
    assert_eq!(i18n::format("ar", "{{PLURAL:$1|a|b}}", &["0"]), "a");
    assert_eq!(
        i18n::format("en", "{{PLURAL:$1|0=none|one|$1 many}}", &["0"]),
        "none"
    );
    assert_eq!(
        i18n::format("en", "{{PLURAL:$1|0=none|one|$1 many}}", &["7"]),
        "7 many"
    );
    assert_eq!(i18n::format("en", "{{PLURAL:$1|only}}", &["7"]), "only");
    assert_eq!(
        i18n::format("en", "{{PLURAL:$1|one|other}}", &["12,345"]),
        "other"
    );
}

#[test]
fn parameters_are_substituted_once() {
    assert_eq!(
        catalog().message("en", "capx-pagination-page", &["2", "9"]),
        "Page 2 of 9"
    );
    assert_eq!(
        catalog().message("en", "capx-profile-missing", &["$2 {{PLURAL:$1|x|y}}"]),
        "$2 {{PLURAL:$1|x|y}} has no Capacity Exchange profile."
    );
    assert_eq!(
        catalog().message("en", "capx-pagination-page", &["2"]),
        "Page 2 of $2",
        "a missing argument stays as is"
    );
    assert_eq!(
        catalog().message("de", "capx-stats-group-item", &["4", "Lua"]),
        "4 Personen möchten Lua lernen"
    );
    assert_eq!(
        catalog().message("en", "capx-skills-people", &["1", "3"]),
        "1 offers, 3 want to learn"
    );
}

#[test]
fn fallback_chain() {
    // A regional variant falls back to its base language.
    assert_eq!(
        catalog().message("pt-BR", "capx-nav-home", &[]),
        catalog().message("pt", "capx-nav-home", &[])
    );
    assert_eq!(catalog().message("pt_br", "capx-nav-home", &[]), "Início");
    // An unsupported language falls back to English.
    assert_eq!(catalog().message("xx", "capx-nav-home", &[]), "Home");
    // An unknown key shows itself.
    assert_eq!(
        catalog().message("fr", "capx-no-such-message", &[]),
        "⧼capx-no-such-message⧽"
    );
    // qqq is documentation, not a language.
    assert_eq!(catalog().message("qqq", "capx-nav-home", &[]), "Home");
}

#[test]
fn negotiation() {
    use i18n::negotiate;
    // uselang wins over everything.
    assert_eq!(negotiate(Some("ar"), Some("fr"), Some("de")), "ar");
    // An unsupported uselang is skipped; the cookie comes next.
    assert_eq!(negotiate(Some("xx"), Some("fr"), Some("de")), "fr");
    assert_eq!(negotiate(None, Some("es"), Some("de")), "es");
    // Then Accept-Language, by q-value.
    assert_eq!(negotiate(None, None, Some("de")), "de");
    assert_eq!(
        negotiate(None, None, Some("fr;q=0.5, es;q=0.9, en;q=0.1")),
        "es"
    );
    assert_eq!(negotiate(None, None, Some("xx, ja;q=0.9, de;q=0.3")), "de");
    assert_eq!(negotiate(None, None, Some("fr, de")), "fr");
    assert_eq!(negotiate(None, None, Some("de;q=0, fr;q=0.2")), "fr");
    assert_eq!(negotiate(None, Some(""), Some("pt-BR,pt;q=0.9")), "pt");
    // Regional variants map to the base language.
    assert_eq!(negotiate(Some("pt-BR"), None, None), "pt");
    assert_eq!(negotiate(None, None, Some("ar-EG")), "ar");
    // Nothing supported: English.
    assert_eq!(negotiate(None, None, None), "en");
    assert_eq!(
        negotiate(Some("xx"), Some("yy"), Some("ja, zh;q=0.8, *")),
        "en"
    );
    assert_eq!(negotiate(None, None, Some(";;;,,=q")), "en");
}

#[test]
fn arabic_is_right_to_left() {
    assert!(i18n::is_rtl("ar"));
    assert!(i18n::is_rtl("ar-EG"));
    assert_eq!(i18n::dir("ar"), "rtl");
    for lang in ["en", "pt", "es", "fr", "de"] {
        assert!(!i18n::is_rtl(lang), "{lang}");
        assert_eq!(i18n::dir(lang), "ltr");
    }
}

#[test]
fn arabic_messages_are_in_arabic_script() {
    let arabic = |c: char| ('\u{0600}'..='\u{06FF}').contains(&c);
    for (key, text) in messages("ar") {
        let text = text.as_str().unwrap();
        assert!(
            text.chars().any(arabic),
            "ar: {key} is not in Arabic script"
        );
    }
}
