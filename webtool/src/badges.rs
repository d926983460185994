//! Open Badges 2.0 for recognition, verified by hosting (`verification: hosted`).
//!
//! A person whom at least [`BADGE_MIN_THANKERS`] different Wikimedians thanked for a skill
//! (counted by `exchange::connections`, the same counts the profile page shows) can show it
//! elsewhere: a badge "backpack" imports the assertion by its URL, fetches the badge class
//! and the issuer from their URLs, and checks that the assertion is still served here. So
//! every document lives at a stable URL under [`PUBLIC_URL`] and names the others by their
//! absolute URLs:
//!
//! - `/badges/issuer.json`: the issuer profile (the tool itself);
//! - `/badges/{skill}.json`: the badge class of a taxonomy skill, whether or not anybody
//!   has earned it;
//! - `/badges/{skill}/image.svg`: its image;
//! - `/badges/{skill}/{User_name}.json`: the assertion, only while the person has a
//!   profile and enough thanks; otherwise a JSON 404, which is how hosted verification
//!   learns that a badge no longer holds.
//!
//! **Only taxonomy skills have badges.** A free-text skill has no stable identity (anyone
//! can type anything, and two spellings fold to one key only by chance), so it could not
//! have a badge class whose meaning stays the same at a stable URL; its thanks are shown
//! on the profile page and counted in the statistics all the same. Thanks that name no
//! skill give no badge either.
//!
//! The assertion is stable across snapshots: it is issued when the
//! [`BADGE_MIN_THANKERS`]-th different person thanked (the thankers' earliest times, see
//! `Counts::thankers`), not when it was first served. The recipient is the person's user
//! page URL, unhashed: it is public on the wiki anyway, and a hash would hide nothing.
//! Everything is in English: badge platforms show one language and have no way to ask for
//! the reader's.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use exchange::connections::{BADGE_MIN_THANKERS, Counted, SkillKey};
use exchange::taxonomy::{Skill, Taxonomy};
use exchange::wikitext::title::normalize_user_name;
use serde_json::{Value, json};
use tracing::error;

use crate::api;
use crate::charts::escape;
use crate::pages::{PUBLIC_URL, urlencode, wiki_url};
use crate::state::AppState;

/// The JSON-LD context of every Open Badges 2.0 document.
pub const CONTEXT: &str = "https://w3id.org/openbadges/v2";
/// The issuer's contact address, which the Open Badges validator requires of an issuer:
/// Toolforge forwards `<tool>.maintainers@toolforge.org` to every maintainer of the tool.
pub const ISSUER_EMAIL: &str = "capacity-exchange.maintainers@toolforge.org";
/// The name of the image in a skill's folder.
const IMAGE_FILE: &str = "image.svg";

/// The URL of the issuer profile.
pub fn issuer_url() -> String {
    format!("{PUBLIC_URL}/badges/issuer.json")
}

/// The URL of a taxonomy skill's badge class.
pub fn badge_class_url(skill_id: &str) -> String {
    format!("{PUBLIC_URL}/badges/{}.json", urlencode(skill_id))
}

/// The path of a skill's badge image on this site (pages use it relative).
pub fn image_path(skill_id: &str) -> String {
    format!("/badges/{}/{IMAGE_FILE}", urlencode(skill_id))
}

/// The path of `user`'s assertion for a skill on this site: the user name as in wiki
/// URLs (underscores for spaces), percent-encoded.
pub fn assertion_path(skill_id: &str, user: &str) -> String {
    format!(
        "/badges/{}/{}.json",
        urlencode(skill_id),
        urlencode(&user.replace(' ', "_"))
    )
}

/// The URL of `user`'s assertion for a skill: its `id`, which verifiers fetch.
pub fn assertion_url(skill_id: &str, user: &str) -> String {
    format!("{PUBLIC_URL}{}", assertion_path(skill_id, user))
}

/// The taxonomy skill whose badge someone thanked `thanked_by` different people for
/// `skill` has earned: `None` below the threshold, for free text and for no skill.
pub fn earned(skill: &SkillKey, thanked_by: usize) -> Option<&'static Skill> {
    match skill {
        SkillKey::Known(id) if thanked_by >= BADGE_MIN_THANKERS => Taxonomy::bundled().get(id),
        _ => None,
    }
}

fn english_label(skill: &Skill) -> &str {
    Taxonomy::bundled().label(skill, "en")
}

fn not_found(message: impl Into<String>) -> Response {
    api::error(StatusCode::NOT_FOUND, message)
}

/// A file name with its extension taken off, if it has that extension.
fn strip<'a>(file: &'a str, extension: &str) -> Option<&'a str> {
    file.strip_suffix(extension).filter(|stem| !stem.is_empty())
}

