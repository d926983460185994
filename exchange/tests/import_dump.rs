//! Specification of `indexer import`: MediaWiki XML exports → a published generation, with
//! the trust rules of DESIGN.md (owner rule, User namespace only, hidden content never read,
//! one profile per person) and robustness against bad input (nothing is published when the
//! export is broken; a problem inside one page is a warning about that page).

use std::io::Write;
use std::path::{Path, PathBuf};

use exchange::dump::{self, DumpError, MAX_TEXT_BYTES, read_all};
use exchange::import::{ImportError, ImportSummary, import};
use exchange::parse::MAX_ITEMS;
use exchange::profile::{Profile, SkillRef, Status};
use exchange::store::DataDir;
use exchange::synth::{SynthStats, write_export};
use exchange::taxonomy::Taxonomy;
use tempfile::TempDir;

// ---------------------------------------------------------------------------
// Building exports
// ---------------------------------------------------------------------------

const HEADER: &str = r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
  <siteinfo>
    <sitename>Meta</sitename>
    <dbname>metawiki</dbname>
    <base>https://meta.wikimedia.org/wiki/Main_Page</base>
    <generator>MediaWiki 1.44</generator>
    <case>first-letter</case>
    <namespaces>
      <namespace key="0" case="first-letter" />
      <namespace key="2" case="first-letter">User</namespace>
      <namespace key="3" case="first-letter">User talk</namespace>
      <namespace key="4" case="first-letter">Meta</namespace>
      <namespace key="10" case="first-letter">Template</namespace>
    </namespaces>
  </siteinfo>
"#;
const FOOTER: &str = "</mediawiki>\n";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The profile template called with `offers`.
fn profile_text(offers: &str) -> String {
    format!("{{{{Capacity Exchange profile\n| offers = {offers}\n| country = BR\n}}}}\nHello!")
}

fn timestamp(day: u32) -> String {
    format!("2024-01-{day:02}T12:00:00Z")
}

fn contributor(user: &str) -> String {
    format!(
        "      <contributor>\n        <username>{}</username>\n        <id>42</id>\n      </contributor>\n",
        esc(user)
    )
}

fn revision_xml(id: u64, day: u32, contributor: &str, text: &str) -> String {
    format!(
        "    <revision>\n      <id>{id}</id>\n      <timestamp>{}</timestamp>\n{contributor}      <comment>edit</comment>\n      <model>wikitext</model>\n      <format>text/x-wiki</format>\n{text}\n      <sha1>abc</sha1>\n    </revision>\n",
        timestamp(day)
    )
}

fn text_xml(text: &str) -> String {
    format!(
        "      <text bytes=\"{}\" xml:space=\"preserve\">{}</text>",
        text.len(),
        esc(text)
    )
}

/// A revision by `user` on `day` of January 2024.
fn rev(id: u64, day: u32, user: &str, text: &str) -> String {
    revision_xml(id, day, &contributor(user), &text_xml(text))
}

/// A revision whose text was hidden (revision deletion).
fn rev_hidden_text(id: u64, day: u32, user: &str) -> String {
    revision_xml(
        id,
        day,
        &contributor(user),
        "      <text bytes=\"120\" sha1=\"x\" deleted=\"deleted\" />",
    )
}

/// A revision whose author was hidden.
fn rev_hidden_user(id: u64, day: u32, text: &str) -> String {
    revision_xml(
        id,
        day,
        "      <contributor deleted=\"deleted\" />\n",
        &text_xml(text),
    )
}

/// An IP edit.
fn rev_ip(id: u64, day: u32, text: &str) -> String {
    revision_xml(
        id,
        day,
        "      <contributor>\n        <ip>192.0.2.1</ip>\n      </contributor>\n",
        &text_xml(text),
    )
}

fn page_xml(title: &str, ns: i32, id: u64, redirect: Option<&str>, revisions: &[String]) -> String {
    let mut out = format!(
        "  <page>\n    <title>{}</title>\n    <ns>{ns}</ns>\n    <id>{id}</id>\n",
        esc(title)
    );
    if let Some(target) = redirect {
        out.push_str(&format!("    <redirect title=\"{}\" />\n", esc(target)));
    }
    for r in revisions {
        out.push_str(r);
    }
    out.push_str("  </page>\n");
    out
}

fn user_page(title: &str, id: u64, revisions: &[String]) -> String {
    page_xml(title, 2, id, None, revisions)
}

fn export(pages: &[String]) -> String {
    let mut out = HEADER.to_string();
    for p in pages {
        out.push_str(p);
    }
    out.push_str(FOOTER);
    out
}

fn alias_page(id: u64) -> String {
    page_xml(
        "Template:CX profile",
        10,
        id,
        Some("Template:Capacity Exchange profile"),
        &[rev(
            id * 100,
            1,
            "Maintainer",
            "#REDIRECT [[Template:Capacity Exchange profile]]",
        )],
    )
}

// ---------------------------------------------------------------------------
// Running imports
// ---------------------------------------------------------------------------

struct Env {
    dir: TempDir,
    data: DataDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        Env { dir, data }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn import_file(&self, path: &Path) -> Result<ImportSummary, ImportError> {
        let open = || dump::open(path);
        import(&open, &self.data, &path.display().to_string(), &mut |_| {})
    }

