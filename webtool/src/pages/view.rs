//! How a profile and a match reason look on a page, in the reader's language.
//!
//! The library's values are language-neutral (skill ids, language codes, region codes,
//! reason codes with machine arguments); this is where they become the reader's words:
//! taxonomy labels with English fallback, language autonyms, region names and messages.
//! Templates get plain values and stay free of lookups.

use chrono::{DateTime, Utc};
use exchange::connections::{Counts, SkillKey};
use exchange::geo::Region;
use exchange::languages;
use exchange::matching::{Match, Reason, ReasonCode};
use exchange::profile::{Level, Profile, SkillRef, Status};
use exchange::taxonomy::Taxonomy;
use exchange::timezone;
use minijinja::{Value, context};

use super::urlencode;
use crate::bidi;
use crate::i18n::Catalog;

fn msg(lang: &str, key: &str, args: &[&str]) -> String {
    Catalog::global().message(lang, key, args)
}

/// A taxonomy skill's label in `lang` (English fallback); free text as written.
pub fn skill_label(id: Option<&str>, fallback: &str, lang: &str) -> String {
    let taxonomy = Taxonomy::bundled();
    id.and_then(|id| taxonomy.get(id)).map_or_else(
        || fallback.to_string(),
        |s| taxonomy.label(s, lang).to_string(),
    )
}

/// The page of a taxonomy skill.
pub fn skill_href(id: &str, lang: &str) -> String {
    format!("/skill/{}?uselang={lang}", urlencode(id))
}

/// A skill as a chip: a link to its page when the taxonomy knows it.
pub fn skill_chip(skill: &SkillRef, lang: &str) -> Value {
    context! {
        label => skill_label(skill.id(), skill.display(), lang),
        href => skill.id().map(|id| skill_href(id, lang)),
    }
}

/// A skill thanks or requests were counted for: a taxonomy skill's label in the reader's
/// language with a link to its page, free text as first written, or a message saying no
/// skill was named.
pub fn counted_skill(counts: &Counts, key: &SkillKey, lang: &str) -> Value {
    let written = counts.skill_ref(key);
    match key {
        SkillKey::Known(id) => context! {
            label => skill_label(Some(id), written.map_or(id.as_str(), SkillRef::display), lang),
            href => skill_href(id, lang),
        },
        SkillKey::Free(folded) => context! {
            label => written.map_or(folded.as_str(), SkillRef::display).to_string(),
        },
        SkillKey::Unspecified => context! {
            label => msg(lang, "capx-recognition-no-skill", &[]),
            unnamed => true,
        },
    }
}

/// "native" or "level 3", as Babel boxes say it.
pub fn level_text(level: Level, lang: &str) -> String {
    if level.is_native() {
        msg(lang, "capx-level-native", &[])
    } else {
        msg(lang, "capx-level-number", &[&level.rank().to_string()])
    }
}

/// A language by its own name (its autonym), or its code when the table does not know it.
pub fn language_name(code: &str) -> String {
    languages::language(code).map_or_else(|| code.to_string(), |info| info.autonym.clone())
}

pub fn region_name(region: Region, lang: &str) -> String {
    msg(
        lang,
        &format!("capx-region-{}", region.code().to_lowercase()),
        &[],
    )
}

/// Everything a card or a profile page shows of a person.
pub fn profile(p: &Profile, lang: &str, now: DateTime<Utc>) -> Value {
    let chips = |skills: &[SkillRef]| -> Vec<Value> {
        skills.iter().map(|s| skill_chip(s, lang)).collect()
    };
    let languages: Vec<Value> = p
        .languages
        .iter()
        .map(|l| {
            context! {
                code => l.code.clone(),
                name => language_name(&l.code),
                level => level_text(l.level, lang),
            }
        })
        .collect();
    let local_time = p
        .timezone
        .as_deref()
        .and_then(|zone| timezone::local_time(zone, now))
        .map(|t| {
            context! {
                time => t.format("%H:%M").to_string(),
                iso => t.format("%Y-%m-%dT%H:%M%:z").to_string(),
                offset => format!("UTC{}", t.format("%:z")),
            }
        });
    let country = p
        .country
        .as_deref()
        .map(|code| exchange::geo::find_country(code).map_or(code.to_string(), |c| c.name.clone()));
    context! {
        user => p.user.clone(),
        hidden => bidi::invisible_code_points(&p.user),
        page => p.page.clone(),
        paused => p.status == Status::Paused,
        offers => chips(&p.offers),
        wants => chips(&p.wants),
        knows => chips(&p.knows),
        languages => languages,
        region => p.region.map(|r| region_name(r, lang)),
        country => country,
        timezone => p.timezone.clone(),
        local_time => local_time,
        updated => p.updated.map(|u| u.format("%Y-%m-%d").to_string()),
        updated_iso => p.updated.map(|u| u.to_rfc3339()),
        affiliations => p.affiliations.clone(),
        projects => p.projects.clone(),
        formats => p.formats.clone(),
        availability => p.availability.clone(),
        bio => p.bio.clone(),
    }
}

