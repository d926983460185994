//! Bar charts drawn on the server, as SVG text put straight into the page.
//!
//! Why on the server, and why SVG:
//!
//! - **No JavaScript.** The pages work without scripts; a chart library in the browser would
//!   make the statistics page the one page that needs them, and would be the largest thing
//!   the tool sends.
//! - **The content security policy** allows no inline script or style. An SVG written into
//!   the page needs neither: colours are SVG presentation attributes (`fill=`), which the
//!   policy does not govern, and the rest comes from the stylesheet.
//! - **Slow links and small phones.** A chart is a few kilobytes of text that compresses well
//!   with the page, arrives with it (no second request, no layout jump), and scales to any
//!   width because its size is given only by `viewBox`.
//! - **Accessibility.** Each chart is one `role="img"` named by its `<title>`; the numbers
//!   themselves are in a table next to it, which screen readers navigate and people copy.
//!
//! Everything written here is escaped for XML: labels come from the taxonomy, from the
//! message files and from people's free text, and any of them may hold `<`, `&` or quotes.
//!
//! The layout puts each row's label on its own line above its bars, so a long label never
//! squeezes the bars and the chart stays readable on a narrow screen. For right-to-left
//! languages the chart is mirrored: bars grow from the right edge and labels start there.

use std::borrow::Cow;
use std::fmt::Write;

/// Width of the drawing in `viewBox` units. The SVG has no width of its own: the stylesheet
/// makes it as wide as its container (up to a limit), and text scales with it. 400 units
/// keep 14-unit text readable on a 360-pixel phone.
pub const WIDTH: f64 = 400.0;
/// Space between the drawing's edge and its content.
const PAD: f64 = 8.0;
/// Room kept after the longest bar for its number.
const VALUE_SPACE: f64 = 56.0;
/// The longest a bar can be.
pub const MAX_BAR: f64 = WIDTH - 2.0 * PAD - VALUE_SPACE;
const FONT_SIZE: f64 = 14.0;
const VALUE_FONT_SIZE: f64 = 13.0;
/// From the top of a row to the baseline of its label.
const LABEL_BASELINE: f64 = 14.0;
/// From the top of a row to its first bar.
const BARS_TOP: f64 = 20.0;
const BAR_HEIGHT: f64 = 14.0;
const BAR_GAP: f64 = 2.0;
const ROW_GAP: f64 = 10.0;
const LEGEND_HEIGHT: f64 = 24.0;
const SWATCH: f64 = 12.0;
/// Labels longer than this are cut, with an ellipsis; the full text is in the row's tooltip
/// and in the table beside the chart.
pub const MAX_LABEL_CHARS: usize = 48;

/// Codex `color-progressive`: the first series (offers). 5.4:1 against white.
pub const BLUE: &str = "#36c";
/// Codex yellow 700: the second series (wants). 4.5:1 against white, and told apart from the
/// blue by people with the common colour-vision deficiencies; position and legend tell them
/// apart too.
pub const ORANGE: &str = "#ac6600";
/// Codex `color-base`, for text.
const TEXT: &str = "#202122";

/// The writing direction of the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ltr,
    Rtl,
}

impl Direction {
    pub fn of(rtl: bool) -> Direction {
        if rtl { Direction::Rtl } else { Direction::Ltr }
    }

    fn attribute(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

/// What a chart is about: its accessible name and where it sits on the page.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    /// Unique on the page; the title's id is `{id}-title`. Letters, digits and `-` only.
    pub id: &'a str,
    /// The accessible name (`<title>`), read by screen readers instead of the drawing.
    pub title: &'a str,
    /// Optional longer description (`<desc>`), e.g. where the table with the numbers is.
    pub description: Option<&'a str>,
    pub direction: Direction,
}

/// One series of bars: a name for the legend and the tooltips, and a colour.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub name: &'a str,
    pub colour: &'a str,
}

/// One row: a label and one value per series.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub label: Cow<'a, str>,
    pub values: Vec<usize>,
}

