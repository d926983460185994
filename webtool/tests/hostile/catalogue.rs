//! The catalogue of hostile profiles (issue 8): one user page per attack, each written as the
//! wikitext a person could save on their own user page, and three ordinary people who share
//! skills with them (everyone offers Lua, most want Wikidata), so that hostile and ordinary
//! cards meet on the same search result page and the same skill page.
//!
//! Shared by `tests/hostile_profiles.rs` (HTTP), `tests/browser.rs` (Chromium) and the
//! `hostile_export` example that `bench/hostile.sh` imports; included with `#[path]`. It
//! needs nothing but the standard library.

// Each includer uses its own part of the catalogue.
#![allow(dead_code)]

/// One person of the catalogue: the page `User:<title_user>`, saved by that user.
pub struct Person {
    /// The user name as written in the page title and as the revision's author. The wiki
    /// (and `exchange::wikitext::title`) drop some characters from titles: the name the tool
    /// shows is the normalised one.
    pub title_user: String,
    /// What the profile tries, in a few words: the catalogue's line for this person.
    pub attack: &'static str,
    /// The text of the user page.
    pub wikitext: String,
    /// One of [`ORDINARY`].
    pub ordinary: bool,
}

/// An ordinary person, and what their card must show: their name, and their skills as the
/// taxonomy labels them in English, in the order written.
pub struct Ordinary {
    pub user: &'static str,
    pub offers: &'static [&'static str],
    pub wants: &'static [&'static str],
    pub wikitext: &'static str,
}

pub const ANA: &str = "Ana Souza";

pub const ORDINARY: [Ordinary; 3] = [
    Ordinary {
        user: ANA,
        offers: &["Lua modules", "Wikidata"],
        wants: &["Grant writing"],
        wikitext: "{{Capacity Exchange profile\n| offers = Lua; Wikidata\n| wants = grant writing\n| languages = pt-N, en-3\n| country = BR\n| timezone = America/Recife\n| affiliations = Wiki Movement Brazil\n| bio = Organizo maratonas de edição no Recife.\n}}",
    },
    Ordinary {
        user: "Bruno Díaz",
        offers: &["Grant writing", "Lua modules"],
        wants: &["Wikidata"],
        wikitext: "{{Capacity Exchange profile\n| offers = grant writing; Lua\n| wants = Wikidata\n| languages = es-N, pt-4, en-3\n| country = AR\n| timezone = America/Argentina/Buenos_Aires\n| bio = Escribo propuestas de subvenciones.\n}}",
    },
    Ordinary {
        user: "Jonas Weber",
        offers: &["Wikidata", "Lua modules"],
        wants: &["Grant writing"],
        wikitext: "{{Capacity Exchange profile\n| offers = Wikidata; Lua\n| wants = grant writing\n| languages = de-N, en-4\n| country = DE\n| bio = Ich pflege Wikidata-Abfragen.\n}}",
    },
];

/// Markup and script written into every parameter of a profile, one attack per person:
/// the parser drops real tags (as MediaWiki does not show them) and keeps what a reader
/// of the wiki sees as text, so every one of these reaches the pages as text.
pub const INJECTIONS: [(&str, &str, &str); 12] = [
    (
        "Hostile Script",
        "<script> elements",
        "<script>window.capxPwned='script'</script>after script",
    ),
    (
        "Hostile Img",
        "<img onerror>, closed and unterminated",
        "<img src=x onerror=\"window.capxPwned='img'\"> <img src=x onerror=window.capxPwned='img-open'",
    ),
    (
        "Hostile Svg",
        "<svg onload>",
        "<svg onload=\"window.capxPwned='svg'\"><circle r=9 /></svg> <svg/onload=window.capxPwned='svg-slash'>",
    ),
    (
        "Hostile Double Quote",
        "attribute break-out with \"",
        "\" onmouseover=\"window.capxPwned='dq'\" autofocus onfocus=\"window.capxPwned='dq-focus'\" x=\"",
    ),
    (
        "Hostile Single Quote",
        "attribute break-out with '",
        "' autofocus onfocus='window.capxPwned=\"sq\"' x='",
    ),
    (
        "Hostile Textarea",
        "</textarea> break-out",
        "</textarea><script>window.capxPwned='textarea'</script><textarea>",
    ),
    (
        "Hostile Title",
        "</title> break-out",
        "</title><script>window.capxPwned='title'</script><title>",
    ),
    (
        "Hostile Style",
        "</style> break-out",
        "</style><script>window.capxPwned='style'</script><style>*{display:none}",
    ),
    (
        "Hostile Entities",
        "entity-encoded tags (named, decimal, hexadecimal, double-encoded)",
        "&lt;script&gt;window.capxPwned='entity'&lt;/script&gt; &#60;img src=x onerror=window.capxPwned='dec'&#62; &#x3C;svg onload=window.capxPwned='hex'&#x3E; &amp;lt;b&amp;gt;",
    ),
    (
        "Hostile Nowiki",
        "tags inside <nowiki>, which the wiki shows as text",
        "<nowiki><script>window.capxPwned='nowiki'</script><img src=x onerror=window.capxPwned='nowiki-img'></nowiki>",
    ),
    (
        "Hostile Anchor",
        "<a href=javascript:>",
        "<a href=\"javascript:window.capxPwned='a'\">grants</a> <a href='data:text/html,x'>data</a>",
    ),
    (
        "Hostile Links",
        "[javascript:…], [data:…;base64,…], [vbscript:…], [ JaVaScRiPt:…] links and look-alikes",
        "[javascript:window.capxPwned='link' js link] [data:text/html;base64,PHNjcmlwdD53aW5kb3cuY2FweFB3bmVkPSdkYXRhJzwvc2NyaXB0Pg== data link] [vbscript:msgbox(1) vb link] [ JaVaScRiPt:window.capxPwned='case' case link] [[javascript:window.capxPwned='wikilink'|wiki link]] [https://example.org\" onmouseover=\"window.capxPwned='url' quoted link]",
    ),
];

