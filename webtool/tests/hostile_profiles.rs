//! The catalogue of hostile profiles (`tests/hostile/catalogue.rs`, issue 8) over HTTP:
//! every page kind for the hostile people and the ordinary ones, in English and Arabic, must
//! hold no script, no event handler and no `javascript:`/`data:`/`vbscript:` address;
//! its markup must be balanced, and the ordinary people's cards must hold exactly their own
//! name and skills; every bidirectional control must sit inside an isolating element (or a
//! balanced isolate the tool wrote around it), so that it cannot reorder text outside; each
//! page's size is bounded by the parser's caps; the JSON answers keep the text as text.
//! (That nothing runs and nothing overlaps in a real browser is `tests/browser.rs`'s part.)

#[path = "hostile/catalogue.rs"]
mod catalogue;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use exchange::parse::{MAX_AVAILABILITY_CHARS, MAX_BIO_CHARS, MAX_ITEM_CHARS, MAX_ITEMS};
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use exchange::wikitext::title::normalize_user_name;
use serde_json::Value;
use webtool::state::AppState;

use catalogue::{ANA, ORDINARY, encode};

// ---------------------------------------------------------------------------------------------
// The site

/// A person of the catalogue as the tool names them.
struct Shown {
    user: String,
    attack: &'static str,
    ordinary: bool,
}

struct Site {
    base: String,
    people: Vec<Shown>,
}

/// The catalogue imported and served once for all tests, from a thread of its own (each
/// test has its own runtime, which would take a server started on it down when it ends).
fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let people = catalogue::people();
        let shown = people
            .iter()
            .map(|p| Shown {
                user: normalize_user_name(&p.title_user)
                    .unwrap_or_else(|| panic!("{:?} is not a user name", p.title_user)),
                attack: p.attack,
                ordinary: p.ordinary,
            })
            .collect();
        let bytes: &'static [u8] = Box::leak(catalogue::export(&people).into_boxed_slice());
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let dir = tempfile::tempdir().expect("a temporary data directory");
            let data = DataDir::new(dir.path());
            let open = || Ok(exchange::dump::open_bytes(bytes));
            exchange::import::import(&open, &data, "hostile catalogue", &mut |_| {})
                .expect("importing the catalogue");
            let state = Arc::new(AppState::new(data));
            state.refresh();
            assert!(state.snapshot().is_some(), "the import published nothing");
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the web tool");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a loopback port");
                let address = listener.local_addr().expect("its address");
                sender
                    .send(address)
                    .expect("the test waits for the address");
                axum::serve(listener, webtool::router(state))
                    .await
                    .expect("serving");
                drop(dir);
            });
        });
        let address = receiver.recv().expect("the web tool's address");
        Site {
            base: format!("http://{address}"),
            people: shown,
        }
    })
}

fn user_path(user: &str) -> String {
    encode(&user.replace(' ', "_"))
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

async fn get(path: &str) -> Answer {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    // No pooled connections: each test has its own runtime, and a connection made on one
    // dies with it.
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    });
    let url = format!("{}{path}", site().base);
    let response = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    Answer {
        status,
        content_type,
        body,
    }
}

async fn page(path: &str) -> String {
    let answer = get(path).await;
    assert_eq!(answer.status, 200, "GET {path}:\n{}", answer.body);
    assert!(
        answer.content_type.starts_with("text/html"),
        "GET {path}: {}",
        answer.content_type
    );
    answer.body
}

async fn json(path: &str) -> Value {
    let answer = get(path).await;
    assert_eq!(answer.status, 200, "GET {path}:\n{}", answer.body);
    assert!(
        answer.content_type.starts_with("application/json"),
        "GET {path}: {}",
        answer.content_type
    );
    serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("GET {path} is not JSON ({e}):\n{}", answer.body))
}

