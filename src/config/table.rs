//! Stage `config`, tables: a customer table or a users table (CSV text, or a workbook's sheet
//! as [`super::xlsx`] writes it out) read row by row into the same located trees a YAML file
//! gives, a chunk of rows at a time, so that a large table is never all in memory as a tree.
//! Each value is at its cell's row and column as a spreadsheet shows them (the first column is
//! 1; rows are counted whatever the line endings, a quoted cell over several lines is one row,
//! and blank lines are rows), so every check that applies to YAML applies to rows too, and
//! every problem points at its cell. Pure.
//!
//! Customer tables (one customer per row, the tree `{customers: [...]}`): `key` (optional:
//! derived from the name when absent or empty), `name`, `contact_name`, `contact_email`,
//! `country`, `timezone`, `admin_email`, `admin_name` (default: the contact's name),
//! `services` (types separated by `;`), and `label:NAME`. Users tables (one user of one
//! account per row, the tree `{users: [...]}`): `account`, `email`, `name`, `role`. A table is
//! a users table when its header has `account` and `email` but no `contact_email`. Headers
//! match whatever their case and surrounding spaces; the delimiter (`,`, `;` or tab) is the one
//! the header row uses. An empty cell means "not set".

use std::collections::HashSet;
use std::io::{self, Read as _};

use super::ProblemKind;
use super::yaml::{Key, Node, Pos, Value};

/// The columns a customer table may have (besides `label:NAME`).
pub const COLUMNS: [&str; 9] = [
    "key",
    "name",
    "contact_name",
    "contact_email",
    "country",
    "timezone",
    "admin_email",
    "admin_name",
    "services",
];

/// The columns of a users table.
pub const USER_COLUMNS: [&str; 4] = ["account", "email", "name", "role"];

/// How many rows become one tree: large enough to check at full speed, small enough that the
/// trees of a table of any size take little memory.
pub const CHUNK_ROWS: usize = 2048;

/// What a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// One customer per row.
    Customers,
    /// One user of one account per row.
    Users,
}

/// A table's header: where it is, what kind of table it makes, and each column's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The header's row (1, unless blank rows come first).
    pub row: usize,
    /// The kind of table.
    pub kind: TableKind,
    /// Each column's name as matched (`contact_email`, `label:tier`), `None` for a column that
    /// is ignored (unknown, or without a header).
    pub names: Vec<Option<String>>,
}

impl Header {
    /// The column of a cell below the header, for messages.
    pub fn column(&self, pos: Pos) -> Option<&str> {
        if pos.line <= self.row || pos.col == 0 {
            return None;
        }
        self.names.get(pos.col - 1)?.as_deref()
    }
}

/// Some rows of a table as one tree, with what was found wrong in them on the way.
pub struct Chunk {
    /// `{customers: [...]}` or `{users: [...]}`.
    pub doc: Node,
    /// The positions of the keys derived from a name (the row has no key), which are those of
    /// the name cells.
    pub derived: HashSet<Pos>,
    /// Problems of the rows themselves (cells that do not line up with the header, a quote
    /// never closed, services separated by `,`).
    pub problems: Vec<(Pos, ProblemKind)>,
}

/// What reading a table found besides its rows.
pub struct Read {
    /// The header, unless the table has none usable (its problems say why).
    pub header: Option<Header>,
    /// The header's problems and warnings (unknown columns are warnings unless `strict`).
    pub problems: Vec<(Pos, ProblemKind)>,
}

/// The delimiter a header row uses: the most frequent of `,`, `;` and tab outside quotes on its
/// first line (`,` when none is there, and on a tie).
fn delimiter(text: &str) -> u8 {
    let line = text.split(['\n', '\r']).find(|l| !l.trim().is_empty());
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in line.unwrap_or_default().bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// How a delimiter is named in messages.
fn delimiter_name(d: u8) -> &'static str {
    match d {
        b';' => "`;`",
        b'\t' => "tab",
        _ => "`,`",
    }
}

