//! A fake wiki on loopback big enough for a crawl to take a while: `people` User pages that
//! call the profile template, listed over several `embeddedin` batches of 50, every tenth
//! edited last by someone else (so the owner's own revision is fetched by `usercontribs` and
//! `revids`), block and e-mail status by `list=users` in batches, no thanks or requests, and a
//! fixed delay before every answer. Everything it says is a pure function of the request,
//! so every complete crawl of it gives the same snapshot.
//!
//! Included with `#[path = "common/fake_wiki.rs"] mod fake_wiki;` by the tests that crawl it
//! (`common/mod.rs` is the MediaWiki tests' and is not pulled in with it).

#![allow(dead_code)] // Each test file uses its own part of it.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The user name of person `i`.
pub fn person(i: usize) -> String {
    format!("Person {i:04}")
}

/// Every person here has a profile; none is blocked.
pub fn expected_profiles(people: usize) -> usize {
    people
}

const SKILLS: [&str; 6] = [
    "Lua",
    "Wikidata",
    "Translation",
    "Event organizing",
    "Mentoring",
    "Commons",
];
const PLACES: [(&str, &str); 5] = [
    ("BR", "pt"),
    ("DE", "de"),
    ("IN", "hi"),
    ("NG", "yo"),
    ("FR", "fr"),
];
const TIMESTAMP: &str = "2026-01-01T00:00:00Z";
const LATER: &str = "2026-01-02T00:00:00Z";

/// Person `i`'s own words.
fn profile_text(i: usize) -> String {
    let (country, language) = PLACES[i % PLACES.len()];
    format!(
        "{{{{Capacity Exchange profile|offers={}, {}|wants={}|languages={language}-N, en-{}\
         |country={country}|bio=Person number {i} likes to help.}}}}",
        SKILLS[i % SKILLS.len()],
        SKILLS[(i / 6) % SKILLS.len()],
        SKILLS[(i + 2) % SKILLS.len()],
        1 + i % 4,
    )
}

/// Every tenth page was last edited by someone else (whose words must not count).
fn edited_by_other(i: usize) -> bool {
    i % 10 == 3
}

fn own_revid(i: usize) -> u64 {
    10_000 + 10 * i as u64
}

fn revision(i: usize, own: bool) -> Value {
    if own {
        json!({"revid": own_revid(i), "user": person(i), "timestamp": TIMESTAMP,
               "slots": {"main": {"content": profile_text(i)}}})
    } else {
        json!({"revid": own_revid(i) + 1, "user": "Helpful Stranger", "timestamp": LATER,
               "slots": {"main": {"content": "{{Capacity Exchange profile|offers=Vandalism}}"}}})
    }
}

fn page(i: usize, own: bool) -> Value {
    json!({"pageid": 100 + i, "ns": 2, "title": format!("User:{}", person(i)),
           "revisions": [revision(i, own)]})
}

