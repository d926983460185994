//! The statistics page: the movement-wide numbers as charts, each with a table of the same
//! numbers.
//!
//! Nothing is counted here. The numbers are `exchange::stats::Stats`, computed once when a
//! snapshot is opened (see `state.rs`) and shared with `/api/v1/stats` and the on-wiki
//! reports, so the three always agree; this module only picks the rows to show, translates
//! their labels and draws them (`crate::charts`). That keeps the page a few milliseconds of
//! string building whatever the number of profiles: every list it reads is either short
//! (roots, regions, taxonomy skills) or already sorted by the library, so it takes the first
//! [`TOP`] rows.
//!
//! Charts are SVG written on the server (see `charts.rs` for why); each is followed by a
//! table with a caption and header cells, in a `<details>` element so the page stays short,
//! where the rows link to the matching search.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use exchange::connections::{GroupConnections, STATS_LANGUAGE_LEVEL, SkillConnections};
use exchange::languages;
use exchange::profile::SkillRef;
use exchange::stats::{self, Stats};
use exchange::taxonomy::Taxonomy;
use minijinja::{Value, context};

use super::*;
use crate::charts::{self, BLUE, Chart, Direction, ORANGE, Row, Series};
use crate::state::AppState;

/// How many rows the long lists (skills, languages, unmet needs, groups) show.
pub const TOP: usize = 20;
/// How many months of requests and thanks are shown: the most recent two years.
pub const MONTHS: usize = 24;

/// One cell of a table: its text, a link when the row leads to a search, and whether it is
/// a number (aligned to the end, no bidi isolation needed).
#[derive(Debug)]
struct Cell {
    text: String,
    href: Option<String>,
    num: bool,
}

impl Cell {
    fn text(text: impl Into<String>, href: Option<String>) -> Cell {
        Cell {
            text: text.into(),
            href,
            num: false,
        }
    }

    fn num(n: usize) -> Cell {
        Cell {
            text: n.to_string(),
            href: None,
            num: true,
        }
    }

    fn num_link(n: usize, href: String) -> Cell {
        Cell {
            href: Some(href),
            ..Cell::num(n)
        }
    }

    fn into_value(self) -> Value {
        context! { text => self.text, href => self.href, num => self.num }
    }
}

/// The reader's language and what every section needs from it.
struct Page {
    lang: &'static str,
    direction: Direction,
    /// The legend of every offers-and-wants chart.
    offers: String,
    wants: String,
}

impl Page {
    fn msg(&self, key: &str, args: &[&str]) -> String {
        i18n::Catalog::global().message(self.lang, key, args)
    }

    /// A link to the search page with these filters, in the reader's language.
    fn search(&self, filters: &[(&str, &str)]) -> String {
        let mut href = String::from("/search?");
        for (k, v) in filters {
            href.push_str(k);
            href.push('=');
            href.push_str(&urlencode(v));
            href.push('&');
        }
        href.push_str("uselang=");
        href.push_str(self.lang);
        href
    }

    /// The name of a skill in the reader's language (free text as written).
    fn skill_label<'s>(&self, skill: &'s SkillRef) -> Cow<'s, str> {
        let taxonomy = Taxonomy::bundled();
        match skill {
            SkillRef::Known { id, label } => {
                taxonomy.get(id).map_or(Cow::Borrowed(label.as_str()), |s| {
                    Cow::Borrowed(taxonomy.label(s, self.lang))
                })
            }
            SkillRef::Free { text } => Cow::Borrowed(text.as_str()),
        }
    }

    /// A taxonomy skill's label by id, falling back to the English label in the statistics.
    fn taxonomy_label<'s>(&self, id: &str, english: &'s str) -> Cow<'s, str> {
        let taxonomy = Taxonomy::bundled();
        taxonomy.get(id).map_or(Cow::Borrowed(english), |s| {
            Cow::Owned(taxonomy.label(s, self.lang).to_string())
        })
    }

    /// A search for people who named a skill: by id for a taxonomy skill, by words for free
    /// text. `extra` adds filters (kind, language).
    fn skill_search(&self, skill: &SkillRef, extra: &[(&str, &str)]) -> String {
        let mut filters: Vec<(&str, &str)> = match skill {
            SkillRef::Known { id, .. } => vec![("skill", id.as_str())],
            SkillRef::Free { text } => vec![("q", text.as_str())],
        };
        filters.extend_from_slice(extra);
        self.search(&filters)
    }

    fn offers_wants(&self) -> [Series<'_>; 2] {
        [
            Series {
                name: &self.offers,
                colour: BLUE,
            },
            Series {
                name: &self.wants,
                colour: ORANGE,
            },
        ]
    }

    fn chart<'c>(&self, id: &'c str, title: &'c str, desc: &'c str) -> Chart<'c> {
        Chart {
            id,
            title,
            description: Some(desc),
            direction: self.direction,
        }
    }
}

