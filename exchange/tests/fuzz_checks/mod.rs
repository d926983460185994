//! The properties the fuzz targets check (`fuzz/fuzz_targets/`), shared with
//! `tests/fuzz_regressions.rs`, which runs every input the fuzzers ever broke
//! (`tests/fixtures/fuzz/<target>/`) through the same functions.
//!
//! Each function takes the raw bytes libFuzzer hands out and panics when a property fails.
//! Only what the code documents is asserted.

// Each fuzz target uses one of the functions.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::BufRead;
use std::str::FromStr;

use exchange::collection::Collection;
use exchange::connections::{
    MAX_NOTE_CHARS, MAX_REQUESTS_PER_PAGE, MAX_THANKS_PER_PAGE, TemplateNames, parse_requests,
    parse_thanks,
};
use exchange::dump::{DumpReader, MAX_TEXT_BYTES, PageHistory};
use exchange::geo::find_country;
use exchange::harvest::harvest_page;
use exchange::languages;
use exchange::parse::{
    KNOWN_CONTACTS, KNOWN_FORMATS, MAX_AVAILABILITY_CHARS, MAX_BIO_CHARS, MAX_ITEM_CHARS,
    MAX_ITEMS, PROFILE_TEMPLATE, PageContext, ProfileTemplate, babel_item, calls_profile_template,
    items, normalize_timezone, parse_page, project_key,
};
use exchange::profile::{LanguageSkill, Level, Profile, SkillRef, Status};
use exchange::taxonomy::Taxonomy;
use exchange::template_writer::{ProfileInput, clean_text, write};
use exchange::text_key::fold;
use exchange::wikitext::title::{NS_MAIN, NS_TEMPLATE, NS_USER, Title, normalize_user_name};
use exchange::wikitext::{extract, php_trim, plain, template_calls};

/// Work (bytes compared) above which the substring checks are skipped, so that one large
/// input with deeply nested calls does not time the fuzzer out on the check itself.
const SUBSTRING_BUDGET: usize = 1 << 24;

/// `fuzz_targets/template_extraction.rs`: `wikitext::extract`, `template_calls` and the
/// plain-text reduction on any text.
pub fn template_extraction(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let extraction = extract(text);
    let opening_braces = text.bytes().filter(|&b| b == b'{').count();
    assert!(
        (extraction.templates.len() + extraction.functions.len()) * 2 <= opening_braces,
        "more calls than pairs of braces"
    );
    let mut budget = SUBSTRING_BUDGET;
    let mut previous_start = 0;
    for call in &extraction.templates {
        // "Where the call is in the text, from its `{{` to its `}}`", in document order.
        let span = text
            .get(call.span.clone())
            .unwrap_or_else(|| panic!("span {:?} is not a range of the text", call.span));
        assert!(span.starts_with("{{") && span.ends_with("}}"), "{span:?}");
        assert!(call.span.start >= previous_start, "not in document order");
        previous_start = call.span.start;
        // A normalised title: not empty, no character a title cannot hold, spaces single.
        let name = &call.name;
        assert!(!name.is_empty());
        assert!(
            !name.contains(['<', '>', '[', ']', '{', '}', '|', '#', '_']),
            "{name:?}"
        );
        assert!(
            !name.starts_with(' ') && !name.ends_with(' ') && !name.contains("  "),
            "{name:?}"
        );
        for (key, value) in &call.params {
            assert_eq!(php_trim(key), key, "parameter names are trimmed");
            assert!(value.len() <= span.len());
            // Values are the raw wikitext of the part: named ones trimmed, positional
            // ones as written.
            if budget >= span.len() {
                budget -= span.len();
                assert!(
                    span.contains(value.as_str()),
                    "{value:?} is not in {span:?}"
                );
            }
        }
    }
    let mut previous_start = 0;
    for function in &extraction.functions {
        let span = text
            .get(function.span.clone())
            .unwrap_or_else(|| panic!("span {:?} is not a range of the text", function.span));
        assert!(span.starts_with("{{") && span.ends_with("}}"), "{span:?}");
        assert!(
            function.span.start >= previous_start,
            "not in document order"
        );
        previous_start = function.span.start;
        assert!(!function.name.is_empty());
        assert!(
            !function.args.is_empty(),
            "the text after the colon is an argument"
        );
        for arg in &function.args {
            assert_eq!(php_trim(arg), arg, "arguments are trimmed");
        }
    }
    // The same answer every time, and `template_calls` is `extract`'s templates.
    assert_eq!(template_calls(text), extraction.templates);

    // What a reader sees: one line, whitespace collapsed.
    let shown = plain::plain_text(text);
    assert!(shown.dropped_calls * 2 <= opening_braces);
    assert!(
        !shown.text.starts_with(char::is_whitespace)
            && !shown.text.ends_with(char::is_whitespace)
            && !shown.text.contains(|c: char| c.is_whitespace() && c != ' ')
            && !shown.text.contains("  "),
        "{:?}",
        shown.text
    );
    assert!(plain::without_comments(text).len() <= text.len());
}

