//! The field rules that the configuration validator and the sandbox both enforce: account keys,
//! country codes, time zones and email addresses. Pure functions and constants over the
//! standard tables (ISO 3166-1, the IANA time zone database); the messages are the callers'.

/// The account key syntax as one literal, for the two constants below.
macro_rules! key_syntax {
    () => {
        "[a-z0-9][a-z0-9-]{0,62}"
    };
}

/// The account key syntax (external keys on the wire), as messages show it.
pub const KEY_SYNTAX: &str = key_syntax!();

/// [`KEY_SYNTAX`] anchored, as JSON Schema's `pattern` wants it.
pub const KEY_PATTERN: &str = concat!("^", key_syntax!(), "$");

/// Longest account key, in bytes.
pub const KEY_MAX_LEN: usize = 63;

/// Does `key` match [`KEY_SYNTAX`]: 1 to 63 lower-case ASCII letters, digits and `-`, starting
/// with a letter or digit?
pub fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= KEY_MAX_LEN
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Every ISO 3166-1 alpha-2 country code (upper case).
pub const COUNTRY_CODES: &[&str] = rust_iso3166::ALL_ALPHA2;

/// Is `code` an ISO 3166-1 alpha-2 country code, upper case (`GB`, not `gb` or `GBR`)?
pub fn valid_country(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && rust_iso3166::from_alpha2(code).is_some()
}

/// Is `name` an IANA time zone name (`Europe/London`, `UTC`), spelt exactly?
pub fn valid_timezone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

/// Every IANA time zone name, sorted.
pub fn timezone_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    names.sort_unstable();
    names
}

/// Is `email` a bare address (`local@domain.tld`): no display name, no surrounding space, a
/// dotted domain? The rule of the configuration (and of the API contract's `format: email`).
pub fn valid_email(email: &str) -> bool {
    if email.trim() != email || email.contains(['<', '>', ' ']) {
        return false;
    }
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && valid_mailbox(email)
}

/// The one identity of an email address, by which every component compares emails (the
/// configuration's checks, the planner, the providers, the access model and the sandbox): the
/// full Unicode lowercase of the whole address. `JÖRG@Firma.example` and `jörg@firma.example`
/// are one person, and so are `\u{212A}im@x.example` (the Kelvin sign) and `kim@x.example`.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// Are `a` and `b` one email address (see [`email_key`])?
pub fn same_email(a: &str, b: &str) -> bool {
    a == b || email_key(a) == email_key(b)
}

