//! The web tool's pages in a real browser: a headless Chromium, driven through chromedriver,
//! against the web tool served in-process on 127.0.0.1. Every page must render without a
//! console error (a Content Security Policy violation is one), search and filters must work by
//! typing and clicking, hostile profile text must stay text, Arabic must read right to left,
//! and the skip link must be the first stop of the keyboard.
//!
//! Ignored by a plain `cargo test`: they need Debian's `chromium` and `chromium-driver`.
//! `tests/run` installs both (`tests/browser/install-packages.sh`, as root) and runs
//!
//! ```sh
//! cargo test -p webtool --test browser -- --include-ignored
//! ```
//!
//! `CHROMIUM` and `CHROMEDRIVER` name other binaries than `/usr/bin/chromium` and the
//! `chromedriver` on `PATH`. A screenshot of every page is written to
//! `<target>/browser-screenshots/<page>.png` (desktop) and `<page>-mobile.png` (390 px wide).
//!
//! The WebDriver client is the dozen W3C commands these tests use, over the reqwest the other
//! tests already build: a client crate (fantoccini) would add some twenty crates to compile,
//! and chromedriver's log endpoint, which the console check needs, is outside its API anyway.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[path = "hostile/catalogue.rs"]
mod catalogue;

use catalogue::encode;

use base64::Engine;
use exchange::parse::{PageContext, ProfileTemplate, parse_page};
use exchange::profile::{LanguageSkill, Level, Profile, SkillRef, Status};
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use serde_json::{Value, json};
use webtool::state::AppState;

/// How long chromedriver and Chromium may take to start on a busy two-core machine.
const STARTUP: Duration = Duration::from_secs(60);
/// How long a page may take to do what a test waits for before the test fails.
const WAIT: Duration = Duration::from_secs(20);
/// The key under which WebDriver hands out element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
/// The width of a small phone, for the mobile-first checks and screenshots.
const MOBILE_WIDTH: u32 = 390;

// ---------------------------------------------------------------------------------------------
// The web tool on loopback

/// A served snapshot: the data directory lives as long as the site.
struct Site {
    _dir: tempfile::TempDir,
    base: String,
}

async fn serve(dir: tempfile::TempDir, data: DataDir) -> Site {
    let state = Arc::new(AppState::new(data));
    state.refresh();
    assert!(state.snapshot().is_some(), "the import published nothing");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port for the web tool");
    let address = listener.local_addr().expect("the web tool's address");
    tokio::spawn(async move {
        axum::serve(listener, webtool::router(state))
            .await
            .expect("serving the web tool");
    });
    Site {
        _dir: dir,
        base: format!("http://{address}"),
    }
}

/// The bundled demo (300 synthetic people): enough for facets and pagination.
async fn demo_site() -> Site {
    let (dir, data, _) = tokio::task::spawn_blocking(webtool::demo::build)
        .await
        .expect("the demo import thread")
        .expect("importing the demo export");
    serve(dir, data).await
}

/// The user name and page text of the people on the small site.
const MALLORY: &str = "Mallory";
const ARABIC_USER: &str = "سارة المصري";
const ARABIC_BIO: &str = "أنظم ورش تحرير في القاهرة.";

/// A wiki of a few people: one whose profile is written to break pages, ordinary ones in
/// Portuguese, Arabic and German.
fn small_export() -> Vec<u8> {
    // The parser drops real tags, as MediaWiki would not show them, and keeps what a reader
    // of the wiki sees as text: entity-escaped tags, and an unterminated tag at the end.
    let hostile = "{{Capacity Exchange profile\n\
        | offers = Lua; <script>window.capxPwned = 'offers'</script>; [javascript:window.capxPwned='link' click me]; <img src=x onerror=window.capxPwned='img'\n\
        | wants = <a href=\"javascript:window.capxPwned='wants'\">grants</a>\n\
        | languages = en-N\n\
        | country = BR\n\
        | bio = Hi <script>window.capxPwned = 'bio'</script> &lt;script&gt;window.capxPwned = 'escaped'&lt;/script&gt; [javascript:window.capxPwned='bio-link' click] <a href=\"javascript:alert(1)\">me</a> <script src=/static/style.css onload=window.capxPwned='src'\n\
        }}";
    let portuguese = "{{Capacity Exchange profile\n| offers = Lua; Wikidata\n| wants = grant writing\n| languages = pt-N, en-3\n| country = BR\n| bio = Organizo maratonas de edição no Recife.\n}}";
    let arabic = format!(
        "{{{{Capacity Exchange profile\n| offers = Wikidata; Lua\n| wants = grant writing\n| languages = ar-N, en-3\n| country = EG\n| bio = {ARABIC_BIO}\n}}}}"
    );
    let german = "{{Capacity Exchange profile\n| offers = Commons; photography\n| wants = Lua\n| languages = de-N, en-4\n| country = DE\n| bio = Fotografiere Denkmäler.\n}}";
    let page = |id: u32, user: &str, text: &str| {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        format!(
            "<page><title>User:{user}</title><ns>2</ns><id>{id}</id><revision><id>{}</id><timestamp>2026-01-0{id}T00:00:00Z</timestamp><contributor><username>{user}</username><id>{id}</id></contributor><text xml:space=\"preserve\">{escaped}</text></revision></page>",
            id * 10
        )
    };
    format!(
        "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\">{}{}{}{}</mediawiki>",
        page(1, "Ana Souza", portuguese),
        page(2, MALLORY, hostile),
        page(3, ARABIC_USER, &arabic),
        page(4, "Jonas Weber", german),
    )
    .into_bytes()
}

async fn small_site() -> Site {
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let data = DataDir::new(dir.path());
    let bytes: &'static [u8] = Box::leak(small_export().into_boxed_slice());
    let open = || Ok(exchange::dump::open_bytes(bytes));
    exchange::import::import(&open, &data, "browser test", &mut |_| {})
        .expect("importing the small export");
    serve(dir, data).await
}

/// The catalogue of hostile profiles (`tests/hostile/catalogue.rs`) with its ordinary
/// people, and the names the tool gives them all, in the catalogue's order.
async fn hostile_site() -> (Site, Vec<String>) {
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let data = DataDir::new(dir.path());
    let people = catalogue::people();
    let users = people
        .iter()
        .map(|p| {
            exchange::wikitext::title::normalize_user_name(&p.title_user)
                .unwrap_or_else(|| panic!("{:?} is not a user name", p.title_user))
        })
        .collect();
    let bytes: &'static [u8] = Box::leak(catalogue::export(&people).into_boxed_slice());
    let open = || Ok(exchange::dump::open_bytes(bytes));
    exchange::import::import(&open, &data, "browser test", &mut |_| {})
        .expect("importing the hostile catalogue");
    (serve(dir, data).await, users)
}