impl<'a> Row<'a> {
    pub fn new(label: impl Into<Cow<'a, str>>, values: Vec<usize>) -> Row<'a> {
        Row {
            label: label.into(),
            values,
        }
    }
}

/// A horizontal bar chart with one bar per row.
pub fn bar_chart(chart: &Chart, series: Series, rows: &[(Cow<str>, usize)]) -> String {
    let rows: Vec<Row> = rows
        .iter()
        .map(|(label, value)| Row::new(label.as_ref(), vec![*value]))
        .collect();
    draw(chart, &[series], &rows, false)
}

/// A horizontal grouped bar chart: per row, one bar per series side by side (one above the
/// other), with a legend. A row with fewer values than series draws zeros for the rest.
pub fn grouped_bar_chart(chart: &Chart, series: &[Series], rows: &[Row]) -> String {
    draw(chart, series, rows, true)
}

/// The length of the bar for `value` when the longest bar is `max`: proportional, and zero
/// when everything is zero.
pub fn bar_length(value: usize, max: usize) -> f64 {
    if max == 0 {
        0.0
    } else {
        MAX_BAR * value as f64 / max as f64
    }
}

fn draw(chart: &Chart, series: &[Series], rows: &[Row], legend: bool) -> String {
    let n_series = series.len().max(1);
    let bars_height = n_series as f64 * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
    let row_height = BARS_TOP + bars_height + ROW_GAP;
    let top = PAD + if legend { LEGEND_HEIGHT } else { 0.0 };
    let height =
        top + rows.len() as f64 * row_height + PAD - if rows.is_empty() { 0.0 } else { ROW_GAP };
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .max()
        .unwrap_or(0);
    let dir = chart.direction;
    // A position measured from the start edge (left in LTR, right in RTL) → an x coordinate.
    let x_at = |from_start: f64| match dir {
        Direction::Ltr => from_start,
        Direction::Rtl => WIDTH - from_start,
    };
    // The left edge of a box that starts `from_start` from the start edge and is `len` long.
    let box_x = |from_start: f64, len: f64| match dir {
        Direction::Ltr => from_start,
        Direction::Rtl => WIDTH - from_start - len,
    };

    let id = safe_id(chart.id);
    // About 110 bytes per text and 100 per bar; one allocation for most charts.
    let mut svg = String::with_capacity(600 + rows.len() * (150 + 200 * n_series));
    // `direction` makes `text-anchor="start"` mean the right edge in RTL, per SVG 2, so the
    // same text elements serve both directions; it is set even for LTR so the drawing does
    // not depend on the page around it.
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-title"{described} direction="{d}" font-size="{fs}" fill="{TEXT}"><title id="{id}-title">{title}</title>"#,
        w = num(WIDTH),
        h = num(height),
        described = if chart.description.is_some() {
            format!(r#" aria-describedby="{id}-desc""#)
        } else {
            String::new()
        },
        d = dir.attribute(),
        fs = num(FONT_SIZE),
        title = escape(chart.title),
    );
    if let Some(description) = chart.description {
        let _ = write!(
            svg,
            r#"<desc id="{id}-desc">{}</desc>"#,
            escape(description)
        );
    }

    if legend {
        let mut offset = PAD;
        for s in series {
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{}" width="{SWATCH}" height="{SWATCH}" fill="{}"/><text x="{}" y="{}" text-anchor="start">{}</text>"#,
                num(box_x(offset, SWATCH)),
                num(PAD + 3.0),
                escape(s.colour),
                num(x_at(offset + SWATCH + 6.0)),
                num(PAD + 3.0 + SWATCH - 1.0),
                escape(s.name),
            );
            // A rough width of the name: enough room at this font size for Latin and Arabic.
            offset += SWATCH + 6.0 + 8.0 * s.name.chars().count() as f64 + 18.0;
        }
    }

