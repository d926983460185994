//! Countries and the Wikimedia regions they belong to.
//!
//! Profiles name a country by ISO 3166-1 alpha-2 code or English name; the region is derived,
//! so statistics and matching can group people the way the movement's regional bodies do.
//! The table is data (`data/countries.tsv`), so it can be corrected without touching code.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text_key::fold;

/// A Wikimedia Foundation region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Region {
    #[serde(rename = "SSA")]
    SubSaharanAfrica,
    #[serde(rename = "NWE")]
    NorthernWesternEurope,
    #[serde(rename = "ESEAP")]
    EastSoutheastAsiaPacific,
    #[serde(rename = "LAC")]
    LatinAmericaCaribbean,
    #[serde(rename = "CEECA")]
    CentralEasternEuropeCentralAsia,
    #[serde(rename = "SA")]
    SouthAsia,
    #[serde(rename = "MENA")]
    MiddleEastNorthAfrica,
    #[serde(rename = "NA")]
    NorthAmerica,
}

impl Region {
    pub const ALL: [Region; 8] = [
        Region::SubSaharanAfrica,
        Region::NorthernWesternEurope,
        Region::EastSoutheastAsiaPacific,
        Region::LatinAmericaCaribbean,
        Region::CentralEasternEuropeCentralAsia,
        Region::SouthAsia,
        Region::MiddleEastNorthAfrica,
        Region::NorthAmerica,
    ];

    /// The short code used in the template, the API and the statistics (`SSA`, `LAC`, …).
    pub fn code(self) -> &'static str {
        match self {
            Region::SubSaharanAfrica => "SSA",
            Region::NorthernWesternEurope => "NWE",
            Region::EastSoutheastAsiaPacific => "ESEAP",
            Region::LatinAmericaCaribbean => "LAC",
            Region::CentralEasternEuropeCentralAsia => "CEECA",
            Region::SouthAsia => "SA",
            Region::MiddleEastNorthAfrica => "MENA",
            Region::NorthAmerica => "NA",
        }
    }

    /// The English name, for reports and logs; the web tool translates by code.
    pub fn english_name(self) -> &'static str {
        match self {
            Region::SubSaharanAfrica => "Sub-Saharan Africa",
            Region::NorthernWesternEurope => "Northern and Western Europe",
            Region::EastSoutheastAsiaPacific => "East, Southeast Asia and the Pacific",
            Region::LatinAmericaCaribbean => "Latin America and the Caribbean",
            Region::CentralEasternEuropeCentralAsia => {
                "Central and Eastern Europe and Central Asia"
            }
            Region::SouthAsia => "South Asia",
            Region::MiddleEastNorthAfrica => "Middle East and North Africa",
            Region::NorthAmerica => "North America",
        }
    }

    pub fn from_code(code: &str) -> Option<Region> {
        Region::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A country or territory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2, upper case.
    pub code: String,
    pub name: String,
    pub region: Region,
}

struct Countries {
    list: Vec<Country>,
    by_key: HashMap<String, usize>,
}

fn countries() -> &'static Countries {
    static TABLE: OnceLock<Countries> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut list = Vec::new();
        let mut by_key = HashMap::new();
        for line in include_str!("../data/countries.tsv").lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(code), Some(name), Some(region)) = (cols.first(), cols.get(1), cols.get(2))
            else {
                continue;
            };
            let Some(region) = Region::from_code(region) else {
                continue;
            };
            let index = list.len();
            by_key.insert(code.to_ascii_lowercase(), index);
            by_key.insert(fold(name), index);
            for alias in cols
                .get(3)
                .unwrap_or(&"")
                .split('|')
                .filter(|a| !a.is_empty())
            {
                by_key.entry(fold(alias)).or_insert(index);
            }
            list.push(Country {
                code: code.to_string(),
                name: name.to_string(),
                region,
            });
        }
        Countries { list, by_key }
    })
}

/// Finds a country by ISO code or English name (case- and accent-insensitive).
pub fn find_country(text: &str) -> Option<&'static Country> {
    let table = countries();
    let key = fold(text);
    table.by_key.get(&key).map(|&i| &table.list[i])
}

/// Every known country, sorted by code.
pub fn all_countries() -> &'static [Country] {
    &countries().list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_names_and_aliases_resolve() {
        assert_eq!(
            find_country("BR").map(|c| c.region),
            Some(Region::LatinAmericaCaribbean)
        );
        assert_eq!(find_country("br").map(|c| c.code.as_str()), Some("BR"));
        assert_eq!(find_country("Brazil").map(|c| c.code.as_str()), Some("BR"));
        assert_eq!(
            find_country("nigeria").map(|c| c.region),
            Some(Region::SubSaharanAfrica)
        );
        assert_eq!(
            find_country("Poland").map(|c| c.region),
            Some(Region::CentralEasternEuropeCentralAsia)
        );
        assert_eq!(find_country("USA").map(|c| c.code.as_str()), Some("US"));
        assert_eq!(
            find_country("Cote d'Ivoire").map(|c| c.code.as_str()),
            Some("CI")
        );
        assert_eq!(
            find_country("India").map(|c| c.region),
            Some(Region::SouthAsia)
        );
        assert_eq!(find_country("Atlantis"), None);
    }

    #[test]
    fn the_table_is_complete() {
        assert!(all_countries().len() >= 249);
        for region in Region::ALL {
            assert!(
                all_countries().iter().any(|c| c.region == region),
                "{region}"
            );
        }
    }
}
