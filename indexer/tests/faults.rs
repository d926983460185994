//! Faults a real wiki will not produce on demand, from a small scripted HTTP server on
//! loopback: HTTP 500s, `maxlag`, 429 with `Retry-After`, `ratelimited`, truncated JSON, a
//! stalled connection, floods of each, and a wiki that says nothing at all (from the start,
//! or half-way through a crawl). The crawler must back off, count every request, and either
//! finish or fail with a clear message having published nothing.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does with one request.
#[derive(Debug, Clone)]
enum Fault {
    /// The wiki's normal answer (to script faults after some good answers).
    Answer,
    /// An HTTP status with a body and extra headers.
    Status(u16, &'static str, Vec<(&'static str, &'static str)>),
    /// A 200 whose JSON body stops half-way.
    TruncatedJson,
    /// Accept the request and never answer.
    Stall,
}

#[derive(Default)]
struct Log {
    requests: Vec<(Instant, String)>,
}

/// Answers like a tiny wiki with two profiles, after serving the scripted faults first.
fn wiki_answer(query: &str) -> String {
    let has = |needle: &str| query.contains(needle);
    let connection_template = ["thanks", "Exchange+request", "Exchange%20request"]
        .iter()
        .any(|t| has(t));
    if has("prop=redirects") {
        // The three templates' aliases, with the recent-changes and move-log marks.
        r#"{"batchcomplete":true,"query":{"pages":[{"pageid":1,"ns":10,"title":"Template:Capacity Exchange profile","redirects":[{"pageid":2,"ns":10,"title":"Template:CX profile"}]},{"ns":10,"title":"Template:Capacity Exchange thanks","missing":true},{"ns":10,"title":"Template:Capacity Exchange request","missing":true}],"recentchanges":[{"type":"edit","rcid":5}],"logevents":[]}}"#.into()
    } else if connection_template && has("generator=embeddedin") {
        // No thanks and no requests on this wiki: an empty generator has no `query`.
        r#"{"batchcomplete":true}"#.into()
    } else if has("list=recentchanges") {
        r#"{"batchcomplete":true,"query":{"recentchanges":[{"type":"edit","rcid":5}],"logevents":[]}}"#.into()
    } else if has("generator=embeddedin") {
        let ana = "{{Capacity Exchange profile|offers=Lua|languages=pt-N}}";
        let bob = "{{CX profile|offers=Vandalism|languages=en-N}}";
        serde_json::json!({"batchcomplete": true, "query": {"pages": [
            {"pageid": 10, "ns": 2, "title": "User:Ana", "revisions": [
                {"revid": 100, "user": "Ana", "timestamp": "2026-01-01T00:00:00Z", "slots": {"main": {"content": ana}}}]},
            {"pageid": 11, "ns": 2, "title": "User:Bob", "revisions": [
                {"revid": 111, "user": "Carol", "timestamp": "2026-01-03T00:00:00Z", "slots": {"main": {"content": bob}}}]}
        ]}}).to_string()
    } else if has("list=usercontribs") {
        r#"{"batchcomplete":true,"query":{"usercontribs":[{"user":"Bob","revid":110,"ns":2,"title":"User:Bob","timestamp":"2026-01-02T00:00:00Z"}]}}"#.into()
    } else if has("revids=110") {
        let bob = "{{CX profile|offers=Wikidata|languages=en-N}}";
        serde_json::json!({"batchcomplete": true, "query": {"pages": [
            {"pageid": 11, "ns": 2, "title": "User:Bob", "revisions": [
                {"revid": 110, "user": "Bob", "timestamp": "2026-01-02T00:00:00Z", "slots": {"main": {"content": bob}}}]}
        ]}})
        .to_string()
    } else if has("list=users") {
        r#"{"batchcomplete":true,"query":{"users":[{"userid":1,"name":"Ana","emailable":true},{"userid":2,"name":"Bob"}]}}"#.into()
    } else {
        r#"{"errors":[{"code":"badvalue","text":"unexpected request in the test server"}]}"#.into()
    }
}

struct FaultServer {
    url: String,
    log: Arc<Mutex<Log>>,
    _runtime: tokio::runtime::Runtime,
}

impl FaultServer {
    fn start(faults: Vec<Fault>) -> FaultServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}/api.php", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Log::default()));
        let script = Arc::new(Mutex::new(VecDeque::from(faults)));
        let log2 = Arc::clone(&log);
        runtime.spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log2);
                let script = Arc::clone(&script);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let line = head.lines().next().unwrap_or("").to_string();
                    log.lock().unwrap().requests.push((Instant::now(), head.clone()));
                    let fault = script.lock().unwrap().pop_front();
                    let (status, body, headers) = match fault {
                        Some(Fault::Stall) => {
                            tokio::time::sleep(Duration::from_secs(600)).await;
                            return;
                        }
                        Some(Fault::TruncatedJson) => {
                            let full = wiki_answer(&line);
                            (200, full[..full.len() / 2].to_string(), vec![])
                        }
                        Some(Fault::Status(code, body, headers)) => (code, body.to_string(), headers),
                        Some(Fault::Answer) | None => (200, wiki_answer(&line), vec![]),
                    };
                    let mut response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        response.push_str(&format!("{k}: {v}\r\n"));
                    }
                    response.push_str("\r\n");
                    response.push_str(&body);
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FaultServer {
            url,
            log,
            _runtime: runtime,
        }
    }

    fn requests(&self) -> Vec<(Instant, String)> {
        self.log.lock().unwrap().requests.clone()
    }
}

