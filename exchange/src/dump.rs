//! Streaming reader for MediaWiki XML exports (`Special:Export`, `dumpBackup.php`), plain,
//! gzip or bzip2.
//!
//! Exports of Meta-Wiki's user pages run to gigabytes, so pages are handed out one at a time
//! and only the two revisions the owner rule can need are kept: the newest one, and the
//! newest one saved by the page's owner. A malformed or truncated export is an error that
//! names the page it broke in; a problem within one page (bad bytes, a huge revision) is a
//! warning about that page, and the rest is read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::wikitext::title::{NS_USER, Title, normalize_user_name};

/// Largest revision text kept; MediaWiki's own limit is 2 MiB, so more means a broken file.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;

pub use crate::harvest::{PageHistory, Revision};

/// Why an export could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("cannot read {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("the export is malformed near byte {position}{}: {message}", in_page(.page))]
    Malformed {
        position: u64,
        page: Option<String>,
        message: String,
    },
    #[error("the export ends early{}: it is truncated ({detail})", in_page(.page))]
    Truncated {
        page: Option<String>,
        detail: String,
    },
}

fn in_page(page: &Option<String>) -> String {
    match page {
        Some(title) if !title.is_empty() => format!(" (in page {title:?})"),
        _ => String::new(),
    }
}

