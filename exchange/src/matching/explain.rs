//! What a match says about itself: the serialisable answer of `/api/v1/match/{user}`, and
//! the reasons behind each entry, in English and as codes with arguments so the web tool
//! can say the same in any language.

use serde::Serialize;

use super::{Context, Lang, Query, Scored, WAKING_HOURS, sat_range};
use crate::geo::Region;
use crate::languages::language;
use crate::profile::Level;

/// The answer for one person.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Matches {
    /// People who offer what the person wants to learn.
    pub learn_from: Vec<Match>,
    /// People who want to learn what the person offers.
    pub share_with: Vec<Match>,
    /// People with whom both hold at once.
    pub exchange: Vec<Match>,
}

/// One person on a list, with everything needed to say why they are there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Match {
    pub user: String,
    /// The skills involved, in the order the other person listed them.
    pub skills: Vec<SkillMatch>,
    /// Languages both speak well enough for a lesson, best first.
    pub languages: Vec<SharedLanguage>,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// How completely a skill meets a wish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// The broader skill: it may cover the wish, but nobody promised it.
    Partial,
    /// The skill itself or a part of it.
    Full,
}

impl Fit {
    /// Half-points: a partial fit is worth half a full one, since the broader skill may
    /// well cover the wish but nobody promised it.
    pub(super) fn units(self) -> u16 {
        match self {
            Fit::Full => 2,
            Fit::Partial => 1,
        }
    }

    /// Half-points as points: a full fit is 1.
    pub(super) fn points(units: u16) -> f64 {
        f64::from(units) / 2.0
    }
}

/// Which way a skill would travel, seen from the person who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// They offer it and you want it.
    Learn,
    /// They want it and you offer it.
    Share,
}

/// A skill as shown: `{"id", "label"}` for a taxonomy skill, `{"text", "label"}` for free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillName {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The English label (or the free text); the web tool translates taxonomy skills by id.
    pub label: String,
}

/// One skill of the other person that meets one of yours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillMatch {
    /// Their skill: one they offer (`learn`) or one they want (`share`).
    #[serde(flatten)]
    pub skill: SkillName,
    pub fit: Fit,
    pub direction: Direction,
    /// The skill of yours it meets: one you want (`learn`) or one you offer (`share`).
    pub yours: SkillName,
}

/// A language both speak at level 2 or above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedLanguage {
    /// The code as the person who asked wrote it.
    pub code: String,
    /// The other person's code, when it differs (`pt-br` for `pt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub their_code: Option<String>,
    /// `[your level, their level]`.
    pub levels: [Level; 2],
}

/// Why a person is on a list. `code` and `args` are for software (the web tool's
/// messages take the args as `$1`, `$2`, …); `text` is the English sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    /// Machine values: skill ids (or free text), language codes, levels, minutes, region
    /// codes, days. Never English words.
    pub args: Vec<String>,
    pub text: String,
}

/// The kinds of reason, stable for translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// They offer exactly what you want. Args: skill.
    OffersWhatYouWant,
    /// They offer a part of what you want (a sub-skill). Args: their skill, your skill.
    OffersPartOfWhatYouWant,
    /// They offer the broader skill that what you want belongs to. Args: their skill, your skill.
    OffersBroaderThanWhatYouWant,
    /// They want exactly what you offer. Args: skill.
    WantsWhatYouOffer,
    /// They want a broader skill, of which you offer a part. Args: their skill, your skill.
    WantsBroaderThanWhatYouOffer,
    /// They want a part of the broader skill you offer. Args: their skill, your skill.
    WantsPartOfWhatYouOffer,
    /// The best language you share. Args: code, your level, their level.
    SharedLanguage,
    /// Waking hours overlap. Args: minutes per day.
    WakingHoursOverlap,
    /// Same Wikimedia region. Args: region code.
    SameRegion,
    /// How fresh their profile is. Args: days since the last update.
    ProfileUpdated,
}

fn skill_arg(name: &SkillName) -> String {
    name.id
        .clone()
        .or_else(|| name.text.clone())
        .unwrap_or_default()
}

fn level_text(level: Level) -> String {
    if level.is_native() {
        "native".to_string()
    } else {
        level.rank().to_string()
    }
}

