//! Page titles as MediaWiki normalises them (`MediaWikiTitleCodec::splitTitleString`).
//!
//! Template names, user names and page titles all go through the same rules, so that
//! `{{capacity_Exchange  profile}}`, `{{Template:Capacity Exchange profile}}` and
//! `{{ template : Capacity Exchange profile }}` are recognised as the same call.

use std::fmt;

/// A namespace number, as MediaWiki numbers them.
pub type NamespaceId = i32;

pub const NS_MAIN: NamespaceId = 0;
pub const NS_USER: NamespaceId = 2;
pub const NS_USER_TALK: NamespaceId = 3;
pub const NS_TEMPLATE: NamespaceId = 10;

/// Canonical names and aliases of Meta-Wiki's namespaces. A wiki with other namespaces
/// only changes how exotic prefixes print; the ones the tool relies on are core ones.
const NAMESPACES: &[(NamespaceId, &str)] = &[
    (-2, "Media"),
    (-1, "Special"),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "Meta"),
    (5, "Meta talk"),
    (6, "File"),
    (7, "File talk"),
    (8, "MediaWiki"),
    (9, "MediaWiki talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (13, "Help talk"),
    (14, "Category"),
    (15, "Category talk"),
    (200, "Grants"),
    (201, "Grants talk"),
    (202, "Research"),
    (203, "Research talk"),
    (204, "Participation"),
    (205, "Participation talk"),
    (206, "Iberocoop"),
    (207, "Iberocoop talk"),
    (208, "Programs"),
    (209, "Programs talk"),
    (710, "TimedText"),
    (711, "TimedText talk"),
    (828, "Module"),
    (829, "Module talk"),
    (866, "CNBanner"),
    (867, "CNBanner talk"),
    (1198, "Translations"),
    (1199, "Translations talk"),
    (2300, "Gadget"),
    (2301, "Gadget talk"),
    (2302, "Gadget definition"),
    (2303, "Gadget definition talk"),
];

const NAMESPACE_ALIASES: &[(NamespaceId, &str)] = &[
    (4, "Project"),
    (5, "Project talk"),
    (6, "Image"),
    (7, "Image talk"),
];

/// The canonical name of a namespace ("" for the main namespace).
pub fn namespace_name(ns: NamespaceId) -> Option<&'static str> {
    if ns == NS_MAIN {
        return Some("");
    }
    NAMESPACES.iter().find(|(id, _)| *id == ns).map(|(_, n)| *n)
}

fn namespace_by_name(name: &str) -> Option<NamespaceId> {
    let wanted = name.replace('_', " ");
    NAMESPACES
        .iter()
        .chain(NAMESPACE_ALIASES)
        .find(|(_, n)| n.eq_ignore_ascii_case(&wanted))
        .map(|(id, _)| *id)
}

/// A normalised title: a namespace and the text after the prefix, with spaces, first
/// letter upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Title {
    pub namespace: NamespaceId,
    pub text: String,
}

impl Title {
    /// Parses a title the way MediaWiki does; `default_ns` applies when no prefix is given
    /// (templates default to the Template namespace). `None` for an invalid title.
    pub fn parse(raw: &str, default_ns: NamespaceId) -> Option<Title> {
        let decoded = decode_entities(raw);
        let mut key = collapse_spaces(&decoded);
        let mut namespace = default_ns;
        if let Some(rest) = key.strip_prefix(':') {
            namespace = NS_MAIN;
            key = rest.trim_matches(' ').to_string();
        }
        if let Some(colon) = key.find(':') {
            let prefix = key[..colon].trim_end_matches(' ');
            if let Some(ns) = namespace_by_name(prefix) {
                namespace = ns;
                key = key[colon + 1..].trim_start_matches(' ').to_string();
            }
        }
        if let Some(hash) = key.find('#') {
            key.truncate(hash);
            key = key.trim_end_matches(' ').to_string();
        }
        if key.is_empty() || key.len() > 255 || !is_legal(&key) {
            return None;
        }
        Some(Title {
            namespace,
            text: uppercase_first(&key),
        })
    }

    /// The user a page in the User namespace belongs to (`User:Ana/Profile` → `Ana`).
    pub fn owner(&self) -> Option<&str> {
        (self.namespace == NS_USER || self.namespace == NS_USER_TALK)
            .then(|| self.text.split('/').next().unwrap_or(&self.text))
    }

    /// Whether the title is a subpage (`User:Ana/Profile`).
    pub fn is_subpage(&self) -> bool {
        self.text.contains('/')
    }

    /// The title as a template call names it: no prefix for templates, a leading colon
    /// for the main namespace, the canonical prefix otherwise.
    pub fn as_call_name(&self) -> String {
        match self.namespace {
            NS_TEMPLATE => self.text.clone(),
            NS_MAIN => format!(":{}", self.text),
            ns => format!("{}:{}", namespace_name(ns).unwrap_or("?"), self.text),
        }
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match namespace_name(self.namespace) {
            Some("") => f.write_str(&self.text),
            Some(ns) => write!(f, "{ns}:{}", self.text),
            None => write!(f, "{{ns {}}}:{}", self.namespace, self.text),
        }
    }
}

