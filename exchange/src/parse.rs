//! From a user page's wikitext to a [`Profile`]: the template language of the tool.
//!
//! The parser is forgiving by design. People write profiles by hand, in many languages, and
//! a typo must never cost them their profile: anything not understood is kept where it can
//! be (free-text skills, unknown language codes) and reported as a [`Warning`].

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use indexmap::IndexMap;

use crate::geo::find_country;
use crate::languages;
use crate::profile::{LanguageSkill, Level, Profile, SkillRef, Status, Warning};
use crate::taxonomy::Taxonomy;
use crate::text_key::fold;
use crate::wikitext::plain::{plain_text, without_comments};
use crate::wikitext::title::{NS_TEMPLATE, NS_USER, Title};
use crate::wikitext::{Extraction, TemplateCall, extract};

/// The profile template's canonical name on Meta-Wiki.
pub const PROFILE_TEMPLATE: &str = "Capacity Exchange profile";

/// Most items kept per list; a longer list is cut, with a warning.
pub const MAX_ITEMS: usize = 50;
/// Longest free-text item, in characters.
pub const MAX_ITEM_CHARS: usize = 120;
/// Longest bio, in characters.
pub const MAX_BIO_CHARS: usize = 2000;
/// Longest availability note, in characters.
pub const MAX_AVAILABILITY_CHARS: usize = 200;

/// The parameters the template documents.
pub const KNOWN_PARAMS: &[&str] = &[
    "offers",
    "wants",
    "knows",
    "languages",
    "country",
    "timezone",
    "affiliations",
    "projects",
    "formats",
    "availability",
    "contact",
    "bio",
    "status",
    "recognition",
];

/// What `recognition` reads as yes, folded: the usual switches and "yes" in the languages
/// the template is documented in (es/pt, pt, fr, de, ar).
const YES: &[&str] = &["yes", "true", "1", "si", "sim", "oui", "ja", "نعم"];
/// What `recognition` reads as no, folded.
const NO: &[&str] = &["no", "false", "0", "nao", "non", "nein", "لا"];

/// Learning formats the template documents; others are kept with a warning.
pub const KNOWN_FORMATS: &[&str] = &[
    "mentoring",
    "one-on-one",
    "workshop",
    "group",
    "online",
    "in-person",
    "office-hours",
    "documentation",
    "peer-review",
];

/// Ways to be contacted the template documents; others are kept with a warning.
pub const KNOWN_CONTACTS: &[&str] = &[
    "talk",
    "email",
    "irc",
    "matrix",
    "telegram",
    "signal",
    "discord",
    "video-call",
    "in-person",
    "mailing-list",
];

/// The names under which the profile template is called: its own and its redirects'.
#[derive(Debug, Clone)]
pub struct ProfileTemplate {
    names: HashSet<String>,
}

impl Default for ProfileTemplate {
    fn default() -> Self {
        ProfileTemplate::with_aliases(std::iter::empty::<&str>())
    }
}

impl ProfileTemplate {
    /// The template and its aliases (redirects), given as titles with or without the
    /// `Template:` prefix.
    pub fn with_aliases<S: AsRef<str>>(aliases: impl IntoIterator<Item = S>) -> ProfileTemplate {
        let names = std::iter::once(PROFILE_TEMPLATE.to_string())
            .chain(aliases.into_iter().map(|a| a.as_ref().to_string()))
            .filter_map(|a| Title::parse(&a, NS_TEMPLATE))
            .map(|t| t.as_call_name())
            .collect();
        ProfileTemplate { names }
    }