/// The small site again, with the thanks and requests a crawl would add: Ana Souza thanked
/// for Lua by three different people (an Open Badge), and for free text written to break
/// pages; the Arabic speaker asked about Wikidata.
async fn recognition_site() -> Site {
    use exchange::connections::{RequestRecord, ThanksRecord};
    use exchange::store::ProfileRecord;
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let data = DataDir::new(dir.path());
    let bytes: &'static [u8] = Box::leak(small_export().into_boxed_slice());
    let open = || Ok(exchange::dump::open_bytes(bytes));
    exchange::import::import(&open, &data, "browser test", &mut |_| {})
        .expect("importing the small export");
    let mut profiles = Vec::new();
    data.open_current()
        .expect("the small snapshot")
        .for_each_profile(|p| {
            profiles.push(p);
            Ok(())
        })
        .expect("its profiles");
    let at = |day: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 3, day)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .expect("a day of March")
            .and_utc()
    };
    let skill = |name: &str| {
        let skill = taxonomy().resolve(name).expect("a taxonomy skill");
        Some(SkillRef::Known {
            id: skill.id.clone(),
            label: taxonomy().label(skill, "en").to_string(),
        })
    };
    let thanks = |thanker: &str, thanked: &str, skill: Option<SkillRef>, day: u32| ThanksRecord {
        page: format!("User:{thanker}"),
        revid: u64::from(day),
        timestamp: at(day),
        thanker: thanker.into(),
        thanker_registered: None,
        thanked: thanked.into(),
        skill,
        date: None,
        note: None,
    };
    let hostile = Some(SkillRef::Free {
        text: "<img src=x onerror=window.capxPwned='thanks'>".into(),
    });
    let mut builder = data
        .begin("browser test with connections")
        .expect("a generation");
    for profile in &profiles {
        builder
            .add_profile(ProfileRecord {
                profile,
                page_id: None,
                accepts_email: false,
            })
            .expect("a profile");
    }
    for record in [
        thanks(MALLORY, "Ana Souza", skill("Lua"), 1),
        thanks("Jonas Weber", "Ana Souza", skill("Lua"), 2),
        thanks(ARABIC_USER, "Ana Souza", skill("Lua"), 3),
        thanks(MALLORY, "Ana Souza", hostile, 4),
        thanks("Ana Souza", ARABIC_USER, skill("Wikidata"), 5),
    ] {
        builder.add_thanks(&record).expect("a thanks");
    }
    builder
        .add_request(&RequestRecord {
            page: format!("User talk:{ARABIC_USER}"),
            revid: 9,
            timestamp: at(9),
            requester: "Jonas Weber".into(),
            skill: skill("Wikidata"),
        })
        .expect("a request");
    builder.publish().expect("publishing");
    serve(dir, data).await
}

// ---------------------------------------------------------------------------------------------
// chromedriver and Chromium

/// chromedriver, started on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts chromedriver and waits (at most [`STARTUP`]) until it listens; the error
    /// names what is missing.
    fn start() -> Result<Driver, String> {
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut child = Command::new(&program)
            // Port 0: chromedriver picks a free port and says which.
            .args(["--port=0", "--log-level=WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start `{program}` ({e}). The browser tests need chromedriver: install \
                     Debian's chromium-driver (as root: bash tests/browser/install-packages.sh) \
                     or set CHROMEDRIVER to its path"
                )
            })?;
        let Some(stdout) = child.stdout.take() else {
            return Err("chromedriver's output is not piped".into());
        };
        let (sender, receiver) = mpsc::channel();
        // Reads every line, so that chromedriver never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(port) = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|rest| rest.trim_end_matches('.').trim().parse::<u16>().ok())
                {
                    let _ = sender.send(port);
                }
            }
        });
        match receiver.recv_timeout(STARTUP) {
            Ok(port) => Ok(Driver { child, port }),
            Err(why) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                Err(format!(
                    "`{program}` did not report a listening port within {STARTUP:?} ({why}; exit \
                     status: {status})"
                ))
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Chromium binary the tests drive.
fn chromium_binary() -> String {
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&binary).is_file(),
        "Chromium is not installed at {binary}: install Debian's chromium (as root: bash \
         tests/browser/install-packages.sh) or set CHROMIUM to its path"
    );
    binary
}

/// A WebDriver error answer, or a transport failure.
#[derive(Debug)]
struct WebDriverError {
    error: String,
    message: String,
}

