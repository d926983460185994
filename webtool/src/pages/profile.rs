//! One person's profile page: what they published, the recognition others gave them, who
//! they could learn from or help, and the ways to reach or thank them on the wiki.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use exchange::connections::{THANKS_PRELOAD_PAGE, parameter_value, request_marker};
use exchange::profile::SkillRef;
use exchange::template_writer::BUILDER_PRELOAD_PAGE;
use exchange::wikitext::title::normalize_user_name;
use minijinja::{Value, context};

use super::{
    Lang, WIKI, no_snapshot, not_found_page, render, server_error, urlencode, view, wiki_url,
};
use crate::i18n::Catalog;
use crate::state::{AppState, Served};
use crate::{badges, bidi};

/// How many peers the profile page suggests per list; the match page has the rest.
const PEERS: usize = 5;

/// `GET /profile/{user}`: everything the person published and ways to connect.
pub async fn profile(
    State(state): State<Arc<AppState>>,
    Path(user): Path<String>,
    Lang(lang): Lang,
) -> Response {
    let Some(served) = state.served() else {
        return no_snapshot(lang);
    };
    let Some(name) = normalize_user_name(&user) else {
        return not_found_page(lang);
    };
    let lookup_name = name.clone();
    let now = chrono::Utc::now();
    // Cheap (a binary search in the counts), so done here rather than after the lookup.
    let recognition = recognition(&served, &name, lang);
    let found = tokio::task::spawn_blocking(move || {
        let profile = served.snapshot.profile(&lookup_name)?;
        let email = served.snapshot.accepts_email(&lookup_name)?;
        let matches = served.matcher.matches(&lookup_name, now, PEERS);
        Ok::<_, exchange::store::StoreError>((profile, email, matches))
    })
    .await;
    let (profile, email, matches) = match found {
        Ok(Ok((Some(profile), email, matches))) => (profile, email, matches),
        Ok(Ok((None, _, _))) => return not_found_page(lang),
        _ => return server_error(lang),
    };
    let catalog = Catalog::global();
    let today = now.format("%Y-%m-%d").to_string();
    // Links that name one skill, for each skill the person offers.
    let per_skill: Vec<Value> = profile
        .offers
        .iter()
        .map(|skill| {
            let label = view::skill_label(skill.id(), skill.display(), lang);
            let isolated = bidi::isolate_always(&label);
            context! {
                ask => catalog.message(lang, "capx-profile-ask-skill", &[&isolated]),
                ask_url => talk_url(&name, lang, Some((skill, &label))),
                thank => catalog.message(lang, "capx-profile-thank-skill", &[&isolated]),
                thank_url => thanks_url(&name, lang, Some((skill, &label)), &today),
            }
        })
        .collect();
    let (learn_from, share_with) = matches.map_or_else(Default::default, |m| {
        let entries = |list: &[exchange::matching::Match]| -> Vec<minijinja::Value> {
            list.iter().map(|m| view::match_entry(m, lang)).collect()
        };
        (entries(&m.learn_from), entries(&m.share_with))
    });
    let lists = vec![
        context! { title => catalog.message(lang, "capx-profile-learn-from", &[&bidi::isolate(&name)]), entries => learn_from },
        context! { title => catalog.message(lang, "capx-profile-share-with", &[&bidi::isolate(&name)]), entries => share_with },
    ];
    let extra = context! {
        p => view::profile(&profile, lang, now),
        lists => lists,
        talk_url => talk_url(&name, lang, None),
        thanks_url => thanks_url(&name, lang, None, &today),
        per_skill => per_skill,
        recognition => recognition,
        badge_min => exchange::connections::BADGE_MIN_THANKERS,
        email_url => email.then(|| wiki_url(&format!("Special:EmailUser/{name}"))),
        page_url => wiki_url(&profile.page),
        edit_url => format!("{}?action=edit", wiki_url(&profile.page)),
    };
    render(lang, "profile.html", extra, StatusCode::OK)
}

