use super::*;
use rust_xlsxwriter::Workbook;

/// Cells of a sheet: `(row, col, text)`, 0-based.
pub(crate) type Cells<'a> = &'a [(u32, u16, &'a str)];

/// A workbook of sheets, each a name and its cells, numbers where a cell's text parses as one.
pub(crate) fn workbook(sheets: &[(&str, Cells<'_>)]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, cells) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for &(row, col, text) in *cells {
            match text.parse::<f64>() {
                Ok(n) => sheet.write_number(row, col, n).unwrap(),
                Err(_) => sheet.write_string(row, col, text).unwrap(),
            };
        }
    }
    book.save_to_buffer().unwrap()
}

#[test]
fn the_first_sheet_or_those_named_customers_and_users() {
    let one: &[(u32, u16, &str)] = &[(0, 0, "name")];
    let book = workbook(&[("Sheet1", one), ("Sheet2", one)]);
    let names: Vec<String> = sheets(&book).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["Sheet1"]);
    let book = workbook(&[("Notes", one), ("Users", one), ("Customers", one)]);
    let names: Vec<String> = sheets(&book).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["Users", "Customers"]);
}

#[test]
fn cells_keep_their_row_and_column_and_read_as_a_spreadsheet_shows_them() {
    let cells: &[(u32, u16, &str)] = &[
        (2, 2, "key"),
        (2, 3, "name"),
        (2, 4, "note"),
        (3, 2, "123"),
        (3, 3, "Acme, \"The\" Ltd\nline two"),
        (3, 4, "1.5"),
    ];
    let sheet = &sheets(&workbook(&[("customers", cells)])).unwrap()[0];
    assert_eq!(
        sheet.text,
        "\n\n\"\",\"\",\"key\",\"name\",\"note\"\n\"\",\"\",\"123\",\"Acme, \"\"The\"\" Ltd\nline two\",\"1.5\"\n"
    );
    // Read as a table, each value is where the sheet has it.
    let cells: &[(u32, u16, &str)] = &[
        (2, 2, "key"),
        (2, 3, "name"),
        (2, 4, "contact_name"),
        (2, 5, "contact_email"),
        (3, 2, "123"),
        (3, 3, "Acme, \"The\" Ltd\nline two"),
    ];
    let sheet = &sheets(&workbook(&[("customers", cells)])).unwrap()[0];
    let t = crate::config::table::parse(&sheet.text, false);
    let header = t.header.unwrap();
    assert_eq!(header.row, 3);
    let c = &t.doc.list("customers")[0];
    assert_eq!(
        c.get("key").unwrap().pos,
        crate::config::yaml::Pos { line: 4, col: 3 }
    );
    assert_eq!(c.get("key").unwrap().as_str(), Some("123"));
    assert_eq!(
        c.get("name").unwrap().as_str(),
        Some("Acme, \"The\" Ltd\nline two")
    );
}

#[test]
fn what_is_not_a_workbook_is_an_error() {
    assert!(sheets(b"name,contact_name\n").is_err());
    assert!(sheets(b"").is_err());
    let mut book = workbook(&[("customers", &[(0, 0, "name")])]);
    book.truncate(book.len() / 2);
    assert!(sheets(&book).is_err());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes named `.xlsx`: a list of sheets or an error, never a panic.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let _ = sheets(&bytes);
        }

        /// A real workbook with bytes changed, cut short or not: the same.
        #[test]
        fn damaged_workbooks(
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
            cut in proptest::option::of(any::<usize>()),
        ) {
            let cells: &[(u32, u16, &str)] = &[(0, 0, "name"), (0, 1, "contact_email"), (1, 0, "Acme"), (1, 1, "x@y.example")];
            let mut book = workbook(&[("customers", cells)]);
            for (at, b) in flips {
                let at = at % book.len();
                book[at] = b;
            }
            if let Some(cut) = cut {
                book.truncate(cut % (book.len() + 1));
            }
            if let Ok(sheets) = sheets(&book) {
                for s in sheets {
                    let _ = crate::config::table::parse(&s.text, false);
                }
            }
        }
    }
}
