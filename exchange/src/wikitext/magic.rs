//! Names that MediaWiki treats as parser functions or magic words rather than templates.
//!
//! `{{lc:X}}`, `{{#if:…}}` and `{{PAGENAME}}` look like template calls but are not; a tool
//! that reports them as calls would, for instance, see a `{{#babel:…}}` box as a template.

/// Prefixes that only change how a template is expanded (`{{subst:Foo}}` calls Foo).
const SUBST_PREFIXES: &[&str] = &["subst:", "safesubst:"];
const MSG_PREFIXES: &[&str] = &["msgnw:", "msg:", "raw:"];

/// Variables, recognised only when the call has no parameters. Case-sensitive.
const VARIABLES: &[&str] = &[
    "!",
    "=",
    "CURRENTMONTH",
    "CURRENTMONTH1",
    "CURRENTMONTH2",
    "CURRENTMONTHNAME",
    "CURRENTMONTHNAMEGEN",
    "CURRENTMONTHABBREV",
    "CURRENTDAY",
    "CURRENTDAY2",
    "CURRENTDAYNAME",
    "CURRENTYEAR",
    "CURRENTTIME",
    "CURRENTHOUR",
    "CURRENTWEEK",
    "CURRENTDOW",
    "CURRENTTIMESTAMP",
    "LOCALMONTH",
    "LOCALMONTH1",
    "LOCALMONTH2",
    "LOCALMONTHNAME",
    "LOCALMONTHNAMEGEN",
    "LOCALMONTHABBREV",
    "LOCALDAY",
    "LOCALDAY2",
    "LOCALDAYNAME",
    "LOCALYEAR",
    "LOCALTIME",
    "LOCALHOUR",
    "LOCALWEEK",
    "LOCALDOW",
    "LOCALTIMESTAMP",
    "NUMBEROFPAGES",
    "NUMBEROFARTICLES",
    "NUMBEROFFILES",
    "NUMBEROFUSERS",
    "NUMBEROFACTIVEUSERS",
    "NUMBEROFEDITS",
    "NUMBEROFADMINS",
    "PAGENAME",
    "PAGENAMEE",
    "FULLPAGENAME",
    "FULLPAGENAMEE",
    "SUBPAGENAME",
    "SUBPAGENAMEE",
    "ROOTPAGENAME",
    "ROOTPAGENAMEE",
    "BASEPAGENAME",
    "BASEPAGENAMEE",
    "TALKPAGENAME",
    "TALKPAGENAMEE",
    "SUBJECTPAGENAME",
    "SUBJECTPAGENAMEE",
    "ARTICLEPAGENAME",
    "ARTICLEPAGENAMEE",
    "NAMESPACE",
    "NAMESPACEE",
    "NAMESPACENUMBER",
    "TALKSPACE",
    "TALKSPACEE",
    "SUBJECTSPACE",
    "SUBJECTSPACEE",
    "ARTICLESPACE",
    "ARTICLESPACEE",
    "SITENAME",
    "CURRENTVERSION",
    "CONTENTLANGUAGE",
    "CONTENTLANG",
    "REVISIONID",
    "REVISIONDAY",
    "REVISIONDAY2",
    "REVISIONMONTH",
    "REVISIONMONTH1",
    "REVISIONYEAR",
    "REVISIONTIMESTAMP",
    "REVISIONUSER",
    "REVISIONSIZE",
    "PAGEID",
    "DIRECTIONMARK",
    "DIRMARK",
    "PAGELANGUAGE",
    "USERLANGUAGE",
];

/// Variables whose names are not case-sensitive.
const VARIABLES_ANY_CASE: &[&str] = &["server", "servername", "scriptpath", "stylepath"];

/// Parser functions without a `#`, case-insensitive.
const FUNCTIONS_ANY_CASE: &[&str] = &[
    "ns",
    "nse",
    "urlencode",
    "lcfirst",
    "ucfirst",
    "lc",
    "uc",
    "localurl",
    "localurle",
    "fullurl",
    "fullurle",
    "canonicalurl",
    "canonicalurle",
    "formatnum",
    "grammar",
    "gender",
    "plural",
    "bidi",
    "padleft",
    "padright",
    "anchorencode",
    "filepath",
    "int",
    "special",
    "speciale",
    "formatdate",
    "dateformat",
    "server",
    "servername",
    "scriptpath",
    "stylepath",
    "noexternallanglinks",
];