const TITLE: &str = "User:Fuzz tester";
const OWNER: &str = "Fuzz tester";

/// `fuzz_targets/profile_parsing.rs`: the profile parser, the thanks and request readers
/// on the bytes as wikitext, and the template writer's round trip on the bytes read as a
/// builder's form ([`profile_input`]).
pub fn profile_parsing(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let taxonomy = Taxonomy::bundled();
    check_profile_page(&text, taxonomy);
    check_connections(&text, taxonomy);
    check_round_trip(&profile_input(&text), taxonomy);
    // The readers of single values, on every line: short inputs reach them directly.
    for line in text.lines() {
        check_value_readers(line);
    }
}

fn check_value_readers(text: &str) {
    if let Some(zone) = normalize_timezone(text) {
        assert_eq!(
            normalize_timezone(&zone).as_ref(),
            Some(&zone),
            "not normalised"
        );
    }
    if let Ok(language) = babel_item(text) {
        assert!(languages::is_well_formed(&language.code), "{language:?}");
    }
    for item in items(text) {
        assert!(!item.is_empty() && item.trim() == item, "{item:?}");
    }
    if let Some(name) = normalize_user_name(text) {
        assert!(!name.is_empty() && !name.contains('/'), "{name:?}");
    }
}

fn check_profile_page(text: &str, taxonomy: &Taxonomy) {
    let template = ProfileTemplate::default();
    let page = PageContext {
        title: TITLE.into(),
        revid: 7,
        timestamp: None,
    };
    let parsed = parse_page(text, &page, &template, taxonomy);
    // "A profile if the page calls the template."
    assert_eq!(
        parsed.profile.is_some(),
        calls_profile_template(text, &template)
    );
    let Some(profile) = parsed.profile else {
        assert!(parsed.warnings.is_empty());
        return;
    };
    assert_eq!(profile.user, OWNER);
    assert_eq!(profile.page, TITLE);
    assert_eq!(profile.revid, 7);
    for skills in [&profile.offers, &profile.wants, &profile.knows] {
        assert!(skills.len() <= MAX_ITEMS);
        let mut keys = HashSet::new();
        for skill in skills {
            check_skill(skill, taxonomy);
            assert!(keys.insert(skill_key(skill)), "duplicate skill {skill:?}");
        }
    }
    // A skill both offered and known is simply offered.
    let offered: HashSet<String> = profile.offers.iter().map(skill_key).collect();
    assert!(
        profile
            .knows
            .iter()
            .all(|s| !offered.contains(&skill_key(s)))
    );
    for item in &profile.affiliations {
        assert!(!item.is_empty() && item.chars().count() <= MAX_ITEM_CHARS);
    }
    for list in [
        &profile.affiliations,
        &profile.projects,
        &profile.formats,
        &profile.contact,
    ] {
        assert!(list.len() <= MAX_ITEMS);
    }
    for language in &profile.languages {
        assert!(languages::is_well_formed(&language.code), "{language:?}");
    }
    let mut codes = HashSet::new();
    assert!(profile.languages.iter().all(|l| codes.insert(&l.code)));
    if let Some(code) = &profile.country {
        let country = find_country(code).expect("a country the parser found");
        assert_eq!(&country.code, code);
        assert_eq!(profile.region, Some(country.region));
    }
    if let Some(zone) = &profile.timezone {
        assert_eq!(
            normalize_timezone(zone).as_ref(),
            Some(zone),
            "not normalised"
        );
    }
    for (text, max) in [
        (&profile.bio, MAX_BIO_CHARS),
        (&profile.availability, MAX_AVAILABILITY_CHARS),
    ] {
        if let Some(text) = text {
            assert!(!text.is_empty() && text.chars().count() <= max);
        }
    }
}

