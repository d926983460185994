//! Text from profiles on a page, kept from reordering the text around it.
//!
//! People write bidirectional controls into their profiles: overrides (U+202A–U+202E) and
//! isolates (U+2066–U+2069), by mistake or to spoof what a page says. Pages put such text
//! inside `<bdi>` (or an element with `dir`), which isolates it from what comes after,
//! but only while the text itself is balanced: browsers isolate an element by putting an
//! isolate around its text, and a stray pop-directional-isolate (U+2069) written in the
//! text closes that isolate early, so an override after it reverses the rest of the line,
//! other people's words included. [`balance`] makes any text safe to put between isolates:
//! it drops the closing controls that close nothing the text opened and closes what it
//! left open. The web tool's template formatter applies it to every value it prints, and
//! [`isolate`] wraps a value in FSI … PDI where no element can (inside a message, the
//! page's title, a chart label); the on-wiki report balances every value it writes
//! (`report::escape`).

use std::borrow::Cow;

/// First-strong isolate and pop-directional isolate.
pub const FSI: char = '\u{2068}';
pub const PDI: char = '\u{2069}';
const PDF: char = '\u{202C}';

/// How deep the text may nest embeddings and isolates. The bidirectional algorithm allows
/// 125 levels and ignores deeper ones, which would make our count of what is open differ
/// from the browser's; deeper initiators are dropped with their closers.
const MAX_NESTING: usize = 32;

/// Whether `c` is a bidirectional formatting character or mark: ALM, LRM, RLM, the
/// embeddings and overrides with their pop (U+202A–U+202E), the isolates with theirs
/// (U+2066–U+2069).
pub fn is_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Embedding,
    Isolate,
}

/// `text` with its explicit bidirectional controls balanced: every pop closes something the
/// text opened (others are dropped), and everything it opens is closed at its end. Text
/// without such controls is returned as it is.
pub fn balance(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut open: Vec<Open> = Vec::new();
    // Initiators dropped for depth, and how many embeddings of them are still open: their
    // closers are dropped too (as the algorithm's overflow counters would ignore them).
    let mut overflow_isolates = 0usize;
    let mut overflow_embeddings = 0usize;
    for c in text.chars() {
        match c {
            '\u{202A}'..='\u{202B}' | '\u{202D}'..='\u{202E}' => {
                if open.len() < MAX_NESTING && overflow_isolates == 0 {
                    open.push(Open::Embedding);
                    out.push(c);
                } else if overflow_isolates == 0 {
                    overflow_embeddings += 1;
                }
            }
            '\u{2066}'..='\u{2068}' => {
                if open.len() < MAX_NESTING && overflow_isolates == 0 && overflow_embeddings == 0 {
                    open.push(Open::Isolate);
                    out.push(c);
                } else {
                    overflow_isolates += 1;
                }
            }
            PDF if overflow_isolates > 0 => {}
            PDF if overflow_embeddings > 0 => overflow_embeddings -= 1,
            PDF => {
                if open.last() == Some(&Open::Embedding) {
                    open.pop();
                    out.push(c);
                }
            }
            PDI => {
                if overflow_isolates > 0 {
                    overflow_isolates -= 1;
                } else if open.contains(&Open::Isolate) {
                    overflow_embeddings = 0;
                    // A pop-isolate also ends the embeddings opened inside its isolate.
                    while open.pop() == Some(Open::Embedding) {}
                    out.push(c);
                }
            }
            c => out.push(c),
        }
    }
    for o in open.iter().rev() {
        out.push(match o {
            Open::Embedding => PDF,
            Open::Isolate => PDI,
        });
    }
    Cow::Owned(out)
}

/// `text` set apart from the text around it, for places where no element can isolate it:
/// balanced and wrapped in FSI … PDI when it holds bidirectional controls, as it is
/// otherwise.
pub fn isolate(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{FSI}{}{PDI}", balance(text)))
}