/// Is `email` an RFC 5322 mailbox: an address, possibly with a display name
/// (`Jane <jane@contoso.example>`) or a dotless or literal domain? Looser than [`valid_email`];
/// the rule the sandbox API has always applied to `email` fields.
pub fn valid_mailbox(email: &str) -> bool {
    email_address::EmailAddress::is_valid(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One person, one email, whatever the case of any letter: `Ö`, and the Kelvin sign,
    /// whose lowercase is `k`. The long `ſ` has no lowercase other than itself (its uppercase
    /// is `S`), so `ſam@` and `sam@` are two addresses, for every component alike.
    #[test]
    fn emails_compare_by_their_full_lowercase() {
        assert!(same_email("JÖRG@Firma.example", "jörg@firma.example"));
        assert_eq!(email_key("JÖRG@Firma.example"), "jörg@firma.example");
        assert!(same_email("\u{212A}im@x.example", "kim@x.example"));
        assert!(same_email("\u{212A}IM@x.example", "Kim@X.example"));
        assert!(!same_email("ſam@x.example", "sam@x.example"));
        assert!(!same_email("jorg@firma.example", "jörg@firma.example"));
        assert!(valid_email("JÖRG@firma.example") && valid_email("\u{212A}im@x.example"));
    }

    #[test]
    fn keys() {
        assert_eq!(KEY_PATTERN, format!("^{KEY_SYNTAX}$"));
        assert!(valid_key("contoso"));
        assert!(valid_key("0-a"));
        assert!(valid_key("a-"));
        assert!(valid_key(&"a".repeat(KEY_MAX_LEN)));
        assert!(!valid_key(&"a".repeat(KEY_MAX_LEN + 1)));
        assert!(!valid_key("-a"));
        assert!(!valid_key("Contoso"));
        assert!(!valid_key("a_b"));
        assert!(!valid_key("café"));
        assert!(!valid_key(""));
    }

    #[test]
    fn countries() {
        assert!(valid_country("GB"));
        assert!(valid_country("FR"));
        assert!(!valid_country("gb"));
        assert!(!valid_country("UK"));
        assert!(!valid_country("GBR"));
        assert!(!valid_country(""));
        assert!(COUNTRY_CODES.len() > 240);
        // The table is upper case, so the case check adds nothing but speed.
        assert!(COUNTRY_CODES.iter().all(|c| valid_country(c)));
    }

    #[test]
    fn timezones() {
        assert!(valid_timezone("Europe/London"));
        assert!(valid_timezone("UTC"));
        assert!(!valid_timezone("Europe/Londn"));
        assert!(!valid_timezone("europe/london"));
        assert!(!valid_timezone(""));
        let names = timezone_names();
        assert!(names.windows(2).all(|w| w[0] <= w[1]));
        assert!(names.iter().all(|n| valid_timezone(n)));
    }

    #[test]
    fn emails() {
        assert!(valid_email("jane@contoso.example"));
        assert!(valid_email("a.b+c@x.co.uk"));
        assert!(!valid_email("jane"));
        assert!(!valid_email("jane@localhost"));
        assert!(!valid_email("Jane <jane@x.com>"));
        assert!(!valid_email(" jane@x.com"));
        assert!(!valid_email("jane@@x.com"));
        assert!(!valid_email("jane@.x.com"));
        assert!(!valid_email("jane@x.com."));
    }

    #[test]
    fn mailboxes_are_looser_than_emails() {
        for ok in [
            "jane@contoso.example",
            "jane@localhost",
            "Jane <jane@x.com>",
        ] {
            assert!(valid_mailbox(ok), "{ok}");
        }
        for bad in ["jane", "jane@@x.com", "", "@x.com"] {
            assert!(!valid_mailbox(bad), "{bad}");
        }
    }
}

/// Longest name (of a partner, account, contact or user), in characters. The API refuses
/// longer ones; `schemas/openapi.yaml` says so (`maxLength`), and a test keeps them equal.
pub const NAME_MAX_CHARS: usize = 200;
/// Most labels on one account.
pub const LABELS_MAX: usize = 64;
/// Longest label key, in characters.
pub const LABEL_KEY_MAX_CHARS: usize = 63;
/// Longest label value, in characters.
pub const LABEL_VALUE_MAX_CHARS: usize = 255;

/// A label key of 1 to [`LABEL_KEY_MAX_CHARS`] characters.
pub fn label_key_fits(key: &str) -> bool {
    !key.is_empty() && key.chars().count() <= LABEL_KEY_MAX_CHARS
}

/// A label value of at most [`LABEL_VALUE_MAX_CHARS`] characters.
pub fn label_value_fits(value: &str) -> bool {
    value.chars().count() <= LABEL_VALUE_MAX_CHARS
}

/// What is wrong with a name, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    /// Blank.
    Empty,
    /// Longer than [`NAME_MAX_CHARS`].
    TooLong,
    /// Starts or ends with white space.
    Spaces,
}

/// Checks a name against the API's rules.
pub fn name_problem(name: &str) -> Option<NameProblem> {
    let t = name.trim();
    if t.is_empty() {
        Some(NameProblem::Empty)
    } else if name.chars().count() > NAME_MAX_CHARS {
        Some(NameProblem::TooLong)
    } else if t != name {
        Some(NameProblem::Spaces)
    } else {
        None
    }
}

