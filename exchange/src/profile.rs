//! The profile model: what one person published in their profile template.
//!
//! This is the shape of a profile everywhere after parsing: in the snapshot, the JSON API,
//! the exports. Only what the owner wrote is here, nothing the tool inferred beyond the
//! region (derived from the country) and the skill ids (resolved from the taxonomy).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::geo::Region;

/// A skill on a profile: a taxonomy skill, or free text the taxonomy does not know (kept,
/// searchable, and counted as a candidate for the taxonomy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SkillRef {
    Known { id: String, label: String },
    Free { text: String },
}

impl SkillRef {
    pub fn id(&self) -> Option<&str> {
        match self {
            SkillRef::Known { id, .. } => Some(id),
            SkillRef::Free { .. } => None,
        }
    }

    /// What to show: the label, or the free text.
    pub fn display(&self) -> &str {
        match self {
            SkillRef::Known { label, .. } => label,
            SkillRef::Free { text } => text,
        }
    }
}

/// Which list of a profile a skill is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkillKind {
    /// Willing to share with peers.
    Offers,
    /// Wants to learn.
    Wants,
    /// Has, but does not offer now.
    Knows,
}

impl SkillKind {
    pub const ALL: [SkillKind; 3] = [SkillKind::Offers, SkillKind::Wants, SkillKind::Knows];

    pub fn as_str(self) -> &'static str {
        match self {
            SkillKind::Offers => "offers",
            SkillKind::Wants => "wants",
            SkillKind::Knows => "knows",
        }
    }
}

impl FromStr for SkillKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SkillKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind {s:?} (expected offers, wants or knows)"))
    }
}

/// A Babel level: 0 to 5, or native.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Level(u8);

impl Level {
    pub const NATIVE: Level = Level(6);

    pub fn new(level: u8) -> Option<Level> {
        (level <= 6).then_some(Level(level))
    }

    /// 0–5, and 6 for native: higher is better.
    pub fn rank(self) -> u8 {
        self.0
    }

    pub fn is_native(self) -> bool {
        self.0 == 6
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_native() {
            f.write_str("N")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl FromStr for Level {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "N" | "n" => Ok(Level::NATIVE),
            _ => s
                .parse::<u8>()
                .ok()
                .filter(|&l| l <= 5)
                .map(Level)
                .ok_or(()),
        }
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|()| serde::de::Error::custom(format!("invalid level {s:?}")))
    }
}

/// A language the person speaks, with their Babel level.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LanguageSkill {
    pub code: String,
    pub level: Level,
}

/// Whether the person takes part in matching now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Active,
    /// Kept and shown, but hidden from matching.
    Paused,
}

/// One person's profile, as published on their user page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The owner's user name.
    pub user: String,
    /// The page the profile is on (`User:Name` or a subpage).
    pub page: String,
    /// The revision the profile was read from (the owner's newest).
    pub revid: u64,
    /// When that revision was saved.
    pub updated: Option<DateTime<Utc>>,
    pub offers: Vec<SkillRef>,
    pub wants: Vec<SkillRef>,
    pub knows: Vec<SkillRef>,
    pub languages: Vec<LanguageSkill>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub region: Option<Region>,
    /// An IANA name, or an offset written `UTC+05:30`.
    pub timezone: Option<String>,
    pub affiliations: Vec<String>,
    pub projects: Vec<String>,
    pub formats: Vec<String>,
    pub availability: Option<String>,
    pub contact: Vec<String>,
    pub bio: Option<String>,
    pub status: Status,
    /// The owner's opt-in (`recognition = yes`) to be named among the most thanked people
    /// of a period in the on-wiki reports. Counts on their own profile are shown either way.
    #[serde(default)]
    pub recognition: bool,
}

impl Profile {
    pub fn skills(&self, kind: SkillKind) -> &[SkillRef] {
        match kind {
            SkillKind::Offers => &self.offers,
            SkillKind::Wants => &self.wants,
            SkillKind::Knows => &self.knows,
        }
    }

    pub fn skills_mut(&mut self, kind: SkillKind) -> &mut Vec<SkillRef> {
        match kind {
            SkillKind::Offers => &mut self.offers,
            SkillKind::Wants => &mut self.wants,
            SkillKind::Knows => &mut self.knows,
        }
    }

    /// An empty profile for `user` on `page`, to be filled by the parser.
    pub fn empty(user: &str, page: &str) -> Profile {
        Profile {
            user: user.to_string(),
            page: page.to_string(),
            revid: 0,
            updated: None,
            offers: Vec::new(),
            wants: Vec::new(),
            knows: Vec::new(),
            languages: Vec::new(),
            country: None,
            region: None,
            timezone: None,
            affiliations: Vec::new(),
            projects: Vec::new(),
            formats: Vec::new(),
            availability: None,
            contact: Vec::new(),
            bio: None,
            status: Status::Active,
            recognition: false,
        }
    }
}

/// Something in a profile the parser could not use as written. Never fatal: the profile
/// is kept, and the warning is shown to the owner and in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The template parameter concerned, if any.
    pub param: Option<String>,
    pub message: String,
}

impl Warning {
    pub fn new(param: Option<&str>, message: impl Into<String>) -> Warning {
        Warning {
            param: param.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.param {
            Some(p) => write!(f, "{p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