/// `GET /badges/issuer.json`: the issuer profile.
pub async fn issuer() -> Response {
    Json(json!({
        "@context": CONTEXT,
        "type": "Issuer",
        "id": issuer_url(),
        "name": "Capacity Exchange",
        "url": PUBLIC_URL,
        "email": ISSUER_EMAIL,
        "description": "A peer-learning directory of Wikimedians, built from the profiles they publish on their own Meta-Wiki user pages. Its badges recognise people whom several Wikimedians thanked, on their own user pages, for sharing a skill.",
    }))
    .into_response()
}

/// `GET /badges/{skill}.json`: the badge class of a taxonomy skill.
pub async fn badge_class(Path(file): Path<String>) -> Response {
    let Some(skill) = strip(&file, ".json").and_then(|id| Taxonomy::bundled().get(id)) else {
        return not_found("no such badge: badges exist for the skills of /api/v1/skills");
    };
    let label = english_label(skill);
    let n = BADGE_MIN_THANKERS;
    Json(json!({
        "@context": CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(&skill.id),
        "name": format!("{label}: thanked by peers"),
        "description": format!(
            "Awarded by the Capacity Exchange to a Wikimedian whom at least {n} different \
             Wikimedians thanked for sharing the skill \u{201c}{label}\u{201d} with them."
        ),
        "image": format!("{PUBLIC_URL}{}", image_path(&skill.id)),
        "criteria": {
            "id": format!("{PUBLIC_URL}/about#connections"),
            "narrative": format!(
                "Thanked for this skill by at least {n} different Wikimedians, each on their \
                 own user page on Meta-Wiki with the template {{{{Capacity Exchange thanks}}}}. \
                 A person's thanks count once per person and skill, however often they are \
                 written; thanking yourself counts for nothing, and so do thanks from an \
                 account created on the day of the thanks. The badge is issued on the day the \
                 number of different people reached {n}; it stops being verifiable when \
                 the thanks are removed or the person's profile is."
            ),
        },
        "issuer": issuer_url(),
        "tags": ["Capacity Exchange", "Wikimedia", "peer learning"],
        "alignment": [{
            "targetName": label,
            "targetUrl": format!("{PUBLIC_URL}/skill/{}", urlencode(&skill.id)),
            "targetFramework": "Capacity Exchange skill taxonomy",
            "targetCode": skill.id,
        }],
    }))
    .into_response()
}

/// `GET /badges/{skill}/{file}`: the image (`image.svg`) or an assertion (`User_name.json`).
pub async fn skill_file(
    State(state): State<Arc<AppState>>,
    Path((skill, file)): Path<(String, String)>,
) -> Response {
    let Some(skill) = Taxonomy::bundled().get(&skill) else {
        return not_found("no such badge: badges exist for the skills of /api/v1/skills");
    };
    if file == IMAGE_FILE {
        return image(skill);
    }
    match strip(&file, ".json") {
        Some(user) => assertion(state, skill, user).await,
        None => not_found("no such badge file"),
    }
}

/// The assertion of `user`'s badge for `skill`, or why there is none.
async fn assertion(state: Arc<AppState>, skill: &'static Skill, user: &str) -> Response {
    let Some(served) = state.served() else {
        return api::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "no snapshot has been published yet; run the indexer",
        );
    };
    let Some(name) = normalize_user_name(user) else {
        return not_found(format!("{user:?} is not a valid user name"));
    };
    let lookup = Arc::clone(&served);
    let lookup_name = name.clone();
    let profile = tokio::task::spawn_blocking(move || lookup.snapshot.profile(&lookup_name)).await;
    match profile {
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None)) => return not_found(format!("{name} has no Capacity Exchange profile")),
        Ok(Err(e)) => {
            error!("reading the profile of {name} for a badge: {e}");
            return api::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the snapshot could not be read",
            );
        }
        Err(e) => {
            error!("badge profile lookup task failed: {e}");
            return api::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    }
    let thankers = served
        .connections
        .thankers(&name, &SkillKey::Known(skill.id.clone()));
    let Some(issued) = thankers.get(BADGE_MIN_THANKERS - 1) else {
        return not_found(format!(
            "{name} has been thanked for this skill by {} different people; the badge needs {BADGE_MIN_THANKERS}",
            thankers.len()
        ));
    };
    let label = english_label(skill);
    let evidence: Vec<Value> = thankers.iter().map(|c| evidence(c, &name, label)).collect();
    Json(json!({
        "@context": CONTEXT,
        "type": "Assertion",
        "id": assertion_url(&skill.id, &name),
        "recipient": {
            "type": "url",
            "identity": wiki_url(&format!("User:{name}")),
            "hashed": false,
        },
        "badge": badge_class_url(&skill.id),
        "verification": { "type": "hosted" },
        "issuedOn": rfc3339(issued),
        "narrative": format!(
            "{name} was thanked for sharing the skill \u{201c}{label}\u{201d} by {} different \
             Wikimedians, each on their own user page on Meta-Wiki.",
            thankers.len()
        ),
        "evidence": evidence,
    }))
    .into_response()
}

