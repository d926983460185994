//! Every input a fuzz target (`fuzz/`, see the README) ever broke, kept under
//! `tests/fixtures/fuzz/<target>/` and run through the same checks as the target, and the
//! pages that made a pass super-linear, generated here (too big to keep as files).

mod fuzz_checks;

use std::path::Path;

fn run(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails", input.display());
    }
}

#[test]
fn template_extraction() {
    run("template_extraction", fuzz_checks::template_extraction);
}

#[test]
fn profile_parsing() {
    run("profile_parsing", fuzz_checks::profile_parsing);
}

#[test]
fn xml_import() {
    run("xml_import", fuzz_checks::xml_import);
}

/// A profile page whose `bio` is `value`.
fn bio(value: &str) -> String {
    format!("{{{{Capacity Exchange profile|bio={value}}}}}")
}

/// Pages of 1 MiB on which a search for a closing `;`, `>`, `]` or `''` started again at
/// every opening: minutes each before (2 MiB, MediaWiki's largest page, timed the fuzz
/// targets out at 60 s), linear now. No time is asserted: a quadratic pass hangs here.
#[test]
fn pages_that_were_quadratic() {
    let n = 1 << 20;
    let pages = [
        // A call named by a million `&` (title entities): `extract` itself.
        format!("{{{{{}}}}}", "&".repeat(n)),
        // Plain text of a value: entities, unclosed tags, lone `<`, unclosed URL links.
        bio(&"&".repeat(n)),
        bio(&"<a".repeat(n / 2)),
        bio(&"<".repeat(n)),
        bio(&"[http://".repeat(n / 8)),
    ];
    for page in pages {
        fuzz_checks::template_extraction(page.as_bytes());
        fuzz_checks::profile_parsing(page.as_bytes());
    }
}
