//! Stage `config`, customer tables: a `*.csv` file of a configuration is one customer per row.
//! The table becomes the same located tree a YAML file gives (`{customers: [...]}`), each value
//! at its cell's row and column as a spreadsheet shows them (the header is row 1, the first
//! column is 1), so every check that applies to YAML applies to rows too, and every problem
//! points at its cell. Pure.
//!
//! Headers: `key` (optional: derived from the name when absent or empty), `name`,
//! `contact_name`, `contact_email`, `country`, `timezone`, `admin_email`, `admin_name` (default:
//! the contact's name), `services` (types separated by `;`), and `label:NAME`. An empty cell
//! means "not set".

use std::collections::{BTreeMap, HashSet};

use super::ProblemKind;
use super::yaml::{Key, Node, Pos, Value};
use crate::vocab::keys::KeyMaker;

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

/// A customer table as a located tree, and the column name of every cell position.
pub struct Table {
    /// `{customers: [...]}`.
    pub doc: Node,
    /// The header of each cell that became a value, by position.
    pub columns: BTreeMap<Pos, String>,
}

fn text(s: &str, pos: Pos) -> Node {
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

/// The headers, checked: every one known (`label:` with a name), none twice.
fn headers(record: &csv::StringRecord, problems: &mut Vec<(Pos, ProblemKind)>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, h) in record.iter().enumerate() {
        let h = h.trim().to_string();
        let pos = Pos {
            line: 1,
            col: i + 1,
        };
        let label = h
            .strip_prefix("label:")
            .is_some_and(|n| !n.trim().is_empty());
        if !label && !COLUMNS.contains(&h.as_str()) {
            let allowed: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
            problems.push((
                pos,
                ProblemKind::UnknownColumn {
                    suggestion: super::check::closest(&h, &allowed),
                    column: h.clone(),
                },
            ));
        } else if !seen.insert(h.clone()) {
            problems.push((pos, ProblemKind::DuplicateColumn(h.clone())));
        }
        out.push(h);
    }
    for required in ["name", "contact_name", "contact_email"] {
        if !out.iter().any(|h| h == required) {
            let pos = Pos { line: 1, col: 1 };
            problems.push((pos, ProblemKind::MissingColumn(required)));
        }
    }
    out
}

/// One row as a customer node, recording the column of every cell used.
fn row(
    cells: &BTreeMap<&str, (String, Pos)>,
    labels: Vec<(String, String, Pos)>,
    row_pos: Pos,
    keys: &mut KeyMaker,
    columns: &mut BTreeMap<Pos, String>,
) -> Node {
    let mut get = |name: &str| -> Option<(String, Pos)> {
        let (v, pos) = cells.get(name)?.clone();
        columns.insert(pos, name.to_string());
        (!v.trim().is_empty()).then_some((v.trim().to_string(), pos))
    };
    // Required texts stay even when empty, so that the usual checks report them at their cell.
    let required = |v: Option<(String, Pos)>, name: &str| {
        v.unwrap_or_else(|| (String::new(), cells.get(name).map_or(row_pos, |c| c.1)))
    };
    let name = required(get("name"), "name");
    let contact_name = required(get("contact_name"), "contact_name");
    let contact_email = required(get("contact_email"), "contact_email");
    let key = match get("key") {
        Some((k, pos)) => text(&k, pos),
        None => text(
            &keys.key_for(&name.0, &format!("row {}", row_pos.line)),
            name.1,
        ),
    };
    let mut entries = vec![("key", key), ("name", text(&name.0, name.1))];
    let contact = map(
        vec![
            ("name", text(&contact_name.0, contact_name.1)),
            ("email", text(&contact_email.0, contact_email.1)),
        ],
        contact_name.1,
    );
    entries.push(("contact", contact));
    for field in ["country", "timezone"] {
        if let Some((v, pos)) = get(field) {
            entries.push((field, text(&v, pos)));
        }
    }
    if let Some((email, pos)) = get("admin_email") {
        let (admin, at) = get("admin_name").unwrap_or(contact_name.clone());
        let user = map(
            vec![
                ("email", text(&email, pos)),
                ("name", text(&admin, at)),
                ("role", text("admin", pos)),
            ],
            pos,
        );
        entries.push((
            "users",
            Node {
                value: Value::Seq(vec![user]),
                pos,
            },
        ));
    }
    if let Some((list, pos)) = get("services") {
        let services = list
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| map(vec![("type", text(t, pos))], pos))
            .collect();
        entries.push((
            "services",
            Node {
                value: Value::Seq(services),
                pos,
            },
        ));
    }
    if !labels.is_empty() {
        let first = labels[0].2;
        let labels = labels.iter().map(|(k, v, p)| {
            columns.insert(*p, format!("label:{k}"));
            (k.as_str(), text(v, *p))
        });
        entries.push(("labels", map(labels.collect(), first)));
    }
    map(entries, row_pos)
}

