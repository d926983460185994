//! Reading wikitext the way MediaWiki does: which template calls a page makes, with which
//! parameters, and how a parameter value reads once its markup is gone.
//!
//! [`extract`] is the entry point: one linear pass ([`preprocessor`]) finds every brace
//! element, then each element's name is expanded and classified as a template call, a
//! parser function or a magic word.

mod magic;
pub mod plain;
mod preprocessor;
pub mod title;

use std::ops::Range;

use indexmap::IndexMap;
use serde::Serialize;

use magic::Callee;
use preprocessor::{Element, ElementKind, Outline};
pub use title::Title;

/// A template call as MediaWiki's preprocessor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateCall {
    /// The called page, normalised, without the `Template:` prefix (other namespaces keep
    /// theirs; a main-namespace page keeps its leading colon).
    pub name: String,
    /// Parameters in order of first appearance; positional ones are "1", "2", …; named
    /// names and values are trimmed, positional values are not; a later duplicate wins.
    pub params: IndexMap<String, String>,
    /// Where the call is in the text, from its `{{` to its `}}`.
    #[serde(skip)]
    pub span: Range<usize>,
}

impl TemplateCall {
    /// The called page's title.
    pub fn title(&self) -> Option<Title> {
        Title::parse(&self.name, title::NS_TEMPLATE)
    }
}

/// A parser function call such as `{{#babel:pt-N|en-3}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCall {
    /// The function's name: lower-cased with its `#` (`#babel`), or as written for the
    /// case-sensitive ones (`DISPLAYTITLE`).
    pub name: String,
    /// The arguments: the text after the colon, then every `|` part, trimmed.
    pub args: Vec<String>,
    pub span: Range<usize>,
}

/// Every call a page makes, in document order (an outer call before the calls inside it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    pub templates: Vec<TemplateCall>,
    pub functions: Vec<FunctionCall>,
}

/// The characters PHP's `trim()` removes, which is what MediaWiki trims parameters with.
const PHP_TRIM: &[char] = &[' ', '\t', '\n', '\r', '\0', '\x0b'];

/// Trims a string the way MediaWiki trims named template parameters.
pub fn php_trim(s: &str) -> &str {
    s.trim_matches(PHP_TRIM)
}

/// Finds every template and parser function call on a page.
pub fn extract(text: &str) -> Extraction {
    let outline = preprocessor::outline(text);
    let mut result = Extraction::default();
    for element in &outline.elements {
        if element.kind != ElementKind::Braces {
            continue;
        }
        let Some(first) = element.parts.first() else {
            continue;
        };
        let Some(name) = expand_static(text, &outline, first.start..first.end) else {
            continue;
        };
        let name = php_trim(&name);
        match magic::classify(name, element.parts.len() > 1) {
            Callee::MagicWord(_) => {}
            Callee::Function { name, first } => {
                let mut args = vec![first.to_string()];
                args.extend(
                    element.parts[1..]
                        .iter()
                        .map(|p| php_trim(&text[p.start..p.end]).to_string()),
                );
                result.functions.push(FunctionCall {
                    name,
                    args,
                    span: element.span.clone(),
                });
            }
            Callee::Page(page) => {
                if let Some(title) = Title::parse(page, title::NS_TEMPLATE) {
                    result.templates.push(TemplateCall {
                        name: title.as_call_name(),
                        params: params(text, &outline, element),
                        span: element.span.clone(),
                    });
                }
            }
        }
    }
    result
}

/// Finds every template call on a page (the output of `indexer parse --templates`).
pub fn template_calls(text: &str) -> Vec<TemplateCall> {
    extract(text).templates
}

fn params(text: &str, outline: &Outline, element: &Element) -> IndexMap<String, String> {
    let mut params = IndexMap::new();
    let mut index = 0usize;
    for part in &element.parts[1..] {
        match part.eq {
            Some(eq) => {
                let name = match expand_static(text, outline, part.start..eq) {
                    Some(name) => name,
                    // A name built by another call: MediaWiki would expand it; we keep it raw.
                    None => text[part.start..eq].to_string(),
                };
                let value = php_trim(&text[eq + 1..part.end]);
                params.insert(php_trim(&name).to_string(), value.to_string());
            }
            None => {
                index += 1;
                params.insert(index.to_string(), text[part.start..part.end].to_string());
            }
        }
    }
    params
}

/// Expands a range of text that must not depend on other calls: comments and ignored
/// tags are dropped. `None` when the range holds a brace element or an extension tag.
fn expand_static(text: &str, outline: &Outline, range: Range<usize>) -> Option<String> {
    let inside = |spans: &[Range<usize>]| {
        let first = spans.partition_point(|s| s.start < range.start);
        spans.get(first).is_some_and(|s| s.start < range.end)
    };
    let element_inside = {
        let first = outline
            .elements
            .partition_point(|e| e.span.start < range.start);
        outline
            .elements
            .get(first)
            .is_some_and(|e| e.span.start < range.end)
    };
    if element_inside || inside(&outline.extensions) {
        return None;
    }
    let mut out = String::with_capacity(range.len());
    let mut pos = range.start;
    let first_hole = outline.holes.partition_point(|h| h.start < range.start);
    for hole in outline.holes[first_hole..]
        .iter()
        .take_while(|h| h.start < range.end)
    {
        out.push_str(&text[pos..hole.start]);
        pos = hole.end.min(range.end);
    }
    out.push_str(&text[pos..range.end]);
    Some(out)
}