/// One section of the page: a heading, an optional note, a chart and its table.
struct Section {
    id: &'static str,
    heading: String,
    note: Option<String>,
    svg: String,
    columns: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// Short tables are shown at once; long ones are folded.
    open: bool,
}

impl Section {
    fn into_value(self) -> Value {
        let rows: Vec<Vec<Value>> = self
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(Cell::into_value).collect())
            .collect();
        context! {
            id => self.id,
            heading => self.heading,
            note => self.note,
            svg => Value::from_safe_string(self.svg),
            columns => self.columns,
            rows => rows,
            open => self.open,
        }
    }
}

/// `GET /stats`: offers and wants per category and per skill, people per region and language,
/// unmet needs, group-learning opportunities, and the requests and thanks that count
/// (`exchange::connections`) in all, per skill, region, language and month.
pub async fn statistics(State(state): State<Arc<AppState>>, Lang(lang): Lang) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let catalog = i18n::Catalog::global();
    let page = Page {
        lang,
        direction: Direction::of(i18n::is_rtl(lang)),
        offers: catalog.message(lang, "capx-stats-offers", &[]),
        wants: catalog.message(lang, "capx-stats-wants", &[]),
    };
    let stats = &served.stats;
    let sections: Vec<Value> = [
        totals(&page, stats),
        roots(&page, stats),
        skills(&page, stats),
        regions(&page, stats),
        languages_section(&page, stats),
        unmet(&page, stats),
        groups(&page, stats),
        connections_totals(&page, stats),
        connections_skills(&page, stats),
        connections_regions(&page, stats),
        connections_languages(&page, stats),
        connections_months(&page, stats),
    ]
    .into_iter()
    .map(Section::into_value)
    .collect();
    let extra = context! {
        // Isolated, so the date reads as one left-to-right unit in Arabic text.
        as_of => page.msg(
            "capx-stats-as-of",
            &[&isolate(&stats.as_of.format("%Y-%m-%d %H:%M UTC").to_string())],
        ),
        as_of_iso => stats.as_of.to_rfc3339(),
        sections => sections,
    };
    render(lang, "statistics.html", extra, StatusCode::OK)
}

fn totals(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-totals", &[]);
    let t = &stats.totals;
    let rows = [
        (page.msg("capx-stats-total-all", &[]), t.profiles),
        (page.msg("capx-stats-total-active", &[]), t.active),
        (page.msg("capx-stats-total-paused", &[]), t.paused),
    ];
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let series = Series {
        name: &page.msg("capx-stats-col-people", &[]),
        colour: BLUE,
    };
    let chart_rows: Vec<(Cow<str>, usize)> = rows
        .iter()
        .map(|(label, n)| (Cow::Borrowed(label.as_str()), *n))
        .collect();
    let svg = charts::bar_chart(
        &page.chart("chart-totals", &heading, &desc),
        series,
        &chart_rows,
    );
    Section {
        id: "totals",
        note: None,
        svg,
        columns: vec![
            page.msg("capx-stats-col-status", &[]),
            page.msg("capx-stats-col-people", &[]),
        ],
        rows: rows
            .into_iter()
            .map(|(label, n)| vec![Cell::text(label, None), Cell::num(n)])
            .collect(),
        heading,
        open: true,
    }
}

fn roots(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-roots", &[]);
    let rows: Vec<(Cow<str>, &str, usize, usize)> = stats
        .roots
        .iter()
        .map(|r| {
            (
                page.taxonomy_label(&r.id, &r.label),
                r.id.as_str(),
                r.counts.offers,
                r.counts.wants,
            )
        })
        .collect();
    offers_wants_section(
        page,
        "roots",
        heading,
        Some(page.msg("capx-stats-roots-note", &[])),
        page.msg("capx-stats-col-category", &[]),
        &rows,
    )
}

