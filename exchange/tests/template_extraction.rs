//! Specification of `exchange::wikitext::template_calls`.
//!
//! The extractor must see template calls exactly the way MediaWiki's
//! preprocessor (`Preprocessor_Hash::buildDomTreeArrayFromText`, MediaWiki
//! 1.39+, page view — i.e. *not* `DOM_FOR_INCLUSION`) builds its
//! `<template>` nodes, combined with the classification that
//! `Parser::braceSubstitution` applies to a node's title (variables, parser
//! functions, `subst:`, title normalisation via `Title::newFromText`).
//!
//! Reading guide for the expectations below:
//! * the preprocessor scans for `{`, `[`, `<`, `\n`, `-` plus the closing
//!   string of the innermost open construct, plus `|` when that construct
//!   takes parts (templates, template arguments, `-{ }-`, but *not* links or
//!   headings) and `=` for the first `=` of a part;
//! * `{{` … `}}` is a template, `{{{` … `}}}` a template argument, `[[` … `]]`
//!   a link (no node, but it groups its contents), `-{` … `}-` a language
//!   converter block (no node, but it groups its contents);
//! * anything that is still open at the end of the text falls back to
//!   literal text, but nodes completed inside it survive;
//! * `<!-- -->` and registered extension tags are swallowed whole before any
//!   of the above is looked for inside them.
//!
//! Values are reported as the raw wikitext of the part (positional values
//! untrimmed, named names/values trimmed of ASCII whitespace at the ends).

use exchange::wikitext::template_calls;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

type Call = (String, Vec<(String, String)>);

/// Every call as `(name, [(param name, raw value)])`, in reported order.
fn calls(text: &str) -> Vec<Call> {
    template_calls(text)
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect()
}

fn names(text: &str) -> Vec<String> {
    template_calls(text)
        .iter()
        .map(|c| c.name.clone())
        .collect()
}

/// Asserts the complete result: names, parameter names, values and order.
#[track_caller]
fn check(text: &str, expected: Vec<(&str, Vec<(&str, &str)>)>) {
    let want: Vec<Call> = expected
        .into_iter()
        .map(|(n, ps)| {
            (
                n.to_string(),
                ps.into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(calls(text), want, "\n  input: {text:?}");
}

/// Asserts only the names of the reported calls, in order.
#[track_caller]
fn check_names(text: &str, expected: &[&str]) {
    assert_eq!(names(text), expected, "\n  input: {text:?}");
}

/// Asserts that no call at all is reported.
#[track_caller]
fn check_none(text: &str) {
    assert_eq!(calls(text), Vec::<Call>::new(), "\n  input: {text:?}");
}

/// Asserts the parameter names of the single reported call.
#[track_caller]
fn check_single_keys(text: &str, name: &str, keys: &[&str]) {
    let got = calls(text);
    assert_eq!(got.len(), 1, "\n  input: {text:?}\n  got: {got:?}");
    assert_eq!(got[0].0, name, "\n  input: {text:?}");
    let got_keys: Vec<&str> = got[0].1.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(got_keys, keys, "\n  input: {text:?}\n  got: {got:?}");
}

const ASCII_WS: &[char] = &[' ', '\t', '\n', '\r', '\0', '\x0B'];

/// Properties that must hold for any input whatsoever.
#[track_caller]
fn assert_sane(text: &str) {
    let first = template_calls(text);
    let opening_braces = text.bytes().filter(|&b| b == b'{').count();
    assert!(
        first.len() * 2 <= opening_braces,
        "{} calls reported but only {} '{{' in the text",
        first.len(),
        opening_braces
    );
    for call in &first {
        let name = &call.name;
        assert!(!name.is_empty(), "empty name reported for input {text:?}");
        assert!(
            !name.contains(['<', '>', '[', ']', '{', '}', '|', '#', '_']),
            "name {name:?} contains a character that cannot be in a normalised title (input {text:?})"
        );
        assert!(
            !name.starts_with(' ') && !name.ends_with(' ') && !name.contains("  "),
            "name {name:?} is not whitespace-normalised (input {text:?})"
        );
        for (k, _) in call.params.iter() {
            assert_eq!(
                k.trim_matches(ASCII_WS),
                k.as_str(),
                "parameter name {k:?} not trimmed (input {text:?})"
            );
        }
    }
    // Deterministic.
    let again = calls(text);
    let first: Vec<Call> = first
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(first, again, "non-deterministic result for {text:?}");
}

/// A tiny deterministic PRNG (Knuth's MMIX LCG) so the fuzz-ish tests are reproducible.
struct Lcg(u64);

impl Lcg {
    fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
}

const PROFILE: &str = "{{Capacity Exchange profile
| offers       = Lua; Wikidata queries; event organizing
| wants        = grant writing; Commons batch uploads
| knows        = Wikidata
| languages    = pt-N, en-3, es-1
| country      = BR
| timezone     = America/Sao_Paulo
| affiliations = Wiki Movimento Brasil
| projects     = pt.wikipedia, wikidata, commons
| formats      = mentoring, one-on-one, workshop
| availability = 2 hours a month
| contact      = talk, email
| bio          = Organizer of edit-a-thons in Recife.
| status       = active
}}";

fn profile_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("offers", "Lua; Wikidata queries; event organizing"),
        ("wants", "grant writing; Commons batch uploads"),
        ("knows", "Wikidata"),
        ("languages", "pt-N, en-3, es-1"),
        ("country", "BR"),
        ("timezone", "America/Sao_Paulo"),
        ("affiliations", "Wiki Movimento Brasil"),
        ("projects", "pt.wikipedia, wikidata, commons"),
        ("formats", "mentoring, one-on-one, workshop"),
        ("availability", "2 hours a month"),
        ("contact", "talk, email"),
        ("bio", "Organizer of edit-a-thons in Recife."),
        ("status", "active"),
    ]
}

// ---------------------------------------------------------------------------
// Basics and document order
// ---------------------------------------------------------------------------

#[test]
fn empty_and_plain_text_have_no_calls() {
    check_none("");
    check_none("Just some text, with a [[link]] and '''bold'''.");
    check_none("{ } { } single braces | pipes = equals");
}

#[test]
fn simple_call_without_params() {
    check("{{Foo}}", vec![("Foo", vec![])]);
}

#[test]
fn simple_call_surrounded_by_text() {
    check("before {{Foo}} after", vec![("Foo", vec![])]);
}

#[test]
fn sibling_calls_in_document_order() {
    check_names("{{B}} text {{A}}\n{{C}}", &["B", "A", "C"]);
}

// The outer call starts first, so it is reported before the calls nested in
// its parameters, even though MediaWiki completes the inner node first.
#[test]
fn outer_call_is_reported_before_nested_calls() {
    check_names("{{A|{{B|{{C}}}}}}{{D}}", &["A", "B", "C", "D"]);
}

#[test]
fn nested_calls_with_their_own_params() {
    check(
        "{{Foo|{{Bar|x|y}}|z}}",
        vec![
            ("Foo", vec![("1", "{{Bar|x|y}}"), ("2", "z")]),
            ("Bar", vec![("1", "x"), ("2", "y")]),
        ],
    );
}

#[test]
fn nested_call_in_named_value() {
    check(
        "{{Foo|a={{Bar|b=c}}}}",
        vec![
            ("Foo", vec![("a", "{{Bar|b=c}}")]),
            ("Bar", vec![("b", "c")]),
        ],
    );
}

