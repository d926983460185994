//! The profile builder: a form that writes the profile template's wikitext and opens the
//! edit form of the reader's own user page on Meta-Wiki with it.
//!
//! A plain GET form, so it works without JavaScript and a filled-in form is a link: the
//! page re-renders itself with the values kept, the problems next to their fields, and
//! the wikitext with a link to Meta-Wiki. The link uses MediaWiki's `preload` with
//! `preloadparams[]` on `Special:MyPage` with `section=new`: the preload page holds only
//! `$1`, which MediaWiki replaces by the wikitext; `section=new` honours `preload` whether
//! or not the user page exists; `Special:MyPage` keeps `preload`, `preloadparams`,
//! `preloadtitle`, `section` and `action` when it redirects (`RedirectSpecialArticle`).

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use exchange::parse::{KNOWN_CONTACTS, KNOWN_FORMATS, MAX_AVAILABILITY_CHARS, MAX_ITEM_CHARS};
use exchange::parse::{MAX_ITEMS, items};
use exchange::profile::Status;
use exchange::taxonomy::Taxonomy;
use exchange::template_writer::{
    BUILDER_PRELOAD_PAGE, InvalidProfile, Problem, ProfileInput, clean_text, language_choices,
    timezone_choices, write,
};
use exchange::text_key::fold;
use minijinja::{Value, context};

use super::{WIKI, error_page, language, render, urlencode};
use crate::i18n::Catalog;

/// Longest query string read; a filled-in form is a few kilobytes.
pub const MAX_QUERY_BYTES: usize = 12 * 1024;
/// Longest single field read at all; longer is not a typing mistake.
const MAX_FIELD_CHARS: usize = 4 * 1024;
/// Longest bio the builder takes: the whole profile travels in two URLs (this form's and
/// Meta-Wiki's edit link), so it is kept below the template's own limit.
pub const MAX_BIO_CHARS: usize = 1000;
/// Edit links longer than this may be refused by some browsers or proxies: the page then
/// suggests copying the text instead.
const LONG_URL: usize = 8000;

/// Rows shown per list when the form is empty; one more than filled when it is not.
const SKILL_ROWS: usize = 5;
const KNOWS_ROWS: usize = 3;
const LANGUAGE_ROWS: usize = 4;
const AFFILIATION_ROWS: usize = 3;

/// What the form sent, as typed (re-rendered as it is).
#[derive(Debug, Default)]
struct Form {
    uselang: Option<String>,
    submitted: bool,
    offers: Vec<String>,
    wants: Vec<String>,
    knows: Vec<String>,
    lang_codes: Vec<String>,
    lang_levels: Vec<String>,
    country: String,
    timezone: String,
    affiliations: Vec<String>,
    projects: String,
    formats: Vec<String>,
    availability: String,
    contact: Vec<String>,
    bio: String,
    status: String,
    /// The opt-in to be named in on-wiki reports (`recognition = yes`).
    recognition: bool,
}

/// Why a request is not a form at all (answered 400).
struct Absurd;

impl Form {
    fn read(pairs: Vec<(String, String)>) -> Result<Form, Absurd> {
        let mut form = Form::default();
        for (name, value) in pairs {
            if value.chars().nth(MAX_FIELD_CHARS).is_some() {
                return Err(Absurd);
            }
            let list = match name.as_str() {
                "uselang" => {
                    form.uselang = Some(value);
                    continue;
                }
                "offers" => &mut form.offers,
                "wants" => &mut form.wants,
                "knows" => &mut form.knows,
                "lang-code" => &mut form.lang_codes,
                "lang-level" => &mut form.lang_levels,
                "affiliations" => &mut form.affiliations,
                "formats" => &mut form.formats,
                "contact" => &mut form.contact,
                other => {
                    let single = match other {
                        "country" => &mut form.country,
                        "timezone" => &mut form.timezone,
                        "projects" => &mut form.projects,
                        "availability" => &mut form.availability,
                        "bio" => &mut form.bio,
                        "status" => &mut form.status,
                        "build" => {
                            form.submitted = true;
                            continue;
                        }
                        // A checkbox: sent only when ticked.
                        "recognition" => {
                            form.submitted = true;
                            form.recognition = value == "yes";
                            continue;
                        }
                        // Unknown names are ignored, as forms do.
                        _ => continue,
                    };
                    form.submitted = true;
                    *single = value;
                    continue;
                }
            };
            form.submitted = true;
            if list.len() >= MAX_ITEMS {
                return Err(Absurd);
            }
            list.push(value);
        }
        Ok(form)
    }

