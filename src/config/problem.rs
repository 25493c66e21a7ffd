//! Stage `config`, problems: what can be wrong with a configuration ([`ProblemKind`], one
//! variant per kind of problem) and where ([`Location`], `path:line:col`). Pure data.

use std::fmt;

use super::yaml;
use crate::vocab::rules::{Hidden, escape_hidden};

pub use crate::vocab::diagnostic::Location;
use crate::vocab::diagnostic::{Diagnostic, Severity};

/// What is wrong, without where. One variant per kind of problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemKind {
    /// A path could not be read.
    #[error("cannot read: {0}")]
    Io(String),
    /// A named directory holds no `*.yaml`/`*.yml` file.
    #[error("no *.yaml or *.yml files in this directory")]
    NoFiles,
    /// A path that is neither a regular file nor a directory (a FIFO, a socket, a device),
    /// named by the user or found below a named directory.
    #[error(
        "cannot read: this is {0}, not a regular file; a configuration is read only from regular files: remove it or move it out of the configuration"
    )]
    NotAFile(&'static str),
    /// A file larger than a configuration file may be.
    #[error(
        "cannot read: the file has {size} bytes, more than the {limit} bytes ({} MiB) a configuration file may have; split it into several files in one directory",
        limit / (1024 * 1024)
    )]
    TooLarge {
        /// The file's size (at least what was read of it), in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A problem of the YAML text itself.
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// Columns of a table's header the format does not have: ignored with a warning, or an
    /// error with `--strict`.
    #[error("{}", unknown_columns(columns, allowed, *users, *strict))]
    UnknownColumns {
        /// Each column as written, with the closest known column.
        columns: Vec<(String, Option<String>)>,
        /// The columns the table may have.
        allowed: Vec<String>,
        /// Is it a users table (whose columns are others)?
        users: bool,
        /// Is this an error (`--strict`) rather than a warning?
        strict: bool,
    },
    /// Something worth knowing that does not stop the configuration from loading.
    #[error("warning: {0}")]
    Warning(Box<ProblemKind>),
    /// A table's header given twice.
    #[error("column `{0}` appears twice (headers match whatever their case): remove or rename one")]
    DuplicateColumn(String),
    /// A column every table of its kind needs.
    #[error("missing column `{0}`: add it to the first row, which names the columns")]
    MissingColumn(&'static str),
    /// A customer table without even a header row.
    #[error(
        "empty table: the first row must name the columns (name, contact_name, contact_email, ...)"
    )]
    EmptyTable,
    /// A customer table that is not valid CSV.
    #[error("not valid CSV: {0}")]
    Csv(String),
    /// An `.xlsx` file that cannot be read as a workbook.
    #[error(
        "not a workbook that can be read ({0}): save it again from Excel as an Excel Workbook (.xlsx), or as CSV UTF-8"
    )]
    Workbook(String),
    /// A row with more or fewer cells than the header has columns.
    #[error("{}", ragged(*cells, *expected, delimiter))]
    RaggedRow {
        /// The row's cells.
        cells: usize,
        /// The header's columns.
        expected: usize,
        /// The table's delimiter, for the message.
        delimiter: &'static str,
    },
    /// A quote opening a cell that is never closed, so that the rows after it were read as
    /// part of the cell.
    #[error("this cell opens a quote (`\"`) that is not closed {}: close it, and write a quote inside a quoted cell as `\"\"`", lines.map_or_else(|| "before the end of the file, so every line after it was read as part of the cell".to_string(), |n| if n == 1 { "on its line, so the next line was read as part of the cell".to_string() } else { format!("on its line, so the next {n} lines were read as part of the cell") }))]
    UnterminatedQuote {
        /// How many lines after its own it swallowed, `None` for the rest of the file.
        lines: Option<usize>,
    },
    /// A services cell with `,` between types.
    #[error("service types are separated by `;`, not `,`: write `{fixed}` instead of `{written}`")]
    ServicesComma {
        /// The cell as written.
        written: String,
        /// The cell with `;`.
        fixed: String,
    },
    /// A table's file in no encoding the loader reads.
    #[error(
        "this file is not text in UTF-8, UTF-16 (with a byte order mark) or Windows-1252 ({found} on this row is none of them): save it as \"CSV UTF-8\" (in Excel: File › Save As › CSV UTF-8 (Comma delimited)) and try again"
    )]
    Encoding {
        /// What could not be read (`byte 0x81`, `a NUL byte`).
        found: String,
    },
    /// A file with no document, or whose document is not a mapping.
    #[error("expected a mapping with `version`, `partner`, `defaults` or `customers`, found {0}")]
    NotAMapping(&'static str),
    /// A field the format does not have.
    #[error("unknown field `{field}`{}; allowed here: {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), allowed.join(", "))]
    UnknownField {
        /// The field as written.
        field: String,
        /// The closest allowed name, if any is close.
        suggestion: Option<String>,
        /// Every allowed name here.
        allowed: Vec<String>,
    },
    /// A required field is absent.
    #[error("missing required field `{0}`")]
    MissingField(String),
    /// A field written without a value (`partner:` and nothing after it) where one is needed.
    #[error("`{field}` has no value; expected {expected}")]
    NoValue {
        /// The field.
        field: String,
        /// What the format wants.
        expected: String,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the format wants.
        expected: String,
        /// What the file has.
        found: &'static str,
    },
    /// A required text is blank.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// An account key that does not match `[a-z0-9][a-z0-9-]{0,62}`.
    #[error(
        "invalid key `{0}`: use 1 to 63 lower-case letters, digits and `-`, starting with a letter or digit"
    )]
    InvalidKey(String),
    /// A row without a key whose name derives the key of another account.
    #[error("{}", derived_clash(key, first, *here_derived, *first_derived))]
    DerivedKeyClash {
        /// The key.
        key: String,
        /// The other account's key (or name, for a derived one).
        first: Location,
        /// Is the key here derived from a name?
        here_derived: bool,
        /// Is the other one?
        first_derived: bool,
    },
    /// A users table's row for an account the configuration does not have.
    #[error("account `{account}` is not the key of a customer, network or sub-account of the configuration, nor `partner`{}: write the key of the account this user joins", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownAccount {
        /// The account as written (lower case).
        account: String,
        /// The closest key, if any is close.
        suggestion: Option<String>,
    },
    /// A users table's row, imported, for an account that is not a customer imported with it.
    #[error(
        "account `{0}` is not a customer of what is imported: import writes customers with their users, so a user of another account (or of `partner`) has no place there; keep this users sheet in the configuration directory, where it is read with every account, or add the user to that account's YAML"
    )]
    NotImported(String),
    /// The same account key twice in the configuration.
    #[error(
        "duplicate account key `{key}`; it is already declared at {first} (keys are unique in the whole configuration)"
    )]
    DuplicateAccountKey {
        /// The key.
        key: String,
        /// The first declaration.
        first: Location,
    },
    /// The same user email twice in one account.
    #[error(
        "duplicate user `{email}` in {account}; already listed at {first} (emails compare case-insensitively)"
    )]
    DuplicateEmail {
        /// The email as written the second time.
        email: String,
        /// The account, for the message.
        account: String,
        /// The first listing.
        first: Location,
    },
    /// The same service type twice in one account.
    #[error(
        "duplicate service `{service_type}` in {account}; already listed at {first} (an account has at most one service per type)"
    )]
    DuplicateService {
        /// The service type.
        service_type: String,
        /// The account, for the message.
        account: String,
        /// The first listing.
        first: Location,
    },
    /// One email given another role or name than elsewhere, where the provider keeps one
    /// role and one name per login.
    #[error("{}", login_differs(email, *field, here, account, others))]
    LoginDiffers {
        /// The email, lower case.
        email: String,
        /// What differs.
        field: LoginField,
        /// Its value here.
        here: String,
        /// The account listing it here (`partner`, `customer.contoso`).
        account: String,
        /// The other values: value, account, where.
        others: Vec<(String, String, Location)>,
    },
    /// A name longer than the API takes.
    #[error("{what} is {chars} characters long; the API takes at most {max}")]
    NameTooLong {
        /// Which name ("name", "contact name", "user name").
        what: &'static str,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A name with leading or trailing white space, which the API refuses.
    #[error("{0} must not start or end with spaces")]
    NameSpaces(&'static str),
    /// A name, email or label holding a control, bidirectional or zero-width character, which
    /// no output can show as it is and the API refuses.
    #[error(
        "{what} \"{}\" contains {hidden}; remove it (names, emails and labels may not hold control, bidirectional or zero-width characters)",
        escape_hidden(value)
    )]
    HiddenCharacter {
        /// Which text ("name", "user name", "label key").
        what: String,
        /// The text as written.
        value: String,
        /// Its first such character.
        hidden: Hidden,
    },
    /// A label key that is empty or too long.
    #[error("label key `{key}` is {chars} characters long; label keys are 1 to {max} characters")]
    LabelKeySize {
        /// The key.
        key: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A label value that is too long.
    #[error(
        "label `{key}` has a value of {chars} characters; label values are at most {max} characters"
    )]
    LabelValueSize {
        /// The key.
        key: String,
        /// The value's length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// More labels on one account than the API takes.
    #[error("{account} would have {count} labels{}; an account has at most {max}", if counted.is_empty() { String::new() } else { format!(" ({counted})") })]
    TooManyLabels {
        /// The account, for the message.
        account: String,
        /// Labels the account would carry.
        count: usize,
        /// What the count includes beyond its own labels ("with defaults and `protect`").
        counted: String,
        /// The limit.
        max: usize,
    },
    /// Not an email address.
    #[error("invalid email address `{0}`: expected a bare address like name@example.com")]
    InvalidEmail(String),
    /// Not an ISO 3166-1 alpha-2 code.
    #[error("invalid country `{value}`: expected an ISO 3166-1 alpha-2 code{}", suggestion.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_else(|| " such as GB, FR or US".to_string()))]
    InvalidCountry {
        /// As written.
        value: String,
        /// A likely intended code.
        suggestion: Option<String>,
    },
    /// Not an IANA timezone name.
    #[error("invalid timezone `{value}`: expected an IANA name{}", timezone_hint(suggestion.as_deref(), zones.as_ref()))]
    InvalidTimezone {
        /// As written.
        value: String,
        /// A likely intended name, by spelling.
        suggestion: Option<String>,
        /// The account's country and the zones used there.
        zones: Option<(String, Vec<String>)>,
    },
    /// A role other than `admin`/`member`.
    #[error("invalid role `{0}`: expected `admin` or `member`")]
    InvalidRole(String),
    /// `version` other than 1.
    #[error("unsupported version {0}: this partnerctl reads version 1")]
    UnsupportedVersion(String),
    /// `partner` in two files (or twice).
    #[error(
        "`partner` is declared again; it is already declared at {first} (exactly one file declares it)"
    )]
    PartnerTwice {
        /// The first declaration.
        first: Location,
    },
    /// No file declares `partner`.
    #[error(
        "no file declares `partner`; add `partner: {{name: ..., users: [...]}}` to exactly one file"
    )]
    PartnerMissing,
    /// `defaults` twice.
    #[error("`defaults` is declared again; it is already declared at {first} (it may appear once)")]
    DefaultsTwice {
        /// The first declaration.
        first: Location,
    },
    /// A service type the catalog does not have.
    #[error("unknown service type `{service_type}`{}; {}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), known_types(known))]
    UnknownServiceType {
        /// The type as written.
        service_type: String,
        /// The closest known type, if any is close.
        suggestion: Option<String>,
        /// Every type of the catalog.
        known: Vec<String>,
    },
    /// A setting the type's settings schema does not allow.
    #[error("unknown setting `{setting}` for service `{service_type}`{}{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default(), if allowed.is_empty() { String::new() } else { format!("; allowed here: {}", allowed.join(", ")) })]
    UnknownSetting {
        /// The service type.
        service_type: String,
        /// The setting, as a path below `settings` (`name`, or `outer/name`).
        setting: String,
        /// The closest allowed setting, if any is close.
        suggestion: Option<String>,
        /// The settings the schema names here (known at the top level only).
        allowed: Vec<String>,
    },
    /// Settings the type's settings schema rejects.
    #[error("invalid settings for `{service_type}`: {}{message}", if pointer.is_empty() { String::new() } else { format!("{pointer}: ") })]
    InvalidSetting {
        /// The service type.
        service_type: String,
        /// Where in the settings, as a JSON pointer (empty: the settings as a whole).
        pointer: String,
        /// What the schema says is wrong.
        message: String,
    },
    /// A customer without country and no default.
    #[error("customer {0} has no `country` and `defaults` sets none")]
    NoCountry(String),
    /// A customer without a contact, for a provider that needs one.
    #[error(
        "customer {0} has no `contact`, which the partner API needs to create a customer: add `contact: {{ name: ..., email: ... }}` (a provider that stores no contacts, such as nexudus, needs none: say which with --provider or PARTNERCTL_PROVIDER)"
    )]
    NoContact(String),
    /// A customer without timezone and no default.
    #[error("customer {0} has no `timezone` and `defaults` sets none")]
    NoTimezone(String),
    /// The model could not be built although every check passed (a bug; please report it).
    #[error("internal error building the configuration: {0}")]
    Internal(String),
}