/// Country and zone pairs of tzdata's `zone.tab`, for suggesting time zones by country.
const ZONES: &str = include_str!("zones.tsv");

/// The IANA time zones used in `country` (an alpha-2 code), in tzdata's order; empty for an
/// unknown code.
pub fn zones_of(country: &str) -> Vec<&'static str> {
    let country = country.trim().to_ascii_uppercase();
    ZONES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(c, _)| *c == country)
        .map(|(_, z)| z)
        .collect()
}

/// Common names of countries that are not their ISO short name.
const COUNTRY_ALIASES: [(&str, &str); 34] = [
    ("uk", "GB"),
    ("u.k.", "GB"),
    ("united kingdom", "GB"),
    ("great britain", "GB"),
    ("britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("usa", "US"),
    ("u.s.a.", "US"),
    ("u.s.", "US"),
    ("united states", "US"),
    ("america", "US"),
    ("holland", "NL"),
    ("the netherlands", "NL"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
    ("russia", "RU"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("north korea", "KP"),
    ("vietnam", "VN"),
    ("iran", "IR"),
    ("syria", "SY"),
    ("bolivia", "BO"),
    ("venezuela", "VE"),
    ("tanzania", "TZ"),
    ("moldova", "MD"),
    ("laos", "LA"),
    ("taiwan", "TW"),
    ("uae", "AE"),
    ("ivory coast", "CI"),
    ("deutschland", "DE"),
];

/// Lower case, without parenthesised parts, punctuation other than `.` and runs of spaces.
fn plain(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || c == '.' => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The alpha-2 code a country name (or code) most likely means: a valid code in any case, an
/// alpha-3 code, a common name (`UK`, `USA`, `Holland`), the ISO short name or its start
/// (`United Kingdom`, `Korea`), or a close spelling of it.
pub fn country_from_name(text: &str) -> Option<&'static str> {
    let upper = text.trim().to_ascii_uppercase();
    if let Some(c) = COUNTRY_CODES.iter().find(|c| **c == upper) {
        return Some(c);
    }
    if let Some(c) = rust_iso3166::from_alpha3(&upper) {
        return Some(c.alpha2);
    }
    let wanted = plain(text);
    if let Some((_, code)) = COUNTRY_ALIASES.iter().find(|(a, _)| plain(a) == wanted) {
        return Some(code);
    }
    let names = || rust_iso3166::ALL.iter().map(|c| (plain(c.name), c.alpha2));
    if let Some((_, code)) = names().find(|(n, _)| *n == wanted) {
        return Some(code);
    }
    // "Korea, Republic of" is "korea republic of": the part before the comma, or the start.
    if wanted.len() >= 4 {
        if let Some((_, code)) = names().find(|(n, _)| n.starts_with(&format!("{wanted} "))) {
            return Some(code);
        }
    }
    names()
        .map(|(n, code)| (strsim::jaro_winkler(&wanted, &n), code))
        .filter(|(score, _)| *score >= 0.92)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, code)| code)
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn countries_by_name_and_alias() {
        for (given, code) in [
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("usa", "US"),
            ("United States", "US"),
            ("gbr", "GB"),
            ("fr", "FR"),
            ("Germany", "DE"),
            ("Holland", "NL"),
            ("Korea", "KR"),
            ("Viet Nam", "VN"),
            ("Switzerland", "CH"),
            ("Swtzerland", "CH"),
        ] {
            assert_eq!(country_from_name(given), Some(code), "{given}");
        }
        assert_eq!(country_from_name("Atlantis"), None);
    }

    #[test]
    fn zones_by_country() {
        assert_eq!(zones_of("GB"), ["Europe/London"]);
        assert_eq!(zones_of("de"), ["Europe/Berlin", "Europe/Busingen"]);
        assert!(zones_of("US").len() > 20);
        assert!(zones_of("ZZ").is_empty());
        for z in zones_of("AU") {
            assert!(valid_timezone(z), "{z}");
        }
    }
}