    fn input(&self) -> ProfileInput {
        let languages = self
            .lang_codes
            .iter()
            .enumerate()
            .filter(|(_, code)| !code.trim().is_empty())
            .map(|(i, code)| {
                let level = self.lang_levels.get(i).cloned().unwrap_or_default();
                (language_code(code), level)
            })
            .collect();
        ProfileInput {
            offers: self.offers.clone(),
            wants: self.wants.clone(),
            knows: self.knows.clone(),
            languages,
            country: self.country.clone(),
            timezone: self.timezone.clone(),
            affiliations: self.affiliations.clone(),
            projects: items(&self.projects),
            formats: self.formats.clone(),
            availability: self.availability.clone(),
            contact: self.contact.clone(),
            bio: self.bio.clone(),
            status: if self.status == "paused" {
                Status::Paused
            } else {
                Status::Active
            },
            recognition: self.recognition,
        }
    }
}

/// A language code for what was typed: the code itself, or the code of a language typed
/// by its English name or autonym ("Português", "Arabic").
fn language_code(typed: &str) -> String {
    static BY_NAME: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let typed = typed.trim();
    if exchange::languages::language(typed).is_some() {
        return typed.to_ascii_lowercase();
    }
    let by_name = BY_NAME.get_or_init(|| {
        let mut map = HashMap::new();
        for info in language_choices() {
            map.entry(fold(&info.name)).or_insert(info.code.as_str());
            map.entry(fold(&info.autonym)).or_insert(info.code.as_str());
        }
        map
    });
    by_name
        .get(&fold(typed))
        .map_or_else(|| typed.to_string(), |code| code.to_string())
}

/// The rows of a list: what was filled in, then empty rows (at least `min` in all, and
/// always one empty row to add another item without JavaScript).
fn rows(values: &[String], min: usize) -> Vec<String> {
    let mut out: Vec<String> = values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .collect();
    let wanted = min.max(out.len() + 1).min(MAX_ITEMS);
    while out.len() < wanted {
        out.push(String::new());
    }
    out
}

fn msg(lang: &str, key: &str, args: &[&str]) -> String {
    Catalog::global().message(lang, key, args)
}

