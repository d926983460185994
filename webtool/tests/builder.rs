//! The profile builder (`/create`) over HTTP: a filled-in form gives wikitext that the
//! profile parser reads back as the same profile, and a Meta-Wiki link carrying exactly that
//! wikitext; problems show next to their fields; hostile text stays text.

use std::sync::Arc;

use exchange::parse::{PageContext, ProfileTemplate, parse_page};
use exchange::profile::{LanguageSkill, Level, Profile, SkillRef, Status};
use exchange::store::DataDir;
use exchange::taxonomy::Taxonomy;
use webtool::state::AppState;

async fn serve(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, webtool::router(state)).await.unwrap();
    });
    format!("http://{address}")
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::Client::new().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The builder needs no snapshot: an empty data directory will do.
async fn site() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(AppState::new(DataDir::new(dir.path())));
    let base = serve(state).await;
    (dir, base)
}

/// Encodes form fields the way a browser submits a GET form.
fn form_query(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Undoes HTML escaping (named and numeric character references).
fn html_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').expect("a character reference ends with ;");
        let entity = &after[..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).unwrap()
                } else {
                    entity.strip_prefix('#').unwrap().parse().unwrap()
                };
                char::from_u32(code).unwrap()
            }
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    out
}

/// The text inside the element with `id`, up to its closing `tag`.
fn element_text(html: &str, id: &str, tag: &str) -> Option<String> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let open_end = start + html[start..].find('>')? + 1;
    let close = open_end + html[open_end..].find(&format!("</{tag}>"))?;
    Some(html_unescape(&html[open_end..close]))
}

/// An attribute of the element with `id`.
fn attribute(html: &str, id: &str, name: &str) -> Option<String> {
    let start = html[..html.find(&format!("id=\"{id}\""))?].rfind('<')?;
    let end = start + html[start..].find('>')?;
    let tag = &html[start..end];
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let value_end = at + tag[at..].find('"')?;
    Some(html_unescape(&tag[at..value_end]))
}

fn read_back(wikitext: &str) -> Profile {
    let page = PageContext {
        title: "User:Builder test".into(),
        ..PageContext::default()
    };
    let parsed = parse_page(
        wikitext,
        &page,
        &ProfileTemplate::default(),
        Taxonomy::bundled(),
    );
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    parsed.profile.expect("the wikitext calls the template")
}

/// A skill with a Portuguese label different from the English one, and that label.
fn portuguese_skill() -> (String, String, String) {
    let taxonomy = Taxonomy::bundled();
    let skill = taxonomy
        .skills()
        .iter()
        .find(|s| s.labels.get("pt").is_some_and(|pt| *pt != s.labels["en"]))
        .expect("the taxonomy has Portuguese labels");
    (
        skill.id.clone(),
        skill.labels["pt"].clone(),
        skill.labels["en"].clone(),
    )
}

