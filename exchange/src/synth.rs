//! Realistic synthetic MediaWiki exports, for the demo, tests and benchmarks.
//!
//! The generated wiki looks like Meta-Wiki's user space: people from many countries write
//! skills in their own language (labels and aliases of the taxonomy, free text, sometimes a
//! link), list languages in the template or with `{{#babel:…}}`, and pages have histories
//! in which other people edit someone's profile, pages are created for people who never
//! touch them, and people leave. The same seed always gives the same bytes, and the
//! [`SynthStats`] say how many profiles the trust rules must find.

use std::io::{self, Write};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::parse::PROFILE_TEMPLATE;
use crate::taxonomy::{Skill, Taxonomy};

/// The default seed: the demo and the benchmarks use it.
pub const DEFAULT_SEED: u64 = 20261126;

/// An alias (redirect) of the profile template that some synthetic pages use.
pub const SYNTH_ALIAS: &str = "CX profile";

/// What was generated, and what an import must find in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SynthStats {
    pub pages: u64,
    pub revisions: u64,
    /// People whose page must give a profile under the trust rules.
    pub expected_profiles: u64,
    /// Profiles whose newest revision is by someone else (the owner's must be used).
    pub edited_by_others: u64,
    /// Pages created by someone else and never edited by their owner (no profile).
    pub never_edited_by_owner: u64,
    /// Profiles removed by their owner (no profile).
    pub opted_out: u64,
    /// Profiles with `status = paused`.
    pub paused: u64,
    /// Learners' `User:…/Capacity Exchange thanks` pages, and the thanks on them (each for
    /// someone else, with a skill that person offers).
    pub thanks_pages: u64,
    pub thanks: u64,
}

/// A person with a profile, as the thanks of others need them.
struct Helper {
    user: String,
    /// The first skill they offer, as they wrote it.
    skill: String,
    /// When they wrote their profile: thanks come after.
    since: DateTime<Utc>,
}

/// About one person in this many thanks others on a page of their own.
const THANKS_EVERY: usize = 5;
/// The first this many people are the popular mentors, thanked half the time: enough of
/// them gather the three thankers of an Open Badge, even in the 300-profile demo.
const POPULAR_MENTORS: usize = 12;

/// The learners' thanks pages, drawn with their own random numbers so that the profiles
/// of a seed stay what they were before thanks existed.
fn write_thanks<W: Write>(
    w: &mut Writer<W>,
    helpers: &[Helper],
    seed: u64,
    now: DateTime<Utc>,
) -> io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7468_616e_6b73);
    for (i, learner) in helpers.iter().enumerate() {
        if helpers.len() < 2 || rng.random_range(0..THANKS_EVERY) != 0 {
            continue;
        }
        let n = rng.random_range(1..=3);
        let mut text = String::from("== People who helped me ==\n");
        let mut thanked = std::collections::HashSet::new();
        let mut latest = learner.since;
        for _ in 0..n {
            let j = if rng.random_bool(0.5) {
                rng.random_range(0..POPULAR_MENTORS.min(helpers.len()))
            } else {
                rng.random_range(0..helpers.len())
            };
            if j == i || !thanked.insert(j) {
                continue;
            }
            let helper = &helpers[j];
            let after = helper.since.max(learner.since);
            let days = (now - after).num_days().max(1);
            let at = after + Duration::days(rng.random_range(0..days));
            latest = latest.max(at);
            text.push_str(&format!(
                "{{{{Capacity Exchange thanks|user={}|skill={}|date={}|note=Thank you!}}}}\n",
                helper.user,
                helper.skill,
                at.format("%Y-%m-%d")
            ));
            w.stats.thanks += 1;
        }
        if thanked.is_empty() {
            continue;
        }
        w.page(
            &format!("User:{}/Capacity Exchange thanks", learner.user),
            2,
            None,
            &[Rev {
                user: &learner.user,
                at: latest + Duration::hours(1),
                text: &text,
                comment: "thanks",
            }],
        )?;
        w.stats.thanks_pages += 1;
    }
    Ok(())
}