/// One thanker as evidence: their user page, where the thanks is written.
fn evidence(thanks: &Counted, helper: &str, label: &str) -> Value {
    json!({
        "id": wiki_url(&format!("User:{}", thanks.learner)),
        "name": format!("Thanks from {}", thanks.learner),
        "narrative": format!(
            "{} thanked {helper} for \u{201c}{label}\u{201d} on their own user page ({}).",
            thanks.learner,
            thanks.when.format("%Y-%m-%d")
        ),
    })
}

fn rfc3339(thanks: &Counted) -> String {
    thanks
        .when
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Longest line of the skill's name on the image, in characters.
const IMAGE_LINE_CHARS: usize = 16;

/// A skill's name cut into at most two lines at spaces, the second shortened with an
/// ellipsis when the name is longer.
fn image_lines(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in label.split_whitespace() {
        let Some(line) = lines.last_mut() else { break };
        if line.is_empty() || line.chars().count() + 1 + word.chars().count() <= IMAGE_LINE_CHARS {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        } else {
            lines.push(word.to_string());
        }
    }
    let overflow = lines.len() > 2;
    lines.truncate(2);
    for (i, line) in lines.iter_mut().enumerate() {
        let last = i == 1;
        if line.chars().count() > IMAGE_LINE_CHARS || (last && overflow) {
            let kept: String = line.chars().take(IMAGE_LINE_CHARS - 1).collect();
            *line = format!("{}…", kept.trim_end());
        }
    }
    lines
}

/// `GET /badges/{skill}/image.svg`: a round badge with the skill's English name. Square,
/// as badge platforms want, and text only from the taxonomy, escaped all the same.
fn image(skill: &Skill) -> Response {
    let label = english_label(skill);
    let lines = image_lines(label);
    let first_y = if lines.len() > 1 { 124 } else { 140 };
    let mut names = String::new();
    for (i, line) in lines.iter().enumerate() {
        names.push_str(&format!(
            r#"<text x="128" y="{}" font-size="22" font-weight="bold">{}</text>"#,
            first_y + 28 * i,
            escape(line)
        ));
    }
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256" role="img" aria-labelledby="title"><title id="title">Capacity Exchange: {title}</title><circle cx="128" cy="128" r="124" fill="#36c"/><circle cx="128" cy="128" r="110" fill="none" stroke="#fff" stroke-width="4"/><g fill="#fff" font-family="sans-serif" text-anchor="middle"><text x="128" y="80" font-size="17">Capacity Exchange</text>{names}<text x="128" y="196" font-size="16">thanked by peers</text></g></svg>"##,
        title = escape(label),
    );
    (
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_into_two_short_lines() {
        assert_eq!(image_lines("Lua modules"), ["Lua modules"]);
        assert_eq!(
            image_lines("Grant writing and reporting"),
            ["Grant writing", "and reporting"]
        );
        assert_eq!(
            image_lines("Organising edit-a-thons for libraries and museums"),
            ["Organising", "edit-a-thons fo…"]
        );
        assert_eq!(
            image_lines("Supercalifragilisticexpialidocious"),
            ["Supercalifragil…"]
        );
        assert_eq!(image_lines(""), [""]);
    }

    #[test]
    fn only_taxonomy_skills_thanked_by_enough_people_earn_a_badge() {
        let lua = SkillKey::Known("lua-modules".into());
        assert!(earned(&lua, BADGE_MIN_THANKERS).is_some());
        assert!(earned(&lua, BADGE_MIN_THANKERS - 1).is_none());
        assert!(earned(&SkillKey::Known("no-such-skill".into()), 10).is_none());
        assert!(earned(&SkillKey::Free("bread baking".into()), 10).is_none());
        assert!(earned(&SkillKey::Unspecified, 10).is_none());
    }

    #[test]
    fn urls_use_wiki_style_user_names() {
        assert_eq!(
            assertion_url("lua-modules", "Bruno Díaz"),
            format!("{PUBLIC_URL}/badges/lua-modules/Bruno_D%C3%ADaz.json")
        );
        assert_eq!(strip("a.json", ".json"), Some("a"));
        assert_eq!(strip(".json", ".json"), None);
        assert_eq!(strip("image.svg", ".json"), None);
    }
}