    pub fn matches(&self, call: &TemplateCall) -> bool {
        self.names.contains(&call.name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// Where the wikitext came from.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The page title (`User:Ana/Profile`).
    pub title: String,
    pub revid: u64,
    pub timestamp: Option<DateTime<Utc>>,
}

/// What parsing a page gives: a profile if the page calls the template, and every warning.
#[derive(Debug, Clone, Default)]
pub struct ParsedPage {
    pub profile: Option<Profile>,
    pub warnings: Vec<Warning>,
}

/// Whether a page calls the profile template at all (cheaper to ask than a full parse).
pub fn calls_profile_template(wikitext: &str, template: &ProfileTemplate) -> bool {
    extract(wikitext)
        .templates
        .iter()
        .any(|c| template.matches(c))
}

/// Reads the profile on a page.
pub fn parse_page(
    wikitext: &str,
    page: &PageContext,
    template: &ProfileTemplate,
    taxonomy: &Taxonomy,
) -> ParsedPage {
    let extraction = extract(wikitext);
    let mut warnings = Vec::new();
    let mut calls = extraction.templates.iter().filter(|c| template.matches(c));
    let Some(call) = calls.next() else {
        return ParsedPage::default();
    };
    if calls.next().is_some() {
        warnings.push(Warning::new(
            None,
            "the page calls the profile template more than once; only the first call is read",
        ));
    }
    let title = Title::parse(&page.title, NS_USER);
    let user = title
        .as_ref()
        .and_then(|t| t.owner())
        .unwrap_or_default()
        .to_string();
    let page_name = title.map(|t| t.to_string()).unwrap_or_default();
    let mut profile = Profile::empty(&user, &page_name);
    profile.revid = page.revid;
    profile.updated = page.timestamp;
    read_params(
        &call.params,
        &extraction,
        taxonomy,
        &mut profile,
        &mut warnings,
    );
    ParsedPage {
        profile: Some(profile),
        warnings,
    }
}

fn read_params(
    params: &IndexMap<String, String>,
    extraction: &Extraction,
    taxonomy: &Taxonomy,
    profile: &mut Profile,
    warnings: &mut Vec<Warning>,
) {
    for (name, value) in params {
        let param = name.as_str();
        let w = |warnings: &mut Vec<Warning>, message: String| {
            warnings.push(Warning::new(Some(param), message));
        };
        match param {
            "offers" => profile.offers = skills(param, value, taxonomy, warnings),
            "wants" => profile.wants = skills(param, value, taxonomy, warnings),
            "knows" => profile.knows = skills(param, value, taxonomy, warnings),
            "languages" => {
                let list = capped_items(param, value, warnings);
                profile.languages = language_list(param, &list, warnings);
            }
            "country" => {
                let text = plain(param, value, warnings);
                if text.is_empty() {
                    continue;
                }
                match find_country(&text) {
                    Some(country) => {
                        profile.country = Some(country.code.clone());
                        profile.region = Some(country.region);
                    }
                    None => w(
                        warnings,
                        format!(
                            "unknown country {text:?}: write an ISO code such as BR or an English name"
                        ),
                    ),
                }
            }
            "timezone" => {
                let text = plain(param, value, warnings);
                if text.is_empty() {
                    continue;
                }
                match normalize_timezone(&text) {
                    Some(tz) => profile.timezone = Some(tz),
                    None => w(
                        warnings,
                        format!(
                            "unknown time zone {text:?}: write an IANA name such as America/Sao_Paulo or an offset such as UTC+5:30"
                        ),
                    ),
                }
            }
            "affiliations" => profile.affiliations = text_list(param, value, warnings),
            "projects" => {
                profile.projects = text_list(param, value, warnings)
                    .iter()
                    .map(|p| project_key(p))
                    // An address with nothing but a scheme or slashes names no project.
                    .filter(|p| !p.is_empty())
                    .collect();
                dedupe(&mut profile.projects);
            }
            "formats" => {
                profile.formats = keyword_list(param, value, KNOWN_FORMATS, warnings);
            }
            "contact" => {
                profile.contact = keyword_list(param, value, KNOWN_CONTACTS, warnings);
            }
            "availability" => {
                profile.availability = limited(param, value, MAX_AVAILABILITY_CHARS, warnings);
            }
            "bio" => profile.bio = limited(param, value, MAX_BIO_CHARS, warnings),
            "status" => {
                let text = fold(&plain(param, value, warnings));
                profile.status = match text.as_str() {
                    "" | "active" => Status::Active,
                    "paused" | "pause" | "inactive" | "away" => Status::Paused,
                    _ => {
                        w(
                            warnings,
                            format!(
                                "unknown status {text:?}: write active or paused; read as active"
                            ),
                        );
                        Status::Active
                    }
                };
            }
            "recognition" => {
                // Naming someone in a report needs their clear yes: anything else is no.
                let text = plain(param, value, warnings);
                let key = fold(&text);
                profile.recognition = YES.contains(&key.as_str());
                if !key.is_empty() && !profile.recognition && !NO.contains(&key.as_str()) {
                    w(
                        warnings,
                        format!("unknown value {text:?}: write yes or no; read as no"),
                    );
                }
            }
            _ if param.bytes().all(|b| b.is_ascii_digit()) => w(
                warnings,
                "an unnamed parameter is ignored (did you forget \"name =\"?)".to_string(),
            ),
            _ => w(warnings, "unknown parameter, ignored".to_string()),
        }
    }
    let languages_given = params
        .get("languages")
        .is_some_and(|v| !plain_text(v).text.is_empty());
    if !languages_given {
        profile.languages = babel_languages(extraction, warnings);
    }
    // A skill both offered and known is simply offered.
    let offered: HashSet<String> = profile.offers.iter().map(skill_key).collect();
    profile.knows.retain(|s| !offered.contains(&skill_key(s)));
}

/// What makes two skills of a profile the same: the id, or the folded free text.
fn skill_key(skill: &SkillRef) -> String {
    match skill {
        SkillRef::Known { id, .. } => format!("id:{id}"),
        SkillRef::Free { text } => format!("text:{}", fold(text)),
    }
}

/// The plain text of a single-valued parameter, warning about dropped calls.
pub(crate) fn plain(param: &str, value: &str, warnings: &mut Vec<Warning>) -> String {
    let text = plain_text(value);
    if text.dropped_calls > 0 {
        warnings.push(Warning::new(
            Some(param),
            "templates inside the value cannot be read and were left out",
        ));
    }
    text.text
}

fn limited(param: &str, value: &str, max: usize, warnings: &mut Vec<Warning>) -> Option<String> {
    let text = plain(param, value, warnings);
    if text.is_empty() {
        return None;
    }
    Some(truncate(param, text, max, warnings))
}

/// `text` cut to `max` characters, with a warning when it was longer.
pub(crate) fn truncate(
    param: &str,
    text: String,
    max: usize,
    warnings: &mut Vec<Warning>,
) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => {
            warnings.push(Warning::new(
                Some(param),
                format!("longer than {max} characters; cut"),
            ));
            text[..cut].trim_end().to_string()
        }
    }
}