fn check_skill(skill: &SkillRef, taxonomy: &Taxonomy) {
    match skill {
        SkillRef::Known { id, .. } => assert!(taxonomy.get(id).is_some(), "{id}"),
        SkillRef::Free { text } => {
            assert!(!text.is_empty() && text.chars().count() <= MAX_ITEM_CHARS);
        }
    }
}

fn check_connections(text: &str, taxonomy: &Taxonomy) {
    let thanks = parse_thanks(text, &TemplateNames::thanks(), taxonomy);
    assert!(thanks.thanks.len() <= MAX_THANKS_PER_PAGE);
    for t in &thanks.thanks {
        // A user name as MediaWiki normalises it.
        assert!(!t.user.is_empty() && !t.user.contains('/'), "{:?}", t.user);
        assert!(
            !t.user.starts_with(' ') && !t.user.ends_with(' ') && !t.user.contains("  "),
            "{:?}",
            t.user
        );
        assert!(
            !t.user
                .contains(|c: char| "<>[]{}|#".contains(c) || c.is_control()),
            "{:?}",
            t.user
        );
        if let Some(skill) = &t.skill {
            check_skill(skill, taxonomy);
        }
        if let Some(note) = &t.note {
            assert!(!note.is_empty() && note.chars().count() <= MAX_NOTE_CHARS);
        }
    }
    let requests = parse_requests(text, &TemplateNames::request(), taxonomy);
    assert!(requests.requests.len() <= MAX_REQUESTS_PER_PAGE);
    for request in &requests.requests {
        if let Some(skill) = &request.skill {
            check_skill(skill, taxonomy);
        }
    }
}

/// Reads bytes as what a person typed into the profile builder: one field a line, in turn
/// (offers, wants, knows, languages, country, timezone, affiliations, projects, formats,
/// contact, availability, bio, then again); list items are separated by tabs, a language
/// is `code level`. Status and recognition come from the number of lines.
pub fn profile_input(text: &str) -> ProfileInput {
    let mut input = ProfileInput::default();
    let lines: Vec<&str> = text.split('\n').collect();
    let list = |line: &str| line.split('\t').map(str::to_string).collect::<Vec<_>>();
    for (i, line) in lines.iter().enumerate() {
        match i % 12 {
            0 => input.offers.extend(list(line)),
            1 => input.wants.extend(list(line)),
            2 => input.knows.extend(list(line)),
            3 => input.languages.extend(line.split('\t').map(|pair| {
                let (code, level) = pair.split_once(' ').unwrap_or((pair, ""));
                (code.to_string(), level.to_string())
            })),
            4 => input.country = line.to_string(),
            5 => input.timezone = line.to_string(),
            6 => input.affiliations.extend(list(line)),
            7 => input.projects.extend(list(line)),
            8 => input.formats.extend(list(line)),
            9 => input.contact.extend(list(line)),
            10 => input.availability = line.to_string(),
            _ => input.bio = line.to_string(),
        }
    }
    input.status = if lines.len().is_multiple_of(2) {
        Status::Active
    } else {
        Status::Paused
    };
    input.recognition = lines.len().is_multiple_of(3);
    input
}