#[tokio::test]
async fn a_filled_form_reads_back_as_the_same_profile_and_the_link_carries_it() {
    let (_dir, base) = site().await;
    let (skill_id, skill_pt, skill_en) = portuguese_skill();
    let hostile = "Knitting | patterns }} {{x}} [[y]] = z";
    let bio = "Organizo editatonas em Recife | }} <3 مرحبا 🎉 ~~~~ a=b";
    let query = form_query(&[
        ("uselang", "pt"),
        ("build", "1"),
        ("offers", &skill_pt),
        ("offers", hostile),
        ("offers", ""),
        ("wants", "grant writing; budgets"),
        ("knows", "Wikidata"),
        ("lang-code", "pt"),
        ("lang-level", "N"),
        ("lang-code", "Arabic"),
        ("lang-level", "3"),
        ("lang-code", ""),
        ("lang-level", ""),
        ("country", "BR"),
        ("timezone", "America/Sao_Paulo"),
        ("affiliations", "Wiki Movimento Brasil"),
        ("projects", "pt.wikipedia, wikidata"),
        ("formats", "mentoring"),
        ("formats", "workshop"),
        ("availability", "2 horas por mês"),
        ("contact", "talk"),
        ("contact", "email"),
        ("bio", bio),
        ("status", "paused"),
    ]);
    let (status, html) = get(format!("{base}/create?{query}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"pt\" dir=\"ltr\">"));
    let wikitext = element_text(&html, "builder-wikitext", "textarea").expect("a wikitext box");
    assert!(
        html.contains("<label for=\"builder-wikitext\">"),
        "the box has a label"
    );
    let profile = read_back(&wikitext);
    assert_eq!(
        profile.offers,
        vec![
            SkillRef::Known {
                id: skill_id,
                label: skill_en
            },
            SkillRef::Free {
                text: hostile.into()
            },
        ]
    );
    // One row, one item: a separator typed in a row does not split it.
    assert_eq!(
        profile.wants,
        vec![SkillRef::Free {
            text: "grant writing; budgets".into()
        }]
    );
    assert_eq!(profile.knows.len(), 1);
    assert_eq!(profile.knows[0].id(), Some("wikidata"));
    assert_eq!(
        profile.languages,
        vec![
            LanguageSkill {
                code: "pt".into(),
                level: Level::NATIVE
            },
            LanguageSkill {
                code: "ar".into(),
                level: Level::new(3).unwrap()
            },
        ]
    );
    assert_eq!(profile.country.as_deref(), Some("BR"));
    assert_eq!(profile.timezone.as_deref(), Some("America/Sao_Paulo"));
    assert_eq!(profile.affiliations, ["Wiki Movimento Brasil"]);
    assert_eq!(profile.projects, ["pt.wikipedia", "wikidata"]);
    assert_eq!(profile.formats, ["mentoring", "workshop"]);
    assert_eq!(profile.contact, ["talk", "email"]);
    assert_eq!(profile.availability.as_deref(), Some("2 horas por mês"));
    assert_eq!(profile.bio.as_deref(), Some(bio));
    assert_eq!(profile.status, Status::Paused);

    let href = attribute(&html, "builder-edit-link", "href").expect("a link to Meta-Wiki");
    let (address, query) = href.split_once('?').unwrap();
    assert_eq!(address, "https://meta.wikimedia.org/w/index.php");
    let params: Vec<(&str, &str)> = query
        .split('&')
        .map(|p| p.split_once('=').unwrap())
        .collect();
    let param = |name: &str| -> Vec<String> {
        params
            .iter()
            .filter(|(k, _)| percent_decode(k) == name)
            .map(|(_, v)| percent_decode(v))
            .collect()
    };
    assert_eq!(param("title"), ["Special:MyPage"]);
    assert_eq!(param("action"), ["edit"]);
    assert_eq!(param("section"), ["new"]);
    assert_eq!(
        param("preload"),
        ["Template:Capacity_Exchange_profile/builder"]
    );
    assert_eq!(param("preloadtitle").len(), 1);
    assert_eq!(param("preloadparams[]"), [wikitext]);

    // The form comes back as it was filled in.
    assert_eq!(
        attribute(&html, "offers-2", "value").as_deref(),
        Some(hostile)
    );
    assert_eq!(element_text(&html, "bio", "textarea").as_deref(), Some(bio));
    assert!(html.contains("id=\"status-paused\" name=\"status\" value=\"paused\" checked"));
    assert!(html.contains("id=\"format-workshop\" name=\"formats\" value=\"workshop\" checked"));
}

#[tokio::test]
async fn the_recognition_box_writes_the_opt_in_and_says_what_it_is_for() {
    let (_dir, base) = site().await;
    let (_, empty) = get(format!("{base}/create?uselang=en")).await;
    assert!(
        empty.contains("id=\"recognition\" name=\"recognition\" value=\"yes\" aria-describedby=\"recognition-help\">"),
        "unticked at first: {empty}"
    );
    assert!(empty.contains("href=\"/about?uselang=en#connections\""));
    for (ticked, wanted) in [(true, true), (false, false)] {
        let mut fields = vec![("uselang", "en"), ("build", "1"), ("offers", "Lua")];
        if ticked {
            fields.push(("recognition", "yes"));
        }
        let (status, html) = get(format!("{base}/create?{}", form_query(&fields))).await;
        assert_eq!(status, 200);
        let wikitext = element_text(&html, "builder-wikitext", "textarea").expect("a wikitext box");
        assert_eq!(read_back(&wikitext).recognition, wanted, "{wikitext}");
        assert_eq!(
            html.contains("value=\"yes\" aria-describedby=\"recognition-help\" checked>"),
            ticked,
            "the box comes back as it was"
        );
    }
}