/// `text` always wrapped in FSI … PDI, balanced: a label inside a message in any script.
pub fn isolate_always(text: &str) -> String {
    format!("{FSI}{}{PDI}", balance(text))
}

/// Whether a reader cannot see `c`: the default-ignorable code points (zero-width spaces
/// and joiners, the word joiner and invisible operators, the byte-order mark, soft hyphen,
/// variation selectors, fillers, tags) and the bidirectional controls.
pub fn is_invisible(c: char) -> bool {
    is_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2065}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The invisible characters of a name as code points (`U+200B U+2060`), each once, in
/// the order they first appear; `None` when every character can be seen. Pages show it
/// beside the name, so that a look-alike of someone's name can be told from theirs.
pub fn invisible_code_points(name: &str) -> Option<String> {
    let mut seen: Vec<char> = Vec::new();
    for c in name.chars().filter(|&c| is_invisible(c)) {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    (!seen.is_empty()).then(|| {
        seen.iter()
            .map(|c| format!("U+{:04X}", *c as u32))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RLO: char = '\u{202E}';
    const RLI: char = '\u{2067}';

    #[test]
    fn text_without_controls_is_untouched() {
        assert!(matches!(balance("Ana Souza"), Cow::Borrowed("Ana Souza")));
        assert!(matches!(isolate("سارة"), Cow::Borrowed("سارة")));
    }

    #[test]
    fn stray_pops_are_dropped_and_open_controls_closed() {
        // The attack: a stray PDI would close the page's isolate, then the override leaks.
        assert_eq!(
            balance(&format!("{PDI}{RLO}evil")),
            format!("{RLO}evil{PDF}")
        );
        assert_eq!(balance(&format!("{PDF}{PDF}x")), "x");
        assert_eq!(balance(&format!("a{RLI}b")), format!("a{RLI}b{PDI}"));
        assert_eq!(
            balance(&format!("{RLI}{RLO}x{PDI}{PDI}y")),
            format!("{RLI}{RLO}x{PDI}y"),
            "a pop-isolate closes the override inside it; the second closes nothing"
        );
        // A pop-directional-formatting cannot close an isolate.
        assert_eq!(balance(&format!("{RLI}x{PDF}y")), format!("{RLI}xy{PDI}"));
        // Balanced text is kept as it is.
        let fine = format!("{RLI}a{PDI} \u{202B}b{PDF} \u{200F}");
        assert_eq!(balance(&fine), fine);
    }

    #[test]
    fn balancing_is_idempotent_and_bounded_in_depth() {
        let deep: String = std::iter::repeat_n(RLI, 500)
            .chain("x".chars())
            .chain(std::iter::repeat_n(PDI, 700))
            .chain([RLO])
            .collect();
        let once = balance(&deep).into_owned();
        assert_eq!(balance(&once), once);
        let opened = once.chars().filter(|&c| c == RLI).count();
        assert_eq!(opened, MAX_NESTING);
        assert_eq!(once.chars().filter(|&c| c == PDI).count(), MAX_NESTING);
        assert!(once.ends_with(&format!("{RLO}{PDF}")));
    }

    #[test]
    fn isolating_wraps_only_text_with_controls() {
        assert_eq!(
            isolate(&format!("{PDI}{RLO}x")),
            format!("{FSI}{RLO}x{PDF}{PDI}")
        );
        assert_eq!(isolate_always("Lua"), format!("{FSI}Lua{PDI}"));
    }

    #[test]
    fn invisible_characters_are_named_by_code_point() {
        assert_eq!(invisible_code_points("Ana Souza"), None);
        assert_eq!(invisible_code_points("سارة المصري"), None);
        assert_eq!(
            invisible_code_points("\u{FEFF}Ana Sou\u{200B}za\u{200B}"),
            Some("U+FEFF U+200B".into())
        );
        assert_eq!(
            invisible_code_points("Isolde\u{2069}\u{2067}"),
            Some("U+2069 U+2067".into())
        );
    }
}
