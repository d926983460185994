//! The profile builder's wikitext reads back, through the profile parser, as exactly the
//! profile that was filled in: for thousands of generated inputs, hostile text included.

use std::collections::HashSet;
use std::path::PathBuf;

use exchange::geo::{all_countries, find_country};
use exchange::parse::{
    KNOWN_CONTACTS, KNOWN_FORMATS, MAX_ITEM_CHARS, PageContext, ProfileTemplate, parse_page,
};
use exchange::profile::{LanguageSkill, Level, Profile, SkillRef, Status};
use exchange::taxonomy::Taxonomy;
use exchange::template_writer::{
    BUILDER_PRELOAD_PAGE, InvalidProfile, Problem, ProfileInput, timezone_choices, write,
};
use exchange::text_key::fold;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Pieces of text that break naive writers: template and link syntax, list separators,
/// entities, markup, scripts other than Latin, emoji.
const HOSTILE: &[&str] = &[
    "|",
    "}}",
    "{{",
    "{{{1}}}",
    "=",
    "a=b",
    "a < b",
    "x <3 y",
    "->",
    "[[w:Lua|Lua]]",
    "[https://example.org x]",
    "]]",
    "~~~~",
    "__NOTOC__",
    "&amp;",
    "&lt;b&gt;",
    "&#124;",
    "AT&T",
    ";",
    ",",
    "*",
    "•",
    "،",
    "؛",
    "、",
    "(",
    ")",
    "(a; b)",
    "it's",
    "<!-- c -->",
    "$1",
    "\"q\"",
    "\\",
    "%20",
    "#",
    ":",
    "\n",
    "\t",
    "  ",
    "\u{a0}",
    "مرحبا بالعالم",
    "تحرير، ويكيبيديا",
    "日本語",
    "Ελληνικά",
    "🎉",
    "👩🏽‍💻",
    "\u{200f}",
];

/// Markup the parser drops even when escaped (see `has_markup_the_parser_drops`): rarer, so
/// that most generated profiles can be written.
const MARKUP: &[&str] = &[
    "<script>alert(1)</script>",
    "<b>",
    "<nowiki>",
    "''",
    "'''bold'''",
];

const WORDS: &[&str] = &[
    "teaching",
    "Recife",
    "modules",
    "édition",
    "Wiki",
    "Loves Monuments",
    "quality",
    "OpenRefine",
    "Kiswahili",
    "نشر",
    "translation",
];

fn hostile_text(rng: &mut ChaCha8Rng, pieces: usize) -> String {
    let mut text = String::new();
    for _ in 0..pieces {
        if rng.random_bool(0.01) {
            text.push_str(MARKUP.choose(rng).unwrap());
        } else if rng.random_bool(0.5) {
            text.push_str(HOSTILE.choose(rng).unwrap());
        } else {
            text.push_str(WORDS.choose(rng).unwrap());
        }
        if rng.random_bool(0.5) {
            text.push(' ');
        }
    }
    text
}

/// A skill as someone would type it: a taxonomy name in some language, or free text.
fn skill_text(rng: &mut ChaCha8Rng, taxonomy: &Taxonomy) -> String {
    if rng.random_bool(0.5) {
        let skill = taxonomy.skills().choose(rng).unwrap();
        let mut names: Vec<&String> = skill.labels.values().collect();
        names.extend(skill.aliases.values().flatten());
        let name = names.choose(rng).unwrap();
        if rng.random_bool(0.2) {
            name.to_uppercase()
        } else {
            name.to_string()
        }
    } else {
        let pieces = rng.random_range(1..=4);
        hostile_text(rng, pieces)
    }
}

fn project_text(rng: &mut ChaCha8Rng) -> String {
    // Already in the parser's canonical (lower-case) form: projects are compared by key.
    const PROJECTS: &[&str] = &[
        "pt.wikipedia",
        "wikidata",
        "commons",
        "meta",
        "ar.wikisource",
        "en.wiktionary",
    ];
    if rng.random_bool(0.7) {
        PROJECTS.choose(rng).unwrap().to_string()
    } else {
        hostile_text(rng, 2).to_lowercase()
    }
}

fn subset(rng: &mut ChaCha8Rng, from: &[&str]) -> Vec<String> {
    from.iter()
        .filter(|_| rng.random_bool(0.3))
        .map(|s| s.to_string())
        .collect()
}

