//! Matching latency on synthetic profiles.
//!
//! ```text
//! cargo run --release -p exchange --example match_bench [PROFILES] [QUERIES]
//! ```
//!
//! Builds PROFILES (default 100,000) profiles in memory from a fixed seed, with a skewed
//! skill popularity (a few skills are wanted and offered by many, as on the real
//! platform), some broad root-category wishes, free text, several languages and time
//! zones, then times `Matcher::new` and `Matcher::matches` for QUERIES (default 1,000)
//! people picked at random. The last line is machine-readable (bench/all.sh):
//! `RESULT profiles=N queries=Q build_ms=… median_ms=… p99_ms=… max_ms=… broadest_median_ms=…`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use exchange::geo::Region;
use exchange::matching::{DEFAULT_LIMIT, Matcher};
use exchange::parse::babel_item;
use exchange::profile::{Profile, SkillRef, Status};
use exchange::taxonomy::Taxonomy;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LANGUAGES: &[(&str, u32)] = &[
    ("en", 30),
    ("es", 10),
    ("pt", 6),
    ("pt-br", 3),
    ("fr", 8),
    ("de", 6),
    ("ar", 6),
    ("id", 4),
    ("hi", 4),
    ("bn", 3),
    ("sw", 3),
    ("ru", 4),
    ("uk", 2),
    ("zh", 3),
    ("ja", 2),
    ("it", 3),
    ("yo", 2),
    ("ha", 2),
];

const ZONES: &[(&str, Region)] = &[
    ("America/Sao_Paulo", Region::LatinAmericaCaribbean),
    ("America/Mexico_City", Region::LatinAmericaCaribbean),
    ("America/Bogota", Region::LatinAmericaCaribbean),
    (
        "America/Argentina/Buenos_Aires",
        Region::LatinAmericaCaribbean,
    ),
    ("America/New_York", Region::NorthAmerica),
    ("America/Los_Angeles", Region::NorthAmerica),
    ("America/Chicago", Region::NorthAmerica),
    ("Europe/London", Region::NorthernWesternEurope),
    ("Europe/Berlin", Region::NorthernWesternEurope),
    ("Europe/Paris", Region::NorthernWesternEurope),
    ("Europe/Madrid", Region::NorthernWesternEurope),
    ("Europe/Kyiv", Region::CentralEasternEuropeCentralAsia),
    ("Europe/Moscow", Region::CentralEasternEuropeCentralAsia),
    ("Asia/Almaty", Region::CentralEasternEuropeCentralAsia),
    ("Africa/Lagos", Region::SubSaharanAfrica),
    ("Africa/Nairobi", Region::SubSaharanAfrica),
    ("Africa/Accra", Region::SubSaharanAfrica),
    ("Africa/Johannesburg", Region::SubSaharanAfrica),
    ("Africa/Cairo", Region::MiddleEastNorthAfrica),
    ("Asia/Riyadh", Region::MiddleEastNorthAfrica),
    ("Africa/Casablanca", Region::MiddleEastNorthAfrica),
    ("Asia/Kolkata", Region::SouthAsia),
    ("UTC+05:30", Region::SouthAsia),
    ("Asia/Dhaka", Region::SouthAsia),
    ("Asia/Jakarta", Region::EastSoutheastAsiaPacific),
    ("Asia/Manila", Region::EastSoutheastAsiaPacific),
    ("Asia/Tokyo", Region::EastSoutheastAsiaPacific),
    ("Australia/Sydney", Region::EastSoutheastAsiaPacific),
    ("UTC+08:00", Region::EastSoutheastAsiaPacific),
];

fn weighted<'a, T>(items: &'a [(T, u32)], rng: &mut ChaCha8Rng) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (item, weight) in items {
        if pick < *weight {
            return item;
        }
        pick -= weight;
    }
    &items[items.len() - 1].0
}

