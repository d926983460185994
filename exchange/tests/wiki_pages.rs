//! The pages in `wiki/` and `i18n/` agree with the code that reads profiles.
//!
//! `wiki/Capacity_Exchange_profile.i18n.wikitext` (the profile box's headings in each
//! language) is generated here from the interface messages; after changing a message, run
//! `CAPX_UPDATE_WIKI_PAGES=1 cargo test -p exchange --test wiki_pages` to write it again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use exchange::connections::{
    THANKS_PRELOAD_PAGE, THANKS_TEMPLATE, TemplateNames, Thanks, parse_thanks,
};
use exchange::parse::{
    KNOWN_CONTACTS, KNOWN_FORMATS, KNOWN_PARAMS, PageContext, ProfileTemplate, items, parse_page,
};
use exchange::profile::{SkillRef, Status};
use exchange::taxonomy::Taxonomy;
use serde_json::Value;

/// The languages of the interface, English first (the fallback of every other).
const LANGUAGES: &[&str] = &["en", "pt", "es", "fr", "de", "ar"];

fn repo_path(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn repo_file(path: &str) -> String {
    let full = repo_path(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn messages(lang: &str) -> serde_json::Map<String, Value> {
    let json: Value = serde_json::from_str(&repo_file(&format!("i18n/{lang}.json"))).unwrap();
    json.as_object().unwrap().clone()
}

fn message(all: &BTreeMap<&str, serde_json::Map<String, Value>>, lang: &str, key: &str) -> String {
    all[lang][key]
        .as_str()
        .unwrap_or_else(|| panic!("i18n/{lang}.json has no {key}"))
        .to_string()
}

fn all_messages() -> BTreeMap<&'static str, serde_json::Map<String, Value>> {
    LANGUAGES.iter().map(|l| (*l, messages(l))).collect()
}

fn templatedata() -> Value {
    let doc = repo_file("wiki/Capacity_Exchange_profile.doc.wikitext");
    let start = doc.find("<templatedata>").unwrap() + "<templatedata>".len();
    let end = doc.find("</templatedata>").unwrap();
    serde_json::from_str(&doc[start..end]).unwrap()
}

/// The message each parameter's label comes from: the profile builder's field labels, so
/// that VisualEditor's template dialog and the web tool's form use the same words.
/// `recognition` has none: the builder asks for it with a checkbox whose label is a whole
/// sentence, too long for a parameter's name, so its labels are the TemplateData's own.
fn builder_label_key(param: &str) -> Option<&'static str> {
    Some(match param {
        "offers" => "capx-builder-offers-legend",
        "wants" => "capx-builder-wants-legend",
        "knows" => "capx-builder-knows-legend",
        "languages" => "capx-builder-languages-legend",
        "country" => "capx-profile-country",
        "timezone" => "capx-profile-timezone",
        "affiliations" => "capx-profile-affiliations",
        "projects" => "capx-profile-projects",
        "formats" => "capx-profile-formats",
        "availability" => "capx-profile-availability",
        "contact" => "capx-builder-contact-legend",
        "bio" => "capx-builder-bio",
        "status" => "capx-builder-status-legend",
        "recognition" => return None,
        other => panic!("no label for {other}"),
    })
}

#[test]
fn templatedata_documents_exactly_the_known_parameters() {
    let data = templatedata();
    let params = data["params"].as_object().unwrap();
    let documented: BTreeSet<&str> = params.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = KNOWN_PARAMS.iter().copied().collect();
    assert_eq!(documented, known);
    for (name, param) in params {
        for field in ["label", "description", "type", "example"] {
            assert!(param.get(field).is_some(), "{name} has no {field}");
        }
        let example = param["example"].as_str().unwrap_or_default();
        assert!(!example.is_empty(), "{name}: the example is empty");
        assert!(
            [
                "string", "line", "content", "number", "boolean", "url", "date"
            ]
            .contains(&param["type"].as_str().unwrap_or_default()),
            "{name}: type {}",
            param["type"]
        );
        assert!(
            param.get("suggested").is_some() || param.get("required").is_some(),
            "{name}: say whether it is suggested or required"
        );
    }
    let order: Vec<&str> = data["paramOrder"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(order, KNOWN_PARAMS);
    assert_eq!(data["format"], "block", "as the preload is laid out");
}

#[test]
fn templatedata_is_translated_with_the_web_tools_words() {
    let data = templatedata();
    let all = all_messages();
    for lang in LANGUAGES {
        let description = data["description"][lang].as_str().unwrap_or_default();
        assert!(
            !description.is_empty(),
            "the template has no {lang} description"
        );
    }
    for (name, param) in data["params"].as_object().unwrap() {
        for lang in LANGUAGES {
            match builder_label_key(name) {
                Some(key) => assert_eq!(
                    param["label"][lang].as_str(),
                    Some(message(&all, lang, key).as_str()),
                    "{name}: the {lang} label is not the builder's ({key})"
                ),
                None => assert!(
                    !param["label"][lang].as_str().unwrap_or_default().is_empty(),
                    "{name} has no {lang} label"
                ),
            }
            let description = param["description"][lang].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{name} has no {lang} description");
            let keywords = match name.as_str() {
                "formats" => KNOWN_FORMATS,
                "contact" => KNOWN_CONTACTS,
                _ => &[],
            };
            for keyword in keywords {
                assert!(
                    description.contains(keyword),
                    "the {lang} description of {name} does not name {keyword}"
                );
            }
        }
    }
}

#[test]
fn templatedata_examples_parse_without_warnings() {
    let data = templatedata();
    let mut text = String::from("{{Capacity Exchange profile\n");
    for (name, param) in data["params"].as_object().unwrap() {
        text.push_str(&format!(
            "| {name} = {}\n",
            param["example"].as_str().unwrap()
        ));
    }
    text.push_str("}}");
    let parsed = parse_page(
        &text,
        &PageContext {
            title: "User:Example".into(),
            ..PageContext::default()
        },
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    );
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let profile = parsed.profile.unwrap();
    assert_eq!(profile.country.as_deref(), Some("BR"));
    assert_eq!(profile.offers.len(), 3);
}

#[test]
fn the_preload_is_an_empty_profile_without_warnings() {
    let file = repo_file("wiki/Capacity_Exchange_profile.preload.wikitext");
    // MediaWiki leaves out the <noinclude> note when it preloads the page.
    let preload = file.split("<noinclude>").next().unwrap();
    for param in KNOWN_PARAMS {
        assert!(
            preload
                .lines()
                .any(|l| l.starts_with(&format!("| {param} "))),
            "the preload has no line for {param}"
        );
    }
    let page = PageContext {
        title: "User:New person".into(),
        ..PageContext::default()
    };
    let parsed = parse_page(
        preload,
        &page,
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    );
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let profile = parsed.profile.expect("the preload calls the template");
    let empty = exchange::profile::Profile::empty("New person", "User:New person");
    assert_eq!(profile, empty, "every value of the preload is empty");
    assert_eq!(profile.status, Status::Active);
}

#[test]
fn every_message_is_documented() {
    let keys = |file: &str| -> BTreeSet<String> {
        let json: Value = serde_json::from_str(&repo_file(file)).unwrap();
        json.as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "@metadata")
            .cloned()
            .collect()
    };
    assert_eq!(keys("i18n/en.json"), keys("i18n/qqq.json"));
}

// --- The box's headings in the reader's language -------------------------------------

/// Interface languages whose MediaWiki fallback (`$fallback` in `languages/messages/`,
/// first entry) is one of ours: a reader using one of them sees those headings.
const FALLBACKS: &[(&str, &[&str])] = &[
    ("pt", &["pt-br", "gl", "kea", "mwl", "tet", "vmw"]),
    (
        "es",
        &[
            "es-formal",
            "an",
            "arn",
            "ast",
            "ay",
            "cbk-zam",
            "ext",
            "gn",
            "guc",
            "lad",
            "nah",
        ],
    ),
    (
        "fr",
        &[
            "atj", "avk", "bci", "bm", "fon", "frc", "frp", "gcr", "ht", "kab", "kbp", "ln", "mg",
            "pcd", "ses", "sg", "shy-latn", "ty", "wa", "wls", "wo",
        ],
    ),
    (
        "de",
        &[
            "de-at",
            "de-ch",
            "de-formal",
            "bar",
            "frr",
            "gsw",
            "hrx",
            "ksh",
            "lb",
            "nds",
            "pdc",
            "pdt",
            "pfl",
            "sli",
            "stq",
            "vmf",
        ],
    ),
    ("ar", &["aeb-arab", "arq", "ary", "arz"]),
];

/// Each heading of the box and the message it is: the web tool's own words.
fn box_labels() -> Vec<(String, String)> {
    let mut labels: Vec<(String, String)> = [
        ("caption", "capx-builder-section-title"),
        ("offers", "capx-card-offers"),
        ("wants", "capx-card-wants"),
        ("knows", "capx-card-knows"),
        ("languages", "capx-card-languages"),
        ("country", "capx-profile-country"),
        ("timezone", "capx-profile-timezone"),
        ("affiliations", "capx-profile-affiliations"),
        ("projects", "capx-profile-projects"),
        ("formats", "capx-profile-formats"),
        ("availability", "capx-profile-availability"),
        ("contact", "capx-wiki-contact"),
        ("bio", "capx-wiki-about"),
        ("paused", "capx-wiki-paused"),
        ("view", "capx-wiki-view-profile"),
    ]
    .iter()
    .map(|(k, m)| (k.to_string(), m.to_string()))
    .collect();
    for keyword in KNOWN_FORMATS {
        labels.push((
            format!("format-{keyword}"),
            format!("capx-builder-format-{keyword}"),
        ));
    }
    for keyword in KNOWN_CONTACTS {
        labels.push((
            format!("contact-{keyword}"),
            format!("capx-builder-contact-{keyword}"),
        ));
    }
    labels
}

/// A message as the value of a `{{#switch:}}` case: every character that wikitext would
/// read as syntax there is written as a character reference. (The box never puts a heading
/// at the start of a line, so `*`, `#`, `:` and `;` are safe.)
fn switch_value(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '=' | '{' | '}' | '[' | ']' | '\'' | '~' | '_' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// The text of `Template:Capacity Exchange profile/i18n`.
fn i18n_page() -> String {
    let all = all_messages();
    let mut page = String::from("<includeonly>{{#switch:{{{1|}}}-{{#switch:{{{2|}}}");
    for (lang, others) in FALLBACKS {
        page.push('|');
        page.push_str(lang);
        for other in *others {
            page.push('|');
            page.push_str(other);
        }
        page.push('=');
        page.push_str(lang);
    }
    page.push_str("|#default=en}}\n");
    for lang in LANGUAGES {
        let rtl = exchange::languages::language(lang).is_some_and(|l| l.rtl);
        page.push_str(&format!("|lang-{lang}={lang}\n"));
        page.push_str(&format!(
            "|dir-{lang}={}\n",
            if rtl { "rtl" } else { "ltr" }
        ));
    }
    for (key, message_key) in box_labels() {
        for lang in LANGUAGES {
            let text = message(&all, lang, &message_key);
            assert!(
                !text.contains('$') && !text.contains("{{"),
                "{message_key} ({lang}) has parameters; the box cannot use it"
            );
            page.push_str(&format!("|{key}-{lang}={}\n", switch_value(&text)));
        }
    }
    page.push_str("|#default=}}</includeonly><noinclude>\n");
    page.push_str(
        "The headings of [[Template:Capacity Exchange profile]] in the reader's language: \
<code><nowiki>{{Capacity Exchange profile/i18n|KEY|{{int:lang}}}}</nowiki></code> gives the \
heading KEY in the language of the code (or the language MediaWiki falls back to), else in \
English; KEY <code>lang</code> gives the code of that language and <code>dir</code> its \
direction.\n\n'''Do not edit this page''': it is generated from the Capacity Exchange's \
interface messages (<code>i18n/*.json</code> in the tool's repository, by \
<code>exchange/tests/wiki_pages.rs</code>), so that the box says what the web tool says; \
change the messages there and install the pages again.\n</noinclude>\n",
    );
    page
}

#[test]
fn the_i18n_page_is_generated_from_the_messages() {
    let path = repo_path("wiki/Capacity_Exchange_profile.i18n.wikitext");
    let expected = i18n_page();
    if std::env::var_os("CAPX_UPDATE_WIKI_PAGES").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is out of date: run CAPX_UPDATE_WIKI_PAGES=1 cargo test -p exchange --test wiki_pages",
        path.display()
    );
}

#[test]
fn switch_values_cannot_break_the_switch() {
    assert_eq!(switch_value("a|b=c"), "a&#124;b&#61;c");
    assert_eq!(
        switch_value("{{x}} [[y]]"),
        "&#123;&#123;x&#125;&#125; &#91;&#91;y&#93;&#93;"
    );
    assert_eq!(switch_value("l'été & <b>"), "l&#39;été &amp; &lt;b&gt;");
    assert_eq!(switch_value("ok"), "ok");
}

// --- Module:Capacity Exchange reads lists as parse.rs does --------------------------------

fn module() -> String {
    repo_file("wiki/Module_Capacity_Exchange.lua")
}

/// The Lua table constructor of `local NAME = { … }`, braces included (quoted strings,
/// which may hold braces, are skipped).
fn lua_table<'a>(source: &'a str, name: &str) -> &'a str {
    let declaration = format!("local {name} = ");
    let start = source
        .find(&declaration)
        .unwrap_or_else(|| panic!("the module has no table {name}"))
        + declaration.len();
    let body = &source[start..];
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '\'' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return &body[..=i];
                }
            }
            _ => {}
        }
    }
    panic!("the table {name} is not closed")
}