    #[track_caller]
    fn import_ok(&self, xml: &str) -> ImportSummary {
        let path = self.write("export.xml", xml.as_bytes());
        self.import_file(&path)
            .unwrap_or_else(|e| panic!("the import fails: {e}"))
    }

    fn profile(&self, user: &str) -> Option<Profile> {
        self.data.open_current().unwrap().profile(user).unwrap()
    }

    fn profiles(&self) -> Vec<Profile> {
        let mut out = Vec::new();
        self.data
            .open_current()
            .unwrap()
            .for_each_profile(|p| {
                out.push(p);
                Ok(())
            })
            .unwrap();
        out
    }

    fn sqlite(&self) -> rusqlite::Connection {
        let id = self.data.current().unwrap().expect("a generation");
        rusqlite::Connection::open_with_flags(
            self.data.generation_dir(&id).join("exchange.sqlite"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap()
    }

    /// The stored warnings of a page, as "param: message".
    fn warnings(&self, page: &str) -> Vec<String> {
        let conn = self.sqlite();
        let mut stmt = conn
            .prepare("SELECT coalesce(param, ''), message FROM warnings WHERE page = ?1")
            .unwrap();
        stmt.query_map([page], |r| {
            Ok(format!(
                "{}: {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }
}

fn offers(p: &Profile) -> Vec<String> {
    p.offers.iter().map(|s| s.display().to_string()).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn no_building_dirs(data: &DataDir) -> bool {
    std::fs::read_dir(data.root().join("generations"))
        .map(|entries| {
            entries
                .flatten()
                .all(|e| !e.file_name().to_string_lossy().ends_with(".building"))
        })
        .unwrap_or(true)
}

/// A small good export: Ana has a profile.
fn good_export() -> String {
    export(&[user_page(
        "User:Ana",
        1,
        &[rev(100, 1, "Ana", &profile_text("Lua"))],
    )])
}

// ---------------------------------------------------------------------------
// The owner rule
// ---------------------------------------------------------------------------

#[test]
fn the_owners_newest_revision_is_used_even_when_someone_else_edited_later() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[user_page(
        "User:Ana",
        1,
        &[
            rev(10, 1, "Ana", &profile_text("Lua")),
            rev(11, 2, "Ana", &profile_text("Lua; Wikidata")),
            rev(12, 3, "Typo Fixer", &profile_text("Everything; Nothing")),
        ],
    )]));
    assert_eq!(summary.stats.profiles, 1);
    let p = env.profile("Ana").expect("Ana's profile");
    assert_eq!(offers(&p), strings(&["Lua modules", "Wikidata"]));
    assert_eq!(p.revid, 11);
    assert_eq!(
        p.updated.map(|t| t.to_rfc3339()),
        Some("2024-01-02T12:00:00+00:00".to_string())
    );
    assert_eq!(p.user, "Ana");
    assert_eq!(p.page, "User:Ana");
    assert_eq!(p.country.as_deref(), Some("BR"));
    let latest: i64 = env
        .sqlite()
        .query_row(
            "SELECT latest_revid FROM pages WHERE title = 'User:Ana'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(latest, 12, "the page's newest revision is still recorded");
}

#[test]
fn revisions_out_of_order_in_the_file_are_ordered_by_time() {
    let env = Env::new();
    env.import_ok(&export(&[user_page(
        "User:Ana",
        1,
        &[
            rev(11, 5, "Ana", &profile_text("Wikidata")),
            rev(10, 1, "Ana", &profile_text("Lua")),
        ],
    )]));
    let p = env.profile("Ana").expect("profile");
    assert_eq!(p.revid, 11);
    assert_eq!(offers(&p), strings(&["Wikidata"]));
}

#[test]
fn a_page_created_by_someone_else_and_never_edited_by_the_owner_gives_no_profile() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[
        user_page(
            "User:Bob",
            1,
            &[
                rev(20, 1, "Helpful Gnome", &profile_text("Lua")),
                rev(21, 2, "Typo Fixer", &profile_text("Lua; Wikidata")),
            ],
        ),
        user_page("User:Bo", 2, &[rev_ip(22, 1, &profile_text("Lua"))]),
    ]));
    assert_eq!(summary.stats.profiles, 0);
    assert!(env.profile("Bob").is_none());
    assert!(env.profile("Bo").is_none());
    assert!(env.profiles().is_empty());
}

#[test]
fn the_owners_newest_revision_without_the_template_gives_no_profile() {
    let env = Env::new();
    env.import_ok(&export(&[
        // The owner left.
        user_page(
            "User:Cy",
            1,
            &[
                rev(30, 1, "Cy", &profile_text("Lua")),
                rev(31, 2, "Cy", "Taking a break from everything."),
            ],
        ),
        // The owner left, and someone else put the template back.
        user_page(
            "User:Dee",
            2,
            &[
                rev(32, 1, "Dee", &profile_text("Lua")),
                rev(33, 2, "Dee", "Gone."),
                rev(34, 3, "Helpful Gnome", &profile_text("Lua")),
            ],
        ),
        // The owner never wrote the template; someone else added it.
        user_page(
            "User:Eve",
            3,
            &[
                rev(35, 1, "Eve", "I am Eve."),
                rev(36, 2, "Helpful Gnome", &profile_text("Lua")),
            ],
        ),
    ]));
    assert!(env.profile("Cy").is_none());
    assert!(env.profile("Dee").is_none());
    assert!(env.profile("Eve").is_none());
    assert!(env.profiles().is_empty());
}

#[test]
fn a_template_removed_by_someone_else_gives_no_profile() {
    let env = Env::new();
    env.import_ok(&export(&[user_page(
        "User:Di",
        1,
        &[
            rev(40, 1, "Di", &profile_text("Lua")),
            rev(41, 2, "Meta Patroller", "Blanked."),
        ],
    )]));
    assert!(env.profile("Di").is_none());
}

/// A revision with empty text, the way MediaWiki exports a blanked page.
fn rev_blank(id: u64, day: u32, user: &str) -> String {
    revision_xml(
        id,
        day,
        &contributor(user),
        "      <text bytes=\"0\" sha1=\"phoiac9h4m842xq45sp7s6u21eteeq1\" xml:space=\"preserve\" />",
    )
}

#[test]
fn a_page_blanked_by_its_owner_gives_no_profile() {
    let env = Env::new();
    env.import_ok(&export(&[
        user_page(
            "User:Blank",
            1,
            &[
                rev(1, 1, "Blank", &profile_text("Lua")),
                rev_blank(2, 2, "Blank"),
            ],
        ),
        user_page(
            "User:Blanked",
            2,
            &[
                rev(3, 1, "Blanked", &profile_text("Lua")),
                rev_blank(4, 2, "Meta Patroller"),
            ],
        ),
    ]));
    assert!(env.profile("Blank").is_none(), "blanked by the owner");
    assert!(env.profile("Blanked").is_none(), "blanked by someone else");
}

#[test]
fn a_user_page_that_is_a_redirect_gives_no_profile() {
    let env = Env::new();
    env.import_ok(&export(&[page_xml(
        "User:Old name",
        2,
        1,
        Some("User:New name"),
        &[rev(
            1,
            1,
            "Old name",
            &format!("#REDIRECT [[User:New name]]\n{}", profile_text("Lua")),
        )],
    )]));
    assert!(env.profiles().is_empty());
}

#[test]
fn hidden_text_is_never_read_and_the_owners_newest_readable_revision_is_used() {
    let env = Env::new();
    // A hidden revision whose text is nevertheless present in the file (with the
    // `deleted` attribute): it must not be read either.
    let hidden_with_content = revision_xml(
        61,
        2,
        &contributor("Fay"),
        &format!(
            "      <text bytes=\"10\" deleted=\"deleted\" xml:space=\"preserve\">{}</text>",
            esc(&profile_text("Secret skill"))
        ),
    );
    env.import_ok(&export(&[
        user_page(
            "User:Ed",
            1,
            &[
                rev(50, 1, "Ed", &profile_text("Lua")),
                rev_hidden_text(51, 2, "Ed"),
            ],
        ),
        user_page(
            "User:Fay",
            2,
            &[rev(60, 1, "Fay", &profile_text("Lua")), hidden_with_content],
        ),
        user_page(
            "User:Gil",
            3,
            &[
                rev(70, 1, "Gil", &profile_text("Lua")),
                rev(71, 2, "Typo Fixer", &profile_text("Lua; Everything")),
                rev_hidden_text(72, 3, "Gil"),
            ],
        ),
        user_page("User:Hu", 4, &[rev_hidden_text(73, 1, "Hu")]),
    ]));
    let ed = env.profile("Ed").expect("Ed's readable revision");
    assert_eq!((ed.revid, offers(&ed)), (50, strings(&["Lua modules"])));
    let fay = env.profile("Fay").expect("Fay's readable revision");
    assert_eq!((fay.revid, offers(&fay)), (60, strings(&["Lua modules"])));
    let gil = env.profile("Gil").expect("Gil's readable revision");
    assert_eq!((gil.revid, offers(&gil)), (70, strings(&["Lua modules"])));
    assert!(env.profile("Hu").is_none(), "nothing readable");
    for p in env.profiles() {
        assert!(!offers(&p).iter().any(|o| o.contains("Secret")), "{p:?}");
    }
}

#[test]
fn a_revision_with_a_hidden_author_is_never_taken_for_the_owners() {
    let env = Env::new();
    env.import_ok(&export(&[
        user_page(
            "User:Hal",
            1,
            &[
                rev(80, 1, "Hal", &profile_text("Lua")),
                rev_hidden_user(81, 2, &profile_text("Everything")),
            ],
        ),
        user_page(
            "User:Ivy",
            2,
            &[rev_hidden_user(82, 1, &profile_text("Lua"))],
        ),
    ]));
    let hal = env.profile("Hal").expect("Hal's own revision");
    assert_eq!((hal.revid, offers(&hal)), (80, strings(&["Lua modules"])));
    assert!(env.profile("Ivy").is_none());
}

#[test]
fn read_all_keeps_the_newest_and_the_owners_newest_revision() {
    let xml = export(&[user_page(
        "User:Ana_maria",
        7,
        &[
            rev(10, 1, "Ana maria", &profile_text("Lua")),
            rev(11, 2, "Someone", "x"),
            rev_hidden_text(12, 3, "Ana maria"),
        ],
    )]);
    let pages = read_all(xml.as_bytes()).unwrap();
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    assert_eq!(page.title, "User:Ana_maria");
    assert_eq!(page.namespace, 2);
    assert_eq!(page.page_id, Some(7));
    let latest = page.latest.as_ref().unwrap();
    assert_eq!((latest.revid, latest.text.as_deref()), (12, None));
    let owner = page.owner_latest.as_ref().unwrap();
    assert_eq!(owner.revid, 10);
    assert_eq!(owner.user.as_deref(), Some("Ana maria"));
    assert_eq!(owner.text.as_deref(), Some(profile_text("Lua").as_str()));
}

// ---------------------------------------------------------------------------
// Which pages
// ---------------------------------------------------------------------------

#[test]
fn only_user_pages_make_profiles() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[
        page_xml(
            "Meta:Sandbox",
            4,
            1,
            None,
            &[rev(1, 1, "Curious Newbie", &profile_text("Lua"))],
        ),
        page_xml(
            "Template:Capacity Exchange profile/example",
            10,
            2,
            None,
            &[rev(2, 1, "Maintainer", &profile_text("Lua"))],
        ),
        page_xml(
            "User talk:Jo",
            3,
            3,
            None,
            &[rev(3, 1, "Jo", &profile_text("Lua"))],
        ),
        page_xml(
            "Main Page",
            0,
            4,
            None,
            &[rev(4, 1, "Jo", &profile_text("Lua"))],
        ),
        user_page("User:Kim", 5, &[rev(5, 1, "Kim", &profile_text("Lua"))]),
    ]));
    assert_eq!(summary.pages_read, 5);
    assert_eq!(summary.stats.profiles, 1);
    let users: Vec<String> = env.profiles().into_iter().map(|p| p.user).collect();
    assert_eq!(users, strings(&["Kim"]));
}

