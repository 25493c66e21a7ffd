use super::*;

/// Every problem of a whole table as `ROW:COL message`.
fn problems(text: &str) -> Vec<String> {
    parse(text, false)
        .problems
        .iter()
        .map(|(p, k)| format!("{}:{} {k}", p.line, p.col))
        .collect()
}

/// The row of each customer of a table (where its node is).
fn rows(text: &str) -> Vec<usize> {
    parse(text, false)
        .doc
        .list("customers")
        .iter()
        .map(|c| c.pos.line)
        .collect()
}

const HEADER: &str = "name,contact_name,contact_email";

#[test]
fn rows_become_customers_with_their_cells_positions() {
    let t = parse(
        "name,contact_name,contact_email,country,services,label:tier\nAcme Ltd,Jo,jo@acme.example,GB,cards; mobile-id,gold\n,,,,,\nZürich AG,Ann,ann@z.example,,,\n",
        false,
    );
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    let json = t.doc.to_json();
    let c = &json["customers"];
    assert_eq!(c.as_array().unwrap().len(), 2, "the blank row is skipped");
    assert_eq!(c[0]["key"], "acme-ltd");
    assert_eq!(c[0]["contact"]["email"], "jo@acme.example");
    assert_eq!(c[0]["services"][1]["type"], "mobile-id");
    assert_eq!(c[0]["labels"]["tier"], "gold");
    assert_eq!(c[1]["key"], "zurich-ag");
    assert!(c[1].get("country").is_none());
    let header = t.header.unwrap();
    assert_eq!(header.column(Pos { line: 2, col: 4 }), Some("country"));
    assert_eq!(header.column(Pos { line: 4, col: 1 }), Some("name"));
    assert_eq!(
        header.column(Pos { line: 1, col: 1 }),
        None,
        "the header row"
    );
}

#[test]
fn rows_are_counted_as_a_spreadsheet_shows_them_whatever_the_line_endings() {
    let body = ["A,a,a@x.example", "", "B,b,b@x.example", "C,c,c@x.example"];
    for eol in ["\n", "\r\n", "\r"] {
        let text = format!("{HEADER}{eol}{}{eol}", body.join(eol));
        assert_eq!(rows(&text), [2, 4, 5], "{eol:?}");
    }
    // A quoted cell over several lines is one row; the rows after it keep their numbers.
    for eol in ["\n", "\r\n", "\r"] {
        let text = format!(
            "{HEADER},label:note{eol}A,a,a@x.example,\"two{eol}lines\"{eol}B,b,b@x.example,{eol}"
        );
        assert_eq!(rows(&text), [2, 3], "{eol:?}");
    }
    // Blank lines before the header move it down.
    assert_eq!(
        rows(&format!("\r\n\r\n{HEADER}\r\nA,a,a@x.example\r\n")),
        [4]
    );
    // A byte order mark is not part of the first header.
    assert_eq!(rows(&format!("\u{feff}{HEADER}\nA,a,a@x.example")), [2]);
}

#[test]
fn the_delimiter_is_the_header_rows() {
    for d in [",", ";", "\t"] {
        let text = format!(
            "name{d}contact_name{d}contact_email{d}services\nA, Ltd{d}a{d}a@x.example{d}cards\n"
        )
        .replace("A, Ltd", if d == "," { "\"A, Ltd\"" } else { "A, Ltd" });
        let t = parse(&text, false);
        assert!(t.problems.is_empty(), "{d:?}: {:?}", t.problems);
        let json = t.doc.to_json();
        assert_eq!(json["customers"][0]["name"], "A, Ltd", "{d:?}");
        assert_eq!(json["customers"][0]["services"][0]["type"], "cards");
    }
}

#[test]
fn a_row_that_does_not_line_up_is_named_with_both_counts() {
    let text = format!(
        "{HEADER},country\nAcme, Ltd,Jo,jo@x.example,GB\nB,b,b@x.example\nC,c,c@x.example,FR,,\n"
    );
    assert_eq!(
        problems(&text),
        [
            "2:1 this row has 5 cells but the header has 4 columns, so its cells do not line up with their columns: a `,` inside a value must be in a quoted cell (\"Acme, Ltd\"), or remove the extra cells",
            "3:1 this row has 3 cells but the header has 4 columns: add the missing cells (an empty one too, as nothing between two `,`s), so that each value is under its column",
        ],
        "empty cells past the last column are no cells"
    );
    assert_eq!(rows(&text), [4]);
}