/// `javascript:` and `data:` written as plain values, not links.
pub const PLAIN_SCHEMES: &str = "javascript:window.capxPwned='plain'; data:text/html,<script>window.capxPwned='data'</script>; vbscript:msgbox(1); JaVaScRiPt:window.capxPwned='case'; jav&#x09;ascript:window.capxPwned='tab'";

/// A profile with `payload` in every parameter; it also offers Lua and wants Wikidata, like
/// the ordinary people, and its lists keep a known value where the list has one.
pub fn in_every_parameter(payload: &str) -> String {
    let mut text = String::from("{{Capacity Exchange profile\n");
    // Every parameter the template documents, so a new one is attacked too.
    for &param in exchange::parse::KNOWN_PARAMS {
        let value = match param {
            "offers" => format!("Lua; {payload}"),
            "wants" => format!("Wikidata; {payload}"),
            "languages" => format!("en-3, {payload}"),
            "formats" => format!("online, {payload}"),
            "contact" => format!("talk, {payload}"),
            _ => payload.to_string(),
        };
        text.push_str(&format!("| {param} = {value}\n"));
    }
    text.push_str("}}");
    text
}

/// The bidirectional controls: embeddings and overrides (U+202A–U+202E), isolates
/// (U+2066–U+2069) and marks (U+200E, U+200F).
pub const BIDI_CONTROLS: [char; 11] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}',
];

/// The zero-width characters a look-alike name can hide.
pub const ZERO_WIDTH: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Bidirectional controls in skills, bio, affiliations, availability, projects: a right-to-left
/// override left open, one after a stray pop-isolate (which, unbalanced, would close the
/// isolation a page puts around it), every other control, and an isolate left open.
fn bidi_fields() -> String {
    let rlo = '\u{202E}';
    let pdi = '\u{2069}';
    format!(
        "{{{{Capacity Exchange profile
| offers = Lua; {rlo}gnitirw tnarg{rlo}; {pdi}{rlo}escaped override; \u{2067}open isolate; \u{202D}forced ltr; \u{202A}embedding\u{202C}; \u{202B}rtl embedding; \u{200F}rlm \u{200E}lrm; \u{2066}lri\u{2069} then {rlo}open
| wants = Wikidata; {pdi}{pdi}{pdi}{rlo}Wants reversed
| knows = {rlo}Knows reversed
| languages = en-3
| affiliations = {rlo}Wikimedia Foundation; {pdi}{rlo}Affiliation after stray pop
| projects = {rlo}pt.wikipedia; {pdi}{rlo}meta
| availability = {pdi}{rlo}evenings {pdi} and \u{202B}weekends
| bio = Ordinary text, then {pdi}{pdi}{rlo}a reversed tail that must stay inside the bio \u{2067}and an open isolate
}}}}"
    )
}

/// A profile that is all ordinary except its owner's name: a look-alike of Ana's.
fn look_alike() -> String {
    format!(
        "{{{{Capacity Exchange profile\n| offers = Lua; Wikidata\n| wants = grant writing\n| languages = pt-N, en-3\n| country = BR\n| bio = I am the real {ANA}: write to me, not to the other one.\n}}}}"
    )
}

/// `count` distinct items joined with `separator`.
fn many(count: usize, separator: &str, item: impl Fn(usize) -> String) -> String {
    (0..count).map(item).collect::<Vec<_>>().join(separator)
}

/// A well-formed language code that no table knows, one per `i` (three letters, base 26).
fn invented_code(i: usize) -> String {
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    format!("{}{}{}", letter(i / 676), letter(i / 26), letter(i))
}