#[test]
fn calls_inside_links_are_reported() {
    check(
        "[[File:X.jpg|thumb|A {{Foo|y}} caption]] {{Bar}}",
        vec![("Foo", vec![("1", "y")]), ("Bar", vec![])],
    );
}

#[test]
fn calls_inside_tables_are_reported() {
    check(
        "{| class=\"wikitable\"\n|-\n| {{Foo|a}} || b\n|}",
        vec![("Foo", vec![("1", "a")])],
    );
}

#[test]
fn non_ascii_text_around_and_inside_calls() {
    check(
        "Olá — {{ölçü| ş = ğ |値}} ✓",
        vec![("Ölçü", vec![("ş", "ğ"), ("1", "値")])],
    );
    check("{{日本語|値}}", vec![("日本語", vec![("1", "値")])]);
}

// ---------------------------------------------------------------------------
// Template names (Title::newFromText( $part1, NS_TEMPLATE ))
// ---------------------------------------------------------------------------

#[test]
fn name_is_trimmed() {
    check_names("{{  Foo  }}", &["Foo"]);
    check_names("{{\nFoo\n|a}}", &["Foo"]);
    check_names("{{Foo |a}}", &["Foo"]);
}

#[test]
fn name_first_letter_is_uppercased() {
    check_names("{{foo}}", &["Foo"]);
    check_names("{{foo Bar}}", &["Foo Bar"]);
    check_names(
        "{{capacity exchange profile}}",
        &["Capacity exchange profile"],
    );
}

#[test]
fn name_first_letter_uppercased_beyond_ascii() {
    check_names("{{école}}", &["École"]);
}

#[test]
fn name_rest_keeps_its_case() {
    check_names("{{FOO}}", &["FOO"]);
    check_names("{{Foo/bar Baz}}", &["Foo/bar Baz"]);
}

#[test]
fn name_underscores_are_spaces_and_runs_collapse() {
    check_names("{{Foo_bar}}", &["Foo bar"]);
    check_names("{{Foo   bar}}", &["Foo bar"]);
    check_names("{{Foo _ _bar}}", &["Foo bar"]);
    check_names("{{_Foo_}}", &["Foo"]);
    check_names(
        "{{ Capacity_Exchange_profile }}",
        &["Capacity Exchange profile"],
    );
}

#[test]
fn template_prefix_is_removed() {
    check_names("{{Template:Foo}}", &["Foo"]);
    check_names("{{template:foo}}", &["Foo"]);
    check_names("{{TEMPLATE:Foo}}", &["Foo"]);
    check_names(
        "{{Template:Capacity Exchange profile|a=b}}",
        &["Capacity Exchange profile"],
    );
}

#[test]
fn template_prefix_with_spaces_around_colon() {
    check_names("{{ template : foo_bar }}", &["Foo bar"]);
    check_names("{{Template_:_Foo}}", &["Foo"]);
}

#[test]
fn other_namespace_keeps_canonical_prefix() {
    check_names("{{User:Example/box}}", &["User:Example/box"]);
    check_names("{{user:example/box}}", &["User:Example/box"]);
    check_names("{{USER:x}}", &["User:X"]);
    check_names("{{Help:Foo}}", &["Help:Foo"]);
    check_names("{{Talk:Foo}}", &["Talk:Foo"]);
    check_names("{{mediawiki:foo}}", &["MediaWiki:Foo"]);
}

#[test]
fn multi_word_namespaces() {
    check_names("{{User talk:X}}", &["User talk:X"]);
    check_names("{{user_talk:x}}", &["User talk:X"]);
    // Template talk is a different namespace: its prefix is kept.
    check_names("{{Template talk:Foo}}", &["Template talk:Foo"]);
}

// A prefix that is neither a namespace nor a parser function is part of the
// title of a page in the Template namespace.
#[test]
fn unknown_prefix_is_part_of_the_template_name() {
    check_names("{{Capacity Exchange:box}}", &["Capacity Exchange:box"]);
}

#[test]
fn leading_colon_means_main_namespace() {
    check_names("{{:Main Page}}", &[":Main Page"]);
    check_names("{{:main_page}}", &[":Main page"]);
    check_names("{{ :Foo }}", &[":Foo"]);
}

#[test]
fn subst_safesubst_msgnw_prefixes_are_removed() {
    check_names("{{subst:Foo}}", &["Foo"]);
    check_names("{{safesubst:Foo|a}}", &["Foo"]);
    check_names("{{msgnw:Foo}}", &["Foo"]);
    check_names("{{SUBST:foo}}", &["Foo"]);
    check_names("{{ subst: Foo }}", &["Foo"]);
    check_names("{{subst:Template:Foo}}", &["Foo"]);
}

#[test]
fn subst_keeps_params() {
    check(
        "{{safesubst:Foo|a|b=c}}",
        vec![("Foo", vec![("1", "a"), ("b", "c")])],
    );
}

#[test]
fn subst_of_a_magic_word_or_function_is_not_a_call() {
    check_none("{{subst:PAGENAME}}");
    check_names("{{subst:#if:x|{{Bar}}}}", &["Bar"]);
}

#[test]
fn fragment_is_dropped() {
    check_names("{{Foo#bar}}", &["Foo"]);
    check("{{Foo#bar|x}}", vec![("Foo", vec![("1", "x")])]);
    check_names("{{User:X#y}}", &["User:X"]);
}

// Comments are removed when the title node is expanded.
#[test]
fn comments_in_name_are_ignored() {
    check("{{Foo<!-- x -->|a}}", vec![("Foo", vec![("1", "a")])]);
    check_names("{{<!-- x -->Foo}}", &["Foo"]);
    check_names("{{Foo <!-- x --> |a}}", &["Foo"]);
    check_names("{{Foo<!-- x -->bar}}", &["Foobar"]);
}

// `<includeonly>` content is dropped in page view, also inside a name:
// the common `{{<includeonly>subst:</includeonly>Foo}}` idiom is `{{Foo}}`.
#[test]
fn includeonly_in_name_is_dropped() {
    check_names("{{<includeonly>subst:</includeonly>Foo}}", &["Foo"]);
    check(
        "{{Foo<includeonly>|x</includeonly>}}",
        vec![("Foo", vec![])],
    );
}

#[test]
fn empty_name_is_not_a_call() {
    check_none("{{}}");
    check_none("{{ }}");
    check_none("{{|a|b=c}}");
    check_none("{{<!-- only a comment -->}}");
    check_none("{{Template:}}");
}

#[test]
fn name_with_illegal_title_characters_is_not_a_call() {
    check_none("{{Foo<bar}}");
    check_none("{{Foo<span>}}");
    check_none("{{Foo>bar}}");
    check_none("{{Foo[1]}}");
    check_none("{{[[Foo]]}}");
    check_none("{{Foo]]}}");
    check_none("{{Foo}bar}}");
    check_none("{{Foo{bar}}");
    check_none("{{Foo<nowiki>bar</nowiki>}}");
}

#[test]
fn dynamic_name_with_nested_call_reports_only_inner() {
    check_names("{{Foo{{Bar}}}}", &["Bar"]);
    check_names("{{ {{Bar}} |x}}", &["Bar"]);
    check_names("{{{{A}}|{{B}}}}", &["A", "B"]);
}

#[test]
fn dynamic_name_with_template_argument_is_not_reported() {
    check_none("{{Foo/{{{lang}}}}}");
    check_none("{{Foo{{{1}}}}}");
    check_none("{{{{{1}}}|x}}");
    check_none("{{Foo/{{{lang|en}}}}}");
}