/// One headless Chromium session. Ends the session (and with it Chromium) and stops
/// chromedriver when dropped, also when a test fails half-way.
struct Browser {
    http: reqwest::Client,
    session: String,
    /// Where the page is served, to name pages in failure messages.
    base: String,
    /// Dropped after the session has ended: first chromedriver, then Chromium's profile.
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(base: &str) -> Browser {
        let binary = chromium_binary();
        let driver = tokio::task::spawn_blocking(Driver::start)
            .await
            .expect("the chromedriver start-up thread")
            .unwrap_or_else(|e| panic!("{e}"));
        let profile = tempfile::Builder::new()
            .prefix("capx-chromium-")
            .tempdir()
            .expect("a temporary Chromium profile");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(STARTUP)
            .build()
            .expect("an HTTP client");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--no-proxy-server".into(),
            "--lang=en-US".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {"binary": binary, "args": args},
        }}});
        let url = format!("http://127.0.0.1:{}/session", driver.port);
        let answer: Value = match http.post(&url).json(&capabilities).send().await {
            Ok(response) => response.json().await.unwrap_or_else(|e| {
                panic!("chromedriver answered the new session with something not JSON: {e}")
            }),
            Err(e) => panic!(
                "Chromium ({binary}) did not start within {STARTUP:?} through chromedriver: {e}"
            ),
        };
        let Some(session) = answer["value"]["sessionId"].as_str() else {
            panic!("Chromium ({binary}) did not start through chromedriver: {answer}");
        };
        Browser {
            http,
            session: format!("http://127.0.0.1:{}/session/{session}", driver.port),
            base: base.to_string(),
            driver,
            _profile: profile,
        }
    }

    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.session))
            .timeout(WAIT * 3);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let transport = |e: reqwest::Error| WebDriverError {
            error: "transport".into(),
            message: e.to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        let ok = response.status().is_success();
        let mut answer: Value = response.json().await.map_err(transport)?;
        let value = answer["value"].take();
        if ok {
            Ok(value)
        } else {
            Err(WebDriverError {
                error: value["error"].as_str().unwrap_or("unknown").to_string(),
                message: value["message"].as_str().unwrap_or_default().to_string(),
            })
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        match self.try_command(method, path, body.clone()).await {
            Ok(value) => value,
            Err(e) => panic!(
                "WebDriver {path} {} failed: {}: {}",
                body.map(|b| b.to_string()).unwrap_or_default(),
                e.error,
                e.message
            ),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.post("/url", json!({ "url": url })).await;
    }

    async fn url(&self) -> String {
        let value = self.command(reqwest::Method::GET, "/url", None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// The path and query of the current page, for messages and comparisons.
    async fn path(&self) -> String {
        let url = self.url().await;
        url.strip_prefix(&self.base).unwrap_or(&url).to_string()
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    async fn js(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    async fn find(&self, css: &str) -> Element {
        match self
            .try_command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await
        {
            Ok(value) => Element::from(&value),
            Err(e) => panic!(
                "no element `{css}` on {}: {}: {}",
                self.path().await,
                e.error,
                e.message
            ),
        }
    }

    async fn find_all(&self, css: &str) -> Vec<Element> {
        let value = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        value
            .as_array()
            .map(|list| list.iter().map(Element::from).collect())
            .unwrap_or_default()
    }

    async fn text(&self, element: &Element) -> String {
        let value = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{}/text", element.0),
                None,
            )
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn attribute(&self, element: &Element, name: &str) -> String {
        let value = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{}/attribute/{name}", element.0),
                None,
            )
            .await;
        value.as_str().unwrap_or_default().to_string()
    }

    async fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await;
    }

    /// Types into an element as a person would, key by key.
    async fn type_into(&self, element: &Element, text: &str) {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await;
    }

    /// Presses and releases one key wherever the focus is.
    async fn press(&self, key: &str) {
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key},
            ]}]}),
        )
        .await;
        self.command(reqwest::Method::DELETE, "/actions", None)
            .await;
    }

    /// Clicks a link and waits for the page it leads to.
    async fn follow(&self, element: &Element) {
        let before = self.url().await;
        self.click(element).await;
        self.wait_for(
            "the next page to load",
            "return location.href !== arguments[0] && document.readyState === 'complete'",
            json!([before]),
        )
        .await;
    }

    /// Waits until `script` returns something truthy, and returns it.
    async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            // Between pages a script may find no document to run in; that is waiting too.
            let answer = self
                .try_command(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({ "script": script, "args": args })),
                )
                .await;
            match answer {
                Ok(value)
                    if !value.is_null()
                        && value != json!(false)
                        && value != json!(0)
                        && value != json!("") =>
                {
                    return value;
                }
                _ if Instant::now() > deadline => {
                    panic!("waited {WAIT:?} for {what} on {}", self.path().await)
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// The console messages of level error since the last call (chromedriver hands each
    /// message out once). CSP violations, failed loads and uncaught exceptions are errors.
    async fn console_errors(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({"type": "browser"})).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn assert_no_console_errors(&self) {
        let errors = self.console_errors().await;
        assert!(
            errors.is_empty(),
            "console errors on {}:\n{}",
            self.url().await,
            errors.join("\n")
        );
    }

    async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
        let inner = self.js("return window.innerWidth", json!([])).await;
        assert_eq!(
            inner,
            json!(width),
            "the window did not take the width asked"
        );
    }

    /// Saves the whole page as `<target>/browser-screenshots/<name>.png`: the window is made
    /// as tall as the page for the shot (Chromium's own beyond-the-viewport capture draws
    /// right-to-left pages shifted), then given its height back.
    async fn screenshot(&self, name: &str) {
        let window = self
            .command(reqwest::Method::GET, "/window/rect", None)
            .await;
        let sizes = self
            .js(
                "return [innerHeight, document.documentElement.scrollHeight]",
                json!([]),
            )
            .await;
        let (Some(width), Some(height), Some(inner), Some(page)) = (
            window["width"].as_u64(),
            window["height"].as_u64(),
            sizes[0].as_u64(),
            sizes[1].as_u64(),
        ) else {
            panic!("cannot measure the page for a screenshot: {window} {sizes}")
        };
        let taller = page > inner;
        if taller {
            let full = (height + page - inner).min(16_000);
            self.post("/window/rect", json!({"width": width, "height": full}))
                .await;
        }
        let shot = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        if taller {
            self.post("/window/rect", json!({"width": width, "height": height}))
                .await;
        }
        let data = shot.as_str().unwrap_or_default();
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap_or_else(|e| panic!("the screenshot of {name} is not base64: {e}"));
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "the screenshot of {name} is not a PNG"
        );
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let file = dir.join(format!("{name}.png"));
        std::fs::write(&file, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    }
}

impl Drop for Browser {
    /// Ends the session with a plain blocking request: this also runs while a failed test
    /// unwinds, where nothing can be awaited. Ending it makes chromedriver close Chromium.
    fn drop(&mut self) {
        let Some(path) = self
            .session
            .strip_prefix(&format!("http://127.0.0.1:{}", self.driver.port))
        else {
            return;
        };
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.driver.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(WAIT));
        let request = format!(
            "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.driver.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // chromedriver keeps the connection open: read the head, then the body's length.
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let _ = reader.read_exact(&mut vec![0; length]);
        }
    }
}

/// A reference to an element of the current page.
struct Element(String);

impl From<&Value> for Element {
    fn from(value: &Value) -> Element {
        let id = value[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("not an element reference: {value}"));
        Element(id.to_string())
    }
}

/// `CARGO_TARGET_DIR` (relative to the workspace, as cargo reads it), else the workspace's
/// `target/`.
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("webtool lives inside the workspace")
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace.join(dir))
        .unwrap_or_else(|| workspace.join("target"));
    target.join("browser-screenshots")
}

fn taxonomy() -> &'static Taxonomy {
    Taxonomy::bundled()
}