// ---------------------------------------------------------------------------------------------
// A strict HTML reader: the tool's pages are well-formed (every element closed, every
// attribute quoted or plain), so anything that is not is a finding.

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }

    /// The text of the element and its descendants.
    fn text(&self) -> String {
        let mut out = String::new();
        fn walk(e: &Element, out: &mut String) {
            for child in &e.children {
                match child {
                    Node::Text(t) => out.push_str(t),
                    Node::Element(e) => walk(e, out),
                }
            }
        }
        walk(self, &mut out);
        out
    }

    /// Every element below this one (depth first, document order) that `keep` accepts.
    fn find<'a>(&'a self, keep: &dyn Fn(&Element) -> bool) -> Vec<&'a Element> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Element, keep: &dyn Fn(&Element) -> bool, out: &mut Vec<&'a Element>) {
            for child in &e.children {
                if let Node::Element(c) = child {
                    if keep(c) {
                        out.push(c);
                    }
                    walk(c, keep, out);
                }
            }
        }
        walk(self, keep, &mut out);
        out
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Decodes the character references the tool writes (and a few more).
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&s| s <= 10).and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Reads a page into a tree, or says where its markup is broken.
fn parse_html(html: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = vec![Element {
        name: "#document".into(),
        ..Default::default()
    }];
    let bytes = html.as_bytes();
    let mut pos = 0;
    let context = |at: usize| {
        let mut start = at.saturating_sub(80);
        while !html.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (at + 80).min(html.len());
        while !html.is_char_boundary(end) {
            end += 1;
        }
        format!("…{}…", &html[start..end])
    };
    let push_text = |stack: &mut Vec<Element>, text: &str| {
        if !text.is_empty()
            && let Some(top) = stack.last_mut()
        {
            top.children.push(Node::Text(decode(text)));
        }
    };
    while pos < html.len() {
        let Some(lt) = html[pos..].find('<').map(|i| pos + i) else {
            push_text(&mut stack, &html[pos..]);
            break;
        };
        push_text(&mut stack, &html[pos..lt]);
        let rest = &html[lt..];
        if rest.starts_with("<!--") {
            let end = rest
                .find("-->")
                .ok_or_else(|| format!("unclosed comment {}", context(lt)))?;
            pos = lt + end + 3;
        } else if rest.starts_with("<!") {
            let end = rest
                .find('>')
                .ok_or_else(|| format!("unclosed declaration {}", context(lt)))?;
            pos = lt + end + 1;
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after
                .find('>')
                .ok_or_else(|| format!("unclosed end tag {}", context(lt)))?;
            let name = after[..end].trim().to_ascii_lowercase();
            let open = stack.pop().filter(|e| e.name != "#document");
            match open {
                Some(element) if element.name == name => {
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(Node::Element(element));
                    }
                }
                Some(element) => {
                    return Err(format!(
                        "</{name}> closes <{}> {}",
                        element.name,
                        context(lt)
                    ));
                }
                None => return Err(format!("</{name}> closes nothing {}", context(lt))),
            }
            pos = lt + 2 + end + 1;
        } else if rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            let mut i = lt + 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
                i += 1;
            }
            let name = html[lt + 1..i].to_ascii_lowercase();
            let mut element = Element {
                name: name.clone(),
                ..Default::default()
            };
            let mut self_closing = false;
            loop {
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                match bytes.get(i) {
                    None => return Err(format!("unclosed tag <{name} {}", context(lt))),
                    Some(b'>') => {
                        i += 1;
                        break;
                    }
                    Some(b'/') if bytes.get(i + 1) == Some(&b'>') => {
                        self_closing = true;
                        i += 2;
                        break;
                    }
                    Some(b'/' | b'"' | b'\'' | b'<' | b'=') => {
                        return Err(format!("a stray character in <{name}> {}", context(i)));
                    }
                    Some(_) => {}
                }
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'=' | b'>' | b'/')
                {
                    i += 1;
                }
                let attr = html[start..i].to_ascii_lowercase();
                let mut value = String::new();
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                    match bytes.get(i) {
                        Some(&q @ (b'"' | b'\'')) => {
                            let end = html[i + 1..]
                                .find(q as char)
                                .ok_or_else(|| format!("unclosed attribute {}", context(i)))?;
                            value = decode(&html[i + 1..i + 1 + end]);
                            i += end + 2;
                        }
                        _ => {
                            let start = i;
                            while i < bytes.len()
                                && !bytes[i].is_ascii_whitespace()
                                && bytes[i] != b'>'
                            {
                                i += 1;
                            }
                            value = decode(&html[start..i]);
                        }
                    }
                }
                if element.attrs.iter().any(|(n, _)| *n == attr) {
                    return Err(format!("<{name}> has {attr} twice {}", context(start)));
                }
                element.attrs.push((attr, value));
            }
            pos = i;
            if matches!(name.as_str(), "script" | "style" | "title" | "textarea") && !self_closing {
                // Raw text up to the end tag; escaped text (title, textarea) is decoded.
                let close = format!("</{name}");
                let end = html[pos..]
                    .to_ascii_lowercase()
                    .find(&close)
                    .ok_or_else(|| format!("<{name}> is never closed {}", context(lt)))?;
                let inner = &html[pos..pos + end];
                let text = if matches!(name.as_str(), "title" | "textarea") {
                    decode(inner)
                } else {
                    inner.to_string()
                };
                if !text.is_empty() {
                    element.children.push(Node::Text(text));
                }
                let gt = html[pos + end..]
                    .find('>')
                    .ok_or_else(|| format!("unclosed </{name} {}", context(pos + end)))?;
                pos = pos + end + gt + 1;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::Element(element));
                }
            } else if self_closing || VOID.contains(&name.as_str()) {
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(Node::Element(element));
                }
            } else {
                stack.push(element);
            }
        } else {
            return Err(format!("a bare < in text {}", context(lt)));
        }
    }
    if stack.len() != 1 {
        let open: Vec<String> = stack.iter().skip(1).map(|e| e.name.clone()).collect();
        return Err(format!("elements left open at the end: {open:?}"));
    }
    Ok(stack.pop().unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// What every page must be

/// The bidirectional formatting characters: embeddings, overrides, isolates, marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn is_isolate_initiator(c: char) -> bool {
    matches!(c, '\u{2066}'..='\u{2068}')
}