fn skills(page: &Page, stats: &Stats) -> Section {
    let mut top: Vec<&stats::SkillStats> = stats
        .skills
        .iter()
        .filter(|s| s.counts.offers + s.counts.wants > 0)
        .collect();
    top.sort_by(|a, b| {
        let total = |s: &stats::SkillStats| s.counts.offers + s.counts.wants;
        total(b).cmp(&total(a)).then_with(|| a.id.cmp(&b.id))
    });
    top.truncate(TOP);
    let rows: Vec<(Cow<str>, &str, usize, usize)> = top
        .iter()
        .map(|s| {
            (
                page.taxonomy_label(&s.id, &s.label),
                s.id.as_str(),
                s.counts.offers,
                s.counts.wants,
            )
        })
        .collect();
    let n = rows.len().to_string();
    offers_wants_section(
        page,
        "skills",
        page.msg("capx-stats-offers-wants", &[]),
        Some(page.msg("capx-stats-skills-note", &[&n])),
        page.msg("capx-stats-col-skill", &[]),
        &rows,
    )
}

/// A section of taxonomy skills (or categories) with offers and wants: grouped bars, and a
/// table whose rows link to the search for the skill.
fn offers_wants_section(
    page: &Page,
    id: &'static str,
    heading: String,
    note: Option<String>,
    first_column: String,
    rows: &[(Cow<str>, &str, usize, usize)],
) -> Section {
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let chart_id = format!("chart-{id}");
    let chart_rows: Vec<Row> = rows
        .iter()
        .map(|(label, _, offers, wants)| Row::new(label.as_ref(), vec![*offers, *wants]))
        .collect();
    let svg = charts::grouped_bar_chart(
        &page.chart(&chart_id, &heading, &desc),
        &page.offers_wants(),
        &chart_rows,
    );
    let table = rows
        .iter()
        .map(|(label, skill, offers, wants)| {
            vec![
                Cell::text(label.as_ref(), Some(page.search(&[("skill", skill)]))),
                Cell::num_link(
                    *offers,
                    page.search(&[("skill", skill), ("kind", "offers")]),
                ),
                Cell::num_link(*wants, page.search(&[("skill", skill), ("kind", "wants")])),
            ]
        })
        .collect();
    Section {
        id,
        heading,
        note,
        svg,
        columns: vec![
            first_column,
            page.msg("capx-stats-offers", &[]),
            page.msg("capx-stats-wants", &[]),
        ],
        rows: table,
        open: false,
    }
}

fn regions(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-regions", &[]);
    let names: Vec<String> = stats
        .regions
        .iter()
        .map(|r| page.msg(&format!("capx-region-{}", r.code.to_ascii_lowercase()), &[]))
        .collect();
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let chart_rows: Vec<(Cow<str>, usize)> = stats
        .regions
        .iter()
        .zip(&names)
        .map(|(r, name)| (Cow::Borrowed(name.as_str()), r.profiles))
        .collect();
    let svg = charts::bar_chart(
        &page.chart("chart-regions", &heading, &desc),
        Series {
            name: &page.msg("capx-stats-col-people", &[]),
            colour: BLUE,
        },
        &chart_rows,
    );
    let without = stats.totals.without_region;
    Section {
        id: "regions",
        note: (without > 0).then(|| page.msg("capx-stats-without-region", &[&without.to_string()])),
        svg,
        columns: vec![
            page.msg("capx-stats-col-region", &[]),
            page.msg("capx-stats-col-people", &[]),
            page.msg("capx-stats-col-active", &[]),
        ],
        rows: stats
            .regions
            .iter()
            .zip(names)
            .map(|(r, name)| {
                vec![
                    Cell::text(name, Some(page.search(&[("region", &r.code)]))),
                    Cell::num(r.profiles),
                    Cell::num(r.active),
                ]
            })
            .collect(),
        heading,
        open: false,
    }
}

