//! Specification of the profile template language: `exchange::parse`.
//!
//! Every rule of DESIGN.md § "The profile template" is exercised through the public API
//! (`parse_page`, `items`, `babel_item`, `normalize_timezone`) against the bundled taxonomy.

use chrono::{TimeZone, Utc};
use exchange::geo::Region;
use exchange::parse::{
    MAX_BIO_CHARS, MAX_ITEMS, PageContext, ParsedPage, ProfileTemplate, babel_item, items,
    normalize_timezone, parse_page,
};
use exchange::profile::{Level, Profile, SkillRef, Status, Warning};
use exchange::taxonomy::Taxonomy;
use exchange::text_key::fold;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn ctx(title: &str) -> PageContext {
    PageContext {
        title: title.to_string(),
        revid: 1,
        timestamp: None,
    }
}

fn parse_with(text: &str, template: &ProfileTemplate) -> ParsedPage {
    parse_page(text, &ctx("User:Ana"), template, Taxonomy::bundled())
}

fn parse(text: &str) -> ParsedPage {
    parse_with(text, &ProfileTemplate::default())
}

/// The profile of a page that calls the template with `params` (one `| name = value` a
/// line, written without the leading pipe or with it).
#[track_caller]
fn profile_of(text: &str) -> (Profile, Vec<Warning>) {
    let parsed = parse(text);
    let profile = parsed
        .profile
        .unwrap_or_else(|| panic!("no profile in {text:?}"));
    (profile, parsed.warnings)
}

#[track_caller]
fn with_params(params: &str) -> (Profile, Vec<Warning>) {
    profile_of(&format!("{{{{Capacity Exchange profile\n{params}\n}}}}"))
}

fn known(id: &str, label: &str) -> SkillRef {
    SkillRef::Known {
        id: id.to_string(),
        label: label.to_string(),
    }
}

fn free(text: &str) -> SkillRef {
    SkillRef::Free {
        text: text.to_string(),
    }
}

fn lua() -> SkillRef {
    known("lua-modules", "Lua modules")
}

fn wikidata() -> SkillRef {
    known("wikidata", "Wikidata")
}

fn queries() -> SkillRef {
    known("wikidata-queries", "Wikidata queries")
}

fn warnings_for<'a>(warnings: &'a [Warning], param: &str) -> Vec<&'a Warning> {
    warnings
        .iter()
        .filter(|w| w.param.as_deref() == Some(param))
        .collect()
}

fn warned(warnings: &[Warning], param: &str) -> bool {
    !warnings_for(warnings, param).is_empty()
}

fn lang(code: &str, level: &str) -> (String, String) {
    (code.to_string(), level.to_string())
}