/// The line breaks (`\n`, `\r\n` or a lone `\r`) at the end of `before`: how many rows end
/// there.
fn breaks_before(before: &[u8]) -> usize {
    let run = before
        .iter()
        .rev()
        .take_while(|b| **b == b'\n' || **b == b'\r')
        .count();
    let run = &before[before.len() - run..];
    let mut n = 0;
    let mut i = 0;
    while i < run.len() {
        i += if run[i] == b'\r' && run.get(i + 1) == Some(&b'\n') {
            2
        } else {
            1
        };
        n += 1;
    }
    n
}

/// A record's row, and the bytes where its text starts and ends (offsets in the table's
/// text).
type RecordAt = (usize, u64, u64);

/// How much of a table's text the delimiter and the byte order mark are looked for in.
const PREFIX: usize = 64 * 1024;

/// The text a CSV reader was given and is not yet forgotten: what a record's row and its
/// problems are found in, without the table's whole text in memory.
struct Window<R> {
    input: R,
    /// The offset of `bytes[0]` in the text.
    base: u64,
    bytes: Vec<u8>,
}

impl<R: io::Read> io::Read for Window<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.input.read(out)?;
        self.bytes.extend_from_slice(&out[..n]);
        Ok(n)
    }
}

impl<R> Window<R> {
    /// The text from offset `start` to `end` (both in what is kept).
    fn slice(&self, start: u64, end: u64) -> &[u8] {
        let at = |o: u64| {
            usize::try_from(o.saturating_sub(self.base)).map_or(0, |o| o.min(self.bytes.len()))
        };
        &self.bytes[at(start)..at(end)]
    }

    /// Forgets the text before offset `keep`, once there is enough of it that moving the rest
    /// costs little.
    fn forget_before(&mut self, keep: u64) {
        let drop = usize::try_from(keep.saturating_sub(self.base)).unwrap_or(usize::MAX);
        if drop >= PREFIX && drop <= self.bytes.len() {
            self.bytes.drain(..drop);
            self.base = keep;
        }
    }
}

/// The input of a CSV reader: the prefix the delimiter was found in, then the rest.
type Input<R> = Window<io::Chain<io::Cursor<Vec<u8>>, R>>;

/// The records of a CSV text, each with the spreadsheet row it starts.
struct Records<R> {
    csv: csv::Reader<Input<R>>,
    record: csv::StringRecord,
    /// The row of the last record read (0 before the first).
    row: usize,
    /// Where the last record read starts (what is kept of the text starts there, or before).
    last_start: u64,
    delimiter: u8,
}

impl<R: io::Read> Records<R> {
    /// The records of the text `input` gives. A byte order mark at its start is no text; the
    /// delimiter is found in its first [`PREFIX`] bytes.
    fn new(mut input: R) -> io::Result<Self> {
        let mut prefix = Vec::with_capacity(PREFIX);
        input
            .by_ref()
            .take(PREFIX as u64)
            .read_to_end(&mut prefix)?;
        if prefix.starts_with("\u{feff}".as_bytes()) {
            prefix.drain(..3);
        }
        let valid = match std::str::from_utf8(&prefix) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&prefix[..e.valid_up_to()]).unwrap_or_default(),
        };
        let delimiter = delimiter(valid);
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(Window {
                input: io::Cursor::new(prefix).chain(input),
                base: 0,
                bytes: Vec::new(),
            });
        Ok(Records {
            csv,
            record: csv::StringRecord::new(),
            row: 0,
            last_start: 0,
            delimiter,
        })
    }

    /// The next record, its row, and where its text starts and ends; or the error of the
    /// reader, with the row where it happened.
    fn next(&mut self) -> Option<Result<RecordAt, (usize, String)>> {
        let start_row = self.row;
        // The line breaks before a record are after the start of the one before it.
        self.csv.get_mut().forget_before(self.last_start);
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                // The reader's position is where it started looking, before the blank lines
                // it skipped: the record starts after them.
                let from = self.record.position().map_or(0, csv::Position::byte);
                let end = self.csv.position().byte();
                let window = self.csv.get_ref();
                let skipped = window
                    .slice(from, end)
                    .iter()
                    .take_while(|b| **b == b'\n' || **b == b'\r')
                    .count();
                let start = from + skipped as u64;
                let breaks = breaks_before(window.slice(window.base, start));
                self.row = if start_row == 0 {
                    1 + breaks
                } else {
                    start_row + breaks.max(1)
                };
                self.last_start = start;
                Some(Ok((self.row, start, end)))
            }
            Err(e) => Some(Err((start_row + 1, e.to_string()))),
        }
    }

    /// The text from `start` to `end` of the last record read.
    fn raw(&self, start: u64, end: u64) -> &[u8] {
        self.csv.get_ref().slice(start, end)
    }

    /// How many rows the text from `start` to `end` spans (1 for a record on one line).
    fn rows_spanned(&self, start: u64, end: u64) -> usize {
        let body = self.raw(start, end);
        let body = &body[..body.len() - trailing_breaks_len(body)];
        1 + count_breaks(body)
    }
}

