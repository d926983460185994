//! The matching rules, one small test per rule. Profiles are built by hand with real ids
//! of the bundled taxonomy: technology > bots > pywikibot, technology > lua-modules,
//! technology > templates, technology > data-analysis > sql-quarry.

use chrono::{Duration, TimeZone};

use super::*;
use crate::parse::babel_item;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0).unwrap()
}

fn summer() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 15, 12, 0, 0).unwrap()
}

/// A taxonomy id becomes a known skill, anything else free text.
fn skill(item: &str) -> SkillRef {
    match Taxonomy::bundled().get(item) {
        Some(s) => SkillRef::Known {
            id: s.id.clone(),
            label: Taxonomy::bundled().label(s, "en").to_string(),
        },
        None => SkillRef::Free {
            text: item.to_string(),
        },
    }
}

/// Someone who speaks English at level 4 and nothing else is set.
fn person(user: &str) -> Profile {
    Profile::empty(user, &format!("User:{user}")).speaks(&["en-4"])
}

trait Build {
    fn offers(self, items: &[&str]) -> Self;
    fn wants(self, items: &[&str]) -> Self;
    fn knows(self, items: &[&str]) -> Self;
    fn speaks(self, babel: &[&str]) -> Self;
    fn tz(self, zone: &str) -> Self;
    fn region(self, region: Region) -> Self;
    fn updated_days_ago(self, days: i64) -> Self;
    fn paused(self) -> Self;
}

impl Build for Profile {
    fn offers(mut self, items: &[&str]) -> Self {
        self.offers = items.iter().map(|i| skill(i)).collect();
        self
    }
    fn wants(mut self, items: &[&str]) -> Self {
        self.wants = items.iter().map(|i| skill(i)).collect();
        self
    }
    fn knows(mut self, items: &[&str]) -> Self {
        self.knows = items.iter().map(|i| skill(i)).collect();
        self
    }
    fn speaks(mut self, babel: &[&str]) -> Self {
        self.languages = babel.iter().map(|b| babel_item(b).unwrap()).collect();
        self
    }
    fn tz(mut self, zone: &str) -> Self {
        self.timezone = Some(zone.to_string());
        self
    }
    fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }
    fn updated_days_ago(mut self, days: i64) -> Self {
        self.updated = Some(now() - Duration::days(days));
        self
    }
    fn paused(mut self) -> Self {
        self.status = Status::Paused;
        self
    }
}

fn run(profiles: &[Profile], user: &str) -> Matches {
    run_at(profiles, user, now())
}

fn run_at(profiles: &[Profile], user: &str, at: DateTime<Utc>) -> Matches {
    Matcher::new(profiles, Taxonomy::bundled())
        .matches(user, at, DEFAULT_LIMIT)
        .expect("the user has a profile")
}

fn users(list: &[Match]) -> Vec<&str> {
    list.iter().map(|m| m.user.as_str()).collect()
}

fn entry<'a>(list: &'a [Match], user: &str) -> &'a Match {
    list.iter()
        .find(|m| m.user == user)
        .unwrap_or_else(|| panic!("{user} is not on the list: {:?}", users(list)))
}

fn codes(m: &Match) -> Vec<ReasonCode> {
    m.reasons.iter().map(|r| r.code).collect()
}

// Hierarchy

#[test]
fn wanting_a_skill_is_met_fully_by_offering_it() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]),
            person("A").offers(&["lua-modules"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["A"]);
    let a = &found.learn_from[0];
    assert_eq!(a.skills.len(), 1);
    assert_eq!(a.skills[0].skill.id.as_deref(), Some("lua-modules"));
    assert_eq!(a.skills[0].fit, Fit::Full);
    assert_eq!(a.skills[0].direction, Direction::Learn);
    assert_eq!(a.reasons[0].code, ReasonCode::OffersWhatYouWant);
    assert_eq!(
        a.reasons[0].text,
        "offers Lua modules, which you want to learn"
    );
}

