//! Stage `config`, workbooks: the sheets of an `.xlsx` file (read with calamine) as tables.
//! The sheets read are those named `customers` and `users` (in any case), or else the first.
//! Each becomes the CSV text of its cells, every cell at the row and column the spreadsheet
//! shows it at (rows and columns before the sheet's first cell are left blank), so that the
//! tables' reader ([`super::table`]) reads it as any table and locates every problem at its
//! cell; a problem of a sheet is shown as `file.xlsx:SHEET!ROW:COL`. Pure: works on the bytes.

use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};

/// One sheet of a workbook as a table's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The sheet's name, as the workbook has it.
    pub name: String,
    /// Its cells as CSV (every cell quoted, `,` between them).
    pub text: String,
}

/// The sheets named `customers` and `users` (in any case), or else the first sheet, as tables;
/// or why the bytes are not a workbook that can be read. The reader is a library parsing
/// untrusted bytes: a panic inside it (a damaged cell reference overflowing its arithmetic has
/// been seen) makes the file unreadable, not the program crash.
pub fn sheets(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    std::panic::catch_unwind(|| read_sheets(bytes))
        .unwrap_or_else(|_| Err("the workbook is damaged (its reader gave up)".to_string()))
}

fn read_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let names = book.sheet_names();
    let named: Vec<String> = names
        .iter()
        .filter(|n| {
            let n = n.trim();
            n.eq_ignore_ascii_case("customers") || n.eq_ignore_ascii_case("users")
        })
        .cloned()
        .collect();
    let wanted = if named.is_empty() {
        names.into_iter().take(1).collect()
    } else {
        named
    };
    if wanted.is_empty() {
        return Err("the workbook has no sheet".to_string());
    }
    wanted
        .into_iter()
        .map(|name| {
            let range = book
                .worksheet_range(&name)
                .map_err(|e| format!("sheet {name}: {e}"))?;
            Ok(Sheet {
                text: to_csv(&range),
                name,
            })
        })
        .collect()
}

/// The text of one cell as a spreadsheet shows it: whole numbers without a fraction, `TRUE`
/// and `FALSE`, an error as Excel writes it (`#N/A`).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        other => other.to_string(),
    }
}

/// A quoted CSV cell.
fn quoted(text: &str, out: &mut String) {
    out.push('"');
    out.push_str(&text.replace('"', "\"\""));
    out.push('"');
}

/// The cells of a sheet as CSV, each at its row and column.
fn to_csv(range: &Range<Data>) -> String {
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut out = String::new();
    for _ in 0..first_row {
        out.push('\n');
    }
    for row in range.rows() {
        let cells =
            std::iter::repeat_n(String::new(), first_col as usize).chain(row.iter().map(cell_text));
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            quoted(&cell, &mut out);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
