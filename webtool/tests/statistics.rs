//! The statistics page over HTTP on loopback: it shows the numbers the library computes
//! (`exchange::stats::compute`), every chart comes with a table of the same numbers, the SVG
//! is well-formed XML, people's free text stays text, Arabic is right to left, and without
//! a snapshot the page says so with a 503. The connections sections show what
//! `exchange::connections` counts from the thanks and requests in the snapshot.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use exchange::connections::{self, RequestRecord, ThanksRecord};
use exchange::languages;
use exchange::profile::{Profile, SkillRef};
use exchange::stats::{self, Stats};
use exchange::store::{DataDir, ProfileRecord};
use exchange::taxonomy::Taxonomy;
use quick_xml::Reader;
use quick_xml::events::Event;
use webtool::i18n::Catalog;
use webtool::state::AppState;

async fn serve(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, webtool::router(state)).await.unwrap();
    });
    format!("http://{address}")
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The free-text skill written to break pages: it survives the profile parser as text
/// (an unclosed tag is not a tag), so it reaches the charts and tables as is.
const HOSTILE: &str = "<script src=x";

/// Six people: three Portuguese speakers who want the hostile skill (a group-learning
/// opportunity nobody can teach, so also an unmet need), a paused profile, two without a
/// country, several regions and languages. No two totals are equal, so a mix-up shows.
fn export() -> &'static [u8] {
    let profile = |fields: &str| format!("{{{{Capacity Exchange profile\n{fields}}}}}");
    let people = [
        (
            "Ana Souza",
            profile(&format!(
                "| offers = Lua; Wikidata\n| wants = grant writing; {HOSTILE}\n| languages = pt-N, en-3\n| country = BR\n"
            )),
        ),
        (
            "Bruno Lima",
            profile(&format!(
                "| offers = Wikidata\n| wants = {HOSTILE}; Lua\n| languages = pt-N\n| country = PT\n"
            )),
        ),
        (
            "Carla Dias",
            profile(&format!(
                "| wants = {HOSTILE}; R&D\n| languages = pt-4, es-2\n"
            )),
        ),
        (
            "Dina Hassan",
            profile(
                "| offers = grant writing\n| wants = Lua\n| languages = ar-N, en-2\n| country = EG\n",
            ),
        ),
        (
            "Eve Paused",
            profile("| offers = Lua\n| languages = en-N\n| country = US\n| status = paused\n"),
        ),
        (
            "Farid",
            profile("| wants = Commons batch uploads\n| languages = fa-N, ar-3\n"),
        ),
    ];
    let mut xml = String::from("<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\">");
    for (i, (user, text)) in people.iter().enumerate() {
        let id = i + 1;
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        xml.push_str(&format!(
            "<page><title>User:{user}</title><ns>2</ns><id>{id}</id><revision><id>{}</id><timestamp>2026-01-0{id}T00:00:00Z</timestamp><contributor><username>{user}</username><id>{id}</id></contributor><text xml:space=\"preserve\">{escaped}</text></revision></page>",
            id * 10
        ));
    }
    xml.push_str("</mediawiki>");
    Box::leak(xml.into_bytes().into_boxed_slice())
}

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 0).unwrap()
}

fn known(name: &str) -> Option<SkillRef> {
    let taxonomy = Taxonomy::bundled();
    let skill = taxonomy.resolve(name).unwrap();
    Some(SkillRef::Known {
        id: skill.id.clone(),
        label: taxonomy.label(skill, "en").to_string(),
    })
}

fn thanks(thanker: &str, thanked: &str, skill: Option<SkillRef>, month: u32) -> ThanksRecord {
    ThanksRecord {
        page: format!("User:{thanker}"),
        revid: u64::from(month),
        timestamp: at(month, 10),
        thanker: thanker.into(),
        thanker_registered: None,
        thanked: thanked.into(),
        skill,
        date: NaiveDate::from_ymd_opt(2026, month, 1),
        note: None,
    }
}

fn request(requester: &str, page: &str, skill: Option<SkillRef>, month: u32) -> RequestRecord {
    RequestRecord {
        page: page.into(),
        revid: u64::from(month),
        timestamp: at(month, 20),
        requester: requester.into(),
        skill,
    }
}