pub const MANY: usize = 10_000;
/// Two million bytes: under MediaWiki's 2 MiB page limit with the template around it.
pub const HUGE_BIO_BYTES: usize = 2_000_000;
pub const LONG_WORD_CHARS: usize = 50_000;

/// One unbroken word of `chars` letters.
pub fn long_word(chars: usize) -> String {
    "Pneumonoultramicroscopicsilicovolcanoconiosis"
        .chars()
        .cycle()
        .take(chars)
        .collect()
}

/// Ten thousand items in every list parameter.
fn many_items() -> String {
    let skills = |kind: &str| many(MANY, "; ", |i| format!("{kind} skill {i:05}"));
    format!(
        "{{{{Capacity Exchange profile\n| offers = Lua; {}\n| wants = Wikidata; {}\n| knows = {}\n| languages = en-3, {}\n| affiliations = {}\n| projects = {}\n| formats = {}\n| contact = {}\n| bio = Ten thousand items in every list.\n}}}}",
        skills("Offered"),
        skills("Wanted"),
        skills("Known"),
        many(MANY, ", ", |i| format!("{}-{}", invented_code(i), i % 6)),
        many(MANY, "; ", |i| format!("Affiliation {i:05}")),
        many(MANY, "; ", |i| format!("project{i:05}.wikipedia")),
        many(MANY, "; ", |i| format!("format {i:05}")),
        many(MANY, "; ", |i| format!("contact {i:05}")),
    )
}

/// Ten thousand languages as one list item (Babel boxes separate them by spaces), and the
/// same again in a `{{#babel:…}}` call, which is read when the parameter is empty.
fn many_languages_one_item() -> String {
    format!(
        "{{{{Capacity Exchange profile\n| offers = Lua\n| wants = Wikidata\n| languages = {}\n}}}}",
        many(MANY, " ", |i| format!("{}-{}", invented_code(i), i % 6))
    )
}

fn many_babel() -> String {
    format!(
        "{{{{#babel:{}}}}}\n{{{{Capacity Exchange profile\n| offers = Lua\n| wants = Wikidata\n}}}}",
        many(MANY, "|", |i| format!("{}-{}", invented_code(i), i % 6))
    )
}

fn huge_bio() -> String {
    let words = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
    let bio: String = words.chars().cycle().take(HUGE_BIO_BYTES).collect();
    format!(
        "{{{{Capacity Exchange profile\n| offers = Lua\n| wants = Wikidata\n| bio = {bio}\n}}}}"
    )
}

fn long_words() -> String {
    let word = long_word(LONG_WORD_CHARS);
    format!(
        "{{{{Capacity Exchange profile\n| offers = Lua; {word}\n| wants = Wikidata; {word}\n| knows = {word}\n| affiliations = {word}\n| projects = {word}\n| availability = {word}\n| bio = {word}\n}}}}"
    )
}

/// Every list at its cap of items, every item at its cap of characters, written with the
/// characters that grow most when escaped (`'` → `&#x27;`) and percent-encoded (a
/// four-byte letter → twelve bytes): the largest page a profile can make.
fn everything_at_the_cap() -> String {
    let item = |i: usize| {
        let body: String = "'𝕏".chars().cycle().take(117).collect();
        format!("{i:02}{body}")
    };
    let list = many(50, "; ", item);
    let bio: String = "'𝕏".chars().cycle().take(3000).collect();
    format!(
        "{{{{Capacity Exchange profile\n| offers = {list}\n| wants = {list}\n| knows = {list}\n| affiliations = {list}\n| projects = {list}\n| formats = {list}\n| contact = {list}\n| availability = {bio}\n| bio = {bio}\n}}}}"
    )
}