/// The first whole number in `text` (result counts: "37 results").
fn number_in(text: &str) -> Option<usize> {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// Checks that hold on every page: no console error, the stylesheet applied, one main
/// landmark with a heading, the language and direction declared.
async fn check_page(browser: &Browser) {
    browser.assert_no_console_errors().await;
    let problems = browser
        .js(
            "const problems = [];
             const sheets = [...document.styleSheets];
             if (!sheets.some(s => s.cssRules.length > 0)) problems.push('no stylesheet applied');
             const mains = document.querySelectorAll('main');
             if (mains.length !== 1) problems.push(mains.length + ' main landmarks');
             const h1 = document.querySelector('main h1');
             if (!h1 || !h1.textContent.trim()) problems.push('no heading in main');
             if (!document.documentElement.lang) problems.push('no lang on html');
             if (!['ltr', 'rtl'].includes(document.documentElement.dir)) problems.push('no dir on html');
             if (!document.title.trim()) problems.push('no title');
             return problems;",
            json!([]),
        )
        .await;
    assert_eq!(problems, json!([]), "problems on {}", browser.path().await);
}

/// At a phone's width nothing may stick out sideways.
async fn check_fits_mobile(browser: &Browser) {
    let overflow = browser
        .js(
            "const width = document.documentElement.clientWidth;
             if (document.documentElement.scrollWidth <= width) return null;
             const wide = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > width + 1)
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.getAttribute('class') ? '.' + e.getAttribute('class') : ''));
             return { scrollWidth: document.documentElement.scrollWidth, width, wide };",
            json!([]),
        )
        .await;
    assert!(
        overflow.is_null(),
        "{} is wider than a {MOBILE_WIDTH}px screen: {overflow}",
        browser.path().await
    );
}

// ---------------------------------------------------------------------------------------------
// The tests

/// The pages of the demo, each checked and photographed at desktop and at phone width.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn every_page_renders_without_console_errors() {
    let site = demo_site().await;
    let browser = Browser::start(&site.base).await;

    // A person to show: the first search result.
    browser.goto("/search?uselang=en").await;
    let card = browser.find("article.card h3 a").await;
    let profile = browser.attribute(&card, "href").await;
    let profile = profile.split('?').next().unwrap_or_default().to_string();
    let user = profile
        .strip_prefix("/profile/")
        .unwrap_or_else(|| panic!("a card links to {profile}"))
        .to_string();
    browser.assert_no_console_errors().await;

    let skill = &taxonomy()
        .resolve("Wikidata")
        .expect("Wikidata is a skill")
        .id;
    let pages: Vec<(&str, String)> = vec![
        ("home", "/?uselang=en".into()),
        ("home-ar", "/?uselang=ar".into()),
        ("search", "/search?uselang=en".into()),
        ("search-query", "/search?q=wikidata&uselang=en".into()),
        ("search-ar", "/search?q=wikidata&uselang=ar".into()),
        ("profile", format!("/profile/{user}?uselang=en")),
        ("match", format!("/match/{user}?uselang=en")),
        ("skills", "/skills?uselang=en".into()),
        ("skills-ar", "/skills?uselang=ar".into()),
        ("skill", format!("/skill/{skill}?uselang=en")),
        ("stats", "/stats?uselang=en".into()),
        ("stats-ar", "/stats?uselang=ar".into()),
        ("create", "/create?uselang=en".into()),
        ("create-ar", "/create?uselang=ar".into()),
        ("about", "/about?uselang=en".into()),
    ];

    for (name, path) in &pages {
        browser.goto(path).await;
        check_page(&browser).await;
        browser.screenshot(name).await;
    }
    // The page for a missing path: its own 404 status is the one error the console may show.
    browser.goto("/no/such/page?uselang=en").await;
    let url = browser.url().await;
    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        .filter(|e| !(e.starts_with(&url) && e.contains("404")))
        .collect();
    assert!(
        errors.is_empty(),
        "console errors on {url}:\n{}",
        errors.join("\n")
    );
    check_page(&browser).await;
    browser.screenshot("not-found").await;

    browser.resize(MOBILE_WIDTH, 844).await;
    for (name, path) in &pages {
        browser.goto(path).await;
        check_page(&browser).await;
        check_fits_mobile(&browser).await;
        browser.screenshot(&format!("{name}-mobile")).await;
    }
}

/// The console check is not blind: a page that breaks the tool's CSP is caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn console_check_catches_csp_violations() {
    use axum::http::header;
    let site = small_site().await;
    // The policy exactly as the tool sends it, on a page with inline style and script.
    let policy = reqwest::get(format!("{}/", site.base))
        .await
        .expect("the home page")
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("the tool sends a CSP")
        .to_str()
        .expect("an ASCII policy")
        .to_string();
    let page = move || async move {
        (
            [
                (header::CONTENT_SECURITY_POLICY, policy),
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            ],
            "<!DOCTYPE html><html lang=en dir=ltr><title>x</title><main><h1 style=\"color: red\">x</h1>\
             <script>window.capxPwned = true</script></main></html>",
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(page));
        axum::serve(listener, app).await.expect("serving");
    });
    let browser = Browser::start(&format!("http://{address}")).await;
    browser.goto("/").await;
    let errors = browser.console_errors().await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Content Security Policy") && e.contains("script")),
        "the inline script's CSP violation is reported: {errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Content Security Policy") && e.contains("style")),
        "the inline style's CSP violation is reported: {errors:?}"
    );
    assert_eq!(
        browser.js("return window.capxPwned", json!([])).await,
        Value::Null
    );
}

