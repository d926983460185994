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
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        if let Some(inner) = after.strip_prefix("[[") {
            if let Some(close) = inner.find("]]") {
                let body = &inner[..close];
                out.push_str(&link_text(body));
                rest = &inner[close + 2..];
                continue;
            }
        } else if let Some(inner) = after.strip_prefix('[')
            && URL_SCHEMES
                .iter()
                .any(|p| inner.len() >= p.len() && inner[..p.len()].eq_ignore_ascii_case(p))
            && let Some(close) = inner.find(']')
        {
            let body = &inner[..close];
            if let Some(space) = body.find(' ') {
                out.push_str(&body[space + 1..]);
            }
            rest = &inner[close + 1..];
            continue;
        }
        out.push('[');
        rest = &after[1..];
    }
    out.push_str(rest);
    out
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
    let mut rest = s;
    loop {
        let next_tag = rest.find('<');
        let next_quote = rest.find("''");
        match (next_tag, next_quote) {
            (None, None) => break,
            (Some(t), q) if q.is_none_or(|q| t < q) => {
                out.push_str(&rest[..t]);
                let after = &rest[t + 1..];
                let is_tag = after
                    .trim_start_matches('/')
                    .starts_with(|c: char| c.is_ascii_alphabetic());
                match after.find('>').filter(|_| is_tag) {
                    Some(end) => {
                        out.push(' ');
                        rest = &after[end + 1..];
                    }
                    None => {
                        out.push('<');
                        rest = after;
                    }
                }
            }
            (_, Some(q)) => {
                out.push_str(&rest[..q]);
                let run = rest[q..].bytes().take_while(|&b| b == b'\'').count();
                rest = &rest[q + run..];
            }
            (Some(_), None) => unreachable!("covered by the arm above"),
        }
    }
    out.push_str(rest);
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
