//! Search latency on synthetic snapshots of 1,000, 10,000 and 100,000 profiles.
//!
//! ```text
//! cargo run --release -p exchange --example search_bench [-- --sizes 1000,10000,100000 --searches 1000 --seed N]
//! ```
//!
//! For each size: a synthetic export (`exchange::synth`, default seed) is imported into a
//! temporary data directory, then a fixed mix of searches runs once to warm up and once
//! timed (single skill words in several languages and scripts, typos, prefixes, two-word
//! queries, words with filters, filters without words). Prints the median and 99th
//! percentile per size, and per kind of query, and for each size a machine-readable line
//! `RESULT profiles=N published=P searches=S median_ms=… p99_ms=… max_ms=…` (bench/all.sh).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use exchange::dump;
use exchange::geo::Region;
use exchange::import::import;
use exchange::profile::{Level, SkillKind};
use exchange::search::{SearchRequest, search};
use exchange::store::DataDir;
use exchange::synth::{DEFAULT_SEED, write_export};
use exchange::taxonomy::Taxonomy;

fn request(q: &str) -> SearchRequest {
    SearchRequest {
        q: q.to_string(),
        limit: 20,
        ..SearchRequest::default()
    }
}

fn level(l: u8) -> Level {
    Level::new(l).unwrap_or(Level::NATIVE)
}

/// The fixed mix: (kind of query, request).
fn mix() -> Vec<(&'static str, SearchRequest)> {
    let mut out = Vec::new();
    for q in [
        "Lua",
        "Wikidata",
        "Fotografía",
        "Traduction",
        "Übersetzung",
        "وحدات لوا",
        "ويكي بيانات",
        "Mentoria",
        "Editatona",
        "SPARQL",
        "Fundraising",
        "Vorlagen",
    ] {
        out.push(("skill word", request(q)));
    }
    for q in [
        "wikidta",
        "fundrasing",
        "photografy",
        "transaltion",
        "mediaton",
        "Pywikibt",
        "orgnizing",
        "mentorng",
    ] {
        out.push(("typo", request(q)));
    }
    for q in [
        "wikid", "photog", "transl", "fundrai", "ment", "edi", "Lua mod", "organiz",
    ] {
        out.push(("prefix", request(q)));
    }
    for q in [
        "Lua Brazil",
        "Wikidata queries",
        "grant writing",
        "event organizing",
        "Commons uploads",
        "Recaudación de fondos",
        "Collecte de fonds",
        "mentoring newcomers",
    ] {
        out.push(("two words", request(q)));
    }
    let with = |q: &str, f: &dyn Fn(&mut SearchRequest)| {
        let mut r = request(q);
        f(&mut r);
        r
    };
    out.push((
        "words + filters",
        with("Lua", &|r| r.language = Some(("pt".into(), level(3)))),
    ));
    out.push((
        "words + filters",
        with("Wikidata", &|r| r.region = Some(Region::SubSaharanAfrica)),
    ));
    out.push((
        "words + filters",
        with("photography", &|r| r.format = Some("workshop".into())),
    ));
    out.push((
        "words + filters",
        with("translation", &|r| {
            r.skill = Some("communication".into());
            r.kind = Some(SkillKind::Offers);
        }),
    ));
    out.push((
        "words + filters",
        with("grant", &|r| r.country = Some("NG".into())),
    ));
    out.push((
        "words + filters",
        with("event organizing", &|r| {
            r.language = Some(("es".into(), level(2)));
            r.region = Some(Region::LatinAmericaCaribbean);
        }),
    ));
    out.push((
        "filters only",
        with("", &|r| r.region = Some(Region::SubSaharanAfrica)),
    ));
    out.push((
        "filters only",
        with("", &|r| {
            r.skill = Some("technology".into());
            r.kind = Some(SkillKind::Offers);
        }),
    ));
    out.push((
        "filters only",
        with("", &|r| r.language = Some(("pt".into(), level(3)))),
    ));
    out.push(("filters only", with("", &|r| r.country = Some("BR".into()))));
    out.push((
        "filters only",
        with("", &|r| r.format = Some("mentoring".into())),
    ));
    out.push((
        "filters only",
        with("", &|r| {
            r.skill = Some("wikidata".into());
            r.language = Some(("en".into(), level(3)));
        }),
    ));
    // The second page of a broad search.
    out.push((
        "words + filters",
        with("wikipedia", &|r| {
            r.offset = 20;
            r.region = Some(Region::NorthernWesternEurope);
        }),
    ));
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut sizes = vec![1_000usize, 10_000, 100_000];
    let mut searches = 1_000usize;
    let mut seed = DEFAULT_SEED;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--sizes" => sizes = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--searches" => searches = value.parse()?,
            "--seed" => seed = value.parse()?,
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    let mix = mix();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "search latency, {searches} searches per size from a mix of {} queries, seed {seed}, {cpus} CPUs",
        mix.len()
    );
    let mut table = Vec::new();
    for &size in &sizes {
        let dir = tempfile::tempdir()?;
        let export = dir.path().join("export.xml");
        let started = Instant::now();
        {
            let mut out = BufWriter::new(std::fs::File::create(&export)?);
            write_export(&mut out, size, seed, Taxonomy::bundled())?;
            out.flush()?;
        }
        let data = DataDir::new(dir.path().join("data"));
        let open = || dump::open(&export);
        let summary = import(&open, &data, "search_bench", &mut |_| {})?;
        let snapshot = data.open_current()?;
        let segments = snapshot.searcher().segment_readers().len();
        eprintln!(
            "{size}: {} profiles imported in {:.1} s ({segments} index segments)",
            summary.stats.profiles,
            started.elapsed().as_secs_f64()
        );
        // Warm up (page cache, lazily opened dictionaries), then measure.
        for (_, request) in &mix {
            search(&snapshot, request)?;
        }
        let mut all = Vec::with_capacity(searches);
        let mut by_kind: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
        let mut results = 0usize;
        for i in 0..searches {
            let (kind, request) = &mix[i % mix.len()];
            let started = Instant::now();
            let found = search(&snapshot, request)?;
            let elapsed = started.elapsed();
            results += found.results.len();
            all.push(elapsed);
            by_kind.entry(kind).or_default().push(elapsed);
        }
        all.sort();
        println!(
            "\n{size} profiles ({} results returned): median {} ms, p99 {} ms, max {} ms",
            results,
            ms(percentile(&all, 50.0)),
            ms(percentile(&all, 99.0)),
            ms(*all.last().unwrap_or(&Duration::ZERO))
        );
        for (kind, times) in &mut by_kind {
            times.sort();
            println!(
                "  {kind:<16} median {:>7} ms  p99 {:>7} ms",
                ms(percentile(times, 50.0)),
                ms(percentile(times, 99.0))
            );
        }
        println!(
            "RESULT profiles={size} published={} searches={searches} median_ms={} p99_ms={} max_ms={}",
            summary.stats.profiles,
            ms(percentile(&all, 50.0)),
            ms(percentile(&all, 99.0)),
            ms(*all.last().unwrap_or(&Duration::ZERO))
        );
        table.push((size, percentile(&all, 50.0), percentile(&all, 99.0)));
    }
    println!("\n| profiles | median | p99 |\n|---:|---:|---:|");
    for (size, median, p99) in table {
        println!("| {size} | {} ms | {} ms |", ms(median), ms(p99));
    }
    Ok(())
}
