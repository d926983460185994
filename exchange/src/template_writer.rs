//! From what a person fills in (the web tool's profile builder) to the wikitext of the profile
//! template: the inverse of [`crate::parse`].
//!
//! The promise is a round trip: when [`write`] accepts an input, parsing its wikitext gives a
//! profile with exactly the items written (free text kept as typed, names the taxonomy knows
//! resolved to its skills). So everything that would mean something to MediaWiki or to the
//! list splitter (`|`, `}}`, `[[`, `<`, `~~~~`, the list separators, unbalanced parentheses…)
//! is written as a numeric character reference, which MediaWiki shows as the character and
//! the parser decodes once. What cannot be carried that way is refused with a [`Problem`]
//! saying why, never silently changed: the person sees the form again with their text.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::str::FromStr;

use crate::geo::find_country;
use crate::languages::{self, LanguageInfo};
use crate::parse::{
    KNOWN_CONTACTS, KNOWN_FORMATS, KNOWN_PARAMS, MAX_AVAILABILITY_CHARS, MAX_BIO_CHARS,
    MAX_ITEM_CHARS, MAX_ITEMS, PROFILE_TEMPLATE, normalize_timezone,
};
use crate::profile::{Level, Status};
use crate::text_key::fold;
use crate::wikitext::plain::{collapse_whitespace, plain_text};

/// The page whose whole text is `$1`: the builder opens the edit form with
/// `preload=` this page and the profile's wikitext as `preloadparams[]`.
pub const BUILDER_PRELOAD_PAGE: &str = "Template:Capacity Exchange profile/builder";

/// What the builder's form holds. Blank strings and blank list items mean "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileInput {
    /// Skills the person offers: a taxonomy label or alias in any language, or free text.
    pub offers: Vec<String>,
    pub wants: Vec<String>,
    pub knows: Vec<String>,
    /// Language code and Babel level (`0`–`5` or `N`), as the form sends them.
    pub languages: Vec<(String, String)>,
    /// ISO 3166-1 alpha-2 code or English name.
    pub country: String,
    /// IANA name or UTC offset.
    pub timezone: String,
    pub affiliations: Vec<String>,
    pub projects: Vec<String>,
    /// Keywords of [`KNOWN_FORMATS`].
    pub formats: Vec<String>,
    pub availability: String,
    /// Keywords of [`KNOWN_CONTACTS`].
    pub contact: Vec<String>,
    pub bio: String,
    pub status: Status,
    /// The opt-in to be named among the most thanked sharers in on-wiki reports.
    pub recognition: bool,
}

/// Why an input cannot be written as given. Each names the template parameter it concerns,
/// so a form can show it next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{param}: {count} items; at most {max} are read")]
    TooManyItems {
        param: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{param}: {text:?} is longer than {max} characters")]
    TooLong {
        param: &'static str,
        text: String,
        max: usize,
    },
    #[error("languages: {code:?} is not a language code the wikis know")]
    UnknownLanguage { code: String },
    #[error("languages: {code}: {level:?} is not a Babel level (0 to 5, or N for native)")]
    BadLevel { code: String, level: String },
    #[error("languages: {code} is listed more than once")]
    DuplicateLanguage { code: String },
    #[error("country: {0:?} is not an ISO code or English name of a country")]
    UnknownCountry(String),
    #[error("timezone: {0:?} is neither an IANA time zone nor a UTC offset")]
    UnknownTimezone(String),
    #[error("{param}: {value:?} is not one of the documented values")]
    UnknownKeyword { param: &'static str, value: String },
    #[error(
        "{param}: {text:?} contains wiki or HTML markup (such as <tag> or '') that would not read back as written"
    )]
    Markup { param: &'static str, text: String },
}

impl Problem {
    /// The template parameter the problem is about (one of [`KNOWN_PARAMS`]).
    pub fn param(&self) -> &'static str {
        match self {
            Problem::TooManyItems { param, .. }
            | Problem::TooLong { param, .. }
            | Problem::UnknownKeyword { param, .. }
            | Problem::Markup { param, .. } => param,
            Problem::UnknownLanguage { .. }
            | Problem::BadLevel { .. }
            | Problem::DuplicateLanguage { .. } => "languages",
            Problem::UnknownCountry(_) => "country",
            Problem::UnknownTimezone(_) => "timezone",
        }
    }
}