#[test]
fn wanting_a_skill_is_met_fully_by_offering_a_sub_skill() {
    let found = run(
        &[
            person("P").wants(&["bots"]),
            person("A").offers(&["pywikibot"]),
        ],
        "P",
    );
    let a = entry(&found.learn_from, "A");
    assert_eq!(a.skills[0].fit, Fit::Full);
    assert_eq!(a.skills[0].yours.id.as_deref(), Some("bots"));
    assert_eq!(a.reasons[0].code, ReasonCode::OffersPartOfWhatYouWant);
    assert_eq!(a.reasons[0].args, ["pywikibot", "bots"]);
}

#[test]
fn full_fit_reaches_every_level_of_the_subtree() {
    let found = run(
        &[
            person("P").wants(&["technology"]),
            person("A").offers(&["pywikibot"]),
        ],
        "P",
    );
    assert_eq!(entry(&found.learn_from, "A").skills[0].fit, Fit::Full);
}

#[test]
fn wanting_a_skill_is_met_partly_by_offering_its_parent() {
    let found = run(
        &[
            person("P").wants(&["pywikibot"]),
            person("A").offers(&["bots"]),
        ],
        "P",
    );
    let a = entry(&found.learn_from, "A");
    assert_eq!(a.skills[0].fit, Fit::Partial);
    assert_eq!(a.reasons[0].code, ReasonCode::OffersBroaderThanWhatYouWant);
    assert_eq!(
        a.reasons[0].text,
        "offers Bots, broader than Pywikibot, which you want to learn"
    );
}

#[test]
fn a_grandparent_is_too_broad_to_match() {
    let found = run(
        &[
            person("P").wants(&["pywikibot"]),
            person("A").offers(&["technology"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
}

#[test]
fn no_match_without_a_shared_skill() {
    // Siblings under the same parent are different skills.
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).offers(&["templates"]),
            person("A").offers(&["templates"]).wants(&["bots"]),
        ],
        "P",
    );
    assert_eq!(found, Matches::default());
}

#[test]
fn a_full_fit_scores_higher_than_a_partial_fit() {
    let found = run(
        &[
            person("P").wants(&["pywikibot"]),
            person("Aaron").offers(&["bots"]),
            person("Zed").offers(&["pywikibot"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Aaron"]);
    assert!(found.learn_from[0].score > found.learn_from[1].score);
}

#[test]
fn known_skills_are_not_on_offer() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]),
            person("A").knows(&["lua-modules"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
}

#[test]
fn several_sub_skills_of_one_wish_count_once() {
    let found = run(
        &[
            person("P").wants(&["technology"]),
            person("A").offers(&["lua-modules", "templates", "bots"]),
            person("B").offers(&["lua-modules"]),
        ],
        "P",
    );
    let (a, b) = (entry(&found.learn_from, "A"), entry(&found.learn_from, "B"));
    assert_eq!(a.score, b.score);
    assert_eq!(a.skills.len(), 3, "every matching skill is still shown");
}

#[test]
fn meeting_two_wishes_beats_meeting_one() {
    let found = run(
        &[
            person("P").wants(&["lua-modules", "templates"]),
            person("Aaron").offers(&["lua-modules"]),
            person("Zed").offers(&["lua-modules", "templates"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Aaron"]);
}

#[test]
fn share_with_lists_people_who_want_what_you_offer() {
    let found = run(
        &[
            person("P").offers(&["lua-modules"]),
            person("A").wants(&["lua-modules"]),
            person("B").offers(&["lua-modules"]),
        ],
        "P",
    );
    assert_eq!(users(&found.share_with), ["A"]);
    assert!(found.learn_from.is_empty());
    let a = &found.share_with[0];
    assert_eq!(a.skills[0].direction, Direction::Share);
    assert_eq!(a.reasons[0].code, ReasonCode::WantsWhatYouOffer);
    assert_eq!(
        a.reasons[0].text,
        "wants to learn Lua modules, which you offer"
    );
}

#[test]
fn share_with_is_hierarchy_aware_too() {
    let found = run(
        &[
            person("P").offers(&["bots"]),
            person("Broad").wants(&["technology"]),
            person("Narrow").wants(&["pywikibot"]),
            person("Same").wants(&["bots"]),
            person("Sibling").wants(&["lua-modules"]),
        ],
        "P",
    );
    assert_eq!(users(&found.share_with), ["Broad", "Same", "Narrow"]);
    let broad = entry(&found.share_with, "Broad");
    assert_eq!(broad.skills[0].fit, Fit::Full);
    assert_eq!(
        broad.reasons[0].code,
        ReasonCode::WantsBroaderThanWhatYouOffer
    );
    let narrow = entry(&found.share_with, "Narrow");
    assert_eq!(narrow.skills[0].fit, Fit::Partial);
    assert_eq!(narrow.reasons[0].code, ReasonCode::WantsPartOfWhatYouOffer);
    assert_eq!(
        broad.reasons[0].text,
        "wants to learn Technology, of which you offer Bots"
    );
    assert_eq!(
        narrow.reasons[0].text,
        "wants to learn Pywikibot, part of Bots, which you offer"
    );
    assert!(narrow.score < broad.score);
}

// Exchange

#[test]
fn exchange_needs_both_directions() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).offers(&["sql-quarry"]),
            person("Both")
                .offers(&["lua-modules"])
                .wants(&["sql-quarry"]),
            person("Teacher").offers(&["lua-modules"]),
            person("Learner").wants(&["sql-quarry"]),
        ],
        "P",
    );
    assert_eq!(users(&found.exchange), ["Both"]);
    assert_eq!(users(&found.learn_from), ["Both", "Teacher"]);
    assert_eq!(users(&found.share_with), ["Both", "Learner"]);
}

#[test]
fn an_exchange_entry_shows_both_directions_and_adds_them_up() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).offers(&["sql-quarry"]),
            person("Both")
                .offers(&["lua-modules"])
                .wants(&["sql-quarry"]),
        ],
        "P",
    );
    let both = &found.exchange[0];
    let directions: Vec<Direction> = both.skills.iter().map(|s| s.direction).collect();
    assert_eq!(directions, [Direction::Learn, Direction::Share]);
    assert_eq!(
        &codes(both)[..2],
        [ReasonCode::OffersWhatYouWant, ReasonCode::WantsWhatYouOffer]
    );
    let one_way = found.learn_from[0].score;
    assert!((both.score - 2.0 * one_way).abs() < 1e-5);
}

