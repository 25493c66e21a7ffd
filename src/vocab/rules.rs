//! The field rules that the configuration validator and the sandbox both enforce: account keys,
//! country codes, time zones, email addresses, names and the characters no free text may hold
//! ([`hidden_char`]), with the one way every output shows such characters ([`escape_hidden`]).
//! Pure functions and constants over the standard tables (ISO 3166-1, the IANA time zone
//! database); the messages are the callers'.

use std::borrow::Cow;

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
    if email.trim() != email || email.contains(['<', '>', ' ']) || has_hidden(email) {
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
/// (`Jane <jane@contoso.example>`) or a dotless or literal domain, without
/// [hidden characters](hidden_char)? Looser than [`valid_email`]; the rule the sandbox API
/// applies to `email` fields.
pub fn valid_mailbox(email: &str) -> bool {
    !has_hidden(email) && email_address::EmailAddress::is_valid(email)
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
    /// Holds a [hidden character](hidden_char).
    Hidden(Hidden),
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
    } else if let Some(h) = first_hidden(name) {
        Some(NameProblem::Hidden(h))
    } else if t != name {
        Some(NameProblem::Spaces)
    } else {
        None
    }
}

/// Is `c` a character that text does not show as what it is, and that names and other free
/// text (labels, emails) may therefore not hold: a control character (C0 with NUL, BEL, tab, LF,
/// CR and ESC; DEL; C1, whose CSI a terminal may obey like ESC `[`), a bidirectional control
/// (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), a zero-width or other
/// invisible format character (U+200B to U+200D, U+2060 to U+2064 and the deprecated
/// U+206A to U+206F, U+FEFF), or the line and paragraph separators U+2028 and U+2029.
///
/// Every output shows such characters escaped ([`escape_hidden`]); the configuration's
/// validation and the sandbox refuse them.
pub fn hidden_char(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
    )
}

/// Does `text` hold a [hidden character](hidden_char)?
pub fn has_hidden(text: &str) -> bool {
    text.chars().any(hidden_char)
}

/// The first [hidden character](hidden_char) of a text, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hidden {
    /// The character.
    pub char: char,
    /// Its position in the text, in characters from 1.
    pub at: usize,
}

impl Hidden {
    /// What the character is, in words: `ESC (escape)`, `a line feed`, `U+202E (a bidirectional
    /// control)`.
    pub fn describe(&self) -> String {
        let c = self.char;
        let what = match c {
            '\0' => "NUL",
            '\u{7}' => "BEL (bell)",
            '\u{8}' => "a backspace",
            '\t' => "a tab",
            '\n' => "a line feed",
            '\r' => "a carriage return",
            '\u{1b}' => "ESC (escape, which starts terminal control sequences)",
            '\u{2028}' => "a line separator",
            '\u{2029}' => "a paragraph separator",
            '\u{200b}' => "a zero-width space",
            '\u{200c}' => "a zero-width non-joiner",
            '\u{200d}' => "a zero-width joiner",
            '\u{2060}' => "a word joiner",
            '\u{feff}' => "a zero-width no-break space (byte order mark)",
            '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => "a bidirectional control",
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => "a control character",
            _ => "an invisible format character",
        };
        format!("{what} (U+{:04X})", u32::from(c))
    }
}

impl std::fmt::Display for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at character {}", self.describe(), self.at)
    }
}

/// The first [hidden character](hidden_char) of `text`, if any.
pub fn first_hidden(text: &str) -> Option<Hidden> {
    text.chars()
        .enumerate()
        .find(|(_, c)| hidden_char(*c))
        .map(|(i, c)| Hidden { char: c, at: i + 1 })
}

/// `text` with every [hidden character](hidden_char) written as an escape that shows what it
/// is, as Rust writes them: `\n`, `\r`, `\t`, `\0`, else `\u{1b}`, `\u{202e}`. Nothing else
/// changes (a backslash stays one). How every output of people's text shows names and other
/// text from the API or the configuration: the characters can neither reorder nor hide what
/// is shown, nor start a line or a terminal control sequence.
pub fn escape_hidden(text: &str) -> Cow<'_, str> {
    escape_hidden_but(text, None)
}