fn crawl(url: &str, data: &Path, summary: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["crawl", "--api", url, "--data"])
        .arg(data)
        .arg("--summary-json")
        .arg(summary)
        .args(["--backoff-ms", "50"])
        .args(extra)
        .env_remove("CAPX_WIKI_USER")
        .env_remove("CAPX_WIKI_PASSWORD")
        .env_remove("CAPX_WIKI_OAUTH2_TOKEN")
        .output()
        .unwrap()
}

fn summary(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const MAXLAG: &str =
    r#"{"errors":[{"code":"maxlag","text":"Waiting for db1: 7 seconds lagged."}]}"#;
const RATELIMITED: &str =
    r#"{"errors":[{"code":"ratelimited","text":"You've exceeded your rate limit."}]}"#;

#[test]
fn a_clean_crawl_applies_the_owner_rule_and_counts_requests() {
    let server = FaultServer::start(vec![]);
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let out = crawl(&server.url, &data, &sum, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&sum);
    assert_eq!(s["mode"], "full");
    assert_eq!(s["profiles"], 2);
    assert_eq!(s["added"], 2);
    // The templates' aliases with the recent-changes marks, embeddedin, usercontribs,
    // revids, users; then the connections: pages with thanks and talk pages with requests.
    assert_eq!(s["requests"], 6);
    assert_eq!(server.requests().len(), 6);
    for (_, head) in server.requests() {
        assert!(head.contains("maxlag=5"), "{head}");
        let agent = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("user-agent:"))
            .unwrap_or_default();
        assert!(
            agent.contains("CapacityExchange/") && agent.contains("toolforge"),
            "{agent}"
        );
    }
    // Bob's profile is read from Bob's own revision, not Carol's later edit.
    let snapshot = exchange::store::DataDir::new(&data).open_current().unwrap();
    let bob = snapshot.profile("Bob").unwrap().unwrap();
    assert_eq!(bob.revid, 110);
    assert_eq!(bob.offers[0].display(), "Wikidata");
    assert!(snapshot.accepts_email("Ana").unwrap());
    assert!(!snapshot.accepts_email("Bob").unwrap());
}