fn languages(p: &Profile) -> Vec<(String, String)> {
    p.languages
        .iter()
        .map(|l| (l.code.clone(), l.level.to_string()))
        .collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------
// List splitting
// ---------------------------------------------------------------------------

#[test]
fn lists_split_on_semicolons_commas_line_breaks_and_bullets() {
    assert_eq!(
        items("Lua; Wikidata, SPARQL"),
        strings(&["Lua", "Wikidata", "SPARQL"])
    );
    assert_eq!(
        items("Lua\nWikidata\n\nSPARQL"),
        strings(&["Lua", "Wikidata", "SPARQL"])
    );
    assert_eq!(
        items("\n* Lua\n* Wikidata\n*SPARQL\n"),
        strings(&["Lua", "Wikidata", "SPARQL"])
    );
    assert_eq!(items("**Lua ;; ,Wikidata,"), strings(&["Lua", "Wikidata"]));
    assert_eq!(items(""), Vec::<String>::new());
    assert_eq!(items("  ;  ,\n * "), Vec::<String>::new());
}

#[test]
fn lists_split_on_arabic_separators() {
    assert_eq!(
        items("وحدات لوا، ويكي بيانات؛ بايثون"),
        strings(&["وحدات لوا", "ويكي بيانات", "بايثون"])
    );
}

#[test]
fn lists_never_split_inside_links_calls_or_parentheses() {
    assert_eq!(
        items("[[a, b]]; c"),
        strings(&["[[a, b]]", "c"]),
        "inside a link"
    );
    assert_eq!(
        items("[[w:Wikidata|Wikidata, the database]], Lua"),
        strings(&["[[w:Wikidata|Wikidata, the database]]", "Lua"])
    );
    assert_eq!(
        items("{{x|a,b}}; c"),
        strings(&["{{x|a,b}}", "c"]),
        "inside a call"
    );
    assert_eq!(
        items("{{x|a;b|c*d}}"),
        strings(&["{{x|a;b|c*d}}"]),
        "every separator inside a call"
    );
    assert_eq!(
        items("Wikidata (queries, SPARQL; bots); Lua"),
        strings(&["Wikidata (queries, SPARQL; bots)", "Lua"]),
        "inside parentheses"
    );
    assert_eq!(
        items("a (b [[c, d]] e), f"),
        strings(&["a (b [[c, d]] e)", "f"]),
        "nested groups"
    );
}

#[test]
fn comments_are_gone_before_splitting() {
    assert_eq!(
        items("Lua <!-- not; this, one --> ; Wikidata"),
        strings(&["Lua", "Wikidata"])
    );
    assert_eq!(items("<!-- Lua; Wikidata -->"), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// Skills
// ---------------------------------------------------------------------------

#[test]
fn an_item_resolves_by_id_label_or_alias_in_any_language_ignoring_case_and_accents() {
    for written in [
        "Lua modules",
        "Módulos Lua",
        "modulos lua",
        "MÓDULOS LUA",
        "Modules Lua",
        "Lua-Module",
        "وحدات لوا",
        "Lua",
        "LUA",
        "lua",
        "Scribunto",
        "lua-modules",
        "  Lua   modules ",
    ] {
        let (p, _) = with_params(&format!("| offers = {written}"));
        assert_eq!(p.offers, vec![lua()], "{written:?}");
    }
}

#[test]
fn a_known_skill_carries_its_english_label_whatever_language_it_was_written_in() {
    let (p, _) = with_params("| offers = ويكي بيانات\n| wants = استعلامات ويكي بيانات");
    assert_eq!(p.offers, vec![wikidata()]);
    assert_eq!(p.wants, vec![queries()]);
}

#[test]
fn markup_is_stripped_from_items() {
    let (p, warnings) = with_params(
        "| offers = [[w:Lua|Lua]]; '''Wikidata'''; <!-- hidden; words --> ''SPARQL''\n\
         | wants = [[w:Grant writing]]; <span>event organizing</span>; [[:d:Wikidata:Lua|]]",
    );
    assert_eq!(p.offers, vec![lua(), wikidata(), queries()]);
    assert_eq!(
        p.wants,
        vec![
            known("grant-writing", "Grant writing"),
            known("event-organizing", "Event organizing"),
            lua()
        ]
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn unknown_items_are_kept_as_free_text() {
    let (p, warnings) = with_params(
        "| offers = Basket weaving with goats; Lua; [[w:Oral history|Oral history recording]]",
    );
    assert_eq!(
        p.offers,
        vec![
            free("Basket weaving with goats"),
            lua(),
            free("Oral history recording")
        ]
    );
    assert!(
        warnings.is_empty(),
        "free text is not a mistake: {warnings:?}"
    );
}

#[test]
fn a_template_inside_an_item_is_left_out_with_a_warning() {
    let (p, warnings) = with_params("| offers = Lua; {{lang|pt|Wikidata, SPARQL}}; Zotero");
    assert_eq!(p.offers, vec![lua(), free("Zotero")]);
    assert!(warned(&warnings, "offers"), "{warnings:?}");
}

#[test]
fn duplicates_are_removed_keeping_the_first() {
    let (p, _) = with_params(
        "| offers = Lua; Módulos Lua; LUA; lua-modules; Wikidata; Zotero; zotero; ZOTERO",
    );
    assert_eq!(p.offers, vec![lua(), wikidata(), free("Zotero")]);
}

#[test]
fn a_skill_both_offered_and_known_stays_only_in_offers() {
    let (p, _) = with_params(
        "| offers = Lua; Zotero\n| knows = Módulos Lua; Wikidata; Zotero\n| wants = Lua",
    );
    assert_eq!(p.offers, vec![lua(), free("Zotero")]);
    assert_eq!(p.knows, vec![wikidata()]);
    // Wanting what one offers is odd but not covered by the rule: it stays.
    assert_eq!(p.wants, vec![lua()]);
}

#[test]
fn free_text_both_offered_and_known_in_another_case_stays_only_in_offers() {
    let (p, _) = with_params("| offers = Zotero\n| knows = zotero; Wikidata");
    assert_eq!(p.offers, vec![free("Zotero")]);
    assert_eq!(p.knows, vec![wikidata()]);
}

#[test]
fn hundreds_of_items_are_cut_at_max_items_with_a_warning() {
    let many =
        |what: &str| -> Vec<String> { (0..300).map(|i| format!("{what} number {i}")).collect() };
    let (p, warnings) = with_params(&format!(
        "| offers = {}\n| wants = {}\n| knows = {}\n| affiliations = {}\n| projects = {}",
        many("Hobby").join("; "),
        many("Wish").join(", "),
        many("Knack").join("\n* "),
        many("Group").join("; "),
        many("Project").join("; "),
    ));
    for (param, len) in [
        ("offers", p.offers.len()),
        ("wants", p.wants.len()),
        ("knows", p.knows.len()),
        ("affiliations", p.affiliations.len()),
        ("projects", p.projects.len()),
    ] {
        assert_eq!(len, MAX_ITEMS, "{param}");
        assert!(warned(&warnings, param), "{param}: {warnings:?}");
    }
    assert_eq!(p.offers[0], free("Hobby number 0"));
    assert_eq!(
        p.offers[MAX_ITEMS - 1],
        free(&format!("Hobby number {}", MAX_ITEMS - 1))
    );
}

#[test]
fn hundreds_of_keywords_are_cut_at_max_items_with_a_warning() {
    let many: Vec<String> = (0..200).map(|i| format!("way{i}")).collect();
    let (p, warnings) = with_params(&format!(
        "| formats = {}\n| contact = {}",
        many.join(", "),
        many.join(", ")
    ));
    assert!(p.formats.len() <= MAX_ITEMS);
    assert!(p.contact.len() <= MAX_ITEMS);
    for param in ["formats", "contact"] {
        assert!(
            warnings_for(&warnings, param)
                .iter()
                .any(|w| w.message.contains(&MAX_ITEMS.to_string())),
            "{param}: {warnings:?}"
        );
    }
}

#[test]
fn hundreds_of_languages_are_cut_at_max_items_with_a_warning() {
    let letters = "abcdefghijklmnopqrstuvwxyz".as_bytes();
    let many: Vec<String> = (0..200)
        .map(|i| {
            let a = letters[i / 26] as char;
            let b = letters[i % 26] as char;
            format!("{a}{b}-1")
        })
        .collect();
    let (p, warnings) = with_params(&format!("| languages = {}", many.join(", ")));
    assert!(p.languages.len() <= MAX_ITEMS, "{}", p.languages.len());
    assert!(
        warnings_for(&warnings, "languages")
            .iter()
            .any(|w| w.message.contains(&MAX_ITEMS.to_string())),
        "{warnings:?}"
    );
}

/// Babel separates languages by spaces, so one list item can hold thousands: the cap counts
/// languages, not items (found by webtool/tests/hostile_profiles.rs, issue 8), and a
/// `{{#babel:…}}` call of thousands is cut the same way.
#[test]
fn thousands_of_languages_in_one_item_or_a_babel_call_are_cut_at_max_items() {
    let code = |i: usize| {
        let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
        format!("{}{}{}-1", letter(i / 676), letter(i / 26), letter(i))
    };
    let many: Vec<String> = (0..10_000).map(code).collect();
    let (p, warnings) = with_params(&format!("| languages = {}", many.join(" ")));
    assert_eq!(p.languages.len(), MAX_ITEMS);
    let about = warnings_for(&warnings, "languages");
    assert!(
        about.len() <= MAX_ITEMS + 1,
        "at most one warning per code read (unknown codes), and one for the cut: {warnings:?}"
    );
    assert!(
        about.iter().any(|w| w.message.starts_with("more than")),
        "{warnings:?}"
    );
    let (p, warnings) = profile_of(&format!(
        "{{{{#babel:{}}}}}\n{{{{Capacity Exchange profile\n| offers = Lua\n}}}}",
        many.join("|")
    ));
    assert_eq!(p.languages.len(), MAX_ITEMS);
    assert!(
        warnings_for(&warnings, "languages")
            .iter()
            .any(|w| w.message.contains("10000 languages")),
        "{warnings:?}"
    );
}

#[test]
fn a_very_long_free_text_item_is_cut_with_a_warning() {
    let long = "x".repeat(5000);
    let (p, warnings) = with_params(&format!("| offers = {long}"));
    let SkillRef::Free { text } = &p.offers[0] else {
        panic!("{:?}", p.offers)
    };
    assert!(text.chars().count() <= exchange::parse::MAX_ITEM_CHARS);
    assert!(warned(&warnings, "offers"));
}

// ---------------------------------------------------------------------------
// Languages
// ---------------------------------------------------------------------------

#[test]
fn babel_items_read_codes_and_levels() {
    let level = |item: &str| {
        let l = babel_item(item).unwrap_or_else(|e| panic!("{item:?}: {e}"));
        (l.code, l.level.to_string())
    };
    assert_eq!(level("pt-N"), lang("pt", "N"));
    assert_eq!(level("pt-n"), lang("pt", "N"));
    assert_eq!(level("en-3"), lang("en", "3"));
    assert_eq!(level("EN-0"), lang("en", "0"));
    assert_eq!(level("es-5"), lang("es", "5"));
    assert_eq!(level("zh-hans-2"), lang("zh-hans", "2"));
    assert_eq!(level("be-tarask-1"), lang("be-tarask", "1"));
    assert_eq!(level("pt"), lang("pt", "N"), "a bare code is native");
    assert_eq!(level(" de "), lang("de", "N"));
    assert_eq!(level("zh-hans"), lang("zh-hans", "N"));
    for bad in ["Portuguese", "p", "1", "-3", "pt_3", "", "日本語"] {
        assert!(babel_item(bad).is_err(), "{bad:?}");
    }
    assert!(Level::NATIVE.is_native());
}

#[test]
fn the_languages_parameter_lists_babel_items() {
    let (p, warnings) = with_params("| languages = pt-N, en-3; zh-hans-2\n* es-1\n| country = BR");
    assert_eq!(
        languages(&p),
        vec![
            lang("pt", "N"),
            lang("en", "3"),
            lang("zh-hans", "2"),
            lang("es", "1")
        ]
    );
    assert!(!warned(&warnings, "languages"), "{warnings:?}");
}

#[test]
fn a_bare_code_is_native_and_a_repeated_code_keeps_its_best_level() {
    let (p, _) = with_params("| languages = pt, en-2, en-4, en-1");
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "4")]);
}

#[test]
fn bad_language_items_are_warned_and_the_rest_kept() {
    let (p, warnings) = with_params("| languages = pt-N, Portuguese, en-3, ???");
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "3")]);
    assert!(
        warnings_for(&warnings, "languages").len() >= 2,
        "{warnings:?}"
    );
}

