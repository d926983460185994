//! The comparison key for names people type: case-, accent- and punctuation-insensitive.
//!
//! "Módulos Lua", "modulos lua" and "MODULOS-LUA" must find the same skill; so must
//! "Côte d'Ivoire" and "Cote d Ivoire". Everything that matches names goes through here.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds a name to its comparison key: decomposed, marks dropped, lower-cased, every run
/// of non-alphanumeric characters turned into one space, trimmed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("Módulos  Lua"), "modulos lua");
        assert_eq!(fold("MODULOS-LUA!"), "modulos lua");
        assert_eq!(fold("Côte d'Ivoire"), "cote d ivoire");
        assert_eq!(fold("وحدات لوا"), "وحدات لوا");
        assert_eq!(fold(""), "");
    }
}
