//! Writes the catalogue of hostile profiles (`tests/hostile/catalogue.rs`, issue 8) as a
//! MediaWiki XML export, for `bench/hostile.sh`:
//!
//! ```sh
//! hostile_export EXPORT.xml > people.tsv
//! ```
//!
//! and lists its people on standard output, one a line: the path of their profile page
//! (the name the tool gives them, percent-encoded), `ordinary` or `hostile`, and the attack.

#[path = "../tests/hostile/catalogue.rs"]
mod catalogue;

use std::io::Write;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        bail!("usage: hostile_export EXPORT.xml > people.tsv");
    };
    let people = catalogue::people();
    std::fs::write(&path, catalogue::export(&people)).with_context(|| format!("writing {path}"))?;
    let mut out = std::io::stdout().lock();
    for person in &people {
        let user = exchange::wikitext::title::normalize_user_name(&person.title_user)
            .with_context(|| format!("{:?} is not a user name", person.title_user))?;
        let encoded: String = user
            .replace(' ', "_")
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let kind = if person.ordinary {
            "ordinary"
        } else {
            "hostile"
        };
        writeln!(out, "{encoded}\t{kind}\t{}", person.attack)?;
    }
    Ok(())
}