/// [`escape_hidden`], except that line feeds stay: for messages of several lines worded by
/// partnerctl (diagnostics on stderr), where a value's own line feed still starts a line but
/// nothing in it can colour, move, hide or reorder what is printed.
pub fn escape_hidden_keep_lines(text: &str) -> Cow<'_, str> {
    escape_hidden_but(text, Some('\n'))
}

fn escape_hidden_but(text: &str, keep: Option<char>) -> Cow<'_, str> {
    let escape = |c: char| hidden_char(c) && Some(c) != keep;
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escape(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Appends the escape of one [hidden character](hidden_char).
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
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

#[cfg(test)]
mod hidden_tests {
    use super::*;

    /// Every character the rule names, and none of the ordinary ones around them.
    #[test]
    fn hidden_characters_are_controls_bidi_controls_and_invisibles() {
        for c in [
            '\0', '\u{7}', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{61c}',
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}',
            '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2060}', '\u{2066}',
            '\u{2067}', '\u{2068}', '\u{2069}', '\u{feff}',
        ] {
            assert!(hidden_char(c), "{:04X}", u32::from(c));
        }
        for c in [
            ' ', 'a', '~', '\u{a0}', '\u{a9}', 'é', 'ß', '\u{2000}', '\u{200a}', '\u{2010}',
            '\u{2027}', '\u{202f}', '\u{205f}', '\u{3000}', '\u{fe0f}', 'ض', '中', '😀',
        ] {
            assert!(!hidden_char(c), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn escapes_show_what_the_characters_are_and_change_nothing_else() {
        assert!(matches!(
            escape_hidden("Jane Doe"),
            Cow::Borrowed("Jane Doe")
        ));
        assert_eq!(escape_hidden("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_hidden("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape_hidden("a\nb\r\tc\0"), "a\\nb\\r\\tc\\0");
        assert_eq!(
            escape_hidden("\u{200b}\u{feff}\u{9b}"),
            "\\u{200b}\\u{feff}\\u{9b}"
        );
        assert_eq!(escape_hidden("C:\\temp é 中"), "C:\\temp é 中");
        assert_eq!(escape_hidden_keep_lines("a\nb\u{7}"), "a\nb\\u{7}");
        assert!(!escape_hidden("x\u{2066}y\u{85}").chars().any(hidden_char));
    }

    #[test]
    fn names_and_emails_refuse_them() {
        assert_eq!(
            name_problem("Acme\u{202e}Partners"),
            Some(NameProblem::Hidden(Hidden {
                char: '\u{202e}',
                at: 5
            }))
        );
        assert_eq!(
            name_problem("Acme\n"),
            Some(NameProblem::Hidden(Hidden { char: '\n', at: 5 }))
        );
        assert_eq!(name_problem(" Acme"), Some(NameProblem::Spaces));
        assert_eq!(
            name_problem("\u{200b}"),
            Some(NameProblem::Hidden(Hidden {
                char: '\u{200b}',
                at: 1
            }))
        );
        assert_eq!(name_problem("Zoë O'Brien-Ødegård 中"), None);
        assert_eq!(
            first_hidden("ab\u{1b}").map(|h| h.to_string()).as_deref(),
            Some("ESC (escape, which starts terminal control sequences) (U+001B) at character 3")
        );
        assert_eq!(
            Hidden {
                char: '\u{2067}',
                at: 1
            }
            .describe(),
            "a bidirectional control (U+2067)"
        );
        for email in [
            "ja\u{202e}ne@x.example",
            "jane@x\u{200b}.example",
            "jane\u{7}@x.example",
        ] {
            assert!(!valid_email(email), "{email:?}");
            assert!(!valid_mailbox(email), "{email:?}");
        }
    }
}
