//! Interface messages: the `i18n/*.json` files (MediaWiki "banana" format, as translatewiki.net
//! uses), embedded at compile time, with `$1…$9` parameters, `{{PLURAL:…}}` by CLDR rules, a
//! fallback chain (language → base language → English → `⧼key⧽`) and language negotiation
//! (`?uselang=`, then the cookie, then `Accept-Language`).
//!
//! Messages are plain text: the templates escape them.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The interface languages, English first (the fallback of last resort).
pub const LANGUAGES: &[&str] = &["en", "pt", "es", "fr", "de", "ar"];

/// The message files, by language code (`qqq`, the documentation, is not an interface language).
pub const SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../../i18n/en.json")),
    ("pt", include_str!("../../i18n/pt.json")),
    ("es", include_str!("../../i18n/es.json")),
    ("fr", include_str!("../../i18n/fr.json")),
    ("de", include_str!("../../i18n/de.json")),
    ("ar", include_str!("../../i18n/ar.json")),
];

/// Languages written right to left (base codes).
const RTL: &[&str] = &[
    "ar", "arc", "arz", "azb", "ckb", "dv", "fa", "glk", "he", "ks", "lrc", "mzn", "ps", "sd",
    "ug", "ur", "yi",
];

/// A CLDR plural category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluralCategory {
    Zero,
    One,
    Two,
    Few,
    Many,
    Other,
}

use PluralCategory::{Few, Many, One, Other, Two, Zero};

/// The categories a language distinguishes, in CLDR order: the order of the forms in
/// `{{PLURAL:$1|…}}`.
pub fn plural_categories(lang: &str) -> &'static [PluralCategory] {
    match base(lang) {
        "ar" => &[Zero, One, Two, Few, Many, Other],
        _ => &[One, Other],
    }
}

/// The CLDR plural category of `n` in `lang` (hand-written rules for the supported languages;
/// other languages get the English rule).
pub fn plural_category(lang: &str, n: f64) -> PluralCategory {
    let integer = n.fract() == 0.0 && n.is_finite();
    let abs = n.abs();
    match base(lang) {
        // French and (Brazilian) Portuguese: i = 0..1 → one (0, 1 and 1.5 are all "one").
        "fr" | "pt" => {
            if abs < 2.0 {
                One
            } else {
                Other
            }
        }
        "ar" => {
            if !integer {
                return Other;
            }
            let n = abs as u64;
            match (n, n % 100) {
                (0, _) => Zero,
                (1, _) => One,
                (2, _) => Two,
                (_, 3..=10) => Few,
                (_, 11..=99) => Many,
                _ => Other,
            }
        }
        // English, German, Spanish and the rest: one for exactly 1.
        _ => {
            if integer && abs == 1.0 {
                One
            } else {
                Other
            }
        }
    }
}

/// The base language of a tag: `pt-BR` → `pt`.
fn base(lang: &str) -> &str {
    lang.split(['-', '_']).next().unwrap_or(lang)
}

/// Whether `lang` is written right to left.
pub fn is_rtl(lang: &str) -> bool {
    let b = base(lang).to_ascii_lowercase();
    RTL.contains(&b.as_str())
}

/// `"rtl"` or `"ltr"`, for the `dir` attribute.
pub fn dir(lang: &str) -> &'static str {
    if is_rtl(lang) { "rtl" } else { "ltr" }
}

/// The supported language a tag stands for, if any: exact match, then its base language.
pub fn supported(tag: &str) -> Option<&'static str> {
    let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
    if tag.is_empty() {
        return None;
    }
    LANGUAGES
        .iter()
        .find(|l| **l == tag)
        .or_else(|| LANGUAGES.iter().find(|l| **l == base(&tag)))
        .copied()
}

/// The interface language for a request: `?uselang=`, then the language cookie, then the
/// `Accept-Language` header (by q-value, ties in header order), else English. Unsupported
/// choices are skipped.
pub fn negotiate(
    uselang: Option<&str>,
    cookie: Option<&str>,
    accept_language: Option<&str>,
) -> &'static str {
    if let Some(lang) = uselang.and_then(supported) {
        return lang;
    }
    if let Some(lang) = cookie.and_then(supported) {
        return lang;
    }
    if let Some(header) = accept_language {
        let mut ranges: Vec<(f32, &str)> = header
            .split(',')
            .take(32)
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let mut q = 1.0f32;
                for param in pieces {
                    if let Some((name, value)) = param.split_once('=')
                        && name.trim().eq_ignore_ascii_case("q")
                    {
                        q = value.trim().parse().unwrap_or(0.0);
                    }
                }
                (q > 0.0 && !tag.is_empty() && tag != "*").then_some((q, tag))
            })
            .collect();
        // Stable: equal q-values keep the header's order.
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(lang) = ranges.iter().find_map(|(_, tag)| supported(tag)) {
            return lang;
        }
    }
    "en"
}

