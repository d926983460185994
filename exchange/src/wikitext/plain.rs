//! From a parameter's wikitext to the plain text a reader sees: `[[w:Lua|Lua]]` reads
//! "Lua", comments and references vanish, `'''bold'''` is just bold.
//!
//! Templates cannot be expanded without the wiki, so calls inside a value are dropped and
//! counted, which lets the profile parser warn about them.

use super::preprocessor::{self, Outline};
use super::title::decode_entities;

/// A value with its markup removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlainText {
    pub text: String,
    /// How many template or parser function calls were dropped.
    pub dropped_calls: usize,
}

/// Reduces wikitext to the text it shows, on one line, whitespace collapsed.
pub fn plain_text(raw: &str) -> PlainText {
    let outline = preprocessor::outline(raw);
    let (visible, dropped_calls) = drop_invisible(raw, &outline);
    let linked = resolve_links(&visible);
    // Tags and quote runs go first: an entity such as `&lt;b&gt;` is text the reader sees,
    // not markup, so it is decoded only after markup is gone.
    let text = decode_entities(&strip_tags_and_quotes(&linked));
    PlainText {
        text: collapse_whitespace(&text),
        dropped_calls,
    }
}

/// The text without comments and `<includeonly>` parts: what a list is split on.
pub fn without_comments(raw: &str) -> String {
    let outline = preprocessor::outline(raw);
    let mut out = String::with_capacity(raw.len());
    let mut pos = 0;
    for hole in &outline.holes {
        out.push_str(&raw[pos..hole.start]);
        pos = hole.end;
    }
    out.push_str(&raw[pos..]);
    out
}

/// Removes comments, ignored elements, calls and extension tags (keeping what `<nowiki>`
/// holds, as literal text).
fn drop_invisible(raw: &str, outline: &Outline) -> (String, usize) {
    let mut cuts: Vec<(usize, usize, Option<&str>)> = Vec::new();
    for hole in &outline.holes {
        cuts.push((hole.start, hole.end, None));
    }
    for ext in &outline.extensions {
        let tag = &raw[ext.clone()];
        let keep = nowiki_inner(tag);
        cuts.push((ext.start, ext.end, keep));
    }
    for element in &outline.elements {
        cuts.push((element.span.start, element.span.end, None));
    }
    cuts.sort_by_key(|c| c.0);
    let mut out = String::with_capacity(raw.len());
    let mut pos = 0;
    let mut top_level_calls = 0;
    for (start, end, keep) in cuts {
        if start < pos {
            continue; // nested inside something already cut
        }
        out.push_str(&raw[pos..start]);
        if let Some(keep) = keep {
            out.push_str(&keep.replace('<', "&lt;").replace('[', "&#91;"));
        } else {
            out.push(' ');
        }
        if outline
            .elements
            .binary_search_by_key(&start, |e| e.span.start)
            .is_ok()
        {
            top_level_calls += 1;
        }
        pos = end;
    }
    out.push_str(&raw[pos..]);
    (out, top_level_calls)
}

fn nowiki_inner(tag: &str) -> Option<&str> {
    let lower = tag.get(..7)?.to_ascii_lowercase();
    if lower != "<nowiki" {
        return None;
    }
    let open_end = tag.find('>')?;
    if tag[..open_end].ends_with('/') {
        return Some("");
    }
    let close = tag.rfind("</")?;
    tag.get(open_end + 1..close)
}

const URL_SCHEMES: &[&str] = &["http://", "https://", "//", "mailto:", "ftp://", "ftps://"];

/// Replaces `[[target|label]]` by its label (or target) and `[url label]` by its label.
fn resolve_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut link_ends = NextMatch::new("]]");
    let mut url_ends = NextMatch::new("]");
    let mut pos = 0;
    while let Some(open) = s[pos..].find('[').map(|i| pos + i) {
        out.push_str(&s[pos..open]);
        let inner = &s[open + 1..];
        if inner.starts_with('[') {
            if let Some(close) = link_ends.find(s, open + 2) {
                out.push_str(&link_text(&s[open + 2..close]));
                pos = close + 2;
                continue;
            }
        } else if URL_SCHEMES.iter().any(|p| {
            // Bytes: the text after `[` may be cut inside a character.
            inner
                .as_bytes()
                .get(..p.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
        }) && let Some(close) = url_ends.find(s, open + 1)
        {
            let body = &s[open + 1..close];
            if let Some(space) = body.find(' ') {
                out.push_str(&body[space + 1..]);
            }
            pos = close + 1;
            continue;
        }
        out.push('[');
        pos = open + 1;
    }
    out.push_str(&s[pos..]);
    out
}