#[test]
fn dynamic_name_with_magic_word_is_not_reported() {
    check_none("{{Foo/{{PAGENAME}}}}");
}

// ---------------------------------------------------------------------------
// Variables and parser functions (Parser::braceSubstitution)
// ---------------------------------------------------------------------------

#[test]
fn variables_are_not_calls() {
    for v in [
        "{{PAGENAME}}",
        "{{CURRENTYEAR}}",
        "{{NAMESPACE}}",
        "{{SITENAME}}",
        "{{FULLPAGENAME}}",
        "{{BASEPAGENAME}}",
        "{{SUBPAGENAME}}",
        "{{TALKPAGENAME}}",
        "{{PAGENAMEE}}",
        "{{CURRENTMONTH}}",
        "{{CURRENTDAY}}",
        "{{CURRENTTIMESTAMP}}",
        "{{REVISIONID}}",
        "{{NUMBEROFARTICLES}}",
        "{{SERVER}}",
    ] {
        check_none(v);
    }
}

#[test]
fn variables_are_recognised_after_trimming() {
    check_none("{{ PAGENAME }}");
    check_none("{{\nCURRENTYEAR\n}}");
}

#[test]
fn pipe_and_equals_magic_words_are_not_calls() {
    check_none("{{!}}");
    check_none("{{=}}");
}

// Variables are case-sensitive magic words: other spellings are templates.
#[test]
fn variables_are_case_sensitive() {
    check_names("{{Pagename}}", &["Pagename"]);
    check_names("{{pagename}}", &["Pagename"]);
    check_names("{{currentyear}}", &["Currentyear"]);
}

#[test]
fn magic_word_with_colon_argument_is_not_a_call() {
    check_none("{{PAGENAME:X}}");
    check_none("{{PAGENAME:Some page}}");
}

#[test]
fn hash_parser_functions_are_not_calls() {
    check_none("{{#if:x|a|b}}");
    check_none("{{#babel:pt-N|en-3}}");
    check_none("{{#invoke:Foo|main|a=b}}");
    check_none("{{#switch:x|a=1|#default=2}}");
    check_none("{{#ifeq:a|b|c|d}}");
    check_none("{{#expr:1+2}}");
    check_none("{{#time:Y}}");
    check_none("{{#tag:ref|text}}");
    check_none("{{#language:pt}}");
    check_none("{{ #if: x | y }}");
}

#[test]
fn core_parser_functions_are_not_calls() {
    for f in [
        "{{lc:FOO}}",
        "{{uc:foo}}",
        "{{ucfirst:foo}}",
        "{{lcfirst:Foo}}",
        "{{urlencode:a b}}",
        "{{anchorencode:a b}}",
        "{{int:lang}}",
        "{{DISPLAYTITLE:Foo}}",
        "{{DEFAULTSORT:Foo}}",
        "{{formatnum:1234}}",
        "{{padleft:7|3|0}}",
        "{{padright:7|3|0}}",
        "{{ns:4}}",
        "{{fullurl:Foo|action=edit}}",
        "{{localurl:Foo}}",
        "{{plural:2|is|are}}",
        "{{gender:Foo|he|she}}",
        "{{grammar:genitive|Foo}}",
    ] {
        check_none(f);
    }
}

// Functions registered as case-insensitive magic words work in any case.
#[test]
fn case_insensitive_parser_functions() {
    check_none("{{LC:Foo}}");
    check_none("{{Urlencode:x}}");
    check_none("{{Int:Lang}}");
    check_none("{{#IF:x|y}}");
}

// `{{#foo:…}}` that is no registered function falls through to a title
// starting with a fragment, which is invalid: still not a call.
#[test]
fn unknown_hash_function_is_not_a_call() {
    check_none("{{#unknownfunction:x|y}}");
}

#[test]
fn calls_nested_in_parser_function_arguments_are_reported() {
    check(
        "{{#if:{{Foo}}|{{Bar|x}}|{{Baz}}}}",
        vec![("Foo", vec![]), ("Bar", vec![("1", "x")]), ("Baz", vec![])],
    );
    check_names("{{#IF:x|{{Foo}}}}", &["Foo"]);
    check_names("{{lc:{{Foo}}}}", &["Foo"]);
    check_names("{{urlencode:{{Foo}}}}", &["Foo"]);
    check_names("{{padleft:{{Foo}}|5|0}}", &["Foo"]);
    check_names("{{DISPLAYTITLE:{{Foo}}}}", &["Foo"]);
    check_names("{{#invoke:Mod|main|{{Foo|a}}}}", &["Foo"]);
    check_names("{{#tag:ref|{{Cite web|url=x}}}}", &["Cite web"]);
    check_names("{{PAGENAME:{{Foo}}}}", &["Foo"]);
}

#[test]
fn magic_words_inside_call_params_are_kept_raw() {
    check(
        "{{Foo|{{PAGENAME}}}}",
        vec![("Foo", vec![("1", "{{PAGENAME}}")])],
    );
}

// ---------------------------------------------------------------------------
// Template arguments {{{…}}}
// ---------------------------------------------------------------------------

#[test]
fn template_arguments_are_not_calls() {
    check_none("{{{param}}}");
    check_none("{{{1|default}}}");
    check_none("{{{1|}}}");
}

#[test]
fn calls_in_template_argument_defaults_are_reported() {
    check_names("{{{1|{{Foo}}}}}", &["Foo"]);
    check("{{{a|{{{b|{{Foo|x}}}}}}}}", vec![("Foo", vec![("1", "x")])]);
}

#[test]
fn template_argument_inside_call_is_raw_value() {
    check("{{Foo|{{{1}}}}}", vec![("Foo", vec![("1", "{{{1}}}")])]);
    check(
        "{{Foo|{{{1|x=y}}}}}",
        vec![("Foo", vec![("1", "{{{1|x=y}}}")])],
    );
    check("{{Foo|a={{{a|}}}}}", vec![("Foo", vec![("a", "{{{a|}}}")])]);
}

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

#[test]
fn positional_params_are_numbered() {
    check(
        "{{Foo|a|b|c}}",
        vec![("Foo", vec![("1", "a"), ("2", "b"), ("3", "c")])],
    );
}

#[test]
fn positional_values_are_not_trimmed() {
    check(
        "{{Foo| a |b}}",
        vec![("Foo", vec![("1", " a "), ("2", "b")])],
    );
    check("{{Foo|\n a\n}}", vec![("Foo", vec![("1", "\n a\n")])]);
}

#[test]
fn empty_positional_params() {
    check("{{Foo|}}", vec![("Foo", vec![("1", "")])]);
    check("{{Foo||}}", vec![("Foo", vec![("1", ""), ("2", "")])]);
    check("{{Foo|a|}}", vec![("Foo", vec![("1", "a"), ("2", "")])]);
}

#[test]
fn named_params_are_trimmed() {
    check("{{Foo| a = b }}", vec![("Foo", vec![("a", "b")])]);
    check("{{Foo|a=\n b \n}}", vec![("Foo", vec![("a", "b")])]);
    check(
        "{{Foo\n|a=1\n|b=2\n}}",
        vec![("Foo", vec![("a", "1"), ("b", "2")])],
    );
}

#[test]
fn named_params_trim_all_ascii_whitespace() {
    check("{{Foo|\ta\x0B=\r b\0}}", vec![("Foo", vec![("a", "b")])]);
    check("{{Foo\r\n| a = b\r\n}}", vec![("Foo", vec![("a", "b")])]);
}