/// The index of a person from their name, if it is one of ours.
fn index_of(name: &str, people: usize) -> Option<usize> {
    let i: usize = name.strip_prefix("Person ")?.parse().ok()?;
    (i < people).then_some(i)
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parameters of a request line `GET /api.php?… HTTP/1.1`.
fn params(line: &str) -> HashMap<String, String> {
    let target = line.split(' ').nth(1).unwrap_or_default();
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// The wiki's answer to one request.
pub fn answer(line: &str, people: usize) -> String {
    let p = params(line);
    let get = |key: &str| p.get(key).map_or("", String::as_str);
    let list: Vec<&str> = get("list").split('|').collect();
    if list.contains(&"recentchanges") {
        // Nothing changed: an incremental crawl has nothing to do.
        return json!({"batchcomplete": true, "query": {"recentchanges": [{"type": "edit", "rcid": 5}], "logevents": []}}).to_string();
    }
    if get("prop") == "redirects" {
        let titles: Vec<Value> = get("titles")
            .split('|')
            .map(|t| {
                if t == "Template:Capacity Exchange profile" {
                    json!({"pageid": 1, "ns": 10, "title": t})
                } else {
                    json!({"ns": 10, "title": t, "missing": true})
                }
            })
            .collect();
        return json!({"batchcomplete": true, "query": {"pages": titles}}).to_string();
    }
    if get("generator") == "embeddedin" {
        if get("geititle") != "Template:Capacity Exchange profile" {
            // No thanks and no requests on this wiki.
            return json!({"batchcomplete": true}).to_string();
        }
        let from: usize = get("geicontinue").parse().unwrap_or(0);
        let limit: usize = get("geilimit").parse().unwrap_or(50);
        let to = (from + limit).min(people);
        let pages: Vec<Value> = (from..to).map(|i| page(i, !edited_by_other(i))).collect();
        let mut answer = json!({"query": {"pages": pages}});
        if to < people {
            answer["continue"] = json!({"geicontinue": to.to_string(), "continue": "gcontinue||"});
        } else {
            answer["batchcomplete"] = json!(true);
        }
        return answer.to_string();
    }
    if list.contains(&"usercontribs") {
        let contribs: Vec<Value> = get("ucuser")
            .split('|')
            .filter_map(|name| index_of(name, people))
            .map(|i| {
                json!({"user": person(i), "revid": own_revid(i), "ns": 2,
                       "title": format!("User:{}", person(i)), "timestamp": TIMESTAMP})
            })
            .collect();
        return json!({"batchcomplete": true, "query": {"usercontribs": contribs}}).to_string();
    }
    if !get("revids").is_empty() {
        let pages: Vec<Value> = get("revids")
            .split('|')
            .filter_map(|r| r.parse::<u64>().ok())
            .filter(|r| *r >= 10_000 && (r - 10_000) % 10 == 0)
            .map(|r| ((r - 10_000) / 10) as usize)
            .filter(|i| *i < people)
            .map(|i| page(i, true))
            .collect();
        return json!({"batchcomplete": true, "query": {"pages": pages}}).to_string();
    }
    if list.contains(&"users") {
        let users: Vec<Value> = get("ususers")
            .split('|')
            .filter_map(|name| index_of(name, people))
            .map(|i| {
                let mut user = json!({"userid": 1 + i, "name": person(i)});
                if i % 2 == 0 {
                    user["emailable"] = json!(true);
                }
                user
            })
            .collect();
        return json!({"batchcomplete": true, "query": {"users": users}}).to_string();
    }
    json!({"errors": [{"code": "badvalue", "text": "unexpected request in the fake wiki"}]})
        .to_string()
}

/// The fake wiki, answering on a loopback port until dropped.
pub struct FakeWiki {
    pub url: String,
    pub people: usize,
    requests: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl FakeWiki {
    pub fn start(people: usize, delay: Duration) -> FakeWiki {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}/w/api.php", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        runtime.spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 8192];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let line = head.lines().next().unwrap_or_default();
                    let body = answer(line, people);
                    tokio::time::sleep(delay).await;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FakeWiki {
            url,
            people,
            requests,
            _runtime: runtime,
        }
    }

    /// Requests answered (or being answered) so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// `indexer crawl` of `wiki` into `data`, with `extra` arguments, not yet waited for.
pub fn spawn_crawl(url: &str, data: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args(["crawl", "--api", url, "--data"])
        .arg(data)
        .args(["--backoff-ms", "50", "--timeout", "10"])
        .args(extra)
        .env_remove("CAPX_WIKI_USER")
        .env_remove("CAPX_WIKI_PASSWORD")
        .env_remove("CAPX_WIKI_OAUTH2_TOKEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `indexer crawl` run to its end.
pub fn crawl(url: &str, data: &Path, extra: &[&str]) -> Output {
    spawn_crawl(url, data, extra).wait_with_output().unwrap()
}
