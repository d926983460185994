//! The `indexer` command line as a user runs it: synth → import → export, and parse.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn indexer(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("indexer runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("indexer finishes")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

const EXAMPLE: &str = "{{Capacity Exchange profile
| offers       = Lua; Wikidata queries; event organizing
| wants        = grant writing; Commons batch uploads
| knows        = Wikidata
| languages    = pt-N, en-3, es-1
| country      = BR
| timezone     = America/Sao_Paulo
| affiliations = Wiki Movimento Brasil
| projects     = pt.wikipedia, wikidata, commons
| formats      = mentoring, one-on-one, workshop
| availability = 2 hours a month
| contact      = talk, email
| bio          = Organizer of edit-a-thons in Recife.
| status       = active
}}";

#[test]
fn synth_import_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.xml.bz2");
    let data = dir.path().join("data");
    let summary = dir.path().join("summary.json");

    let out = indexer(
        &["synth", "--profiles", "400", "--out", path(&export)],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = indexer(
        &[
            "import",
            "--dump",
            path(&export),
            "--data",
            path(&data),
            "--summary-json",
            path(&summary),
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let profiles = summary["profiles"].as_u64().unwrap();
    assert!(profiles > 300, "{summary}");

    let out = indexer(&["export", "--data", path(&data)], None);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, profiles);
    assert!(
        lines
            .iter()
            .all(|p| p["user"].is_string() && p["offers"].is_array())
    );

    let out = indexer(&["export", "--data", path(&data), "--format", "csv"], None);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("user,page,revid,updated,status,"));
    assert_eq!(csv.lines().count() as u64, profiles + 1);
}

#[test]
fn parse_prints_the_profile_with_warnings() {
    let text = format!(
        "{}\n",
        EXAMPLE.replace("| status", "| colour = blue\n| status")
    );
    let out = indexer(&["parse", "--page", "User:Ana_Silva"], Some(&text));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let profile = &json["profile"];
    assert_eq!(profile["user"], "Ana Silva");
    assert_eq!(profile["country"], "BR");
    assert_eq!(profile["region"], "LAC");
    assert_eq!(profile["timezone"], "America/Sao_Paulo");
    assert_eq!(profile["offers"].as_array().unwrap().len(), 3);
    assert!(
        profile["offers"][0]["id"].is_string(),
        "Lua is a taxonomy skill"
    );
    assert_eq!(
        profile["languages"][0],
        serde_json::json!({"code": "pt", "level": "N"})
    );
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["param"], "colour");
}

#[test]
fn parse_templates_prints_every_call() {
    let text = "{{#babel:pt-N}}{{User_wikipedia/Administrator}}\n{{ template:capacity Exchange profile|offers = Lua |x| 2 = y}}";
    let out = indexer(&["parse", "--templates"], Some(text));
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "User wikipedia/Administrator", "params": {}},
            {"name": "Capacity Exchange profile", "params": {"offers": "Lua", "1": "x", "2": "y"}}
        ])
    );
}

#[test]
fn a_broken_export_fails_clearly_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.xml");
    let data = dir.path().join("data");
    let out = indexer(&["synth", "--profiles", "20", "--out", path(&good)], None);
    assert!(out.status.success());
    let out = indexer(
        &["import", "--dump", path(&good), "--data", path(&data)],
        None,
    );
    assert!(out.status.success());
    let current = std::fs::read_to_string(data.join("current")).unwrap();

    let text = std::fs::read_to_string(&good).unwrap();
    let cut = text.find("<title>User:").unwrap() + 200;
    let truncated = dir.path().join("truncated.xml");
    std::fs::write(&truncated, &text[..cut]).unwrap();
    let out = indexer(
        &["import", "--dump", path(&truncated), "--data", path(&data)],
        None,
    );
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("truncated"), "{message}");
    assert!(message.contains("User:"), "names the page: {message}");
    assert!(message.contains("nothing was published"), "{message}");
    assert_eq!(
        std::fs::read_to_string(data.join("current")).unwrap(),
        current
    );

    let out = indexer(
        &[
            "import",
            "--dump",
            "/nonexistent/export.xml",
            "--data",
            path(&data),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/export.xml"));
}