/// The quoted strings of a piece of Lua, with `\n` read as a line break.
fn lua_strings(piece: &str) -> Vec<String> {
    piece
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(|s| s.replace("\\n", "\n"))
        .collect()
}

#[test]
fn the_module_splits_lists_where_the_reader_does() {
    let source = module();
    let lua: BTreeSet<char> = lua_strings(lua_table(&source, "SEPARATORS"))
        .iter()
        .map(|s| {
            let mut chars = s.chars();
            let c = chars.next().unwrap();
            assert!(chars.next().is_none(), "{s:?} is not one character");
            c
        })
        .collect();
    // Every character of the Basic Multilingual Plane that parse.rs treats as a separator.
    let rust: BTreeSet<char> = (0u32..=0xFFFF)
        .filter_map(char::from_u32)
        .filter(|c| items(&format!("a{c}b")) == ["a", "b"])
        .collect();
    assert_eq!(lua, rust);
    let brackets: String = lua_strings(lua_table(&source, "OPEN"))
        .concat()
        .chars()
        .chain(lua_strings(lua_table(&source, "CLOSE")).concat().chars())
        .collect();
    assert_eq!(brackets, "[{(]})");
    // What the module relies on: no split inside brackets, nor at the ';' of an entity.
    assert_eq!(
        items("[[a;b]]; (c, d); &#91;e"),
        ["[[a;b]]", "(c, d)", "&#91;e"]
    );
}