/// Where the next `needle` is, remembering the last answer. Asked from positions that never
/// go back, it reads each part of the text once, so a pass that looks for a closing `]]`
/// or `>` at every opening stays linear when the closing is missing.
struct NextMatch {
    needle: &'static str,
    /// The position last asked from, and the answer.
    last: Option<(usize, Option<usize>)>,
}

impl NextMatch {
    fn new(needle: &'static str) -> NextMatch {
        NextMatch { needle, last: None }
    }

    /// The first `needle` in `s` at or after `from`.
    fn find(&mut self, s: &str, from: usize) -> Option<usize> {
        if let Some((asked, found)) = self.last
            && asked <= from
            && found.is_none_or(|at| at >= from)
        {
            return found;
        }
        let found = s
            .get(from..)
            .and_then(|rest| rest.find(self.needle))
            .map(|i| from + i);
        self.last = Some((from, found));
        found
    }
}

fn link_text(body: &str) -> String {
    let (target, label) = match body.split_once('|') {
        Some((t, l)) => (t, Some(l)),
        None => (body, None),
    };
    let target = target.trim();
    let prefix = target
        .trim_start_matches(':')
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !target.starts_with(':') && matches!(prefix.as_str(), "file" | "image" | "category") {
        return String::new();
    }
    match label {
        Some(label) if !label.trim().is_empty() => label.to_string(),
        // The "pipe trick" ([[w:Lua|]]) shows the target without its prefix.
        Some(_) => target.rsplit(':').next().unwrap_or(target).to_string(),
        None => target.trim_start_matches(':').to_string(),
    }
}

fn strip_tags_and_quotes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut tags = NextMatch::new("<");
    let mut quotes = NextMatch::new("''");
    let mut tag_ends = NextMatch::new(">");
    let mut pos = 0;
    loop {
        match (tags.find(s, pos), quotes.find(s, pos)) {
            (None, None) => break,
            (Some(t), q) if q.is_none_or(|q| t < q) => {
                out.push_str(&s[pos..t]);
                let is_tag = s[t + 1..]
                    .trim_start_matches('/')
                    .starts_with(|c: char| c.is_ascii_alphabetic());
                match tag_ends.find(s, t + 1).filter(|_| is_tag) {
                    Some(end) => {
                        out.push(' ');
                        pos = end + 1;
                    }
                    None => {
                        out.push('<');
                        pos = t + 1;
                    }
                }
            }
            (_, Some(q)) => {
                out.push_str(&s[pos..q]);
                let run = s[q..].bytes().take_while(|&b| b == b'\'').count();
                pos = q + run;
            }
            (Some(_), None) => unreachable!("covered by the arm above"),
        }
    }
    out.push_str(&s[pos..]);
    out
}

/// Collapses every run of whitespace to one space and trims the ends.
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        plain_text(s).text
    }

    #[test]
    fn links_show_their_labels() {
        assert_eq!(p("[[w:Lua|Lua]]"), "Lua");
        assert_eq!(p("[[Lua]] modules"), "Lua modules");
        assert_eq!(p("[[:w:Lua]]"), "w:Lua");
        assert_eq!(p("[[w:Lua|]]"), "Lua");
        assert_eq!(p("[https://example.org Example site]"), "Example site");
        assert_eq!(p("[https://example.org]"), "");
        assert_eq!(p("[[File:X.png|thumb|pic]]Text"), "Text");
        assert_eq!(p("a [not a link]"), "a [not a link]");
        // Not a URL, and cut inside a character where a URL scheme would end.
        assert_eq!(p("[Ελληνικά]"), "[Ελληνικά]");
    }

    #[test]
    fn comments_refs_calls_and_formatting_vanish() {
        assert_eq!(p("Lua <!-- comment --> modules"), "Lua modules");
        assert_eq!(p("Lua<ref>source</ref>"), "Lua");
        assert_eq!(p("'''Lua''' and ''Python''"), "Lua and Python");
        assert_eq!(p("<span style=\"x\">Lua</span>"), "Lua");
        assert_eq!(p("a < b"), "a < b");
        let with_call = plain_text("Lua {{lang|pt|x}} {{#if:a|b}}");
        assert_eq!(with_call.text, "Lua");
        assert_eq!(with_call.dropped_calls, 2);
    }

    #[test]
    fn nowiki_content_is_kept_literally() {
        assert_eq!(p("<nowiki>[[x]]</nowiki>"), "[[x]]");
        assert_eq!(p("caf&eacute;&amp;co&nbsp;x"), "caf&eacute;&co x");
    }
}