/// Search by typing and the keyboard, filter and page by clicking, open a profile from a card.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn search_filters_and_pages_by_keyboard_and_clicks() {
    let site = demo_site().await;
    let browser = Browser::start(&site.base).await;

    // Type the most offered skill into the home page's search box and press Enter.
    browser.goto("/?uselang=en").await;
    let skill = browser.find(".columns ol li a").await;
    let query = browser.text(&skill).await;
    assert!(!query.is_empty(), "the home page lists offered skills");
    let search_box = browser.find("#q").await;
    browser.type_into(&search_box, &query).await;
    let home = browser.url().await;
    browser.type_into(&search_box, ENTER).await;
    browser
        .wait_for(
            "the results page",
            "return location.href !== arguments[0] && location.pathname === '/search' && document.readyState === 'complete'",
            json!([home]),
        )
        .await;
    check_page(&browser).await;
    let asked = browser
        .js(
            "return [new URLSearchParams(location.search).get('q'), document.querySelector('#q').value]",
            json!([]),
        )
        .await;
    assert_eq!(
        asked,
        json!([query, query]),
        "the query is in the URL and the box"
    );
    let count = browser.find("section .count").await;
    let total = number_in(&browser.text(&count).await).expect("a result count");
    assert!(total > 0, "people offer {query}, so it finds some");
    assert!(!browser.find_all("article.card").await.is_empty());

    // Click a filter that narrows the results: the count becomes the filter's own count.
    let facets = browser.find_all("aside li").await;
    let mut narrowing = None;
    for facet in &facets {
        let text = browser.text(facet).await;
        let count = text.rsplit(' ').next().and_then(number_in);
        if count.is_some_and(|c| c > 0 && c < total) {
            narrowing = Some((facet, count.unwrap_or_default()));
            break;
        }
    }
    let (facet, facet_count) =
        narrowing.unwrap_or_else(|| panic!("no filter narrows the {total} results for {query}"));
    let link = browser
        .js(
            "return arguments[0].querySelector('a')",
            json!([{ ELEMENT: facet.0 }]),
        )
        .await;
    let link = Element::from(&link);
    let href = browser.attribute(&link, "href").await;
    browser.follow(&link).await;
    check_page(&browser).await;
    let count = browser.find("section .count").await;
    let filtered = number_in(&browser.text(&count).await).expect("a result count");
    assert_eq!(
        filtered, facet_count,
        "following {href} gives as many results as the filter said"
    );
    assert_eq!(browser.path().await, href, "the filter is in the URL");
    // The filter is kept by the next search from this page's form.
    let (name, value) = href
        .split(['?', '&'])
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| !matches!(*name, "uselang" | "q" | "kind" | "offset"))
        .unwrap_or_else(|| panic!("{href} names a filter"));
    let kept = browser
        .js(
            "return [...document.querySelectorAll('form.search-form input[type=hidden]')].some(i => i.name === arguments[0] && encodeURIComponent(i.value) === arguments[1])",
            json!([name, value]),
        )
        .await;
    assert_eq!(kept, json!(true), "the form keeps {name}={value}");

    // Page through everyone: the next page shows other people, and back again.
    browser.goto("/search?uselang=en").await;
    let names =
        "return [...document.querySelectorAll('article.card h3 a')].map(a => a.textContent)";
    let first = browser.js(names, json!([])).await;
    let next = browser.find("a[rel=next]").await;
    browser.follow(&next).await;
    check_page(&browser).await;
    assert!(
        browser.path().await.contains("offset="),
        "the page is in the URL"
    );
    let second = browser.js(names, json!([])).await;
    let overlap = browser
        .js(
            "return arguments[0].filter(n => arguments[1].includes(n))",
            json!([first, second]),
        )
        .await;
    assert_eq!(
        overlap,
        json!([]),
        "page two shows other people: {first} / {second}"
    );
    let prev = browser.find("a[rel=prev]").await;
    browser.follow(&prev).await;
    assert_eq!(
        browser.js(names, json!([])).await,
        first,
        "back to page one"
    );

    // Open the first card's profile.
    let card = browser.find("article.card h3 a").await;
    let user = browser.text(&card).await;
    browser.follow(&card).await;
    check_page(&browser).await;
    assert!(browser.path().await.starts_with("/profile/"));
    let heading = browser.find("main h1").await;
    assert_eq!(browser.text(&heading).await, user);
}

/// Markup and `javascript:` links written into a profile are shown as text and never run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn hostile_profile_text_stays_text() {
    let site = small_site().await;
    let browser = Browser::start(&site.base).await;
    for (name, path) in [
        ("profile-hostile", format!("/profile/{MALLORY}?uselang=en")),
        ("search-hostile", "/search?q=Lua&uselang=en".to_string()),
        ("match-hostile", format!("/match/{MALLORY}?uselang=en")),
    ] {
        browser.goto(&path).await;
        check_page(&browser).await;
        browser.screenshot(name).await;
        let found = browser
            .js(
                "const bad = [];
                 for (const e of document.querySelectorAll('*')) {
                   for (const a of e.attributes) {
                     const value = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
                     if (a.name.startsWith('on')) bad.push(e.tagName + ' ' + a.name);
                     if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name) && value.startsWith('javascript:'))
                       bad.push(e.tagName + ' ' + a.name + '=' + a.value);
                   }
                 }
                 for (const s of document.querySelectorAll('script:not([src])')) bad.push('inline script: ' + s.textContent);
                 for (const i of document.querySelectorAll('main img')) bad.push('img ' + i.getAttribute('src'));
                 return { bad, pwned: window.capxPwned === undefined ? null : String(window.capxPwned), text: document.body.innerText };",
                json!([]),
            )
            .await;
        assert_eq!(found["bad"], json!([]), "on {path}");
        assert_eq!(
            found["pwned"],
            Value::Null,
            "a script from the profile ran on {path}"
        );
        let alert = browser
            .try_command(reqwest::Method::GET, "/alert/text", None)
            .await;
        assert!(
            alert.as_ref().is_err_and(|e| e.error == "no such alert"),
            "an alert is open on {path}: {alert:?}"
        );
        let text = found["text"].as_str().unwrap_or_default();
        if name == "profile-hostile" {
            for shown in [
                "<script>window.capxPwned = 'escaped'</script>",
                "<script src=/static/style.css onload=window.capxPwned='src'",
                "[javascript:window.capxPwned='bio-link' click]",
            ] {
                assert!(
                    text.contains(shown),
                    "the bio's {shown} is visible as text: {text}"
                );
            }
        }
        if name == "search-hostile" {
            assert!(
                text.contains("<img src=x onerror=window.capxPwned='img'"),
                "the skill's markup is visible as text: {text}"
            );
        }
    }
}

