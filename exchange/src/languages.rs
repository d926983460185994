//! Language codes (as Babel and MediaWiki use them) with their names and writing direction.
//!
//! The table is data (`data/languages.tsv`). A code not in it is still kept on a profile
//! (Babel accepts codes we may not know), with a warning.

use std::collections::HashMap;
use std::sync::OnceLock;

/// A language the wikis know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageInfo {
    pub code: String,
    /// The English name.
    pub name: String,
    /// The name in the language itself.
    pub autonym: String,
    pub rtl: bool,
}

fn table() -> &'static HashMap<String, LanguageInfo> {
    static TABLE: OnceLock<HashMap<String, LanguageInfo>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/languages.tsv")
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut cols = line.split('\t');
                let info = LanguageInfo {
                    code: cols.next()?.to_string(),
                    name: cols.next()?.to_string(),
                    autonym: cols.next()?.to_string(),
                    rtl: cols.next()? == "rtl",
                };
                Some((info.code.clone(), info))
            })
            .collect()
    })
}

/// Looks up a language code (case-insensitive).
pub fn language(code: &str) -> Option<&'static LanguageInfo> {
    table().get(&code.to_ascii_lowercase())
}

/// Whether `code` has the shape of a language code (`pt`, `zh-hans`, `be-tarask`).
pub fn is_well_formed(code: &str) -> bool {
    let mut parts = code.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(language("pt").map(|l| l.name.as_str()), Some("Portuguese"));
        assert!(language("ar").is_some_and(|l| l.rtl));
        assert!(language("en").is_some_and(|l| !l.rtl));
        assert!(language("PT-BR").is_some());
        assert!(language("xx-nonsense").is_none());
        assert!(is_well_formed("zh-hans") && is_well_formed("be-tarask") && !is_well_formed("P"));
    }
}