#[test]
fn server_errors_maxlag_429_ratelimits_and_truncated_json_are_retried() {
    let server = FaultServer::start(vec![
        Fault::Status(500, "oops", vec![]),
        Fault::Status(200, MAXLAG, vec![("Retry-After", "1")]),
        Fault::Status(429, "slow down", vec![("Retry-After", "1")]),
        Fault::Status(200, RATELIMITED, vec![]),
        Fault::TruncatedJson,
        Fault::Status(503, "busy", vec![]),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let out = crawl(&server.url, &data, &sum, &["--max-attempts", "8"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&sum);
    assert_eq!(s["profiles"], 2);
    assert_eq!(s["requests"], 6 + 6, "every retry is counted");
    let requests = server.requests();
    assert_eq!(requests.len(), 12);
    // Retry-After: 1 was honoured after the maxlag answer and after the 429.
    assert!(requests[2].0 - requests[1].0 >= Duration::from_secs(1));
    assert!(requests[3].0 - requests[2].0 >= Duration::from_secs(1));
}

#[test]
fn a_flood_of_errors_fails_cleanly_without_spinning_and_keeps_the_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let good = FaultServer::start(vec![]);
    assert!(crawl(&good.url, &data, &sum, &[]).status.success());
    let current = std::fs::read_to_string(data.join("current")).unwrap();

    let flood = FaultServer::start(vec![Fault::Status(500, "down", vec![]); 50]);
    let out = crawl(
        &flood.url,
        &data,
        &dir.path().join("s2.json"),
        &["--max-attempts", "4", "--full"],
    );
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("gave up after 4 attempts"), "{message}");
    assert!(message.contains("nothing was published"), "{message}");
    assert_eq!(flood.requests().len(), 4, "bounded attempts, no spinning");
    assert_eq!(
        std::fs::read_to_string(data.join("current")).unwrap(),
        current
    );
    assert!(!dir.path().join("s2.json").exists());
}

#[test]
fn a_stalled_connection_times_out_and_is_retried() {
    let server = FaultServer::start(vec![Fault::Stall]);
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let out = crawl(&server.url, &data, &sum, &["--timeout", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary(&sum)["requests"], 7);
}

#[test]
fn a_wiki_that_never_answers_fails_with_a_clear_message() {
    let server = FaultServer::start(vec![Fault::Stall; 10]);
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let out = crawl(
        &server.url,
        &data,
        &sum,
        &["--timeout", "1", "--max-attempts", "3"],
    );
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("gave up after 3 attempts"), "{message}");
    assert!(!data.join("current").exists());
}

#[test]
fn floods_of_maxlag_and_ratelimited_answers_give_up_too_and_keep_the_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let good = FaultServer::start(vec![]);
    assert!(crawl(&good.url, &data, &sum, &[]).status.success());
    let current = std::fs::read_to_string(data.join("current")).unwrap();
    for (what, answer) in [("maxlag", MAXLAG), ("ratelimited", RATELIMITED)] {
        let flood = FaultServer::start(vec![Fault::Status(200, answer, vec![]); 50]);
        let summary = dir.path().join(format!("{what}.json"));
        let out = crawl(
            &flood.url,
            &data,
            &summary,
            &["--max-attempts", "3", "--full"],
        );
        assert!(!out.status.success(), "{what}");
        let message = String::from_utf8_lossy(&out.stderr);
        assert!(message.contains("gave up after 3 attempts"), "{message}");
        assert!(message.contains("nothing was published"), "{message}");
        assert_eq!(flood.requests().len(), 3, "{what}: bounded attempts");
        assert_eq!(
            std::fs::read_to_string(data.join("current")).unwrap(),
            current
        );
        assert!(!summary.exists());
    }
}

#[test]
fn a_wiki_that_falls_silent_half_way_through_a_crawl_keeps_the_old_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sum) = (dir.path().join("data"), dir.path().join("s.json"));
    let good = FaultServer::start(vec![]);
    assert!(crawl(&good.url, &data, &sum, &[]).status.success());
    let current = std::fs::read_to_string(data.join("current")).unwrap();
    // Three good answers (the marks, the aliases, the list of pages), then nothing at all.
    let mut script = vec![Fault::Answer; 3];
    script.extend(vec![Fault::Stall; 10]);
    let silent = FaultServer::start(script);
    let started = Instant::now();
    let out = crawl(
        &silent.url,
        &data,
        &dir.path().join("s2.json"),
        &["--timeout", "1", "--max-attempts", "2", "--full"],
    );
    assert!(!out.status.success());
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("gave up after 2 attempts"), "{message}");
    assert!(message.contains("nothing was published"), "{message}");
    assert_eq!(silent.requests().len(), 5);
    // Two attempts of a second each, and the back-off between them: no hang.
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(
        std::fs::read_to_string(data.join("current")).unwrap(),
        current
    );
    let entries: Vec<String> = std::fs::read_dir(data.join("generations"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec![current.trim().to_string()]);
}