/// Thanks and requests among the fixture's people, in three months: taxonomy skills, the
/// hostile free text, no skill, a self-thanks and a marker off a talk page (neither
/// counts), and a thanks for someone without a profile (no region, no language).
fn connection_records() -> (Vec<ThanksRecord>, Vec<RequestRecord>) {
    let hostile = Some(SkillRef::Free {
        text: HOSTILE.into(),
    });
    let thanks = vec![
        thanks("Bruno Lima", "Ana Souza", known("Lua"), 1),
        thanks("Carla Dias", "Ana Souza", known("Lua"), 2),
        thanks("Dina Hassan", "Ana Souza", hostile, 3),
        thanks("Ana Souza", "Dina Hassan", known("grant writing"), 3),
        thanks("Ana Souza", "Ana Souza", known("Lua"), 3),
        thanks("Eve Paused", "Nobody Yet", known("Wikidata"), 2),
    ];
    let requests = vec![
        request("Bruno Lima", "User talk:Ana Souza", known("Lua"), 1),
        request(
            "Carla Dias",
            "User talk:Ana Souza/Archive 1",
            known("Lua"),
            2,
        ),
        request("Farid", "User talk:Dina Hassan", None, 3),
        request("Bruno Lima", "User:Ana Souza", known("Lua"), 3),
    ];
    (thanks, requests)
}

/// Serves the fixture; also returns the statistics the library computes from the published
/// profiles and the connection records, independently of the web tool.
async fn site() -> (tempfile::TempDir, String, Stats) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let bytes = export();
    let open = || Ok(exchange::dump::open_bytes(bytes));
    exchange::import::import(&open, &data, "test", &mut |_| {}).unwrap();
    let mut profiles: Vec<Profile> = Vec::new();
    data.open_current()
        .unwrap()
        .for_each_profile(|p| {
            profiles.push(p);
            Ok(())
        })
        .unwrap();
    // The same profiles again, with the thanks and requests a crawl would add.
    let (thanks, requests) = connection_records();
    let mut builder = data.begin("test with connections").unwrap();
    for p in &profiles {
        builder
            .add_profile(ProfileRecord {
                profile: p,
                page_id: None,
                accepts_email: false,
            })
            .unwrap();
    }
    for t in &thanks {
        builder.add_thanks(t).unwrap();
    }
    for r in &requests {
        builder.add_request(r).unwrap();
    }
    builder.publish().unwrap();
    let counts = connections::count(&thanks, &requests);
    let expected = stats::compute(&profiles, &counts, Taxonomy::bundled(), chrono::Utc::now());
    let state = Arc::new(AppState::new(data));
    state.refresh();
    let base = serve(state).await;
    (dir, base, expected)
}

fn msg(lang: &str, key: &str) -> String {
    Catalog::global().message(lang, key, &[])
}

/// What the templates' escaping turns back into.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The targets of the links in some HTML, as the browser reads them.
fn links(html: &str) -> Vec<String> {
    html.split("<a href=\"")
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find('"').unwrap()]))
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(out.trim())
}

/// One `<section>` of the page, by its id: the raw HTML between its tags.
fn section<'p>(page: &'p str, id: &str) -> &'p str {
    let start = page
        .find(&format!("<section class=\"stats-section\" id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = start + page[start..].find("</section>").unwrap();
    &page[start..end]
}

/// The body rows of the section's table, each as the text of its cells.
fn table_rows(section: &str) -> Vec<Vec<String>> {
    let table = &section[section.find("<table").expect("a table")..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            let mut cells = Vec::new();
            let mut rest = row;
            while let Some(open) = rest.find(['<']) {
                let tag = &rest[open..];
                let close_tag = if tag.starts_with("<th") {
                    "</th>"
                } else if tag.starts_with("<td") {
                    "</td>"
                } else {
                    rest = &rest[open + 1..];
                    continue;
                };
                let content_start = open + tag.find('>').unwrap() + 1;
                let content_end = content_start + rest[content_start..].find(close_tag).unwrap();
                cells.push(strip_tags(&rest[content_start..content_end]));
                rest = &rest[content_end + close_tag.len()..];
            }
            cells
        })
        .collect()
}

/// A chart as an XML parser reads it. Parsing fails the test on any malformed markup: an
/// unclosed or mismatched tag, a bad attribute, an unknown entity.
#[derive(Debug, Default)]
struct Svg {
    title: String,
    direction: String,
    /// Per row (`<g class="chart-row">`): the texts, label first, then one number per series.
    rows: Vec<Vec<String>>,
    /// Per row: `(x, width)` of each bar.
    bars: Vec<Vec<(f64, f64)>>,
}