impl ProblemKind {
    /// Is this a warning, which does not stop a configuration from loading?
    pub fn is_warning(&self) -> bool {
        matches!(self, ProblemKind::Warning(_))
    }

    /// Is this a problem of a whole table row rather than of one of its cells (located at the
    /// row's first column, but about no column)?
    pub fn is_of_row(&self) -> bool {
        matches!(
            self,
            ProblemKind::RaggedRow { .. }
                | ProblemKind::UnterminatedQuote { .. }
                | ProblemKind::Csv(_)
                | ProblemKind::Encoding { .. }
                | ProblemKind::NoCountry(_)
                | ProblemKind::NoTimezone(_)
                | ProblemKind::NoContact(_)
                | ProblemKind::TooManyLabels { .. }
        )
    }
}

/// One located problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where.
    pub location: Location,
    /// In a customer table, the column of the cell.
    pub column: Option<String>,
    /// What.
    pub kind: ProblemKind,
}

/// Where `pos` of the source at `path` is (`None`: no source was read).
pub(crate) fn location(path: Option<&str>, pos: super::yaml::Pos) -> Location {
    Location {
        path: path.map_or_else(|| "(no files)".to_string(), str::to_string),
        pos,
    }
}

impl Problem {
    /// `kind` at `pos` of the source at `path` (`None`: no source was read), with the column
    /// of the cell at `pos` when the source is a table with `header`.
    pub(crate) fn at(
        path: Option<&str>,
        header: Option<&super::table::Header>,
        pos: super::yaml::Pos,
        kind: ProblemKind,
    ) -> Problem {
        Problem {
            location: location(path, pos),
            column: header
                .filter(|_| !kind.is_of_row())
                .and_then(|h| h.column(pos))
                .map(str::to_string),
            kind,
        }
    }
}