// Language

#[test]
fn no_shared_language_no_match() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).speaks(&["en-N"]),
            person("A").offers(&["lua-modules"]).speaks(&["pt-N"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
}

#[test]
fn level_1_is_not_enough_on_either_side() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .speaks(&["en-N", "fr-1"]),
            person("A").offers(&["lua-modules"]).speaks(&["en-1"]),
            person("B").offers(&["lua-modules"]).speaks(&["fr-N"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
}

#[test]
fn level_2_is_enough() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).speaks(&["en-2"]),
            person("A").offers(&["lua-modules"]).speaks(&["en-2"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["A"]);
}

#[test]
fn native_and_4_beats_2_and_2() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .speaks(&["en-N", "fr-2"]),
            person("Aaron").offers(&["lua-modules"]).speaks(&["fr-2"]),
            person("Zed").offers(&["lua-modules"]).speaks(&["en-4"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Aaron"]);
    let zed = &found.learn_from[0];
    assert_eq!(
        zed.languages[0].levels,
        [Level::NATIVE, Level::new(4).unwrap()]
    );
    assert_eq!(zed.reasons[1].text, "you both speak English (native / 4)");
}

#[test]
fn a_regional_variant_shares_its_base_language() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).speaks(&["pt-br-N"]),
            person("A").offers(&["lua-modules"]).speaks(&["pt-4"]),
        ],
        "P",
    );
    let a = entry(&found.learn_from, "A");
    assert_eq!(a.languages.len(), 1);
    assert_eq!(a.languages[0].code, "pt-br");
    assert_eq!(a.languages[0].their_code.as_deref(), Some("pt"));
    let reason = a
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::SharedLanguage)
        .unwrap();
    assert_eq!(reason.text, "you both speak Portuguese (native / 4)");
    assert_eq!(reason.args, ["pt-br", "N", "4"]);
}

#[test]
fn the_best_shared_language_is_listed_first() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .speaks(&["en-2", "es-N", "de-3"]),
            person("A")
                .offers(&["lua-modules"])
                .speaks(&["en-N", "es-N", "de-3"]),
        ],
        "P",
    );
    let a = entry(&found.learn_from, "A");
    let langs: Vec<&str> = a.languages.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(langs, ["es", "de", "en"]);
}