#[test]
fn a_subpage_of_a_user_page_makes_the_users_profile() {
    let env = Env::new();
    env.import_ok(&export(&[user_page(
        "User:Bob/Capacity_Exchange",
        1,
        &[rev(1, 1, "Bob", &profile_text("Lua"))],
    )]));
    let p = env.profile("Bob").expect("profile");
    assert_eq!(p.page, "User:Bob/Capacity Exchange");
}

#[test]
fn one_profile_per_user_root_page_first_then_the_first_subpage() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[
        user_page(
            "User:Cy/Profile",
            1,
            &[rev(1, 1, "Cy", &profile_text("Wikidata"))],
        ),
        user_page("User:Cy", 2, &[rev(2, 1, "Cy", &profile_text("Lua"))]),
        user_page(
            "User:Di/B",
            3,
            &[rev(3, 1, "Di", &profile_text("Wikidata"))],
        ),
        user_page("User:Di/A", 4, &[rev(4, 1, "Di", &profile_text("Lua"))]),
    ]));
    assert_eq!(summary.stats.profiles, 2);
    let cy = env.profile("Cy").unwrap();
    assert_eq!((cy.page.as_str(), cy.revid), ("User:Cy", 2));
    let di = env.profile("Di").unwrap();
    assert_eq!((di.page.as_str(), di.revid), ("User:Di/A", 4));

    let cy_warnings = env.warnings("User:Cy/Profile");
    assert!(
        cy_warnings.iter().any(|w| w.contains("User:Cy")),
        "{cy_warnings:?}"
    );
    let di_warnings = env.warnings("User:Di/B");
    assert!(
        di_warnings.iter().any(|w| w.contains("User:Di/A")),
        "{di_warnings:?}"
    );
    assert!(env.warnings("User:Cy").is_empty());
    assert!(env.warnings("User:Di/A").is_empty());
}