const PDI: char = '\u{2069}';

/// Attributes whose value is an address.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "data",
    "background",
    "cite",
    "srcset",
    "ping",
    "manifest",
];

/// Problems of one page: script, handlers, dangerous addresses, inline style, and bidi
/// controls that could reorder text outside the element that holds them.
fn page_problems(root: &Element) -> Vec<String> {
    let mut problems = Vec::new();
    check_element(root, &mut problems, &mut None, &mut Vec::new());
    problems
}

/// Text in an isolating element: how many isolates it has opened and not closed yet.
struct Run {
    depth: usize,
}

fn check_element(
    e: &Element,
    problems: &mut Vec<String>,
    run: &mut Option<Run>,
    path: &mut Vec<String>,
) {
    if matches!(
        e.name.as_str(),
        "script" | "iframe" | "object" | "embed" | "base" | "frame" | "applet"
    ) {
        problems.push(format!("a <{}> element at {}", e.name, path.join(" > ")));
    }
    for (name, value) in &e.attrs {
        if name.starts_with("on") {
            problems.push(format!("<{} {name}=\"{value}\">", e.name));
        }
        if name == "style" {
            problems.push(format!("inline style <{} style=\"{value}\">", e.name));
        }
        if URL_ATTRIBUTES.contains(&name.as_str()) {
            let folded: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && !c.is_control())
                .collect::<String>()
                .to_lowercase();
            for scheme in ["javascript:", "data:", "vbscript:"] {
                if folded.starts_with(scheme) {
                    problems.push(format!("<{} {name}=\"{value}\">", e.name));
                }
            }
        }
        if value.chars().any(is_bidi_control) {
            check_unisolated(value, &format!("<{} {name}>", e.name), problems);
        }
    }
    // `dir` on the root says the page's direction; anywhere else it isolates what it holds,
    // as <bdi> does (HTML's rendering rules give both `unicode-bidi: isolate`).
    let isolating = e.name == "bdi" || (e.name != "html" && e.attr("dir").is_some());
    let mut own = isolating.then_some(Run { depth: 0 });
    let run = if isolating { &mut own } else { run };
    path.push(match e.attr("class") {
        Some(class) => format!("{}.{class}", e.name),
        None => e.name.clone(),
    });
    for child in &e.children {
        match child {
            Node::Element(c) => check_element(c, problems, run, path),
            Node::Text(text) => match run {
                Some(run) => {
                    for c in text.chars() {
                        if is_isolate_initiator(c) {
                            run.depth += 1;
                        } else if c == PDI {
                            if run.depth == 0 {
                                problems.push(format!(
                                    "a pop-isolate that closes the isolation of <{}> around it: {} {text:?}",
                                    e.name,
                                    path.join(" > ")
                                ));
                            } else {
                                run.depth -= 1;
                            }
                        }
                    }
                }
                None => {
                    if text.chars().any(is_bidi_control) {
                        check_unisolated(text, &path.join(" > "), problems);
                    }
                }
            },
        }
    }
    path.pop();
}

/// Text outside any isolating element may hold bidi controls only inside isolates it opens
/// and closes itself (the FSI … PDI the tool writes around a name inside a message).
fn check_unisolated(text: &str, at: &str, problems: &mut Vec<String>) {
    let mut depth = 0usize;
    for c in text.chars() {
        if is_isolate_initiator(c) {
            depth += 1;
        } else if c == PDI {
            if depth == 0 {
                problems.push(format!(
                    "a stray pop-isolate outside isolation at {at}: {text:?}"
                ));
                return;
            }
            depth -= 1;
        } else if is_bidi_control(c) && depth == 0 {
            problems.push(format!(
                "U+{:04X} outside any isolation at {at}: {text:?}",
                c as u32
            ));
            return;
        }
    }
    if depth > 0 {
        problems.push(format!("an isolate left open at {at}: {text:?}"));
    }
}