struct Persona {
    country: &'static str,
    country_name: &'static str,
    timezones: &'static [&'static str],
    /// Languages spoken natively (the first one is the label language when it has labels).
    native: &'static [&'static str],
    label_lang: &'static str,
    first: &'static [&'static str],
    last: &'static [&'static str],
    affiliations: &'static [&'static str],
    project_lang: &'static str,
    weight: u32,
}

const PERSONAS: &[Persona] = &[
    Persona {
        country: "BR",
        country_name: "Brazil",
        timezones: &["America/Sao_Paulo", "America/Recife", "America/Manaus"],
        native: &["pt"],
        label_lang: "pt",
        first: &[
            "Ana", "João", "Mariana", "Thiago", "Luíza", "Rafael", "Beatriz", "Caio",
        ],
        last: &[
            "Silva",
            "Souza",
            "Oliveira",
            "Pereira",
            "Costa",
            "Rodrigues",
            "Almeida",
        ],
        affiliations: &["Wiki Movimento Brasil", "Wikimedia Brasil"],
        project_lang: "pt",
        weight: 9,
    },
    Persona {
        country: "PT",
        country_name: "Portugal",
        timezones: &["Europe/Lisbon"],
        native: &["pt"],
        label_lang: "pt",
        first: &["Inês", "Duarte", "Leonor", "Tomás"],
        last: &["Ferreira", "Santos", "Martins"],
        affiliations: &["Wikimedia Portugal"],
        project_lang: "pt",
        weight: 3,
    },
    Persona {
        country: "NG",
        country_name: "Nigeria",
        timezones: &["Africa/Lagos"],
        native: &["yo", "ig", "ha"],
        label_lang: "en",
        first: &[
            "Adaeze",
            "Chinedu",
            "Funmilayo",
            "Olumide",
            "Aisha",
            "Emeka",
            "Ngozi",
        ],
        last: &["Okafor", "Adeyemi", "Bello", "Eze", "Balogun", "Nwosu"],
        affiliations: &[
            "Wikimedia User Group Nigeria",
            "Igbo Wikimedians User Group",
            "Hausa Wikimedians User Group",
        ],
        project_lang: "en",
        weight: 8,
    },
    Persona {
        country: "GH",
        country_name: "Ghana",
        timezones: &["Africa/Accra"],
        native: &["tw", "ee"],
        label_lang: "en",
        first: &["Kwame", "Akosua", "Kofi", "Ama"],
        last: &["Mensah", "Owusu", "Boateng"],
        affiliations: &["Open Foundation West Africa", "Wikimedia Ghana User Group"],
        project_lang: "en",
        weight: 3,
    },
    Persona {
        country: "KE",
        country_name: "Kenya",
        timezones: &["Africa/Nairobi"],
        native: &["sw"],
        label_lang: "en",
        first: &["Wanjiru", "Otieno", "Achieng", "Kamau"],
        last: &["Mwangi", "Odhiambo", "Njoroge"],
        affiliations: &["Wikimedia Community User Group Kenya"],
        project_lang: "sw",
        weight: 3,
    },
    Persona {
        country: "PL",
        country_name: "Poland",
        timezones: &["Europe/Warsaw"],
        native: &["pl"],
        label_lang: "en",
        first: &["Katarzyna", "Piotr", "Agnieszka", "Tomasz", "Zofia"],
        last: &["Nowak", "Kowalski", "Wiśniewska", "Wójcik"],
        affiliations: &["Wikimedia Polska"],
        project_lang: "pl",
        weight: 4,
    },
    Persona {
        country: "DE",
        country_name: "Germany",
        timezones: &["Europe/Berlin"],
        native: &["de"],
        label_lang: "de",
        first: &["Lena", "Jonas", "Katrin", "Lukas", "Sophie"],
        last: &["Müller", "Schmidt", "Schneider", "Fischer"],
        affiliations: &["Wikimedia Deutschland"],
        project_lang: "de",
        weight: 5,
    },
    Persona {
        country: "FR",
        country_name: "France",
        timezones: &["Europe/Paris"],
        native: &["fr"],
        label_lang: "fr",
        first: &["Camille", "Léa", "Hugo", "Chloé", "Mathéo"],
        last: &["Martin", "Bernard", "Dubois", "Lefèvre"],
        affiliations: &["Wikimédia France"],
        project_lang: "fr",
        weight: 5,
    },
    Persona {
        country: "SN",
        country_name: "Senegal",
        timezones: &["Africa/Dakar"],
        native: &["wo", "fr"],
        label_lang: "fr",
        first: &["Awa", "Moussa", "Fatou", "Ousmane"],
        last: &["Diop", "Ndiaye", "Fall"],
        affiliations: &["Wikimedia Sénégal"],
        project_lang: "fr",
        weight: 2,
    },
    Persona {
        country: "ES",
        country_name: "Spain",
        timezones: &["Europe/Madrid"],
        native: &["es", "ca"],
        label_lang: "es",
        first: &["Lucía", "Pablo", "Carmen", "Javier"],
        last: &["García", "Fernández", "López", "Martínez"],
        affiliations: &["Wikimedia España", "Amical Wikimedia"],
        project_lang: "es",
        weight: 4,
    },
    Persona {
        country: "MX",
        country_name: "Mexico",
        timezones: &["America/Mexico_City", "America/Monterrey"],
        native: &["es"],
        label_lang: "es",
        first: &["Ximena", "Diego", "Valeria", "Santiago"],
        last: &["Hernández", "González", "Ramírez"],
        affiliations: &["Wikimedia México"],
        project_lang: "es",
        weight: 4,
    },
    Persona {
        country: "AR",
        country_name: "Argentina",
        timezones: &["America/Argentina/Buenos_Aires"],
        native: &["es"],
        label_lang: "es",
        first: &["Martina", "Joaquín", "Florencia", "Tomás"],
        last: &["Gómez", "Díaz", "Romero"],
        affiliations: &["Wikimedia Argentina"],
        project_lang: "es",
        weight: 3,
    },
    Persona {
        country: "CO",
        country_name: "Colombia",
        timezones: &["America/Bogota"],
        native: &["es"],
        label_lang: "es",
        first: &["Camila", "Andrés", "Daniela"],
        last: &["Restrepo", "Vargas", "Castro"],
        affiliations: &["Wikimedia Colombia"],
        project_lang: "es",
        weight: 2,
    },
    Persona {
        country: "EG",
        country_name: "Egypt",
        timezones: &["Africa/Cairo"],
        native: &["ar", "arz"],
        label_lang: "ar",
        first: &["Mona", "Ahmed", "Yasmin", "Omar"],
        last: &["Hassan", "Mahmoud", "Ibrahim", "Saleh"],
        affiliations: &["Wikimedians of the Levant", "Egypt Wikimedians User Group"],
        project_lang: "ar",
        weight: 4,
    },
    Persona {
        country: "MA",
        country_name: "Morocco",
        timezones: &["Africa/Casablanca"],
        native: &["ar", "ary"],
        label_lang: "ar",
        first: &["Salma", "Youssef", "Khadija"],
        last: &["El Amrani", "Benali", "Tazi"],
        affiliations: &["Moroccan Wikimedians User Group"],
        project_lang: "ar",
        weight: 2,
    },
    Persona {
        country: "DZ",
        country_name: "Algeria",
        timezones: &["Africa/Algiers"],
        native: &["ar", "kab"],
        label_lang: "fr",
        first: &["Amine", "Lydia", "Karim"],
        last: &["Benali", "Haddad", "Meziane"],
        affiliations: &["Wikimedia Algeria"],
        project_lang: "fr",
        weight: 2,
    },
    Persona {
        country: "IN",
        country_name: "India",
        timezones: &["Asia/Kolkata"],
        native: &["hi", "bn", "ta", "te", "ml"],
        label_lang: "en",
        first: &["Priya", "Arjun", "Ananya", "Rahul", "Lakshmi"],
        last: &["Sharma", "Iyer", "Das", "Reddy", "Nair"],
        affiliations: &[
            "Wikimedians of Kerala",
            "Bengali Wikimedians",
            "Odia Wikimedians User Group",
        ],
        project_lang: "hi",
        weight: 8,
    },
    Persona {
        country: "BD",
        country_name: "Bangladesh",
        timezones: &["Asia/Dhaka"],
        native: &["bn"],
        label_lang: "en",
        first: &["Nusrat", "Tanvir", "Farhana"],
        last: &["Rahman", "Hossain", "Islam"],
        affiliations: &["Wikimedia Bangladesh"],
        project_lang: "bn",
        weight: 3,
    },
    Persona {
        country: "ID",
        country_name: "Indonesia",
        timezones: &["Asia/Jakarta", "Asia/Makassar"],
        native: &["id", "jv", "su"],
        label_lang: "en",
        first: &["Dewi", "Budi", "Siti", "Agus"],
        last: &["Santoso", "Wijaya", "Lestari"],
        affiliations: &["Wikimedia Indonesia"],
        project_lang: "id",
        weight: 4,
    },
    Persona {
        country: "PH",
        country_name: "Philippines",
        timezones: &["Asia/Manila"],
        native: &["tl", "ceb"],
        label_lang: "en",
        first: &["Maria", "Jose", "Angelica"],
        last: &["Reyes", "Santos", "Cruz"],
        affiliations: &["Wikimedia Community User Group Philippines"],
        project_lang: "tl",
        weight: 2,
    },
    Persona {
        country: "UA",
        country_name: "Ukraine",
        timezones: &["Europe/Kyiv"],
        native: &["uk"],
        label_lang: "en",
        first: &["Olena", "Andrii", "Iryna"],
        last: &["Shevchenko", "Kovalenko", "Bondarenko"],
        affiliations: &["Wikimedia Ukraine"],
        project_lang: "uk",
        weight: 3,
    },
    Persona {
        country: "TR",
        country_name: "Türkiye",
        timezones: &["Europe/Istanbul"],
        native: &["tr"],
        label_lang: "en",
        first: &["Elif", "Mehmet", "Zeynep"],
        last: &["Yılmaz", "Kaya", "Demir"],
        affiliations: &["Wikimedia Community User Group Turkey"],
        project_lang: "tr",
        weight: 2,
    },
    Persona {
        country: "US",
        country_name: "United States",
        timezones: &["America/New_York", "America/Chicago", "America/Los_Angeles"],
        native: &["en"],
        label_lang: "en",
        first: &["Emily", "Michael", "Jessica", "David", "Sarah"],
        last: &["Smith", "Johnson", "Brown", "Miller"],
        affiliations: &["Wikimedia NYC", "Art+Feminism", "Wiki Education"],
        project_lang: "en",
        weight: 6,
    },
    Persona {
        country: "CA",
        country_name: "Canada",
        timezones: &["America/Toronto", "America/Vancouver"],
        native: &["en", "fr"],
        label_lang: "en",
        first: &["Olivia", "Liam", "Chloé"],
        last: &["Tremblay", "Wilson", "Roy"],
        affiliations: &["Wikimedia Canada"],
        project_lang: "en",
        weight: 2,
    },
    Persona {
        country: "GB",
        country_name: "United Kingdom",
        timezones: &["Europe/London"],
        native: &["en"],
        label_lang: "en",
        first: &["Oliver", "Amelia", "Harry", "Isla"],
        last: &["Jones", "Taylor", "Davies"],
        affiliations: &["Wikimedia UK"],
        project_lang: "en",
        weight: 3,
    },
    Persona {
        country: "JP",
        country_name: "Japan",
        timezones: &["Asia/Tokyo"],
        native: &["ja"],
        label_lang: "en",
        first: &["Yuki", "Haruto", "Sakura"],
        last: &["Sato", "Suzuki", "Takahashi"],
        affiliations: &["Wikimedians of Japan User Group"],
        project_lang: "ja",
        weight: 2,
    },
    Persona {
        country: "KR",
        country_name: "South Korea",
        timezones: &["Asia/Seoul"],
        native: &["ko"],
        label_lang: "en",
        first: &["Minji", "Jisoo", "Hyun"],
        last: &["Kim", "Lee", "Park"],
        affiliations: &["Wikimedia Korea"],
        project_lang: "ko",
        weight: 2,
    },
    Persona {
        country: "ZA",
        country_name: "South Africa",
        timezones: &["Africa/Johannesburg"],
        native: &["zu", "xh", "af"],
        label_lang: "en",
        first: &["Thandiwe", "Sipho", "Lerato"],
        last: &["Dlamini", "Nkosi", "Mokoena"],
        affiliations: &["Wikimedia ZA"],
        project_lang: "en",
        weight: 2,
    },
];