    for (i, row) in rows.iter().enumerate() {
        let y = top + i as f64 * row_height;
        // Free text from profiles keeps its bidirectional controls to itself (`crate::bidi`).
        let label = crate::bidi::isolate(&shorten(&row.label)).into_owned();
        // The tooltip names the row in full with every value: "Lua – Offers: 3, Wants: 1".
        let mut tip = String::with_capacity(row.label.len() + 32);
        tip.push_str(&crate::bidi::isolate(&row.label));
        for (k, s) in series.iter().enumerate() {
            let value = row.values.get(k).copied().unwrap_or(0);
            let sep = if k == 0 { " – " } else { ", " };
            if series.len() > 1 {
                let _ = write!(tip, "{sep}{}: {value}", s.name);
            } else {
                let _ = write!(tip, "{sep}{value}");
            }
        }
        let _ = write!(
            svg,
            r#"<g class="chart-row"><title>{}</title><text x="{}" y="{}" text-anchor="start">{}</text>"#,
            escape(&tip),
            num(x_at(PAD)),
            num(y + LABEL_BASELINE),
            escape(&label),
        );
        for (k, s) in series.iter().enumerate() {
            let value = row.values.get(k).copied().unwrap_or(0);
            let len = bar_length(value, max);
            let bar_y = y + BARS_TOP + k as f64 * (BAR_HEIGHT + BAR_GAP);
            let _ = write!(
                svg,
                r#"<rect x="{}" y="{}" width="{}" height="{BAR_HEIGHT}" fill="{}"/><text x="{}" y="{}" font-size="{}" text-anchor="start">{value}</text>"#,
                num(box_x(PAD, len)),
                num(bar_y),
                num(len),
                escape(s.colour),
                num(x_at(PAD + len + 4.0)),
                num(bar_y + BAR_HEIGHT - 2.5),
                num(VALUE_FONT_SIZE),
            );
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

/// Text for XML content and attribute values. Characters XML 1.0 does not allow (most
/// control characters) are dropped: they cannot be written at all, escaped or not.
pub fn escape(text: &str) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || !allowed_in_xml(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => {}
        }
    }
    Cow::Owned(out)
}

fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// An id keeps only the characters that need no escaping anywhere.
fn safe_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A label cut to [`MAX_LABEL_CHARS`], with an ellipsis when cut.
fn shorten(label: &str) -> Cow<'_, str> {
    match label.char_indices().nth(MAX_LABEL_CHARS) {
        None => Cow::Borrowed(label),
        Some(_) => {
            let cut = label
                .char_indices()
                .nth(MAX_LABEL_CHARS - 1)
                .map_or(label.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", label[..cut].trim_end()))
        }
    }
}

/// A coordinate with at most one decimal, without a trailing `.0`: short, and exact enough
/// for a drawing 400 units wide.
fn num(value: f64) -> String {
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{}", tenths as i64)
    } else {
        format!("{tenths:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(direction: Direction) -> Chart<'static> {
        Chart {
            id: "test",
            title: "Offers & wants <by skill>",
            description: None,
            direction,
        }
    }

    const SERIES: [Series<'static>; 2] = [
        Series {
            name: "Offers",
            colour: BLUE,
        },
        Series {
            name: "Wants",
            colour: ORANGE,
        },
    ];

    /// The value of `name="…"` in a tag.
    fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = start + tag[start..].find('"')?;
        Some(&tag[start..end])
    }

    /// The bars (not the legend swatches): `(x, width)` of each rect inside a row.
    fn bars(svg: &str) -> Vec<(f64, f64)> {
        svg.split("<g class=\"chart-row\">")
            .skip(1)
            .flat_map(|row| row.split("<rect").skip(1))
            .map(|rect| {
                let x = attr(rect, "x").unwrap().parse().unwrap();
                let w = attr(rect, "width").unwrap().parse().unwrap();
                (x, w)
            })
            .collect()
    }

    /// A crude well-formedness check: every tag opened is closed in order.
    fn assert_balanced(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(open) = rest.find('<') {
            let close = rest[open..].find('>').expect("an unclosed tag") + open;
            let tag = &rest[open + 1..close];
            assert!(!tag.contains('<'), "a raw < inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "in {svg}");
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap().to_string();
                stack.push(name);
            }
            let text = &rest[close + 1..];
            let next = text.find('<').unwrap_or(text.len());
            assert!(!text[..next].contains('>'), "a raw > in text");
            for (i, _) in text[..next].match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "a bare & in text: {}",
                    &text[..next]
                );
            }
            rest = text;
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn labels_titles_and_series_names_are_escaped() {
        let rows = [Row::new("<script>alert(1)</script> & \"x\"", vec![3, 1])];
        let series = [
            Series {
                name: "R&D <b>",
                colour: BLUE,
            },
            SERIES[1],
        ];
        let svg = grouped_bar_chart(&chart(Direction::Ltr), &series, &rows);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(svg.contains("R&amp;D &lt;b&gt;"));
        assert!(
            svg.contains("<title id=\"test-title\">Offers &amp; wants &lt;by skill&gt;</title>")
        );
        assert_balanced(&svg);
    }

    #[test]
    fn control_characters_are_dropped_and_ids_cleaned() {
        assert_eq!(escape("a\u{0}b\u{1b}c\td"), "abc\td");
        let c = Chart {
            id: "x\"><script>",
            ..chart(Direction::Ltr)
        };
        let svg = bar_chart(&c, SERIES[0], &[("a".into(), 1)]);
        assert!(svg.contains("aria-labelledby=\"xscript-title\""), "{svg}");
        assert_balanced(&svg);
    }

    #[test]
    fn the_svg_is_named_by_its_title_and_scales_by_viewbox() {
        let c = Chart {
            description: Some("The numbers are in the table below."),
            ..chart(Direction::Ltr)
        };
        let svg = bar_chart(&c, SERIES[0], &[("Lua".into(), 2)]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(" role=\"img\""));
        assert!(svg.contains(" aria-labelledby=\"test-title\""));
        assert!(svg.contains("<title id=\"test-title\">"));
        assert!(svg.contains(" aria-describedby=\"test-desc\""));
        assert!(svg.contains("<desc id=\"test-desc\">The numbers are in the table below.</desc>"));
        let root = &svg[..svg.find('>').unwrap()];
        assert!(attr(root, "viewBox").is_some_and(|v| v.starts_with("0 0 400 ")));
        assert_eq!(attr(root, "width"), None, "no fixed width: it scales");
        assert_eq!(attr(root, "height"), None);
    }