/// Bytes a character may cost: in HTML text (`'` → `&#x27;`) and in an address (a
/// four-byte letter → `%F0%9D%95%8F`).
const HTML_BYTES: usize = 6;
const URL_BYTES: usize = 12;

/// The largest page one profile can make, from the parser's caps: its own profile page.
/// That shows six lists (offers, wants, knows, affiliations, projects, formats) of at most
/// `MAX_ITEMS` items of at most `MAX_ITEM_CHARS` characters, each in about 100 bytes of
/// markup; the bio and the availability; and for each offered skill an "ask" and a "thank"
/// link, whose texts name the skill and whose addresses carry it four times (two subjects,
/// the request marker, the thanks parameter) with about 1 KB of fixed address text. The
/// rest of the page (header, facts, peers, footer) stays under 40 KB. About 700 KB: the
/// "Hostile Cap" profile, written to reach it, makes a page of about 450 KB (its characters
/// cannot all be the costliest in both places at once). No page of the catalogue shows
/// more than one profile at the caps, so this bounds every page.
fn caps_budget() -> usize {
    let lists = 6 * MAX_ITEMS * (MAX_ITEM_CHARS * HTML_BYTES + 100);
    let links = MAX_ITEMS * (MAX_ITEM_CHARS * (2 * HTML_BYTES + 4 * URL_BYTES) + 1_000);
    let texts = (MAX_BIO_CHARS + MAX_AVAILABILITY_CHARS) * HTML_BYTES;
    lists + links + texts + 40_000
}

/// Any page that does not show the profile at the caps: the other attacks (ten thousand
/// items, a 2 MB bio, a 50,000-character word) are cut by the same caps to at most
/// `MAX_ITEMS` plain items, 2,000 characters of bio, 120 per item, so a page of 20 such
/// cards, or a profile page of them, stays under 150 KB.
const PAGE_BUDGET: usize = 150 * 1024;

/// The profile written to reach every cap at once.
const AT_THE_CAPS: &str = "Hostile Cap";

/// Checks one HTML page and returns its tree.
async fn checked_page(path: &str, sizes: &mut BTreeMap<String, usize>) -> Element {
    let html = page(path).await;
    sizes.insert(path.to_string(), html.len());
    let budget = if html.contains(AT_THE_CAPS) {
        caps_budget()
    } else {
        PAGE_BUDGET
    };
    assert!(
        html.len() <= budget,
        "{path} is {} bytes, over the budget of {budget} the caps allow",
        html.len(),
    );
    let root = parse_html(&html).unwrap_or_else(|e| panic!("{path}: broken markup: {e}"));
    let problems = page_problems(&root);
    assert!(
        problems.is_empty(),
        "{path}:\n{}",
        problems
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    root
}

/// An XML document (the Atom feed) must be well-formed with no element from outside Atom.
fn check_feed(path: &str, body: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(body);
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                let name = e.name().into_inner().to_string();
                assert!(
                    matches!(
                        name.as_str(),
                        "feed"
                            | "title"
                            | "id"
                            | "link"
                            | "updated"
                            | "generator"
                            | "entry"
                            | "author"
                            | "name"
                            | "summary"
                    ),
                    "{path}: an element <{name}> in the feed"
                );
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(e)) => {
                let name = e.name().into_inner().to_string();
                assert_eq!(name, "link", "{path}: an element <{name}/> in the feed");
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{path}: the feed is not well-formed XML: {e}\n{body}"),
        }
    }
    assert_eq!(depth, 0, "{path}: unbalanced feed");
}

/// Percent-decodes a query value.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a profile's text may not bring into a template call the wiki saves: characters that
/// end a parameter or a call, or a signature (three tildes or more) the wiki would expand.
fn breaks_a_parameter(value: &str) -> bool {
    value.contains(['{', '}', '|', '[', ']', '<', '>', '\n', '\r']) || value.contains("~~~")
}