/// Text set apart from the text around it (FSI … PDI), so a Latin skill name inside an Arabic
/// sentence, or the reverse, keeps its own direction; balanced first (`crate::bidi`), so
/// that free text cannot close the isolate early.
fn isolate(text: &str) -> String {
    crate::bidi::isolate_always(text)
}

/// A language's name for any reader: its own name (autonym) and code, as language menus
/// show them; the code alone when the language table does not know it.
fn language_name(code: &str) -> String {
    match languages::language(code) {
        Some(info) if !info.autonym.is_empty() => format!("{} ({code})", info.autonym),
        _ => code.to_string(),
    }
}

fn languages_section(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-languages", &[]);
    // Already most speakers first (`Stats::languages`).
    let top = &stats.languages[..stats.languages.len().min(TOP)];
    let names: Vec<String> = top.iter().map(|l| language_name(&l.code)).collect();
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let chart_rows: Vec<(Cow<str>, usize)> = top
        .iter()
        .zip(&names)
        .map(|(l, name)| (Cow::Borrowed(name.as_str()), l.speakers))
        .collect();
    let svg = charts::bar_chart(
        &page.chart("chart-languages", &heading, &desc),
        Series {
            name: &page.msg("capx-stats-col-speakers", &[]),
            colour: BLUE,
        },
        &chart_rows,
    );
    Section {
        id: "languages",
        note: Some(page.msg("capx-stats-languages-note", &[&top.len().to_string()])),
        svg,
        columns: vec![
            page.msg("capx-stats-col-language", &[]),
            page.msg("capx-stats-col-speakers", &[]),
            page.msg("capx-stats-col-level2", &[]),
            page.msg("capx-stats-col-native", &[]),
        ],
        rows: top
            .iter()
            .zip(names)
            .map(|(l, name)| {
                vec![
                    Cell::text(name, Some(page.search(&[("lang", &l.code)]))),
                    Cell::num(l.speakers),
                    Cell::num(l.level_2_or_native),
                    Cell::num(l.native),
                ]
            })
            .collect(),
        heading,
        open: false,
    }
}

fn unmet(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-unmet", &[]);
    // Already most unmet wanters first (`Stats::unmet_needs`).
    let top = &stats.unmet_needs[..stats.unmet_needs.len().min(TOP)];
    let labels: Vec<Cow<str>> = top.iter().map(|n| page.skill_label(&n.skill)).collect();
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let chart_rows: Vec<(Cow<str>, usize)> = top
        .iter()
        .zip(&labels)
        .map(|(n, label)| (Cow::Borrowed(label.as_ref()), n.unmet))
        .collect();
    let svg = charts::bar_chart(
        &page.chart("chart-unmet", &heading, &desc),
        Series {
            name: &page.msg("capx-stats-col-unmet", &[]),
            colour: ORANGE,
        },
        &chart_rows,
    );
    Section {
        id: "unmet",
        note: Some(page.msg("capx-stats-unmet-note", &[])),
        svg,
        columns: vec![
            page.msg("capx-stats-col-skill", &[]),
            page.msg("capx-stats-col-unmet", &[]),
            page.msg("capx-stats-col-wanters", &[]),
            page.msg("capx-stats-col-offerers", &[]),
        ],
        rows: top
            .iter()
            .zip(labels)
            .map(|(n, label)| {
                vec![
                    Cell::text(
                        label,
                        Some(page.skill_search(&n.skill, &[("kind", "wants")])),
                    ),
                    Cell::num(n.unmet),
                    Cell::num(n.wanters),
                    Cell::num(n.offerers),
                ]
            })
            .collect(),
        heading,
        open: false,
    }
}