fn parse_svg(svg: &str) -> Svg {
    let mut reader = Reader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let mut out = Svg::default();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> Option<String> {
        e.attributes()
            .map(|a| a.expect("a well-formed attribute"))
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.value.to_string())
    };
    loop {
        match reader.read_event().expect("well-formed SVG") {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "svg" {
                    assert!(stack.is_empty(), "one root");
                    assert_eq!(attr(&e, "role").as_deref(), Some("img"));
                    let labelled = attr(&e, "aria-labelledby").expect("aria-labelledby");
                    assert!(svg.contains(&format!("<title id=\"{labelled}\">")));
                    assert!(attr(&e, "viewBox").is_some() && attr(&e, "width").is_none());
                    out.direction = attr(&e, "direction").unwrap_or_default();
                }
                if name == "g" && attr(&e, "class").as_deref() == Some("chart-row") {
                    out.rows.push(Vec::new());
                    out.bars.push(Vec::new());
                }
                stack.push(name);
                text.clear();
            }
            Event::Empty(e)
                if e.name().as_ref() == "rect" && stack.last().is_some_and(|t| t == "g") =>
            {
                let number = |n: &str| attr(&e, n).unwrap().parse::<f64>().unwrap();
                out.bars
                    .last_mut()
                    .unwrap()
                    .push((number("x"), number("width")));
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match r.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity {other:?}"),
                    },
                };
                text.push(c);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap();
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("title", Some("svg")) => out.title = text.clone(),
                    ("text", Some("g")) => out.rows.last_mut().unwrap().push(text.clone()),
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    out
}

/// The SVG of a section.
fn chart(section: &str) -> Svg {
    let start = section.find("<svg").expect("a chart");
    let end = section.find("</svg>").unwrap() + "</svg>".len();
    parse_svg(&section[start..end])
}