/// The links of a profile page that open the wiki's editor (ask on the talk page, thank on
/// one's own page, in general and per skill): whatever the person wrote, each fills in one
/// template call whose parameters hold only their own value.
fn check_wiki_links(root: &Element, path: &str) {
    let links = root
        .find(&|e| e.name == "a" && e.attr("href").is_some_and(|h| h.contains("preloadparams")));
    assert!(links.len() >= 2, "{path}: the ask and thank links");
    for link in links {
        let href = link.attr("href").unwrap_or_default();
        assert!(
            href.starts_with("https://meta.wikimedia.org/w/index.php?"),
            "{path}: {href}"
        );
        let query = href.split_once('?').map_or("", |(_, q)| q);
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (percent_decode(k), percent_decode(v)))
            .collect();
        let params: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "preloadparams[]")
            .map(|(_, v)| v.as_str())
            .collect();
        let title = pairs
            .iter()
            .find(|(k, _)| k == "preloadtitle")
            .map(|(_, v)| v.as_str());
        assert!(
            title.is_some_and(|t| !t.contains(['\n', '\r']) && !t.contains("~~~")),
            "{path}: the section title of {href}: {title:?}"
        );
        if href.contains("Special:MyPage") {
            // Thanks: `$1` the person, `$2` the skill, `$3` the date.
            assert_eq!(params.len(), 3, "{path}: {href}");
            for value in params {
                assert!(!breaks_a_parameter(value), "{path}: {value:?} in {href}");
            }
        } else {
            // A request: the marker with its skill, then the message and the signature.
            assert_eq!(params.len(), 1, "{path}: {href}");
            let text = params[0];
            let skill = text
                .strip_prefix("{{Capacity Exchange request|skill=")
                .and_then(|rest| rest.split_once("}}\n"))
                .map(|(skill, message)| {
                    assert!(message.ends_with(" ~~~~"), "{path}: {text:?}");
                    assert!(
                        !breaks_a_parameter(message.trim_end_matches(" ~~~~")),
                        "{path}: {text:?}"
                    );
                    skill
                })
                .unwrap_or_else(|| panic!("{path}: not a request marker: {text:?}"));
            assert!(!breaks_a_parameter(skill), "{path}: {skill:?} in {text:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

const LANGS: [&str; 2] = ["en", "ar"];

/// Every search page that brings hostile and ordinary people together.
fn search_paths(lang: &str) -> Vec<String> {
    let mut paths: Vec<String> = (0..3)
        .flat_map(|page| {
            ["Lua", "Hostile"].map(|q| format!("/search?q={q}&offset={}&uselang={lang}", page * 20))
        })
        .collect();
    for q in [
        "Ana Souza",
        "Wikidata",
        "grant writing",
        "capxPwned",
        "javascript",
        "script",
        "reversed",
        "Pneumonoultramicroscopicsilicovolcanoconiosis",
    ] {
        paths.push(format!("/search?q={}&uselang={lang}", encode(q)));
    }
    paths.push(format!(
        "/search?skill=lua-modules&kind=offers&uselang={lang}"
    ));
    paths.push(format!("/search?skill=wikidata&kind=wants&uselang={lang}"));
    paths.push(format!(
        "/search?q=Lua&project={}&uselang={lang}",
        encode("javascript:window.capxPwned='plain'")
    ));
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_inert_balanced_isolated_and_bounded() {
    let site = site();
    let mut sizes = BTreeMap::new();
    let mut checked = 0;
    for lang in LANGS {
        let mut paths = search_paths(lang);
        for person in &site.people {
            let user = user_path(&person.user);
            paths.push(format!("/profile/{user}?uselang={lang}"));
            paths.push(format!("/match/{user}?uselang={lang}"));
        }
        for skill in ["lua-modules", "wikidata", "grant-writing"] {
            paths.push(format!("/skill/{skill}?uselang={lang}"));
        }
        paths.push(format!("/stats?uselang={lang}"));
        paths.push(format!("/skills?uselang={lang}"));
        paths.push(format!("/?uselang={lang}"));
        for path in &paths {
            let root = checked_page(path, &mut sizes).await;
            if path.starts_with("/profile/") {
                check_wiki_links(&root, path);
            }
            checked += 1;
        }
        for skill in ["lua-modules", "wikidata"] {
            let path = format!("/skill/{skill}/feed.atom?uselang={lang}");
            let answer = get(&path).await;
            assert_eq!(answer.status, 200);
            assert!(answer.content_type.starts_with("application/atom+xml"));
            check_feed(&path, &answer.body);
            assert!(!answer.body.contains("<script"), "{path}");
        }
    }
    let largest = sizes.iter().max_by_key(|(_, n)| **n).expect("pages");
    eprintln!(
        "{checked} pages checked; the largest is {} ({} bytes; budgets {} at the caps, {PAGE_BUDGET} otherwise)",
        largest.0,
        largest.1,
        caps_budget()
    );
    let mut by_size: Vec<(&String, &usize)> = sizes.iter().collect();
    by_size.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
    for (path, n) in by_size.iter().take(12) {
        eprintln!("{n:>7} bytes  {path}");
    }
    for person in &site.people {
        let path = format!("/profile/{}?uselang=en", user_path(&person.user));
        eprintln!(
            "{:>7} bytes  {} ({})",
            sizes[&path],
            person.user.escape_debug(),
            person.attack
        );
    }
}

/// The English or Arabic labels of an ordinary person's skills.
fn labels(typed: &[&str], lang: &str) -> Vec<String> {
    let taxonomy = Taxonomy::bundled();
    typed
        .iter()
        .map(|t| {
            let skill = taxonomy
                .resolve(t)
                .unwrap_or_else(|| panic!("{t} is a skill"));
            taxonomy.label(skill, lang).to_string()
        })
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Nothing from anyone else: no markup, controls, invisible characters or hostile words.
fn assert_clean(text: &str, what: &str) {
    for bad in ["capxPwned", "Hostile", "Evil", "<", "reversed", "Pneumono"] {
        assert!(!text.contains(bad), "{what} holds {bad:?}: {text:?}");
    }
    assert!(
        !text
            .chars()
            .any(|c| is_bidi_control(c) || catalogue::ZERO_WIDTH.contains(&c)),
        "{what} holds an invisible character: {text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_cards_hold_exactly_their_own_name_and_skills() {
    let mut sizes = BTreeMap::new();
    for lang in LANGS {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut paths = search_paths(lang);
        paths.extend(
            ["lua-modules", "wikidata", "grant-writing"]
                .map(|s| format!("/skill/{s}?uselang={lang}")),
        );
        for path in &paths {
            let root = checked_page(path, &mut sizes).await;
            for card in root.find(&|e| e.name == "article" && e.has_class("card")) {
                let heading = card.find(&|e| e.name == "h3");
                let name = collapse(&heading[0].text());
                let Some(person) = ORDINARY.iter().find(|o| o.user == name) else {
                    continue;
                };
                *seen.entry(person.user).or_default() += 1;
                let chips: Vec<String> = card
                    .find(&|e| e.has_class("chip"))
                    .iter()
                    .map(|c| collapse(&c.text()))
                    .collect();
                let mut expected = labels(person.offers, lang);
                expected.extend(labels(person.wants, lang));
                assert_eq!(chips, expected, "{name}'s card on {path}");
                assert_clean(&card.text(), &format!("{name}'s card on {path}"));
            }
        }
        for person in &ORDINARY {
            assert!(
                seen.get(person.user).copied().unwrap_or(0) >= 5,
                "{}'s card is on the pages with hostile ones ({lang}): {seen:?}",
                person.user
            );
        }
        // Their own pages: the heading is the name, every skill theirs, and where they are
        // listed on others' pages (peers, matches) only their skills are beside their name.
        for person in &ORDINARY {
            let path = format!("/profile/{}?uselang={lang}", user_path(person.user));
            let root = checked_page(&path, &mut sizes).await;
            let h1 = root.find(&|e| e.name == "h1");
            assert_eq!(collapse(&h1[0].text()), person.user, "{path}");
            let facts = root.find(&|e| e.name == "dl" && e.has_class("facts"));
            assert_clean(&facts[0].text(), &path);
        }
        for hostile in site().people.iter().filter(|p| !p.ordinary) {
            for kind in ["profile", "match"] {
                let path = format!("/{kind}/{}?uselang={lang}", user_path(&hostile.user));
                let root = checked_page(&path, &mut sizes).await;
                let entries = root.find(&|e| {
                    (e.name == "li" && (e.has_class("card") || e.attrs.is_empty()))
                        && !e.find(&|a| a.name == "a").is_empty()
                });
                for entry in entries {
                    let name = collapse(&entry.find(&|e| e.name == "a")[0].text());
                    let Some(person) = ORDINARY.iter().find(|o| o.user == name) else {
                        continue;
                    };
                    let mut theirs = labels(person.offers, lang);
                    theirs.extend(labels(person.wants, lang));
                    for chip in entry.find(&|e| e.has_class("chip")) {
                        let label = collapse(&chip.text());
                        assert!(theirs.contains(&label), "{name} beside {label:?} on {path}");
                    }
                    let names: Vec<String> = entry
                        .find(&|e| e.name == "h3" || e.name == "bdi")
                        .iter()
                        .map(|e| collapse(&e.text()))
                        .collect();
                    assert!(names.contains(&name.to_string()), "{path}: {names:?}");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_alike_names_are_other_people_and_say_what_they_hide() {
    let mut sizes = BTreeMap::new();
    let look_alikes: Vec<&Shown> = site()
        .people
        .iter()
        .filter(|p| {
            p.user != ANA
                && p.user
                    .chars()
                    .filter(|c| !catalogue::ZERO_WIDTH.contains(c))
                    .collect::<String>()
                    == ANA
        })
        .collect();
    assert_eq!(
        look_alikes.len(),
        5,
        "one look-alike per zero-width character"
    );
    // Ana's own page and card are hers alone, and unmarked.
    for lang in LANGS {
        let path = format!("/profile/Ana_Souza?uselang={lang}");
        let root = checked_page(&path, &mut sizes).await;
        let h1 = &root.find(&|e| e.name == "h1")[0];
        assert_eq!(h1.text(), ANA, "{path}");
        let bio = &root.find(&|e| e.has_class("bio"))[0];
        assert_eq!(
            collapse(&bio.text()),
            "Organizo maratonas de edição no Recife."
        );
        assert!(
            h1.find(&|e| e.has_class("hidden-chars")).is_empty(),
            "{path}"
        );
    }
    let api = json("/api/v1/profiles/Ana_Souza").await;
    assert_eq!(api["user"], ANA);
    assert_eq!(api["bio"], "Organizo maratonas de edição no Recife.");

    for person in &look_alikes {
        let hidden: Vec<char> = person
            .user
            .chars()
            .filter(|c| catalogue::ZERO_WIDTH.contains(c))
            .collect();
        let code = format!("U+{:04X}", hidden[0] as u32);
        let path = format!("/profile/{}?uselang=en", user_path(&person.user));
        let root = checked_page(&path, &mut sizes).await;
        let h1 = &root.find(&|e| e.name == "h1")[0];
        assert!(
            h1.text().starts_with(&person.user) || h1.text().contains(&person.user),
            "{path}"
        );
        let marker = h1.find(&|e| e.has_class("hidden-chars"));
        assert_eq!(
            marker.len(),
            1,
            "{path}: the heading says the name hides a character"
        );
        assert!(
            marker[0].text().contains(&code),
            "{path}: {}",
            marker[0].text()
        );
        let api = json(&format!("/api/v1/profiles/{}", user_path(&person.user))).await;
        assert_eq!(api["user"], person.user.as_str(), "a person of their own");
        assert!(
            api["bio"]
                .as_str()
                .unwrap_or_default()
                .starts_with("I am the real")
        );
    }
    // Side by side in the results: only the look-alikes' cards carry the marker.
    for lang in LANGS {
        let path = format!("/search?q=Ana%20Souza&uselang={lang}");
        let root = checked_page(&path, &mut sizes).await;
        let cards = root.find(&|e| e.name == "article" && e.has_class("card"));
        let mut marked = 0;
        for card in &cards {
            let link = &card.find(&|e| e.name == "h3")[0].find(&|e| e.name == "bdi")[0];
            let name = link.text();
            let markers = card.find(&|e| e.has_class("hidden-chars"));
            if name == ANA {
                assert!(markers.is_empty(), "Ana's card is unmarked on {path}");
            } else if look_alikes.iter().any(|p| p.user == name) {
                assert_eq!(markers.len(), 1, "{name:?}'s card is marked on {path}");
                marked += 1;
            }
        }
        assert_eq!(marked, 5, "{path}");
    }
}

/// Titles (on the wiki and in `exchange::wikitext::title`) drop the embeddings, overrides
/// and marks (U+202A–U+202E, U+200E, U+200F) but keep the isolates (U+2066–U+2069): a name
/// that holds only the former is shown clean; one that holds isolates is shown balanced,
/// inside its own isolation, with its invisible characters named beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_with_bidi_controls_keep_what_titles_keep_and_say_so() {
    let mut sizes = BTreeMap::new();
    let rita = json("/api/v1/profiles/Rita_Reversed").await;
    assert_eq!(
        rita["user"], "Rita Reversed",
        "the title dropped U+202E, U+202C, U+200F"
    );
    let root = checked_page("/profile/Rita_Reversed?uselang=en", &mut sizes).await;
    let h1 = &root.find(&|e| e.name == "h1")[0];
    assert_eq!(h1.text(), "Rita Reversed");
    for (user, shown, hidden) in [
        (
            "Isolde\u{2069}\u{2067} Override",
            "Isolde\u{2067} Override\u{2069}",
            "U+2069 U+2067",
        ),
        (
            "\u{2068}Fsi \u{2066}Name",
            "\u{2068}Fsi \u{2066}Name\u{2069}\u{2069}",
            "U+2068 U+2066",
        ),
    ] {
        let api = json(&format!("/api/v1/profiles/{}", user_path(user))).await;
        assert_eq!(
            api["user"], user,
            "the JSON keeps the name as the wiki has it"
        );
        for lang in LANGS {
            let path = format!("/profile/{}?uselang={lang}", user_path(user));
            let root = checked_page(&path, &mut sizes).await;
            let h1 = &root.find(&|e| e.name == "h1")[0];
            let name = &h1.find(&|e| e.name == "bdi")[0];
            assert_eq!(
                name.text(),
                shown,
                "{path}: balanced, the stray pop dropped"
            );
            let marker = h1.find(&|e| e.has_class("hidden-chars"));
            assert!(
                marker.len() == 1 && marker[0].text().contains(hidden),
                "{path}: {:?}",
                h1.text()
            );
            let title = &root.find(&|e| e.name == "title")[0];
            assert!(
                title
                    .text()
                    .starts_with(&format!("\u{2068}{shown}\u{2069}")),
                "{path}: the page title isolates the name: {:?}",
                title.text()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_api_keeps_hostile_text_as_text_within_the_caps() {
    let site = site();
    for person in &site.people {
        let user = user_path(&person.user);
        let profile = json(&format!("/api/v1/profiles/{user}")).await;
        assert_eq!(profile["user"], person.user.as_str(), "{}", person.attack);
        for list in [
            "offers",
            "wants",
            "knows",
            "languages",
            "affiliations",
            "projects",
            "formats",
            "contact",
        ] {
            let n = profile[list].as_array().map_or(0, Vec::len);
            assert!(
                n <= MAX_ITEMS,
                "{}: {n} {list} (at most {MAX_ITEMS})",
                person.user
            );
        }
        for skill in ["offers", "wants", "knows"]
            .iter()
            .flat_map(|k| profile[*k].as_array().cloned().unwrap_or_default())
        {
            let text = skill["text"]
                .as_str()
                .or(skill["label"].as_str())
                .unwrap_or_default();
            assert!(
                text.chars().count() <= MAX_ITEM_CHARS,
                "{}: {text}",
                person.user
            );
        }
        let bio = profile["bio"].as_str().unwrap_or_default();
        assert!(bio.chars().count() <= MAX_BIO_CHARS, "{}", person.user);
        let matches = json(&format!("/api/v1/match/{user}")).await;
        assert!(matches.is_object(), "{matches}");
    }
    // The text is the text the wiki shows, not HTML: markup that survived as text is there
    // as written, unescaped, and JSON-escaped only as JSON needs.
    let entities = json("/api/v1/profiles/Hostile_Entities").await;
    assert!(
        entities["bio"]
            .as_str()
            .is_some_and(|b| b.contains("<script>window.capxPwned='entity'</script>")),
        "{entities}"
    );
    let nowiki = json("/api/v1/profiles/Hostile_Nowiki").await;
    assert!(
        nowiki["bio"]
            .as_str()
            .is_some_and(|b| b.contains("<script>window.capxPwned='nowiki'</script>")),
        "{nowiki}"
    );
    let bidi = json("/api/v1/profiles/Hostile_Bidi").await;
    assert!(
        bidi["bio"].as_str().is_some_and(|b| b.contains('\u{202E}')),
        "{bidi}"
    );
    let search = json("/api/v1/search?q=Lua&limit=100").await;
    let users: Vec<&str> = search["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["profile"]["user"].as_str().or(r["user"].as_str()))
        .collect();
    assert!(
        users.contains(&ANA) && users.contains(&"Hostile Bidi"),
        "{users:?}"
    );
    let stats = json("/api/v1/stats").await;
    assert!(stats.is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skills_that_close_the_template_stay_inside_their_parameter() {
    let closed_offers = json("/api/v1/profiles/Hostile_Close_Offers").await;
    assert_eq!(closed_offers["status"], "active", "{closed_offers}");
    let offers = closed_offers["offers"].to_string();
    assert!(
        !offers.contains("Evil"),
        "the second call is not read: {offers}"
    );
    let closed_bio = json("/api/v1/profiles/Hostile_Close_Bio").await;
    assert_eq!(closed_bio["status"], "active", "{closed_bio}");
    assert!(closed_bio["bio"].is_null(), "{closed_bio}");
    let pipes = json("/api/v1/profiles/Hostile_Pipes").await;
    assert_eq!(pipes["status"], "active", "{pipes}");
    // Nobody was paused by a neighbour's text, and every ordinary person is there.
    for o in &ORDINARY {
        let p = json(&format!("/api/v1/profiles/{}", user_path(o.user))).await;
        assert_eq!(p["status"], "active");
        assert_eq!(p["offers"].as_array().map(Vec::len), Some(o.offers.len()));
    }
}
