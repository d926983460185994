//! The HTTP side under hostile clients, against the real `webtool` binary (its own server
//! loop, limits and process memory): oversized addresses and headers, path traversal on
//! every route, invalid UTF-8 in paths and parameters, and a thousand slow clients that
//! start a request and never finish its headers. Every answer must be a 4xx (or the ordinary page
//! for a harmless address), never a 5xx, never a file of the machine, and the server must
//! keep answering others with bounded memory.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange::store::DataDir;

/// The web tool as a child process on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let mut bytes = Vec::new();
        exchange::synth::write_export(
            &mut bytes,
            200,
            exchange::synth::DEFAULT_SEED,
            exchange::taxonomy::Taxonomy::bundled(),
        )
        .unwrap();
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let open = || Ok(exchange::dump::open_bytes(bytes));
        exchange::import::import(&open, &data, "test", &mut |_| {}).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_webtool"))
            .arg("--data")
            .arg(dir.path())
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while raw(
            server.port,
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .map_or(true, |(status, _)| status != 200)
        {
            assert!(Instant::now() < deadline, "the web tool did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    fn get(&self, target: &[u8]) -> (u16, String) {
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(target);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        raw(self.port, &request)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(target)))
    }
}

/// Sends bytes as they are (no client library would send most of these) and reads the
/// status and the body.
fn raw(port: u16, request: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.write_all(request)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, text))
}

/// What must never be in an answer: files of the machine or of the repository.
fn leaks(body: &str) -> bool {
    body.contains("root:x:0:0") || body.contains("[workspace]") || body.contains("[package]")
}

#[test]
fn hostile_addresses_get_4xx_and_no_files() {
    let server = Server::start(&[]);
    let routes = [
        "/",
        "/search",
        "/profile/",
        "/match/",
        "/skills",
        "/stats",
        "/skill/",
        "/about",
        "/create",
        "/static/",
        "/api/v1/search",
        "/api/v1/profiles/",
        "/api/v1/match/",
        "/api/v1/skills",
        "/api/v1/stats",
        "/api/v1/openapi.json",
        "/healthz",
        "/badges/",
    ];
    let traversals = [
        "../../../../etc/passwd",
        "..%2f..%2f..%2f..%2fetc%2fpasswd",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "..%5c..%5c..%5cCargo.toml",
        "....//....//etc/passwd",
        "%252e%252e%252fetc%252fpasswd",
        "..;/..;/etc/passwd",
        "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    ];
    let mut checked = 0;
    for route in routes {
        for traversal in traversals {
            let target = format!("{route}{traversal}");
            let (status, body) = server.get(target.as_bytes());
            assert!(
                (400..500).contains(&status) || status == 200 || status == 301 || status == 308,
                "{target}: {status}"
            );
            assert!(!leaks(&body), "{target} answered a file");
            checked += 1;
        }
    }
    // Invalid UTF-8, overlong forms, surrogates and NUL, in paths and parameters.
    let invalid: [&[u8]; 12] = [
        b"/profile/%FF%FE%FD",
        b"/profile/%C0%AF",
        b"/api/v1/profiles/%ED%A0%80",
        b"/skill/%FF",
        b"/match/%80",
        b"/search?q=%FF%FE",
        b"/search?q=%C0%AF&lang=%FF&region=%00",
        b"/api/v1/search?q=%ED%A0%80&limit=%FF",
        b"/api/v1/search?limit=99999999999999999999999&offset=-1",
        b"/search?uselang=%FF%FE",
        b"/profile/\xff\xfe",
        b"/search?q=\xc3\x28",
    ];
    for target in invalid {
        let (status, body) = server.get(target);
        let shown = String::from_utf8_lossy(target);
        assert!(
            (400..500).contains(&status) || status == 200,
            "{shown}: {status}\n{body}"
        );
        checked += 1;
    }
    // Oversized: the address, one header, many headers.
    let long = format!("/search?q={}", "a".repeat(20_000));
    assert_eq!(server.get(long.as_bytes()).0, 414);
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(1_000_000)
    );
    let (status, _) = raw(server.port, big_header.as_bytes()).unwrap_or((431, String::new()));
    assert!((400..500).contains(&status), "a 1 MB header: {status}");
    let many: String = (0..5_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: t\r\n{many}Connection: close\r\n\r\n");
    let (status, _) = raw(server.port, many.as_bytes()).unwrap_or((431, String::new()));
    assert!((400..500).contains(&status), "5,000 headers: {status}");
    // Still serving, and nothing above was a server error.
    assert_eq!(server.get(b"/healthz").0, 200);
    eprintln!("{checked} hostile addresses answered without a server error");
}

#[test]
fn a_thousand_slow_clients_neither_starve_others_nor_grow_memory() {
    let server = Server::start(&["--header-timeout-secs", "3"]);
    let before = server.rss_kb();
    let port = server.port;
    let slow: Vec<_> = (0..1000)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            // The start of a request, and never its end.
            s.write_all(b"GET /search?q=Lua HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    // Others are still answered, while the slow clients hold their connections.
    for _ in 0..20 {
        let (status, _) = server.get(b"/search?q=Lua");
        assert_eq!(status, 200);
    }
    let during = server.rss_kb();
    // The server drops clients that take too long to send their headers.
    std::thread::sleep(Duration::from_secs(5).saturating_sub(started.elapsed()));
    let mut closed = 0;
    for mut s in slow {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 256];
        // A closed connection reads as end of file (possibly after a 408 answer) or
        // fails to take more bytes.
        let gone = match s.read(&mut buf) {
            Ok(0) => true,
            Ok(_) => s.read(&mut buf).map_or(true, |n| n == 0),
            Err(e) => {
                e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut
            }
        };
        closed += usize::from(gone);
    }
    let after = server.rss_kb();
    eprintln!(
        "RSS {} MB before, {} MB with 1,000 slow clients, {} MB after; {closed} of 1,000 closed by the server",
        before / 1024,
        during / 1024,
        after / 1024
    );
    assert_eq!(closed, 1000, "slow clients are disconnected");
    assert!(during < before + 100 * 1024, "memory bounded");
    assert_eq!(server.get(b"/healthz").0, 200);
}