fn trailing_breaks_len(b: &[u8]) -> usize {
    b.iter()
        .rev()
        .take_while(|c| **c == b'\n' || **c == b'\r')
        .count()
}

fn count_breaks(b: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                n += 1;
                i += 2;
                continue;
            }
            b'\r' | b'\n' => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

/// Where a quote that opens a cell of `raw` (one record's text) is left open: the column of
/// its cell, and how many rows the text it swallowed spans from there, `None` when it runs to
/// the end of the text. Left open means never closed, or "closed" by a quote that more text
/// follows (most often the quote that opens a cell on a later row).
fn open_quote(raw: &[u8], delimiter: u8) -> Option<(usize, Option<usize>)> {
    let mut col = 1;
    let mut i = 0;
    let mut at_start = true;
    while i < raw.len() {
        let b = raw[i];
        if at_start && b == b'"' {
            let opened = col;
            let opened_at = i;
            i += 1;
            loop {
                match raw.get(i) {
                    None => return Some((opened, None)),
                    Some(b'"') if raw.get(i + 1) == Some(&b'"') => i += 2,
                    Some(b'"') => {
                        i += 1;
                        match raw.get(i) {
                            None | Some(b'\r' | b'\n') => return None,
                            Some(&d) if d == delimiter => break,
                            Some(_) => {
                                let rows = 1 + count_breaks(&raw[opened_at..i]);
                                return Some((opened, Some(rows)));
                            }
                        }
                    }
                    Some(_) => i += 1,
                }
            }
            at_start = false;
            continue;
        }
        if b == delimiter {
            col += 1;
            at_start = true;
        } else if b == b'\r' || b == b'\n' {
            return None;
        } else {
            at_start = false;
        }
        i += 1;
    }
    None
}

/// The kind of table a header row makes: users with `account` and `email` but no
/// `contact_email`, customers otherwise.
fn kind_of_names(names: &[String]) -> TableKind {
    let has = |n: &str| names.iter().any(|h| h == n);
    if has("account") && has("email") && !has("contact_email") {
        TableKind::Users
    } else {
        TableKind::Customers
    }
}

/// A header cell as matched: trimmed, lower-case (a label's name keeps its case).
fn normalize(h: &str) -> String {
    let h = h.trim();
    match h.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("label:") => format!("label:{}", h[6..].trim()),
        _ => h.to_lowercase(),
    }
}

/// The kind of table the text `input` gives is, from its header row alone; `None` without
/// one (or when the text cannot be read).
pub fn kind(input: impl io::Read) -> Option<TableKind> {
    let mut records = Records::new(input).ok()?;
    match records.next()? {
        Ok(_) => {
            let names: Vec<String> = records.record.iter().map(normalize).collect();
            Some(kind_of_names(&names))
        }
        Err(_) => None,
    }
}