/// "When [`write`] accepts an input, parsing its wikitext gives a profile with exactly the
/// items written (free text kept as typed, names the taxonomy knows resolved to its
/// skills)": the writer's promise, with text as the template holds it ([`clean_text`]).
pub fn check_round_trip(input: &ProfileInput, taxonomy: &Taxonomy) {
    let Ok(wikitext) = write(input) else {
        return;
    };
    let page = PageContext {
        title: TITLE.into(),
        ..PageContext::default()
    };
    let parsed = parse_page(&wikitext, &page, &ProfileTemplate::default(), taxonomy);
    assert!(
        parsed.warnings.is_empty(),
        "{wikitext}\n{:?}",
        parsed.warnings
    );
    let profile = parsed.profile.expect("the written text calls the template");
    assert_eq!(
        profile,
        expected_profile(input, taxonomy),
        "{input:#?}\n{wikitext}"
    );
}

fn expected_profile(input: &ProfileInput, taxonomy: &Taxonomy) -> Profile {
    let mut p = Profile::empty(OWNER, TITLE);
    p.offers = expected_skills(&input.offers, taxonomy);
    p.wants = expected_skills(&input.wants, taxonomy);
    let offered: HashSet<String> = p.offers.iter().map(skill_key).collect();
    p.knows = expected_skills(&input.knows, taxonomy)
        .into_iter()
        .filter(|s| !offered.contains(&skill_key(s)))
        .collect();
    p.languages = input
        .languages
        .iter()
        .map(|(code, level)| (code.trim().to_ascii_lowercase(), level))
        .filter(|(code, _)| !code.is_empty())
        .map(|(code, level)| LanguageSkill {
            code,
            level: Level::from_str(level.trim()).expect("the writer accepted the level"),
        })
        .collect();
    if let Some(country) = find_country(&clean_text(&input.country)) {
        p.country = Some(country.code.clone());
        p.region = Some(country.region);
    }
    p.timezone = normalize_timezone(&clean_text(&input.timezone));
    p.affiliations = expected_texts(input.affiliations.iter().map(|a| clean_text(a)));
    p.projects = expected_texts(input.projects.iter().map(|a| project_key(&clean_text(a))));
    p.formats = expected_keywords(&input.formats, KNOWN_FORMATS);
    p.contact = expected_keywords(&input.contact, KNOWN_CONTACTS);
    p.availability = Some(clean_text(&input.availability)).filter(|t| !t.is_empty());
    p.bio = Some(clean_text(&input.bio)).filter(|t| !t.is_empty());
    p.status = input.status;
    p.recognition = input.recognition;
    p
}

/// The skill a profile gets for a typed name: the taxonomy's, or the text itself. A
/// prefixed link target ("w:Lua") names the skill of its last segment.
fn expected_skill(text: String, taxonomy: &Taxonomy) -> SkillRef {
    let found = taxonomy.resolve(&text).or_else(|| {
        text.rsplit_once(':')
            .and_then(|(_, last)| taxonomy.resolve(last))
    });
    match found {
        Some(skill) => SkillRef::Known {
            id: skill.id.clone(),
            label: taxonomy.label(skill, "en").to_string(),
        },
        None => SkillRef::Free { text },
    }
}

fn skill_key(skill: &SkillRef) -> String {
    match skill {
        SkillRef::Known { id, .. } => format!("id:{id}"),
        SkillRef::Free { text } => format!("text:{}", fold(text)),
    }
}

fn expected_skills(items: &[String], taxonomy: &Taxonomy) -> Vec<SkillRef> {
    let mut seen = HashSet::new();
    items
        .iter()
        .map(|i| clean_text(i))
        .filter(|t| !t.is_empty())
        .map(|t| expected_skill(t, taxonomy))
        .filter(|s| seen.insert(skill_key(s)))
        .collect()
}