#[test]
fn a_level_out_of_range_is_a_bad_item() {
    for bad in ["pt-7", "en-6", "de-10"] {
        assert!(babel_item(bad).is_err(), "{bad:?}: {:?}", babel_item(bad));
    }
    let (p, warnings) = with_params("| languages = pt-7, en-3");
    assert_eq!(languages(&p), vec![lang("en", "3")]);
    assert!(warned(&warnings, "languages"), "{warnings:?}");
}

#[test]
fn an_unknown_but_well_formed_code_is_kept_with_a_warning() {
    let (p, warnings) = with_params("| languages = qq-2, pt-N");
    assert_eq!(languages(&p), vec![lang("qq", "2"), lang("pt", "N")]);
    assert!(warned(&warnings, "languages"), "{warnings:?}");
}

#[test]
fn babel_on_the_page_is_read_when_languages_is_missing() {
    let (p, _) = profile_of(
        "{{#babel:pt-N|en-3}}\n{{Babel|es-2|fr-1}}\n{{Capacity Exchange profile|offers = Lua}}",
    );
    assert_eq!(
        languages(&p),
        vec![
            lang("pt", "N"),
            lang("en", "3"),
            lang("es", "2"),
            lang("fr", "1")
        ]
    );
}

#[test]
fn babel_on_the_page_is_read_when_languages_is_empty() {
    let (p, _) = profile_of(
        "{{Capacity Exchange profile\n| offers = Lua\n| languages = \n}}\n{{Babel|pt-N|en-2}}",
    );
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "2")]);
    let (p, _) = profile_of(
        "{{#babel:pt-N|en-3}}\n{{Capacity Exchange profile\n| offers = Lua\n| languages =    \n}}",
    );
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "3")]);
}