/// Opens an export file, choosing the decompressor by content (gzip and bzip2 magic bytes).
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, DumpError> {
    let open_err = |source| DumpError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut file = BufReader::new(File::open(path).map_err(open_err)?);
    let magic = file.fill_buf().map_err(open_err)?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file)))
    } else if magic.starts_with(b"BZh") {
        Box::new(BufReader::new(bzip2::bufread::MultiBzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Opens an export held in memory (plain or gzip), such as the bundled demo.
pub fn open_bytes(bytes: &'static [u8]) -> Box<dyn BufRead + Send> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(bytes)))
    } else {
        Box::new(bytes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Title,
    Ns,
    PageId,
    RevId,
    Timestamp,
    Username,
    Text,
    Other,
}

#[derive(Default)]
struct RevisionBuilder {
    revid: u64,
    timestamp: Option<DateTime<Utc>>,
    user: Option<String>,
    text: Option<Vec<u8>>,
    text_hidden: bool,
    too_big: bool,
}

/// Passes bytes through, replacing invalid UTF-8 with U+FFFD and noting where, so that one
/// page with bad bytes does not stop the whole export.
struct LossyUtf8<R> {
    inner: R,
    out: Vec<u8>,
    pos: usize,
    pending: Vec<u8>,
    /// Bytes handed out before `out`: `out[i]` is byte `produced + i` of the stream.
    produced: u64,
    /// Where in the stream replacements were put, oldest first, until the event holding
    /// them is read. Positions, not a count: how far the decoder has read ahead of the XML
    /// reader depends on the buffers.
    replaced: VecDeque<u64>,
}

/// Most input bytes decoded at a time, which bounds the read-ahead (and `replaced`).
const LOSSY_CHUNK: usize = 64 * 1024;

impl<R> LossyUtf8<R> {
    fn replace(&mut self) {
        self.replaced
            .push_back(self.produced + self.out.len() as u64);
        self.out.extend_from_slice("\u{fffd}".as_bytes());
    }

    /// Whether a replacement was put in `range` of the stream; forgets every one before its
    /// end.
    fn replaced_in(&mut self, range: std::ops::Range<u64>) -> bool {
        let before_end = self.replaced.partition_point(|&at| at < range.end);
        let found = self
            .replaced
            .range(..before_end)
            .any(|&at| at >= range.start);
        self.replaced.drain(..before_end);
        found
    }
}

impl<R: BufRead> Read for LossyUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LossyUtf8<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.out.len() {
            self.produced += self.out.len() as u64;
            self.out.clear();
            self.pos = 0;
            let chunk = self.inner.fill_buf()?;
            let at_end = chunk.is_empty();
            if at_end && self.pending.is_empty() {
                break;
            }
            let taken = chunk.len().min(LOSSY_CHUNK);
            let mut data = std::mem::take(&mut self.pending);
            data.extend_from_slice(&chunk[..taken]);
            self.inner.consume(taken);
            let mut rest = data.as_slice();
            loop {
                match std::str::from_utf8(rest) {
                    Ok(valid) => {
                        self.out.extend_from_slice(valid.as_bytes());
                        break;
                    }
                    Err(e) => {
                        let (valid, after) = rest.split_at(e.valid_up_to());
                        self.out.extend_from_slice(valid);
                        match e.error_len() {
                            Some(bad) => {
                                self.replace();
                                rest = &after[bad..];
                            }
                            None if at_end => {
                                self.replace();
                                break;
                            }
                            None => {
                                self.pending = after.to_vec();
                                break;
                            }
                        }
                    }
                }
            }
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

/// Reads an export page by page.
pub struct DumpReader<R: BufRead> {
    reader: Reader<LossyUtf8<R>>,
    buf: Vec<u8>,
    done: bool,
    /// Inside `<mediawiki>`: the file must not end before `</mediawiki>`.
    open_root: bool,
}

impl<R: BufRead> DumpReader<R> {
    pub fn new(input: R) -> DumpReader<R> {
        let lossy = LossyUtf8 {
            inner: input,
            out: Vec::with_capacity(64 * 1024),
            pos: 0,
            pending: Vec::new(),
            produced: 0,
            replaced: VecDeque::new(),
        };
        let mut reader = Reader::from_reader(lossy);
        reader.config_mut().trim_text(false);
        DumpReader {
            reader,
            buf: Vec::with_capacity(64 * 1024),
            done: false,
            open_root: false,
        }
    }

    fn malformed(&self, page: &PageHistory, message: String) -> DumpError {
        DumpError::Malformed {
            position: self.reader.buffer_position(),
            page: Some(page.title.clone()).filter(|t| !t.is_empty()),
            message,
        }
    }

    /// The next page, `None` at the end of the export.
    pub fn next_page(&mut self) -> Result<Option<PageHistory>, DumpError> {
        if self.done {
            return Ok(None);
        }
        let mut page = PageHistory::default();
        let mut in_page = false;
        let mut in_revision = false;
        let mut in_contributor = false;
        let mut field = Field::None;
        let mut value: Vec<u8> = Vec::new();
        let mut revision = RevisionBuilder::default();
        let mut owner: Option<String> = None;
        // Whether invalid UTF-8 was replaced inside this page.
        let mut bad_bytes = false;
        loop {
            self.buf.clear();
            let event_start = self.reader.buffer_position();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => {
                    let message = e.to_string();
                    // Every syntax error of quick-xml means "the input ended inside …".
                    let truncated = matches!(&e, quick_xml::Error::Syntax(_))
                        || matches!(&e, quick_xml::Error::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof);
                    return Err(if truncated {
                        DumpError::Truncated {
                            page: Some(page.title.clone()).filter(|t| !t.is_empty()),
                            detail: message,
                        }
                    } else {
                        self.malformed(&page, message)
                    });
                }
            };
            let event_end = self.reader.buffer_position();
            let replaced = self.reader.get_mut().replaced_in(event_start..event_end);
            bad_bytes |= in_page && replaced;
            match event {
                Event::Start(start) => {
                    let name = start.local_name();
                    match name.into_inner() {
                        "mediawiki" => self.open_root = true,
                        "page" => {
                            in_page = true;
                            bad_bytes = false;
                            page = PageHistory::default();
                            owner = None;
                        }
                        "revision" if in_page => {
                            in_revision = true;
                            revision = RevisionBuilder::default();
                        }
                        "contributor" if in_revision => in_contributor = true,
                        "title" if in_page && !in_revision => field = Field::Title,
                        "ns" if in_page && !in_revision => field = Field::Ns,
                        "id" if in_page && !in_revision => field = Field::PageId,
                        "id" if in_revision && !in_contributor => field = Field::RevId,
                        "timestamp" if in_revision => field = Field::Timestamp,
                        "username" if in_contributor => field = Field::Username,
                        "text" if in_revision => {
                            field = Field::Text;
                            if has_attribute(&start, b"deleted") {
                                revision.text_hidden = true;
                            }
                        }
                        _ => field = Field::Other,
                    }
                    value.clear();
                }
                Event::Empty(empty) => {
                    let name = empty.local_name();
                    match name.into_inner() {
                        "redirect" if in_page => {
                            page.redirect = attribute(&empty, b"title");
                        }
                        "text" if in_revision => {
                            if has_attribute(&empty, b"deleted") {
                                revision.text_hidden = true;
                            } else if attribute(&empty, b"bytes").as_deref() == Some("0") {
                                // A blanked page: empty text, which removes the profile.
                                revision.text = Some(Vec::new());
                            } else {
                                // A stub export without text: nothing to read.
                                revision.text_hidden = true;
                            }
                        }
                        "contributor" if in_revision => revision.user = None,
                        _ => {}
                    }
                }
                Event::Text(text) if field != Field::None && field != Field::Other => {
                    push_limited(&mut value, text.as_bytes(), &mut revision.too_big, field);
                }
                Event::CData(data) if field != Field::None && field != Field::Other => {
                    push_limited(&mut value, data.as_bytes(), &mut revision.too_big, field);
                }
                Event::GeneralRef(reference) if field != Field::None && field != Field::Other => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match reference.as_ref() {
                            "amp" => Some('&'),
                            "lt" => Some('<'),
                            "gt" => Some('>'),
                            "quot" => Some('"'),
                            "apos" => Some('\''),
                            _ => None,
                        },
                    };
                    match resolved {
                        Some(c) => {
                            let mut tmp = [0u8; 4];
                            push_limited(
                                &mut value,
                                c.encode_utf8(&mut tmp).as_bytes(),
                                &mut revision.too_big,
                                field,
                            );
                        }
                        None => {
                            let name = reference.to_string();
                            return Err(self.malformed(&page, format!("unknown entity &{name};")));
                        }
                    }
                }
                Event::End(end) => {
                    let name = end.local_name();
                    match name.into_inner() {
                        "page" if in_page => {
                            // A replacement inside the page, in what is read of it.
                            let shows_replacement = |r: &Option<Revision>| {
                                r.as_ref()
                                    .and_then(|r| r.text.as_deref())
                                    .is_some_and(|t| t.contains('\u{fffd}'))
                            };
                            if bad_bytes
                                && (page.title.contains('\u{fffd}')
                                    || shows_replacement(&page.latest)
                                    || shows_replacement(&page.owner_latest))
                            {
                                page.problems.push(
                                    "the page holds bytes that are not valid UTF-8; they were replaced".into(),
                                );
                            }
                            return Ok(Some(page));
                        }
                        "revision" if in_revision => {
                            in_revision = false;
                            let finished = std::mem::take(&mut revision);
                            self.keep_revision(&mut page, owner.as_deref(), finished);
                        }
                        "contributor" => in_contributor = false,
                        "mediawiki" => self.open_root = false,
                        _ => {}
                    }
                    match field {
                        Field::Title => {
                            page.title = decode_text(&value, &mut page.problems, "title");
                            owner = Title::parse(&page.title, 0)
                                .filter(|t| t.namespace == NS_USER)
                                .and_then(|t| t.owner().map(str::to_string));
                        }
                        Field::Ns => {
                            let text = String::from_utf8_lossy(&value);
                            page.namespace = text.trim().parse().map_err(|_| {
                                self.malformed(&page, format!("namespace {text:?} is not a number"))
                            })?;
                        }
                        Field::PageId => page.page_id = parse_number(&value),
                        Field::RevId => revision.revid = parse_number(&value).unwrap_or(0),
                        Field::Timestamp => {
                            revision.timestamp = std::str::from_utf8(&value)
                                .ok()
                                .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
                                .map(|t| t.with_timezone(&Utc));
                        }
                        Field::Username => {
                            let name = decode_text(&value, &mut page.problems, "user name");
                            revision.user = normalize_user_name(&name);
                        }
                        Field::Text => {
                            if !revision.text_hidden {
                                revision.text = Some(std::mem::take(&mut value));
                            }
                        }
                        Field::None | Field::Other => {}
                    }
                    field = Field::None;
                    value.clear();
                }
                Event::Eof => {
                    self.done = true;
                    if in_page {
                        return Err(DumpError::Truncated {
                            page: Some(page.title.clone()).filter(|t| !t.is_empty()),
                            detail: "the file ends inside a <page>".into(),
                        });
                    }
                    if self.open_root {
                        return Err(DumpError::Truncated {
                            page: None,
                            detail: "the file ends before </mediawiki>".into(),
                        });
                    }
                    return Ok(None);
                }
                _ => {}
            }
        }
    }

    /// Keeps a finished revision if it is the newest overall or the owner's newest readable one.
    fn keep_revision(&self, page: &mut PageHistory, owner: Option<&str>, rev: RevisionBuilder) {
        if rev.too_big {
            page.problems.push(format!(
                "revision {} is larger than {} MiB and was skipped",
                rev.revid,
                MAX_TEXT_BYTES / (1024 * 1024)
            ));
            return;
        }
        let text = rev.text.map(|bytes| match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                page.problems.push(format!(
                    "revision {} is not valid UTF-8; unreadable bytes were replaced",
                    rev.revid
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        });
        let is_owner = owner.is_some() && rev.user.as_deref() == owner;
        let revision = Revision {
            revid: rev.revid,
            timestamp: rev.timestamp,
            user: rev.user,
            text,
        };
        let newer = |current: &Option<Revision>| {
            current
                .as_ref()
                .is_none_or(|c| (revision.timestamp, revision.revid) >= (c.timestamp, c.revid))
        };
        if is_owner && revision.text.is_some() && newer(&page.owner_latest) {
            page.owner_latest = Some(revision.clone());
        }
        if newer(&page.latest) {
            page.latest = Some(revision);
        }
    }
}

fn push_limited(value: &mut Vec<u8>, bytes: &[u8], too_big: &mut bool, field: Field) {
    let limit = if field == Field::Text {
        MAX_TEXT_BYTES
    } else {
        4096
    };
    if value.len() + bytes.len() > limit {
        if field == Field::Text {
            *too_big = true;
        }
        return;
    }
    value.extend_from_slice(bytes);
}

fn decode_text(bytes: &[u8], problems: &mut Vec<String>, what: &str) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => {
            problems.push(format!("the {what} is not valid UTF-8"));
            String::from_utf8_lossy(bytes).into_owned()
        }
    }
}

fn parse_number(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

fn attribute(start: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner().as_bytes() == name)
        .map(|a| String::from_utf8_lossy(a.value.as_bytes()).into_owned())
        .map(|v| crate::wikitext::title::decode_entities(&v))
}

fn has_attribute(start: &BytesStart<'_>, name: &[u8]) -> bool {
    start
        .attributes()
        .flatten()
        .any(|a| a.key.local_name().into_inner().as_bytes() == name)
}

/// Reads every page of an export into memory (for tests and small exports).
pub fn read_all<R: Read>(input: R) -> Result<Vec<PageHistory>, DumpError> {
    let mut reader = DumpReader::new(BufReader::new(input));
    let mut pages = Vec::new();
    while let Some(page) = reader.next_page()? {
        pages.push(page);
    }
    Ok(pages)
}