// ---------------------------------------------------------------------------
// Aliases of the template
// ---------------------------------------------------------------------------

fn alias_user() -> String {
    user_page(
        "User:Ana",
        2,
        &[rev(
            10,
            1,
            "Ana",
            "{{CX profile\n| offers = Lua\n}}\n{{cX_profile|offers=second call}}",
        )],
    )
}

#[test]
fn an_alias_defined_before_the_pages_using_it_is_found_in_one_pass() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[alias_page(1), alias_user()]));
    assert_eq!(summary.passes, 1);
    assert_eq!(summary.aliases, strings(&["CX profile"]));
    let p = env.profile("Ana").expect("profile through the alias");
    assert_eq!(offers(&p), strings(&["Lua modules"]));
}

#[test]
fn an_alias_defined_after_the_pages_using_it_is_found_in_a_second_pass() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[alias_user(), alias_page(1)]));
    assert_eq!(summary.passes, 2);
    assert_eq!(summary.aliases, strings(&["CX profile"]));
    assert_eq!(summary.stats.profiles, 1);
    let p = env.profile("Ana").expect("profile through the alias");
    assert_eq!(offers(&p), strings(&["Lua modules"]));
}

/// The owner wrote the alias; someone else later "bypassed the template redirect", so the
/// newest revision calls the template by its own name.
fn bypassed_alias_user() -> String {
    user_page(
        "User:Ana",
        2,
        &[
            rev(10, 1, "Ana", "{{CX profile\n| offers = Lua\n}}"),
            rev(
                11,
                2,
                "Template Gnome",
                "{{Capacity Exchange profile\n| offers = Lua\n}}",
            ),
        ],
    )
}