/// The header, checked: every column known (`label:` with a name) or else ignored with a
/// warning (an error when `strict`), none twice, the required ones there.
fn header(
    record: &csv::StringRecord,
    row: usize,
    strict: bool,
    problems: &mut Vec<(Pos, ProblemKind)>,
) -> Option<Header> {
    let written: Vec<String> = record.iter().map(|h| h.trim().to_string()).collect();
    let normal: Vec<String> = record.iter().map(normalize).collect();
    let kind = kind_of_names(&normal);
    let known: &[&str] = match kind {
        TableKind::Customers => &COLUMNS,
        TableKind::Users => &USER_COLUMNS,
    };
    let allowed: Vec<String> = known.iter().map(|c| c.to_string()).collect();
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    let mut unknown = Vec::new();
    let mut fatal = false;
    for (i, (h, w)) in normal.iter().zip(&written).enumerate() {
        let pos = Pos {
            line: row,
            col: i + 1,
        };
        let label =
            kind == TableKind::Customers && h.strip_prefix("label:").is_some_and(|n| !n.is_empty());
        if h.is_empty() {
            names.push(None);
        } else if !label && !known.contains(&h.as_str()) {
            // A column the header has already is not what this one meant.
            let suggestion = super::check::closest(h, &allowed).filter(|s| !normal.contains(s));
            unknown.push((pos, w.clone(), suggestion));
            names.push(None);
        } else if !seen.insert(h.clone()) {
            problems.push((pos, ProblemKind::DuplicateColumn(w.clone())));
            fatal = true;
            names.push(None);
        } else {
            names.push(Some(h.clone()));
        }
    }
    if let Some(&(pos, _, _)) = unknown.first() {
        let kind = ProblemKind::UnknownColumns {
            columns: unknown.into_iter().map(|(_, c, s)| (c, s)).collect(),
            allowed: allowed.clone(),
            users: kind == TableKind::Users,
            strict,
        };
        problems.push((
            pos,
            if strict {
                kind
            } else {
                ProblemKind::Warning(Box::new(kind))
            },
        ));
    }
    let required: &[&'static str] = match kind {
        TableKind::Customers => &["name", "contact_name", "contact_email"],
        TableKind::Users => &["account", "email", "name"],
    };
    for &r in required {
        if !seen.contains(r) {
            let pos = Pos { line: row, col: 1 };
            problems.push((pos, ProblemKind::MissingColumn(r)));
            fatal = true;
        }
    }
    (!fatal).then_some(Header { row, kind, names })
}

fn text_node(s: &str, pos: Pos) -> Node {
    Node {
        value: Value::String(s.to_string()),
        pos,
    }
}

fn map(entries: Vec<(&str, Node)>, pos: Pos) -> Node {
    let entries = entries
        .into_iter()
        .map(|(k, v)| {
            let key = Key {
                name: k.to_string(),
                pos: v.pos,
            };
            (key, v)
        })
        .collect();
    Node {
        value: Value::Map(entries),
        pos,
    }
}

fn seq(items: Vec<Node>, pos: Pos) -> Node {
    Node {
        value: Value::Seq(items),
        pos,
    }
}

/// The key of a row without one: the slug of its name (`Zürich Café` → `zurich-cafe`), or for
/// a name with no letter or digit, `account-` and a short hash of the name. It depends on the
/// name alone, never on the row's place in the table.
pub fn derived_key(name: &str) -> String {
    crate::vocab::keys::slug(name)
        .unwrap_or_else(|| format!("account-{}", crate::vocab::keys::short_hash(name)))
}

/// One row's cells by column name, each with its position.
struct Cells<'r> {
    row: usize,
    record: &'r csv::StringRecord,
    header: &'r Header,
}

impl Cells<'_> {
    /// The cell of column `name` (trimmed), with its position; `None` when the table has no
    /// such column.
    fn cell(&self, name: &str) -> Option<(String, Pos)> {
        let i = self
            .header
            .names
            .iter()
            .position(|n| n.as_deref() == Some(name))?;
        let v = self.record.get(i).unwrap_or_default().trim().to_string();
        Some((
            v,
            Pos {
                line: self.row,
                col: i + 1,
            },
        ))
    }

    /// The cell of column `name` when it is not empty.
    fn get(&self, name: &str) -> Option<(String, Pos)> {
        self.cell(name).filter(|(v, _)| !v.is_empty())
    }

    /// A required cell's text, empty when blank (the usual checks report it at its cell).
    fn required(&self, name: &str) -> (String, Pos) {
        self.cell(name).unwrap_or_else(|| {
            (
                String::new(),
                Pos {
                    line: self.row,
                    col: 1,
                },
            )
        })
    }
}