/// Every problem of an input; the input is written only when there are none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the profile cannot be written: {}", list(.0))]
pub struct InvalidProfile(pub Vec<Problem>);

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Text as the template holds it: one line, whitespace collapsed, control characters gone
/// (the parser collapses whitespace too, and MediaWiki refuses most control characters).
pub fn clean_text(text: &str) -> String {
    let visible: String = text
        .chars()
        .map(|c| {
            if c.is_control() && !c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect();
    collapse_whitespace(&visible)
}

/// Writes the template call for `input`, one parameter a line, in the documented order.
pub fn write(input: &ProfileInput) -> Result<String, InvalidProfile> {
    let mut problems = Vec::new();
    let mut values: Vec<(&str, String)> = Vec::with_capacity(KNOWN_PARAMS.len());
    for &param in KNOWN_PARAMS {
        let value = match param {
            "offers" => text_list(param, &input.offers, &mut problems),
            "wants" => text_list(param, &input.wants, &mut problems),
            "knows" => text_list(param, &input.knows, &mut problems),
            "affiliations" => text_list(param, &input.affiliations, &mut problems),
            "projects" => text_list(param, &input.projects, &mut problems),
            "languages" => language_list(&input.languages, &mut problems),
            "country" => country(&input.country, &mut problems),
            "timezone" => timezone(&input.timezone, &mut problems),
            "formats" => keyword_list(param, &input.formats, KNOWN_FORMATS, &mut problems),
            "contact" => keyword_list(param, &input.contact, KNOWN_CONTACTS, &mut problems),
            "availability" => single(
                param,
                &input.availability,
                MAX_AVAILABILITY_CHARS,
                &mut problems,
            ),
            "bio" => single(param, &input.bio, MAX_BIO_CHARS, &mut problems),
            "status" => match input.status {
                Status::Active => "active".to_string(),
                Status::Paused => "paused".to_string(),
            },
            // Written either way, so the person reading their page sees the choice made.
            "recognition" => if input.recognition { "yes" } else { "no" }.to_string(),
            // KNOWN_PARAMS and this match are kept together by the round-trip tests.
            _ => String::new(),
        };
        values.push((param, value));
    }
    if !problems.is_empty() {
        return Err(InvalidProfile(problems));
    }
    let width = KNOWN_PARAMS.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut out = format!("{{{{{PROFILE_TEMPLATE}\n");
    for (param, value) in values {
        let line = format!("| {param:<width$} = {value}");
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push_str("}}");
    Ok(out)
}

/// The list items the parser splits on, besides line breaks (always collapsed here).
const SEPARATORS: &[char] = &[';', ',', '*', '،', '؛', '、', '，', '；', '•'];

/// Escapes `text` (already cleaned) so that MediaWiki shows it as typed and the profile
/// parser reads it back: as one list item when `in_list`, else as a whole value.
fn escape(text: &str, in_list: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    // In a list, an unclosed "(" would make the splitter keep the next separator.
    let parens_unbalanced = in_list && {
        let mut depth = 0usize;
        let mut broken = false;
        for &c in &chars {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => broken = true,
                ')' => depth -= 1,
                _ => {}
            }
        }
        broken || depth != 0
    };
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let doubled = |c: char| {
            (i > 0 && chars[i - 1] == c) || chars.get(i + 1).is_some_and(|&next| next == c)
        };
        let reference = match c {
            '&' => Some("&amp;".to_string()),
            '<' => Some("&lt;".to_string()),
            '>' => Some("&gt;".to_string()),
            // Template and link syntax, signatures (~~~~), behaviour switches (__TOC__),
            // bold and italic ('').
            '|' | '{' | '}' | '[' | ']' | '~' => Some(format!("&#{};", c as u32)),
            '_' | '\'' if doubled(c) => Some(format!("&#{};", c as u32)),
            '(' | ')' if parens_unbalanced => Some(format!("&#{};", c as u32)),
            c if in_list && SEPARATORS.contains(&c) => Some(format!("&#{};", c as u32)),
            _ => None,
        };
        match reference {
            Some(r) => out.push_str(&r),
            None => out.push(c),
        }
    }
    out
}

/// Escapes one item or value and checks that the parser reads back exactly the text.
fn escaped_checked(
    param: &'static str,
    text: &str,
    in_list: bool,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let escaped = escape(text, in_list);
    if plain_text(&escaped).text != text {
        // The parser removes tag-like text (<b>) and quote runs ('') even when written as
        // character references, so such text would not come back as typed.
        problems.push(Problem::Markup {
            param,
            text: text.to_string(),
        });
        return None;
    }
    Some(escaped)
}

fn too_long(text: &str, max: usize) -> bool {
    text.chars().nth(max).is_some()
}

/// A list of free-text items (skills, affiliations, projects), duplicates dropped the way
/// the parser would drop them (by folded text), joined with `; `.
fn text_list(param: &'static str, items: &[String], problems: &mut Vec<Problem>) -> String {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for item in items {
        let text = clean_text(item);
        if text.is_empty() || !seen.insert(fold(&text)) {
            continue;
        }
        if too_long(&text, MAX_ITEM_CHARS) {
            problems.push(Problem::TooLong {
                param,
                text,
                max: MAX_ITEM_CHARS,
            });
            continue;
        }
        if let Some(escaped) = escaped_checked(param, &text, true, problems) {
            out.push(escaped);
        }
    }
    if seen.len() > MAX_ITEMS {
        problems.push(Problem::TooManyItems {
            param,
            count: seen.len(),
            max: MAX_ITEMS,
        });
    }
    out.join("; ")
}

