//! The read-only lists a business's `CountryId` and `SimpleTimeZoneId` point into, as this
//! dialect serves them: every ISO 3166-1 country, its `Id` the country's ISO numeric code, and
//! every IANA time zone, its `Name` the zone's IANA name and its `Id` derived from that name.
//! Both come with the build, so a country or zone has the same id in every database and every
//! run. The store keeps ISO codes and IANA names; these tables turn them into ids and back.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::map::guid;
use crate::sandbox::store::sha256_hex;
use crate::vocab::rules;
use crate::wire::nexudus::{Country, SimpleTimeZone};

/// Both lists, sorted by id, and their indexes.
struct Lookups {
    countries: Vec<Country>,
    zones: Vec<SimpleTimeZone>,
    country_ids: HashMap<&'static str, i64>,
    country_codes: HashMap<i64, &'static str>,
    zone_ids: HashMap<&'static str, i64>,
    zone_names: HashMap<i64, &'static str>,
}

static LOOKUPS: LazyLock<Lookups> = LazyLock::new(|| {
    let mut codes: Vec<(i64, &'static rust_iso3166::CountryCode)> = rust_iso3166::ALL
        .iter()
        .filter(|c| rules::valid_country(c.alpha2))
        .map(|c| (i64::from(c.numeric), c))
        .collect();
    codes.sort_by_key(|(id, _)| *id);
    let mut names: Vec<(i64, &'static str)> = rules::timezone_names()
        .into_iter()
        .map(|n| (zone_id(n), n))
        .collect();
    names.sort_unstable();
    Lookups {
        countries: codes
            .iter()
            .map(|(id, c)| Country {
                id: *id,
                unique_id: guid(&format!("country/{}", c.alpha2)),
                name: c.name.to_string(),
                two_digits_code: Some(c.alpha2.to_string()),
                culture: None,
            })
            .collect(),
        zones: names
            .iter()
            .map(|(id, n)| SimpleTimeZone {
                id: *id,
                unique_id: guid(&format!("timezone/{n}")),
                name: Some(n.to_string()),
                description: Some(place(n)),
                time_offset: None,
                uses_summer_time: None,
            })
            .collect(),
        country_ids: codes.iter().map(|(id, c)| (c.alpha2, *id)).collect(),
        country_codes: codes.iter().map(|(id, c)| (*id, c.alpha2)).collect(),
        zone_ids: names.iter().map(|(id, n)| (*n, *id)).collect(),
        zone_names: names.iter().copied().collect(),
    }
});

/// A time zone's id: 31 bits of the SHA-256 of its name, so that it never changes (a test
/// checks that no two zones share one).
fn zone_id(name: &str) -> i64 {
    let h = sha256_hex(name.as_bytes());
    i64::from(u32::from_str_radix(&h[..8], 16).unwrap_or_default() >> 1)
}

/// The place a zone is named after, for its `Description`: `Europe/Port_of_Spain` →
/// `Port of Spain`.
fn place(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).replace('_', " ")
}

/// Every country, by id.
pub(super) fn countries() -> &'static [Country] {
    &LOOKUPS.countries
}

/// Every time zone, by id.
pub(super) fn time_zones() -> &'static [SimpleTimeZone] {
    &LOOKUPS.zones
}

/// The id of the country with ISO code `code`.
pub(super) fn country_id(code: &str) -> Option<i64> {
    LOOKUPS.country_ids.get(code).copied()
}

/// The ISO code of the country numbered `id`.
pub(super) fn country_code(id: i64) -> Option<&'static str> {
    LOOKUPS.country_codes.get(&id).copied()
}

/// The id of the IANA time zone `name`.
pub(super) fn time_zone_id(name: &str) -> Option<i64> {
    LOOKUPS.zone_ids.get(name).copied()
}

/// The IANA name of the time zone numbered `id`.
pub(super) fn time_zone_name(id: i64) -> Option<&'static str> {
    LOOKUPS.zone_names.get(&id).copied()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_country_and_zone_the_store_accepts_is_listed_once_with_its_own_id() {
        let codes: HashSet<&str> = countries()
            .iter()
            .filter_map(|c| c.two_digits_code.as_deref())
            .collect();
        let want: HashSet<&str> = rules::COUNTRY_CODES.iter().copied().collect();
        assert_eq!(codes, want);
        let names: HashSet<&str> = time_zones()
            .iter()
            .filter_map(|z| z.name.as_deref())
            .collect();
        let want: HashSet<&str> = rules::timezone_names().into_iter().collect();
        assert_eq!(names, want);
        // Sorted by id, strictly: no two share one.
        assert!(countries().windows(2).all(|w| w[0].id < w[1].id));
        assert!(time_zones().windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn codes_and_names_map_to_ids_and_back() {
        for code in rules::COUNTRY_CODES {
            let id = country_id(code).unwrap_or_else(|| panic!("{code} has no id"));
            assert_eq!(country_code(id), Some(*code));
        }
        for name in rules::timezone_names() {
            let id = time_zone_id(name).unwrap_or_else(|| panic!("{name} has no id"));
            assert_eq!(time_zone_name(id), Some(name));
        }
        assert_eq!((country_id("GB"), country_id("FR")), (Some(826), Some(250)));
        assert_eq!(country_id("UK"), None, "not a country code");
        assert_eq!(
            time_zone_id("europe/london"),
            None,
            "names are spelt exactly"
        );
        assert_eq!((country_code(1), time_zone_name(1)), (None, None));
    }

    #[test]
    fn ids_are_fixed_by_the_code_or_the_name() {
        let gb = countries().iter().find(|c| c.id == 826).unwrap();
        assert_eq!(
            (gb.two_digits_code.as_deref(), gb.name.as_str()),
            (
                Some("GB"),
                "United Kingdom of Great Britain and Northern Ireland"
            )
        );
        let london = time_zone_id("Europe/London").unwrap();
        assert_eq!(london, zone_id("Europe/London"));
        assert!(london > 0 && london <= i64::from(i32::MAX));
        let z = time_zones().iter().find(|z| z.id == london).unwrap();
        assert_eq!(z.description.as_deref(), Some("London"));
        assert_eq!(place("America/Port_of_Spain"), "Port of Spain");
        assert_eq!(place("UTC"), "UTC");
    }
}