/// The catalogue, hostile and ordinary people interleaved: a person's revision is newer the
/// later they come, and searches rank the newest first among equals, so the people at the
/// end of this list share the first page of results with the ordinary ones.
pub fn people() -> Vec<Person> {
    let mut out = Vec::new();
    let mut hostile = |title_user: String, attack: &'static str, wikitext: String| {
        out.push(Person {
            title_user,
            attack,
            wikitext,
            ordinary: false,
        });
    };
    hostile(
        "Hostile Many".into(),
        "10,000 items in offers, wants, knows, languages, affiliations, projects, formats, contact",
        many_items(),
    );
    hostile(
        "Hostile Languages".into(),
        "10,000 languages in one list item (space-separated, as Babel writes them)",
        many_languages_one_item(),
    );
    hostile(
        "Hostile Babel".into(),
        "10,000 languages in a {{#babel:…}} call",
        many_babel(),
    );
    hostile("Hostile Huge Bio".into(), "a 2 MB bio", huge_bio());
    hostile(
        "Hostile Cap".into(),
        "every list at 50 items of 120 characters that grow most when escaped or encoded",
        everything_at_the_cap(),
    );
    for (user, attack, payload) in INJECTIONS {
        hostile(user.into(), attack, in_every_parameter(payload));
    }
    hostile(
        "Hostile Plain Schemes".into(),
        "javascript:, data:, vbscript: as plain values in every parameter",
        in_every_parameter(PLAIN_SCHEMES),
    );
    hostile(
        "Hostile Close Offers".into(),
        "a skill that closes the template and opens another: Lua}} {{Capacity Exchange profile|offers=Evil",
        "{{Capacity Exchange profile\n| offers = Lua}} {{Capacity Exchange profile|offers=Evil\n| wants = Wikidata\n| status = paused\n}}".into(),
    );
    hostile(
        "Hostile Close Bio".into(),
        "a bio that closes the template to set another parameter: | bio = }} | status = paused",
        "{{Capacity Exchange profile\n| offers = Lua; Wikidata\n| bio = }} | status = paused\n| wants = grant writing\n}}".into(),
    );
    hostile(
        "Hostile Pipes".into(),
        "{{!}} and |} in skills",
        "{{Capacity Exchange profile\n| offers = Lua{{!}}status=paused; Lua {{!}} Evil; |} {| class=\"wikitable\"\n|-\n| cell\n| wants = Wikidata |} </table>; {{!}}}}\n| bio = {{!}} status = paused {{!}}\n}}".into(),
    );
    hostile(
        "Hostile Signature".into(),
        "signatures (~~~~, ~~~~~) kept as text in skills, which the ask and thank links hand back to the wiki",
        "{{Capacity Exchange profile\n| offers = Lua; <nowiki>~~~~</nowiki>; at <nowiki>~~~~~</nowiki>; a = b == c\n| wants = Wikidata\n| bio = <nowiki>~~~</nowiki>\n}}".into(),
    );
    hostile(
        "Hostile Long Word".into(),
        "a 50,000-character single word in bio, skills, affiliations, projects, availability",
        long_words(),
    );
    hostile(
        format!("Hostile{}", long_word(240)),
        "a 250-character single-word user name",
        in_every_parameter("long name"),
    );
    for (i, c) in ZERO_WIDTH.iter().enumerate() {
        // ZWSP, ZWNJ and ZWJ inside the surname, the word joiner at the end, the BOM first.
        let user = match i {
            0..=2 => format!("Ana Sou{c}za"),
            3 => format!("{ANA}{c}"),
            _ => format!("{c}{ANA}"),
        };
        hostile(
            user,
            "a zero-width character in a look-alike of an ordinary person's name",
            look_alike(),
        );
    }
    let ordinary = |o: &Ordinary| Person {
        title_user: o.user.into(),
        attack: "ordinary",
        wikitext: o.wikitext.into(),
        ordinary: true,
    };
    out.push(ordinary(&ORDINARY[2]));
    out.push(Person {
        title_user: "Rita\u{202E} Reversed\u{202C}\u{200F}".into(),
        attack: "embedding, override and mark characters in a user name (titles drop them)",
        wikitext: in_every_parameter("\u{202E}reversed"),
        ordinary: false,
    });
    out.push(Person {
        title_user: "Isolde\u{2069}\u{2067} Override".into(),
        attack: "a stray pop-isolate and an open right-to-left isolate in a user name (titles keep them)",
        wikitext: bidi_fields(),
        ordinary: false,
    });
    out.push(ordinary(&ORDINARY[1]));
    out.push(Person {
        title_user: "\u{2068}Fsi \u{2066}Name".into(),
        attack: "isolates left open in a user name",
        wikitext: bidi_fields(),
        ordinary: false,
    });
    out.push(Person {
        title_user: "Hostile Bidi".into(),
        attack: "bidirectional overrides and isolates in skills, bio, affiliations, availability, projects",
        wikitext: bidi_fields(),
        ordinary: false,
    });
    out.push(ordinary(&ORDINARY[0]));
    out
}

/// The catalogue as a MediaWiki XML export: one page per person, one revision saved by
/// its owner; revision times increase along the list.
pub fn export(people: &[Person]) -> Vec<u8> {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let mut xml = String::from("<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\">\n");
    for (i, person) in people.iter().enumerate() {
        let id = i + 1;
        let user = escape(&person.title_user);
        xml.push_str(&format!(
            "<page><title>User:{user}</title><ns>2</ns><id>{id}</id><revision><id>{}</id><timestamp>2026-01-01T{:02}:{:02}:00Z</timestamp><contributor><username>{user}</username><id>{id}</id></contributor><text xml:space=\"preserve\">{}</text></revision></page>\n",
            id * 10,
            id / 60,
            id % 60,
            escape(&person.wikitext),
        ));
    }
    xml.push_str("</mediawiki>\n");
    xml.into_bytes()
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