// PHP's trim() only knows ASCII whitespace; a no-break space stays.
#[test]
fn named_params_keep_non_ascii_whitespace() {
    check(
        "{{Foo|a=\u{a0}b\u{a0}}}",
        vec![("Foo", vec![("a", "\u{a0}b\u{a0}")])],
    );
    check(
        "{{Foo|\u{a0}x\u{a0}}}",
        vec![("Foo", vec![("1", "\u{a0}x\u{a0}")])],
    );
}

#[test]
fn named_params_trim_only_the_ends() {
    check(
        "{{Foo| full name = Ana  Maria \n}}",
        vec![("Foo", vec![("full name", "Ana  Maria")])],
    );
}

#[test]
fn empty_named_value() {
    check("{{Foo|a=}}", vec![("Foo", vec![("a", "")])]);
    check(
        "{{Foo|a= \n|b=x}}",
        vec![("Foo", vec![("a", ""), ("b", "x")])],
    );
}

#[test]
fn named_param_splits_at_first_equals() {
    check("{{Foo|a=b=c}}", vec![("Foo", vec![("a", "b=c")])]);
    check(
        "{{Foo|url=https://example.org/?a=b&c=d}}",
        vec![("Foo", vec![("url", "https://example.org/?a=b&c=d")])],
    );
}

// The classic gotcha: an unnamed URL with a query string becomes named.
#[test]
fn equals_in_positional_text_makes_it_named() {
    check(
        "{{Foo|https://example.org/?a=b}}",
        vec![("Foo", vec![("https://example.org/?a", "b")])],
    );
}

#[test]
fn positional_counting_skips_named_params() {
    check(
        "{{Foo|a=1|x|b=2|y}}",
        vec![("Foo", vec![("a", "1"), ("1", "x"), ("b", "2"), ("2", "y")])],
    );
    check(
        "{{Foo|a|b=c|d}}",
        vec![("Foo", vec![("1", "a"), ("b", "c"), ("2", "d")])],
    );
}

#[test]
fn explicitly_numbered_params() {
    check(
        "{{Foo|1=a|2=b}}",
        vec![("Foo", vec![("1", "a"), ("2", "b")])],
    );
    check(
        "{{Foo| 2 = b | a }}",
        vec![("Foo", vec![("2", "b"), ("1", " a ")])],
    );
}

// PPFrame: later duplicates overwrite earlier ones; IndexMap keeps the
// position of the first insertion.
#[test]
fn duplicate_named_param_later_wins() {
    check("{{Foo|a=1|a=2}}", vec![("Foo", vec![("a", "2")])]);
    check(
        "{{Foo|a=1|b=2|a=3}}",
        vec![("Foo", vec![("a", "3"), ("b", "2")])],
    );
}

#[test]
fn duplicate_positional_and_numbered_later_wins() {
    check("{{Foo|x|1=y}}", vec![("Foo", vec![("1", "y")])]);
    check("{{Foo|1=y|x}}", vec![("Foo", vec![("1", "x")])]);
}

#[test]
fn values_keep_raw_wikitext() {
    check(
        "{{Foo|a [[b|c]] {{Bar}} <nowiki>d</nowiki> ''e''}}",
        vec![
            (
                "Foo",
                vec![("1", "a [[b|c]] {{Bar}} <nowiki>d</nowiki> ''e''")],
            ),
            ("Bar", vec![]),
        ],
    );
}

#[test]
fn named_value_keeps_comments_but_is_trimmed() {
    check(
        "{{Foo|a = x <!-- note -->\n}}",
        vec![("Foo", vec![("a", "x <!-- note -->")])],
    );
}

// Named parameter names are expanded with PPFrame::STRIP_COMMENTS, then trimmed.
#[test]
fn comments_are_removed_from_param_names() {
    check("{{Foo| a <!--c--> = b}}", vec![("Foo", vec![("a", "b")])]);
    check("{{Foo|a<!-- = -->=b}}", vec![("Foo", vec![("a", "b")])]);
}

#[test]
fn pipes_in_links_do_not_split() {
    check(
        "{{Foo|[[a|b]]|c}}",
        vec![("Foo", vec![("1", "[[a|b]]"), ("2", "c")])],
    );
}

#[test]
fn equals_in_links_does_not_make_named() {
    check("{{Foo|[[a=b]]}}", vec![("Foo", vec![("1", "[[a=b]]")])]);
    check(
        "{{Foo|[[File:X.jpg|alt=Y]]}}",
        vec![("Foo", vec![("1", "[[File:X.jpg|alt=Y]]")])],
    );
}

#[test]
fn calls_inside_links_inside_params() {
    check(
        "{{Foo|[[a|{{Bar|b}}]]|c}}",
        vec![
            ("Foo", vec![("1", "[[a|{{Bar|b}}]]"), ("2", "c")]),
            ("Bar", vec![("1", "b")]),
        ],
    );
}

// A single `[` is plain text: external links do not protect pipes.
#[test]
fn single_brackets_do_not_group() {
    check(
        "{{Foo|[http://x.org a|b]}}",
        vec![("Foo", vec![("1", "[http://x.org a"), ("2", "b]")])],
    );
}

#[test]
fn pipes_and_equals_of_nested_calls_belong_to_them() {
    check(
        "{{Foo|{{Bar|a=b}}}}",
        vec![
            ("Foo", vec![("1", "{{Bar|a=b}}")]),
            ("Bar", vec![("a", "b")]),
        ],
    );
}

#[test]
fn pipe_magic_word_does_not_split() {
    check("{{Foo|a{{!}}b}}", vec![("Foo", vec![("1", "a{{!}}b")])]);
    check("{{Foo|{{!}}}}", vec![("Foo", vec![("1", "{{!}}")])]);
}

#[test]
fn equals_magic_word_does_not_make_named() {
    check("{{Foo|a{{=}}b}}", vec![("Foo", vec![("1", "a{{=}}b")])]);
}

#[test]
fn pipes_and_equals_in_comments_do_not_count() {
    check(
        "{{Foo|a<!--|-->b}}",
        vec![("Foo", vec![("1", "a<!--|-->b")])],
    );
    check(
        "{{Foo|a<!--=-->b}}",
        vec![("Foo", vec![("1", "a<!--=-->b")])],
    );
}

#[test]
fn pipes_and_equals_in_nowiki_do_not_count() {
    check(
        "{{Foo|a<nowiki>|</nowiki>b}}",
        vec![("Foo", vec![("1", "a<nowiki>|</nowiki>b")])],
    );
    check(
        "{{Foo|<nowiki>a=b</nowiki>}}",
        vec![("Foo", vec![("1", "<nowiki>a=b</nowiki>")])],
    );
}

// The whole extension tag, attributes included, is consumed at once.
#[test]
fn equals_in_extension_tag_attributes_does_not_make_named() {
    check(
        "{{Foo|a<ref name=\"n\">x</ref>}}",
        vec![("Foo", vec![("1", "a<ref name=\"n\">x</ref>")])],
    );
    check(
        "{{Foo|<ref name=\"n\" />}}",
        vec![("Foo", vec![("1", "<ref name=\"n\" />")])],
    );
}

// HTML tags are not extension tags: their attribute `=` is a separator.
#[test]
fn equals_in_html_attributes_makes_named() {
    check(
        "{{Foo|<span class=\"x\">y</span>}}",
        vec![("Foo", vec![("<span class", "\"x\">y</span>")])],
    );
}

