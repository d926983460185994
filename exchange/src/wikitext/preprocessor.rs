//! A port of the brace-matching part of MediaWiki's preprocessor (`Preprocessor_Hash`).
//!
//! MediaWiki decides what is a template call with a single left-to-right pass that keeps a
//! stack of open `{{`, `[[`, `-{` and heading pieces. We follow the same rules, in page-view
//! mode (not "for inclusion"), so that a page is read exactly as MediaWiki reads it: a call
//! inside `<nowiki>`, a comment or `<includeonly>` is not a call, `|` inside a link does not
//! split parameters, and unbalanced braces fall back to literal text the same way.
//!
//! Unlike MediaWiki we never copy text into a tree: every construct is a byte range into the
//! page, and names are expanded only at the end. That keeps the pass linear in the page size
//! even for pathological input (thousands of nested or unclosed braces), and the stack lives
//! on the heap, so deep nesting cannot overflow the call stack.

use std::collections::HashSet;
use std::ops::Range;

/// Tags whose content MediaWiki hands to an extension untouched (Meta-Wiki's parser tags).
/// Their content is opaque: no template call can start inside them.
pub(crate) const EXTENSION_TAGS: &[&str] = &[
    "nowiki",
    "pre",
    "gallery",
    "indicator",
    "langconvert",
    "ref",
    "references",
    "math",
    "chem",
    "ce",
    "syntaxhighlight",
    "source",
    "templatedata",
    "templatestyles",
    "timeline",
    "score",
    "graph",
    "mapframe",
    "maplink",
    "poem",
    "hiero",
    "inputbox",
    "categorytree",
    "imagemap",
    "section",
    "charinsert",
    "languages",
    "rss",
    "quiz",
    "dynamicpagelist",
];

/// Tags that are dropped (the tag itself, not its content) when a page is viewed.
const IGNORED_TAGS: &[&str] = &["noinclude", "/noinclude", "onlyinclude", "/onlyinclude"];
/// Elements that are dropped with their content when a page is viewed.
const IGNORED_ELEMENT: &str = "includeonly";
/// Elements that may run to the end of the text when their closing tag is missing.
const ALLOW_MISSING_END_TAG: &[&str] = &["includeonly", "noinclude", "onlyinclude"];

/// What a completed `{{…}}` or `{{{…}}}` is, before its name is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ElementKind {
    /// `{{…}}`: a template call, parser function or magic word.
    Braces,
    /// `{{{…}}}`: a template argument.
    Argument,
}

/// One `|`-separated part of a piece, as byte positions into the text.
#[derive(Debug, Clone)]
pub(crate) struct PartSpan {
    pub start: usize,
    pub end: usize,
    /// Position of the first top-level `=` of the part, which makes it a named parameter.
    pub eq: Option<usize>,
}

/// A completed brace element.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub kind: ElementKind,
    pub span: Range<usize>,
    /// `parts[0]` is the title; the others are the parameters.
    pub parts: Vec<PartSpan>,
}