#[test]
fn babel_on_the_page_is_read_when_languages_holds_only_a_comment() {
    let (p, _) = profile_of(
        "{{#babel:pt-N|en-3}}\n{{Capacity Exchange profile\n| offers = Lua\n| languages = <!-- e.g. pt-N, en-3 -->\n}}",
    );
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "3")]);
}

#[test]
fn babel_on_the_page_is_ignored_when_languages_is_given() {
    let (p, _) = profile_of(
        "{{#babel:pt-N|en-3}}\n{{Babel|es-2}}\n{{Capacity Exchange profile\n| languages = fr-2\n}}",
    );
    assert_eq!(languages(&p), vec![lang("fr", "2")]);
}

#[test]
fn both_babel_forms_on_one_page_combine() {
    let (p, _) = profile_of(
        "{{#babel:pt-N|en-3}}\n{{Babel|pt-N|en-2}}\n{{Capacity Exchange profile|offers=Lua}}",
    );
    assert_eq!(languages(&p), vec![lang("pt", "N"), lang("en", "3")]);
}

// ---------------------------------------------------------------------------
// Country, region, time zone
// ---------------------------------------------------------------------------

#[test]
fn country_by_iso_code_or_english_name_gives_code_and_region() {
    for (written, code, region) in [
        ("BR", "BR", Region::LatinAmericaCaribbean),
        ("br", "BR", Region::LatinAmericaCaribbean),
        ("Brazil", "BR", Region::LatinAmericaCaribbean),
        ("BRAZIL", "BR", Region::LatinAmericaCaribbean),
        ("NG", "NG", Region::SubSaharanAfrica),
        ("nigeria", "NG", Region::SubSaharanAfrica),
        ("PL", "PL", Region::CentralEasternEuropeCentralAsia),
        ("Poland", "PL", Region::CentralEasternEuropeCentralAsia),
        ("IN", "IN", Region::SouthAsia),
        ("India", "IN", Region::SouthAsia),
        ("EG", "EG", Region::MiddleEastNorthAfrica),
        ("Egypt", "EG", Region::MiddleEastNorthAfrica),
        ("US", "US", Region::NorthAmerica),
        ("United States", "US", Region::NorthAmerica),
        ("DE", "DE", Region::NorthernWesternEurope),
        ("germany", "DE", Region::NorthernWesternEurope),
        ("ID", "ID", Region::EastSoutheastAsiaPacific),
        ("Indonesia", "ID", Region::EastSoutheastAsiaPacific),
        ("Côte d'Ivoire", "CI", Region::SubSaharanAfrica),
        ("cote d'ivoire", "CI", Region::SubSaharanAfrica),
        ("México", "MX", Region::LatinAmericaCaribbean),
        ("Turkiye", "TR", Region::CentralEasternEuropeCentralAsia),
        ("[[w:Brazil|Brazil]]", "BR", Region::LatinAmericaCaribbean),
    ] {
        let (p, warnings) = with_params(&format!("| country = {written}"));
        assert_eq!(p.country.as_deref(), Some(code), "{written:?}");
        assert_eq!(p.region, Some(region), "{written:?}");
        assert!(!warned(&warnings, "country"), "{written:?}: {warnings:?}");
    }
}

