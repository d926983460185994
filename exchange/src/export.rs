//! Profiles as JSON lines or CSV, for people who analyse the data elsewhere.

use std::io::{self, Write};

use crate::profile::{Profile, SkillRef};

/// The output formats of `indexer export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line, exactly as the API serves a profile.
    Jsonl,
    /// One row per profile; list fields joined with "; ", skills as ids or free text.
    Csv,
}

pub const CSV_COLUMNS: &[&str] = &[
    "user",
    "page",
    "revid",
    "updated",
    "status",
    "country",
    "region",
    "timezone",
    "offers",
    "wants",
    "knows",
    "languages",
    "affiliations",
    "projects",
    "formats",
    "availability",
    "contact",
    "bio",
];

/// Writes profiles one at a time; call [`finish`](Self::finish) at the end.
pub struct Exporter<W: Write> {
    out: W,
    format: Format,
}

impl<W: Write> Exporter<W> {
    pub fn new(mut out: W, format: Format) -> io::Result<Exporter<W>> {
        if format == Format::Csv {
            writeln!(out, "{}", CSV_COLUMNS.join(","))?;
        }
        Ok(Exporter { out, format })
    }

    pub fn write(&mut self, p: &Profile) -> io::Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, p)?;
                writeln!(self.out)
            }
            Format::Csv => {
                let skills = |list: &[SkillRef]| {
                    list.iter()
                        .map(|s| s.id().unwrap_or(s.display()).to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let languages = p
                    .languages
                    .iter()
                    .map(|l| format!("{}-{}", l.code, l.level))
                    .collect::<Vec<_>>()
                    .join("; ");
                let fields = [
                    p.user.clone(),
                    p.page.clone(),
                    p.revid.to_string(),
                    p.updated.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    serde_json::to_value(p.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    p.country.clone().unwrap_or_default(),
                    p.region.map(|r| r.code().to_string()).unwrap_or_default(),
                    p.timezone.clone().unwrap_or_default(),
                    skills(&p.offers),
                    skills(&p.wants),
                    skills(&p.knows),
                    languages,
                    p.affiliations.join("; "),
                    p.projects.join("; "),
                    p.formats.join("; "),
                    p.availability.clone().unwrap_or_default(),
                    p.contact.join("; "),
                    p.bio.clone().unwrap_or_default(),
                ];
                let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                writeln!(self.out, "{}", row.join(","))
            }
        }
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Quotes a CSV field when needed (RFC 4180), and defuses spreadsheet formulas.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK()"), "'=HYPERLINK()");
    }
}