/// Everything the pass found, each list sorted by start position.
#[derive(Debug, Default)]
pub(crate) struct Outline {
    pub elements: Vec<Element>,
    /// Comments and ignored tags or elements: text that is not there when the page is viewed.
    pub holes: Vec<Range<usize>>,
    /// Extension tags (`<ref>…</ref>`), whose content is opaque.
    pub extensions: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `{{` or `{{{` (MediaWiki's `{` rule).
    Brace,
    /// `[[` (links are kept as literal text, but group their pipes).
    Bracket,
    /// `-{` language-converter markup.
    LangConvert,
    /// `=` at the start of a line: a possible heading, ended by the end of the line.
    Heading,
}

impl Open {
    fn close(self) -> &'static [u8] {
        match self {
            Open::Brace => b"}",
            Open::Bracket => b"]",
            Open::LangConvert => b"}-",
            Open::Heading => b"\n",
        }
    }
    fn min(self) -> usize {
        2
    }
    fn max(self) -> usize {
        match self {
            Open::Brace => 3,
            _ => 2,
        }
    }
    /// Whether a closing run of `count` characters makes an element (and which), mirroring
    /// the `names` table of MediaWiki's rules: `None` when no rule has that length.
    fn names(self, count: usize) -> Option<Option<ElementKind>> {
        match (self, count) {
            (Open::Brace, 2) => Some(Some(ElementKind::Braces)),
            (Open::Brace, 3) => Some(Some(ElementKind::Argument)),
            (Open::Bracket | Open::LangConvert, 2) => Some(None),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Piece {
    open: Open,
    count: usize,
    /// Position of the first opening character.
    start: usize,
    /// A `-` that preceded `{{{…` and may turn the leftover brace into `-{`.
    saved_prefix: bool,
    parts: Vec<PartSpan>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Flags {
    find_pipe: bool,
    find_equals: bool,
    in_heading: bool,
}

fn flags(top: Option<&Piece>) -> Flags {
    match top {
        None => Flags::default(),
        Some(piece) => {
            let find_pipe = piece.open != Open::Heading && piece.open != Open::Bracket;
            Flags {
                find_pipe,
                find_equals: find_pipe
                    && piece.parts.len() > 1
                    && piece.parts.last().is_some_and(|p| p.eq.is_none()),
                in_heading: piece.open == Open::Heading,
            }
        }
    }
}

fn is_pcre_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn count_run(text: &[u8], at: usize, byte: u8, limit: usize) -> usize {
    text.get(at..)
        .unwrap_or_default()
        .iter()
        .take(limit)
        .take_while(|&&b| b == byte)
        .count()
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = text.get(from..)?;
    hay.windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The tag name (as written) of a recognised tag starting right after a `<` at `at`.
fn element_name(text: &[u8], at: usize) -> Option<&[u8]> {
    let rest = text.get(at..)?;
    let candidates = EXTENSION_TAGS
        .iter()
        .chain(IGNORED_TAGS)
        .chain(std::iter::once(&IGNORED_ELEMENT));
    for name in candidates {
        let n = name.len();
        if rest.len() > n && rest[..n].eq_ignore_ascii_case(name.as_bytes()) {
            let next = rest[n];
            if is_pcre_space(next)
                || next == b'>'
                || (next == b'/' && rest.get(n + 1) == Some(&b'>'))
            {
                return Some(&rest[..n]);
            }
        }
    }
    None
}

/// Finds `</name\s*>` (ASCII case-insensitive) from `from`, returning its byte range.
fn find_closing_tag(text: &[u8], from: usize, name: &[u8]) -> Option<Range<usize>> {
    let mut pos = from;
    while let Some(lt) = find(text, pos, b"</") {
        let name_start = lt + 2;
        let name_end = name_start + name.len();
        if text
            .get(name_start..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
        {
            let mut k = name_end;
            while k < text.len() && is_pcre_space(text[k]) {
                k += 1;
            }
            if text.get(k) == Some(&b'>') {
                return Some(lt..k + 1);
            }
        }
        pos = lt + 2;
    }
    None
}

enum Found {
    LineStart,
    LineEnd,
    Pipe,
    Equals,
    Angle,
    Open(Open),
    Close(usize),
}

/// Runs MediaWiki's preprocessor pass over `text` and returns where every construct is.
pub(crate) fn outline(text: &str) -> Outline {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Outline::default();
    let mut stack: Vec<Piece> = Vec::new();
    let mut f = Flags::default();
    let mut i = 0usize;
    let mut fake_line_start = true;
    let mut no_more_gt = false;
    let mut no_more_closing: HashSet<Vec<u8>> = HashSet::new();

    loop {
        let found = if fake_line_start {
            Found::LineStart
        } else {
            let closing: &[u8] = stack.last().map_or(b"", |p| p.open.close());
            let special = |c: u8| {
                matches!(c, b'[' | b'{' | b'<' | b'\n' | b'-')
                    || closing.contains(&c)
                    || (f.find_pipe && c == b'|')
                    || (f.find_equals && c == b'=')
            };
            while i < n && !special(b[i]) {
                i += 1;
            }
            if i >= n {
                if closing == b"\n" {
                    Found::LineEnd
                } else {
                    break;
                }
            } else {
                let c = b[i];
                let two = b.get(i..i + 2);
                if c == b'|' {
                    Found::Pipe
                } else if c == b'=' {
                    Found::Equals
                } else if c == b'<' {
                    Found::Angle
                } else if c == b'\n' {
                    if f.in_heading {
                        Found::LineEnd
                    } else {
                        Found::LineStart
                    }
                } else if closing.len() == 2 && two == Some(closing) {
                    Found::Close(2)
                } else if closing.len() == 1 && c == closing[0] {
                    Found::Close(1)
                } else if two == Some(b"-{") {
                    Found::Open(Open::LangConvert)
                } else if c == b'{' {
                    Found::Open(Open::Brace)
                } else if c == b'[' {
                    Found::Open(Open::Bracket)
                } else {
                    // A '-' not starting "-{", or a '}' that closes nothing: literal.
                    i += 1;
                    continue;
                }
            }
        };

        match found {
            Found::Angle => {
                if b.get(i + 1..i + 4) == Some(b"!--") {
                    match find(b, i + 4, b"-->") {
                        None => {
                            out.holes.push(i..n);
                            i = n;
                        }
                        Some(end) => {
                            out.holes.push(i..end + 3);
                            i = end + 3;
                        }
                    }
                    continue;
                }
                let Some(name) = element_name(b, i + 1) else {
                    i += 1;
                    continue;
                };
                let lower = name.to_ascii_lowercase();
                let attr_start = i + 1 + name.len();
                let tag_end = if no_more_gt {
                    None
                } else {
                    find(b, attr_start, b">")
                };
                let Some(tag_end) = tag_end else {
                    no_more_gt = true;
                    i += 1;
                    continue;
                };
                if IGNORED_TAGS
                    .iter()
                    .any(|t| t.as_bytes() == lower.as_slice())
                {
                    out.holes.push(i..tag_end + 1);
                    i = tag_end + 1;
                    continue;
                }
                let tag_start = i;
                if b[tag_end - 1] == b'/' {
                    i = tag_end + 1;
                } else {
                    let close = if no_more_closing.contains(&lower) {
                        None
                    } else {
                        find_closing_tag(b, tag_end + 1, name)
                    };
                    match close {
                        Some(close) => i = close.end,
                        None => {
                            // MediaWiki compares the name as written here, not lower-cased.
                            if ALLOW_MISSING_END_TAG.iter().any(|t| t.as_bytes() == name) {
                                i = n;
                            } else {
                                i = tag_end + 1;
                                no_more_closing.insert(lower);
                                continue;
                            }
                        }
                    }
                }
                if lower == IGNORED_ELEMENT.as_bytes() {
                    out.holes.push(tag_start..i);
                } else {
                    out.extensions.push(tag_start..i);
                }
            }
            Found::LineStart => {
                if fake_line_start {
                    fake_line_start = false;
                } else {
                    i += 1;
                }
                let count = count_run(b, i, b'=', 6);
                if count == 1 && f.find_equals {
                    // Looks like a name/value separator: the equals handler takes it.
                } else if count > 0 {
                    stack.push(Piece {
                        open: Open::Heading,
                        count,
                        start: i,
                        saved_prefix: false,
                        parts: vec![PartSpan {
                            start: i,
                            end: i,
                            eq: None,
                        }],
                    });
                    f = flags(stack.last());
                    i += count;
                }
            }
            Found::LineEnd => {
                // The heading's text stays literal text of the enclosing piece. The line
                // break is looked at again, as a line start, on the next turn.
                stack.pop();
                f = flags(stack.last());
                if i >= n {
                    continue;
                }
            }
            Found::Open(open) => {
                let (mut open, mut count) = if open == Open::LangConvert {
                    (open, count_run(b, i + 1, b'{', usize::MAX) + 1)
                } else {
                    (open, count_run(b, i, b[i], usize::MAX))
                };
                let mut saved_prefix = false;
                if open == Open::LangConvert && count > 2 {
                    // "-{{…": the rightmost rule wins, so this is braces after a literal '-'.
                    saved_prefix = true;
                    i += 1;
                    open = Open::Brace;
                    count -= 1;
                }
                if count >= open.min() {
                    stack.push(Piece {
                        open,
                        count,
                        start: i,
                        saved_prefix,
                        parts: vec![PartSpan {
                            start: i + count,
                            end: i + count,
                            eq: None,
                        }],
                    });
                    f = flags(stack.last());
                }
                i += count;
            }
            Found::Close(width) => {
                let Some(mut piece) = stack.pop() else {
                    i += 1;
                    continue;
                };
                // MediaWiki counts up to the whole run still open, which is quadratic for
                // long balanced runs; counting one past the longest rule gives the same match.
                let count = if width > 1 {
                    width
                } else {
                    count_run(b, i, b[i], piece.count.min(piece.open.max() + 1))
                };
                let matching = if count > piece.open.max() {
                    piece.open.max()
                } else {
                    let mut m = count;
                    while m > 0 && piece.open.names(m).is_none() {
                        m -= 1;
                    }
                    m
                };
                if matching == 0 {
                    stack.push(piece);
                    i += count;
                    continue;
                }
                if let Some(Some(kind)) = piece.open.names(matching) {
                    if let Some(last) = piece.parts.last_mut() {
                        last.end = i;
                    }
                    out.elements.push(Element {
                        kind,
                        span: piece.start + piece.count - matching..i + matching,
                        parts: std::mem::take(&mut piece.parts),
                    });
                }
                i += matching;
                if matching < piece.count {
                    piece.count -= matching;
                    let content = piece.start + piece.count;
                    piece.parts = vec![PartSpan {
                        start: content,
                        end: content,
                        eq: None,
                    }];
                    if piece.count >= piece.open.min() {
                        stack.push(piece);
                    } else if piece.count == 1 && piece.open == Open::Brace && piece.saved_prefix {
                        stack.push(Piece {
                            open: Open::LangConvert,
                            count: 2,
                            start: piece.start - 1,
                            saved_prefix: false,
                            parts: piece.parts,
                        });
                    }
                }
                f = flags(stack.last());
            }
            Found::Pipe => {
                if let Some(top) = stack.last_mut() {
                    if let Some(last) = top.parts.last_mut() {
                        last.end = i;
                    }
                    top.parts.push(PartSpan {
                        start: i + 1,
                        end: i + 1,
                        eq: None,
                    });
                }
                f.find_equals = true;
                i += 1;
            }
            Found::Equals => {
                if let Some(part) = stack.last_mut().and_then(|t| t.parts.last_mut()) {
                    part.eq = Some(i);
                }
                f.find_equals = false;
                i += 1;
            }
        }
    }
    // Unclosed pieces left on the stack are literal text: nothing to record.
    out.elements.sort_by_key(|e| e.span.start);
    out
}