fn groups(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-group", &[]);
    // Already most learners first (`Stats::group_opportunities`).
    let top = &stats.group_opportunities[..stats.group_opportunities.len().min(TOP)];
    let labels: Vec<(Cow<str>, String)> = top
        .iter()
        .map(|g| (page.skill_label(&g.skill), language_name(&g.language)))
        .collect();
    let row_labels: Vec<String> = labels
        .iter()
        .map(|(skill, language)| {
            page.msg(
                "capx-stats-group-row",
                &[&isolate(skill), &isolate(language)],
            )
        })
        .collect();
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let chart_rows: Vec<Row> = top
        .iter()
        .zip(&row_labels)
        .map(|(g, label)| Row::new(label.as_str(), vec![g.learners.len(), g.leaders.len()]))
        .collect();
    let series = [
        Series {
            name: &page.msg("capx-stats-col-learners", &[]),
            colour: ORANGE,
        },
        Series {
            name: &page.msg("capx-stats-col-leaders", &[]),
            colour: BLUE,
        },
    ];
    let svg = charts::grouped_bar_chart(
        &page.chart("chart-groups", &heading, &desc),
        &series,
        &chart_rows,
    );
    let min = stats::GROUP_MIN_LEARNERS.to_string();
    let leader_level = stats::LEADER_LANGUAGE_LEVEL.to_string();
    Section {
        id: "groups",
        note: Some(page.msg("capx-stats-group-note", &[&min, &leader_level])),
        svg,
        columns: vec![
            page.msg("capx-stats-col-skill", &[]),
            page.msg("capx-stats-col-language", &[]),
            page.msg("capx-stats-col-learners", &[]),
            page.msg("capx-stats-col-leaders", &[]),
        ],
        rows: top
            .iter()
            .zip(labels)
            .map(|(g, (skill, language))| {
                let lang_filter = [("lang", g.language.as_str())];
                vec![
                    Cell::text(skill, Some(page.skill_search(&g.skill, &[]))),
                    Cell::text(language, Some(page.search(&lang_filter))),
                    Cell::num_link(
                        g.learners.len(),
                        page.skill_search(&g.skill, &[("kind", "wants"), lang_filter[0]]),
                    ),
                    Cell::num_link(
                        g.leaders.len(),
                        page.skill_search(&g.skill, &[("kind", "offers"), lang_filter[0]]),
                    ),
                ]
            })
            .collect(),
        heading,
        open: false,
    }
}

fn connections_totals(page: &Page, stats: &Stats) -> Section {
    let heading = page.msg("capx-stats-connections", &[]);
    let c = &stats.connections;
    let rows = [
        (page.msg("capx-stats-connections-requests", &[]), c.requests),
        (page.msg("capx-stats-connections-thanks", &[]), c.thanks),
        (
            page.msg("capx-stats-connections-thanked", &[]),
            c.helpers_thanked,
        ),
        (
            page.msg("capx-stats-connections-thanking", &[]),
            c.learners_thanking,
        ),
    ];
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let number = page.msg("capx-stats-col-number", &[]);
    let chart_rows: Vec<(Cow<str>, usize)> = rows
        .iter()
        .map(|(label, n)| (Cow::Borrowed(label.as_str()), *n))
        .collect();
    let svg = charts::bar_chart(
        &page.chart("chart-connections", &heading, &desc),
        Series {
            name: &number,
            colour: BLUE,
        },
        &chart_rows,
    );
    Section {
        id: "connections",
        note: Some(page.msg("capx-stats-connections-note", &[])),
        svg,
        columns: vec![page.msg("capx-stats-col-measure", &[]), number.clone()],
        rows: rows
            .into_iter()
            .map(|(label, n)| vec![Cell::text(label, None), Cell::num(n)])
            .collect(),
        heading,
        open: true,
    }
}

/// One row of a requests-and-thanks section: its label, where it leads, and the numbers.
struct ConnectionRow {
    label: String,
    href: Option<String>,
    thanks: usize,
    requests: usize,
}

impl ConnectionRow {
    fn new(label: String, href: Option<String>, group: &GroupConnections) -> ConnectionRow {
        ConnectionRow {
            label,
            href,
            thanks: group.thanks,
            requests: group.requests,
        }
    }
}