/// Arabic pages read right to left: declared, computed and laid out that way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn arabic_renders_right_to_left() {
    let site = small_site().await;
    let browser = Browser::start(&site.base).await;
    // Which side of its box the heading's text hugs, and the direction the page computes.
    let layout = "const h1 = document.querySelector('main h1');
        const range = document.createRange();
        range.selectNodeContents(h1);
        const text = range.getBoundingClientRect();
        const box = h1.getBoundingClientRect();
        return {
          dir: document.documentElement.dir,
          body: getComputedStyle(document.body).direction,
          main: getComputedStyle(document.querySelector('main')).direction,
          hugs: (text.left - box.left) < (box.right - text.right) ? 'left' : 'right',
          heading: h1.textContent.trim(),
        };";
    for (name, path, dir, side) in [
        (
            "profile-ar",
            format!("/profile/{ARABIC_USER}?uselang=ar"),
            "rtl",
            "right",
        ),
        (
            "profile-pt",
            "/profile/Ana_Souza?uselang=pt".to_string(),
            "ltr",
            "left",
        ),
        ("home-ar-small", "/?uselang=ar".to_string(), "rtl", "right"),
    ] {
        browser.goto(&path).await;
        check_page(&browser).await;
        browser.screenshot(name).await;
        let found = browser.js(layout, json!([])).await;
        assert_eq!(found["dir"], dir, "{path}: {found}");
        assert_eq!(found["body"], dir, "{path}: {found}");
        assert_eq!(found["main"], dir, "{path}: {found}");
        if name != "home-ar-small" {
            // The home page's hero may be centred; a profile's heading sits at the start.
            assert_eq!(found["hugs"], side, "{path}: {found}");
        }
    }
    browser
        .goto(&format!("/profile/{ARABIC_USER}?uselang=ar"))
        .await;
    let bio = browser.find(".bio").await;
    assert_eq!(browser.text(&bio).await, ARABIC_BIO);
}

/// From the top of a page, Tab reaches the skip link first, which shows where the focus is
/// and leads to the content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn tab_reaches_the_visible_skip_link_first() {
    let site = small_site().await;
    let browser = Browser::start(&site.base).await;
    for lang in ["en", "ar"] {
        browser.goto(&format!("/?uselang={lang}")).await;
        browser.press(TAB).await;
        let focused = browser
            .js(
                "const e = document.activeElement;
                 const style = getComputedStyle(e);
                 const r = e.getBoundingClientRect();
                 return {
                   skip: e.matches('a.skip'),
                   href: e.getAttribute('href'),
                   outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                   visible: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
                     && r.right <= innerWidth && r.bottom <= innerHeight,
                 };",
                json!([]),
            )
            .await;
        assert_eq!(
            focused,
            json!({"skip": true, "href": "#content", "outline": true, "visible": true}),
            "the first Tab on /?uselang={lang}"
        );
        browser
            .screenshot(&format!("skip-link-focused-{lang}"))
            .await;
        browser.press(ENTER).await;
        browser
            .wait_for(
                "the skip link to lead to the content",
                "return location.hash === '#content'",
                json!([]),
            )
            .await;
        browser.assert_no_console_errors().await;
    }
}

/// The profile builder, filled in by typing and clicking: the wikitext it writes reads back,
/// through the parser the indexer uses, as exactly the profile that was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn profile_builder_wikitext_reads_back_as_typed() {
    let site = small_site().await;
    let browser = Browser::start(&site.base).await;
    browser.goto("/create?uselang=en").await;
    check_page(&browser).await;

    // A free-text skill with characters that mean something to wikitext and to the list
    // splitter, and a bio in two scripts with more of them.
    let free_skill = "Restoring maps (1890–1920) | {{old}} = [[fun]]";
    let bio = "Organizo maratonas de edição no Recife; 50% of a = b | c, ~~~~ — أنظم ورش تحرير.";
    let typed = [
        ("#offers-1", "Lua"),
        ("#offers-2", "Wikidata"),
        ("#offers-3", free_skill),
        ("#wants-1", "grant writing"),
        ("#knows-1", "Photography"),
        ("#lang-code-1", "pt"),
        ("#lang-code-2", "ar"),
        ("#timezone", "America/Recife"),
        ("#affiliations-1", "Wiki Movement Brazil"),
        ("#availability", "Weekday evenings"),
        ("#bio", bio),
        // Select elements take typing too: the first option whose label starts so.
        ("#lang-level-1", "N"),
        ("#lang-level-2", "3"),
        ("#country", "Brazil"),
    ];
    for (css, text) in typed {
        let field = browser.find(css).await;
        browser.type_into(&field, text).await;
    }
    for css in ["#format-mentoring", "#format-online", "#contact-email"] {
        let choice = browser.find(css).await;
        browser.click(&choice).await;
    }
    let chosen = browser
        .js(
            "return ['#lang-level-1', '#lang-level-2', '#country', '#contact-talk']
               .map(css => { const e = document.querySelector(css); return e.type === 'checkbox' ? e.checked : e.value; })",
            json!([]),
        )
        .await;
    assert_eq!(
        chosen,
        json!(["N", "3", "BR", true]),
        "levels and country chosen by typing; talk pages are the default contact"
    );
    let submit = browser.find("#builder-submit").await;
    browser.follow(&submit).await;
    check_page(&browser).await;
    browser.screenshot("create-filled").await;

    let answer = browser
        .js(
            "const t = document.querySelector('#builder-wikitext');
             const problems = document.querySelector('#builder-errors');
             return { wikitext: t && t.value, problems: problems && problems.innerText,
                      edit: document.querySelector('#builder-edit-link')?.href,
                      bio: document.querySelector('#bio').value };",
            json!([]),
        )
        .await;
    assert_eq!(
        answer["problems"],
        Value::Null,
        "the form refused what was typed: {answer}"
    );
    let wikitext = answer["wikitext"]
        .as_str()
        .unwrap_or_else(|| panic!("no wikitext on the builder's answer: {answer}"));
    assert_eq!(answer["bio"], bio, "the form keeps what was typed");
    let edit = answer["edit"].as_str().unwrap_or_default();
    assert!(
        edit.starts_with("https://meta.wikimedia.org/"),
        "the edit link opens Meta-Wiki: {edit}"
    );

    let page = PageContext {
        title: "User:Builder Tester".into(),
        ..PageContext::default()
    };
    let parsed = parse_page(wikitext, &page, &ProfileTemplate::default(), taxonomy());
    assert_eq!(parsed.warnings, vec![], "{wikitext}");
    let skill = |text: &str| match taxonomy().resolve(text) {
        Some(s) => SkillRef::Known {
            id: s.id.clone(),
            label: taxonomy().label(s, "en").to_string(),
        },
        None => SkillRef::Free {
            text: text.to_string(),
        },
    };
    let level = |l: &str| l.parse::<Level>().expect("a Babel level");
    let mut expected = Profile::empty("Builder Tester", "User:Builder Tester");
    expected.offers = vec![skill("Lua"), skill("Wikidata"), skill(free_skill)];
    expected.wants = vec![skill("grant writing")];
    expected.knows = vec![skill("Photography")];
    expected.languages = vec![
        LanguageSkill {
            code: "pt".into(),
            level: level("N"),
        },
        LanguageSkill {
            code: "ar".into(),
            level: level("3"),
        },
    ];
    expected.country = Some("BR".into());
    expected.region = exchange::geo::find_country("BR").map(|c| c.region);
    expected.timezone = Some("America/Recife".into());
    expected.affiliations = vec!["Wiki Movement Brazil".into()];
    expected.formats = vec!["mentoring".into(), "online".into()];
    expected.contact = vec!["talk".into(), "email".into()];
    expected.availability = Some("Weekday evenings".into());
    expected.bio = Some(bio.into());
    expected.status = Status::Active;
    assert!(
        matches!(expected.offers[2], SkillRef::Free { .. }),
        "the free-text skill is not in the taxonomy"
    );
    assert_eq!(parsed.profile, Some(expected), "{wikitext}");
}