fn keyword_list(
    param: &'static str,
    items: &[String],
    known: &[&str],
    problems: &mut Vec<Problem>,
) -> String {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        let key = item.trim();
        if key.is_empty() {
            continue;
        }
        match known.iter().find(|k| **k == key) {
            Some(k) if !out.contains(k) => out.push(k),
            Some(_) => {}
            None => problems.push(Problem::UnknownKeyword {
                param,
                value: clean_text(item),
            }),
        }
    }
    out.join(", ")
}

fn language_list(pairs: &[(String, String)], problems: &mut Vec<Problem>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut count = 0usize;
    for (code, level) in pairs {
        let code = code.trim().to_ascii_lowercase();
        if code.is_empty() {
            continue;
        }
        count += 1;
        if !languages::is_well_formed(&code) || languages::language(&code).is_none() {
            problems.push(Problem::UnknownLanguage {
                code: clean_text(&code),
            });
            continue;
        }
        if !seen.insert(code.clone()) {
            problems.push(Problem::DuplicateLanguage { code });
            continue;
        }
        match Level::from_str(level.trim()) {
            Ok(level) => out.push(format!("{code}-{level}")),
            Err(()) => problems.push(Problem::BadLevel {
                code,
                level: clean_text(level),
            }),
        }
    }
    if count > MAX_ITEMS {
        problems.push(Problem::TooManyItems {
            param: "languages",
            count,
            max: MAX_ITEMS,
        });
    }
    out.join(", ")
}

fn country(text: &str, problems: &mut Vec<Problem>) -> String {
    let text = clean_text(text);
    if text.is_empty() {
        return String::new();
    }
    match find_country(&text) {
        Some(country) => country.code.clone(),
        None => {
            problems.push(Problem::UnknownCountry(text));
            String::new()
        }
    }
}

fn timezone(text: &str, problems: &mut Vec<Problem>) -> String {
    let text = clean_text(text);
    if text.is_empty() {
        return String::new();
    }
    match normalize_timezone(&text) {
        Some(tz) => tz,
        None => {
            problems.push(Problem::UnknownTimezone(text));
            String::new()
        }
    }
}

fn single(param: &'static str, text: &str, max: usize, problems: &mut Vec<Problem>) -> String {
    let text = clean_text(text);
    if text.is_empty() {
        return String::new();
    }
    if too_long(&text, max) {
        problems.push(Problem::TooLong { param, text, max });
        return String::new();
    }
    escaped_checked(param, &text, false, problems).unwrap_or_default()
}