/// A section of thanks and requests per group: grouped bars (thanks, then requests) and a
/// table with the same numbers.
fn connections_section(
    page: &Page,
    id: &'static str,
    heading: String,
    note: Option<String>,
    first_column: String,
    rows: Vec<ConnectionRow>,
) -> Section {
    let desc = page.msg("capx-stats-chart-desc", &[]);
    let thanks = page.msg("capx-stats-col-thanks", &[]);
    let requests = page.msg("capx-stats-col-requests", &[]);
    let chart_id = format!("chart-{id}");
    let chart_rows: Vec<Row> = rows
        .iter()
        .map(|r| Row::new(r.label.as_str(), vec![r.thanks, r.requests]))
        .collect();
    let series = [
        Series {
            name: &thanks,
            colour: BLUE,
        },
        Series {
            name: &requests,
            colour: ORANGE,
        },
    ];
    let svg = charts::grouped_bar_chart(
        &page.chart(&chart_id, &heading, &desc),
        &series,
        &chart_rows,
    );
    Section {
        id,
        heading,
        note,
        svg,
        columns: vec![first_column, thanks.clone(), requests.clone()],
        rows: rows
            .into_iter()
            .map(|r| {
                vec![
                    Cell::text(r.label, r.href),
                    Cell::num(r.thanks),
                    Cell::num(r.requests),
                ]
            })
            .collect(),
        open: false,
    }
}

/// A counted skill's name and search: a taxonomy skill by its label in the reader's
/// language, free text as first written, or "no skill named" (which leads nowhere).
fn connection_skill(page: &Page, skill: &SkillConnections) -> (String, Option<String>) {
    match (&skill.id, &skill.text) {
        (Some(id), _) => (
            page.taxonomy_label(id, id).into_owned(),
            Some(page.search(&[("skill", id)])),
        ),
        (None, Some(text)) => (text.clone(), Some(page.search(&[("q", text)]))),
        (None, None) => (page.msg("capx-recognition-no-skill", &[]), None),
    }
}

fn connections_skills(page: &Page, stats: &Stats) -> Section {
    // Already most thanks first (`ConnectionStats::per_skill`).
    let per_skill = &stats.connections.per_skill;
    let top = &per_skill[..per_skill.len().min(TOP)];
    let rows: Vec<ConnectionRow> = top
        .iter()
        .map(|s| {
            let (label, href) = connection_skill(page, s);
            ConnectionRow {
                label,
                href,
                thanks: s.thanks,
                requests: s.requests,
            }
        })
        .collect();
    let note = page.msg(
        "capx-stats-connections-skills-note",
        &[&rows.len().to_string()],
    );
    connections_section(
        page,
        "connections-skills",
        page.msg("capx-stats-connections-skills", &[]),
        Some(note),
        page.msg("capx-stats-col-skill", &[]),
        rows,
    )
}

fn connections_regions(page: &Page, stats: &Stats) -> Section {
    let rows = stats
        .connections
        .per_region
        .iter()
        .map(|g| {
            let name = page.msg(&format!("capx-region-{}", g.key.to_ascii_lowercase()), &[]);
            ConnectionRow::new(name, Some(page.search(&[("region", &g.key)])), g)
        })
        .collect();
    connections_section(
        page,
        "connections-regions",
        page.msg("capx-stats-connections-regions", &[]),
        Some(page.msg("capx-stats-connections-regions-note", &[])),
        page.msg("capx-stats-col-region", &[]),
        rows,
    )
}

fn connections_languages(page: &Page, stats: &Stats) -> Section {
    // Already most thanks first (`ConnectionStats::per_language`).
    let per_language = &stats.connections.per_language;
    let rows = per_language[..per_language.len().min(TOP)]
        .iter()
        .map(|g| {
            ConnectionRow::new(
                language_name(&g.key),
                Some(page.search(&[("lang", &g.key)])),
                g,
            )
        })
        .collect();
    let level = STATS_LANGUAGE_LEVEL.to_string();
    connections_section(
        page,
        "connections-languages",
        page.msg("capx-stats-connections-languages", &[]),
        Some(page.msg("capx-stats-connections-languages-note", &[&level])),
        page.msg("capx-stats-col-language", &[]),
        rows,
    )
}

fn connections_months(page: &Page, stats: &Stats) -> Section {
    // Oldest first; the most recent [`MONTHS`] are shown.
    let per_month = &stats.connections.per_month;
    let recent = &per_month[per_month.len().saturating_sub(MONTHS)..];
    let rows = recent
        .iter()
        .map(|g| ConnectionRow::new(g.key.clone(), None, g))
        .collect();
    connections_section(
        page,
        "connections-months",
        page.msg("capx-stats-connections-months", &[]),
        Some(page.msg("capx-stats-connections-months-note", &[&MONTHS.to_string()])),
        page.msg("capx-stats-col-month", &[]),
        rows,
    )
}