#[test]
fn the_module_knows_the_keywords_the_reader_knows() {
    let source = module();
    let keywords = lua_table(&source, "KEYWORDS");
    let formats_at = keywords.find("format = {").unwrap();
    let contact_at = keywords.find("contact = {").unwrap();
    assert_eq!(
        lua_strings(&keywords[formats_at..contact_at]),
        KNOWN_FORMATS,
        "formats"
    );
    assert_eq!(
        lua_strings(&keywords[contact_at..]),
        KNOWN_CONTACTS,
        "contact"
    );
    // Each other spelling the module accepts is read by parse.rs as the same keyword.
    let aliases = lua_strings(lua_table(&source, "ALIASES"));
    assert!(!aliases.is_empty());
    for pair in aliases.chunks(2) {
        let (alias, keyword) = (&pair[0], &pair[1]);
        let param = if KNOWN_FORMATS.contains(&keyword.as_str()) {
            "formats"
        } else {
            "contact"
        };
        let text = format!("{{{{Capacity Exchange profile\n| {param} = {alias}\n}}}}");
        let parsed = parse_page(
            &text,
            &PageContext {
                title: "User:Example".into(),
                ..PageContext::default()
            },
            &ProfileTemplate::default(),
            Taxonomy::bundled(),
        );
        let profile = parsed.profile.unwrap();
        let read = if param == "formats" {
            profile.formats
        } else {
            profile.contact
        };
        assert_eq!(read, [keyword.as_str()], "{alias}");
        assert!(parsed.warnings.is_empty(), "{alias}: {:?}", parsed.warnings);
    }
}