#[test]
fn self_closing_nowiki_does_not_protect_following_pipe() {
    check(
        "{{Foo|<nowiki/>|b}}",
        vec![("Foo", vec![("1", "<nowiki/>"), ("2", "b")])],
    );
}

#[test]
fn extension_tag_protects_closing_braces() {
    check(
        "{{Foo|<nowiki>}}</nowiki>}}",
        vec![("Foo", vec![("1", "<nowiki>}}</nowiki>")])],
    );
    check(
        "{{Foo|<ref>x}}</ref>}}",
        vec![("Foo", vec![("1", "<ref>x}}</ref>")])],
    );
}

#[test]
fn extension_tag_in_named_value_hides_its_calls() {
    check(
        "{{Foo|a=x<ref>{{Bar}}</ref>}}",
        vec![("Foo", vec![("a", "x<ref>{{Bar}}</ref>")])],
    );
}

#[test]
fn comment_protects_braces_inside_params() {
    check(
        "{{Foo|a<!-- }} -->b}}",
        vec![("Foo", vec![("1", "a<!-- }} -->b")])],
    );
    check(
        "{{Foo|<!-- {{Bar}} -->}}",
        vec![("Foo", vec![("1", "<!-- {{Bar}} -->")])],
    );
}

// ---------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------

#[test]
fn comment_hides_calls() {
    check_none("<!-- {{Foo}} -->");
    check_names("<!-- {{Foo}} -->{{Bar}}", &["Bar"]);
}

#[test]
fn unclosed_comment_runs_to_end() {
    check_none("<!-- {{Foo}}");
    check_names("{{Foo|a}}<!-- {{Bar}}", &["Foo"]);
}

#[test]
fn unclosed_comment_inside_call_swallows_the_close() {
    check_none("{{Foo|<!--x}}");
}

#[test]
fn comment_on_its_own_line_between_params() {
    check(
        "{{Infobox\n<!-- comment -->\n| name = X <!-- inline -->\n| image = \n}}",
        vec![(
            "Infobox",
            vec![("name", "X <!-- inline -->"), ("image", "")],
        )],
    );
}

#[test]
fn comment_and_nowiki_interleaving() {
    // The comment opener is inside nowiki, so it is not a comment.
    check_names("<nowiki><!--</nowiki>{{Foo}}", &["Foo"]);
    // The nowiki opener is inside a comment, so it is not a tag.
    check_names("<!--<nowiki>-->{{Foo}}</nowiki>", &["Foo"]);
}

// ---------------------------------------------------------------------------
// Extension tags (Parser::getStripList())
// ---------------------------------------------------------------------------

macro_rules! extension_tag_hides {
    ($($test:ident: $text:expr;)*) => {
        $(
            #[test]
            fn $test() {
                let text: &str = $text;
                check_none(text);
                // The tag is really closed: what follows is parsed again.
                check_names(&format!("{text}{{{{Bar}}}}"), &["Bar"]);
            }
        )*
    };
}

extension_tag_hides! {
    ext_nowiki: "<nowiki>{{Foo}}</nowiki>";
    ext_pre: "<pre>{{Foo}}</pre>";
    ext_pre_with_attributes: "<pre style=\"x\">{{Foo|a}}</pre>";
    ext_ref: "<ref>{{Cite web|url=x}}</ref>";
    ext_ref_named: "<ref name=\"a\">{{Cite web|url=x}}</ref>";
    ext_syntaxhighlight: "<syntaxhighlight lang=\"lua\">{{Foo}}</syntaxhighlight>";
    ext_math: "<math>{{Foo}}</math>";
    ext_gallery: "<gallery>\nFile:A.jpg|{{Foo}}\n</gallery>";
    ext_poem: "<poem>{{Foo}}</poem>";
    ext_references: "<references>{{Foo}}</references>";
    ext_templatedata: "<templatedata>{\"params\": {{Foo}}}</templatedata>";
    ext_score: "<score>{{Foo}}</score>";
    ext_timeline: "<timeline>{{Foo}}</timeline>";
    ext_templatestyles: "<templatestyles src=\"x.css\">{{Foo}}</templatestyles>";
    ext_indicator: "<indicator name=\"x\">{{Foo}}</indicator>";
    ext_section: "<section begin=\"x\">{{Foo}}</section>";
    ext_categorytree: "<categorytree>{{Foo}}</categorytree>";
    ext_imagemap: "<imagemap>{{Foo}}</imagemap>";
    ext_inputbox: "<inputbox>{{Foo}}</inputbox>";
    ext_hiero: "<hiero>{{Foo}}</hiero>";
    ext_chem: "<chem>{{Foo}}</chem>";
    ext_charinsert: "<charinsert>{{Foo}}</charinsert>";
    ext_mapframe: "<mapframe width=\"1\">{{Foo}}</mapframe>";
    ext_maplink: "<maplink>{{Foo}}</maplink>";
    ext_graph: "<graph>{{Foo}}</graph>";
    ext_languages: "<languages>{{Foo}}</languages>";
    ext_tag_name_case_insensitive: "<NOWIKI>{{Foo}}</nowiki>";
    ext_tag_name_mixed_case: "<Ref>{{Foo}}</REF>";
    ext_close_tag_with_spaces: "<ref>{{Foo}}</ref >";
    ext_open_tag_with_space: "<nowiki >{{Foo}}</nowiki>";
    ext_multiline_content: "<pre>\n{{Foo|\na=b\n}}\n</pre>";
}

#[test]
fn self_closing_extension_tags_hide_nothing() {
    check_names("<ref name=\"a\" />{{Foo}}", &["Foo"]);
    check_names("<nowiki/>{{Foo}}", &["Foo"]);
    check_names("<references/>{{Foo}}", &["Foo"]);
    check_names("<languages/>{{Foo}}", &["Foo"]);
    check_names("<templatestyles src=\"Foo/styles.css\" />{{Foo}}", &["Foo"]);
    check_names(
        "<section begin=\"x\" />{{Foo}}<section end=\"x\" />",
        &["Foo"],
    );
}

#[test]
fn unclosed_extension_tag_is_literal() {
    check_names("<ref>{{Foo}}", &["Foo"]);
    check_names("<nowiki>{{Foo}}", &["Foo"]);
    check("{{Foo|<nowiki>x}}", vec![("Foo", vec![("1", "<nowiki>x")])]);
}

#[test]
fn extension_tag_without_closing_angle_is_literal() {
    check_names("<ref {{Foo}}", &["Foo"]);
}

#[test]
fn html_tags_hide_nothing() {
    check_names("<span>{{Foo}}</span>", &["Foo"]);
    check_names("<div class=\"x\">{{Foo}}</div>", &["Foo"]);
    check_names("<small>{{Foo}}</small>", &["Foo"]);
}

#[test]
fn translate_is_not_an_extension_tag() {
    check_names("<translate>{{Foo}}</translate>", &["Foo"]);
}

// The tag name must be followed by whitespace, `>` or `/>`.
#[test]
fn tag_name_prefix_is_not_the_tag() {
    check_names("<refs>{{Foo}}</refs>", &["Foo"]);
    check_names("<prefix>{{Foo}}</prefix>", &["Foo"]);
}

// The first matching closing tag ends the element: no nesting.
#[test]
fn extension_tags_do_not_nest() {
    check_none("<ref>{{A}}<ref>{{B}}</ref>");
    check_names("<nowiki><nowiki>{{A}}</nowiki>{{B}}</nowiki>", &["B"]);
}

// ---------------------------------------------------------------------------
// includeonly / noinclude / onlyinclude (page view)
// ---------------------------------------------------------------------------