/// The person's recognition per skill, most thanked first: who thanked them and asked them
/// (as counted by `exchange::connections`), and the link to their Open Badge when earned.
fn recognition(served: &Served, name: &str, lang: &str) -> Vec<Value> {
    let catalog = Catalog::global();
    let counts = &served.connections;
    counts
        .person(name)
        .iter()
        .map(|c| {
            let badge = badges::earned(&c.skill, c.thanked_by).map(|skill| {
                context! {
                    href => badges::assertion_path(&skill.id, name),
                    image => badges::image_path(&skill.id),
                }
            });
            context! {
                skill => view::counted_skill(counts, &c.skill, lang),
                thanked => (c.thanked_by > 0).then(|| {
                    catalog.message(lang, "capx-recognition-thanked-by", &[&c.thanked_by.to_string()])
                }),
                asked => (c.asked_by > 0).then(|| {
                    catalog.message(lang, "capx-recognition-asked-by", &[&c.asked_by.to_string()])
                }),
                badge => badge,
            }
        })
        .collect()
}

/// The "ask on their talk page" links: a new section of the person's talk page with a
/// subject and a message in the reader's language, which start with the request marker
/// (`{{Capacity Exchange request|skill=…}}`) so that the request leaves a trace the crawler
/// can count (see `exchange::connections`). The text comes through the profile builder's
/// preload page, whose only text is `$1`. The general link's marker names no skill: the
/// page cannot know which of the person's skills the reader is after, and a wrong skill
/// would count a request where none was made (the reader can fill it in before saving);
/// each offered skill has its own link, `skill` (with its label in the reader's language),
/// whose marker names it by taxonomy id or as written. The message ends with the signature,
/// so the requester is also visible to the person asked.
fn talk_url(name: &str, lang: &str, skill: Option<(&SkillRef, &str)>) -> String {
    let catalog = Catalog::global();
    let subject = match skill {
        Some((_, label)) => {
            catalog.message(lang, "capx-talk-subject-skill", &[&parameter_value(label)])
        }
        None => catalog.message(lang, "capx-talk-subject", &[]),
    };
    let message = catalog.message(lang, "capx-request-message", &[]);
    let marker = request_marker(skill.map_or("", |(s, _)| marker_name(s)));
    let text = format!("{marker}\n{message} ~~~~");
    format!(
        "{WIKI}/w/index.php?title={}&action=edit&section=new&preloadtitle={}&preload={}&preloadparams%5B%5D={}",
        urlencode(&format!("User_talk:{}", name.replace(' ', "_"))),
        urlencode(&subject),
        urlencode(&BUILDER_PRELOAD_PAGE.replace(' ', "_")),
        urlencode(&text)
    )
}

/// The "thank this person" links: a new section of the reader's *own* user page (thanks
/// count only there, see `exchange::connections`), opened through `Special:MyPage`, which
/// keeps these parameters when it redirects. The section's text is the thanks preload,
/// `{{Capacity Exchange thanks|user=$1|skill=$2|date=$3|note=}}`, filled with the person,
/// the skill (empty for the general link: the reader may name it) and today's date (UTC,
/// as the wiki's revision times are); its subject is in the reader's language.
fn thanks_url(name: &str, lang: &str, skill: Option<(&SkillRef, &str)>, today: &str) -> String {
    let catalog = Catalog::global();
    let subject = match skill {
        Some((_, label)) => catalog.message(
            lang,
            "capx-thanks-subject-skill",
            &[name, &parameter_value(label)],
        ),
        None => catalog.message(lang, "capx-thanks-subject", &[name]),
    };
    let skill = skill.map_or(String::new(), |(s, _)| parameter_value(marker_name(s)));
    format!(
        "{WIKI}/w/index.php?title=Special:MyPage&action=edit&section=new&preloadtitle={}&preload={}&preloadparams%5B%5D={}&preloadparams%5B%5D={}&preloadparams%5B%5D={}",
        urlencode(&subject),
        urlencode(&THANKS_PRELOAD_PAGE.replace(' ', "_")),
        urlencode(&parameter_value(name)),
        urlencode(&skill),
        urlencode(today)
    )
}

/// How the templates name a skill: a taxonomy skill by its id (read back whatever the
/// wiki's language), free text as written.
fn marker_name(skill: &SkillRef) -> &str {
    skill.id().unwrap_or(skill.display())
}
