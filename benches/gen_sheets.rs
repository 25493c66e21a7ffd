//! Writes sheets: the workbook of `tests/fixtures/sheets/`, or a large customer table for the
//! memory benchmark of BENCHMARKS.md.
//!
//! `cargo run --example gen-sheets -- workbook tests/fixtures/sheets/workbook.xlsx`
//! `cargo run --release --example gen-sheets -- csv ROWS OUT.csv`

use std::io::Write;

use rust_xlsxwriter::{Workbook, XlsxError};

/// The fixture workbook: a sheet to read first ("Read me", skipped because others are named
/// `Customers` and `Users`), customers as a CRM exports them, with numbers, a cell over two
/// lines and a few problems at known cells, and users of those customers and of the partner
/// (one for an account that is none).
fn workbook(out: &str) -> Result<(), XlsxError> {
    let mut book = Workbook::new();
    let readme = book.add_worksheet();
    readme.set_name("Read me")?;
    readme.write_string(0, 0, "Customers and users of Acme Partners, from the CRM.")?;
    let customers = book.add_worksheet();
    customers.set_name("Customers")?;
    let header = [
        "Key",
        "Name",
        "Contact_Name",
        "Contact_Email",
        "Country",
        "Timezone",
        "Services",
        "Notes",
    ];
    for (c, h) in header.iter().enumerate() {
        customers.write_string(0, c as u16, *h)?;
    }
    let rows: [[&str; 8]; 5] = [
        [
            "globex",
            "Globex Corp",
            "Hank Scorpio",
            "hank@globex.example",
            "US",
            "America/New_York",
            "cards",
            "Renewal in May",
        ],
        [
            "1001",
            "Initech",
            "Bill Lumbergh",
            "bill@initech.example",
            "FR",
            "Europe/Paris",
            "",
            "Key is a number",
        ],
        [
            "",
            "Umbrella plc",
            "Albert Wesker",
            "albert@umbrella",
            "GB",
            "Europe/London",
            "cards; mobile-id",
            "Two lines:\nsecond line",
        ],
        [
            "",
            "Soylent Ltd",
            "Sol Roth",
            "sol@soylent.example",
            "United Kingdom",
            "Europe/London",
            "cards, mobile-id",
            "",
        ],
        [
            "",
            "Tyrell GmbH",
            "Eldon Tyrell",
            "eldon@tyrell.example",
            "DE",
            "Europe/Berlin",
            "",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell.parse::<f64>() {
                Ok(n) => customers.write_number(r, c, n)?,
                Err(_) if cell.is_empty() => customers,
                Err(_) => customers.write_string(r, c, *cell)?,
            };
        }
    }
    let users = book.add_worksheet();
    users.set_name("Users")?;
    let rows: [[&str; 4]; 5] = [
        ["Account", "Email", "Name", "Role"],
        ["globex", "ann@globex.example", "Ann Admin", "Admin"],
        ["partner", "audit@acme.example", "Acme Audit", ""],
        ["1001", "peter@initech.example", "Peter Gibbons", "member"],
        ["tyrell", "rachael@tyrell.example", "Rachael", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell.parse::<f64>() {
                Ok(n) => users.write_number(r, c, n)?,
                Err(_) if cell.is_empty() => users,
                Err(_) => users.write_string(r, c, *cell)?,
            };
        }
    }
    book.save(out)
}

/// A customer table of `rows` rows, every row valid, as a CRM exports it.
fn csv(rows: usize, out: &str) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    writeln!(
        w,
        "key,name,contact_name,contact_email,country,timezone,admin_email,admin_name,services,label:tier"
    )?;
    for i in 0..rows {
        writeln!(
            w,
            "c{i},Customer {i} Ltd,Contact {i},contact{i}@customer{i}.example,GB,Europe/London,admin{i}@customer{i}.example,Admin {i},cards;mobile-id,{}",
            ["gold", "silver", "bronze"][i % 3]
        )?;
    }
    w.flush()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["workbook", out] => workbook(out).expect("the workbook is written"),
        ["csv", rows, out] => {
            csv(rows.parse().expect("ROWS is a number"), out).expect("the table is written")
        }
        _ => {
            eprintln!("usage: gen-sheets workbook OUT.xlsx | gen-sheets csv ROWS OUT.csv");
            std::process::exit(1);
        }
    }
}