#[test]
fn includeonly_content_is_ignored() {
    check_none("<includeonly>{{Foo}}</includeonly>");
    check_names("<includeonly>{{Foo}}</includeonly>{{Bar}}", &["Bar"]);
}

#[test]
fn includeonly_is_case_insensitive() {
    check_names("<IncludeOnly>{{Foo}}</INCLUDEONLY>{{Bar}}", &["Bar"]);
}

#[test]
fn unclosed_includeonly_runs_to_end() {
    check_names("{{Bar}}<includeonly>{{Foo}}", &["Bar"]);
    check_none("{{Foo|<includeonly>x}}");
}

#[test]
fn includeonly_inside_params_does_not_split() {
    check_single_keys("{{Foo|<includeonly>x|</includeonly>y}}", "Foo", &["1"]);
}

#[test]
fn noinclude_and_onlyinclude_content_is_parsed() {
    check_names("<noinclude>{{Foo}}</noinclude>", &["Foo"]);
    check_names("<onlyinclude>{{Foo}}</onlyinclude>", &["Foo"]);
    check_names(
        "{{A}}<noinclude>{{B}}</noinclude><onlyinclude>{{C}}</onlyinclude>{{D}}",
        &["A", "B", "C", "D"],
    );
}

// The noinclude tags vanish, but the pipe between them is a real separator.
#[test]
fn noinclude_tags_do_not_group() {
    check_single_keys("{{Foo|a<noinclude>|b</noinclude>}}", "Foo", &["1", "2"]);
}

// ---------------------------------------------------------------------------
// Brace matching
// ---------------------------------------------------------------------------

// `{{{{Foo}}}}` = `{` + `{{{Foo}}}` + `}`: the rightmost braces win.
#[test]
fn four_braces_is_a_template_argument() {
    check_none("{{{{Foo}}}}");
}

#[test]
fn four_open_three_close_is_a_template_argument() {
    check_none("{{{{Foo}}}");
}

#[test]
fn five_braces_is_call_with_argument_name() {
    check_none("{{{{{Foo}}}}}");
}

#[test]
fn six_braces_is_argument_of_argument() {
    check_none("{{{{{{Foo}}}}}}");
}

#[test]
fn four_braces_then_two_close_then_pipe() {
    check_names("{{{{Foo}}|x}}", &["Foo"]);
}

// Three open braces closed by two: a template plus a literal `{`.
#[test]
fn three_open_two_close_is_a_call() {
    check_names("{{{Foo}}", &["Foo"]);
    check_names("{{{{Foo}}", &["Foo"]);
}

#[test]
fn extra_closing_braces_are_literal() {
    check("{{Foo}}}", vec![("Foo", vec![])]);
    check("{{Foo}}}}", vec![("Foo", vec![])]);
    check_names("}}{{Foo}}", &["Foo"]);
    check_names("}}}}}{{Foo}}}}", &["Foo"]);
    check(
        "{{Foo|{{Bar}}}}}",
        vec![("Foo", vec![("1", "{{Bar}}")]), ("Bar", vec![])],
    );
}

#[test]
fn unclosed_outer_keeps_inner_calls() {
    check("{{Foo|{{Bar}}", vec![("Bar", vec![])]);
    check_names("{{X|{{A}}{{B}}", &["A", "B"]);
    check_names("{{Foo|{{Bar}}}", &["Bar"]);
}

#[test]
fn unclosed_call_is_nothing() {
    check_none("{{Foo");
    check_none("{{Foo|a=b");
    check_none("{{Foo}");
}

#[test]
fn triple_braces_in_params_stay_raw() {
    check("{{Foo|{{{Bar}}}}}", vec![("Foo", vec![("1", "{{{Bar}}}")])]);
}

// Inside an open `[[`, `}}` is not looked for, so the call never closes.
#[test]
fn open_link_hides_closing_braces() {
    check_none("{{Foo|[[a}}");
    check_none("{{Foo|[[a]}}");
}

#[test]
fn closed_link_then_close() {
    check("{{Foo|[[a]]}}", vec![("Foo", vec![("1", "[[a]]")])]);
    check("{{Foo|[[a}}]]}}", vec![("Foo", vec![("1", "[[a}}]]")])]);
}

#[test]
fn call_inside_unclosed_link_is_reported() {
    check_names("[[a {{Foo}}", &["Foo"]);
    check_names("[[a|{{Foo|x}} b", &["Foo"]);
}

// ---------------------------------------------------------------------------
// Headings
// ---------------------------------------------------------------------------

// From a line start, `==` opens a possible heading; until the end of that
// line `|` and `}}` are plain text.
#[test]
fn heading_line_inside_call_groups_pipes() {
    check(
        "{{Foo|\n== a | b ==\n}}",
        vec![("Foo", vec![("1", "\n== a | b ==\n")])],
    );
}

#[test]
fn heading_line_without_closing_equals_still_groups() {
    check(
        "{{Foo|\n== a | b}}\n}}",
        vec![("Foo", vec![("1", "\n== a | b}}\n")])],
    );
}

#[test]
fn closing_braces_on_heading_line_are_literal() {
    check_none("{{Foo|\n==x}}");
    check_none("{{Foo|\n== a | b}}");
}

// DWIM: a single `=` at a line start, in a part that has no `=` yet, is the
// name/value separator.
#[test]
fn single_equals_at_line_start_is_separator() {
    check("{{Foo|a\n=b}}", vec![("Foo", vec![("a", "b")])]);
    check(
        "{{Foo\n|name\n= value\n}}",
        vec![("Foo", vec![("name", "value")])],
    );
}

#[test]
fn double_equals_at_line_start_is_a_heading_not_separator() {
    check(
        "{{Foo|a\n==b==\n}}",
        vec![("Foo", vec![("1", "a\n==b==\n")])],
    );
}

#[test]
fn call_inside_heading_inside_call() {
    check(
        "{{Foo|\n== {{Bar|x}} ==\n}}",
        vec![
            ("Foo", vec![("1", "\n== {{Bar|x}} ==\n")]),
            ("Bar", vec![("1", "x")]),
        ],
    );
}

#[test]
fn calls_in_top_level_headings() {
    check("== {{Foo|x}} ==\n", vec![("Foo", vec![("1", "x")])]);
    check_names("=={{Foo}}==\ntext\n=== {{Bar}} ===", &["Foo", "Bar"]);
}

// ---------------------------------------------------------------------------
// Language converter -{ … }-
// ---------------------------------------------------------------------------

#[test]
fn language_converter_groups_pipes() {
    check("{{Foo|-{a|b}-}}", vec![("Foo", vec![("1", "-{a|b}-")])]);
    check(
        "{{Foo|-{a}-|b}}",
        vec![("Foo", vec![("1", "-{a}-"), ("2", "b")])],
    );
}

#[test]
fn calls_inside_language_converter() {
    check("-{ {{Foo|x}} }-", vec![("Foo", vec![("1", "x")])]);
}

// `-{{` followed by more braces: the rightmost `{{` wins.
#[test]
fn dash_before_call_is_not_converter() {
    check_names("-{{Foo}}", &["Foo"]);
    check("a-{{Foo|x}}-b", vec![("Foo", vec![("1", "x")])]);
}

#[test]
fn hyphens_are_plain_text() {
    check(
        "{{Foo|pt-N|en-3|one-on-one}}",
        vec![(
            "Foo",
            vec![("1", "pt-N"), ("2", "en-3"), ("3", "one-on-one")],
        )],
    );
}