#[test]
fn an_unterminated_quote_is_reported_where_it_opened() {
    // Closed by the quote that opens a cell further down: the rows between are swallowed.
    let text = format!(
        "{HEADER},country\r\nA,a,a@x.example,GB\r\n\"Acme,Jo,jo@x.example,GB\r\nB,b,b@x.example,FR\r\n\"C\",c,c@x.example,DE\r\nD,d,d@x.example,ES\r\n"
    );
    let p = problems(&text);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(
        p[0].starts_with("3:1 this cell opens a quote (`\"`) that is not closed on its line, so the next 2 lines were read as part of the cell"),
        "{p:#?}"
    );
    // The swallowed lines are one row, as a spreadsheet shows them.
    assert_eq!(rows(&text), [2, 4]);
    // Never closed: the rest of the file.
    let text = format!("{HEADER}\nA,a,a@x.example\nB,\"b,b@x.example\nC,c,c@x.example\n");
    let p = problems(&text);
    assert_eq!(
        p,
        [
            "3:2 this cell opens a quote (`\"`) that is not closed before the end of the file, so every line after it was read as part of the cell: close it, and write a quote inside a quoted cell as `\"\"`"
        ]
    );
    // A quoted cell over two lines, closed, is no problem.
    let text = format!("{HEADER}\nA,\"a\nb\",a@x.example\nB,b,b@x.example\n");
    assert!(problems(&text).is_empty());
}

#[test]
fn headers_match_whatever_their_case_and_spaces_and_unknown_ones_are_a_warning() {
    let text = " Name ,Contact_Name,CONTACT_EMAIL,Country,Notes,Owner,Tmezone,Contry, Label:Tier \nA,a,a@x.example,GB,call back,Kim,,,gold\n";
    let t = parse(text, false);
    let json = t.doc.to_json();
    assert_eq!(json["customers"][0]["country"], "GB");
    assert_eq!(json["customers"][0]["labels"]["Tier"], "gold");
    let p: Vec<String> = t.problems.iter().map(|(p, k)| format!("{p} {k}")).collect();
    assert_eq!(
        p,
        [
            "1:5 warning: unknown columns `Notes`, `Owner`, `Tmezone` (did you mean `timezone`?), `Contry` ignored: their cells are not read; the columns of a customer table are key, name, contact_name, contact_email, country, timezone, admin_email, admin_name, services and label:NAME: rename each to one of them, or remove them"
        ]
    );
    assert!(t.problems[0].1.is_warning());
    let strict = parse(text, true);
    assert!(!strict.problems[0].1.is_warning());
    assert!(
        strict.problems[0]
            .1
            .to_string()
            .contains("refused (--strict)")
    );
}

#[test]
fn header_problems_stop_the_table() {
    assert_eq!(
        problems("nmae,contact_email,Contact_Email\nA,a,a\n"),
        [
            "1:3 column `Contact_Email` appears twice (headers match whatever their case): remove or rename one",
            "1:1 warning: unknown column `nmae` (did you mean `name`?) ignored: their cells are not read; the columns of a customer table are key, name, contact_name, contact_email, country, timezone, admin_email, admin_name, services and label:NAME: rename it to one of them, or remove it",
            "1:1 missing column `name`: add it to the first row, which names the columns",
            "1:1 missing column `contact_name`: add it to the first row, which names the columns",
        ]
    );
    assert!(
        parse("nmae,contact_email\nA,a\n", false)
            .doc
            .list("customers")
            .is_empty()
    );
}