/// "3", "13.5", "9.75": hours without a trailing ".0".
fn hours_text(minutes: i32) -> String {
    let text = format!("{:.2}", f64::from(minutes) / 60.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// "today", "yesterday", "5 days ago", "2 weeks ago", "3 months ago", "2 years ago".
pub(super) fn age_text(days: i64) -> String {
    let (n, unit) = match days {
        ..=0 => return "today".to_string(),
        1 => return "yesterday".to_string(),
        2..14 => (days, "day"),
        14..60 => (days / 7, "week"),
        60..730 => (days / 30, "month"),
        _ => (days / 365, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

fn language_name(code: &str) -> String {
    language(code).map_or_else(|| code.to_string(), |info| info.name.clone())
}

impl Query<'_> {
    pub(super) fn explain_all(
        &mut self,
        list: Vec<Scored>,
        learn: bool,
        share: bool,
    ) -> Vec<Match> {
        list.iter().map(|s| self.explain(s, learn, share)).collect()
    }

    /// Rebuilds, for one returned entry, the pairs of skills and the context the score
    /// came from; done only for the entries returned, never for every candidate.
    fn explain(&mut self, scored: &Scored, learn: bool, share: bool) -> Match {
        let m = self.m;
        let c = scored.who as usize;
        let mut skills = Vec::new();
        let mut reasons = Vec::new();
        if learn {
            for (pos, &key) in m.offers.row(c).iter().enumerate() {
                let Some(best) = best_of(sat_range(&self.learn, key)) else {
                    continue;
                };
                let mine = m.wants.item(self.p, best.pos as usize);
                let want = mine.0;
                let theirs = m.skill_name(m.offers.item(c, pos));
                let yours = m.skill_name(mine);
                let (code, text) = match best.fit {
                    _ if key == want => (
                        ReasonCode::OffersWhatYouWant,
                        format!("offers {}, which you want to learn", theirs.label),
                    ),
                    Fit::Full => (
                        ReasonCode::OffersPartOfWhatYouWant,
                        format!(
                            "offers {}, part of {}, which you want to learn",
                            theirs.label, yours.label
                        ),
                    ),
                    Fit::Partial => (
                        ReasonCode::OffersBroaderThanWhatYouWant,
                        format!(
                            "offers {}, broader than {}, which you want to learn",
                            theirs.label, yours.label
                        ),
                    ),
                };
                reasons.push(skill_reason(code, &theirs, &yours, key == want, text));
                skills.push(SkillMatch {
                    skill: theirs,
                    fit: best.fit,
                    direction: Direction::Learn,
                    yours,
                });
            }
        }
        if share {
            for (pos, &key) in m.wants.row(c).iter().enumerate() {
                let Some(best) = best_of(sat_range(&self.share, key)) else {
                    continue;
                };
                let mine = m.offers.item(self.p, best.pos as usize);
                let offer = mine.0;
                let theirs = m.skill_name(m.wants.item(c, pos));
                let yours = m.skill_name(mine);
                let (code, text) = match best.fit {
                    _ if key == offer => (
                        ReasonCode::WantsWhatYouOffer,
                        format!("wants to learn {}, which you offer", theirs.label),
                    ),
                    Fit::Full => (
                        ReasonCode::WantsBroaderThanWhatYouOffer,
                        format!(
                            "wants to learn {}, of which you offer {}",
                            theirs.label, yours.label
                        ),
                    ),
                    Fit::Partial => (
                        ReasonCode::WantsPartOfWhatYouOffer,
                        format!(
                            "wants to learn {}, part of {}, which you offer",
                            theirs.label, yours.label
                        ),
                    ),
                };
                reasons.push(skill_reason(code, &theirs, &yours, key == offer, text));
                skills.push(SkillMatch {
                    skill: theirs,
                    fit: best.fit,
                    direction: Direction::Share,
                    yours,
                });
            }
        }

        let shared = m.shared_languages(self.p, c);
        let languages: Vec<SharedLanguage> = shared
            .iter()
            .map(|(mine, theirs)| SharedLanguage {
                code: m.codes[mine.code as usize].clone(),
                their_code: (mine.code != theirs.code)
                    .then(|| m.codes[theirs.code as usize].clone()),
                levels: [mine.level, theirs.level],
            })
            .collect();
        if let Some((mine, theirs)) = shared.first() {
            reasons.push(self.language_reason(mine, theirs));
        }
        reasons.extend(context_reasons(&self.context(c)));

        Match {
            user: m.users[c].clone(),
            skills,
            languages,
            score: scored.score as f64 / super::SCORE_STEPS,
            reasons,
        }
    }

    fn language_reason(&self, mine: &Lang, theirs: &Lang) -> Reason {
        let codes = &self.m.codes;
        let name = if mine.code == theirs.code {
            language_name(&codes[mine.code as usize])
        } else {
            language_name(&codes[mine.base as usize])
        };
        Reason {
            code: ReasonCode::SharedLanguage,
            args: vec![
                codes[mine.code as usize].clone(),
                mine.level.to_string(),
                theirs.level.to_string(),
            ],
            text: format!(
                "you both speak {name} ({} / {})",
                level_text(mine.level),
                level_text(theirs.level)
            ),
        }
    }
}

/// The best fit of a range, the first one listed among equals.
fn best_of(range: &[super::Sat]) -> Option<super::Sat> {
    range
        .iter()
        .copied()
        .reduce(|best, s| if s.fit > best.fit { s } else { best })
}

fn skill_reason(
    code: ReasonCode,
    theirs: &SkillName,
    yours: &SkillName,
    same: bool,
    text: String,
) -> Reason {
    let mut args = vec![skill_arg(theirs)];
    if !same {
        args.push(skill_arg(yours));
    }
    Reason { code, args, text }
}

fn context_reasons(context: &Context) -> Vec<Reason> {
    let mut out = Vec::new();
    if let Some(minutes) = context.overlap_minutes {
        let (start, end) = WAKING_HOURS;
        let window = format!("{start:02}:00–{end:02}:00 local time");
        let hours = hours_text(minutes);
        let text = if minutes == ((end - start) * 60) as i32 {
            format!("all {hours} of your waking hours overlap ({window})")
        } else if hours == "1" {
            format!("1 of your waking hours overlaps ({window})")
        } else {
            format!("{hours} of your waking hours overlap ({window})")
        };
        out.push(Reason {
            code: ReasonCode::WakingHoursOverlap,
            args: vec![minutes.to_string()],
            text,
        });
    }
    if let Some(region) = context.same_region {
        out.push(region_reason(region));
    }
    if let Some(days) = context.age_days {
        out.push(Reason {
            code: ReasonCode::ProfileUpdated,
            args: vec![days.to_string()],
            text: format!("profile updated {}", age_text(days)),
        });
    }
    out
}

fn region_reason(region: Region) -> Reason {
    Reason {
        code: ReasonCode::SameRegion,
        args: vec![region.code().to_string()],
        text: format!("same region ({})", region.english_name()),
    }
}