/// The user whose page (or talk page, or a subpage of either) a full title names: the
/// owner rule of profiles, thanks and requests starts here. `None` outside those namespaces.
pub fn owner_of(title: &str) -> Option<String> {
    Title::parse(title, NS_MAIN)?.owner().map(str::to_string)
}

/// Normalises a user name the way MediaWiki does (`ana_maria` → `Ana maria`).
pub fn normalize_user_name(raw: &str) -> Option<String> {
    let title = Title::parse(raw, NS_USER)?;
    (title.namespace == NS_USER && !title.text.contains('/')).then_some(title.text)
}

/// Whether `c` is a space as MediaWiki's title codec sees one.
fn is_title_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '_' | '\u{a0}' | '\u{1680}' | '\u{180e}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Turns every run of spaces or underscores into one space, drops direction marks, trims.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}') {
            continue;
        }
        if is_title_space(c) {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

fn is_legal(key: &str) -> bool {
    let bad_char = key
        .chars()
        .any(|c| matches!(c, '<' | '>' | '[' | ']' | '{' | '}' | '|' | '#') || c.is_control());
    let relative = key == "."
        || key == ".."
        || key.starts_with("./")
        || key.starts_with("../")
        || key.contains("/./")
        || key.contains("/../")
        || key.ends_with("/.")
        || key.ends_with("/..");
    let percent_escape = key
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    !(bad_char || relative || percent_escape || key.contains("~~~"))
}

/// Upper-cases the first character, as `$wgCapitalLinks` does. A character whose upper
/// case is several characters (ß) is left alone, as MediaWiki does.
pub fn uppercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let mut upper = first.to_uppercase();
            let mut out = String::with_capacity(s.len());
            if upper.len() == 1 {
                out.extend(upper.by_ref());
            } else {
                out.push(first);
            }
            out.push_str(chars.as_str());
            out
        }
    }
}

/// Decodes the character references MediaWiki decodes in titles (`&amp;`, `&#32;`, `&#x20;`).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // A reference's name is at most ten bytes: looking further for its `;` would make
        // a text of many `&` quadratic.
        let semi = after.bytes().take(11).position(|b| b == b';');
        let decoded = semi.and_then(|semi| {
            let entity = &after[..semi];
            let c = if let Some(hex) = entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
            {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
            } else if let Some(dec) = entity.strip_prefix('#') {
                dec.parse::<u32>().ok().and_then(char::from_u32)
            } else {
                named_entity(entity)
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "shy" => '\u{ad}',
        "lrm" => '\u{200e}',
        "rlm" => '\u{200f}',
        "zwj" => '\u{200d}',
        "zwnj" => '\u{200c}',
        "hellip" => '…',
        "middot" => '·',
        "bull" => '•',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(raw: &str) -> Option<String> {
        Title::parse(raw, NS_TEMPLATE).map(|t| t.as_call_name())
    }

    #[test]
    fn template_namespace_is_the_default_and_is_dropped() {
        assert_eq!(t("foo_bar").as_deref(), Some("Foo bar"));
        assert_eq!(t(" Template : foo  bar ").as_deref(), Some("Foo bar"));
        assert_eq!(t("TEMPLATE:Foo").as_deref(), Some("Foo"));
    }

    #[test]
    fn other_namespaces_keep_their_canonical_prefix() {
        assert_eq!(t("user:ana/box").as_deref(), Some("User:Ana/box"));
        assert_eq!(t("Image:X.png").as_deref(), Some("File:X.png"));
        assert_eq!(t(":Main Page").as_deref(), Some(":Main Page"));
        assert_eq!(t("Foo:Bar").as_deref(), Some("Foo:Bar"));
    }

    #[test]
    fn invalid_titles_are_rejected() {
        for bad in [
            "", " ", "a<b", "a|b", "#frag", "a[b]", "../x", "a%20b", "x~~~",
        ] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fragments_entities_and_unicode_spaces() {
        assert_eq!(t("Foo#bar").as_deref(), Some("Foo"));
        assert_eq!(t("Foo&#32;bar").as_deref(), Some("Foo bar"));
        assert_eq!(
            t("Foo\u{a0}\u{3000}bar\u{200e}").as_deref(),
            Some("Foo bar")
        );
        assert_eq!(t("élan").as_deref(), Some("Élan"));
        assert_eq!(t("ßtraße").as_deref(), Some("ßtraße"));
    }

    #[test]
    fn owners_of_user_pages() {
        let title = Title::parse("User:ana_maria/Profile", NS_MAIN).unwrap();
        assert_eq!(title.owner(), Some("Ana maria"));
        assert!(title.is_subpage());
        assert_eq!(
            normalize_user_name("ana_maria").as_deref(),
            Some("Ana maria")
        );
        assert_eq!(normalize_user_name("User:Bob").as_deref(), Some("Bob"));
    }
}