/// `path:line:col: message`, on one line whatever the values in it hold: control,
/// bidirectional and zero-width characters of the path, the column or the values the message
/// quotes are shown escaped (`\u{202e}`).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (location, kind) = (self.location.to_string(), self.kind.to_string());
        let (location, kind) = (escape_hidden(&location), escape_hidden(&kind));
        match &self.column {
            Some(c) => write!(f, "{location}: (column {}) {kind}", escape_hidden(c)),
            None => write!(f, "{location}: {kind}"),
        }
    }
}

/// The message of [`ProblemKind::UnknownColumns`].
fn unknown_columns(
    columns: &[(String, Option<String>)],
    allowed: &[String],
    users: bool,
    strict: bool,
) -> String {
    let listed: Vec<String> = columns
        .iter()
        .map(|(c, s)| match s {
            Some(s) => format!("`{c}` (did you mean `{s}`?)"),
            None => format!("`{c}`"),
        })
        .collect();
    let (one, table) = (columns.len() == 1, if users { "users" } else { "customer" });
    let extra = if users { "" } else { " and label:NAME" };
    let what = if strict {
        "refused (--strict)"
    } else {
        "ignored: their cells are not read"
    };
    format!(
        "unknown column{} {} {what}; the columns of a {table} table are {}{extra}: rename {} to one of them, or remove {}",
        if one { "" } else { "s" },
        listed.join(", "),
        allowed.join(", "),
        if one { "it" } else { "each" },
        if one { "it" } else { "them" },
    )
}