/// Splits a list value at `;`, `,` (and their Arabic and CJK forms), line breaks and `*`
/// bullets, but never inside a link, a call or parentheses.
pub fn items(value: &str) -> Vec<String> {
    let visible = without_comments(value);
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in visible.chars() {
        match c {
            '[' | '{' | '(' => {
                depth += 1;
                current.push(c);
            }
            ']' | '}' | ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            ';' if depth == 0 && ends_with_entity_name(&current) => current.push(c),
            ';' | ',' | '\n' | '*' | '،' | '؛' | '、' | '，' | '；' | '•' if depth == 0 => {
                out.push(std::mem::take(&mut current));
            }
            _ => current.push(c),
        }
        if c == '\n' {
            // A new line closes anything left open on the previous one.
            depth = 0;
        }
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether `text` ends inside a character reference (`&amp`, `&#91`): its `;` ends the
/// reference and does not separate items.
fn ends_with_entity_name(text: &str) -> bool {
    match text.rfind('&') {
        Some(amp) => {
            let name = &text[amp + 1..];
            !name.is_empty()
                && name.len() <= 10
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'#')
        }
        None => false,
    }
}

fn capped_items(param: &str, value: &str, warnings: &mut Vec<Warning>) -> Vec<String> {
    let mut list = items(value);
    if list.len() > MAX_ITEMS {
        warnings.push(Warning::new(
            Some(param),
            format!("{} items; only the first {MAX_ITEMS} are kept", list.len()),
        ));
        list.truncate(MAX_ITEMS);
    }
    list
}

fn skills(
    param: &str,
    value: &str,
    taxonomy: &Taxonomy,
    warnings: &mut Vec<Warning>,
) -> Vec<SkillRef> {
    let mut out: Vec<SkillRef> = Vec::new();
    let mut seen = HashSet::new();
    for item in capped_items(param, value, warnings) {
        let text = plain_text(&item);
        if text.dropped_calls > 0 {
            warnings.push(Warning::new(
                Some(param),
                format!("a template inside {item:?} cannot be read and was left out"),
            ));
        }
        let text = text.text;
        if text.is_empty() {
            continue;
        }
        let skill = skill_ref(param, text, taxonomy, warnings);
        if seen.insert(skill_key(&skill)) {
            out.push(skill);
        }
    }
    out
}

/// One skill as people write it (non-empty plain text): a taxonomy skill by id, label or
/// alias, else free text cut to [`MAX_ITEM_CHARS`]. Profiles and thanks read skills alike.
pub(crate) fn skill_ref(
    param: &str,
    text: String,
    taxonomy: &Taxonomy,
    warnings: &mut Vec<Warning>,
) -> SkillRef {
    let resolved = taxonomy.resolve(&text).or_else(|| {
        // "w:Lua" or "d:Wikidata" written as a link target: try the last segment.
        text.rsplit_once(':')
            .and_then(|(_, last)| taxonomy.resolve(last))
    });
    match resolved {
        Some(skill) => SkillRef::Known {
            id: skill.id.clone(),
            label: taxonomy.label(skill, "en").to_string(),
        },
        None => SkillRef::Free {
            text: truncate(param, text, MAX_ITEM_CHARS, warnings),
        },
    }
}

fn text_list(param: &str, value: &str, warnings: &mut Vec<Warning>) -> Vec<String> {
    let mut out = Vec::new();
    for item in capped_items(param, value, warnings) {
        let text = plain(param, &item, warnings);
        if !text.is_empty() {
            out.push(truncate(param, text, MAX_ITEM_CHARS, warnings));
        }
    }
    dedupe(&mut out);
    out
}

fn keyword_list(
    param: &str,
    value: &str,
    known: &[&str],
    warnings: &mut Vec<Warning>,
) -> Vec<String> {
    let mut out = Vec::new();
    for text in text_list(param, value, warnings) {
        let key = fold(&text).replace(' ', "-");
        let key = match key.as_str() {
            "one-to-one" | "1-on-1" | "1-1" | "one-one" => "one-on-one".to_string(),
            "talk-page" | "talkpage" => "talk".to_string(),
            "e-mail" | "mail" => "email".to_string(),
            "inperson" | "offline" => "in-person".to_string(),
            _ => key,
        };
        if !known.contains(&key.as_str()) {
            warnings.push(Warning::new(
                Some(param),
                format!(
                    "{text:?} is not one of {}; kept as written",
                    known.join(", ")
                ),
            ));
        }
        out.push(key);
    }
    dedupe(&mut out);
    out
}

fn dedupe(list: &mut Vec<String>) {
    let mut seen = HashSet::new();
    list.retain(|x| seen.insert(fold(x)));
}

/// `https://pt.wikipedia.org` and `pt.wikipedia` are the same project: the key a profile's
/// project is kept under (public for the checks that predict what a profile parses to).
pub fn project_key(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let lower = lower
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let lower = lower.strip_suffix(".org").unwrap_or(lower);
    let lower = lower.strip_prefix("www.").unwrap_or(lower);
    match lower {
        "wikidata" | "wikidata.wikidata" => "wikidata".to_string(),
        "commons" | "commons.wikimedia" | "wikimedia commons" => "commons".to_string(),
        "meta" | "meta.wikimedia" | "meta-wiki" => "meta".to_string(),
        other => other.to_string(),
    }
}

/// The languages of a list, at most [`MAX_ITEMS`] of them: a Babel item is one word, and
/// an item may hold several (`pt-N en-3`, as Babel boxes separate them), so the cap counts
/// words, not items; the rest is left out with one warning.
fn language_list(param: &str, items: &[String], warnings: &mut Vec<Warning>) -> Vec<LanguageSkill> {
    let mut out: Vec<LanguageSkill> = Vec::new();
    let mut read = 0;
    if items.len() > MAX_ITEMS {
        warnings.push(Warning::new(
            Some(param),
            format!(
                "{} languages; only the first {MAX_ITEMS} are read",
                items.len()
            ),
        ));
    }
    for item in items.iter().take(MAX_ITEMS) {
        let text = plain_text(item).text;
        for word in text.split_whitespace() {
            if read == MAX_ITEMS {
                warnings.push(Warning::new(
                    Some(param),
                    format!("more than {MAX_ITEMS} languages; only the first {MAX_ITEMS} are read"),
                ));
                return out;
            }
            read += 1;
            match babel_item(word) {
                Ok(skill) => {
                    if languages::language(&skill.code).is_none() {
                        warnings.push(Warning::new(
                            Some(param),
                            format!("unknown language code {:?}; kept", skill.code),
                        ));
                    }
                    match out.iter_mut().find(|l| l.code == skill.code) {
                        Some(existing) => existing.level = existing.level.max(skill.level),
                        None => out.push(skill),
                    }
                }
                Err(message) => warnings.push(Warning::new(Some(param), message)),
            }
        }
    }
    out
}

/// Reads one Babel item: `pt-N`, `en-3`, `zh-hans-2`, or a bare code (native, as Babel reads it).
pub fn babel_item(item: &str) -> Result<LanguageSkill, String> {
    let lower = item.trim().to_ascii_lowercase();
    let (code, level) = match lower.rsplit_once('-') {
        Some((code, level)) if Level::from_str(level).is_ok() => (
            code.to_string(),
            Level::from_str(level).unwrap_or(Level::NATIVE),
        ),
        Some((_, level)) if level.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!(
                "{item:?} has level {level}; Babel levels are 0 to 5, or N for native"
            ));
        }
        _ => (lower.clone(), Level::NATIVE),
    };
    if !languages::is_well_formed(&code) {
        return Err(format!(
            "{item:?} is not a Babel item: write a language code and a level, such as pt-N or en-3"
        ));
    }
    Ok(LanguageSkill { code, level })
}