/// Parses a customer table. Keys of rows without one are derived from the name (unique within
/// the table; explicit keys are never handed out).
pub fn parse(text_in: &str) -> Result<Table, Vec<(Pos, ProblemKind)>> {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text_in.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        None => return Err(vec![(Pos { line: 1, col: 1 }, ProblemKind::EmptyTable)]),
        Some(Err(e)) => {
            return Err(vec![(
                Pos { line: 1, col: 1 },
                ProblemKind::Csv(e.to_string()),
            )]);
        }
        Some(Ok(r)) => r,
    };
    let headers = headers(&header, &mut problems);
    let rows: Vec<csv::StringRecord> = records
        .filter_map(|r| match r {
            Ok(r) => Some(r),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push((Pos { line, col: 1 }, ProblemKind::Csv(e.to_string())));
                None
            }
        })
        .collect();
    let explicit = rows.iter().filter_map(|r| {
        let i = headers.iter().position(|h| h == "key")?;
        r.get(i)
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
    });
    let mut keys = KeyMaker::new(explicit.collect::<Vec<_>>());
    let mut columns = BTreeMap::new();
    let mut customers = Vec::new();
    for r in &rows {
        let line = r.position().map_or(0, |p| p.line() as usize);
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut cells = BTreeMap::new();
        let mut labels = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            let pos = Pos { line, col: i + 1 };
            let v = r.get(i).unwrap_or_default().to_string();
            match h.strip_prefix("label:") {
                Some(l) if !v.trim().is_empty() => labels.push((l.trim().to_string(), v, pos)),
                Some(_) => {}
                None => {
                    cells.insert(h.as_str(), (v, pos));
                }
            }
        }
        let row_pos = Pos { line, col: 1 };
        customers.push(row(&cells, labels, row_pos, &mut keys, &mut columns));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let start = Pos { line: 1, col: 1 };
    let list = Node {
        value: Value::Seq(customers),
        pos: start,
    };
    Ok(Table {
        doc: map(vec![("customers", list)], start),
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_customers_with_their_cells_positions() {
        let t = parse("name,contact_name,contact_email,country,services,label:tier\nAcme Ltd,Jo,jo@acme.example,GB,cards; mobile-id,gold\n,,,,,\nZürich AG,Ann,ann@z.example,,,\n").unwrap();
        let json = t.doc.to_json();
        let c = &json["customers"];
        assert_eq!(c.as_array().unwrap().len(), 2, "the blank row is skipped");
        assert_eq!(c[0]["key"], "acme-ltd");
        assert_eq!(c[0]["contact"]["email"], "jo@acme.example");
        assert_eq!(c[0]["services"][1]["type"], "mobile-id");
        assert_eq!(c[0]["labels"]["tier"], "gold");
        assert_eq!(c[1]["key"], "zurich-ag");
        assert!(c[1].get("country").is_none());
        assert_eq!(t.columns[&Pos { line: 2, col: 4 }], "country");
        assert_eq!(t.columns[&Pos { line: 4, col: 1 }], "name");
    }

    #[test]
    fn header_problems_are_all_reported() {
        let e = parse("nmae,contact_email,contact_email\n").err().unwrap();
        let kinds: Vec<String> = e
            .iter()
            .map(|(p, k)| format!("{}:{} {k}", p.line, p.col))
            .collect();
        assert_eq!(
            kinds,
            [
                "1:1 unknown column `nmae` (did you mean `name`?); the columns are key, name, contact_name, contact_email, country, timezone, admin_email, admin_name, services and label:NAME",
                "1:3 column `contact_email` appears twice",
                "1:1 missing column `name`",
                "1:1 missing column `contact_name`",
            ]
        );
    }
}