#[test]
fn a_person_without_a_usable_language_gets_empty_lists() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).speaks(&["en-1"]),
            person("A").offers(&["lua-modules"]).speaks(&["en-1"]),
        ],
        "P",
    );
    assert_eq!(found, Matches::default());
}

// Time zones, region, recency

#[test]
fn overlapping_waking_hours_raise_the_rank() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).tz("America/Sao_Paulo"),
            person("Aaron").offers(&["lua-modules"]).tz("Asia/Tokyo"),
            person("Zed").offers(&["lua-modules"]).tz("America/Recife"),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Aaron"]);
    let zed = &found.learn_from[0];
    assert!(
        zed.reasons
            .iter()
            .any(|r| r.text == "all 14 of your waking hours overlap (08:00–22:00 local time)")
    );
    let aaron = &found.learn_from[1];
    let overlap = aaron
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::WakingHoursOverlap)
        .unwrap();
    // São Paulo (UTC−3) and Tokyo (UTC+9) are 12 hours apart: the least possible overlap.
    assert_eq!(overlap.args, ["240"]);
    assert_eq!(
        overlap.text,
        "4 of your waking hours overlap (08:00–22:00 local time)"
    );
}

#[test]
fn utc_offsets_and_iana_names_compare() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).tz("UTC+05:30"),
            person("A").offers(&["lua-modules"]).tz("Asia/Kolkata"),
            person("B").offers(&["lua-modules"]).tz("UTC"),
        ],
        "P",
    );
    let overlap = |user| {
        entry(&found.learn_from, user)
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::WakingHoursOverlap)
            .map(|r| r.args[0].clone())
    };
    assert_eq!(overlap("A").as_deref(), Some("840"));
    assert_eq!(overlap("B").as_deref(), Some("510"));
    assert_eq!(users(&found.learn_from), ["A", "B"]);
}

#[test]
fn offsets_are_taken_at_the_reference_instant() {
    let profiles = [
        person("P").wants(&["lua-modules"]).tz("Europe/London"),
        person("A").offers(&["lua-modules"]).tz("UTC"),
    ];
    let overlap = |at| {
        run_at(&profiles, "P", at).learn_from[0]
            .reasons
            .iter()
            .find(|r| r.code == ReasonCode::WakingHoursOverlap)
            .map(|r| r.args[0].clone())
            .unwrap()
    };
    assert_eq!(overlap(now()), "840", "GMT in winter");
    assert_eq!(overlap(summer()), "780", "BST in summer");
}

#[test]
fn a_missing_time_zone_is_neutral() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).tz("Europe/Berlin"),
            person("Far")
                .offers(&["lua-modules"])
                .tz("Pacific/Auckland"),
            person("Near").offers(&["lua-modules"]).tz("Europe/Paris"),
            person("Unknown").offers(&["lua-modules"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Near", "Unknown", "Far"]);
    assert!(!codes(entry(&found.learn_from, "Unknown")).contains(&ReasonCode::WakingHoursOverlap));
}

#[test]
fn the_same_region_raises_the_rank() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .region(Region::LatinAmericaCaribbean),
            person("Aaron")
                .offers(&["lua-modules"])
                .region(Region::SouthAsia),
            person("Nobody").offers(&["lua-modules"]),
            person("Zed")
                .offers(&["lua-modules"])
                .region(Region::LatinAmericaCaribbean),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Aaron", "Nobody"]);
    let zed = &found.learn_from[0];
    let reason = zed
        .reasons
        .iter()
        .find(|r| r.code == ReasonCode::SameRegion)
        .unwrap();
    assert_eq!(reason.text, "same region (Latin America and the Caribbean)");
    assert_eq!(reason.args, ["LAC"]);
    // A different region does not lower the score: it is simply not a reason.
    assert_eq!(found.learn_from[1].score, found.learn_from[2].score);
}

#[test]
fn a_recent_profile_ranks_higher() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]),
            person("Aaron")
                .offers(&["lua-modules"])
                .updated_days_ago(600),
            person("Unknown").offers(&["lua-modules"]),
            person("Zed").offers(&["lua-modules"]).updated_days_ago(14),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Zed", "Unknown", "Aaron"]);
    assert!(
        found.learn_from[0]
            .reasons
            .iter()
            .any(|r| r.text == "profile updated 2 weeks ago")
    );
}