/// Skills with Zipf-like popularity: the skill at rank r is picked ∝ 1/(r+1).
struct SkillPicker {
    skills: Vec<SkillRef>,
    roots: Vec<SkillRef>,
    cumulative: Vec<f64>,
}

impl SkillPicker {
    fn new(taxonomy: &Taxonomy, rng: &mut ChaCha8Rng) -> SkillPicker {
        let known = |s: &exchange::taxonomy::Skill| SkillRef::Known {
            id: s.id.clone(),
            label: taxonomy.label(s, "en").to_string(),
        };
        let mut skills: Vec<SkillRef> = taxonomy
            .skills()
            .iter()
            .filter(|s| s.parent.is_some())
            .map(known)
            .collect();
        // Shuffle so popularity does not follow file order.
        for i in (1..skills.len()).rev() {
            let j = rng.random_range(0..=i);
            skills.swap(i, j);
        }
        let mut total = 0.0;
        let cumulative = (0..skills.len())
            .map(|r| {
                total += 1.0 / (r as f64 + 1.0);
                total
            })
            .collect();
        SkillPicker {
            skills,
            roots: taxonomy.roots().map(known).collect(),
            cumulative,
        }
    }

    fn pick(&self, rng: &mut ChaCha8Rng) -> SkillRef {
        let roll = rng.random_range(0..100);
        if roll < 5 {
            return self.roots[rng.random_range(0..self.roots.len())].clone();
        }
        if roll < 13 {
            // Free text from a pool of 3,000 phrases, also skewed.
            let n = (3000.0 * rng.random::<f64>().powi(3)) as u32;
            return SkillRef::Free {
                text: format!("Local skill number {n}"),
            };
        }
        let total = self.cumulative[self.cumulative.len() - 1];
        let x = rng.random::<f64>() * total;
        let at = self.cumulative.partition_point(|&c| c < x);
        self.skills[at.min(self.skills.len() - 1)].clone()
    }
}

fn synthetic(n: usize, now: DateTime<Utc>, seed: u64) -> Vec<Profile> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let taxonomy = Taxonomy::bundled();
    let picker = SkillPicker::new(taxonomy, &mut rng);
    (0..n)
        .map(|i| {
            let user = format!("User {i:06}");
            let mut p = Profile::empty(&user, &format!("User:{user}"));
            for _ in 0..rng.random_range(1..=6) {
                p.offers.push(picker.pick(&mut rng));
            }
            for _ in 0..rng.random_range(1..=5) {
                p.wants.push(picker.pick(&mut rng));
            }
            for _ in 0..rng.random_range(0..=3) {
                p.knows.push(picker.pick(&mut rng));
            }
            let first = *weighted(LANGUAGES, &mut rng);
            p.languages.push(babel_item(&format!("{first}-N")).unwrap());
            if first != "en" && rng.random_bool(0.7) {
                let level = rng.random_range(1..=4);
                p.languages
                    .push(babel_item(&format!("en-{level}")).unwrap());
            }
            if rng.random_bool(0.25) {
                let extra = *weighted(LANGUAGES, &mut rng);
                let level = rng.random_range(1..=3);
                if p.languages.iter().all(|l| l.code != extra) {
                    p.languages
                        .push(babel_item(&format!("{extra}-{level}")).unwrap());
                }
            }
            let (zone, region) = ZONES[rng.random_range(0..ZONES.len())];
            if rng.random_bool(0.85) {
                p.timezone = Some(zone.to_string());
            }
            if rng.random_bool(0.8) {
                p.region = Some(region);
            }
            if rng.random_bool(0.95) {
                let age = rng.random_range(0..3 * 365 * 86_400);
                p.updated = Some(now - chrono::Duration::seconds(age));
            }
            if rng.random_bool(0.05) {
                p.status = Status::Paused;
            }
            p
        })
        .collect()
}