// An unclosed `-{` is open until the end: `}}` is not its closer.
#[test]
fn unclosed_language_converter_swallows_close() {
    check_none("{{Foo|a-{b}}");
}

// ---------------------------------------------------------------------------
// Realistic pages
// ---------------------------------------------------------------------------

#[test]
fn profile_example() {
    check(
        PROFILE,
        vec![("Capacity Exchange profile", profile_params())],
    );
}

#[test]
fn profile_on_a_user_page_with_babel() {
    let page = format!(
        "{{{{#babel:pt-N|en-3}}}}\n{{{{User wikipedia/Administrator}}}}\n\
         '''Olá!''' I am a Wikimedian from [[w:pt:Recife|Recife]].\n\n\
         == Capacity Exchange ==\n{PROFILE}\n\n\
         ~~~~\n"
    );
    check(
        &page,
        vec![
            ("User wikipedia/Administrator", vec![]),
            ("Capacity Exchange profile", profile_params()),
        ],
    );
}

#[test]
fn babel_alone_is_not_a_call() {
    check_none("{{#babel:pt-N|en-3}}");
}

#[test]
fn userbox_is_a_call() {
    check(
        "{{User wikipedia/Administrator}}",
        vec![("User wikipedia/Administrator", vec![])],
    );
}

#[test]
fn profile_in_nowiki_is_not_a_call() {
    check_none(&format!("<nowiki>{PROFILE}</nowiki>"));
    check_none("Use <nowiki>{{Capacity Exchange profile}}</nowiki> on your page.");
}

#[test]
fn profile_in_comment_is_not_a_call() {
    check_none(&format!("<!--\n{PROFILE}\n-->"));
    check_none("<!-- {{Capacity Exchange profile|offers=x}} -->");
}

#[test]
fn profile_in_includeonly_is_not_a_call() {
    check_none(&format!("<includeonly>{PROFILE}</includeonly>"));
}

#[test]
fn profile_in_pre_is_not_a_call() {
    check_none(&format!("<pre>{PROFILE}</pre>"));
}

#[test]
fn profile_in_noinclude_and_translate_is_a_call() {
    check(
        &format!("<noinclude>{PROFILE}</noinclude>"),
        vec![("Capacity Exchange profile", profile_params())],
    );
    check(
        &format!("<translate>\n{PROFILE}\n</translate>"),
        vec![("Capacity Exchange profile", profile_params())],
    );
}

#[test]
fn user_page_with_all_hiding_contexts() {
    let page = "{{#babel:pt-N|en-3}}\n\
                {{User wikipedia/Administrator}}\n\
                <!-- {{Capacity Exchange profile|offers=old}} -->\n\
                <nowiki>{{Capacity Exchange profile}}</nowiki>\n\
                <includeonly>{{Capacity Exchange profile}}</includeonly>\n\
                <pre>{{Capacity Exchange profile}}</pre>\n\
                {{Capacity Exchange profile|status=active}}\n";
    check(
        page,
        vec![
            ("User wikipedia/Administrator", vec![]),
            ("Capacity Exchange profile", vec![("status", "active")]),
        ],
    );
}

#[test]
fn profile_with_nested_markup_in_values() {
    let text = "{{Capacity Exchange profile\n\
                | offers = Lua<!-- main -->; {{lc:SPARQL}} [[d:Q1|queries]]\n\
                | contact = {{Email|me|at=example.org}}\n\
                | bio = Likes <nowiki>{{braces}}</nowiki> and a|b\n\
                }}";
    check(
        text,
        vec![
            (
                "Capacity Exchange profile",
                vec![
                    ("offers", "Lua<!-- main -->; {{lc:SPARQL}} [[d:Q1|queries]]"),
                    ("contact", "{{Email|me|at=example.org}}"),
                    ("bio", "Likes <nowiki>{{braces}}</nowiki> and a"),
                    // Positional: not trimmed, keeps the newline before `}}`.
                    ("1", "b\n"),
                ],
            ),
            ("Email", vec![("1", "me"), ("at", "example.org")]),
        ],
    );
}

#[test]
fn talk_page_signature_has_no_calls() {
    check_none(
        "Thanks! [[User:X|X]] ([[User talk:X|talk]]) 12:00, 1 January 2024 (UTC)\n:Reply -- ~~~~",
    );
}

#[test]
fn crlf_line_endings() {
    check(
        "{{Capacity Exchange profile\r\n| offers = Lua\r\n| status = active\r\n}}",
        vec![(
            "Capacity Exchange profile",
            vec![("offers", "Lua"), ("status", "active")],
        )],
    );
}

// ---------------------------------------------------------------------------
// Robustness: must never panic, must stay linear (no timing assertions)
// ---------------------------------------------------------------------------

#[test]
fn stress_many_unclosed_open_braces() {
    check_none(&"{{".repeat(100_000));
    check_none(&"{{{".repeat(100_000));
}

#[test]
fn stress_many_unclosed_calls_with_pipes() {
    check_none(&"{{a|".repeat(100_000));
    let text = format!("{}{{{{Foo}}}}", "{{a|".repeat(100_000));
    check_names(&text, &["Foo"]);
}

#[test]
fn stress_many_closing_braces() {
    let text = format!("{}{{{{Foo}}}}", "}}".repeat(100_000));
    check_names(&text, &["Foo"]);
}

// 50,000 levels of balanced `{{…}}` nesting, one call per level. The
// nesting goes through a parser function so that the output stays linear
// (nesting calls directly in each other's values makes the total size of
// the raw values quadratic).
#[test]
fn stress_deep_balanced_nesting_50k() {
    let n = 50_000;
    let text = format!("{}{}", "{{#if:{{Foo}}|".repeat(n), "}}".repeat(n));
    let got = template_calls(&text);
    assert_eq!(got.len(), n);
    assert!(got.iter().all(|c| c.name == "Foo" && c.params.is_empty()));
}

#[test]
fn stress_directly_nested_calls() {
    let n = 2_000;
    let text = format!("{}{}", "{{Foo|".repeat(n), "}}".repeat(n));
    let got = calls(&text);
    assert_eq!(got.len(), n);
    assert!(
        got.iter()
            .all(|(name, ps)| name == "Foo" && ps.len() == 1 && ps[0].0 == "1")
    );
    assert_eq!(got[0].1[0].1, &text[6..text.len() - 2]);
    assert_eq!(got[1].1[0].1, &text[12..text.len() - 4]);
    assert_eq!(got[n - 1].1, vec![("1".to_string(), String::new())]);
}

#[test]
fn stress_many_open_links() {
    check_none(&"[[".repeat(100_000));
    check_names(&format!("{}{{{{Foo}}}}", "[[".repeat(100_000)), &["Foo"]);
    check_none(&"[[a|".repeat(100_000));
}

// One `[[…` run of 200,000 brackets closed 2 at a time. Only `max` (2)
// closing characters can ever match, so counting the closing run must not
// look further than that on each close.
#[test]
fn stress_balanced_link_brackets_100k() {
    check_none(&format!("{}{}", "[[".repeat(100_000), "]]".repeat(100_000)));
}

// One run of 200,000 `{` closed by 200,000 `}`: MediaWiki matches `{{{…}}}`
// three at a time (the first has an empty name, the others have names made
// of the previous argument) and ends with a `{{…}}` whose name is dynamic.
#[test]
fn stress_balanced_brace_runs_100k() {
    check_none(&format!("{}{}", "{{".repeat(100_000), "}}".repeat(100_000)));
    check_none(&format!(
        "{}{}",
        "{{{".repeat(100_000),
        "}}}".repeat(100_000)
    ));
}