#[tokio::test]
async fn problems_show_next_to_their_fields_and_nothing_is_written() {
    let (_dir, base) = site().await;
    let query = form_query(&[
        ("uselang", "en"),
        ("offers", "Lua"),
        ("lang-code", "xx-notalanguage"),
        ("lang-level", "3"),
        ("timezone", "Mars/Olympus_Mons"),
        ("bio", "x".repeat(1001).as_str()),
    ]);
    let (status, html) = get(format!("{base}/create?{query}")).await;
    assert_eq!(status, 200);
    assert!(element_text(&html, "builder-wikitext", "textarea").is_none());
    assert!(!html.contains("id=\"builder-edit-link\""));
    assert!(html.contains("id=\"builder-errors\" class=\"builder-errors\" role=\"alert\""));
    for (field, error) in [
        ("lang-code-1", "languages-error"),
        ("timezone", "timezone-error"),
        ("bio", "bio-error"),
    ] {
        let described = attribute(&html, field, "aria-describedby").unwrap();
        assert!(
            described.split(' ').any(|id| id == error),
            "{field}: {described}"
        );
        assert_eq!(
            attribute(&html, field, "aria-invalid").as_deref(),
            Some("true")
        );
        let message = element_text(&html, error, "ul").expect(error);
        assert!(!message.trim().is_empty());
    }
    assert!(
        element_text(&html, "languages-error", "ul")
            .unwrap()
            .contains("xx-notalanguage")
    );
    assert!(
        element_text(&html, "timezone-error", "ul")
            .unwrap()
            .contains("Mars/Olympus_Mons")
    );
    // Fields without problems are not marked.
    assert_eq!(attribute(&html, "offers-1", "aria-invalid"), None);
    assert_eq!(
        attribute(&html, "offers-1", "value").as_deref(),
        Some("Lua")
    );
}

#[tokio::test]
async fn script_in_the_bio_comes_back_as_text() {
    let (_dir, base) = site().await;
    let bio = "<script>alert('bio')</script>";
    let query = form_query(&[("bio", bio), ("offers", "\"><script>alert(1)</script>")]);
    let (status, html) = get(format!("{base}/create?{query}")).await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("<script>alert"),
        "unescaped script in the page"
    );
    assert_eq!(element_text(&html, "bio", "textarea").as_deref(), Some(bio));
    assert_eq!(
        attribute(&html, "offers-1", "value").as_deref(),
        Some("\"><script>alert(1)</script>")
    );
    // Tags are text: escaped in the wikitext, read back unchanged, never dropped.
    assert!(element_text(&html, "bio-error", "ul").is_none());
    let wikitext = element_text(&html, "builder-wikitext", "textarea").unwrap();
    assert_eq!(read_back(&wikitext).bio.as_deref(), Some(bio));
}

#[tokio::test]
async fn arabic_page_is_right_to_left_with_arabic_skill_suggestions() {
    let (_dir, base) = site().await;
    let (status, html) = get(format!("{base}/create?uselang=ar")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"ar\" dir=\"rtl\">"));
    let taxonomy = Taxonomy::bundled();
    let arabic: Vec<&String> = taxonomy
        .skills()
        .iter()
        .filter_map(|s| s.labels.get("ar"))
        .collect();
    assert!(arabic.len() > 20);
    let start = html.find("<datalist id=\"builder-skills\">").unwrap();
    let list = &html[start..start + html[start..].find("</datalist>").unwrap()];
    let suggested: std::collections::HashSet<String> = list
        .split("<option value=\"")
        .skip(1)
        .map(|o| html_unescape(&o[..o.find('"').unwrap()]))
        .collect();
    for label in &arabic {
        assert!(
            suggested.contains(label.as_str()),
            "{label} is not suggested"
        );
    }
    assert_eq!(
        attribute(&html, "offers-1", "list").as_deref(),
        Some("builder-skills")
    );
    // An empty form: nothing written yet, talk page contact and active status chosen.
    assert!(element_text(&html, "builder-wikitext", "textarea").is_none());
    assert!(html.contains("id=\"contact-talk\" name=\"contact\" value=\"talk\" checked"));
    assert!(html.contains("id=\"status-active\" name=\"status\" value=\"active\" checked"));
}

#[tokio::test]
async fn absurd_requests_get_a_friendly_400() {
    let (_dir, base) = site().await;
    let many: Vec<(&str, &str)> = (0..60).map(|_| ("offers", "Lua")).collect();
    let long = "x".repeat(5000);
    let huge = "y".repeat(13 * 1024);
    for query in [
        form_query(&many),
        form_query(&[("bio", &long)]),
        form_query(&[("uselang", "de"), ("availability", &huge)]),
    ] {
        let (status, html) = get(format!("{base}/create?{query}")).await;
        assert_eq!(status, 400, "{}", &query[..query.len().min(80)]);
        assert!(html.contains("<html lang="), "a page, not a bare message");
        assert!(html.contains("<h1>"));
    }
    let (_, german) = get(format!(
        "{base}/create?{}",
        form_query(&[("uselang", "de"), ("availability", &huge)])
    ))
    .await;
    assert!(german.contains("<html lang=\"de\""));
}