/// All interface messages, by language then key.
#[derive(Debug, Clone)]
pub struct Catalog {
    messages: HashMap<&'static str, HashMap<String, String>>,
}

impl Catalog {
    /// Parses the embedded message files.
    pub fn load() -> Result<Self, String> {
        let mut messages = HashMap::new();
        for (lang, source) in SOURCES {
            let json: serde_json::Value =
                serde_json::from_str(source).map_err(|e| format!("i18n/{lang}.json: {e}"))?;
            let object = json
                .as_object()
                .ok_or_else(|| format!("i18n/{lang}.json: not an object"))?;
            let table = object
                .iter()
                .filter(|(key, _)| *key != "@metadata")
                .map(|(key, value)| {
                    value
                        .as_str()
                        .map(|text| (key.clone(), text.to_owned()))
                        .ok_or_else(|| format!("i18n/{lang}.json: {key} is not a string"))
                })
                .collect::<Result<HashMap<_, _>, _>>()?;
            messages.insert(*lang, table);
        }
        Ok(Catalog { messages })
    }

    /// The catalog of the embedded files, parsed once. (The files are checked by the tests.)
    pub fn global() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| Catalog::load().expect("the embedded message files parse"))
    }

    /// The keys of the English messages, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .messages
            .get("en")
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// The raw text of `key` in exactly `lang`, without fallback.
    pub fn raw(&self, lang: &str, key: &str) -> Option<&str> {
        self.messages.get(lang)?.get(key).map(String::as_str)
    }

    /// The message `key` in `lang` with its parameters filled in. Falls back to the base
    /// language, then English, then `⧼key⧽`. Plural forms are chosen by the rules of the
    /// language the text was found in.
    pub fn message(&self, lang: &str, key: &str, args: &[&str]) -> String {
        let lang = lang.to_ascii_lowercase().replace('_', "-");
        let chain = [lang.as_str(), base(&lang), "en"];
        for candidate in chain {
            if let Some(text) = self.raw(candidate, key) {
                return format(candidate, text, args);
            }
        }
        format!("⧼{key}⧽")
    }
}

/// Expands `{{PLURAL:…}}` and then `$1…$9` in `text`.
pub fn format(lang: &str, text: &str, args: &[&str]) -> String {
    substitute(&expand_plurals(lang, text, args), args)
}

/// Replaces `$1…$9` by the arguments (left as is when there is no such argument). One pass,
/// so `$` in an argument is never expanded.
fn substitute(text: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
            && d >= 1
            && let Some(arg) = args.get(d as usize - 1)
        {
            chars.next();
            out.push_str(arg);
            continue;
        }
        out.push(c);
    }
    out
}

/// Replaces each `{{PLURAL:$n|form|…}}` by the form for the number in argument `n` (or a
/// literal number). Explicit `N=form` forms win for exactly `N`; otherwise forms are taken in
/// the language's CLDR order, missing ones falling back to the last.
fn expand_plurals(lang: &str, text: &str, args: &[&str]) -> String {
    const OPEN: &str = "{{PLURAL:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + OPEN.len()..start + len];
        out.push_str(choose_plural(lang, inner, args));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

fn choose_plural<'a>(lang: &str, inner: &'a str, args: &[&str]) -> &'a str {
    let mut parts = inner.split('|');
    let selector = parts.next().unwrap_or("").trim();
    let value = match selector
        .strip_prefix('$')
        .and_then(|d| d.parse::<usize>().ok())
    {
        Some(i) if i >= 1 => args.get(i - 1).copied().unwrap_or(""),
        _ => selector,
    };
    let number = parse_number(value).unwrap_or(0.0);
    let mut forms = Vec::new();
    for form in parts {
        if let Some((n, text)) = form.split_once('=')
            && let Ok(n) = n.trim().parse::<f64>()
        {
            if n == number {
                return text;
            }
            continue;
        }
        forms.push(form);
    }
    let category = plural_category(lang, number);
    let index = plural_categories(lang)
        .iter()
        .position(|c| *c == category)
        .unwrap_or(usize::MAX);
    forms
        .get(index)
        .or_else(|| forms.last())
        .copied()
        .unwrap_or("")
}

/// A number as callers may pass it: `3`, `-2`, `1.5`, or with group separators `12,345`.
fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    s.parse().ok().or_else(|| {
        let cleaned: String = s
            .chars()
            .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}' | '\''))
            .collect();
        cleaned.parse().ok()
    })
}