#[test]
fn age_reads_like_speech() {
    assert_eq!(explain::age_text(0), "today");
    assert_eq!(explain::age_text(1), "yesterday");
    assert_eq!(explain::age_text(5), "5 days ago");
    assert_eq!(explain::age_text(14), "2 weeks ago");
    assert_eq!(explain::age_text(59), "8 weeks ago");
    assert_eq!(explain::age_text(90), "3 months ago");
    assert_eq!(explain::age_text(365), "12 months ago");
    assert_eq!(explain::age_text(800), "2 years ago");
}

#[test]
fn waking_overlap_on_a_24_hour_circle() {
    assert_eq!(waking_overlap(0, 0), 840);
    assert_eq!(waking_overlap(0, 60), 780);
    assert_eq!(waking_overlap(60, 0), 780);
    assert_eq!(waking_overlap(330, 0), 510);
    assert_eq!(waking_overlap(-180, 540), 240);
    // 25 hours apart one way is 1 hour apart the other way.
    assert_eq!(waking_overlap(-660, 840), 780);
}

// Pause

#[test]
fn paused_people_are_never_candidates() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).offers(&["bots"]),
            person("A")
                .offers(&["lua-modules"])
                .wants(&["bots"])
                .paused(),
        ],
        "P",
    );
    assert_eq!(found, Matches::default());
}