    #[test]
    fn bar_length_is_proportional_to_the_value() {
        let rows = [
            Row::new("a", vec![10, 5]),
            Row::new("b", vec![2, 0]),
            Row::new("c", vec![7, 1]),
        ];
        let svg = grouped_bar_chart(&chart(Direction::Ltr), &SERIES, &rows);
        let widths: Vec<f64> = bars(&svg).iter().map(|b| b.1).collect();
        let values = [10.0, 5.0, 2.0, 0.0, 7.0, 1.0];
        assert_eq!(widths.len(), values.len());
        assert!(
            (widths[0] - MAX_BAR).abs() < 0.05,
            "the largest bar is full length"
        );
        for (w, v) in widths.iter().zip(values) {
            assert!((w - MAX_BAR * v / 10.0).abs() < 0.1, "{w} for {v}");
        }
        // Every value is written out, also the zero.
        for v in ["10", "5", "2", "0", "7", "1"] {
            assert!(svg.contains(&format!(">{v}</text>")), "{v}");
        }
        assert_balanced(&svg);
    }

    #[test]
    fn all_zero_values_draw_empty_bars_and_their_numbers() {
        let svg = bar_chart(
            &chart(Direction::Ltr),
            SERIES[0],
            &[("a".into(), 0), ("b".into(), 0)],
        );
        let bars = bars(&svg);
        assert_eq!(bars.len(), 2);
        assert!(bars.iter().all(|&(_, w)| w == 0.0), "{svg}");
        assert_eq!(svg.matches(">0</text>").count(), 2);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
        assert_balanced(&svg);
    }

    #[test]
    fn empty_data_is_a_valid_svg_with_its_title_and_no_bars() {
        let svg = grouped_bar_chart(&chart(Direction::Rtl), &SERIES, &[]);
        assert!(bars(&svg).is_empty());
        assert!(!svg.contains("chart-row"));
        assert!(svg.contains("<title id=\"test-title\">"));
        let root = &svg[..svg.find('>').unwrap()];
        let height: f64 = attr(root, "viewBox")
            .unwrap()
            .split(' ')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap();
        assert!(height > 0.0);
        assert_balanced(&svg);
    }

    #[test]
    fn right_to_left_mirrors_bars_and_labels() {
        let rows = [
            Row::new("لوا", vec![4, 2]),
            Row::new("ويكي بيانات", vec![1, 3]),
        ];
        let ltr = grouped_bar_chart(&chart(Direction::Ltr), &SERIES, &rows);
        let rtl = grouped_bar_chart(&chart(Direction::Rtl), &SERIES, &rows);
        assert!(ltr.contains(" direction=\"ltr\""));
        assert!(rtl.contains(" direction=\"rtl\""));
        let (l, r) = (bars(&ltr), bars(&rtl));
        assert_eq!(l.len(), 4);
        for ((lx, lw), (rx, rw)) in l.iter().zip(&r) {
            assert_eq!(lw, rw, "same lengths");
            assert!((lx - PAD).abs() < 0.05, "LTR bars grow from the left edge");
            assert!(
                (rx + rw - (WIDTH - PAD)).abs() < 0.1,
                "RTL bars grow from the right edge: x={rx} w={rw}"
            );
        }
        // Labels start at the right edge in RTL (text-anchor start under direction rtl).
        let label_x = |svg: &str| -> f64 {
            let row = svg.split("<g class=\"chart-row\">").nth(1).unwrap();
            let text = &row[row.find("<text").unwrap()..];
            attr(text, "x").unwrap().parse().unwrap()
        };
        assert_eq!(label_x(&ltr), PAD);
        assert_eq!(label_x(&rtl), WIDTH - PAD);
        assert!(rtl.contains(">لوا</text>"));
        assert_balanced(&rtl);
    }

    #[test]
    fn long_labels_are_cut_but_kept_whole_in_the_tooltip() {
        let long = "x".repeat(100);
        let svg = bar_chart(
            &chart(Direction::Ltr),
            SERIES[0],
            &[(long.as_str().into(), 1)],
        );
        assert!(svg.contains(&format!(">{}…</text>", "x".repeat(MAX_LABEL_CHARS - 1))));
        assert!(svg.contains(&format!("<title>{long} – 1</title>")));
        let exact = "y".repeat(MAX_LABEL_CHARS);
        assert_eq!(shorten(&exact), exact.as_str());
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(8.0), "8");
        assert_eq!(num(8.04), "8");
        assert_eq!(num(336.0 / 3.0), "112");
        assert_eq!(num(1.25), "1.3");
        assert_eq!(num(-0.0), "0");
    }
}