/// One customer row as a customer node.
fn customer(
    cells: &Cells<'_>,
    derived: &mut HashSet<Pos>,
    problems: &mut Vec<(Pos, ProblemKind)>,
) -> Node {
    let row_pos = Pos {
        line: cells.row,
        col: 1,
    };
    let name = cells.required("name");
    let contact_name = cells.required("contact_name");
    let contact_email = cells.required("contact_email");
    let key = match cells.get("key") {
        Some((k, pos)) => text_node(&k, pos),
        // A row without a name is reported as such; its key only has to be its own.
        None if name.0.is_empty() => {
            let row = format!("row {}", cells.row);
            let key = format!("account-{}", crate::vocab::keys::short_hash(&row));
            text_node(&key, name.1)
        }
        None => {
            derived.insert(name.1);
            text_node(&derived_key(&name.0), name.1)
        }
    };
    let mut entries = vec![("key", key), ("name", text_node(&name.0, name.1))];
    let contact = map(
        vec![
            ("name", text_node(&contact_name.0, contact_name.1)),
            ("email", text_node(&contact_email.0, contact_email.1)),
        ],
        contact_name.1,
    );
    entries.push(("contact", contact));
    for field in ["country", "timezone"] {
        if let Some((v, pos)) = cells.get(field) {
            entries.push((field, text_node(&v, pos)));
        }
    }
    if let Some((email, pos)) = cells.get("admin_email") {
        let (admin, at) = cells.get("admin_name").unwrap_or(contact_name.clone());
        let user = map(
            vec![
                ("email", text_node(&email, pos)),
                ("name", text_node(&admin, at)),
                ("role", text_node("admin", pos)),
            ],
            pos,
        );
        entries.push(("users", seq(vec![user], pos)));
    }
    if let Some((list, pos)) = cells.get("services") {
        let types: Vec<&str> = list
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if types.iter().any(|t| t.contains(',')) {
            let fixed: Vec<&str> = list
                .split([',', ';'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            problems.push((
                pos,
                ProblemKind::ServicesComma {
                    written: list.clone(),
                    fixed: fixed.join("; "),
                },
            ));
        } else {
            let services = types
                .into_iter()
                .map(|t| map(vec![("type", text_node(t, pos))], pos))
                .collect();
            entries.push(("services", seq(services, pos)));
        }
    }
    let labels: Vec<(&str, Node)> = cells
        .header
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let label = n.as_deref()?.strip_prefix("label:")?;
            let v = cells.record.get(i).unwrap_or_default().trim();
            let pos = Pos {
                line: cells.row,
                col: i + 1,
            };
            (!v.is_empty()).then(|| (label, text_node(v, pos)))
        })
        .collect();
    if let Some(first) = labels.first().map(|l| l.1.pos) {
        entries.push(("labels", map(labels, first)));
    }
    map(entries, row_pos)
}

/// One users row as `{account, email, name, role}` (only the cells given).
fn user(cells: &Cells<'_>) -> Node {
    let row_pos = Pos {
        line: cells.row,
        col: 1,
    };
    let account = cells.required("account");
    let email = cells.required("email");
    let mut entries = vec![
        ("account", text_node(&account.0, account.1)),
        ("email", text_node(&email.0, email.1)),
    ];
    if let Some((name, pos)) = cells.cell("name") {
        entries.push(("name", text_node(&name, pos)));
    }
    if let Some((role, pos)) = cells.get("role") {
        entries.push(("role", text_node(&role, pos)));
    }
    map(entries, row_pos)
}