fn generate(rng: &mut ChaCha8Rng, taxonomy: &Taxonomy) -> ProfileInput {
    let skills = |rng: &mut ChaCha8Rng, max: usize| -> Vec<String> {
        let n = rng.random_range(0..=max);
        (0..n).map(|_| skill_text(rng, taxonomy)).collect()
    };
    let offers = skills(rng, 6);
    let wants = skills(rng, 5);
    let knows = skills(rng, 3);
    const CODES: &[&str] = &[
        "pt",
        "en",
        "ar",
        "es",
        "fr",
        "de",
        "sw",
        "zh",
        "hi",
        "be-tarask",
    ];
    const LEVELS: &[&str] = &["N", "n", "0", "1", "2", "3", "4", "5"];
    let mut languages = Vec::new();
    let mut used = HashSet::new();
    for _ in 0..rng.random_range(0..=4) {
        let code = *CODES.choose(rng).unwrap();
        if used.insert(code) {
            let code = if rng.random_bool(0.2) {
                code.to_uppercase()
            } else {
                code.to_string()
            };
            languages.push((code, LEVELS.choose(rng).unwrap().to_string()));
        }
    }
    let country = match rng.random_range(0..4) {
        0 => String::new(),
        1 => all_countries().choose(rng).unwrap().name.clone(),
        2 => all_countries().choose(rng).unwrap().code.to_lowercase(),
        _ => all_countries().choose(rng).unwrap().code.clone(),
    };
    let timezone = match rng.random_range(0..3) {
        0 => String::new(),
        1 => ["UTC+5:30", "gmt-3", "+0545", "UTC"]
            .choose(rng)
            .unwrap()
            .to_string(),
        _ => timezone_choices().choose(rng).unwrap().to_string(),
    };
    let affiliations = (0..rng.random_range(0..=3))
        .map(|_| hostile_text(rng, 3))
        .collect();
    let projects = (0..rng.random_range(0..=3))
        .map(|_| project_text(rng))
        .collect();
    let bio_pieces = rng.random_range(0..=30);
    let availability_pieces = rng.random_range(0..=4);
    ProfileInput {
        offers,
        wants,
        knows,
        languages,
        country,
        timezone,
        affiliations,
        projects,
        formats: subset(rng, KNOWN_FORMATS),
        availability: hostile_text(rng, availability_pieces),
        contact: subset(rng, KNOWN_CONTACTS),
        bio: hostile_text(rng, bio_pieces),
        status: if rng.random_bool(0.2) {
            Status::Paused
        } else {
            Status::Active
        },
        recognition: rng.random_bool(0.3),
    }
}