/// Recognition on profile pages and connections on the statistics page render cleanly in
/// both directions and at phone width; the Open Badge's image loads and its assertion can
/// be fetched under the page's policy; free text in thanks stays text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn recognition_and_open_badges_render() {
    let site = recognition_site().await;
    let browser = Browser::start(&site.base).await;
    let pages = [
        ("recognition", "/profile/Ana_Souza?uselang=en".to_string()),
        (
            "recognition-ar",
            "/profile/Ana_Souza?uselang=ar".to_string(),
        ),
        (
            "recognition-asked-ar",
            format!("/profile/{ARABIC_USER}?uselang=ar"),
        ),
        (
            "connections-stats",
            "/stats?uselang=en#connections".to_string(),
        ),
        (
            "connections-stats-ar",
            "/stats?uselang=ar#connections".to_string(),
        ),
        (
            "about-connections",
            "/about?uselang=en#connections".to_string(),
        ),
        (
            "about-connections-ar",
            "/about?uselang=ar#connections".to_string(),
        ),
    ];
    for (name, path) in &pages {
        browser.goto(path).await;
        check_page(&browser).await;
        browser.screenshot(name).await;
    }
    assert_eq!(
        browser.js("return window.capxPwned", json!([])).await,
        Value::Null
    );

    browser.goto("/profile/Ana_Souza?uselang=en").await;
    let counts = browser.find("#recognition .recognition li").await;
    assert!(
        browser.text(&counts).await.contains("Thanked by 3 people"),
        "{}",
        browser.text(&counts).await
    );
    let hostile = browser.find_all("#recognition bdi.chip").await;
    assert_eq!(hostile.len(), 1);
    assert!(browser.text(&hostile[0]).await.contains("<img src=x"));
    // The badge's image is drawn, and its assertion is JSON from this site.
    let loaded = browser
        .wait_for(
            "the badge image",
            "const img = document.querySelector('.open-badge img');
             return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;",
            json!([]),
        )
        .await;
    assert!(loaded.as_u64().is_some_and(|w| w > 0), "{loaded}");
    browser
        .js(
            "fetch(document.querySelector('.open-badge').href)
               .then(r => r.json()).then(j => { window.capxAssertion = j; });",
            json!([]),
        )
        .await;
    let assertion = browser
        .wait_for(
            "the assertion",
            "return window.capxAssertion || null;",
            json!([]),
        )
        .await;
    assert_eq!(assertion["type"], "Assertion", "{assertion}");
    assert_eq!(assertion["verification"]["type"], "hosted");
    browser.assert_no_console_errors().await;

    // The Arabic page reads right to left, with the counts in Arabic.
    browser.goto("/profile/Ana_Souza?uselang=ar").await;
    let direction = browser
        .js(
            "return getComputedStyle(document.querySelector('#recognition')).direction",
            json!([]),
        )
        .await;
    assert_eq!(direction, "rtl");
    let counts = browser.find("#recognition .recognition li").await;
    assert!(browser.text(&counts).await.contains("شكره 3 أشخاص"));

    browser.resize(MOBILE_WIDTH, 844).await;
    for (name, path) in &pages {
        browser.goto(path).await;
        check_page(&browser).await;
        check_fits_mobile(&browser).await;
        browser.screenshot(&format!("{name}-mobile")).await;
    }
}

/// What the hostile catalogue's pages must be in a real browser: nothing from a profile
/// runs (no script, no handler, no alert, no CSP violation on the console); nothing is
/// wider than the window; no card overlaps another or is wider than its list; in every
/// card the skills stand in the order written, even after an override; and the ordinary
/// people's cards, next to the hostile ones, show exactly their name and skills, their name
/// read letter by letter from left to right.
const HOSTILE_LAYOUT: &str = "
    const ordinary = arguments[0];
    const problems = [];
    const rtl = document.documentElement.dir === 'rtl';
    const describe = e => e.tagName.toLowerCase() + (e.getAttribute('class') ? '.' + e.getAttribute('class') : '');
    if (document.documentElement.scrollWidth > innerWidth) {
      const wide = [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 1
          || (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1))
        .slice(-8).map(describe);
      problems.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + innerWidth + ': ' + wide.join(' '));
    }
    const cards = [...document.querySelectorAll('.card')];
    // The name exactly as written: String.trim() would also drop a byte-order mark.
    const name = c => { const b = c.querySelector('h3 a bdi'); return b ? b.textContent : ''; };
    const rects = cards.map(c => c.getBoundingClientRect());
    cards.forEach((card, i) => {
      const r = rects[i];
      const box = card.parentElement.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1)
        problems.push('a card is wider than its list: ' + name(card));
      if (card.scrollWidth > card.clientWidth + 1)
        problems.push('something sticks out of the card of ' + name(card) + ': ' + card.scrollWidth + ' > ' + card.clientWidth);
      for (let j = i + 1; j < cards.length; j++) {
        const s = rects[j];
        const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
        const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
        if (w > 1 && h > 1) problems.push('cards overlap: ' + name(card) + ' / ' + name(cards[j]));
      }
    });
    // Whatever a line holds stands in the order written: each part after the one before on
    // its line (to its right, or its left on a right-to-left page), or on a later line. An
    // override that escaped its isolation would turn the rest of the line around.
    const lines = document.querySelectorAll('.card h3, .card p, aside li, .facts dd, .peers li, .reasons li, .skill-links li');
    for (const line of lines) {
      const parts = [...line.children].filter(e => e.getClientRects().length > 0);
      for (let k = 1; k < parts.length; k++) {
        const before = [...parts[k - 1].getClientRects()].pop();
        const next = parts[k].getClientRects()[0];
        const later_line = next.top >= before.bottom - 2;
        const after = rtl ? next.right <= before.left + 1 : next.left >= before.right - 1;
        if (!later_line && !after)
          problems.push('out of order in ' + describe(line) + ': ' + JSON.stringify(parts[k - 1].innerText) + ' then ' + JSON.stringify(parts[k].innerText));
      }
    }
    const found = {};
    for (const o of ordinary) {
      for (const card of cards.filter(c => name(c) === o.user)) {
        found[o.user] = (found[o.user] || 0) + 1;
        const heading = card.querySelector('h3').innerText.trim();
        if (heading !== o.user) problems.push('the heading of ' + o.user + '’s card reads ' + JSON.stringify(heading));
        const chips = [...card.querySelectorAll('.chip')].map(c => c.innerText.trim());
        if (card.tagName === 'ARTICLE' && JSON.stringify(chips) !== JSON.stringify(o.chips))
          problems.push(o.user + '’s card shows ' + JSON.stringify(chips) + ', not ' + JSON.stringify(o.chips));
        if (card.tagName !== 'ARTICLE' && !chips.every(c => o.chips.includes(c)))
          problems.push(o.user + '’s entry shows ' + JSON.stringify(chips));
        const text = card.querySelector('h3 bdi').firstChild;
        let before = null;
        for (let k = 0; k < text.length; k++) {
          if (text.data[k] === ' ') continue;
          const range = document.createRange();
          range.setStart(text, k);
          range.setEnd(text, k + 1);
          const at = range.getBoundingClientRect();
          if (before && at.left < before.left - 0.5 && at.top < before.bottom - 2)
            problems.push(o.user + '’s name is not drawn left to right at letter ' + k);
          before = at;
        }
      }
    }
    const bad = [];
    for (const e of document.querySelectorAll('*')) {
      for (const a of e.attributes) {
        const value = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
        if (a.name.startsWith('on') || a.name === 'style') bad.push(e.tagName + ' ' + a.name);
        if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name)
            && /^(javascript|data|vbscript):/.test(value))
          bad.push(e.tagName + ' ' + a.name + '=' + a.value);
      }
    }
    for (const s of document.querySelectorAll('script, iframe, object, embed')) bad.push(describe(s));
    for (const i of document.querySelectorAll('main img:not(.open-badge img)')) bad.push('img ' + i.getAttribute('src'));
    return { problems, found, bad, pwned: window.capxPwned === undefined ? null : String(window.capxPwned) };";