#[test]
fn a_paused_person_still_sees_their_own_lists() {
    let found = run(
        &[
            person("P").wants(&["lua-modules"]).paused(),
            person("A").offers(&["lua-modules"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["A"]);
}

// Free text

#[test]
fn free_text_matches_the_same_folded_text() {
    let found = run(
        &[
            person("P").wants(&["Basket weaving"]),
            person("A").offers(&["basket-WEAVING!"]),
            person("B").offers(&["Basket"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["A"]);
    let a = &found.learn_from[0];
    assert_eq!(a.skills[0].fit, Fit::Full);
    assert!(a.skills[0].skill.id.is_none());
    assert!(a.skills[0].skill.text.is_some());
}

#[test]
fn free_text_never_matches_a_taxonomy_skill() {
    let found = run(
        &[
            person("P").wants(&["Lua coding dojo"]),
            person("A").offers(&["lua-modules"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
}

// API behaviour

#[test]
fn a_person_with_no_profile_gets_none() {
    let matcher = Matcher::new(&[person("P")], Taxonomy::bundled());
    assert!(matcher.matches("Nobody", now(), 20).is_none());
    assert!(!matcher.contains("Nobody"));
}

#[test]
fn user_names_are_normalised_like_mediawiki() {
    let matcher = Matcher::new(&[person("Ana maria")], Taxonomy::bundled());
    assert!(matcher.matches("ana_maria", now(), 20).is_some());
}

#[test]
fn empty_wants_give_an_empty_learn_from() {
    let found = run(
        &[
            person("P").offers(&["lua-modules"]),
            person("A").offers(&["lua-modules", "bots"]),
        ],
        "P",
    );
    assert!(found.learn_from.is_empty());
    assert!(found.exchange.is_empty());
}

#[test]
fn nobody_matches_themselves() {
    let found = run(
        &[person("P").wants(&["lua-modules"]).offers(&["lua-modules"])],
        "P",
    );
    assert_eq!(found, Matches::default());
}

#[test]
fn the_limit_applies_to_each_list() {
    let mut profiles = vec![person("P").wants(&["lua-modules"]).offers(&["bots"])];
    for i in 0..30 {
        profiles.push(
            person(&format!("U{i:02}"))
                .offers(&["lua-modules"])
                .wants(&["bots"]),
        );
    }
    let matcher = Matcher::new(&profiles, Taxonomy::bundled());
    let found = matcher.matches("P", now(), 7).unwrap();
    assert_eq!(found.learn_from.len(), 7);
    assert_eq!(found.share_with.len(), 7);
    assert_eq!(found.exchange.len(), 7);
    assert_eq!(
        users(&found.learn_from),
        ["U00", "U01", "U02", "U03", "U04", "U05", "U06"]
    );
    assert_eq!(matcher.matches("P", now(), 0).unwrap(), Matches::default());
    assert_eq!(
        matcher
            .matches("P", now(), DEFAULT_LIMIT)
            .unwrap()
            .learn_from
            .len(),
        DEFAULT_LIMIT
    );
}

#[test]
fn ties_go_to_the_more_recent_profile_then_the_user_name() {
    // Past two years, age no longer changes the score, only the tie-break.
    let found = run(
        &[
            person("P").wants(&["lua-modules"]),
            person("Bea").offers(&["lua-modules"]).updated_days_ago(900),
            person("Cid").offers(&["lua-modules"]).updated_days_ago(800),
            person("Ada").offers(&["lua-modules"]).updated_days_ago(900),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["Cid", "Ada", "Bea"]);
    assert!(
        found
            .learn_from
            .windows(2)
            .all(|w| w[0].score == w[1].score)
    );
}

#[test]
fn answers_do_not_depend_on_the_order_of_profiles() {
    let mut profiles = vec![
        person("P")
            .wants(&["technology", "Basket weaving"])
            .offers(&["bots", "sql-quarry"])
            .speaks(&["en-N", "pt-3"])
            .tz("America/Sao_Paulo"),
    ];
    let zones = [
        "Europe/Lisbon",
        "Asia/Tokyo",
        "UTC-03:00",
        "America/New_York",
    ];
    let skills = [
        "lua-modules",
        "pywikibot",
        "bots",
        "data-analysis",
        "basket weaving",
    ];
    for i in 0..40 {
        profiles.push(
            person(&format!("U{i}"))
                .offers(&[skills[i % 5], skills[(i / 5) % 5]])
                .wants(&[skills[(i + 2) % 5], "technology"])
                .speaks(&[["en-2", "pt-N", "en-N", "pt-br-4"][i % 4]])
                .tz(zones[i % 4])
                .updated_days_ago((i % 3) as i64 * 100),
        );
    }
    let first = serde_json::to_string(&run(&profiles, "P")).unwrap();
    profiles.reverse();
    let second = serde_json::to_string(&run(&profiles, "P")).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        serde_json::to_string(&run(&profiles, "P")).unwrap(),
        second,
        "and a second query gives the same answer"
    );
}

#[test]
fn the_json_shape_is_what_the_api_serves() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .offers(&["Basket weaving"])
                .speaks(&["pt-N"])
                .region(Region::LatinAmericaCaribbean)
                .tz("America/Sao_Paulo"),
            person("A")
                .offers(&["lua-modules"])
                .wants(&["basket weaving"])
                .speaks(&["pt-4"])
                .region(Region::LatinAmericaCaribbean)
                .tz("America/Sao_Paulo")
                .updated_days_ago(14),
        ],
        "P",
    );
    let json = serde_json::to_value(&found).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["learn_from", "share_with", "exchange"]);
    let a = &json["exchange"][0];
    assert_eq!(a["user"], "A");
    assert_eq!(
        a["skills"][0],
        serde_json::json!({
            "id": "lua-modules", "label": "Lua modules", "fit": "full", "direction": "learn",
            "yours": {"id": "lua-modules", "label": "Lua modules"}
        })
    );
    // Free text is shown in each person's own words.
    assert_eq!(
        a["skills"][1],
        serde_json::json!({
            "text": "basket weaving", "label": "basket weaving", "fit": "full", "direction": "share",
            "yours": {"text": "Basket weaving", "label": "Basket weaving"}
        })
    );
    assert_eq!(
        a["languages"],
        serde_json::json!([{"code": "pt", "levels": ["N", "4"]}])
    );
    assert!(a["score"].as_f64().unwrap() > 0.0);
    let texts: Vec<&str> = a["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "offers Lua modules, which you want to learn",
            "wants to learn basket weaving, which you offer",
            "you both speak Portuguese (native / 4)",
            "all 14 of your waking hours overlap (08:00–22:00 local time)",
            "same region (Latin America and the Caribbean)",
            "profile updated 2 weeks ago",
        ]
    );
    assert_eq!(a["reasons"][0]["code"], "offers_what_you_want");
    assert_eq!(a["reasons"][0]["args"], serde_json::json!(["lua-modules"]));
}

#[test]
fn the_matcher_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Matcher>();
}

// The indexes and the pruning against the rules written out naively.

/// The rules of the module documentation, applied pair by pair to the profiles themselves.
fn reference(
    profiles: &[Profile],
    user: &str,
    at: DateTime<Utc>,
    limit: usize,
) -> [Vec<(String, f64)>; 3] {
    let taxonomy = Taxonomy::bundled();
    let key = |s: &SkillRef| match s {
        SkillRef::Known { id, .. } => format!("id:{id}"),
        SkillRef::Free { text } => format!("text:{}", fold(text)),
    };
    // How `offer` meets `want`.
    let fit = |offer: &SkillRef, want: &SkillRef| -> Option<Fit> {
        match (offer.id(), want.id()) {
            (Some(o), Some(w)) => {
                if taxonomy.subtree(w).iter().any(|s| s.id == o) {
                    Some(Fit::Full)
                } else if taxonomy.get(w).and_then(|s| s.parent.as_deref()) == Some(o) {
                    Some(Fit::Partial)
                } else {
                    None
                }
            }
            (None, None) => (key(offer) == key(want)).then_some(Fit::Full),
            _ => None,
        }
    };
    // Each wish counts once, however often it is written (as the parser also ensures).
    let points = |offers: &[SkillRef], wants: &[SkillRef]| -> f64 {
        let mut seen = std::collections::HashSet::new();
        wants
            .iter()
            .filter(|w| seen.insert(key(w)))
            .filter_map(|w| offers.iter().filter_map(|o| fit(o, w)).max())
            .map(|f| Fit::points(f.units()))
            .sum()
    };
    let usable = |p: &Profile| -> Vec<(String, u8)> {
        p.languages
            .iter()
            .filter(|l| l.level.rank() >= MIN_SHARED_LEVEL)
            .map(|l| {
                (
                    l.code.split('-').next().unwrap().to_string(),
                    l.level.rank(),
                )
            })
            .collect()
    };
    let p = profiles.iter().find(|x| x.user == user).unwrap();
    let offset = |x: &Profile| {
        x.timezone
            .as_deref()
            .and_then(Zone::parse)
            .map(|z| z.offset_minutes(at))
    };
    let mut lists: [Vec<(i64, i64, String)>; 3] = Default::default();
    for c in profiles {
        if c.user == p.user || c.status == Status::Paused {
            continue;
        }
        let rank = usable(p)
            .iter()
            .flat_map(|(pb, pr)| {
                usable(c)
                    .into_iter()
                    .filter(move |(cb, _)| cb == pb)
                    .map(move |(_, cr)| cr.min(*pr))
            })
            .max();
        let Some(rank) = rank else { continue };
        let context = Context {
            overlap_minutes: offset(p).zip(offset(c)).map(|(a, b)| waking_overlap(a, b)),
            same_region: p.region.filter(|r| c.region == Some(*r)),
            age_days: c.updated.map(|t| {
                (at.timestamp().div_euclid(86_400) - t.timestamp().div_euclid(86_400)).max(0)
            }),
        };
        let base = language_factor(rank) * context.factor();
        let learn = points(&c.offers, &p.wants);
        let share = points(&p.offers, &c.wants);
        let both = if learn > 0.0 && share > 0.0 {
            learn + share
        } else {
            0.0
        };
        for (list, skill) in lists.iter_mut().zip([learn, share, both]) {
            if skill > 0.0 {
                let updated = c.updated.map_or(i64::MIN, |t| t.timestamp());
                list.push((to_units(skill * base), updated, c.user.clone()));
            }
        }
    }
    lists.map(|mut list| {
        list.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        list.truncate(limit);
        list.into_iter()
            .map(|(score, _, user)| (user, score as f64 / SCORE_STEPS))
            .collect()
    })
}

#[test]
fn indexes_and_pruning_agree_with_the_rules_applied_pair_by_pair() {
    use rand::seq::IndexedRandom;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // A small corner of the tree, so that people meet often, at every level, and tie.
    let skills = [
        "technology",
        "bots",
        "pywikibot",
        "autowikibrowser",
        "lua-modules",
        "templates",
        "data-analysis",
        "sql-quarry",
        "communication",
        "translation",
        "Basket weaving",
        "basket-weaving",
        "Goat herding",
    ];
    let languages = ["en", "pt", "pt-br", "fr", "ar"];
    let levels = ["1", "2", "3", "4", "5", "N"];
    let zones = [
        "America/Sao_Paulo",
        "Europe/Lisbon",
        "Asia/Tokyo",
        "UTC+05:30",
        "Europe/London",
    ];
    let regions = [
        Region::LatinAmericaCaribbean,
        Region::NorthernWesternEurope,
        Region::SouthAsia,
    ];
    let mut profiles = Vec::new();
    for i in 0..300 {
        let pick = |rng: &mut ChaCha8Rng, n: usize| -> Vec<&str> {
            (0..n).map(|_| *skills.choose(rng).unwrap()).collect()
        };
        let (n_offers, n_wants) = (rng.random_range(0..4), rng.random_range(0..4));
        let offers = pick(&mut rng, n_offers);
        let wants = pick(&mut rng, n_wants);
        let babel: Vec<String> = (0..rng.random_range(0..3))
            .map(|_| {
                format!(
                    "{}-{}",
                    languages.choose(&mut rng).unwrap(),
                    levels.choose(&mut rng).unwrap()
                )
            })
            .collect();
        let babel: Vec<&str> = babel.iter().map(String::as_str).collect();
        let mut p = person(&format!("U{i:03}"))
            .offers(&offers)
            .wants(&wants)
            .speaks(&babel);
        if rng.random_bool(0.8) {
            p = p.tz(zones.choose(&mut rng).unwrap());
        }
        if rng.random_bool(0.7) {
            p = p.region(*regions.choose(&mut rng).unwrap());
        }
        if rng.random_bool(0.8) {
            p = p.updated_days_ago(rng.random_range(0..900));
        }
        if rng.random_bool(0.1) {
            p = p.paused();
        }
        profiles.push(p);
    }
    let matcher = Matcher::new(&profiles, Taxonomy::bundled());
    let mut compared = 0;
    for limit in [1, 5, 300] {
        for p in &profiles {
            let found = matcher.matches(&p.user, now(), limit).unwrap();
            let got = [&found.learn_from, &found.share_with, &found.exchange].map(|list| {
                list.iter()
                    .map(|m| (m.user.clone(), m.score))
                    .collect::<Vec<_>>()
            });
            let want = reference(&profiles, &p.user, now(), limit);
            assert_eq!(got, want, "{} with limit {limit}", p.user);
            compared += got.iter().map(Vec::len).sum::<usize>();
        }
    }
    assert!(
        compared > 10_000,
        "the population meets often enough: {compared}"
    );
}

#[test]
fn an_id_the_taxonomy_no_longer_has_meets_only_the_same_id() {
    let retired = |label: &str| SkillRef::Known {
        id: "retired-skill".to_string(),
        label: label.to_string(),
    };
    let mut p = person("P");
    p.wants = vec![retired("Retired skill")];
    let mut a = person("A");
    a.offers = vec![retired("Old label")];
    let found = run(&[p, a, person("B").offers(&["Retired skill"])], "P");
    assert_eq!(users(&found.learn_from), ["A"]);
    let skill = &found.learn_from[0].skills[0];
    assert_eq!(skill.skill.id.as_deref(), Some("retired-skill"));
    assert_eq!(skill.skill.label, "Old label");
    assert_eq!(skill.yours.label, "Retired skill");
}

#[test]
fn people_with_many_languages_are_matched_on_any_of_them() {
    let found = run(
        &[
            person("P")
                .wants(&["lua-modules"])
                .speaks(&["en-N", "fr-3", "de-3", "es-3", "it-3", "sw-4"]),
            person("A").offers(&["lua-modules"]).speaks(&["sw-N"]),
            person("B")
                .offers(&["lua-modules"])
                .speaks(&["yo-N", "ha-N", "ig-N", "pcm-N", "sw-2"]),
        ],
        "P",
    );
    assert_eq!(users(&found.learn_from), ["A", "B"]);
    assert_eq!(found.learn_from[0].languages[0].code, "sw");
}