/// What a reader of the wiki sees: whitespace collapsed, control characters gone.
fn shown(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The documented limitation: the parser drops tag-like text (`<b>…`) and quote runs (`''`).
fn has_markup_the_parser_drops(text: &str) -> bool {
    text.contains("''")
        || text.match_indices('<').any(|(i, _)| {
            let after = &text[i + 1..];
            after
                .trim_start_matches('/')
                .starts_with(|c: char| c.is_ascii_alphabetic())
                && after.contains('>')
        })
}

/// The skill a profile gets for a typed name: the taxonomy's, or the text itself. A
/// prefixed link target ("w:Lua") names the skill of its last segment.
fn expected_skill(text: &str, taxonomy: &Taxonomy) -> SkillRef {
    let found = taxonomy.resolve(text).or_else(|| {
        text.rsplit_once(':')
            .and_then(|(_, last)| taxonomy.resolve(last))
    });
    match found {
        Some(skill) => SkillRef::Known {
            id: skill.id.clone(),
            label: skill.labels["en"].clone(),
        },
        None => SkillRef::Free {
            text: text.to_string(),
        },
    }
}

fn skill_key(skill: &SkillRef) -> String {
    match skill {
        SkillRef::Known { id, .. } => format!("id:{id}"),
        SkillRef::Free { text } => format!("text:{}", fold(text)),
    }
}

fn expected_skills(items: &[String], taxonomy: &Taxonomy) -> Vec<SkillRef> {
    let mut seen = HashSet::new();
    items
        .iter()
        .map(|i| shown(i))
        .filter(|t| !t.is_empty())
        .map(|t| expected_skill(&t, taxonomy))
        .filter(|s| seen.insert(skill_key(s)))
        .collect()
}

fn expected_texts(items: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .iter()
        .map(|i| shown(i))
        .filter(|t| !t.is_empty() && seen.insert(fold(t)))
        .collect()
}

fn optional(text: &str) -> Option<String> {
    Some(shown(text)).filter(|t| !t.is_empty())
}

fn expected_profile(input: &ProfileInput, taxonomy: &Taxonomy) -> Profile {
    let mut p = Profile::empty("Tester", "User:Tester");
    p.offers = expected_skills(&input.offers, taxonomy);
    p.wants = expected_skills(&input.wants, taxonomy);
    let offered: HashSet<String> = p.offers.iter().map(skill_key).collect();
    p.knows = expected_skills(&input.knows, taxonomy)
        .into_iter()
        .filter(|s| !offered.contains(&skill_key(s)))
        .collect();
    p.languages = input
        .languages
        .iter()
        .map(|(code, level)| LanguageSkill {
            code: code.to_lowercase(),
            level: level.parse::<Level>().unwrap(),
        })
        .collect();
    if let Some(country) = find_country(&input.country) {
        p.country = Some(country.code.clone());
        p.region = Some(country.region);
    }
    p.timezone = match input.timezone.as_str() {
        "" => None,
        "UTC+5:30" => Some("UTC+05:30".into()),
        "gmt-3" => Some("UTC-03:00".into()),
        "+0545" => Some("UTC+05:45".into()),
        other => Some(other.to_string()),
    };
    p.affiliations = expected_texts(&input.affiliations);
    p.projects = expected_texts(&input.projects);
    p.formats = input.formats.clone();
    p.contact = input.contact.clone();
    p.availability = optional(&input.availability);
    p.bio = optional(&input.bio);
    p.status = input.status;
    p.recognition = input.recognition;
    p
}

fn read_back(wikitext: &str, taxonomy: &Taxonomy) -> Profile {
    let page = PageContext {
        title: "User:Tester".into(),
        ..PageContext::default()
    };
    let parsed = parse_page(wikitext, &page, &ProfileTemplate::default(), taxonomy);
    assert!(
        parsed.warnings.is_empty(),
        "{wikitext}\n{:?}",
        parsed.warnings
    );
    parsed.profile.expect("the wikitext calls the template")
}

/// Every text of an input with its parameter, as the writer checks them.
fn texts(input: &ProfileInput) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (param, items) in [
        ("offers", &input.offers),
        ("wants", &input.wants),
        ("knows", &input.knows),
        ("affiliations", &input.affiliations),
        ("projects", &input.projects),
    ] {
        out.extend(items.iter().map(|i| (param, shown(i))));
    }
    out.push(("availability", shown(&input.availability)));
    out.push(("bio", shown(&input.bio)));
    out
}

#[test]
fn written_profiles_read_back_as_filled_in() {
    let taxonomy = Taxonomy::bundled();
    let mut rng = ChaCha8Rng::seed_from_u64(20260301);
    let mut written = 0;
    let mut refused = 0;
    let mut hostile_written: HashSet<&str> = HashSet::new();
    for _ in 0..2000 {
        let input = generate(&mut rng, taxonomy);
        match write(&input) {
            Ok(wikitext) => {
                written += 1;
                assert_eq!(
                    read_back(&wikitext, taxonomy),
                    expected_profile(&input, taxonomy),
                    "{input:#?}\n{wikitext}"
                );
                for piece in HOSTILE {
                    if texts(&input).iter().any(|(_, t)| t.contains(piece.trim())) {
                        hostile_written.insert(piece);
                    }
                }
            }
            Err(InvalidProfile(problems)) => {
                refused += 1;
                assert!(!problems.is_empty());
                let texts = texts(&input);
                for problem in problems {
                    match &problem {
                        Problem::Markup { param, text } => {
                            assert!(has_markup_the_parser_drops(text), "{problem}");
                            assert!(texts.contains(&(*param, text.clone())), "{problem}");
                        }
                        Problem::TooLong { text, max, .. } => {
                            assert!(text.chars().count() > *max, "{problem}")
                        }
                        other => panic!("the generator makes no {other:?}"),
                    }
                }
            }
        }
    }
    assert!(written > 1000, "only {written} of 2000 written");
    // Markup-like text is escaped and reads back as text, so the only refusals left are
    // limits; `refused` counts them for the message below.
    assert!(written + refused == 2000);
    for piece in [
        "|",
        "}}",
        "{{",
        "=",
        "a < b",
        "[[w:Lua|Lua]]",
        "~~~~",
        ";",
        "،",
        "(",
        "🎉",
        "مرحبا بالعالم",
        "&lt;b&gt;",
    ] {
        assert!(
            hostile_written.contains(piece),
            "no written profile held {piece:?}"
        );
    }
}