fn row(cells: &[&dyn ToString]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn skill_label(skill: &SkillRef, lang: &str) -> String {
    let taxonomy = Taxonomy::bundled();
    match skill.id().and_then(|id| taxonomy.get(id)) {
        Some(s) => taxonomy.label(s, lang).to_string(),
        None => skill.display().to_string(),
    }
}

fn language_name(code: &str) -> String {
    match languages::language(code) {
        Some(info) => format!("{} ({code})", info.autonym),
        None => code.to_string(),
    }
}

/// Every chart's rows show the same label and numbers as its table's rows (the table may have
/// more columns, after the charted ones).
fn assert_chart_matches_table(id: &str, svg: &Svg, table: &[Vec<String>], columns: &[usize]) {
    assert_eq!(
        svg.rows.len(),
        table.len(),
        "{id}: one chart row per table row"
    );
    for (chart_row, table_row) in svg.rows.iter().zip(table) {
        let wanted: Vec<&str> = std::iter::once(0)
            .chain(columns.iter().copied())
            .map(|c| table_row[c].as_str())
            .collect();
        let got: Vec<&str> = chart_row.iter().map(String::as_str).collect();
        // The group chart labels rows "skill (language)": its label holds both cells.
        assert!(got[0].contains(wanted[0]), "{id}: {got:?} vs {wanted:?}");
        assert_eq!(got[1..], wanted[1..], "{id}");
    }
}

#[tokio::test]
async fn the_page_shows_the_librarys_numbers_in_charts_and_tables() {
    let (_dir, base, expected) = site().await;
    let (status, page) = get(format!("{base}/stats?uselang=en")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(page.contains(&format!("<h1>{}</h1>", msg("en", "capx-stats-heading"))));
    // The date the numbers are for: the served statistics' own, as the API gives them.
    let served: Stats = reqwest::get(format!("{base}/api/v1/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page.contains(&served.as_of.format("%Y-%m-%d %H:%M UTC").to_string()));
    assert!(page.contains(&format!("datetime=\"{}\"", served.as_of.to_rfc3339())));

    // Every section has a heading, a chart and a table with a caption and header cells.
    let ids = [
        "totals",
        "roots",
        "skills",
        "regions",
        "languages",
        "unmet",
        "groups",
        "connections",
        "connections-skills",
        "connections-regions",
        "connections-languages",
        "connections-months",
    ];
    assert_eq!(page.matches("<svg").count(), ids.len());
    assert_eq!(page.matches("<table").count(), ids.len());
    for id in ids {
        let s = section(&page, id);
        assert!(s.contains(&format!("<h2 id=\"{id}-heading\">")), "{id}");
        assert!(s.find("<svg").unwrap() < s.find("<table").unwrap(), "{id}");
        assert!(s.contains("<caption>"), "{id}");
        assert!(s.contains("<th scope=\"col\">"), "{id}");
        assert!(s.contains("<th scope=\"row\">"), "{id}");
        let svg = chart(s);
        let heading = strip_tags(&s[s.find("<h2").unwrap()..s.find("</h2>").unwrap()]);
        assert_eq!(
            svg.title, heading,
            "{id}: the chart is named by its heading"
        );
        assert_eq!(svg.direction, "ltr");
    }

    // Totals.
    let t = expected.totals;
    let totals = table_rows(section(&page, "totals"));
    assert_eq!(
        totals,
        [
            row(&[&msg("en", "capx-stats-total-all"), &t.profiles]),
            row(&[&msg("en", "capx-stats-total-active"), &t.active]),
            row(&[&msg("en", "capx-stats-total-paused"), &t.paused]),
        ]
    );
    assert!(t.paused > 0 && t.active > 0, "the fixture has both");
    assert!(t.paused != t.without_region && t.paused != t.active);
    assert_chart_matches_table("totals", &chart(section(&page, "totals")), &totals, &[1]);

    // Offers and wants per root category, every root in taxonomy order.
    let roots = table_rows(section(&page, "roots"));
    let wanted: Vec<Vec<String>> = expected
        .roots
        .iter()
        .map(|r| {
            let label = skill_label(
                &SkillRef::Known {
                    id: r.id.clone(),
                    label: r.label.clone(),
                },
                "en",
            );
            row(&[&label, &r.counts.offers, &r.counts.wants])
        })
        .collect();
    assert_eq!(roots, wanted);
    assert!(expected.roots.iter().any(|r| r.counts.offers > 0));
    assert_chart_matches_table("roots", &chart(section(&page, "roots")), &roots, &[1, 2]);

    // Per skill: those offered or wanted, most first, at most 20.
    let mut top: Vec<&stats::SkillStats> = expected
        .skills
        .iter()
        .filter(|s| s.counts.offers + s.counts.wants > 0)
        .collect();
    top.sort_by_key(|s| {
        (
            std::cmp::Reverse(s.counts.offers + s.counts.wants),
            s.id.clone(),
        )
    });
    top.truncate(20);
    assert!(top.len() >= 3, "the fixture names several taxonomy skills");
    let skills_section = section(&page, "skills");
    let skills = table_rows(skills_section);
    let wanted: Vec<Vec<String>> = top
        .iter()
        .map(|s| {
            let label = Taxonomy::bundled().label(Taxonomy::bundled().get(&s.id).unwrap(), "en");
            row(&[&label, &s.counts.offers, &s.counts.wants])
        })
        .collect();
    assert_eq!(skills, wanted);
    let links = links(skills_section);
    for s in &top {
        let href = format!("/search?skill={}&uselang=en", s.id);
        assert!(links.contains(&href), "{href} in {links:?}");
    }
    assert_chart_matches_table("skills", &chart(skills_section), &skills, &[1, 2]);

    // Regions: all eight, with translated names.
    let regions = table_rows(section(&page, "regions"));
    let wanted: Vec<Vec<String>> = expected
        .regions
        .iter()
        .map(|r| {
            let name = msg("en", &format!("capx-region-{}", r.code.to_lowercase()));
            row(&[&name, &r.profiles, &r.active])
        })
        .collect();
    assert_eq!(regions, wanted);
    assert_eq!(regions.len(), 8);
    assert_chart_matches_table("regions", &chart(section(&page, "regions")), &regions, &[1]);
    assert!(
        t.without_region > 0,
        "the fixture has a profile without a country"
    );
    assert!(
        section(&page, "regions").contains(&Catalog::global().message(
            "en",
            "capx-stats-without-region",
            &[&t.without_region.to_string()]
        ))
    );

    // Languages, most speakers first.
    let langs = table_rows(section(&page, "languages"));
    let wanted: Vec<Vec<String>> = expected
        .languages
        .iter()
        .take(20)
        .map(|l| {
            row(&[
                &language_name(&l.code),
                &l.speakers,
                &l.level_2_or_native,
                &l.native,
            ])
        })
        .collect();
    assert_eq!(langs, wanted);
    assert!(langs.len() >= 4);
    assert_chart_matches_table(
        "languages",
        &chart(section(&page, "languages")),
        &langs,
        &[1],
    );

    // Unmet needs.
    let unmet = table_rows(section(&page, "unmet"));
    let wanted: Vec<Vec<String>> = expected
        .unmet_needs
        .iter()
        .take(20)
        .map(|n| {
            row(&[
                &skill_label(&n.skill, "en"),
                &n.unmet,
                &n.wanters,
                &n.offerers,
            ])
        })
        .collect();
    assert_eq!(unmet, wanted);
    assert!(!unmet.is_empty());
    assert_chart_matches_table("unmet", &chart(section(&page, "unmet")), &unmet, &[1]);

    // Group-learning opportunities.
    let groups = table_rows(section(&page, "groups"));
    let wanted: Vec<Vec<String>> = expected
        .group_opportunities
        .iter()
        .take(20)
        .map(|g| {
            row(&[
                &skill_label(&g.skill, "en"),
                &language_name(&g.language),
                &g.learners.len(),
                &g.leaders.len(),
            ])
        })
        .collect();
    assert_eq!(groups, wanted);
    assert!(
        !groups.is_empty(),
        "three Portuguese speakers want the same skill"
    );
    assert_chart_matches_table("groups", &chart(section(&page, "groups")), &groups, &[2, 3]);

    // Connections: the totals of what counts.
    let c = &expected.connections;
    let totals = table_rows(section(&page, "connections"));
    assert_eq!(
        totals,
        [
            row(&[&msg("en", "capx-stats-connections-requests"), &c.requests]),
            row(&[&msg("en", "capx-stats-connections-thanks"), &c.thanks]),
            row(&[
                &msg("en", "capx-stats-connections-thanked"),
                &c.helpers_thanked
            ]),
            row(&[
                &msg("en", "capx-stats-connections-thanking"),
                &c.learners_thanking
            ]),
        ]
    );
    // Self-thanks and the marker on a user page count for nothing.
    assert_eq!((c.requests, c.thanks), (3, 5), "{c:?}");
    assert_eq!((c.helpers_thanked, c.learners_thanking), (3, 5));
    assert_chart_matches_table(
        "connections",
        &chart(section(&page, "connections")),
        &totals,
        &[1],
    );

    // Per skill: taxonomy skills in the reader's language, free text as written, and
    // requests that named no skill.
    let skills_section = section(&page, "connections-skills");
    let per_skill = table_rows(skills_section);
    let wanted: Vec<Vec<String>> = c
        .per_skill
        .iter()
        .map(|s| {
            let label = match (&s.id, &s.text) {
                (Some(id), _) => Taxonomy::bundled()
                    .label(Taxonomy::bundled().get(id).unwrap(), "en")
                    .to_string(),
                (None, Some(text)) => text.clone(),
                (None, None) => msg("en", "capx-recognition-no-skill"),
            };
            row(&[&label, &s.thanks, &s.requests])
        })
        .collect();
    assert_eq!(per_skill, wanted);
    assert_eq!(
        per_skill.len(),
        5,
        "Lua, grant writing, Wikidata, free text, none"
    );
    assert_eq!(
        per_skill[0],
        row(&[&"Lua modules", &2, &2]),
        "most thanks first"
    );
    assert!(
        skills_section.contains("href=\"&#x2f;search?skill=lua-modules&amp;uselang=en\""),
        "{skills_section}"
    );
    assert_chart_matches_table(
        "connections-skills",
        &chart(skills_section),
        &per_skill,
        &[1, 2],
    );

    // Per region and language: of the person thanked or asked, from their profile.
    let regions = table_rows(section(&page, "connections-regions"));
    let wanted: Vec<Vec<String>> = c
        .per_region
        .iter()
        .map(|g| {
            let name = msg("en", &format!("capx-region-{}", g.key.to_lowercase()));
            row(&[&name, &g.thanks, &g.requests])
        })
        .collect();
    assert_eq!(regions, wanted);
    assert_eq!(
        regions,
        [
            row(&[&msg("en", "capx-region-lac"), &3, &2]),
            row(&[&msg("en", "capx-region-mena"), &1, &1]),
        ]
    );
    assert_chart_matches_table(
        "connections-regions",
        &chart(section(&page, "connections-regions")),
        &regions,
        &[1, 2],
    );
    let langs = table_rows(section(&page, "connections-languages"));
    let wanted: Vec<Vec<String>> = c
        .per_language
        .iter()
        .map(|g| row(&[&language_name(&g.key), &g.thanks, &g.requests]))
        .collect();
    assert_eq!(langs, wanted);
    assert!(
        langs.contains(&row(&[&language_name("pt"), &3, &2])),
        "{langs:?}"
    );
    assert_chart_matches_table(
        "connections-languages",
        &chart(section(&page, "connections-languages")),
        &langs,
        &[1, 2],
    );

    // Per month, oldest first.
    let months = table_rows(section(&page, "connections-months"));
    let wanted: Vec<Vec<String>> = c
        .per_month
        .iter()
        .map(|g| row(&[&g.key, &g.thanks, &g.requests]))
        .collect();
    assert_eq!(months, wanted);
    assert_eq!(
        months.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(),
        ["2026-01", "2026-02", "2026-03"]
    );
    assert_chart_matches_table(
        "connections-months",
        &chart(section(&page, "connections-months")),
        &months,
        &[1, 2],
    );
}

#[tokio::test]
async fn free_text_is_escaped_in_charts_and_tables() {
    let (_dir, base, expected) = site().await;
    assert!(
        expected
            .unmet_needs
            .iter()
            .any(|n| n.skill.display() == HOSTILE),
        "the fixture's hostile skill reaches the statistics: {:?}",
        expected.unmet_needs
    );
    let (_, page) = get(format!("{base}/stats")).await;
    assert!(!page.contains("<script"), "no markup from people's text");
    assert!(!page.contains("<b>"));
    for id in ["unmet", "groups", "connections-skills"] {
        let s = section(&page, id);
        let svg_start = s.find("<svg").unwrap();
        let svg_end = s.find("</svg>").unwrap();
        let (svg, table) = (&s[svg_start..svg_end], &s[svg_end..]);
        assert!(svg.contains("&lt;script src=x"), "{id}: escaped in the SVG");
        assert!(
            table.contains("&lt;script src=x"),
            "{id}: escaped in the table"
        );
        // And it reads back as the text people wrote.
        let chart = chart(s);
        assert!(
            chart.rows.iter().any(|r| r[0].contains(HOSTILE)),
            "{id}: {:?}",
            chart.rows
        );
        assert!(table_rows(s).iter().any(|r| r[0] == HOSTILE), "{id}");
    }
    // An ampersand in free text.
    let unmet = section(&page, "unmet");
    assert!(unmet.contains("R&amp;D"), "{unmet}");
    assert!(chart(unmet).rows.iter().any(|r| r[0] == "R&D"));
}

#[tokio::test]
async fn arabic_is_right_to_left_with_arabic_headings() {
    let (_dir, base, _) = site().await;
    let (status, page) = get(format!("{base}/stats?uselang=ar")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    let heading = msg("ar", "capx-stats-heading");
    assert_ne!(heading, msg("en", "capx-stats-heading"));
    assert!(page.contains(&format!("<h1>{heading}</h1>")));
    for (id, key) in [
        ("regions", "capx-stats-regions"),
        ("unmet", "capx-stats-unmet"),
        ("groups", "capx-stats-group"),
        ("connections-months", "capx-stats-connections-months"),
    ] {
        let s = section(&page, id);
        let h2 = msg("ar", key);
        assert!(s.contains(&format!(">{h2}</h2>")), "{id}: {h2}");
        let svg = chart(s);
        assert_eq!(svg.direction, "rtl", "{id}");
        assert_eq!(svg.title, h2);
        // Bars grow from the right edge.
        for bars in &svg.bars {
            for &(x, width) in bars {
                assert!((x + width - 392.0).abs() < 0.1, "{id}: x={x} width={width}");
            }
        }
    }
    // Region names in Arabic, in the table and the chart.
    let regions = section(&page, "regions");
    let mena = msg("ar", "capx-region-mena");
    assert!(table_rows(regions).iter().any(|r| r[0] == mena));
    assert!(chart(regions).rows.iter().any(|r| r[0] == mena));
}

#[tokio::test]
async fn no_snapshot_yet_is_a_503_page() {
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(AppState::new(DataDir::new(dir.path())));
    state.refresh();
    let base = serve(state).await;
    let (status, page) = get(format!("{base}/stats?uselang=fr")).await;
    assert_eq!(status, 503);
    assert!(page.contains("<html lang=\"fr\""));
    assert!(unescape(&page).contains(&msg("fr", "capx-no-snapshot")));
    assert!(!page.contains("<svg"));
}