/// The message of [`ProblemKind::RaggedRow`].
fn ragged(cells: usize, expected: usize, delimiter: &str) -> String {
    if cells > expected {
        format!(
            "this row has {cells} cells but the header has {expected} columns, so its cells do not line up with their columns: a {delimiter} inside a value must be in a quoted cell (\"Acme, Ltd\"), or remove the extra cells"
        )
    } else {
        format!(
            "this row has {cells} cells but the header has {expected} columns: add the missing cells (an empty one too, as nothing between two {delimiter}s), so that each value is under its column"
        )
    }
}

/// The message of [`ProblemKind::DerivedKeyClash`].
fn derived_clash(key: &str, first: &Location, here: bool, there: bool) -> String {
    match (here, there) {
        (true, true) => format!(
            "this row has no key and its name gives the key `{key}`, as does the row at {first}: keys from names would follow the rows' order and swap the accounts when the sheet is sorted, so give each of these rows its own key in a `key` column"
        ),
        (true, false) => format!(
            "this row has no key and its name gives the key `{key}`, which the account at {first} already has: give this row its own key in a `key` column"
        ),
        _ => format!(
            "key `{key}` is also the key the row at {first} gets from its name (it has no key): give that row its own key in a `key` column"
        ),
    }
}

/// The end of an unknown-service-type message: the catalog's types.
fn known_types(known: &[String]) -> String {
    if known.is_empty() {
        "the catalog has no service types".to_string()
    } else {
        format!("known types: {}", known.join(", "))
    }
}