/// Time this thread has spent on a CPU (Linux: `/proc/thread-self/schedstat`). Only
/// meaningful summed over many queries (the kernel updates it at scheduler ticks), it
/// tells how much of the wall-clock time was ours on a shared machine.
fn cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Median, 99th percentile and maximum.
fn quantiles(mut times: Vec<Duration>) -> [Duration; 3] {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    [at(0.5), at(0.99), times[times.len() - 1]]
}

fn describe([median, p99, max]: [Duration; 3]) -> String {
    format!("median {}, p99 {}, max {}", ms(median), ms(p99), ms(max))
}

fn number(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();

    let started = Instant::now();
    let mut profiles = synthetic(n, now, 42);
    println!("generated {n} profiles in {}", ms(started.elapsed()));
    // The broadest person there can be: wants and offers every root category, so nearly
    // everyone is a candidate for every list.
    let taxonomy = Taxonomy::bundled();
    let mut broadest = Profile::empty("Broadest", "User:Broadest");
    for root in taxonomy.roots() {
        let skill = SkillRef::Known {
            id: root.id.clone(),
            label: taxonomy.label(root, "en").to_string(),
        };
        broadest.offers.push(skill.clone());
        broadest.wants.push(skill);
    }
    broadest.languages = vec![babel_item("en-N").unwrap(), babel_item("es-N").unwrap()];
    broadest.timezone = Some("Europe/London".to_string());
    broadest.region = Some(Region::NorthernWesternEurope);
    profiles.push(broadest);

    let started = Instant::now();
    let matcher = Matcher::new(&profiles, Taxonomy::bundled());
    let build = started.elapsed();
    println!("Matcher::new: {}", ms(build));

    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let users: Vec<&str> = (0..queries)
        .map(|_| profiles[rng.random_range(0..n)].user.as_str())
        .collect();
    // Warm up caches and the allocator, as a serving process would be.
    for user in users.iter().take(50) {
        black_box(matcher.matches(user, now, DEFAULT_LIMIT));
    }
    let mut wall = Vec::with_capacity(queries);
    let mut entries = [0usize; 3];
    let cpu_before = cpu_time();
    let loop_started = Instant::now();
    for user in &users {
        let started = Instant::now();
        let found = black_box(matcher.matches(user, now, DEFAULT_LIMIT)).expect("a profile");
        wall.push(started.elapsed());
        entries[0] += found.learn_from.len();
        entries[1] += found.share_with.len();
        entries[2] += found.exchange.len();
    }
    let loop_wall = loop_started.elapsed();
    let people = quantiles(wall);
    println!(
        "matches() over {queries} people (limit {DEFAULT_LIMIT}): {}",
        describe(people)
    );
    if let (Some(before), Some(after)) = (cpu_before, cpu_time()) {
        let on_cpu = after.saturating_sub(before);
        println!(
            "  mean {} per query, of which on a CPU {} ({:.0}% of the wall-clock time)",
            ms(loop_wall / queries as u32),
            ms(on_cpu / queries as u32),
            100.0 * on_cpu.as_secs_f64() / loop_wall.as_secs_f64()
        );
    }
    let worst: Vec<Duration> = (0..100)
        .map(|_| {
            let started = Instant::now();
            black_box(matcher.matches("Broadest", now, DEFAULT_LIMIT));
            started.elapsed()
        })
        .collect();
    let worst = quantiles(worst);
    println!(
        "matches() for the broadest person, 100 times: {}",
        describe(worst)
    );
    println!(
        "average entries returned: learn_from {:.1}, share_with {:.1}, exchange {:.1}",
        entries[0] as f64 / queries as f64,
        entries[1] as f64 / queries as f64,
        entries[2] as f64 / queries as f64
    );
    println!(
        "RESULT profiles={n} queries={queries} build_ms={} median_ms={} p99_ms={} max_ms={} broadest_median_ms={}",
        number(build),
        number(people[0]),
        number(people[1]),
        number(people[2]),
        number(worst[0])
    );
}