#[test]
fn stress_many_sibling_calls() {
    let n = 200_000;
    let text = "{{Foo|a|b=c}} ".repeat(n);
    let got = template_calls(&text);
    assert_eq!(got.len(), n);
    assert!(got.iter().all(|c| c.name == "Foo" && c.params.len() == 2));
    let text = "{{{1}}}".repeat(n);
    check_none(&text);
}

#[test]
fn stress_many_params() {
    let text = format!("{{{{Foo{}}}}}", "|".repeat(100_000));
    let got = template_calls(&text);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].params.len(), 100_000);
    assert_eq!(got[0].params.get("100000").map(|s| s.as_str()), Some(""));
}

#[test]
fn stress_many_unclosed_comments_and_tags() {
    check_none(&"<!--".repeat(100_000));
    check_names(
        &format!("{}{{{{Foo}}}}", "<!-- -->".repeat(100_000)),
        &["Foo"],
    );
    check_names(&format!("{}{{{{Foo}}}}", "<ref>".repeat(100_000)), &["Foo"]);
    check_names(
        &format!("{}{{{{Foo}}}}", "<nowiki>".repeat(100_000)),
        &["Foo"],
    );
    check_names(&format!("{}{{{{Foo}}}}", "<ref ".repeat(100_000)), &["Foo"]);
    check_names(&format!("{}{{{{Foo}}}}", "<".repeat(100_000)), &["Foo"]);
    check_names(
        &format!("{}{{{{Foo}}}}", "<span>".repeat(100_000)),
        &["Foo"],
    );
}

#[test]
fn stress_many_converter_openers() {
    check_names(&format!("{} {{{{Foo}}}}", "-{".repeat(100_000)), &["Foo"]);
    check_none(&"-{".repeat(100_000));
}

#[test]
fn stress_many_headings() {
    let n = 100_000;
    let text = "\n== {{Foo}} ==".repeat(n);
    assert_eq!(template_calls(&text).len(), n);
    let text = format!("{{{{Foo|{}\n}}}}", "\n=x".repeat(n));
    check_names(&text, &["Foo"]);
}

#[test]
fn stress_three_megabyte_page() {
    let chunk = format!(
        "{PROFILE}\nSome text with a [[link|label]] <!-- a comment --> \
         <nowiki>{{{{Hidden}}}}</nowiki> and {{{{#if:a|{{{{Bar|x=1}}}}}}}} -- more text.\n\n"
    );
    let reps = 3_000_000 / chunk.len() + 1;
    let text = chunk.repeat(reps);
    assert!(text.len() >= 3_000_000);
    let got = calls(&text);
    assert_eq!(got.len(), 2 * reps);
    for pair in got.chunks(2) {
        assert_eq!(pair[0].0, "Capacity Exchange profile");
        assert_eq!(pair[0].1.len(), 13);
        assert_eq!(
            pair[1],
            ("Bar".to_string(), vec![("x".to_string(), "1".to_string())])
        );
    }
}

#[test]
fn fuzz_random_code_points() {
    let mut rng = Lcg(0x5eed_cafe_f00d_d00d);
    for _ in 0..300 {
        let len = rng.below(3_000) as usize;
        let mut s = String::with_capacity(len);
        let mut chars = 0;
        while chars < len {
            let r = rng.next_u32();
            let cp = if r.is_multiple_of(2) {
                r % 0x80
            } else {
                r % 0x11_0000
            };
            if let Some(c) = char::from_u32(cp) {
                s.push(c);
                chars += 1;
            }
        }
        assert_sane(&s);
    }
}

#[test]
fn fuzz_random_syntax_soup() {
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{{{",
        "}}}",
        "{",
        "}",
        "|",
        "=",
        "[[",
        "]]",
        "[",
        "]",
        "<!--",
        "-->",
        "<nowiki>",
        "</nowiki>",
        "<nowiki/>",
        "<ref>",
        "</ref>",
        "<ref name=\"a\" />",
        "<includeonly>",
        "</includeonly>",
        "<noinclude>",
        "</noinclude>",
        "<pre>",
        "</pre>",
        "\n",
        "\n==",
        "==",
        "\n=",
        "-{",
        "}-",
        "-",
        "Foo",
        "bar",
        " ",
        "_",
        "#if:",
        "#",
        "Template:",
        "User:",
        ":",
        "subst:",
        "PAGENAME",
        "{{!}}",
        "é",
        "日本",
        "\u{a0}",
        "<",
        ">",
        "/>",
        "\r\n",
        "\t",
    ];
    let mut rng = Lcg(42);
    for _ in 0..2_000 {
        let n = rng.below(200) as usize;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(PIECES[rng.below(PIECES.len() as u32) as usize]);
        }
        assert_sane(&s);
    }
}

#[test]
fn fuzz_only_syntax_characters_random() {
    const ALPHABET: &[char] = &['{', '}', '|', '=', '<', '['];
    let mut rng = Lcg(7);
    for _ in 0..500 {
        let n = rng.below(4_000) as usize;
        let s: String = (0..n)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u32) as usize])
            .collect();
        assert_sane(&s);
    }
}

#[test]
fn fuzz_only_syntax_characters_exhaustive() {
    const ALPHABET: &[char] = &['{', '}', '|', '=', '<', '['];
    let mut s = String::new();
    for len in 0..=7u32 {
        let total = (ALPHABET.len() as u64).pow(len);
        for mut idx in 0..total {
            s.clear();
            for _ in 0..len {
                s.push(ALPHABET[(idx % ALPHABET.len() as u64) as usize]);
                idx /= ALPHABET.len() as u64;
            }
            let _ = template_calls(&s);
        }
    }
}

#[test]
fn fuzz_small_alphabet_with_names_exhaustive() {
    const ALPHABET: &[char] = &['{', '}', '|', '=', '[', ']', 'a', '\n', '-', '<'];
    let mut s = String::new();
    for len in 0..=5u32 {
        let total = (ALPHABET.len() as u64).pow(len);
        for mut idx in 0..total {
            s.clear();
            for _ in 0..len {
                s.push(ALPHABET[(idx % ALPHABET.len() as u64) as usize]);
                idx /= ALPHABET.len() as u64;
            }
            let got = template_calls(&s);
            for c in &got {
                assert!(
                    !c.name.is_empty() && !c.name.contains(['{', '}', '|', '[', ']', '<']),
                    "{s:?} -> {:?}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn pathological_tag_soup_does_not_panic() {
    for text in [
        "<".to_string(),
        "<!".to_string(),
        "<!-".to_string(),
        "<!--".to_string(),
        "<!-->".to_string(),
        "<nowiki".to_string(),
        "<nowiki/".to_string(),
        "</nowiki>".to_string(),
        "<ref name=\"".to_string(),
        "{{Foo|<ref name=\"x>".to_string(),
        "-".to_string(),
        "-{".to_string(),
        "}-".to_string(),
        "\n".to_string(),
        "=".to_string(),
        "\n=\n".to_string(),
        "{{\n=".to_string(),
        "{{a|\n=".to_string(),
        "é{{é|é=é}}é".to_string(),
        "{{\u{0}}}".to_string(),
        "<includeonly".to_string(),
        "<onlyinclude></onlyinclude>".repeat(1000),
        "<includeonly>".repeat(1000),
        "</includeonly>".repeat(1000),
        "<noinclude>{{".repeat(1000),
    ] {
        assert_sane(&text);
    }
}
