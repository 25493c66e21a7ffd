//! Stage `export`, sheets (`export --format csv|xlsx`): the estate as a customer sheet and a
//! users sheet beside `partner.yaml`, read back (by a configuration directory, or `import`) to
//! exactly the estate. A customer goes in the sheet when a row holds all of it (no networks,
//! no adoption pin, not protected, a contact, services with default settings, labels with a
//! value) and each of its cells, and its users', reads back as written (no spaces around, no
//! `;` or `,` in a service type, at most 32,767 characters, a cell's limit) and is safe to open
//! (no cell starts with `=`, `+`, `-`, `@`, tab or CR, which a spreadsheet program would take
//! for a formula); any other customer keeps its YAML file, with its users. The partner's users
//! go in the users sheet too (all of them, or none when one cannot). Pure: the edge writes the
//! files.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{Estate, File, SCHEMA_FILE, customer_file, header, yaml};
use crate::config::{ConfigFile, Customer, User};

/// One sheet: its name and its rows, the header first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// `customers` or `users`.
    pub name: &'static str,
    /// The rows, the header first.
    pub rows: Vec<Vec<String>>,
}

/// An estate as sheets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetExport {
    /// `partner.yaml` (the partner, the defaults), and `customers/KEY.yaml` for each customer
    /// that no row can hold.
    pub yaml: Vec<File>,
    /// One customer per row.
    pub customers: Sheet,
    /// One user of one account per row.
    pub users: Sheet,
}

/// The most characters a spreadsheet cell holds (Excel's limit; a longer text is cut or
/// refused).
const CELL_CHARS: usize = 32_767;

/// Does a spreadsheet read this cell back as written, and open it as text, not a formula?
fn safe(text: &str) -> bool {
    text.trim() == text
        && !text.starts_with(['=', '+', '-', '@', '\t', '\r'])
        && text.chars().count() <= CELL_CHARS
}

fn user_row(account: &str, u: &User) -> Option<Vec<String>> {
    (safe(&u.email) && safe(&u.name) && !u.name.is_empty()).then(|| {
        vec![
            account.to_string(),
            u.email.clone(),
            u.name.clone(),
            u.role.as_str().to_string(),
        ]
    })
}

/// The customer's row (for the columns before the labels, and its labels), or `None` when no
/// row can hold it.
fn customer_row(
    c: &Customer,
) -> Option<(Vec<String>, &std::collections::BTreeMap<String, String>)> {
    let contact = c.contact.as_ref()?;
    let plain = c.networks.is_empty() && c.adopt.is_none() && !c.protect;
    let services = c.services.iter().all(|s| {
        s.settings.is_empty() && safe(&s.service_type) && !s.service_type.contains([';', ','])
    });
    let labels = c
        .labels
        .iter()
        .all(|(k, v)| safe(k) && safe(v) && !v.is_empty() && !k.is_empty());
    let texts = [&c.key, &c.name, &contact.name, &contact.email];
    let optional = [&c.country, &c.timezone];
    let cells_safe = texts.iter().all(|t| safe(t) && !t.is_empty())
        && optional.iter().all(|t| t.as_deref().is_none_or(safe));
    if !(plain && services && labels && cells_safe) {
        return None;
    }
    let types: Vec<&str> = c.services.iter().map(|s| s.service_type.as_str()).collect();
    let row = vec![
        c.key.clone(),
        c.name.clone(),
        contact.name.clone(),
        contact.email.clone(),
        c.country.clone().unwrap_or_default(),
        c.timezone.clone().unwrap_or_default(),
        types.join("; "),
    ];
    Some((row, &c.labels))
}

/// The columns of the customer sheet before its `label:NAME` columns.
const CUSTOMER_COLUMNS: [&str; 7] = [
    "key",
    "name",
    "contact_name",
    "contact_email",
    "country",
    "timezone",
    "services",
];

/// The estate as sheets and the YAML files of what they cannot hold.
pub fn sheets(estate: &Estate) -> SheetExport {
    let mut users = vec![vec![
        "account".to_string(),
        "email".to_string(),
        "name".to_string(),
        "role".to_string(),
    ]];
    let mut partner = estate.partner.clone();
    let partner_rows: Option<Vec<Vec<String>>> = partner
        .users
        .iter()
        .map(|u| user_row("partner", u))
        .collect();
    if let Some(rows) = partner_rows {
        users.extend(rows);
        partner.users.clear();
    }
    let mut rows = Vec::new();
    let mut label_keys = BTreeSet::new();
    let mut yaml_files = Vec::new();
    for c in &estate.customers {
        let row = customer_row(c);
        let user_rows: Option<Vec<Vec<String>>> =
            c.users.iter().map(|u| user_row(&c.key, u)).collect();
        match (row, user_rows) {
            (Some((row, labels)), Some(user_rows)) => {
                label_keys.extend(labels.keys().cloned());
                rows.push((row, labels));
                users.extend(user_rows);
            }
            _ => yaml_files.push(customer_file(c)),
        }
    }
    let mut customers = vec![
        CUSTOMER_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .chain(label_keys.iter().map(|k| format!("label:{k}")))
            .collect(),
    ];
    for (mut row, labels) in rows {
        row.extend(
            label_keys
                .iter()
                .map(|k| labels.get(k).cloned().unwrap_or_default()),
        );
        customers.push(row);
    }
    let head = ConfigFile {
        version: Some(1),
        partner: Some(partner),
        defaults: estate.defaults.clone(),
        customers: Vec::new(),
    };
    let text = header(
        SCHEMA_FILE,
        "The partner and the defaults every customer inherits; the customers and users are in the sheets beside it, but those the sheets cannot hold, in customers/. Exported by `partnerctl export`.",
    ) + &yaml(&head);
    let mut files = vec![File {
        path: PathBuf::from("partner.yaml"),
        text,
    }];
    files.extend(yaml_files);
    SheetExport {
        yaml: files,
        customers: Sheet {
            name: "customers",
            rows: customers,
        },
        users: Sheet {
            name: "users",
            rows: users,
        },
    }
}

/// A sheet as CSV as Excel saves "CSV UTF-8": UTF-8 after a byte order mark (without it, Excel
/// would open the file as Windows-1252 and garble accents), `,`, every line ending in CRLF.
pub fn to_csv(sheet: &Sheet) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in &sheet.rows {
        w.write_record(row)
            .expect("writing to memory does not fail");
    }
    let bytes = w.into_inner().expect("writing to memory does not fail");
    let text = String::from_utf8(bytes).expect("the cells are text");
    format!("\u{feff}{text}")
}

/// Sheets as one workbook (every cell text, so that no value is read as a number or a date).
pub fn to_xlsx(sheets: &[&Sheet]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for sheet in sheets {
        let ws = book.add_worksheet();
        ws.set_name(sheet.name)?;
        for (r, row) in sheet.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    let (r, c) = (r as u32, c as u16);
                    ws.write_string(r, c, cell)?;
                }
            }
        }
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests;