/// A match reason in the reader's language, from its code and machine arguments.
pub fn reason_text(reason: &Reason, lang: &str) -> String {
    let arg = |i: usize| reason.args.get(i).map(String::as_str).unwrap_or("");
    // Free text may hold bidirectional controls: kept inside its place in the sentence.
    let skill = |i: usize| bidi::isolate(&skill_label(Some(arg(i)), arg(i), lang)).into_owned();
    match reason.code {
        ReasonCode::OffersWhatYouWant => {
            msg(lang, "capx-reason-offers-what-you-want", &[&skill(0)])
        }
        ReasonCode::OffersPartOfWhatYouWant => msg(
            lang,
            "capx-reason-offers-part-of-what-you-want",
            &[&skill(0), &skill(1)],
        ),
        ReasonCode::OffersBroaderThanWhatYouWant => msg(
            lang,
            "capx-reason-offers-broader-than-what-you-want",
            &[&skill(0), &skill(1)],
        ),
        ReasonCode::WantsWhatYouOffer => {
            msg(lang, "capx-reason-wants-what-you-offer", &[&skill(0)])
        }
        ReasonCode::WantsBroaderThanWhatYouOffer => msg(
            lang,
            "capx-reason-wants-broader-than-what-you-offer",
            &[&skill(0), &skill(1)],
        ),
        ReasonCode::WantsPartOfWhatYouOffer => msg(
            lang,
            "capx-reason-wants-part-of-what-you-offer",
            &[&skill(0), &skill(1)],
        ),
        ReasonCode::SharedLanguage => {
            let level = |i: usize| {
                arg(i)
                    .parse::<Level>()
                    .map_or_else(|()| arg(i).to_string(), |l| level_text(l, lang))
            };
            msg(
                lang,
                "capx-reason-shared-language",
                &[&language_name(arg(0)), &level(1), &level(2)],
            )
        }
        ReasonCode::WakingHoursOverlap => {
            let hours = arg(0)
                .parse::<i32>()
                .map_or(0, |minutes| (minutes + 30) / 60);
            msg(lang, "capx-reason-waking-hours", &[&hours.to_string()])
        }
        ReasonCode::SameRegion => {
            let name = Region::from_code(arg(0))
                .map_or_else(|| arg(0).to_string(), |r| region_name(r, lang));
            msg(lang, "capx-reason-same-region", &[&name])
        }
        ReasonCode::ProfileUpdated => match arg(0).parse::<i64>() {
            Ok(days) if days <= 0 => msg(lang, "capx-reason-updated-today", &[]),
            Ok(days) => msg(lang, "capx-reason-updated-days", &[&days.to_string()]),
            Err(_) => reason.text.clone(),
        },
    }
}

/// One person on a match list: who, the skills involved, and why, in the reader's words.
pub fn match_entry(m: &Match, lang: &str) -> Value {
    let skills: Vec<Value> = m
        .skills
        .iter()
        .map(|s| {
            context! {
                label => skill_label(s.skill.id.as_deref(), &s.skill.label, lang),
                href => s.skill.id.as_deref().map(|id| skill_href(id, lang)),
            }
        })
        .collect();
    let reasons: Vec<String> = m.reasons.iter().map(|r| reason_text(r, lang)).collect();
    context! {
        user => m.user.clone(),
        hidden => bidi::invisible_code_points(&m.user),
        skills => skills,
        reasons => reasons,
    }
}
