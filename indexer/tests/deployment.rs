//! The deployment files name commands that exist: every `indexer` line of the Procfile
//! parses with the binary just built, and every job of `jobs.yaml` runs a Procfile process.
//! (The `web` line is checked by the web tool's own test.)

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn repo_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `name: command` lines.
fn procfile() -> BTreeMap<String, String> {
    repo_file("Procfile")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, command) = l.split_once(':').expect("Procfile lines are name: command");
            (name.trim().to_string(), command.trim().to_string())
        })
        .collect()
}

/// Splits a command line as a POSIX shell would for these simple lines: words, double
/// quotes, `$TOOL_DATA_DIR` expanded.
fn words(command: &str, data_dir: &str) -> Vec<String> {
    let command = command.replace("$TOOL_DATA_DIR", data_dir);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in command.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    assert!(!quoted, "unbalanced quotes in {command}");
    if started {
        out.push(word);
    }
    out
}

fn parses(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(args)
        .arg("--help")
        .output()
        .expect("running indexer")
}

#[test]
fn every_indexer_process_of_the_procfile_parses() {
    let processes = procfile();
    let mut checked = 0;
    for (name, command) in &processes {
        let words = words(command, "/srv/tool");
        if words[0] != "indexer" {
            continue;
        }
        let out = parses(&words[1..]);
        assert!(
            out.status.success(),
            "Procfile process {name:?}: `{command}` is not a valid indexer command line: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 3, "crawl, crawl-full and report at least");
    // The check can fail: a flag that does not exist is refused even with --help.
    let mut wrong = words(&processes["crawl"], "/srv/tool")[1..].to_vec();
    wrong.push("--no-such-flag".into());
    assert!(!parses(&wrong).status.success());
}

#[test]
fn every_job_runs_a_procfile_process_on_a_schedule() {
    let processes = procfile();
    let jobs = repo_file("jobs.yaml");
    let mut names = Vec::new();
    for block in jobs.split("\n- ").skip(1) {
        let field = |key: &str| {
            block
                .lines()
                .map(|l| l.trim().trim_start_matches("- "))
                .find_map(|l| l.strip_prefix(&format!("{key}:")))
                .map(|v| v.trim().trim_matches('"').to_string())
        };
        let name = field("name").expect("every job has a name");
        let command = field("command").unwrap_or_else(|| panic!("job {name} has no command"));
        let process = command.split_whitespace().next().unwrap_or_default();
        assert!(
            processes.contains_key(process),
            "job {name} runs {process:?}, which the Procfile does not define"
        );
        for key in ["image", "schedule", "mem", "emails", "mount"] {
            assert!(field(key).is_some(), "job {name} has no {key}");
        }
        names.push(name);
    }
    assert_eq!(names, ["crawl", "crawl-full", "report"]);
}