#[test]
fn keys_come_from_names_alone_and_are_marked_as_derived() {
    let t = parse(
        &format!(
            "key,{HEADER}\n,Atelier Berlin,a,a@x.example\nown,Atelier Berlin,b,b@x.example\n,Atelier Berlin,c,c@x.example\n,!!!,d,d@x.example\n"
        ),
        false,
    );
    let keys: Vec<String> = t
        .doc
        .list("customers")
        .iter()
        .map(|c| c.get("key").unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys[..3], ["atelier-berlin", "own", "atelier-berlin"]);
    assert!(keys[3].starts_with("account-"), "{keys:?}");
    let mut derived: Vec<Pos> = t.derived.iter().copied().collect();
    derived.sort();
    assert_eq!(
        derived,
        [
            Pos { line: 2, col: 2 },
            Pos { line: 4, col: 2 },
            Pos { line: 5, col: 2 }
        ]
    );
}

#[test]
fn services_separated_by_commas_say_to_use_semicolons() {
    let text = format!("{HEADER},services\nA,a,a@x.example,\"cards, mobile-id\"\n");
    assert_eq!(
        problems(&text),
        [
            "2:4 service types are separated by `;`, not `,`: write `cards; mobile-id` instead of `cards, mobile-id`"
        ]
    );
}

#[test]
fn a_users_table_is_told_by_its_header() {
    let t = parse(
        "Account,Email,Name,Role\nacme,jo@acme.example,Jo,admin\npartner,ops@p.example,Ops,\n",
        false,
    );
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    assert_eq!(t.header.as_ref().unwrap().kind, TableKind::Users);
    let json = t.doc.to_json();
    assert_eq!(json["users"][0]["account"], "acme");
    assert_eq!(json["users"][0]["role"], "admin");
    assert!(json["users"][1].get("role").is_none());
    assert_eq!(kind("account;email\n".as_bytes()), Some(TableKind::Users));
    assert_eq!(
        kind(format!("{HEADER},account\n").as_bytes()),
        Some(TableKind::Customers)
    );
}

/// A reader giving `size` bytes at most per read.
struct Pieces<'a>(&'a [u8], usize);

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(out.len()).min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// A table many times the size of what is kept of its text while it is read (blank rows,
/// cells over several lines, every line ending, a byte order mark, a header after blank
/// rows), read in pieces of any size: every row is where a spreadsheet shows it, and the
/// problems of its last rows too.
#[test]
fn rows_are_counted_through_a_large_table_read_in_pieces() {
    let eols = ["\n", "\r\n", "\r"];
    let mut text = format!("\u{feff}\r\n\n{HEADER}\n");
    let mut row = 4;
    let mut expected = Vec::new();
    for i in 0..10_000 {
        let eol = eols[i % 3];
        if i % 7 == 0 {
            // Not `\n`, which after a `\r` would end the same row.
            text.push_str("\r\n");
            row += 1;
        }
        expected.push(row);
        if i % 11 == 0 {
            text.push_str(&format!("\"Name{eol}{i}\",Jo,jo{i}@example.com{eol}"));
            // One row, as a spreadsheet shows a cell over several lines.
            row += 1;
        } else {
            text.push_str(&format!(
                "Name {i},\"Jo, \"\"J\"\"\",jo{i}@example.com{eol}"
            ));
            row += 1;
        }
    }
    text.push_str(&format!("short,row\nlast,\"open,x@y.example\n{HEADER}\n"));
    assert!(text.len() > 4 * PREFIX, "{}", text.len());
    for size in [1, 3, 7, 4096, 70_000] {
        let mut seen = Vec::new();
        let mut found = Vec::new();
        let read = read(Pieces(text.as_bytes(), size), false, &mut |c: Chunk| {
            seen.extend(c.doc.list("customers").iter().map(|c| c.pos.line));
            found.extend(
                c.problems
                    .iter()
                    .map(|(p, k)| format!("{}:{} {k}", p.line, p.col)),
            );
        });
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.header.unwrap().row, 3);
        let differ = seen.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(seen == expected, "pieces of {size}: row {differ:?}");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with(&format!("{row}:1 ")), "{found:?}");
        assert!(
            found[1].starts_with(&format!("{}:2 ", row + 1)),
            "{found:?}"
        );
        assert_eq!(found, problems(&text), "pieces of {size}");
    }
}