/// Shortens user text quoted in an error message.
fn quote(text: &str) -> String {
    const MAX: usize = 60;
    let text = clean_text(text);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A problem as the page shows it: a message in the reader's language and the user text it
/// is about (shown isolated with `<bdi>`).
fn problem_view(problem: &Problem, lang: &str) -> (String, String) {
    match problem {
        Problem::TooManyItems { max, .. } => (
            msg(lang, "capx-builder-error-too-many", &[&max.to_string()]),
            String::new(),
        ),
        Problem::TooLong { text, max, .. } => (
            msg(lang, "capx-builder-error-too-long", &[&max.to_string()]),
            quote(text),
        ),
        Problem::UnknownLanguage { code } => {
            (msg(lang, "capx-builder-error-language", &[]), quote(code))
        }
        Problem::BadLevel { code, .. } => (msg(lang, "capx-builder-error-level", &[]), quote(code)),
        Problem::DuplicateLanguage { code } => (
            msg(lang, "capx-builder-error-duplicate-language", &[]),
            quote(code),
        ),
        Problem::UnknownCountry(text) => {
            (msg(lang, "capx-builder-error-country", &[]), quote(text))
        }
        Problem::UnknownTimezone(text) => {
            (msg(lang, "capx-builder-error-timezone", &[]), quote(text))
        }
        Problem::UnknownKeyword { value, .. } => {
            (msg(lang, "capx-builder-error-keyword", &[]), quote(value))
        }
        Problem::Markup { text, .. } => (msg(lang, "capx-builder-error-markup", &[]), quote(text)),
    }
}

/// The form field a parameter's problems point to (the error summary links there).
fn first_field(param: &str) -> String {
    match param {
        "offers" | "wants" | "knows" | "affiliations" => format!("{param}-1"),
        "languages" => "lang-code-1".to_string(),
        "formats" => format!("format-{}", KNOWN_FORMATS[0]),
        "contact" => format!("contact-{}", KNOWN_CONTACTS[0]),
        other => other.to_string(),
    }
}

/// The label of a parameter's field, for the error summary.
fn field_label(param: &str, lang: &str) -> String {
    let key = match param {
        "offers" => "capx-builder-offers-legend",
        "wants" => "capx-builder-wants-legend",
        "knows" => "capx-builder-knows-legend",
        "languages" => "capx-builder-languages-legend",
        "country" => "capx-profile-country",
        "timezone" => "capx-profile-timezone",
        "affiliations" => "capx-profile-affiliations",
        "projects" => "capx-profile-projects",
        "formats" => "capx-profile-formats",
        "contact" => "capx-builder-contact-legend",
        "availability" => "capx-profile-availability",
        "bio" => "capx-builder-bio",
        _ => "capx-builder-status-legend",
    };
    msg(lang, key, &[])
}

/// The link that opens the edit form of the reader's user page with `wikitext` added as a
/// new section (see the module documentation).
pub fn edit_url(wikitext: &str, section_title: &str) -> String {
    format!(
        "{WIKI}/w/index.php?title=Special:MyPage&action=edit&section=new&preload={}&preloadtitle={}&preloadparams%5B%5D={}",
        urlencode(&BUILDER_PRELOAD_PAGE.replace(' ', "_")),
        urlencode(section_title),
        urlencode(wikitext)
    )
}

/// The datalist of skills: every taxonomy label in the reader's language, sorted.
fn skill_labels(lang: &str) -> Vec<String> {
    let taxonomy = Taxonomy::bundled();
    let mut labels: Vec<String> = taxonomy
        .skills()
        .iter()
        .map(|s| taxonomy.label(s, lang).to_string())
        .collect();
    labels.sort_by_cached_key(|l| fold(l));
    labels.dedup();
    labels
}

/// `GET /create`: the form, and once filled in, the wikitext and the link to Meta-Wiki.
pub async fn builder(uri: Uri, headers: HeaderMap) -> Response {
    let raw = uri.query().unwrap_or("");
    if raw.len() > MAX_QUERY_BYTES {
        let uselang = raw.split('&').find_map(|p| p.strip_prefix("uselang="));
        return bad_request(language(uselang, &headers));
    }
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|q| q.0);
    let form = pairs.map_err(|_| Absurd).and_then(Form::read);
    let form = match form {
        Ok(form) => form,
        Err(Absurd) => {
            let uselang = raw.split('&').find_map(|p| p.strip_prefix("uselang="));
            return bad_request(language(uselang, &headers));
        }
    };
    let lang = language(form.uselang.as_deref(), &headers);
    let catalog_msg = |key: &str| msg(lang, key, &[]);

    let mut problems: Vec<Problem> = Vec::new();
    let mut wikitext = None;
    if form.submitted {
        let input = form.input();
        let long_bio = clean_text(&input.bio);
        if long_bio.chars().nth(MAX_BIO_CHARS).is_some() {
            problems.push(Problem::TooLong {
                param: "bio",
                text: long_bio,
                max: MAX_BIO_CHARS,
            });
        }
        match write(&input) {
            Ok(text) if problems.is_empty() => wikitext = Some(text),
            Ok(_) => {}
            Err(InvalidProfile(found)) => problems.extend(found),
        }
    }

    let mut errors: HashMap<&'static str, Vec<Value>> = HashMap::new();
    let mut summary: Vec<Value> = Vec::new();
    for problem in &problems {
        let (message, text) = problem_view(problem, lang);
        let param = problem.param();
        errors
            .entry(param)
            .or_default()
            .push(context! { message => message.clone(), text => text.clone() });
        summary.push(context! {
            field => field_label(param, lang),
            target => first_field(param),
            message => message,
            text => text,
        });
    }
    let group = |name: &'static str,
                 legend: &str,
                 help: &str,
                 label: &str,
                 values: &[String],
                 min: usize,
                 list: Option<&str>| {
        context! {
            name => name,
            legend => catalog_msg(legend),
            help => catalog_msg(help),
            label_key => label,
            rows => rows(values, min),
            errors => errors.get(name).cloned().unwrap_or_default(),
            list => list,
        }
    };
    let groups = vec![
        group(
            "offers",
            "capx-builder-offers-legend",
            "capx-builder-skills-help",
            "capx-builder-skill-number",
            &form.offers,
            SKILL_ROWS,
            Some("builder-skills"),
        ),
        group(
            "wants",
            "capx-builder-wants-legend",
            "capx-builder-skills-help",
            "capx-builder-skill-number",
            &form.wants,
            SKILL_ROWS,
            Some("builder-skills"),
        ),
        group(
            "knows",
            "capx-builder-knows-legend",
            "capx-builder-skills-help",
            "capx-builder-skill-number",
            &form.knows,
            KNOWS_ROWS,
            Some("builder-skills"),
        ),
    ];
    let affiliations = group(
        "affiliations",
        "capx-profile-affiliations",
        "capx-builder-affiliations-help",
        "capx-builder-affiliation-number",
        &form.affiliations,
        AFFILIATION_ROWS,
        None,
    );

    let filled_languages: Vec<(String, String)> = form
        .lang_codes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.trim().is_empty())
        .map(|(i, c)| {
            (
                language_code(c),
                form.lang_levels.get(i).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let wanted_rows = LANGUAGE_ROWS.max(filled_languages.len() + 1).min(MAX_ITEMS);
    let language_rows: Vec<Value> = (0..wanted_rows)
        .map(|i| {
            let (code, level) = filled_languages.get(i).cloned().unwrap_or_default();
            context! { code => code, level => level.trim().to_uppercase() }
        })
        .collect();
    let levels: Vec<Value> = ["N", "5", "4", "3", "2", "1", "0"]
        .iter()
        .map(|l| {
            context! {
                value => *l,
                label => catalog_msg(&format!("capx-builder-level-{}", l.to_lowercase())),
            }
        })
        .collect();
    let language_options: Vec<Value> = language_choices()
        .into_iter()
        .map(|l| {
            let label = if l.autonym == l.name {
                l.name.clone()
            } else {
                format!("{} – {}", l.autonym, l.name)
            };
            context! { code => l.code.clone(), label => label }
        })
        .collect();

    let country_code = exchange::geo::find_country(&form.country).map(|c| c.code.clone());
    let mut sorted: Vec<&exchange::geo::Country> = exchange::geo::all_countries().iter().collect();
    sorted.sort_by_cached_key(|c| fold(&c.name));
    let countries: Vec<Value> = sorted
        .into_iter()
        .map(|c| {
            context! {
                code => c.code.clone(),
                name => c.name.clone(),
                selected => country_code.as_deref() == Some(c.code.as_str()),
            }
        })
        .collect();

    let checked = |values: &[String], known: &[&str], prefix: &str, kind: &str| -> Vec<Value> {
        known
            .iter()
            .map(|k| {
                context! {
                    value => *k,
                    id => format!("{prefix}-{k}"),
                    label => catalog_msg(&format!("capx-builder-{kind}-{k}")),
                    checked => values.iter().any(|v| v == k),
                }
            })
            .collect()
    };
    let default_contact = ["talk".to_string()];
    let contact_values: &[String] = if form.submitted {
        &form.contact
    } else {
        &default_contact
    };

    let section_title = catalog_msg("capx-builder-section-title");
    let edit = wikitext.as_deref().map(|w| edit_url(w, &section_title));
    let long_url = edit.as_ref().is_some_and(|u| u.len() > LONG_URL);
    let extra = context! {
        submitted => form.submitted,
        summary => summary,
        errors => errors,
        groups => groups,
        affiliations => affiliations,
        language_rows => language_rows,
        levels => levels,
        language_options => language_options,
        skill_labels => skill_labels(lang),
        timezones => timezone_choices(),
        countries => countries,
        timezone => form.timezone.clone(),
        projects => form.projects.clone(),
        formats => checked(&form.formats, KNOWN_FORMATS, "format", "format"),
        contacts => checked(contact_values, KNOWN_CONTACTS, "contact", "contact"),
        availability => form.availability.clone(),
        bio => form.bio.clone(),
        paused => form.status == "paused",
        recognition => form.recognition,
        badge_min => exchange::connections::BADGE_MIN_THANKERS,
        item_max => MAX_ITEM_CHARS,
        availability_max => MAX_AVAILABILITY_CHARS,
        bio_max => MAX_BIO_CHARS,
        wikitext => wikitext,
        edit_url => edit,
        long_url => long_url,
        existing_url => format!("{WIKI}/w/index.php?title=Special:MyPage&action=edit"),
    };
    render(lang, "builder.html", extra, StatusCode::OK)
}

fn bad_request(lang: &'static str) -> Response {
    error_page(
        lang,
        StatusCode::BAD_REQUEST,
        "capx-builder-bad-request-heading",
        "capx-builder-bad-request",
    )
}