const FREE_TEXT: &[&str] = &[
    "Podcast production",
    "Interviewing elders",
    "Zotero",
    "Linked open data for museums",
    "Oral history recording",
    "Wikipedia Library access",
    "Bird photography",
    "Archive digitisation workflows",
    "Teaching with Wikipedia in schools",
    "Mapping with drones",
    "Sign language video recording",
    "Local history research",
    "Storytelling workshops",
    "Accessibility audits",
    "Graphic design for events",
    "Video editing",
    "Spreadsheet magic",
    "Transcribing folk songs",
    "Community radio",
    "Mastodon outreach",
];

const OTHER_EDITORS: &[&str] = &[
    "Helpful Gnome",
    "Typo Fixer",
    "Meta Patroller",
    "Cleanup Bot",
    "Curious Newbie",
];

const FORMATS: &[&str] = &[
    "mentoring",
    "one-on-one",
    "workshop",
    "group",
    "online",
    "in-person",
    "office-hours",
];
const CONTACTS: &[&str] = &["talk", "email", "telegram", "matrix", "irc", "video-call"];
const AVAILABILITY: &[&str] = &[
    "2 hours a month",
    "weekends",
    "1 hour a week",
    "evenings (UTC)",
    "on request",
    "a few hours per month",
];

fn bio(lang: &str, city_hint: &str, rng: &mut ChaCha8Rng) -> String {
    let options: &[&str] = match lang {
        "pt" => &[
            "Organizo editatonas em {}.",
            "Editora da Wikipédia desde 2015, de {}.",
            "Gosto de ensinar Wikidata a novatos em {}.",
        ],
        "es" => &[
            "Organizo editatones en {}.",
            "Editor de Wikipedia desde 2012, vivo en {}.",
            "Me encanta enseñar Wikidata en {}.",
        ],
        "fr" => &[
            "J'organise des ateliers contributifs à {}.",
            "Contributrice depuis 2014, basée à {}.",
        ],
        "de" => &[
            "Ich organisiere Schreibwerkstätten in {}.",
            "Seit 2010 Wikipedianer aus {}.",
        ],
        "ar" => &["أنظم ورش تحرير في {}.", "محرر في ويكيبيديا منذ ٢٠١٦ من {}."],
        _ => &[
            "I organise edit-a-thons in {}.",
            "Wikimedian since 2013, based in {}.",
            "Happy to help newcomers in {} with anything wiki.",
        ],
    };
    options
        .choose(rng)
        .unwrap_or(&"{}")
        .replace("{}", city_hint)
}