/// Reads a table, the text `input` gives read a buffer at a time: its header (checked), then
/// its rows, [`CHUNK_ROWS`] at a time, each chunk handed to `visit` as a tree. Blank rows are
/// skipped. A row whose cells do not line up with the header, or that a quote left open
/// swallowed, is a problem of its own and gives no tree.
pub fn read(input: impl io::Read, strict: bool, visit: &mut dyn FnMut(Chunk)) -> Read {
    let mut problems = Vec::new();
    let mut records = match Records::new(input) {
        Ok(records) => records,
        Err(e) => {
            problems.push((Pos { line: 1, col: 1 }, ProblemKind::Csv(e.to_string())));
            return Read {
                header: None,
                problems,
            };
        }
    };
    let header = match records.next() {
        None => {
            problems.push((Pos { line: 1, col: 1 }, ProblemKind::EmptyTable));
            None
        }
        Some(Err((row, e))) => {
            problems.push((Pos { line: row, col: 1 }, ProblemKind::Csv(e)));
            None
        }
        Some(Ok((row, _, _))) => header(&records.record, row, strict, &mut problems),
    };
    let Some(header) = header else {
        return Read {
            header: None,
            problems,
        };
    };
    let expected = header.names.len();
    let list = match header.kind {
        TableKind::Customers => "customers",
        TableKind::Users => "users",
    };
    // The rows of the chunk being made, and what was found on the way.
    let mut rows = Vec::new();
    let mut derived = HashSet::new();
    let mut row_problems = Vec::new();
    let flush = |rows: &mut Vec<Node>,
                 derived: &mut HashSet<Pos>,
                 row_problems: &mut Vec<(Pos, ProblemKind)>,
                 visit: &mut dyn FnMut(Chunk)| {
        let start = Pos { line: 1, col: 1 };
        let doc = map(vec![(list, seq(std::mem::take(rows), start))], start);
        visit(Chunk {
            doc,
            derived: std::mem::take(derived),
            problems: std::mem::take(row_problems),
        });
    };
    while let Some(next) = records.next() {
        let (row, start, end) = match next {
            Ok(r) => r,
            Err((row, e)) => {
                row_problems.push((Pos { line: row, col: 1 }, ProblemKind::Csv(e)));
                break;
            }
        };
        let record = &records.record;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let pos = Pos { line: row, col: 1 };
        let cells = record.len();
        if cells != expected || records.rows_spanned(start, end) > 1 {
            let raw = records.raw(start, end);
            if let Some((col, until)) = open_quote(raw, records.delimiter) {
                row_problems.push((
                    Pos { line: row, col },
                    ProblemKind::UnterminatedQuote {
                        lines: until.map(|n| n - 1),
                    },
                ));
                continue;
            }
        }
        let extra_blank = record.iter().skip(expected).all(|c| c.trim().is_empty());
        if cells < expected || (cells > expected && !extra_blank) {
            row_problems.push((
                pos,
                ProblemKind::RaggedRow {
                    cells,
                    expected,
                    delimiter: delimiter_name(records.delimiter),
                },
            ));
            continue;
        }
        let cells = Cells {
            row,
            record,
            header: &header,
        };
        rows.push(match header.kind {
            TableKind::Customers => customer(&cells, &mut derived, &mut row_problems),
            TableKind::Users => user(&cells),
        });
        if rows.len() >= CHUNK_ROWS {
            flush(&mut rows, &mut derived, &mut row_problems, visit);
        }
    }
    if !rows.is_empty() || !row_problems.is_empty() {
        flush(&mut rows, &mut derived, &mut row_problems, visit);
    }
    Read {
        header: Some(header),
        problems,
    }
}

/// A whole table as one tree, with every problem found reading it (for tests and small
/// tables).
pub struct Table {
    /// `{customers: [...]}` or `{users: [...]}`.
    pub doc: Node,
    /// The header, when usable.
    pub header: Option<Header>,
    /// The positions of keys derived from names.
    pub derived: HashSet<Pos>,
    /// Every problem found reading it (header, then rows).
    pub problems: Vec<(Pos, ProblemKind)>,
}

/// Reads a whole table at once ([`read`] with every chunk joined).
pub fn parse(text: &str, strict: bool) -> Table {
    let mut items = Vec::new();
    let mut derived = HashSet::new();
    let mut row_problems = Vec::new();
    let mut list = "customers".to_string();
    let read = read(text.as_bytes(), strict, &mut |c: Chunk| {
        if let Value::Map(entries) = c.doc.value {
            for (k, v) in entries {
                list = k.name;
                if let Value::Seq(s) = v.value {
                    items.extend(s);
                }
            }
        }
        derived.extend(c.derived);
        row_problems.extend(c.problems);
    });
    let mut problems = read.problems;
    problems.extend(row_problems);
    let start = Pos { line: 1, col: 1 };
    Table {
        doc: map(vec![(list.as_str(), seq(items, start))], start),
        header: read.header,
        derived,
        problems,
    }
}

#[cfg(test)]
mod tests;