#[test]
fn an_alias_in_the_owners_revision_counts_when_defined_before() {
    let env = Env::new();
    env.import_ok(&export(&[alias_page(1), bypassed_alias_user()]));
    let p = env
        .profile("Ana")
        .expect("the owner's revision calls the alias");
    assert_eq!((p.revid, offers(&p)), (10, strings(&["Lua modules"])));
}

#[test]
fn an_alias_in_the_owners_revision_counts_when_defined_after() {
    let env = Env::new();
    env.import_ok(&export(&[bypassed_alias_user(), alias_page(1)]));
    let p = env
        .profile("Ana")
        .expect("the owner's revision calls the alias");
    assert_eq!((p.revid, offers(&p)), (10, strings(&["Lua modules"])));
}

#[test]
fn a_redirect_to_another_template_is_not_an_alias() {
    let env = Env::new();
    let summary = env.import_ok(&export(&[
        page_xml(
            "Template:CX profile",
            10,
            1,
            Some("Template:Navbox"),
            &[rev(1, 1, "Maintainer", "#REDIRECT [[Template:Navbox]]")],
        ),
        alias_user(),
    ]));
    assert!(summary.aliases.is_empty());
    assert!(env.profile("Ana").is_none());
}

// ---------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn mixed_export() -> String {
    export(&[
        alias_page(1),
        user_page(
            "User:Ana",
            2,
            &[
                rev(10, 1, "Ana", &profile_text("Lua; Zotero; café")),
                rev(11, 2, "Typo Fixer", &profile_text("Everything")),
            ],
        ),
        user_page(
            "User:Bob/Profile",
            3,
            &[rev(12, 1, "Bob", &profile_text("Wikidata"))],
        ),
        user_page(
            "User:Cy",
            4,
            &[rev(13, 1, "Helpful Gnome", &profile_text("Lua"))],
        ),
    ])
}