/// The end of an invalid-timezone message: the zones of the account's country when known,
/// else a close spelling, else examples.
fn timezone_hint(suggestion: Option<&str>, zones: Option<&(String, Vec<String>)>) -> String {
    let quoted = |z: &[String]| {
        z.iter()
            .map(|z| format!("`{z}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (zones, suggestion) {
        (Some((country, z)), _) if z.len() == 1 => {
            format!(", did you mean `{}` (the time zone of {country})?", z[0])
        }
        (Some((country, z)), _) if z.len() <= 6 => {
            format!(
                ", did you mean one of the time zones of {country}: {}?",
                quoted(z)
            )
        }
        (Some((country, z)), _) if !z.is_empty() => format!(
            "; the time zones of {country} include {} ({} in all)",
            quoted(&z[..5]),
            z.len()
        ),
        (_, Some(s)) => format!(", did you mean `{s}`?"),
        _ => " such as Europe/London or America/New_York".to_string(),
    }
}

/// Every problem of one load, in file order, then line and column.
#[derive(Debug, Clone, PartialEq, Default, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// How many are errors (not warnings).
    pub fn errors(&self) -> usize {
        self.0.iter().filter(|p| !p.kind.is_warning()).count()
    }
    /// None at all?
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }
}

impl Diagnostic for Problem {
    fn location(&self) -> Option<Location> {
        Some(self.location.clone())
    }

    fn severity(&self) -> Severity {
        if self.kind.is_warning() {
            Severity::Warning
        } else {
            Severity::Error
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

/// What a provider keeps once per login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    /// The role (`admin` or `member`).
    Role,
    /// The full name.
    Name,
}

fn login_differs(
    email: &str,
    field: LoginField,
    here: &str,
    account: &str,
    others: &[(String, String, Location)],
) -> String {
    let shown = |v: &str| match field {
        LoginField::Role => v.to_string(),
        LoginField::Name => format!("named {v:?}"),
    };
    let elsewhere: Vec<String> = others
        .iter()
        .map(|(v, a, at)| format!("{} in {a} ({at})", shown(v)))
        .collect();
    let (what, why) = match field {
        LoginField::Role => (
            "role",
            "an admin of one account is an admin of every account of the login",
        ),
        LoginField::Name => ("name", "one name shows in every account of the login"),
    };
    format!(
        "`{email}` is {} in {account} but {}: with this provider the {what} belongs to the login, not to each account ({why}); give `{email}` one {what} everywhere",
        shown(here),
        elsewhere.join(", ")
    )
}