/// A skill written the way a person might: a label in some language, an alias, or a link.
fn skill_item(skill: &Skill, lang: &str, rng: &mut ChaCha8Rng) -> String {
    let roll = rng.random_range(0..100);
    let label = skill
        .labels
        .get(lang)
        .or_else(|| skill.labels.get("en"))
        .cloned()
        .unwrap_or_else(|| skill.id.clone());
    match roll {
        0..60 => label,
        60..72 => skill.labels.get("en").cloned().unwrap_or(label),
        72..84 => skill
            .aliases
            .values()
            .flatten()
            .collect::<Vec<_>>()
            .choose(rng)
            .map(|a| a.to_string())
            .unwrap_or(label),
        84..90 => label.to_lowercase(),
        90..95 => format!("[[w:{label}|{label}]]"),
        _ => skill.id.clone(),
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

struct Writer<W: Write> {
    out: W,
    next_revid: u64,
    next_page_id: u64,
    stats: SynthStats,
}

struct Rev<'a> {
    user: &'a str,
    at: DateTime<Utc>,
    text: &'a str,
    comment: &'a str,
}

impl<W: Write> Writer<W> {
    fn page(
        &mut self,
        title: &str,
        ns: i32,
        redirect: Option<&str>,
        revisions: &[Rev<'_>],
    ) -> io::Result<()> {
        let id = self.next_page_id;
        self.next_page_id += 1;
        self.stats.pages += 1;
        writeln!(
            self.out,
            "  <page>\n    <title>{}</title>\n    <ns>{ns}</ns>\n    <id>{id}</id>",
            xml_escape(title)
        )?;
        if let Some(target) = redirect {
            writeln!(
                self.out,
                "    <redirect title=\"{}\" />",
                xml_escape(target)
            )?;
        }
        let mut parent = None;
        for rev in revisions {
            let revid = self.next_revid;
            self.next_revid += 1;
            self.stats.revisions += 1;
            writeln!(self.out, "    <revision>\n      <id>{revid}</id>")?;
            if let Some(p) = parent {
                writeln!(self.out, "      <parentid>{p}</parentid>")?;
            }
            writeln!(
                self.out,
                "      <timestamp>{}</timestamp>\n      <contributor>\n        <username>{}</username>\n        <id>{}</id>\n      </contributor>\n      <comment>{}</comment>\n      <model>wikitext</model>\n      <format>text/x-wiki</format>\n      <text bytes=\"{}\" xml:space=\"preserve\">{}</text>\n    </revision>",
                rev.at.format("%Y-%m-%dT%H:%M:%SZ"),
                xml_escape(rev.user),
                1000 + (revid % 100_000),
                xml_escape(rev.comment),
                rev.text.len(),
                xml_escape(rev.text)
            )?;
            parent = Some(revid);
        }
        writeln!(self.out, "  </page>")
    }
}

/// Writes a synthetic export of `profiles` people to `out`.
pub fn write_export<W: Write>(
    out: W,
    profiles: usize,
    seed: u64,
    taxonomy: &Taxonomy,
) -> io::Result<SynthStats> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut w = Writer {
        out,
        next_revid: 1000,
        next_page_id: 1,
        stats: SynthStats::default(),
    };
    writeln!(
        w.out,
        "<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.11/\" version=\"0.11\" xml:lang=\"en\">\n  <siteinfo>\n    <sitename>Meta</sitename>\n    <dbname>metawiki</dbname>\n    <base>https://meta.wikimedia.org/wiki/Main_Page</base>\n    <generator>Capacity Exchange synth (seed {seed})</generator>\n    <case>first-letter</case>\n    <namespaces>\n      <namespace key=\"0\" case=\"first-letter\" />\n      <namespace key=\"2\" case=\"first-letter\">User</namespace>\n      <namespace key=\"3\" case=\"first-letter\">User talk</namespace>\n      <namespace key=\"4\" case=\"first-letter\">Meta</namespace>\n      <namespace key=\"10\" case=\"first-letter\">Template</namespace>\n    </namespaces>\n  </siteinfo>"
    )?;
    let start = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let template_text = "<includeonly>{| class=\"capx-profile\"\n| {{{offers|}}}\n|}</includeonly><noinclude>Documentation: [[Template:Capacity Exchange profile/doc]]</noinclude>";
    w.page(
        &format!("Template:{PROFILE_TEMPLATE}"),
        10,
        None,
        &[Rev {
            user: "Capacity Exchange maintainer",
            at: start,
            text: template_text,
            comment: "create",
        }],
    )?;
    w.page(
        &format!("Template:{SYNTH_ALIAS}"),
        10,
        Some(&format!("Template:{PROFILE_TEMPLATE}")),
        &[Rev {
            user: "Capacity Exchange maintainer",
            at: start,
            text: &format!("#REDIRECT [[Template:{PROFILE_TEMPLATE}]]"),
            comment: "alias",
        }],
    )?;
    w.page(
        "Meta:Sandbox",
        4,
        None,
        &[Rev {
            user: "Curious Newbie",
            at: start,
            text: &format!("{{{{{PROFILE_TEMPLATE}|offers=Lua}}}}"),
            comment: "test",
        }],
    )?;

    let leaves: Vec<&Skill> = taxonomy
        .skills()
        .iter()
        .filter(|s| s.parent.is_some())
        .collect();
    let total_weight: u32 = PERSONAS.iter().map(|p| p.weight).sum();
    let mut used_names = std::collections::HashSet::new();
    // Profiles are created over 31 months from 2024; with the later edits (up to 90 days)
    // and thanks (up to 90 days after the span), every date stays before November 2026.
    let span_secs = 31 * 30 * 24 * 3600i64;
    let mut helpers: Vec<Helper> = Vec::new();
    for i in 0..profiles {
        let mut pick = rng.random_range(0..total_weight.max(1));
        let persona = PERSONAS
            .iter()
            .find(|p| {
                if pick < p.weight {
                    true
                } else {
                    pick -= p.weight;
                    false
                }
            })
            .unwrap_or(&PERSONAS[0]);
        let first = persona.first.choose(&mut rng).copied().unwrap_or("Ana");
        let last = persona.last.choose(&mut rng).copied().unwrap_or("Silva");
        let mut user = format!("{first} {last}");
        if !used_names.insert(user.clone()) {
            user = format!("{first} {last} {i}");
            used_names.insert(user.clone());
        }
        let lang = persona.label_lang;
        let pick_skills = |n: usize, rng: &mut ChaCha8Rng| -> Vec<String> {
            (0..n)
                .map(|_| {
                    if rng.random_bool(0.1) {
                        FREE_TEXT
                            .choose(rng)
                            .copied()
                            .unwrap_or("Zotero")
                            .to_string()
                    } else {
                        let skill = leaves.choose(rng).copied();
                        skill.map(|s| skill_item(s, lang, rng)).unwrap_or_default()
                    }
                })
                .collect()
        };
        let n_offers = rng.random_range(1..=6);
        let offers = pick_skills(n_offers, &mut rng);
        let n_wants = rng.random_range(1..=5);
        let wants = pick_skills(n_wants, &mut rng);
        let n_knows = rng.random_range(0..=3);
        let knows = pick_skills(n_knows, &mut rng);
        let mut languages = Vec::new();
        if let Some(native) = persona.native.choose(&mut rng) {
            languages.push(format!("{native}-N"));
        }
        if persona.label_lang != "en"
            && !languages.iter().any(|l| l.starts_with(persona.label_lang))
            && rng.random_bool(0.7)
        {
            languages.push(format!(
                "{}-{}",
                persona.label_lang,
                rng.random_range(3..=5)
            ));
        }
        if !languages.iter().any(|l| l.starts_with("en-")) {
            languages.push(format!("en-{}", rng.random_range(1..=4)));
        }
        if rng.random_bool(0.25) {
            let extra = ["es", "fr", "pt", "de", "ar"]
                .choose(&mut rng)
                .copied()
                .unwrap_or("es");
            if !languages.iter().any(|l| l.starts_with(extra)) {
                languages.push(format!("{extra}-{}", rng.random_range(1..=3)));
            }
        }
        let babel_outside = rng.random_bool(0.1);
        let country = if rng.random_bool(0.8) {
            persona.country
        } else {
            persona.country_name
        };
        let timezone = persona.timezones.choose(&mut rng).copied().unwrap_or("UTC");
        let affiliation = persona.affiliations.choose(&mut rng).copied().unwrap_or("");
        let projects = format!(
            "{}.wikipedia, wikidata{}",
            persona.project_lang,
            if rng.random_bool(0.4) {
                ", commons"
            } else {
                ""
            }
        );
        let n_formats = rng.random_range(1..=3);
        let formats: Vec<&str> = FORMATS.sample(&mut rng, n_formats).copied().collect();
        let n_contacts = rng.random_range(1..=2);
        let contacts: Vec<&str> = CONTACTS.sample(&mut rng, n_contacts).copied().collect();
        let paused = rng.random_bool(0.05);
        let template_name = if rng.random_bool(0.05) {
            SYNTH_ALIAS
        } else {
            PROFILE_TEMPLATE
        };
        let city = persona.country_name;
        let bio_text = bio(lang, city, &mut rng);
        let mut body = format!(
            "{{{{{template_name}\n| offers       = {}\n| wants        = {}\n",
            offers.join("; "),
            wants.join("; ")
        );
        if !knows.is_empty() {
            body.push_str(&format!("| knows        = {}\n", knows.join("; ")));
        }
        if !babel_outside {
            body.push_str(&format!("| languages    = {}\n", languages.join(", ")));
        }
        body.push_str(&format!(
            "| country      = {country}\n| timezone     = {timezone}\n| affiliations = {affiliation}\n| projects     = {projects}\n| formats      = {}\n| availability = {}\n| contact      = {}\n| bio          = {bio_text}\n| status       = {}\n}}}}",
            formats.join(", "),
            AVAILABILITY.choose(&mut rng).copied().unwrap_or("on request"),
            contacts.join(", "),
            if paused { "paused" } else { "active" },
        ));
        let mut text = String::new();
        if babel_outside {
            text.push_str(&format!("{{{{#babel:{}}}}}\n", languages.join("|")));
        }
        text.push_str(&body);
        text.push_str("\n\n== About me ==\n");
        text.push_str(&bio_text);
        text.push('\n');

        let created = start + Duration::seconds(rng.random_range(0..span_secs));
        let edited = created + Duration::seconds(rng.random_range(3600..90 * 24 * 3600));
        let title = if rng.random_bool(0.05) {
            format!("User:{user}/Capacity Exchange")
        } else {
            format!("User:{user}")
        };
        let first_draft = format!(
            "{{{{{PROFILE_TEMPLATE}\n| offers = {}\n}}}}",
            offers.first().cloned().unwrap_or_default()
        );
        let roll = rng.random_range(0..100);
        if roll < 2 {
            // Created by someone else for a person who never touched it: no profile.
            let creator = OTHER_EDITORS
                .choose(&mut rng)
                .copied()
                .unwrap_or("Helpful Gnome");
            w.page(
                &title,
                2,
                None,
                &[Rev {
                    user: creator,
                    at: created,
                    text: &text,
                    comment: "welcome! I made you a profile",
                }],
            )?;
            w.stats.never_edited_by_owner += 1;
            continue;
        }
        if roll < 5 {
            // The owner left: the template is gone from their newest revision.
            let gone = format!(
                "{{{{User {}}}}}\nI am taking a break.\n",
                persona.project_lang
            );
            w.page(
                &title,
                2,
                None,
                &[
                    Rev {
                        user: &user,
                        at: created,
                        text: &text,
                        comment: "my Capacity Exchange profile",
                    },
                    Rev {
                        user: &user,
                        at: edited,
                        text: &gone,
                        comment: "leaving the Capacity Exchange",
                    },
                ],
            )?;
            w.stats.opted_out += 1;
            continue;
        }
        w.stats.expected_profiles += 1;
        if let Some(skill) = offers.first().filter(|s| !s.is_empty()) {
            helpers.push(Helper {
                user: user.clone(),
                skill: skill.clone(),
                since: edited,
            });
        }
        if paused {
            w.stats.paused += 1;
        }
        let mut revisions = vec![
            Rev {
                user: &user,
                at: created,
                text: &first_draft,
                comment: "start my profile",
            },
            Rev {
                user: &user,
                at: edited,
                text: &text,
                comment: "more skills",
            },
        ];
        let vandalised;
        if roll < 15 {
            let other = OTHER_EDITORS
                .choose(&mut rng)
                .copied()
                .unwrap_or("Typo Fixer");
            vandalised = text.replace(
                "| offers       = ",
                "| offers       = Everything; Nothing; ",
            );
            revisions.push(Rev {
                user: other,
                at: edited + Duration::days(3),
                text: &vandalised,
                comment: "fix",
            });
            w.stats.edited_by_others += 1;
        }
        w.page(&title, 2, None, &revisions)?;
    }
    let end = start + Duration::seconds(span_secs) + Duration::days(90);
    write_thanks(&mut w, &helpers, seed, end)?;
    writeln!(w.out, "</mediawiki>")?;
    w.out.flush()?;
    Ok(w.stats)
}