fn expected_texts(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    items
        .filter(|t| !t.is_empty() && seen.insert(fold(t)))
        .collect()
}

fn expected_keywords(items: &[String], known: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let key = item.trim();
        if !key.is_empty() && !out.iter().any(|k| k == key) {
            assert!(known.contains(&key), "the writer accepted {key:?}");
            out.push(key.to_string());
        }
    }
    out
}

/// `fuzz_targets/xml_import.rs`: the export reader and the trust rules on any bytes. The
/// export is read twice, once whole and once in small chunks of varying size, which must
/// give the same pages (or the same error): what a page holds cannot depend on how the
/// file happens to be buffered (plain, gzip, bzip2).
pub fn xml_import(data: &[u8]) {
    let whole = read_pages(data);
    let chunked = read_pages(Chunked {
        data,
        pos: 0,
        step: 0,
    });
    assert_eq!(whole, chunked, "the pages depend on the buffering");
    let Ok(pages) = whole else {
        return;
    };
    let taxonomy = Taxonomy::bundled();
    let canonical = Title::parse(PROFILE_TEMPLATE, NS_TEMPLATE);
    let mut aliases: Vec<String> = Vec::new();
    let mut template = ProfileTemplate::default();
    let mut collection = Collection::new();
    for page in &pages {
        assert!(
            page.title.len() <= 4096,
            "fields other than text are capped"
        );
        let owner = Title::parse(&page.title, NS_MAIN)
            .filter(|t| t.namespace == NS_USER)
            .and_then(|t| t.owner().map(str::to_string));
        for revision in [&page.latest, &page.owner_latest].into_iter().flatten() {
            let size = revision.text.as_ref().map_or(0, String::len);
            assert!(size <= MAX_TEXT_BYTES);
        }
        if let Some(revision) = &page.owner_latest {
            // "The newest revision saved by the page's owner with readable text."
            assert!(owner.is_some() && revision.user == owner, "{page:?}");
            assert!(revision.text.is_some());
        }
        // The import's alias rule: a redirect to the template in the Template namespace.
        if page.namespace == NS_TEMPLATE {
            let target = page
                .redirect
                .as_deref()
                .and_then(|t| Title::parse(t, NS_MAIN));
            if target.is_some()
                && target == canonical
                && let Some(alias) = Title::parse(&page.title, NS_MAIN)
            {
                aliases.push(alias.as_call_name());
                template = ProfileTemplate::with_aliases(&aliases);
            }
            continue;
        }
        let harvest = harvest_page(page, &template, taxonomy);
        if let Ok(parsed) = &harvest.outcome {
            let profile = parsed.profile.as_ref().expect("a harvest gives a profile");
            assert_eq!(Some(&profile.user), harvest.owner.as_ref());
            assert!(harvest.transcludes);
        }
        if page.namespace == NS_USER {
            collection.add(page, harvest);
        }
    }
    // One profile per person.
    let profiles = collection.profiles();
    let mut users = HashSet::new();
    assert!(profiles.iter().all(|p| users.insert(&p.user)));
}

/// Every page of an export, or the error's message.
fn read_pages<R: BufRead>(input: R) -> Result<Vec<PageHistory>, String> {
    let mut reader = DumpReader::new(input);
    let mut pages = Vec::new();
    loop {
        match reader.next_page() {
            Ok(Some(page)) => pages.push(page),
            Ok(None) => return Ok(pages),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Hands out its bytes in chunks of 1 to 7 bytes, cutting UTF-8 sequences and tags.
struct Chunked<'a> {
    data: &'a [u8],
    pos: usize,
    step: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Chunked<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let len = 1 + self.step % 7;
        let end = (self.pos + len).min(self.data.len());
        Ok(&self.data[self.pos..end])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.data.len());
        self.step += 1;
    }
}