/// The hostile catalogue in Chromium, at desktop and phone width: every hostile person's
/// profile page, and search pages where hostile and ordinary cards stand side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver; tests/run runs it with --include-ignored"]
async fn hostile_catalogue_neither_runs_nor_breaks_layout() {
    let (site, users) = hostile_site().await;
    let browser = Browser::start(&site.base).await;
    let people = catalogue::people();
    let slug = |user: &str| {
        let ascii: String = user
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(24)
            .collect();
        ascii.to_lowercase()
    };
    let mut pages: Vec<(String, String)> = Vec::new();
    for (i, (person, user)) in people.iter().zip(&users).enumerate() {
        if !person.ordinary {
            pages.push((
                format!("hostile-profile-{i:02}-{}", slug(user)),
                format!("/profile/{}?uselang=en", encode(&user.replace(' ', "_"))),
            ));
        }
    }
    for (name, path) in [
        ("hostile-search-lua", "/search?q=Lua&uselang=en"),
        ("hostile-search-lua-2", "/search?q=Lua&offset=20&uselang=en"),
        (
            "hostile-search-look-alikes",
            "/search?q=Ana%20Souza&uselang=en",
        ),
        ("hostile-search-hostile", "/search?q=Hostile&uselang=en"),
        (
            "hostile-search-hostile-2",
            "/search?q=Hostile&offset=20&uselang=en",
        ),
        ("hostile-skill-lua", "/skill/lua-modules?uselang=en"),
        ("hostile-search-lua-ar", "/search?q=Lua&uselang=ar"),
        (
            "hostile-profile-bidi-ar",
            "/profile/Hostile_Bidi?uselang=ar",
        ),
        ("hostile-match-bidi", "/match/Hostile_Bidi?uselang=en"),
        ("hostile-profile-ana", "/profile/Ana_Souza?uselang=en"),
        ("hostile-stats", "/stats?uselang=en"),
    ] {
        pages.push((name.to_string(), path.to_string()));
    }
    let ordinary = |lang: &str| -> Value {
        catalogue::ORDINARY
            .iter()
            .map(|o| {
                let chips: Vec<&str> = o
                    .offers
                    .iter()
                    .chain(o.wants)
                    .map(|typed| {
                        let skill = taxonomy().resolve(typed).expect("a taxonomy skill");
                        taxonomy().label(skill, lang)
                    })
                    .collect();
                json!({"user": o.user, "chips": chips})
            })
            .collect()
    };
    for (width, height, suffix) in [(1280, 900, ""), (MOBILE_WIDTH, 844, "-mobile")] {
        browser.resize(width, height).await;
        for (name, path) in &pages {
            browser.goto(path).await;
            check_page(&browser).await;
            let lang = if path.contains("uselang=ar") {
                "ar"
            } else {
                "en"
            };
            let found = browser.js(HOSTILE_LAYOUT, json!([ordinary(lang)])).await;
            assert_eq!(found["bad"], json!([]), "on {path} at {width}px");
            assert_eq!(
                found["pwned"],
                Value::Null,
                "a script from a profile ran on {path}"
            );
            let alert = browser
                .try_command(reqwest::Method::GET, "/alert/text", None)
                .await;
            assert!(
                alert.as_ref().is_err_and(|e| e.error == "no such alert"),
                "an alert is open on {path}: {alert:?}"
            );
            assert_eq!(
                found["problems"],
                json!([]),
                "on {path} at {width}px: {found}"
            );
            if name == "hostile-search-lua" || name == "hostile-search-lua-ar" {
                // Side by side: the three ordinary people and the bidi attacks on one page.
                for o in &catalogue::ORDINARY {
                    assert_eq!(found["found"][o.user], 1, "{path}: {found}");
                }
                let names = browser
                    .js(
                        "return [...document.querySelectorAll('.card h3 bdi')].map(b => b.textContent)",
                        json!([]),
                    )
                    .await;
                assert!(
                    names
                        .as_array()
                        .is_some_and(|n| n.iter().any(|n| n == "Hostile Bidi")),
                    "{path}: {names}"
                );
            }
            browser.assert_no_console_errors().await;
            browser.screenshot(&format!("{name}{suffix}")).await;
        }
    }
}
