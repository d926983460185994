//! Every input a fuzz target (`fuzz/`, see the README) ever broke, kept under
//! `tests/fixtures/fuzz/<target>/` and run through the same checks as the target.

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