#[test]
fn taxonomy_names_in_any_language_resolve_and_the_rest_stays_free_text() {
    let taxonomy = Taxonomy::bundled();
    let lua = taxonomy.resolve("Lua").expect("the taxonomy knows Lua");
    let arabic = lua
        .labels
        .get("ar")
        .cloned()
        .unwrap_or_else(|| lua.labels["en"].clone());
    let input = ProfileInput {
        offers: vec![arabic, "Knitting | {{crochet}}".into()],
        knows: vec!["lua".into()],
        ..ProfileInput::default()
    };
    let profile = read_back(&write(&input).unwrap(), taxonomy);
    assert_eq!(profile.offers[0].id(), Some(lua.id.as_str()));
    assert_eq!(
        profile.offers[1],
        SkillRef::Free {
            text: "Knitting | {{crochet}}".into()
        }
    );
    assert!(
        profile.knows.is_empty(),
        "an offered skill is not also known"
    );
}

#[test]
fn script_tags_come_back_as_text() {
    let input = ProfileInput {
        bio: "Hi <script>alert(1)</script> ''not italic''".into(),
        ..ProfileInput::default()
    };
    let profile = read_back(&write(&input).unwrap(), Taxonomy::bundled());
    assert_eq!(
        profile.bio.as_deref(),
        Some("Hi <script>alert(1)</script> ''not italic''")
    );
    let lonely = ProfileInput {
        bio: "x < y > z, 3 <4".into(),
        ..ProfileInput::default()
    };
    let profile = read_back(&write(&lonely).unwrap(), Taxonomy::bundled());
    assert_eq!(profile.bio.as_deref(), Some("x < y > z, 3 <4"));
}

#[test]
fn limits_are_the_parsers() {
    let long = "é".repeat(MAX_ITEM_CHARS);
    let ok = ProfileInput {
        offers: vec![long.clone()],
        ..ProfileInput::default()
    };
    assert_eq!(
        read_back(&write(&ok).unwrap(), Taxonomy::bundled()).offers,
        vec![SkillRef::Free { text: long.clone() }]
    );
    let too_long = ProfileInput {
        offers: vec![format!("{long}x")],
        ..ProfileInput::default()
    };
    assert!(write(&too_long).is_err());
}

#[test]
fn the_builder_preload_page_is_its_parameter() {
    let (_, subpage) = BUILDER_PRELOAD_PAGE
        .split_once('/')
        .expect("a subpage of the template");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../wiki")
        .join(format!("Capacity_Exchange_profile.{subpage}.wikitext"));
    let page = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    // What MediaWiki preloads: the text with $1 replaced, <noinclude> parts left out.
    let wikitext = write(&ProfileInput {
        offers: vec!["Lua".into()],
        ..ProfileInput::default()
    })
    .unwrap();
    let mut preloaded = page.replace("$1", &wikitext);
    while let Some(start) = preloaded.find("<noinclude>") {
        let end = preloaded[start..]
            .find("</noinclude>")
            .map_or(preloaded.len(), |e| start + e + "</noinclude>".len());
        preloaded.replace_range(start..end, "");
    }
    assert_eq!(preloaded.trim_end(), wikitext);
}

#[test]
fn recognition_is_written_as_yes_or_no_and_reads_back() {
    for recognition in [true, false] {
        let input = ProfileInput {
            offers: vec!["Lua".into()],
            recognition,
            ..ProfileInput::default()
        };
        let wikitext = write(&input).unwrap();
        let word = if recognition { "yes" } else { "no" };
        assert!(
            wikitext.contains(&format!("| recognition  = {word}\n")),
            "{wikitext}"
        );
        assert_eq!(
            read_back(&wikitext, Taxonomy::bundled()).recognition,
            recognition
        );
    }
}