#[test]
fn gzip_and_bzip2_exports_read_the_same_as_plain() {
    let env = Env::new();
    let xml = mixed_export();
    let plain = env.write("export.xml", xml.as_bytes());
    let gz = env.write("export.xml.gz", &gzip(xml.as_bytes()));
    let bz = env.write("export.xml.bz2", &bzip2(xml.as_bytes()));
    // A compressed file is recognised by its content, not its name.
    let gz_no_ext = env.write("export-gz", &gzip(xml.as_bytes()));

    let pages = |path: &Path| -> Vec<dump::PageHistory> {
        let mut reader = dump::DumpReader::new(dump::open(path).unwrap());
        let mut out = Vec::new();
        while let Some(page) = reader.next_page().unwrap() {
            out.push(page);
        }
        out
    };
    let expected = read_all(xml.as_bytes()).unwrap();
    assert_eq!(expected.len(), 4);
    for path in [&plain, &gz, &bz, &gz_no_ext] {
        assert_eq!(pages(path), expected, "{}", path.display());
    }

    let mut results = Vec::new();
    for path in [&plain, &gz, &bz] {
        let summary = env.import_file(path).unwrap();
        assert_eq!(summary.pages_read, 4);
        results.push((summary.stats.clone(), env.profiles()));
    }
    assert_eq!(results[0].1.len(), 2);
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn multistream_compressed_exports_are_read_whole() {
    let env = Env::new();
    let xml = mixed_export();
    let split = page_range(&xml, 2).start;
    let (head, tail) = xml.as_bytes().split_at(split);
    let mut gz = gzip(head);
    gz.extend(gzip(tail));
    let mut bz = bzip2(head);
    bz.extend(bzip2(tail));
    let expected = read_all(xml.as_bytes()).unwrap();
    for (name, bytes) in [("multi.xml.gz", gz), ("multi.xml.bz2", bz)] {
        let path = env.write(name, &bytes);
        let pages = read_all(dump::open(&path).unwrap()).unwrap();
        assert_eq!(pages, expected, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------

/// Asserts that the first generation is still the one served.
#[track_caller]
fn still_serving(env: &Env, first: &str) {
    assert_eq!(env.data.current().unwrap().as_deref(), Some(first));
    let snapshot = env.data.open_current().unwrap();
    assert_eq!(snapshot.id(), first);
    assert!(snapshot.profile("Ana").unwrap().is_some());
    assert_eq!(env.data.published().unwrap(), vec![first.to_string()]);
    assert!(no_building_dirs(&env.data));
}

#[test]
fn malformed_xml_names_the_page_and_publishes_nothing() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;

    let broken_page = "  <page>\n    <title>User:Broken</title>\n    <ns>2</ns>\n    <id>9</id>\n    <revision>\n      <id>90</id>\n      <timestamp>2024-01-01T00:00:00Z</timestamp>\n      <contributor><username>Broken</username></contributor>\n      <text>{{Capacity Exchange profile|offers=Lua}}</txet>\n    </revision>\n  </page>\n";
    let xml = export(&[
        user_page("User:Zed", 1, &[rev(1, 1, "Zed", &profile_text("Lua"))]),
        broken_page.to_string(),
    ]);
    let path = env.write("broken.xml", xml.as_bytes());
    let err = env
        .import_file(&path)
        .expect_err("a malformed export fails");
    assert!(
        matches!(err, ImportError::Dump(DumpError::Malformed { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("User:Broken"), "{err}");
    still_serving(&env, &first);
    assert!(
        env.profile("Zed").is_none(),
        "nothing of the bad run is served"
    );
}

#[test]
fn an_import_while_another_run_is_building_fails_and_publishes_nothing() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;
    let other_run = env.data.begin("another run").unwrap();
    let path = env.write("next.xml", three_pages().as_bytes());
    let err = env.import_file(&path).expect_err("locked");
    assert!(
        matches!(
            err,
            ImportError::Store(exchange::store::StoreError::Locked(_))
        ),
        "{err:?}"
    );
    drop(other_run);
    still_serving(&env, &first);
}

#[test]
fn a_bad_first_import_leaves_no_generation() {
    let env = Env::new();
    let xml = three_pages();
    let cut = page_range(&xml, 1).start + 40;
    let path = env.write("cut.xml", &xml.as_bytes()[..cut]);
    assert!(env.import_file(&path).is_err());
    assert_eq!(env.data.current().unwrap(), None);
    assert!(env.data.published().unwrap().is_empty());
    assert!(no_building_dirs(&env.data));
}

#[test]
fn an_unknown_entity_is_malformed_and_names_the_page() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;
    let xml = export(&[user_page(
        "User:Ent",
        1,
        &["    <revision>\n      <id>1</id>\n      <timestamp>2024-01-01T00:00:00Z</timestamp>\n      <contributor><username>Ent</username></contributor>\n      <text>a &bogus; b</text>\n    </revision>\n".to_string()],
    )]);
    let path = env.write("entity.xml", xml.as_bytes());
    let err = env.import_file(&path).expect_err("fails");
    assert!(err.to_string().contains("User:Ent"), "{err}");
    still_serving(&env, &first);
}

fn three_pages() -> String {
    export(&[
        user_page("User:Ana", 1, &[rev(1, 1, "Ana", &profile_text("Lua"))]),
        user_page(
            "User:Bob",
            2,
            &[
                rev(2, 1, "Bob", &profile_text("Wikidata; café; Lua")),
                rev(3, 2, "Bob", &profile_text("Wikidata; café; SPARQL")),
            ],
        ),
        user_page("User:Cy", 3, &[rev(4, 1, "Cy", &profile_text("Lua"))]),
    ])
}

/// The byte range of the `n`th `<page>` element (0-based) in `xml`.
fn page_range(xml: &str, n: usize) -> std::ops::Range<usize> {
    let start = xml.match_indices("<page>").nth(n).unwrap().0;
    let end = start + xml[start..].find("</page>").unwrap() + "</page>".len();
    start..end
}

/// Cuts `three_pages()` at every byte inside the second page (`User:Bob`) for which
/// `select(inside_a_tag)` holds, and lists the cuts that do not give a `Truncated` error
/// naming the page (when its title was complete).
fn cut_failures(select: impl Fn(bool) -> bool) -> (usize, Vec<String>) {
    let xml = three_pages();
    let range = page_range(&xml, 1);
    let title_end = range.start + xml[range.start..].find("</title>").unwrap() + "</title>".len();
    let mut tried = 0;
    let mut failures = Vec::new();
    for cut in range.start + 1..range.end {
        let before = &xml.as_bytes()[..cut];
        let inside_a_tag =
            before.iter().rposition(|&b| b == b'<') > before.iter().rposition(|&b| b == b'>');
        if !select(inside_a_tag) {
            continue;
        }
        tried += 1;
        match read_all(&xml.as_bytes()[..cut]) {
            Err(DumpError::Truncated { page, .. }) => {
                if cut > title_end && page.as_deref() != Some("User:Bob") {
                    failures.push(format!("cut at {cut}: names {page:?}"));
                }
            }
            other => failures.push(format!(
                "cut at {cut} ({:?}): {:?}",
                String::from_utf8_lossy(&before[cut.saturating_sub(12)..]),
                other.map(|pages| pages.len())
            )),
        }
    }
    (tried, failures)
}

#[test]
fn a_file_cut_inside_a_page_is_truncated_and_names_the_page() {
    let (tried, failures) = cut_failures(|inside_a_tag| !inside_a_tag);
    assert!(tried > 400, "{tried}");
    assert!(
        failures.is_empty(),
        "{} of {tried} cuts:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn a_file_cut_inside_a_tag_is_truncated_too() {
    let (tried, failures) = cut_failures(|inside_a_tag| inside_a_tag);
    assert!(tried > 100, "{tried}");
    assert!(
        failures.is_empty(),
        "{} of {tried} cuts:\n{}",
        failures.len(),
        failures[..failures.len().min(20)].join("\n")
    );
}

#[test]
fn a_truncated_file_publishes_nothing() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;
    let xml = three_pages();
    let range = page_range(&xml, 1);
    // In the middle of Bob's newest revision text.
    let cut = range.start + xml[range.start..].find("SPARQL").unwrap() + 3;
    let path = env.write("cut.xml", &xml.as_bytes()[..cut]);
    let err = env
        .import_file(&path)
        .expect_err("a truncated export fails");
    match &err {
        ImportError::Dump(DumpError::Truncated { page, .. }) => {
            assert_eq!(page.as_deref(), Some("User:Bob"));
        }
        other => panic!("not Truncated: {other:?}"),
    }
    assert!(err.to_string().contains("User:Bob"), "{err}");
    still_serving(&env, &first);
}

#[test]
fn a_file_cut_between_pages_is_truncated_too() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;
    let xml = three_pages();
    let cut = page_range(&xml, 1).end + 1; // after "</page>\n"
    let path = env.write("cut.xml", &xml.as_bytes()[..cut]);
    let result = env.import_file(&path);
    assert!(
        matches!(result, Err(ImportError::Dump(DumpError::Truncated { .. }))),
        "{result:?}"
    );
    still_serving(&env, &first);
}

#[test]
fn a_truncated_gzip_or_bzip2_file_publishes_nothing() {
    let env = Env::new();
    let first = env.import_ok(&good_export()).generation;
    // Large enough that the compressed data spans several blocks.
    let mut pages = Vec::new();
    for i in 0..300u64 {
        pages.push(user_page(
            &format!("User:Person {i}"),
            i + 10,
            &[rev(
                i + 1000,
                1,
                &format!("Person {i}"),
                &profile_text(&format!("Lua; Hobby {i}")),
            )],
        ));
    }
    let xml = export(&pages);
    for (name, compressed) in [
        ("cut.xml.gz", gzip(xml.as_bytes())),
        ("cut.xml.bz2", bzip2(xml.as_bytes())),
    ] {
        let cut = &compressed[..compressed.len() / 2];
        let path = env.write(name, cut);
        let err = env.import_file(&path).expect_err(name);
        assert!(
            matches!(err, ImportError::Dump(DumpError::Truncated { .. })),
            "{name}: {err:?}"
        );
        still_serving(&env, &first);
    }
}

#[test]
fn invalid_utf8_inside_one_page_is_a_warning_about_that_page() {
    let env = Env::new();
    let xml = export(&[
        user_page(
            "User:Ana",
            1,
            &[rev(1, 1, "Ana", &profile_text("Lua; café"))],
        ),
        user_page(
            "User:Bob",
            2,
            &[rev(2, 1, "Bob", &profile_text("Wikidata; BADBYTES; Lua"))],
        ),
        user_page("User:Cy", 3, &[rev(3, 1, "Cy", &profile_text("Lua; Zoë"))]),
    ]);
    let mut bytes = Vec::new();
    let (before, after) = xml.split_once("BADBYTES").unwrap();
    bytes.extend_from_slice(before.as_bytes());
    bytes.extend_from_slice(b"caf\xe9 \xff\xfe \xc3");
    bytes.extend_from_slice(after.as_bytes());
    let path = env.write("bad-bytes.xml", &bytes);
    let summary = env.import_file(&path).expect("the run succeeds");
    assert_eq!(summary.stats.profiles, 3);

    let bob = env.profile("Bob").expect("Bob keeps his profile");
    assert_eq!(bob.offers.first().map(|s| s.display()), Some("Wikidata"));
    assert!(bob.offers.iter().any(|s| s.display() == "Lua modules"));
    let warnings = env.warnings("User:Bob");
    assert!(warnings.iter().any(|w| w.contains("UTF-8")), "{warnings:?}");
    for other in ["User:Ana", "User:Cy"] {
        let warnings = env.warnings(other);
        assert!(
            !warnings.iter().any(|w| w.contains("UTF-8")),
            "{other}: {warnings:?}"
        );
    }
    assert_eq!(
        offers(&env.profile("Ana").unwrap()),
        strings(&["Lua modules", "café"])
    );
    assert_eq!(
        offers(&env.profile("Cy").unwrap()),
        strings(&["Lua modules", "Zoë"])
    );
}

#[test]
fn a_page_of_several_megabytes_is_read() {
    let env = Env::new();
    let filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(90_000);
    assert!(filler.len() > 5_000_000);
    let text = format!("{}\n{filler}", profile_text("Lua; Wikidata"));
    let summary = env.import_ok(&export(&[
        user_page("User:Big", 1, &[rev(1, 1, "Big", &text)]),
        user_page("User:Small", 2, &[rev(2, 1, "Small", &profile_text("Lua"))]),
    ]));
    assert_eq!(summary.stats.profiles, 2);
    let p = env.profile("Big").expect("profile");
    assert_eq!(offers(&p), strings(&["Lua modules", "Wikidata"]));
}

#[test]
fn a_revision_over_the_size_limit_is_skipped_with_a_problem_noted() {
    let env = Env::new();
    let huge = format!(
        "{}\n{}",
        profile_text("Wikidata"),
        "x".repeat(MAX_TEXT_BYTES + 1024)
    );
    let summary = env.import_ok(&export(&[
        user_page(
            "User:Huge",
            1,
            &[
                rev(501, 1, "Huge", &profile_text("Lua")),
                rev(502, 2, "Huge", &huge),
            ],
        ),
        user_page("User:Small", 2, &[rev(3, 1, "Small", &profile_text("Lua"))]),
    ]));
    assert_eq!(summary.stats.profiles, 2);
    let p = env.profile("Huge").expect("the readable revision is used");
    assert_eq!((p.revid, offers(&p)), (501, strings(&["Lua modules"])));
    let warnings = env.warnings("User:Huge");
    assert!(
        warnings.iter().any(|w| w.contains("502")),
        "the skipped revision is noted: {warnings:?}"
    );
    assert!(env.warnings("User:Small").is_empty());
}

#[test]
fn pathological_nesting_in_a_profile_page_is_survived() {
    let env = Env::new();
    let nested = format!("{}x{}", "{{".repeat(10_000), "}}".repeat(10_000));
    let unclosed = "{{".repeat(10_000);
    let summary = env.import_ok(&export(&[
        user_page(
            "User:Deep",
            1,
            &[rev(
                1,
                1,
                "Deep",
                &format!(
                    "{}\n{nested}\n{{{{Capacity Exchange profile|offers=Lua; {nested}; Wikidata}}}}",
                    profile_text("Lua; Wikidata")
                ),
            )],
        ),
        user_page(
            "User:Open",
            2,
            &[rev(2, 1, "Open", &format!("{}\n{unclosed}", profile_text("Lua")))],
        ),
    ]));
    assert_eq!(summary.stats.profiles, 2);
    assert_eq!(
        offers(&env.profile("Deep").unwrap()),
        strings(&["Lua modules", "Wikidata"])
    );
    assert_eq!(
        offers(&env.profile("Open").unwrap()),
        strings(&["Lua modules"])
    );
}

#[test]
fn a_profile_with_500_items_is_cut_with_a_warning() {
    let env = Env::new();
    let many: Vec<String> = (0..500).map(|i| format!("Hobby {i}")).collect();
    env.import_ok(&export(&[user_page(
        "User:Many",
        1,
        &[rev(1, 1, "Many", &profile_text(&many.join("; ")))],
    )]));
    let p = env.profile("Many").expect("profile");
    assert_eq!(p.offers.len(), MAX_ITEMS);
    assert_eq!(
        p.offers[0],
        SkillRef::Free {
            text: "Hobby 0".into()
        }
    );
    let warnings = env.warnings("User:Many");
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("offers:") && w.contains(&MAX_ITEMS.to_string())),
        "{warnings:?}"
    );
}

// ---------------------------------------------------------------------------
// Consistency with the synthetic generator
// ---------------------------------------------------------------------------

fn synth(profiles: usize, seed: u64) -> (Vec<u8>, SynthStats) {
    let mut out = Vec::new();
    let stats = write_export(&mut out, profiles, seed, Taxonomy::bundled()).unwrap();
    (out, stats)
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_differs() {
    let (a, stats_a) = synth(300, 7);
    let (b, stats_b) = synth(300, 7);
    let (c, _) = synth(300, 8);
    assert!(a == b, "same seed, different bytes");
    assert_eq!(stats_a, stats_b);
    assert!(a != c, "another seed, same bytes");
}

#[test]
fn a_synthetic_export_imports_to_exactly_the_expected_profiles() {
    let env = Env::new();
    let (bytes, stats) = synth(2000, 424_242);
    assert!(stats.expected_profiles > 1500, "{stats:?}");
    assert!(stats.paused > 0 && stats.edited_by_others > 0, "{stats:?}");
    let path = env.write("synth.xml", &bytes);
    let summary = env.import_file(&path).unwrap();
    assert_eq!(summary.pages_read, stats.pages);
    assert_eq!(summary.passes, 1);
    assert_eq!(summary.stats.profiles, stats.expected_profiles);

    let snapshot = env.data.open_current().unwrap();
    assert_eq!(snapshot.id(), summary.generation);
    assert_eq!(snapshot.profile_count().unwrap(), stats.expected_profiles);
    let mut exported = 0u64;
    let mut paused = 0u64;
    let mut users = std::collections::BTreeSet::new();
    snapshot
        .for_each_profile(|p| {
            exported += 1;
            if p.status == Status::Paused {
                paused += 1;
            }
            assert!(p.page.starts_with("User:"), "{}", p.page);
            // What other people wrote into someone's profile never shows.
            assert!(
                !p.offers
                    .iter()
                    .any(|s| matches!(s.display(), "Everything" | "Nothing")),
                "{p:?}"
            );
            users.insert(p.user);
            Ok(())
        })
        .unwrap();
    assert_eq!(exported, stats.expected_profiles);
    assert_eq!(users.len() as u64, stats.expected_profiles);
    assert_eq!(paused, stats.paused);

    // The learners' thanks pages are read as the crawler reads them, each thanks once and
    // for someone with a profile; some mentors gather the three thankers of a badge.
    let thanks = snapshot.thanks().unwrap();
    assert!(stats.thanks > 100, "{stats:?}");
    assert_eq!(thanks.len() as u64, stats.thanks);
    let counts = exchange::connections::count(&thanks, &snapshot.requests().unwrap());
    assert_eq!(
        counts.thanks.len() as u64,
        stats.thanks,
        "every synthetic thanks counts"
    );
    assert!(counts.thanks.iter().all(|c| users.contains(&c.helper)));
    let badges = users
        .iter()
        .flat_map(|u| counts.person(u))
        .filter(|p| p.thanked_by >= exchange::connections::BADGE_MIN_THANKERS)
        .count();
    assert!(badges >= 5, "{badges} people with a badge");

    // The gzip form of the same export gives the same profiles.
    let env2 = Env::new();
    let gz = env2.write("synth.xml.gz", &gzip(&bytes));
    let summary2 = env2.import_file(&gz).unwrap();
    assert_eq!(summary2.stats, summary.stats);
}