/// Languages from `{{#babel:…}}` or `{{Babel|…}}` on the same page.
fn babel_languages(extraction: &Extraction, warnings: &mut Vec<Warning>) -> Vec<LanguageSkill> {
    let mut items: Vec<String> = Vec::new();
    for call in extraction.functions.iter().filter(|f| f.name == "#babel") {
        items.extend(call.args.iter().filter(|a| !a.contains('=')).cloned());
    }
    for call in extraction.templates.iter().filter(|t| t.name == "Babel") {
        items.extend(
            call.params
                .iter()
                .filter(|(k, _)| k.bytes().all(|b| b.is_ascii_digit()))
                .map(|(_, v)| v.trim().to_string()),
        );
    }
    language_list("languages", &items, warnings)
}

/// Accepts an IANA zone (any case) or a UTC offset (`UTC+3`, `GMT-05:30`, `+0530`).
pub fn normalize_timezone(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(&text.replace(' ', "_")) {
        return Some(tz.name().to_string());
    }
    let upper = text.to_ascii_uppercase().replace('−', "-");
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper)
        .trim();
    let (sign, digits) = match rest.chars().next()? {
        '+' => ('+', &rest[1..]),
        '-' => ('-', &rest[1..]),
        _ => return None,
    };
    let digits = digits.trim();
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        // `get`: the four bytes need not be four characters.
        None if digits.len() == 4 => (
            digits.get(..2)?.parse().ok()?,
            digits.get(2..)?.parse().ok()?,
        ),
        None => (digits.parse().ok()?, 0),
    };
    if hours > 14 || !matches!(minutes, 0 | 30 | 45) {
        return None;
    }
    Some(format!("UTC{sign}{hours:02}:{minutes:02}"))
}
