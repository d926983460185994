//! The Procfile's `web` process is a valid web tool command line (the indexer's processes
//! and `jobs.yaml` are checked by the indexer's own test).

use std::path::Path;
use std::process::Command;

#[test]
fn the_procfile_web_process_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Procfile");
    let procfile = std::fs::read_to_string(&path).unwrap();
    let command = procfile
        .lines()
        .find_map(|l| l.strip_prefix("web:"))
        .expect("a web process");
    let words: Vec<String> = command
        .replace("$TOOL_DATA_DIR", "/srv/tool")
        .split_whitespace()
        .map(|w| w.trim_matches('"').to_string())
        .collect();
    assert_eq!(words[0], "webtool");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_webtool"))
            .args(&words[1..])
            .args(extra)
            .arg("--help")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "`{command}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!run(&["--no-such-flag"]).status.success());
}