/// The languages the builder offers: every code of the language table, by code.
pub fn language_choices() -> Vec<&'static LanguageInfo> {
    let mut out: Vec<&'static LanguageInfo> = include_str!("../data/languages.tsv")
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .filter_map(languages::language)
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out.dedup_by(|a, b| a.code == b.code);
    out
}

/// IANA time zones where people live (no `Etc/` or legacy aliases), sorted.
pub fn timezone_choices() -> Vec<&'static str> {
    const AREAS: &[&str] = &[
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    ];
    let mut out: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| {
            name.split_once('/')
                .is_some_and(|(area, _)| AREAS.contains(&area))
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProfileInput {
        ProfileInput {
            offers: vec!["Lua".into(), "Wikidata queries".into()],
            languages: vec![("pt".into(), "N".into()), ("en".into(), "3".into())],
            country: "BR".into(),
            timezone: "america/sao_paulo".into(),
            formats: vec!["mentoring".into()],
            contact: vec!["talk".into()],
            bio: "Hi".into(),
            ..ProfileInput::default()
        }
    }

    #[test]
    fn writes_every_parameter_in_order() {
        let text = write(&input()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "{{Capacity Exchange profile");
        assert_eq!(lines[1], "| offers       = Lua; Wikidata queries");
        assert_eq!(lines[4], "| languages    = pt-N, en-3");
        assert_eq!(lines[6], "| timezone     = America/Sao_Paulo");
        assert_eq!(lines[13], "| status       = active");
        assert_eq!(lines[14], "| recognition  = no");
        assert_eq!(lines[15], "}}");
        assert_eq!(lines.len(), KNOWN_PARAMS.len() + 2);
    }

    #[test]
    fn template_syntax_becomes_character_references() {
        let escaped = escape("a|b}}c{{d[[e]] ~~~~ __TOC__ x_y it's", false);
        for bad in ["|", "}}", "{{", "[[", "]]", "~~", "__"] {
            assert!(!escaped.contains(bad), "{escaped} contains {bad}");
        }
        assert!(escaped.contains("x_y it's"));
        assert_eq!(escape("a; b (c", true), "a&#59; b &#40;c");
        assert_eq!(escape("a (b; c)", true), "a (b&#59; c)");
    }

    #[test]
    fn problems_name_their_parameter() {
        let bad = ProfileInput {
            offers: vec!["x".repeat(MAX_ITEM_CHARS + 1)],
            wants: (0..=MAX_ITEMS).map(|i| format!("skill {i}")).collect(),
            languages: vec![
                ("xx-notalang".into(), "3".into()),
                ("pt".into(), "7".into()),
                ("en".into(), "1".into()),
                ("en".into(), "2".into()),
            ],
            country: "Atlantis".into(),
            timezone: "Mars/Olympus".into(),
            formats: vec!["telepathy".into()],
            // Markup-like text is text: it is escaped and reads back, so it is no problem.
            bio: "<b>bold</b> ''quoted''".into(),
            ..ProfileInput::default()
        };
        let InvalidProfile(problems) = write(&bad).unwrap_err();
        let params: Vec<&str> = problems.iter().map(Problem::param).collect();
        assert_eq!(
            params,
            [
                "offers",
                "wants",
                "languages",
                "languages",
                "languages",
                "country",
                "timezone",
                "formats",
            ]
        );
        assert!(matches!(problems[3], Problem::BadLevel { ref level, .. } if level == "7"));
    }

    #[test]
    fn choices_are_known_to_the_parser() {
        let languages = language_choices();
        assert!(languages.len() > 300);
        assert!(languages.iter().any(|l| l.code == "pt"));
        let zones = timezone_choices();
        assert!(zones.contains(&"America/Sao_Paulo"));
        assert!(
            zones
                .iter()
                .all(|z| normalize_timezone(z).as_deref() == Some(*z))
        );
        assert!(!zones.iter().any(|z| z.starts_with("Etc/")));
    }
}