// --- The thanks preload: the web tool's "thank this person" link ---------------------------

/// The file in `wiki/` of a page of the thanks template (`Template:Capacity Exchange
/// thanks/preload` → `Capacity_Exchange_thanks.preload.wikitext`).
fn thanks_subpage_file(title: &str) -> String {
    let (template, subpage) = title.split_once('/').expect("a subpage of the template");
    assert_eq!(template, format!("Template:{THANKS_TEMPLATE}"));
    format!(
        "wiki/{}.{subpage}.wikitext",
        THANKS_TEMPLATE.replace(' ', "_")
    )
}

/// What MediaWiki puts in the edit form for `preload=page` and `preloadparams[]=params`:
/// `$1`, `$2`… replaced, the `<noinclude>` parts left out, `<includeonly>` tags dropped.
fn preloaded(page: &str, params: &[&str]) -> String {
    let mut text = page.to_string();
    while let Some(start) = text.find("<noinclude>") {
        let end = text[start..]
            .find("</noinclude>")
            .map_or(text.len(), |e| start + e + "</noinclude>".len());
        text.replace_range(start..end, "");
    }
    let text = text
        .replace("<includeonly>", "")
        .replace("</includeonly>", "");
    // From the last, so that `$1` does not eat the start of `$10`.
    params
        .iter()
        .enumerate()
        .rev()
        .fold(text, |text, (i, value)| {
            text.replace(&format!("${}", i + 1), value)
        })
}