/// Parser functions without a `#`, case-sensitive (variables that also take an argument).
const FUNCTIONS_CASED: &[&str] = &[
    "DISPLAYTITLE",
    "DEFAULTSORT",
    "DEFAULTSORTKEY",
    "DEFAULTCATEGORYSORT",
    "PAGESINCATEGORY",
    "PAGESINCAT",
    "PAGESIZE",
    "PROTECTIONLEVEL",
    "PROTECTIONEXPIRY",
    "NUMBERINGROUP",
    "NUMINGROUP",
    "CASCADINGSOURCES",
    "PAGENAME",
    "PAGENAMEE",
    "FULLPAGENAME",
    "FULLPAGENAMEE",
    "SUBPAGENAME",
    "SUBPAGENAMEE",
    "ROOTPAGENAME",
    "ROOTPAGENAMEE",
    "BASEPAGENAME",
    "BASEPAGENAMEE",
    "TALKPAGENAME",
    "TALKPAGENAMEE",
    "SUBJECTPAGENAME",
    "SUBJECTPAGENAMEE",
    "ARTICLEPAGENAME",
    "ARTICLEPAGENAMEE",
    "NAMESPACE",
    "NAMESPACEE",
    "NAMESPACENUMBER",
    "TALKSPACE",
    "TALKSPACEE",
    "SUBJECTSPACE",
    "SUBJECTSPACEE",
    "ARTICLESPACE",
    "ARTICLESPACEE",
    "REVISIONID",
    "REVISIONDAY",
    "REVISIONDAY2",
    "REVISIONMONTH",
    "REVISIONMONTH1",
    "REVISIONYEAR",
    "REVISIONTIMESTAMP",
    "REVISIONUSER",
    "PAGEID",
    "NUMBEROFPAGES",
    "NUMBEROFARTICLES",
    "NUMBEROFFILES",
    "NUMBEROFUSERS",
    "NUMBEROFACTIVEUSERS",
    "NUMBEROFEDITS",
    "CONTENTLANGUAGE",
    "CONTENTLANG",
];

/// What the expanded name of a `{{…}}` turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callee<'a> {
    /// A variable such as `PAGENAME` or `!`.
    MagicWord(&'a str),
    /// A parser function: its name (lower-cased unless case-sensitive) and the text after
    /// the colon, which is its first argument.
    Function { name: String, first: &'a str },
    /// A page to transclude, possibly after `subst:`/`msgnw:` prefixes.
    Page(&'a str),
}

fn strip_prefix_any_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Classifies a trimmed, expanded name as MediaWiki's `braceSubstitution` does.
pub(crate) fn classify(name: &str, has_args: bool) -> Callee<'_> {
    let mut part = name;
    for prefix in SUBST_PREFIXES {
        if let Some(rest) = strip_prefix_any_case(part, prefix) {
            part = rest.trim_start();
            break;
        }
    }
    if !has_args
        && (VARIABLES.contains(&part)
            || VARIABLES_ANY_CASE
                .iter()
                .any(|v| v.eq_ignore_ascii_case(part)))
    {
        return Callee::MagicWord(part);
    }
    for prefix in MSG_PREFIXES {
        if let Some(rest) = strip_prefix_any_case(part, prefix) {
            part = rest.trim_start();
            break;
        }
    }
    if let Some(colon) = part.find(':') {
        let func = part[..colon].trim();
        // MediaWiki trims the first argument with PHP's `trim()`, as every other one.
        let first = super::php_trim(&part[colon + 1..]);
        if func.starts_with('#') {
            return Callee::Function {
                name: func.to_lowercase(),
                first,
            };
        }
        if FUNCTIONS_CASED.contains(&func) {
            return Callee::Function {
                name: func.to_string(),
                first,
            };
        }
        if FUNCTIONS_ANY_CASE
            .iter()
            .any(|f| f.eq_ignore_ascii_case(func))
        {
            return Callee::Function {
                name: func.to_lowercase(),
                first,
            };
        }
    }
    Callee::Page(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_variables_and_pages() {
        assert_eq!(classify("PAGENAME", false), Callee::MagicWord("PAGENAME"));
        assert_eq!(classify("PAGENAME", true), Callee::Page("PAGENAME"));
        assert_eq!(classify("Pagename", false), Callee::Page("Pagename"));
        assert_eq!(classify("!", false), Callee::MagicWord("!"));
        assert!(
            matches!(classify("#babel:pt-N", true), Callee::Function { name, first } if name == "#babel" && first == "pt-N")
        );
        // PHP's trim(): NUL goes, a no-break space stays.
        assert!(
            matches!(classify("#babel:\0pt-N\u{a0}", true), Callee::Function { first, .. } if first == "pt-N\u{a0}")
        );
        assert!(matches!(classify("LC: X", false), Callee::Function { name, .. } if name == "lc"));
        assert_eq!(classify("subst:Foo", false), Callee::Page("Foo"));
        assert_eq!(classify("msgnw:Foo", false), Callee::Page("Foo"));
        assert_eq!(classify("User:Foo", false), Callee::Page("User:Foo"));
        assert!(matches!(
            classify("DISPLAYTITLE:x", false),
            Callee::Function { .. }
        ));
        assert_eq!(
            classify("displaytitle:x", false),
            Callee::Page("displaytitle:x")
        );
    }
}