#[test]
fn an_unknown_country_is_warned_and_left_out() {
    let (p, warnings) = with_params("| country = Atlantis");
    assert_eq!(p.country, None);
    assert_eq!(p.region, None);
    assert!(warned(&warnings, "country"), "{warnings:?}");
    let (p, warnings) = with_params("| country = ");
    assert_eq!(p.country, None);
    assert!(!warned(&warnings, "country"), "empty is not an error");
}

#[test]
fn timezones_are_normalised() {
    for (written, want) in [
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        ("america/sao_paulo", "America/Sao_Paulo"),
        ("AMERICA/SAO_PAULO", "America/Sao_Paulo"),
        ("America/Sao Paulo", "America/Sao_Paulo"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("UTC+3", "UTC+03:00"),
        ("utc+3", "UTC+03:00"),
        ("UTC +3", "UTC+03:00"),
        ("UTC+03:00", "UTC+03:00"),
        ("GMT-05:30", "UTC-05:30"),
        ("+0530", "UTC+05:30"),
        ("-0300", "UTC-03:00"),
        ("UTC−3", "UTC-03:00"),
        ("UTC+5:45", "UTC+05:45"),
        ("UTC+14", "UTC+14:00"),
        ("UTC-12", "UTC-12:00"),
    ] {
        assert_eq!(
            normalize_timezone(written).as_deref(),
            Some(want),
            "{written:?}"
        );
    }
}

#[test]
fn invalid_timezones_are_refused() {
    for bad in [
        "Mars/Olympus_Mons",
        "UTC+15",
        "UTC+3:20",
        "UTC+3:99",
        "UTC+",
        "+",
        "3",
        "soon",
        "",
    ] {
        assert_eq!(normalize_timezone(bad), None, "{bad:?}");
    }
}

#[test]
fn the_timezone_parameter_is_normalised_or_warned() {
    let (p, warnings) = with_params("| timezone = utc−3");
    assert_eq!(p.timezone.as_deref(), Some("UTC-03:00"));
    assert!(!warned(&warnings, "timezone"));
    let (p, warnings) = with_params("| timezone = europe/berlin");
    assert_eq!(p.timezone.as_deref(), Some("Europe/Berlin"));
    assert!(!warned(&warnings, "timezone"));
    let (p, warnings) = with_params("| timezone = somewhere nice");
    assert_eq!(p.timezone, None);
    assert!(warned(&warnings, "timezone"), "{warnings:?}");
}

// ---------------------------------------------------------------------------
// Status, formats, contact
// ---------------------------------------------------------------------------

#[test]
fn status_is_active_or_paused_and_unknown_reads_as_active() {
    for (written, status, warn) in [
        ("active", Status::Active, false),
        ("Active", Status::Active, false),
        ("", Status::Active, false),
        ("paused", Status::Paused, false),
        ("PAUSED", Status::Paused, false),
        ("sleeping", Status::Active, true),
    ] {
        let (p, warnings) = with_params(&format!("| status = {written}"));
        assert_eq!(p.status, status, "{written:?}");
        assert_eq!(
            warned(&warnings, "status"),
            warn,
            "{written:?}: {warnings:?}"
        );
    }
    let (p, _) = with_params("| offers = Lua");
    assert_eq!(p.status, Status::Active, "missing status");
}

#[test]
fn recognition_is_an_explicit_yes_and_anything_else_reads_as_no() {
    for (written, recognised, warn) in [
        ("yes", true, false),
        ("YES", true, false),
        ("true", true, false),
        ("1", true, false),
        ("sí", true, false),
        ("Sim", true, false),
        ("oui", true, false),
        ("ja", true, false),
        ("نعم", true, false),
        ("[[yes]]", true, false),
        ("no", false, false),
        ("false", false, false),
        ("0", false, false),
        ("não", false, false),
        ("non", false, false),
        ("nein", false, false),
        ("لا", false, false),
        ("", false, false),
        ("<!-- yes -->", false, false),
        ("maybe", false, true),
        ("yes please", false, true),
    ] {
        let (p, warnings) = with_params(&format!("| recognition = {written}"));
        assert_eq!(p.recognition, recognised, "{written:?}");
        assert_eq!(
            warned(&warnings, "recognition"),
            warn,
            "{written:?}: {warnings:?}"
        );
    }
    let (_, warnings) = with_params("| recognition = Perhaps");
    assert!(
        warnings.iter().any(|w| w.message.contains("\"Perhaps\"")),
        "the warning names the value: {warnings:?}"
    );
    let (p, _) = with_params("| offers = Lua");
    assert!(!p.recognition, "missing recognition");
}

#[test]
fn formats_and_contact_keywords_are_normalised() {
    let (p, warnings) = with_params(
        "| formats = Mentoring, one-to-one, One to one, WORKSHOP, in person\n\
         | contact = talk, e-mail, E-Mail, Matrix",
    );
    assert_eq!(
        p.formats,
        strings(&["mentoring", "one-on-one", "workshop", "in-person"])
    );
    assert_eq!(p.contact, strings(&["talk", "email", "matrix"]));
    assert!(!warned(&warnings, "formats"), "{warnings:?}");
    assert!(!warned(&warnings, "contact"), "{warnings:?}");
}

#[test]
fn unknown_keywords_are_warned_but_kept() {
    let (p, warnings) =
        with_params("| formats = mentoring, interpretive dance\n| contact = carrier pigeon");
    assert_eq!(p.formats.len(), 2, "{:?}", p.formats);
    assert_eq!(p.formats[0], "mentoring");
    assert_eq!(fold(&p.formats[1]), fold("interpretive dance"));
    assert_eq!(p.contact.len(), 1);
    assert_eq!(fold(&p.contact[0]), fold("carrier pigeon"));
    assert!(warned(&warnings, "formats"));
    assert!(warned(&warnings, "contact"));
}

#[test]
fn other_fields_are_read() {
    let (p, warnings) = with_params(
        "| affiliations = Wiki Movimento Brasil; [[w:Wikimedia Brasil|Wikimedia Brasil]]\n\
         | projects = pt.wikipedia, https://www.wikidata.org, commons, Wikidata\n\
         | availability = 2 hours a month\n\
         | bio = Organizer of '''edit-a-thons''' in Recife. <!-- private -->",
    );
    assert_eq!(
        p.affiliations,
        strings(&["Wiki Movimento Brasil", "Wikimedia Brasil"])
    );
    assert_eq!(
        p.projects,
        strings(&["pt.wikipedia", "wikidata", "commons"])
    );
    assert_eq!(p.availability.as_deref(), Some("2 hours a month"));
    assert_eq!(
        p.bio.as_deref(),
        Some("Organizer of edit-a-thons in Recife.")
    );
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_very_long_bio_is_cut_with_a_warning() {
    let bio = "Olá, ação! ".repeat(2000); // 22,000 characters, many not ASCII
    assert!(bio.chars().count() >= 20_000);
    let (p, warnings) = with_params(&format!("| bio = {bio}"));
    let got = p.bio.expect("a bio");
    assert!(
        got.chars().count() <= MAX_BIO_CHARS,
        "{}",
        got.chars().count()
    );
    assert!(got.chars().count() >= MAX_BIO_CHARS - 20);
    assert!(got.starts_with("Olá, ação! Olá"));
    assert!(warned(&warnings, "bio"), "{warnings:?}");
}

// ---------------------------------------------------------------------------
// Parameters and template calls
// ---------------------------------------------------------------------------

#[test]
fn unknown_and_positional_parameters_are_warned_never_fatal() {
    let parsed = parse("{{Capacity Exchange profile|Lua|offers=Wikidata|hobbies=chess|Offers=x}}");
    let p = parsed.profile.expect("still a profile");
    assert_eq!(p.offers, vec![wikidata()]);
    assert!(warned(&parsed.warnings, "1"), "{:?}", parsed.warnings);
    assert!(warned(&parsed.warnings, "hobbies"), "{:?}", parsed.warnings);
    assert!(warned(&parsed.warnings, "Offers"), "{:?}", parsed.warnings);
}

#[test]
fn the_template_is_found_under_any_spelling_mediawiki_accepts() {
    for call in [
        "{{Capacity Exchange profile|offers=Lua}}",
        "{{capacity Exchange profile|offers=Lua}}",
        "{{Capacity_Exchange_profile|offers=Lua}}",
        "{{Template:Capacity Exchange profile|offers=Lua}}",
        "{{template:capacity_Exchange  profile|offers=Lua}}",
        "{{ Capacity Exchange profile \n|offers=Lua}}",
    ] {
        let parsed = parse(call);
        assert_eq!(
            parsed.profile.map(|p| p.offers),
            Some(vec![lua()]),
            "{call:?}"
        );
    }
    for not_it in [
        "{{Capacity exchange profile|offers=Lua}}",
        "{{Capacity Exchange profiles|offers=Lua}}",
        "{{User:Capacity Exchange profile|offers=Lua}}",
        "<nowiki>{{Capacity Exchange profile|offers=Lua}}</nowiki>",
        "<!-- {{Capacity Exchange profile|offers=Lua}} -->",
    ] {
        assert!(parse(not_it).profile.is_none(), "{not_it:?}");
    }
}

#[test]
fn aliases_of_the_template_count_as_the_template() {
    let page = "{{CX profile|offers=Lua}}";
    assert!(parse(page).profile.is_none(), "not without the alias");
    for aliases in [["CX profile"], ["Template:CX profile"], ["cX_profile"]] {
        let template = ProfileTemplate::with_aliases(aliases);
        for text in [
            page,
            "{{cX profile|offers=Lua}}",
            "{{Template:CX_profile|offers=Lua}}",
        ] {
            let parsed = parse_with(text, &template);
            assert_eq!(
                parsed.profile.map(|p| p.offers),
                Some(vec![lua()]),
                "{aliases:?} {text:?}"
            );
        }
        // The canonical name still works.
        assert!(
            parse_with("{{Capacity Exchange profile}}", &template)
                .profile
                .is_some()
        );
    }
}

#[test]
fn two_calls_use_the_first_with_a_warning() {
    let parsed = parse(
        "{{Capacity Exchange profile|offers=Lua}}\n{{Capacity Exchange profile|offers=Wikidata}}",
    );
    assert_eq!(parsed.profile.expect("profile").offers, vec![lua()]);
    assert!(!parsed.warnings.is_empty());
}

#[test]
fn a_page_without_the_template_has_no_profile() {
    for text in [
        "",
        "Hello, I am Ana.",
        "{{Babel|pt-N}}\n{{User wikipedia/pt}}",
        "{{#babel:pt-N}}",
    ] {
        let parsed = parse(text);
        assert!(parsed.profile.is_none(), "{text:?}");
        assert!(parsed.warnings.is_empty(), "{text:?}");
    }
}

#[test]
fn an_empty_call_is_an_empty_active_profile() {
    let (p, warnings) = profile_of("{{Capacity Exchange profile}}");
    let mut want = Profile::empty("Ana", "User:Ana");
    want.revid = 1;
    assert_eq!(p, want);
    assert!(warnings.is_empty());
}

#[test]
fn deep_nesting_inside_a_profile_is_survived() {
    let deep = format!("{}x{}", "{{".repeat(10_000), "}}".repeat(10_000));
    let text = format!("{{{{Capacity Exchange profile|offers=Lua; {deep}; Wikidata}}}}\n{deep}");
    let parsed = parse(&text);
    let p = parsed.profile.expect("a profile");
    assert_eq!(p.offers, vec![lua(), wikidata()]);
    let unclosed = format!(
        "{{{{Capacity Exchange profile|offers=Lua}}}}\n{}",
        "{{".repeat(10_000)
    );
    assert!(parse(&unclosed).profile.is_some());
}

// ---------------------------------------------------------------------------
// Page context
// ---------------------------------------------------------------------------

#[test]
fn user_and_page_come_from_the_title() {
    let at = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
    let context = PageContext {
        title: "User:Ana_maria/Profile".to_string(),
        revid: 123_456,
        timestamp: Some(at),
    };
    let parsed = parse_page(
        "{{Capacity Exchange profile|offers=Lua}}",
        &context,
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    );
    let p = parsed.profile.expect("profile");
    assert_eq!(p.user, "Ana maria");
    assert_eq!(p.page, "User:Ana maria/Profile");
    assert_eq!(p.revid, 123_456);
    assert_eq!(p.updated, Some(at));

    for (title, user, page) in [
        ("user:ana maria", "Ana maria", "User:Ana maria"),
        ("User:Ana", "Ana", "User:Ana"),
        (
            "User:ana/Capacity_Exchange",
            "Ana",
            "User:Ana/Capacity Exchange",
        ),
    ] {
        let parsed = parse_page(
            "{{Capacity Exchange profile}}",
            &ctx(title),
            &ProfileTemplate::default(),
            Taxonomy::bundled(),
        );
        let p = parsed.profile.expect("profile");
        assert_eq!(
            (p.user.as_str(), p.page.as_str()),
            (user, page),
            "{title:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// JSON shape
// ---------------------------------------------------------------------------

#[test]
fn a_profile_serialises_with_exactly_the_documented_keys() {
    let (mut p, _) = with_params(
        "| offers = Lua; Basket weaving\n| wants = grant writing\n| knows = Wikidata\n\
         | languages = pt-N, en-3\n| country = BR\n| timezone = America/Sao_Paulo\n\
         | affiliations = Wiki Movimento Brasil\n| projects = pt.wikipedia\n\
         | formats = mentoring\n| availability = weekends\n| contact = talk\n\
         | bio = Hi.\n| status = paused",
    );
    p.updated = Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap());
    let json = serde_json::to_value(&p).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    let mut want = vec![
        "user",
        "page",
        "revid",
        "updated",
        "offers",
        "wants",
        "knows",
        "languages",
        "country",
        "region",
        "timezone",
        "affiliations",
        "projects",
        "formats",
        "availability",
        "contact",
        "bio",
        "status",
        // Beyond DESIGN.md: the opt-in to be named in reports (issue 7).
        "recognition",
    ];
    want.sort_unstable();
    assert_eq!(sorted, want);

    assert_eq!(json["user"], "Ana");
    assert_eq!(json["page"], "User:Ana");
    assert_eq!(json["revid"], 1);
    assert!(
        json["updated"]
            .as_str()
            .is_some_and(|t| t.starts_with("2025-01-02T03:04:05"))
    );
    assert_eq!(
        json["offers"],
        serde_json::json!([{"id": "lua-modules", "label": "Lua modules"}, {"text": "Basket weaving"}])
    );
    assert_eq!(
        json["offers"][0].as_object().unwrap().len(),
        2,
        "a skill is exactly {{id, label}}"
    );
    assert_eq!(
        json["offers"][1].as_object().unwrap().len(),
        1,
        "free text is exactly {{text}}"
    );
    assert_eq!(
        json["languages"],
        serde_json::json!([{"code": "pt", "level": "N"}, {"code": "en", "level": "3"}])
    );
    assert_eq!(json["country"], "BR");
    assert_eq!(json["region"], "LAC");
    assert_eq!(json["timezone"], "America/Sao_Paulo");
    assert_eq!(json["formats"], serde_json::json!(["mentoring"]));
    assert_eq!(json["status"], "paused");

    // And back.
    let back: Profile = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn an_empty_profile_serialises_with_the_same_keys() {
    let (p, _) = profile_of("{{Capacity Exchange profile}}");
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 19);
    assert_eq!(json["status"], "active");
    assert!(json["country"].is_null());
    assert_eq!(json["offers"], serde_json::json!([]));
}

#[test]
fn the_semicolon_of_a_character_reference_does_not_split_a_list() {
    assert_eq!(
        exchange::parse::items("Research &amp; development; Lua; caf&#233;s"),
        ["Research &amp; development", "Lua", "caf&#233;s"]
    );
}