#[test]
fn the_thanks_preload_is_one_call_with_user_skill_and_date() {
    let page = repo_file(&thanks_subpage_file(THANKS_PRELOAD_PAGE));
    assert_eq!(
        preloaded(&page, &["$1", "$2", "$3"]).trim_end(),
        "{{Capacity Exchange thanks|user=$1|skill=$2|date=$3|note=}}"
    );
}

#[test]
fn the_thanks_preload_filled_in_reads_back_as_the_thanks_meant() {
    let page = repo_file(&thanks_subpage_file(THANKS_PRELOAD_PAGE));
    let taxonomy = Taxonomy::bundled();
    let lua = taxonomy.resolve("Lua").expect("the taxonomy knows Lua");
    let lua = SkillRef::Known {
        id: lua.id.clone(),
        label: taxonomy.label(lua, "en").to_string(),
    };
    let date = NaiveDate::from_ymd_opt(2026, 3, 1);
    for (params, user, skill, date) in [
        (
            ["Ana Souza", "lua-modules", "2026-03-01"],
            "Ana Souza",
            Some(lua.clone()),
            date,
        ),
        (
            ["ana_souza", "Módulos Lua", "2026-03-01"],
            "Ana souza",
            Some(lua.clone()),
            date,
        ),
        (["محمد", "وحدات لوا", "2026-03-01"], "محمد", Some(lua), date),
        (
            ["Bruno Díaz", "Bread baking", ""],
            "Bruno Díaz",
            Some(SkillRef::Free {
                text: "Bread baking".into(),
            }),
            None,
        ),
        (["Carla", "", ""], "Carla", None, None),
    ] {
        let text = preloaded(&page, &params);
        let parsed = parse_thanks(&text, &TemplateNames::thanks(), taxonomy);
        assert!(parsed.warnings.is_empty(), "{text}: {:?}", parsed.warnings);
        assert_eq!(
            parsed.thanks,
            [Thanks {
                user: user.to_string(),
                skill,
                date,
                note: None,
            }],
            "{text}"
        );
    }
}
